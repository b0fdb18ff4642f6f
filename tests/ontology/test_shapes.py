"""The ontology's data shapes: every node shape comes with a conforming and a violating example,
the cross-department rules are SPARQL-based, and the undefined-term shapes catch misspelt terms
without flagging the ontology itself or the sample data.

Each example is validated on its own (the validator is slow on large graphs); the shapes and the
ontology are loaded once for the module.
"""

from __future__ import annotations

import re
from functools import cache

import pytest
from rdflib import Graph, URIRef
from rdflib.namespace import OWL, RDF, SH

from kg_service.config import project_path
from kg_service.ontology import load_ontology, load_shapes
from kg_service.validate import Finding, validate

ONTOLOGY_DIR = project_path("ontology")
SHAPES_DIR = ONTOLOGY_DIR / "shapes"
EXAMPLES_DIR = SHAPES_DIR / "examples"
SAMPLE_OUTPUT = project_path("mappings") / "market-regulation" / "expected" / "enterprise-register.nt"
CITY = "https://w3id.org/citykg/ontology#"
CITYSH = "https://w3id.org/citykg/shapes#"
SEVERITY_NAMES = {SH.Violation: "Violation", SH.Warning: "Warning", SH.Info: "Info"}
DECLARED_KINDS = (OWL.Class, OWL.ObjectProperty, OWL.DatatypeProperty, OWL.AnnotationProperty, OWL.NamedIndividual)

PREFIXES = f"""@prefix city: <{CITY}> .
@prefix ex: <https://w3id.org/citykg/id/example/> .
@prefix geo: <http://www.opengis.net/ont/geosparql#> .
"""


@cache
def _shapes() -> Graph:
    return load_shapes(ONTOLOGY_DIR)


@cache
def _ontology() -> Graph:
    return load_ontology(ONTOLOGY_DIR)


def _node_shapes() -> list[URIRef]:
    return sorted(s for s in _shapes().subjects(RDF.type, SH.NodeShape) if isinstance(s, URIRef))


@cache
def _owners() -> dict[str, str]:
    """Each shape (as the gate reports it in Finding.shape) -> the node shape it belongs to."""
    owners: dict[str, str] = {}
    for node_shape in _node_shapes():
        owners[str(node_shape)] = str(node_shape)
        for property_shape in _shapes().objects(node_shape, SH.property):
            owners[str(property_shape)] = str(node_shape)
    return owners


NOT_NODE_CONSTRAINTS = {SH.property, SH.targetClass, SH.targetNode, SH.targetSubjectsOf, SH.targetObjectsOf,
                        SH.severity, SH.message, SH.deactivated, SH.name, SH.description}


def _expected_severity(node_shape: URIRef) -> str:
    """The most severe level the node shape declares: its own (for node-level constraints such as
    sh:sparql or sh:not) and its property shapes' (sh:Violation where none is said)."""
    shapes = _shapes()
    declaring = list(shapes.objects(node_shape, SH.property))
    if any(str(p).startswith(str(SH)) and p not in NOT_NODE_CONSTRAINTS for p in shapes.predicates(node_shape)):
        declaring.append(node_shape)
    declared = {SEVERITY_NAMES[URIRef(str(shapes.value(s, SH.severity, default=SH.Violation)))] for s in declaring}
    return next(level for level in ("Violation", "Warning", "Info") if level in declared)


def _local_name(node_shape: URIRef) -> str:
    return str(node_shape).rsplit("#", 1)[-1]


def _findings_of(node_shape: URIRef, data: Graph) -> list[Finding]:
    report = validate(data, _shapes(), _ontology())
    return [f for f in report.findings if _owners().get(f.shape or "") == str(node_shape)]


def _vocabulary_shapes() -> set[str]:
    declared = Graph().parse(SHAPES_DIR / "vocabulary.ttl", format="turtle")
    return {str(s) for s in declared.subjects(RDF.type, SH.NodeShape)}


def _vocabulary_findings(data: Graph) -> list[Finding]:
    report = validate(data, _shapes(), _ontology())
    vocabulary = _vocabulary_shapes()
    return [f for f in report.findings if _owners().get(f.shape or "") in vocabulary]


NODE_SHAPES = _node_shapes()
SHAPE_IDS = [_local_name(s) for s in NODE_SHAPES]


# ---- the shapes themselves ----------------------------------------------------------------------

def test_node_shapes_are_found() -> None:
    assert NODE_SHAPES, "no sh:NodeShape in ontology/shapes/*.ttl"
    assert all(str(s).startswith(CITYSH) for s in NODE_SHAPES)


def test_every_example_file_belongs_to_a_node_shape() -> None:
    names = set(SHAPE_IDS)
    orphans = [p.name for p in EXAMPLES_DIR.glob("*.ttl") if p.name.split(".", 1)[0] not in names]
    assert not orphans, f"examples without a node shape: {orphans}"


