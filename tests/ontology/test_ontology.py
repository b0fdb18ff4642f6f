"""The ontology itself: its modules load, it is consistent with no unsatisfiable class, it covers
the four subsystems, and it passes its own meta-shapes (which can fail)."""

from __future__ import annotations

import tempfile
from collections import Counter
from pathlib import Path

import owlready2
import pytest
from rdflib import OWL, RDF, RDFS, Graph, Literal, URIRef

from kg_service.config import project_path
from kg_service.namespaces import CITY
from kg_service.ontology import ONTOLOGY_IRI, load_ontology
from kg_service.reason import check_ontology
from kg_service.validate import validate

ONTOLOGY_DIR = project_path("ontology")
MODULES = sorted(ONTOLOGY_DIR.glob("*.ttl"))
SUBSYSTEMS = [CITY.PlanningSubsystem, CITY.IndustrySubsystem, CITY.PublicServicesSubsystem,
              CITY.InfrastructureSubsystem]


@pytest.fixture(scope="module")
def ontology() -> Graph:
    return load_ontology(ONTOLOGY_DIR)


@pytest.fixture(scope="module")
def meta_shapes() -> Graph:
    return Graph().parse(ONTOLOGY_DIR / "shapes" / "meta" / "ontology.ttl")


def _own_classes(graph: Graph) -> set[URIRef]:
    return {c for c in graph.subjects(RDF.type, OWL.Class) if isinstance(c, URIRef) and c.startswith(str(CITY))}


def test_there_are_modules() -> None:
    assert len(MODULES) >= 10, [m.name for m in MODULES]


@pytest.mark.parametrize("module", MODULES, ids=lambda p: p.name)
def test_each_module_parses_with_rdflib_and_owlready2(module: Path) -> None:
    graph = Graph().parse(module, format="turtle")
    assert (None, RDF.type, OWL.Ontology) in graph
    world = owlready2.World()
    graph.remove((None, OWL.imports, None))  # resolve nothing: each module must load alone
    with tempfile.TemporaryDirectory() as workdir:
        target = Path(workdir) / module.with_suffix(".nt").name
        graph.serialize(target, format="nt", encoding="utf-8")
        assert world.get_ontology(target.as_uri()).load() is not None


def test_the_entry_module_only_imports(ontology: Graph) -> None:
    entry = Graph().parse(ONTOLOGY_DIR / "city.ttl")
    assert set(entry.subjects()) == {URIRef(ONTOLOGY_IRI)}
    imported = {str(o).rsplit("/", 1)[-1] for o in entry.objects(URIRef(ONTOLOGY_IRI), OWL.imports)}
    assert imported == {m.stem for m in MODULES if m.name != "city.ttl"}, "every module is imported by city.ttl"


def test_sixty_classes_covering_the_core_and_the_four_subsystems(ontology: Graph) -> None:
    classes = _own_classes(ontology)
    assert len(classes) >= 60
    per_subsystem = Counter(ontology.value(c, CITY.belongsToSubsystem) for c in classes)
    for subsystem in SUBSYSTEMS:
        assert per_subsystem[subsystem] >= 5, (subsystem, per_subsystem[subsystem])
    for core in ("Agent", "Aggregate", "AggregationLevel", "Flow", "Tag", "InternalModel", "BuildingBlock",
                 "Subsystem", "Threshold"):
        assert CITY[core] in classes, core
    assert set(ontology.subjects(RDF.type, CITY.Subsystem)) == set(SUBSYSTEMS)


def test_hermit_finds_the_ontology_consistent_with_no_unsatisfiable_class(ontology: Graph) -> None:
    report = check_ontology(ontology)
    assert report.consistent, report.detail
    assert report.unsatisfiable == []


def test_hermit_catches_a_class_under_two_disjoint_classes(ontology: Graph) -> None:
    broken = Graph()
    broken += ontology
    broken.add((CITY.SchoolHospital, RDF.type, OWL.Class))
    broken.add((CITY.SchoolHospital, RDFS.subClassOf, CITY.School))
    broken.add((CITY.SchoolHospital, RDFS.subClassOf, CITY.Hospital))
    assert check_ontology(broken).unsatisfiable == [str(CITY.SchoolHospital)]
    broken.add((URIRef("urn:example:both"), RDF.type, CITY.SchoolHospital))
    assert not check_ontology(broken).consistent


def test_the_ontology_passes_its_meta_shapes(ontology: Graph, meta_shapes: Graph) -> None:
    report = validate(ontology, meta_shapes, Graph())
    assert report.findings == [], [f.describe() for f in report.findings[:10]]


def test_the_meta_shapes_fail_on_a_class_without_a_chinese_label(ontology: Graph, meta_shapes: Graph) -> None:
    broken = Graph()
    broken += ontology
    broken.remove((CITY.Hospital, RDFS.label, Literal("医院", lang="zh")))
    report = validate(broken, meta_shapes, Graph())
    assert [(f.value, f.message) for f in report.findings] == [
        (str(CITY.Hospital), f"{CITY.Hospital} has no rdfs:label in Chinese (@zh)")]


def test_the_meta_shapes_fail_on_a_domain_class_without_a_subsystem(ontology: Graph, meta_shapes: Graph) -> None:
    broken = Graph()
    broken += ontology
    broken.remove((CITY.PumpStation, CITY.belongsToSubsystem, None))
    report = validate(broken, meta_shapes, Graph())
    assert [f.value for f in report.findings] == [str(CITY.PumpStation)]
    assert "states no subsystem" in report.findings[0].message
