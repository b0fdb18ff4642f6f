"""Ontology edits: each kind applied to a copy of the ontology and the mappings changes the files
minimally, passes the checks, migrates the stored data, and shows in the GraphQL schema of a running
service without a restart; an edit that breaks the ontology is refused with nothing changed."""

from __future__ import annotations

import asyncio
import difflib
import hashlib
import json
import os
import shutil
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from rdflib import OWL, RDF, RDFS, Graph, Literal, URIRef
from rdflib.compare import isomorphic

from kg_service.api import create_app
from kg_service.api.security import hash_key
from kg_service.config import Settings, load_settings, project_path
from kg_service.namespaces import CITY
from kg_service.ontology import load_ontology
from kg_service.ontology.changes import apply, propose
from kg_service.ontology.edits import AddClass, Move, Rename
from kg_service.ontology.modules import read_modules
from kg_service.store import GraphStore, RdfFormat, open_store
from tests.live_server import citykg_server

pytestmark = pytest.mark.slow

XSD_INTEGER = URIRef("http://www.w3.org/2001/XMLSchema#integer")
ADMIN, READER = "admin-key-1", "reader-key-2"
HOSPITAL = URIRef("https://w3id.org/citykg/id/hospital/edit-test")
PARK = URIRef("https://w3id.org/citykg/id/park/edit-test")
DATA = f"""<{HOSPITAL}> <{RDF.type}> <{CITY.Hospital}> .
<{HOSPITAL}> <{CITY.hospitalGrade}> <{CITY.Grade3A}> .
<{PARK}> <{RDF.type}> <{CITY.IndustrialPark}> .
"""


@pytest.fixture
def project(tmp_path: Path) -> Path:
    for folder in ("ontology", "mappings"):
        shutil.copytree(project_path(folder), tmp_path / folder)
    return tmp_path


@pytest.fixture
def settings(project: Path) -> Settings:
    return load_settings(data_dir=project / "data", in_memory=True, ontology_dir=project / "ontology",
                         mappings_dir=project / "mappings", api_keys={hash_key(ADMIN): "admin",
                                                                      hash_key(READER): "reader"})


@pytest.fixture
def store(settings: Settings) -> Iterator[GraphStore]:
    with open_store(settings) as opened:
        opened.load(DATA.encode(), RdfFormat.N_TRIPLES, graph=settings.graphs.source("health/hospitals"))
        yield opened


def _snapshot(folder: Path) -> dict[str, str]:
    return {str(p.relative_to(folder)): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(folder.rglob("*")) if p.is_file()}


def _changed_lines(before: dict[str, str], folder: Path, original: Path) -> dict[str, int]:
    """Per changed file, how many lines a diff adds or removes."""
    changed = {}
    for path in sorted(folder.rglob("*")):
        name = str(path.relative_to(folder))
        if path.is_file() and before.get(name) != hashlib.sha256(path.read_bytes()).hexdigest():
            old = (original / name).read_text(encoding="utf-8").splitlines() if (original / name).exists() else []
            diff = difflib.unified_diff(old, path.read_text(encoding="utf-8").splitlines(), lineterm="", n=0)
            changed[name] = sum(1 for line in diff if line[:1] in "+-" and line[:3] not in ("+++", "---"))
    return changed


def _passed(outcome: Any) -> None:
    failed = [f"{c.name}: {c.problems}" for c in outcome.checks if not c.passed]
    assert not failed, failed
    assert outcome.applied


def test_every_module_is_written_back_as_it_was_read() -> None:
    for name, module in read_modules(project_path("ontology")).items():
        assert module.text() == module.path.read_text(encoding="utf-8"), name
        assert module.rewritten(module.graph()).text() == module.text(), name
        assert isomorphic(module.graph(), Graph().parse(module.path)), name


