"""The semantic diff: edits to a copy of the ontology's Turtle are reported as exactly those changes,
blank-node structures compare by content, and a version can be a folder, a file or a git revision."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from pathlib import Path

import pytest
from rdflib import BNode, Graph, URIRef

from kg_service.config import project_path
from kg_service.errors import OntologyError
from kg_service.namespaces import CITY
from kg_service.ontology import ONTOLOGY_IRI
from kg_service.ontology.diff import (
    Axiom,
    OntologyDiff,
    Renderer,
    TextChange,
    load_version,
    prefix_table,
    semantic_diff,
)

ONTOLOGY_DIR = project_path("ontology")

MATERNITY_HOSPITAL = """
city:MaternityHospital a owl:Class ;
    rdfs:label "妇产医院"@zh , "maternity hospital"@en ;
    skos:definition "A hospital for childbirth and the care of mothers and newborns."@en ;
    city:belongsToSubsystem city:PublicServicesSubsystem ;
    rdfs:isDefinedBy <https://w3id.org/citykg/ontology/public-services> ;
    rdfs:subClassOf city:Hospital .
"""

FACILITY_KIND = (
    'city:facilityKind a owl:ObjectProperty ;\n'
    '    rdfs:label "设施类别"@zh , "facility kind"@en ;\n'
    '    skos:definition "The class of facility among which the nearest was sought'
    ' (city:Hospital, city:PrimarySchool...)."@en ;\n'
    '    rdfs:isDefinedBy <https://w3id.org/citykg/ontology/public-services> .\n')


def _copy(tmp_path: Path, name: str = "ontology") -> Path:
    return Path(shutil.copytree(ONTOLOGY_DIR, tmp_path / name, ignore=shutil.ignore_patterns("examples", "queries")))


def _edit(path: Path, old: str, new: str) -> None:
    """Replace text that must be there: an edit that finds nothing would make the test pass vacuously."""
    text = path.read_text(encoding="utf-8")
    assert text.count(old) == 1, f"{old!r} occurs {text.count(old)} times in {path.name}"
    path.write_text(text.replace(old, new), encoding="utf-8")


def _append(path: Path, text: str) -> None:
    with path.open("a", encoding="utf-8") as module:
        module.write(text)


def _diff(old_dir: Path, new_dir: Path) -> OntologyDiff:
    return semantic_diff(load_version(str(old_dir), old_dir.parent), load_version(str(new_dir), new_dir.parent))


def _bnodes(graph: Graph) -> set[BNode]:
    return {node for triple in graph for node in triple if isinstance(node, BNode)}


def test_the_same_ontology_parsed_twice_has_no_difference_though_its_blank_nodes_differ() -> None:
    old, new = (load_version(str(ONTOLOGY_DIR), ONTOLOGY_DIR.parent) for _ in range(2))
    assert _bnodes(old) and not _bnodes(old) & _bnodes(new)
    diff = semantic_diff(old, new)
    assert diff.is_empty
    assert diff.lines() == []
    assert diff.to_json()["empty"] is True


def test_reordering_moving_and_reformatting_is_no_change(tmp_path: Path) -> None:
    old, new = _copy(tmp_path, "old"), _copy(tmp_path, "new")
    _append(old / "public-services.ttl",
            "city:serves rdfs:domain [ a owl:Class ; owl:unionOf ( city:School city:Hospital ) ] .\n")
    _append(new / "public-services.ttl",
            "city:serves rdfs:domain [ owl:unionOf ( city:Hospital city:School ) ; a owl:Class ] .\n")
    _edit(new / "public-services.ttl", "owl:members ( city:Hospital city:CommunityHealthCentre )",
          "owl:members (\n    city:CommunityHealthCentre\n    city:Hospital )")
    _edit(new / "public-services.ttl", "city:Hospital rdfs:subClassOf city:HealthFacility .\n", "")
    _append(new / "core.ttl", "city:Hospital rdfs:subClassOf city:HealthFacility .\n")
    diff = _diff(old, new)
    assert diff.is_empty, diff.lines()


def test_each_edit_is_reported_and_nothing_else(tmp_path: Path) -> None:
    old, new = _copy(tmp_path, "old"), _copy(tmp_path, "new")
    services = new / "public-services.ttl"
    _append(services, MATERNITY_HOSPITAL)
    _edit(services, 'rdfs:label "公园"@zh , "park"@en', 'rdfs:label "公园"@zh , "public park"@en')
    _edit(services, "city:CommunityHealthCentre rdfs:subClassOf city:HealthFacility .",
          "city:CommunityHealthCentre rdfs:subClassOf city:PublicServiceFacility .")
    _append(services, "city:Hospital rdfs:subClassOf [ a owl:Restriction ; owl:onProperty city:hospitalGrade ;"
                      " owl:someValuesFrom city:HospitalGrade ] .\n")
    _edit(services, FACILITY_KIND, "")
    _edit(services, "city:facilityKind rdfs:domain city:NearestFacility .\n", "")
    _edit(new / "city.ttl", 'owl:versionInfo "0.2.0"', 'owl:versionInfo "0.3.0"')

    diff = _diff(old, new)

    assert [(t.name, t.kind) for t in diff.added] == [("city:MaternityHospital", "classes")]
    added = diff.added[0]
    assert Axiom("rdfs:subClassOf", "city:Hospital") in added.axioms_added
    assert added.text("rdfs:label", "zh") == TextChange("rdfs:label", "zh", (), ("妇产医院",))
    assert [(t.name, t.kind) for t in diff.removed] == [("city:facilityKind", "object properties")]
    assert Axiom("rdfs:domain", "city:NearestFacility") in diff.removed[0].axioms_removed

    changes = {t.name: t for t in diff.changed}
    assert sorted(changes) == ["city:CommunityHealthCentre", "city:Hospital", "city:Park"]
    assert changes["city:Park"].texts == (TextChange("rdfs:label", "en", ("park",), ("public park",)),)
    assert not changes["city:Park"].axioms_added and not changes["city:Park"].axioms_removed
    assert changes["city:CommunityHealthCentre"].axioms_added == (
        Axiom("rdfs:subClassOf", "city:PublicServiceFacility"),)
    assert changes["city:CommunityHealthCentre"].axioms_removed == (Axiom("rdfs:subClassOf", "city:HealthFacility"),)
    assert changes["city:Hospital"].axioms_added == (
        Axiom("rdfs:subClassOf", "(city:hospitalGrade some city:HospitalGrade)"),)
    assert changes["city:Hospital"].axioms_removed == ()

    assert [(h.iri, h.texts) for h in diff.headers] == [
        (ONTOLOGY_IRI, (TextChange("owl:versionInfo", "", ("0.2.0",), ("0.3.0",)),))]
    assert diff.axioms_added == diff.axioms_removed == ()

    lines = diff.lines()
    assert lines[0] == "terms: 1 added, 1 removed, 3 changed; general axioms: 0 added, 0 removed"
    for expected in ('    owl:versionInfo: "0.2.0" -> "0.3.0"', "  ~ city:Park",
                     "  + city:MaternityHospital  妇产医院 / maternity hospital",
                     "  - city:facilityKind  设施类别 / facility kind",
                     '      rdfs:label@en: "park" -> "public park"',
                     "      + rdfs:subClassOf (city:hospitalGrade some city:HospitalGrade)"):
        assert expected in lines, expected


def test_the_json_is_grouped_by_kind_and_the_same_on_every_run(tmp_path: Path) -> None:
    old, new = _copy(tmp_path, "old"), _copy(tmp_path, "new")
    _append(new / "public-services.ttl", MATERNITY_HOSPITAL)
    _edit(new / "public-services.ttl", FACILITY_KIND, "")
    first, second = _diff(old, new).to_json(), _diff(old, new).to_json()
    assert json.dumps(first, sort_keys=True, ensure_ascii=False) == json.dumps(second, sort_keys=True,
                                                                              ensure_ascii=False)
    assert list(first["added"]) == ["classes"]
    assert [t["iri"] for t in first["added"]["classes"]] == [str(CITY.MaternityHospital)]
    assert list(first["changed"]) == ["object properties"]  # facilityKind lost its declaration, kept its domain
    facility_kind = first["changed"]["object properties"][0]
    assert facility_kind["axioms_removed"] == ["rdf:type owl:ObjectProperty",
                                               "rdfs:isDefinedBy <https://w3id.org/citykg/ontology/public-services>"]
    assert [(t["property"], t["language"], t["new"]) for t in facility_kind["texts"]] == [
        ("rdfs:label", "en", []), ("rdfs:label", "zh", []), ("skos:definition", "en", [])]


def test_blank_node_axioms_compare_by_structure(tmp_path: Path) -> None:
    old, new = _copy(tmp_path, "old"), _copy(tmp_path, "new")
    services, industry = new / "public-services.ttl", new / "industry.ttl"
    _edit(services, "owl:members ( city:School city:HealthFacility city:ElderlyCareFacility city:Park",
          "owl:members ( city:School city:HealthFacility city:ElderlyCareFacility")
    _edit(industry, "owl:hasValue city:Manufacturing", "owl:hasValue city:WholesaleRetail")
    _append(services, "city:Park owl:deprecated true ; owl:disjointWith city:School .\n"
                      "city:serves a owl:AsymmetricProperty .\n")

    diff = _diff(old, new)

    assert diff.axioms_removed == ("DisjointClasses(city:CommunityServiceCentre, city:ElderlyCareFacility, "
                                   "city:HealthFacility, city:Park, city:School)",)
    assert diff.axioms_added == ("DisjointClasses(city:CommunityServiceCentre, city:ElderlyCareFacility, "
                                 "city:HealthFacility, city:School)",)
    changes = {t.name: t for t in diff.changed}
    assert sorted(changes) == ["city:ManufacturingEnterprise", "city:Park", "city:serves"]
    assert changes["city:ManufacturingEnterprise"].axioms_added == (
        Axiom("owl:equivalentClass", "(city:inIndustry value city:WholesaleRetail)"),)
    assert changes["city:ManufacturingEnterprise"].axioms_removed == (
        Axiom("owl:equivalentClass", "(city:inIndustry value city:Manufacturing)"),)
    assert changes["city:Park"].axioms_added == (Axiom("owl:deprecated", "true"),
                                                 Axiom("owl:disjointWith", "city:School"))
    assert changes["city:serves"].axioms_added == (Axiom("rdf:type", "owl:AsymmetricProperty"),)
    assert "general axioms" in diff.lines()


@pytest.mark.parametrize(("expression", "text"), [
    ("[ owl:intersectionOf ( city:Park city:School ) ]", "(city:Park and city:School)"),
    ("[ a owl:Class ; owl:complementOf city:Park ]", "(not city:Park)"),
    ("[ owl:oneOf ( city:Grade1 city:Grade3A ) ]", "{city:Grade1, city:Grade3A}"),
    ("[ a owl:Restriction ; owl:onProperty city:beds ; owl:minCardinality 1 ]", "(city:beds min 1)"),
    ('[ a owl:Restriction ; owl:onProperty city:hospitalGrade ; owl:qualifiedCardinality "1"^^xsd:nonNegativeInteger ;'
     " owl:onClass city:HospitalGrade ]", "(city:hospitalGrade exactly 1 city:HospitalGrade)"),
    ("[ a owl:Restriction ; owl:onProperty [ owl:inverseOf city:serves ] ; owl:allValuesFrom city:Park ]",
     "((inverse city:serves) only city:Park)"),
    ("[ a owl:Restriction ; owl:onProperty city:partOf ; owl:hasSelf true ]", "(city:partOf Self)"),
    # not an expression: rendered statement by statement, a list in its order
    ("[ a owl:Restriction ; owl:onProperty city:beds ; rdfs:comment \"odd\" ; owl:minCardinality 1 ]",
     '[ a owl:Restriction ; owl:minCardinality 1 ; owl:onProperty city:beds ; rdfs:comment "odd" ]'),
    ("[ owl:propertyChainAxiom ( city:partOf city:locatedIn ) ]",
     "[ owl:propertyChainAxiom ( city:partOf city:locatedIn ) ]"),
])
def test_blank_node_structures_render_as_canonical_text(expression: str, text: str) -> None:
    graph = Graph().parse(data=f"""@prefix city: <{CITY}> . @prefix owl: <http://www.w3.org/2002/07/owl#> .
        @prefix rdfs: <http://www.w3.org/2000/01/rdf-schema#> . @prefix xsd: <http://www.w3.org/2001/XMLSchema#> .
        city:X rdfs:subClassOf {expression} .""", format="turtle")
    expression_node = graph.value(CITY.X, URIRef("http://www.w3.org/2000/01/rdf-schema#subClassOf"))
    assert expression_node is not None
    assert Renderer(graph, prefix_table(graph)).node(expression_node) == text


def test_a_single_turtle_file_is_a_version(tmp_path: Path) -> None:
    core = load_version(str(ONTOLOGY_DIR / "core.ttl"), tmp_path)
    whole = load_version(str(ONTOLOGY_DIR), tmp_path)
    diff = semantic_diff(core, whole)
    assert not diff.removed and not diff.changed
    assert {t.name for t in diff.added} >= {"city:LandParcel", "city:Hospital"}
    assert diff.term(str(CITY.Agent)) is None  # core.ttl defines it in both


def _git(repo: Path, *args: str) -> None:
    subprocess.run(["git", "-C", str(repo), "-c", "user.name=CityKG test", "-c", "user.email=test@example.org",
                    "-c", "commit.gpgsign=false", *args], check=True, capture_output=True)


@pytest.fixture
def repo(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    if shutil.which("git") is None:
        pytest.skip("git is not installed")
    monkeypatch.setenv("GIT_CONFIG_GLOBAL", os.devnull)  # the developer's git settings play no part
    monkeypatch.setenv("GIT_CONFIG_NOSYSTEM", "1")
    root = tmp_path / "project"
    root.mkdir()
    _git(root, "init", "-q")
    _copy(root)
    _git(root, "add", "ontology")
    _git(root, "commit", "-q", "-m", "ontology 0.2.0")
    _git(root, "tag", "v0.2.0")
    return root


def test_a_git_revision_is_a_version(repo: Path) -> None:
    _edit(repo / "ontology" / "planning.ttl", '"land parcel"@en', '"parcel of land"@en')
    _git(repo, "commit", "-q", "-am", "rename")
    _edit(repo / "ontology" / "planning.ttl", '"地块"@zh', '"宗地"@zh')

    working = load_version("ontology", repo)
    diff = semantic_diff(load_version("HEAD", repo), working)
    assert [(t.name, t.texts) for t in diff.changed] == [
        ("city:LandParcel", (TextChange("rdfs:label", "zh", ("地块",), ("宗地",)),))]
    assert diff.added == diff.removed == diff.headers == ()

    since_tag = semantic_diff(load_version("v0.2.0", repo), load_version("HEAD~0", repo))
    assert [(t.name, t.texts) for t in since_tag.changed] == [
        ("city:LandParcel", (TextChange("rdfs:label", "en", ("land parcel",), ("parcel of land",)),))]


def test_a_revision_without_the_ontology_folder_is_refused(repo: Path) -> None:
    _git(repo, "rm", "-q", "-r", "ontology")
    _git(repo, "commit", "-q", "-m", "no ontology")
    with pytest.raises(OntologyError, match="cannot export ontology/ at revision 'HEAD'"):
        load_version("HEAD", repo)


def test_an_invalid_turtle_file_is_refused(tmp_path: Path) -> None:
    broken = tmp_path / "broken.ttl"
    broken.write_text("city:Park a owl:Class", encoding="utf-8")
    with pytest.raises(OntologyError, match="not valid Turtle"):
        load_version(str(broken), tmp_path)


@pytest.mark.parametrize(("spec", "problem"), [
    ("no-such-version", "neither an ontology folder, a Turtle file nor a git revision"),
    ("--output=/tmp/x", "neither an ontology folder, a Turtle file nor a git revision"),
    ("shapes", "the folder holds no city.ttl"),
    ("README.md", "neither an ontology folder, a Turtle file nor a git revision"),
    ("  ", "no ontology version given"),
])
def test_a_bad_version_is_refused_with_a_hint(spec: str, problem: str) -> None:
    with pytest.raises(OntologyError) as raised:
        load_version(spec, ONTOLOGY_DIR)
    assert raised.value.problem.endswith(problem)
    assert raised.value.hint