def test_the_shapes_mention_only_terms_the_ontology_defines() -> None:
    ontology = _ontology()
    defined = {str(s) for kind in DECLARED_KINDS for s in ontology.subjects(RDF.type, kind)}
    mentioned = {str(t) for triple in _shapes() for t in triple if isinstance(t, URIRef) and str(t).startswith(CITY)}
    for query in _shapes().objects(None, SH.select):
        mentioned |= {CITY + name for name in re.findall(r"\bcity:([A-Za-z][A-Za-z0-9_]*)", str(query))}
    assert sorted(mentioned - defined) == []


def test_at_least_five_cross_department_rules_are_sparql_based() -> None:
    declared = Graph().parse(SHAPES_DIR / "cross-department.ttl", format="turtle")
    rules = [s for s in declared.subjects(RDF.type, SH.NodeShape) if declared.value(s, SH.sparql) is not None]
    assert len(rules) >= 5
    assert all(declared.value(s, SH.sparql) is not None for s in declared.subjects(RDF.type, SH.NodeShape))


# ---- one conforming and one violating example per node shape ----------------------------------------

@pytest.mark.parametrize("node_shape", NODE_SHAPES, ids=SHAPE_IDS)
def test_both_examples_exist(node_shape: URIRef) -> None:
    for kind in ("conforming", "violating"):
        path = EXAMPLES_DIR / f"{_local_name(node_shape)}.{kind}.ttl"
        assert path.is_file(), f"missing example {path.relative_to(ONTOLOGY_DIR)}"


@pytest.mark.parametrize("node_shape", NODE_SHAPES, ids=SHAPE_IDS)
def test_the_conforming_example_breaks_no_constraint_of_its_shape(node_shape: URIRef) -> None:
    data = Graph().parse(EXAMPLES_DIR / f"{_local_name(node_shape)}.conforming.ttl", format="turtle")
    violations = [f.describe() for f in _findings_of(node_shape, data) if f.severity == "Violation"]
    assert violations == []


@pytest.mark.parametrize("node_shape", NODE_SHAPES, ids=SHAPE_IDS)
def test_the_violating_example_is_caught_by_its_shape(node_shape: URIRef) -> None:
    data = Graph().parse(EXAMPLES_DIR / f"{_local_name(node_shape)}.violating.ttl", format="turtle")
    expected = _expected_severity(node_shape)
    caught = [f for f in _findings_of(node_shape, data) if f.severity == expected]
    assert caught, f"{_local_name(node_shape)} reports no {expected} on its violating example"


# ---- terms the ontology does not define -------------------------------------------------------------

@pytest.mark.parametrize(("triples", "misspelt"), [
    ('ex:hospital-9 a city:Hopsital ; city:name "清河市第九人民医院"@zh .', "Hopsital"),
    ('ex:hospital-9 a city:Hospital ; city:name "清河市第九人民医院"@zh ; city:bedz 300 .', "bedz"),
    ('ex:parcel-9 a city:LandParcel ; city:parcelCode "QH-9" ; city:landUse city:ResidentalLand ; '
     'geo:hasGeometry [ geo:asWKT "POINT(1 1)"^^geo:wktLiteral ] .', "ResidentalLand"),
    ('ex:pipe-9 a city:Pipe ; city:assetCode "JS-9" ; city:diameterMm 300.0 ; '
     'geo:hasGeometry [ geo:asWKT "LINESTRING(1 1, 2 2)"^^geo:wktLiteral ; city:srid 4326 ] .', "srid"),
], ids=["class", "property", "individual", "property-of-a-blank-node"])
def test_a_misspelt_term_refuses_the_entity_that_uses_it(triples: str, misspelt: str) -> None:
    data = Graph().parse(data=PREFIXES + triples, format="turtle")
    entity = str(next(s for s in data.subjects(RDF.type, None) if isinstance(s, URIRef)))
    caught = [f for f in _vocabulary_findings(data)
              if f.severity == "Violation" and f.focus_node == entity and f.value == CITY + misspelt]
    assert caught, f"city:{misspelt} is not reported on {entity}"


def test_a_property_used_as_a_class_is_reported() -> None:
    data = Graph().parse(data=PREFIXES + 'ex:thing-9 a city:name .', format="turtle")
    assert any(f.value == CITY + "name" for f in _vocabulary_findings(data))


def test_the_ontology_itself_raises_no_vocabulary_finding() -> None:
    data = Graph()
    data += _ontology()
    assert [f.describe() for f in _vocabulary_findings(data)] == []


def test_the_sample_output_raises_no_vocabulary_finding() -> None:
    data = Graph().parse(SAMPLE_OUTPUT, format="nt")
    assert [f.describe() for f in _vocabulary_findings(data)] == []