def test_add_class_writes_a_new_block_and_its_axiom(project: Path, settings: Settings) -> None:
    before = _snapshot(project / "ontology")
    outcome = apply(settings, AddClass("ChildcareCentre", "city:School", {"zh": "托育中心", "en": "childcare centre"},
                                       "A centre caring for children under three."), None)
    _passed(outcome)
    assert outcome.plan.version == ("0.2.0", "0.2.1")
    assert any("city:ChildcareCentre is in no data shape" in note for note in outcome.impact.notes), \
        outcome.impact.notes
    changed = _changed_lines(before, project / "ontology", project_path("ontology"))
    assert changed.keys() == {"public-services.ttl", "city.ttl", "CHANGELOG.md"}, changed
    assert changed["public-services.ttl"] <= 8 and changed["city.ttl"] == 2, changed
    ontology = load_ontology(settings.ontology_dir)
    kindergarten = CITY.ChildcareCentre
    assert (kindergarten, RDFS.subClassOf, CITY.School) in ontology
    assert (kindergarten, CITY.belongsToSubsystem, CITY.PublicServicesSubsystem) in ontology
    assert (kindergarten, RDFS.label, Literal("托育中心", lang="zh")) in ontology
    assert "Added class city:ChildcareCentre under city:School" in (project / "ontology" / "CHANGELOG.md").read_text()


def test_add_class_with_a_shape_through_the_api_is_served_as_a_type_without_a_restart(
        project: Path, settings: Settings, store: GraphStore) -> None:
    app = create_app(settings, store)
    type_query = '{ __type(name: "ChildcareCentre") { name fields { name } } }'
    assert _graphql(app, type_query)["__type"] is None
    before = _snapshot(project / "ontology")
    response = _send(app, {"kind": "add-class", "name": "ChildcareCentre", "parent": "city:School",
                           "labels": {"zh": "托育中心", "en": "childcare centre"},
                           "definition": "A centre caring for children under three.", "shape": True})
    assert response.status_code == 200, response.text
    assert "type ChildcareCentre" in response.json()["impact"]["graphql"]["added"]
    changed = _changed_lines(before, project / "ontology", project_path("ontology"))
    assert changed["public-services.ttl"] <= 8 and changed["shapes/public-services.ttl"] <= 6, changed
    served = _graphql(app, type_query)["__type"]  # no restart
    assert served is not None and {"name", "capacity"} <= {f["name"] for f in served["fields"]}  # the parent's fields


def test_add_property_through_the_api_gives_the_shaped_type_a_field_without_a_restart(
        project: Path, settings: Settings, store: GraphStore) -> None:
    app = create_app(settings, store)
    fields = '{ __type(name: "Hospital") { fields { name } } }'
    assert "wardCount" not in {f["name"] for f in _graphql(app, fields)["__type"]["fields"]}
    before = _snapshot(project / "ontology")
    response = _send(app, {"kind": "add-property", "name": "wardCount", "kind_of": "datatype",
                           "labels": {"zh": "病区数", "en": "ward count"},
                           "definition": "How many wards a hospital runs.",
                           "domain": "city:Hospital", "range": "xsd:integer", "characteristics": ["functional"],
                           "shape_of": "city:Hospital"})
    assert response.status_code == 200, response.text
    assert "field Hospital.wardCount" in response.json()["impact"]["graphql"]["added"]
    ontology = load_ontology(settings.ontology_dir)
    for triple in [(CITY.wardCount, RDF.type, OWL.DatatypeProperty), (CITY.wardCount, RDF.type, OWL.FunctionalProperty),
                   (CITY.wardCount, RDFS.domain, CITY.Hospital), (CITY.wardCount, RDFS.range, XSD_INTEGER)]:
        assert triple in ontology, triple
    changed = _changed_lines(before, project / "ontology", project_path("ontology"))
    assert changed["public-services.ttl"] <= 8 and changed["shapes/public-services.ttl"] <= 2, changed
    assert "wardCount" in {f["name"] for f in _graphql(app, fields)["__type"]["fields"]}  # no restart


def test_rename_impact_lists_mappings_and_graphql_fields_and_changes_nothing(project: Path, settings: Settings,
                                                                           store: GraphStore) -> None:
    before, stored = _snapshot(project), store.count()
    outcome = propose(settings, Rename("city:parcelCode", "plotCode"), store)
    assert not outcome.refused
    mapping_files = {m.path.name for m in outcome.impact.mentions["mappings"]}
    assert "parcels.rml.ttl" in mapping_files, mapping_files
    assert any("LandParcel.parcelCode" in change for change in outcome.impact.schema_breaking), \
        outcome.impact.schema_breaking
    assert "field LandParcel.plotCode" in outcome.impact.schema_added
    assert outcome.plan.version == ("0.2.0", "0.3.0")  # breaking: the minor number
    assert _snapshot(project) == before and store.count() == stored


