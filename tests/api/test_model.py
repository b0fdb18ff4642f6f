"""The API model read from the ontology and its data shapes (kg_service/api/model.py).

Expectations are derived from the shapes with SPARQL of their own wherever they can be, so a rule
the builder gets wrong for some class is caught even where no test names that class.
"""

from __future__ import annotations

import random
import re
from functools import cache

import pytest
from graphql import build_schema
from rdflib import Graph, URIRef

from kg_service.api.model import ApiModel, Field, FieldKind, Interface, ObjectType, build_api_model
from kg_service.config import project_path
from kg_service.errors import OntologyError
from kg_service.ontology import load_ontology, load_shapes

ONTOLOGY_DIR = project_path("ontology")
CITY = "https://w3id.org/citykg/ontology#"
NAME = re.compile(r"[_A-Za-z][_0-9A-Za-z]*")
PREFIXES = """
PREFIX city: <https://w3id.org/citykg/ontology#>
PREFIX owl: <http://www.w3.org/2002/07/owl#>
PREFIX rdf: <http://www.w3.org/1999/02/22-rdf-syntax-ns#>
PREFIX rdfs: <http://www.w3.org/2000/01/rdf-schema#>
PREFIX sh: <http://www.w3.org/ns/shacl#>
"""


@cache
def _graphs() -> tuple[Graph, Graph]:
    return load_ontology(ONTOLOGY_DIR), load_shapes(ONTOLOGY_DIR)


@cache
def _model() -> ApiModel:
    return build_api_model(*_graphs())


def _type(local: str) -> ObjectType:
    return _model().object_type(CITY + local)


def _forward(kind: ObjectType) -> list[Field]:
    return [field for field in kind.fields if not field.inverse]


# ---- which types --------------------------------------------------------------------------------

def test_every_class_with_a_data_shape_has_an_object_type_and_no_other_class_has_one() -> None:
    ontology, shapes = _graphs()
    expected = {str(row[0]) for row in (shapes + ontology).query(PREFIXES + """
        SELECT DISTINCT ?class WHERE {
            { ?shape sh:targetClass ?class } UNION { ?shape a sh:NodeShape , owl:Class . BIND (?shape AS ?class) }
            ?shape sh:property ?property .
            FILTER NOT EXISTS { ?shape sh:deactivated true }
        }""")}
    assert len(expected) > 20 and CITY + "School" in expected  # the query found the shapes at all
    assert {kind.class_iri for kind in _model().object_types} == expected


def test_shapes_made_only_of_sparql_constraints_make_no_type() -> None:
    classes = {kind.class_iri for kind in _model().object_types}
    # targets of the undefined-term check only
    assert "http://www.opengis.net/ont/geosparql#Feature" not in classes
    assert "http://www.w3.org/ns/prov#Entity" not in classes


def test_object_type_names_are_the_class_local_names() -> None:
    for kind in _model().object_types:
        assert kind.name == kind.class_iri.rsplit("#", 1)[-1]


def test_interfaces_are_the_superclasses_of_shaped_classes() -> None:
    model = _model()
    assert {i.name for i in model.interfaces} >= {"AnyAgent", "AnySpatialFeature", "AnyPublicServiceFacility",
                                                  "AnyHealthFacility", "AnyInfrastructureAsset"}
    hospital = _type("Hospital")
    assert set(hospital.interfaces) == {"AnyAgent", "AnySpatialFeature", "AnyPublicServiceFacility",
                                        "AnyHealthFacility"}
    # a class with a shape and shaped subclasses is both: its own instances, and it with its subclasses
    assert "AnyPublicServiceFacility" in _type("PublicServiceFacility").interfaces
    facility = model.interface(CITY + "PublicServiceFacility")
    assert {"School", "Hospital", "PublicServiceFacility"} <= set(facility.implementations)
    # standards' classes are not the API's
    assert all(i.class_iri.startswith(CITY) for i in model.interfaces)


