"""reason/tbox.py: HermiT runs once per ontology content hash (the report is kept under the data
directory), and a broken ontology is reported rather than raised (reasoning refuses it:
tests/mappings/test_city_rules.py)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from rdflib import OWL, RDF, RDFS, Graph, URIRef

from kg_service.config import project_path
from kg_service.namespaces import CITY
from kg_service.ontology import load_ontology
from kg_service.reason import tbox
from kg_service.reason.tbox import REPORT_FILE, TBoxReport, checked_ontology

ONTOLOGY_DIR = project_path("ontology")


@pytest.fixture
def hermit_runs(monkeypatch: pytest.MonkeyPatch) -> list[Graph]:
    """Every ontology handed to check_ontology; the check itself is replaced by a consistent report."""
    runs: list[Graph] = []

    def counted(ontology: Graph) -> TBoxReport:
        runs.append(ontology)
        return TBoxReport(consistent=True, seconds=2.5)

    monkeypatch.setattr(tbox, "check_ontology", counted)
    return runs


def test_the_same_content_hash_is_checked_once(tmp_path: Path, hermit_runs: list[Graph]) -> None:
    first = checked_ontology(Graph(), "hash-1", tmp_path)
    second = checked_ontology(Graph(), "hash-1", tmp_path)
    assert len(hermit_runs) == 1
    assert (first.cached, second.cached) == (False, True)
    assert second.ok and second.seconds == 2.5
    assert json.loads((tmp_path / REPORT_FILE).read_text(encoding="utf-8"))["content_hash"] == "hash-1"


def test_a_changed_content_hash_is_checked_again(tmp_path: Path, hermit_runs: list[Graph]) -> None:
    checked_ontology(Graph(), "hash-1", tmp_path)
    checked_ontology(Graph(), "hash-2", tmp_path)
    assert len(hermit_runs) == 2
    checked_ontology(Graph(), "hash-2", tmp_path)
    assert len(hermit_runs) == 2


@pytest.mark.parametrize("stored", ["", "{not json", "[]", '{"content_hash": "hash-1", "report": {}}',
                                    '{"content_hash": "hash-1", "checker": "owlready2 0.1", "report": '
                                    '{"consistent": true, "unsatisfiable": [], "seconds": 1, "detail": ""}}'],
                         ids=["empty", "not JSON", "not an object", "no report", "another checker"])
def test_an_unusable_stored_report_means_checking_again(tmp_path: Path, hermit_runs: list[Graph],
                                                        stored: str) -> None:
    (tmp_path / REPORT_FILE).write_text(stored, encoding="utf-8")
    assert not checked_ontology(Graph(), "hash-1", tmp_path).cached
    assert len(hermit_runs) == 1
    assert checked_ontology(Graph(), "hash-1", tmp_path).cached


def test_a_broken_ontology_is_stored_and_returned_not_raised(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    broken = TBoxReport(consistent=True, unsatisfiable=[str(CITY.SchoolHospital)])
    monkeypatch.setattr(tbox, "check_ontology", lambda ontology: broken)
    assert checked_ontology(Graph(), "hash-1", tmp_path).unsatisfiable == [str(CITY.SchoolHospital)]
    cached = checked_ontology(Graph(), "hash-1", tmp_path)
    assert cached.cached and not cached.ok
    assert str(CITY.SchoolHospital) in cached.problem()


def _under_two_disjoint_classes(ontology: Graph) -> Graph:
    broken = Graph()
    broken += ontology
    broken.add((CITY.HospitalPumpStation, RDF.type, OWL.Class))
    broken.add((CITY.HospitalPumpStation, RDFS.subClassOf, CITY.Hospital))  # a public service facility
    broken.add((CITY.HospitalPumpStation, RDFS.subClassOf, CITY.PumpStation))  # an infrastructure asset
    return broken


def test_hermit_reports_a_class_under_two_disjoint_classes_and_the_inconsistency_it_causes(tmp_path: Path) -> None:
    broken = _under_two_disjoint_classes(load_ontology(ONTOLOGY_DIR))
    unsatisfiable = checked_ontology(broken, "unsatisfiable", tmp_path)
    assert unsatisfiable.consistent and unsatisfiable.unsatisfiable == [str(CITY.HospitalPumpStation)]
    assert not unsatisfiable.ok
    broken.add((URIRef("https://w3id.org/citykg/id/asset/both"), RDF.type, CITY.HospitalPumpStation))
    inconsistent = checked_ontology(broken, "inconsistent", tmp_path)
    assert not inconsistent.consistent
    # an inconsistent ontology has no classification, so the culprit comes from the classes alone
    assert inconsistent.unsatisfiable == [str(CITY.HospitalPumpStation)]
    assert str(CITY.HospitalPumpStation) in inconsistent.problem()