def _send(app: Any, body: dict[str, Any], key: str = ADMIN) -> httpx.Response:
    async def send() -> httpx.Response:
        async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://testserver") as client:
            return await client.post("/ontology/edits", json=body, headers={"Authorization": f"Bearer {key}"})

    return asyncio.run(send())


def _graphql(app: Any, query: str) -> dict[str, Any]:
    async def send() -> httpx.Response:
        async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://testserver") as client:
            return await client.post("/graphql", json={"query": query}, headers={"Authorization": f"Bearer {ADMIN}"})

    response = asyncio.run(send())
    assert response.status_code == 200, response.text
    data: dict[str, Any] = response.json()["data"]
    return data


def test_rename_through_the_api_migrates_the_data_and_serves_the_new_schema(project: Path, settings: Settings,
                                                                           store: GraphStore) -> None:
    app = create_app(settings, store)
    before = {path: path.read_text(encoding="utf-8").splitlines() for path in (project / "ontology").rglob("*.ttl")}
    type_query = '{ t: __type(name: "GeneralHospital") { name } old: __type(name: "Hospital") { name } }'
    assert _graphql(app, type_query) == {"t": None, "old": {"name": "Hospital"}}
    edit = {"kind": "rename", "term": "city:Hospital", "new_name": "GeneralHospital"}
    assert _send(app, edit, key=READER).status_code == 403
    assert _send(app, {"kind": "rename", "term": "city:NoSuchTerm", "new_name": "X"}).status_code == 400
    response = _send(app, edit)
    assert response.status_code == 200, response.text
    assert response.json()["applied"] and response.json()["migrated_statements"] == 1
    asked = f"ASK {{ GRAPH ?g {{ <{HOSPITAL}> a <{CITY.GeneralHospital}> }} }}"
    assert store.query(asked) is True
    assert store.query(f"ASK {{ GRAPH ?g {{ ?s ?p <{CITY.Hospital}> FILTER(?g != <{settings.graphs.ontology}>) }} }}") \
        is False
    assert _graphql(app, type_query) == {"t": {"name": "GeneralHospital"}, "old": None}  # no restart
    # every file that named the class follows: the mapping, the shapes, the questions
    assert "\n医院,GeneralHospital\n" in (project / "mappings" / "health" / "facility-kinds.csv").read_text()
    # minimal: every Turtle line the rename changed now names the new class (or is the version)
    for path, old_lines in before.items():
        new_lines = path.read_text(encoding="utf-8").splitlines()
        added = [line[1:] for line in difflib.unified_diff(old_lines, new_lines, lineterm="", n=0)
                 if line.startswith("+") and not line.startswith("+++")]
        assert all("GeneralHospital" in line or "owl:versionInfo" in line for line in added), (path, added)
    assert "city:Hospital " not in (project / "ontology" / "shapes" / "public-services.ttl").read_text()


def test_move_changes_one_line_reasons_again_and_the_served_schema_follows(project: Path, settings: Settings,
                                                                           store: GraphStore) -> None:
    app = create_app(settings, store)
    interfaces = '{ __type(name: "IndustrialPark") { interfaces { name } } }'
    assert {"name": "AnyLandUseZone"} not in _graphql(app, interfaces)["__type"]["interfaces"]
    before = _snapshot(project / "ontology")
    response = _send(app, {"kind": "move", "term": "city:IndustrialPark", "parent": "city:LandUseZone"})
    assert response.status_code == 200, response.text
    assert response.json()["version"] == {"before": "0.2.0", "after": "0.3.0"}  # a field changed type: breaking
    changed = _changed_lines(before, project / "ontology", project_path("ontology"))
    assert {name: lines for name, lines in changed.items() if name.endswith(".ttl")} == \
        {"industry.ttl": 2, "city.ttl": 2}, changed
    assert (CITY.IndustrialPark, RDFS.subClassOf, CITY.LandUseZone) in load_ontology(settings.ontology_dir)
    assert store.query(f"ASK {{ GRAPH <{settings.graphs.inferred}> {{ <{PARK}> a <{CITY.LandUseZone}> }} }}") is True
    assert {"name": "AnyLandUseZone"} in _graphql(app, interfaces)["__type"]["interfaces"]  # no restart