def test_interface_fields_are_shared_by_every_implementer_and_non_null_only_where_all_are() -> None:
    model = _model()
    by_name = {kind.name: kind for kind in model.object_types}
    facility = model.interface(CITY + "PublicServiceFacility")
    assert facility.field("name").required  # minCount 1 in PublicServiceFacilityShape
    assert "seats" not in {field.name for field in facility.fields}  # schools only
    zone = model.interface(CITY + "FunctionalZone")
    assert not zone.field("name").required  # a Warning in LandUseZoneShape, a Violation in FloodRiskZoneShape
    for interface in model.interfaces:
        for implementer in (by_name[name] for name in interface.implementations):
            assert interface.name in implementer.interfaces
            for field in interface.fields:
                own = implementer.field(field.name)
                assert (own.path, own.inverse, own.type_name, own.many) == (field.path, field.inverse,
                                                                           field.type_name, field.many)
                assert own.required or not field.required


# ---- cardinality and scalars --------------------------------------------------------------------

def test_cardinalities_follow_the_enforced_counts_of_every_shape_that_applies() -> None:
    """For every single-property field: list unless an enforced sh:maxCount <= 1, non-null when an
    enforced sh:minCount >= 1, over the shapes of the class and its superclasses."""
    ontology, shapes = _graphs()
    both = shapes + ontology
    checked = 0
    for kind in _model().object_types:
        counts = {str(row[0]): (row[1], row[2]) for row in both.query(PREFIXES + """
            SELECT ?path (MAX(?min) AS ?minCount) (MIN(?max) AS ?maxCount) WHERE {
                ?class rdfs:subClassOf* ?owner .
                ?shape sh:targetClass ?owner ; sh:property ?ps .
                ?ps sh:path ?path .
                FILTER (isIRI(?path))
                FILTER NOT EXISTS { ?ps sh:severity ?severity . FILTER (?severity != sh:Violation) }
                OPTIONAL { ?ps sh:minCount ?min }
                OPTIONAL { ?ps sh:maxCount ?max }
            } GROUP BY ?path""", initBindings={"class": URIRef(kind.class_iri)})}
        for field in _forward(kind):
            if len(field.path) > 1 or field.language_tagged:
                continue
            low, high = counts.get(field.path[0], (None, None))
            assert field.required == (low is not None and int(low) >= 1), (kind.name, field.name)
            assert field.many == (high is None or int(high) > 1), (kind.name, field.name)
            checked += 1
    assert checked > 100


@pytest.mark.parametrize(("local", "field", "many", "required", "type_name"), [
    ("Enterprise", "creditCode", False, True, "String"),  # minCount 1, maxCount 1
    ("Enterprise", "name", True, True, "String"),  # minCount 1, no maxCount
    ("Enterprise", "employees", False, False, "BigInt"),  # xsd:integer, only a lower bound
    ("Hospital", "beds", False, False, "BigInt"),  # the minCount is a Warning
    ("Hospital", "hospitalGrade", False, True, "HospitalGrade"),
    ("Pipe", "assetCode", False, True, "String"),  # minCount from PipeShape, maxCount from InfrastructureAssetShape
    ("InfrastructureAsset", "assetCode", False, False, "String"),
    ("Pipe", "diameterMm", False, True, "Decimal"),
    ("LandParcel", "geometry", True, True, "GeoJSON"),  # geo:hasGeometry/geo:asWKT, minCount 1
    ("Observation", "resultTime", False, True, "DateTime"),
    ("Enterprise", "establishedOn", False, False, "Date"),
    ("Dependency", "hasBackupSupply", False, False, "Boolean"),
    ("Sensor", "monitors", False, True, "AnyInfrastructureAsset"),
    ("Alarm", "raisedBy", True, True, "Observation"),
    ("District", "partOf", True, False, "AnySpatialFeature"),
])
def test_known_fields(local: str, field: str, many: bool, required: bool, type_name: str) -> None:
    found = _type(local).field(field)
    assert (found.many, found.required, found.type_name) == (many, required, type_name)


def test_a_path_an_enforced_max_count_of_zero_forbids_is_no_field() -> None:
    assert "hospitalGrade" not in {field.name for field in _type("CommunityHealthCentre").fields}


def test_a_name_without_a_datatype_is_a_language_tagged_string() -> None:
    name = _type("School").field("name")
    assert (name.kind, name.type_name, name.language_tagged, name.datatype) == (FieldKind.SCALAR, "String", True, None)


# ---- inverse fields -----------------------------------------------------------------------------