def test_an_edit_making_a_class_unsatisfiable_is_refused_and_nothing_changes(project: Path, settings: Settings,
                                                                           store: GraphStore) -> None:
    """Height limits and floor-area ratio limits are disjoint: a height limit cannot also be one."""
    before, stored = _snapshot(project), store.count()
    outcome = apply(settings, Move("city:HeightLimit", parent="city:FloorAreaRatioLimit"), store)
    assert outcome.refused and not outcome.applied
    hermit = next(c for c in outcome.checks if c.name == "HermiT")
    assert not hermit.passed and any("HeightLimit" in problem for problem in hermit.problems), hermit
    assert _snapshot(project) == before and store.count() == stored


def _citykg(project: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("CITYKG_")}
    env |= {"CITYKG_DATA_DIR": str(project / "data"), "CITYKG_ONTOLOGY_DIR": str(project / "ontology"),
            "CITYKG_MAPPINGS_DIR": str(project / "mappings")}
    return subprocess.run([str(Path(sys.executable).parent / "citykg"), *args], env=env, capture_output=True,
                          text=True, timeout=300, check=False)


def test_cli_refuses_bad_edits_in_one_line_and_impact_changes_nothing(project: Path) -> None:
    before = _snapshot(project)
    for args in (["ontology", "rename", "city:NoSuchTerm", "Other"],
                 ["ontology", "add-class", "lower", "--parent", "city:School", "--zh", "x", "--en", "x"],
                 ["ontology", "add-class", "LandParcel", "--parent", "city:School"]):
        result = _citykg(project, *args)
        assert result.returncode == 2, (args, result.stdout, result.stderr)
        assert "Traceback" not in result.stderr and len(result.stderr.strip().splitlines()) == 1, result.stderr
    result = _citykg(project, "ontology", "impact", "deprecate", "city:hospitalGrade", "--json")
    assert result.returncode == 0, result.stderr
    outcome = json.loads(result.stdout)
    assert not outcome["applied"]
    assert any("Hospital.hospitalGrade deprecated" in item for item in outcome["impact"]["graphql"]["described"])
    assert _snapshot(project) == before


def test_label_and_deprecation_show_in_a_running_service_without_a_restart(project: Path) -> None:
    settings = {"CITYKG_ONTOLOGY_DIR": str(project / "ontology"), "CITYKG_MAPPINGS_DIR": str(project / "mappings"),
                "CITYKG_ANONYMOUS": "read"}
    query = '{ __type(name: "Hospital") { description fields(includeDeprecated: true) { name isDeprecated } } }'
    before = _snapshot(project / "ontology")
    with citykg_server("serve", project / "served", settings=settings) as url:
        def hospital() -> dict[str, Any]:
            answer: dict[str, Any] = httpx.post(f"{url}/graphql", json={"query": query}, timeout=30).json()
            return answer["data"]["__type"]

        assert "general hospital" not in hospital()["description"].lower()
        assert _citykg(project, "ontology", "label", "city:Hospital", "--en", "general hospital").returncode == 0
        result = _citykg(project, "ontology", "deprecate", "city:hospitalGrade")
        assert result.returncode == 0, result.stdout + result.stderr
        changed = _changed_lines(before, project / "ontology", project_path("ontology"))
        # the label's line replaced, the deprecation one line added; the version's line replaced
        assert {name: lines for name, lines in changed.items() if name.endswith(".ttl")} == \
            {"public-services.ttl": 3, "city.ttl": 2}, changed
        deadline = time.monotonic() + 30
        while True:
            served = hospital()
            grade = next(f for f in served["fields"] if f["name"] == "hospitalGrade")
            if grade["isDeprecated"] and served["description"].startswith("General hospital"):
                break
            assert time.monotonic() < deadline, served
            time.sleep(0.5)