def test_a_declared_inverse_names_the_inverse_field() -> None:
    served_by = _type("Community").field("servedBy")  # city:serves owl:inverseOf city:servedBy
    assert served_by.inverse and served_by.path == (CITY + "serves",)
    assert served_by.type_name == "AnyPublicServiceFacility" and served_by.many


def test_inverse_fields_without_a_declared_inverse_are_named_after_the_declaring_class() -> None:
    enterprises = _type("LandParcel").field("enterprisesByOnParcel")
    assert (enterprises.inverse, enterprises.path, enterprises.type_name) == (True, (CITY + "onParcel",), "Enterprise")
    # partOf has a declared inverse (hasPart), but three classes declare it: one field each
    district = _type("District")
    assert district.field("subdistrictsByPartOf").type_name == "Subdistrict"
    assert "hasPart" not in {field.name for field in district.fields}
    # an inverse onto an interface is on every implementer
    for local in ("Pipe", "PumpStation", "InfrastructureAsset"):
        assert _type(local).field("sensorsByMonitors").type_name == "Sensor"


def test_every_typed_object_field_has_an_inverse_on_its_target() -> None:
    model = _model()
    kinds: dict[str, ObjectType | Interface] = {kind.name: kind for kind in (*model.object_types, *model.interfaces)}
    checked = 0
    for kind in model.object_types:
        for field in _forward(kind):
            if field.kind is not FieldKind.OBJECT or field.type_name is None:
                continue
            target = kinds[field.type_name]
            inverses = [f for f in target.fields if f.inverse and f.path == field.path]
            assert any(f.type_name == kind.name or f.type_name in kind.interfaces for f in inverses), \
                (kind.name, field.name)
            checked += 1
    assert checked > 20


# ---- enums --------------------------------------------------------------------------------------

def test_a_closed_code_list_is_an_enum_whose_values_map_back_to_its_individuals() -> None:
    ontology, _ = _graphs()
    land_use = _model().enum("LandUseClass")
    members = {str(row[0]) for row in ontology.query(PREFIXES + """
        SELECT ?member WHERE { ?member a owl:NamedIndividual , city:LandUseClass }""")}
    assert len(members) == 8
    assert {value.iri for value in land_use.values} == members
    assert {value.name: value.iri for value in land_use.values}["RESIDENTIAL_LAND"] == CITY + "ResidentialLand"
    assert land_use.class_iri == CITY + "LandUseClass"
    assert _type("LandParcel").field("landUse").kind is FieldKind.ENUM
    assert "(居住用地 (R))" in {v.name: v for v in land_use.values}["RESIDENTIAL_LAND"].description


def test_an_sh_in_list_of_one_code_list_uses_that_code_lists_enum() -> None:
    level = _type("District").field("aggregationLevel")  # sh:in ( city:DistrictLevel )
    assert (level.kind, level.type_name) == (FieldKind.ENUM, "AggregationLevel")
    assert len(_model().enum("AggregationLevel").values) == 5
    assert _model().enum("HospitalGrade").values[0].name == "GRADE_1"


# ---- descriptions and names ---------------------------------------------------------------------

def test_descriptions_carry_the_english_and_the_chinese_label() -> None:
    ontology, _ = _graphs()
    assert _type("School").description.startswith("School (学校): ")
    for kind in _model().object_types:
        labels = {str(row[1]): str(row[0]) for row in ontology.query(PREFIXES + """
            SELECT ?label (LANG(?label) AS ?language) WHERE { ?class rdfs:label ?label }""",
            initBindings={"class": URIRef(kind.class_iri)})}
        assert kind.description.lower().startswith(f"{labels['en']} ({labels['zh']}): ".lower()), kind.name
    assert "(资产编码)" in _type("Pipe").field("assetCode").description


def test_names_are_valid_graphql_names_and_unique() -> None:
    model = _model()
    type_names = [kind.name for kind in (*model.object_types, *model.interfaces, *model.enums)]
    assert len(type_names) == len(set(type_names))
    for kind in (*model.object_types, *model.interfaces):
        names = [field.name for field in kind.fields]
        assert len(names) == len(set(names)), kind.name
        assert all(NAME.fullmatch(name) and not name.startswith("__") for name in [kind.name, *names])
    for enum in model.enums:
        names = [value.name for value in enum.values]
        assert len(names) == len(set(names)) and all(NAME.fullmatch(name) for name in [enum.name, *names])


def test_the_model_makes_a_valid_graphql_schema() -> None:
    """Rendered as SDL, the model passes GraphQL's own schema validation (interfaces implemented
    with compatible fields, every referenced type defined)."""
    model = _model()

    def render(field: Field) -> str:
        named = field.type_name or "ID"
        arguments = "(lang: String)" if field.language_tagged else ""
        shape = f"[{named}!]!" if field.many else f"{named}!" if field.required else named
        return f"  {field.name}{arguments}: {shape}"

    parts = [f"scalar {name}" for name in model.custom_scalars]
    for interface in model.interfaces:
        implements = f" implements {' & '.join(interface.interfaces)}" if interface.interfaces else ""
        parts.append(f"interface {interface.name}{implements} {{\n  id: ID!\n"
                     + "\n".join(map(render, interface.fields)) + "\n}")
    for kind in model.object_types:
        implements = f" implements {' & '.join(kind.interfaces)}" if kind.interfaces else ""
        parts.append(f"type {kind.name}{implements} {{\n  id: ID!\n" + "\n".join(map(render, kind.fields)) + "\n}")
    parts += [f"enum {enum.name} {{ {' '.join(value.name for value in enum.values)} }}" for enum in model.enums]
    parts.append("type Query { node(id: ID!): AnyAgent }")
    build_schema("\n".join(parts))  # raises on an invalid schema


# ---- determinism --------------------------------------------------------------------------------

def test_the_model_is_deterministic_and_independent_of_statement_order() -> None:
    ontology, shapes = _graphs()
    assert build_api_model(ontology, shapes) == _model()

    def shuffled(graph: Graph, seed: int) -> Graph:
        # through N-Triples: new blank-node labels and no prefix bindings either
        lines = graph.serialize(format="nt").splitlines()
        random.Random(seed).shuffle(lines)
        return Graph().parse(data="\n".join(lines), format="nt")

    for seed in (1, 2):
        assert build_api_model(shuffled(ontology, seed), shuffled(shapes, seed + 10)) == _model()


# ---- rules on small graphs ----------------------------------------------------------------------

SMALL = """
@prefix city: <https://w3id.org/citykg/ontology#> .
@prefix owl: <http://www.w3.org/2002/07/owl#> .
@prefix rdfs: <http://www.w3.org/2000/01/rdf-schema#> .
@prefix sh: <http://www.w3.org/ns/shacl#> .
@prefix xsd: <http://www.w3.org/2001/XMLSchema#> .
city:Thing a owl:Class ; rdfs:label "thing"@en , "东西"@zh .
city:count a owl:DatatypeProperty ; rdfs:range xsd:integer .
city:title a owl:DatatypeProperty .
city:grade a owl:DatatypeProperty ; rdfs:range xsd:string .
city:ThingShape a sh:NodeShape ; sh:targetClass city:Thing ;
    sh:property [ sh:path city:count ; sh:maxCount 1 ; sh:minInclusive 0 ; sh:maxInclusive 1000000 ] ,
                [ sh:path city:title ; sh:uniqueLang true ] ,
                [ sh:path city:grade ; sh:in ( "3A" "ungraded" ) ] .
"""


def _small(extra: str = "") -> ApiModel:
    graph = Graph().parse(data=SMALL + extra, format="turtle")
    return build_api_model(graph, graph)


def test_bounded_integers_are_int_unique_languages_are_single_and_literal_lists_are_enums() -> None:
    model = _small()
    thing = model.object_type(CITY + "Thing")
    assert thing.field("count").type_name == "Int"
    title = thing.field("title")
    assert title.language_tagged and not title.many
    grade = thing.field("grade")
    assert (grade.kind, grade.type_name) == (FieldKind.ENUM, "ThingGrade")
    assert [(v.name, v.literal) for v in model.enum("ThingGrade").values] == [("_3A", "3A"), ("UNGRADED", "ungraded")]


def test_a_property_that_cannot_be_named_is_an_error_naming_it() -> None:
    extra = """<https://w3id.org/citykg/ontology#床位> a owl:DatatypeProperty .
        city:ThingShape sh:property [ sh:path <https://w3id.org/citykg/ontology#床位> ] ."""
    with pytest.raises(OntologyError, match="床位") as raised:
        _small(extra)
    assert "Thing" in str(raised.value)
