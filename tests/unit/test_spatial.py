"""Spatial relations from geometries: within, intersects, located in, nearest facility, within a distance."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from rdflib import RDF, Graph, URIRef
from shapely.geometry import LineString, Point, box

from kg_service import pipeline
from kg_service.config import Settings, load_settings
from kg_service.namespaces import CITY, GEO
from kg_service.reason.spatial import (
    SpatialFeature,
    SpatialReport,
    compute_spatial,
    read_spatial_features,
    spatial_graph,
    spatial_relations,
    within_distance,
)
from kg_service.store import GraphStore, RdfFormat, open_store, select

BASE = "https://w3id.org/citykg/id/"
CIVIL = f"{BASE}graph/source/civil-affairs/admin-areas"
EDUCATION = f"{BASE}graph/source/education/schools"
LON, LAT = 118.0, 36.6  # the sample city's latitude: a degree of longitude is about 89,400 m there
SQUARE = box(LON, LAT, LON + 0.01, LAT + 0.01).wkt


def _feature(iri: str, geometry: object, *classes: URIRef) -> SpatialFeature:
    return SpatialFeature(f"{BASE}{iri}", geometry, frozenset(str(c) for c in classes))  # type: ignore[arg-type]


def _uri(iri: str) -> URIRef:
    return URIRef(f"{BASE}{iri}")


@pytest.fixture
def two_communities() -> list[SpatialFeature]:
    """Two communities side by side (west, east), sharing the edge at LON + 0.01, in one subdistrict."""
    west = box(LON, LAT, LON + 0.01, LAT + 0.01)
    east = box(LON + 0.01, LAT, LON + 0.02, LAT + 0.01)
    return [_feature("community/w", west, CITY.Community, CITY.AdministrativeArea),
            _feature("community/e", east, CITY.Community, CITY.AdministrativeArea),
            _feature("subdistrict/s", box(LON, LAT, LON + 0.02, LAT + 0.01), CITY.Subdistrict,
                     CITY.AdministrativeArea)]


def test_a_point_inside_is_within_its_community_and_located_in_it(two_communities: list[SpatialFeature]) -> None:
    school = _feature("school/1", Point(LON + 0.005, LAT + 0.005), CITY.School)
    graph = compute_spatial([*two_communities, school], BASE)
    assert (_uri("school/1"), GEO.sfWithin, _uri("community/w")) in graph
    assert (_uri("school/1"), GEO.sfWithin, _uri("subdistrict/s")) in graph
    assert (_uri("school/1"), GEO.sfIntersects, _uri("community/e")) not in graph
    assert set(graph.objects(_uri("school/1"), CITY.locatedIn)) == {_uri("community/w")}


def test_a_point_on_the_shared_edge_intersects_both_and_is_located_in_the_subdistrict(
        two_communities: list[SpatialFeature]) -> None:
    station = _feature("asset/p", Point(LON + 0.01, LAT + 0.005), CITY.PumpStation)
    graph = compute_spatial([*two_communities, station], BASE)
    for community in ("community/w", "community/e"):
        assert (_uri("asset/p"), GEO.sfIntersects, _uri(community)) in graph
        assert (_uri("asset/p"), GEO.sfWithin, _uri(community)) not in graph
    assert set(graph.objects(_uri("asset/p"), CITY.locatedIn)) == {_uri("subdistrict/s")}


def test_a_line_crossing_two_communities_intersects_both(two_communities: list[SpatialFeature]) -> None:
    pipe = _feature("asset/gx", LineString([(LON + 0.005, LAT + 0.005), (LON + 0.015, LAT + 0.005)]),
                    CITY.WaterSupplyPipe)
    graph = compute_spatial([*two_communities, pipe], BASE)
    assert {o for o in graph.objects(_uri("asset/gx"), GEO.sfIntersects)} == {_uri("community/w"),
                                                                             _uri("community/e")}
    assert set(graph.objects(_uri("asset/gx"), GEO.sfWithin)) == {_uri("subdistrict/s")}
    assert set(graph.objects(_uri("asset/gx"), CITY.locatedIn)) == {_uri("subdistrict/s")}


def test_areas_are_not_related_to_each_other(two_communities: list[SpatialFeature]) -> None:
    graph = compute_spatial(two_communities, BASE)
    assert len(graph) == 0


def test_the_nearest_facility_of_each_kind_keeps_ties_and_measures_metres(
        two_communities: list[SpatialFeature]) -> None:
    centre_w = (LON + 0.005, LAT + 0.005)
    hospitals = [_feature("h/north", Point(centre_w[0], centre_w[1] + 0.01), CITY.Hospital),
                 _feature("h/south", Point(centre_w[0], centre_w[1] - 0.01), CITY.Hospital),
                 _feature("h/far", Point(centre_w[0] + 0.05, centre_w[1]), CITY.Hospital)]
    clinic = _feature("c/1", Point(centre_w[0] + 0.002, centre_w[1]), CITY.CommunityHealthCentre)
    graph = compute_spatial([*two_communities, *hospitals, clinic], BASE,
                            facility_kinds=[str(CITY.Hospital), str(CITY.CommunityHealthCentre), str(CITY.Park)])
    nodes = [n for n in graph.subjects(CITY.nearestFrom, _uri("community/w"))
             if graph.value(n, CITY.facilityKind) == CITY.Hospital]
    assert {graph.value(n, CITY.nearestTo) for n in nodes} == {_uri("h/north"), _uri("h/south")}
    for node in nodes:  # 0.01° of latitude is about 1,110 m
        assert 1_100 < float(graph.value(node, CITY.distanceToNearestM)) < 1_120  # type: ignore[arg-type]
    (clinic_node,) = [n for n in graph.subjects(CITY.nearestFrom, _uri("community/w"))
                      if graph.value(n, CITY.facilityKind) == CITY.CommunityHealthCentre]
    # 0.002° of longitude at 36.6° is about 179 m
    assert 175 < float(graph.value(clinic_node, CITY.distanceToNearestM)) < 183  # type: ignore[arg-type]
    assert (None, CITY.facilityKind, CITY.Park) not in graph  # no park anywhere: no fact
    assert len(set(graph.subjects(RDF.type, CITY.NearestFacility))) == 2 * 2 + 2  # ties in the west


def test_within_distance_finds_features_nearest_first() -> None:
    features = [_feature("a", Point(LON, LAT)), _feature("b", Point(LON + 0.001, LAT)),
                _feature("c", Point(LON + 0.01, LAT))]
    found = within_distance(features, Point(LON, LAT), 100)
    assert [f.iri for f, _ in found] == [f"{BASE}a", f"{BASE}b"]
    assert found[0][1] == 0 and 85 < found[1][1] < 95


def test_the_str_tree_prunes_exact_evaluations() -> None:
    """2,000 points against 200 cells: each point meets one cell (or a few at a corner), not 200."""
    cells = [_feature(f"community/{i}-{j}", box(LON + i * 0.01, LAT + j * 0.01, LON + (i + 1) * 0.01,
                                                LAT + (j + 1) * 0.01), CITY.Community, CITY.AdministrativeArea)
             for i in range(20) for j in range(10)]
    points = [_feature(f"p/{k}", Point(LON + 0.0001 + (k % 50) * 0.004, LAT + 0.0001 + (k // 50) * 0.0025))
              for k in range(2_000)]
    report = SpatialReport()
    graph = compute_spatial([*cells, *points], BASE, report=report)
    assert report.predicate_evaluations < 4 * 2_000, report.predicate_evaluations
    assert len(set(graph.subjects(CITY.locatedIn, None))) == 2_000


@pytest.fixture
def store(tmp_path: Path) -> Iterator[GraphStore]:
    with open_store(load_settings(data_dir=tmp_path, in_memory=True)) as opened:
        yield opened


def _load(store: GraphStore, graph: str, turtle: str) -> None:
    data = Graph().parse(data=f"@prefix city: <{CITY}> . @prefix geo: <{GEO}> . @base <{BASE}> . {turtle}",
                         format="turtle")
    store.load(data.serialize(format="nt", encoding="utf-8"), RdfFormat.N_TRIPLES, graph=graph)


def test_bad_wkt_is_reported_and_the_rest_computed(store: GraphStore) -> None:
    _load(store, CIVIL, f"""
        <community/w> a city:Community , city:AdministrativeArea ;
            geo:hasGeometry [ geo:asWKT "<http://www.opengis.net/def/crs/OGC/1.3/CRS84> {SQUARE}" ] .""")
    _load(store, EDUCATION, f"""
        <school/1> a city:School ; geo:hasGeometry [ geo:asWKT "POINT({LON + 0.005} {LAT + 0.005})" ] .
        <school/2> a city:School ; geo:hasGeometry [ geo:asWKT "POINT(118.0 oops)" ] .
        <school/3> a city:School ; geo:hasGeometry [ geo:asWKT "POLYGON((0 0, 1 1, 1 0, 0 1, 0 0))" ] .""")
    report = SpatialReport()
    graph = spatial_graph(store, load_settings(in_memory=True).graphs, report)
    assert [line.split(":", 2)[1] for line in report.skipped] == [f"//w3id.org/citykg/id/school/{n}" for n in (2, 3)]
    assert "Self-intersection" in report.skipped[1]
    assert (_uri("school/1"), GEO.sfWithin, _uri("community/w")) in graph


def test_nothing_a_department_asserted_is_repeated(store: GraphStore) -> None:
    _load(store, CIVIL, f"""
        <community/w> a city:Community , city:AdministrativeArea ;
            geo:hasGeometry [ geo:asWKT "{SQUARE}" ] .""")
    _load(store, EDUCATION, f"""
        <school/1> a city:School ; city:locatedIn <community/w> ; geo:sfWithin <community/w> ;
            geo:hasGeometry [ geo:asWKT "POINT({LON + 0.005} {LAT + 0.005})" ] .
        <school/2> a city:School ; city:locatedIn <community/elsewhere> ;
            geo:hasGeometry [ geo:asWKT "POINT({LON + 0.002} {LAT + 0.002})" ] .""")
    report = SpatialReport()
    graph = spatial_graph(store, load_settings(in_memory=True).graphs, report)
    assert (_uri("school/1"), None, None) not in graph
    assert set(graph.predicate_objects(_uri("school/2"))) == {(GEO.sfWithin, _uri("community/w"))}
    assert report.disagreements == []  # the department's community has no geometry: nothing to compare


@pytest.fixture(scope="module")
def city(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[GraphStore, Settings, SpatialReport]]:
    settings = load_settings(data_dir=tmp_path_factory.mktemp("city"), in_memory=True)
    with open_store(settings) as store:
        pipeline.ingest(settings, store)
        yield store, settings, spatial_relations(store, settings.graphs)


def test_every_school_and_health_facility_is_within_the_community_its_department_named(
        city: tuple[GraphStore, Settings, SpatialReport]) -> None:
    store, settings, report = city
    named = select(store, f"""
        SELECT DISTINCT ?facility ?community WHERE {{
          GRAPH ?g {{ ?facility a ?kind ; <{CITY.locatedIn}> ?community }}
          VALUES ?kind {{ <{CITY.School}> <{CITY.HealthFacility}> }}
          FILTER (STRSTARTS(STR(?g), "{settings.graphs.source_prefix}")) }}""").rows
    within = set(select(store, f"""
        SELECT ?facility ?area WHERE {{ GRAPH <{settings.graphs.spatial}> {{ ?facility <{GEO.sfWithin}> ?area }} }}
        """).rows)
    assert len(named) >= 8
    assert [pair for pair in named if pair not in within] == []
    assert report.disagreements == [] and report.skipped == []


def test_each_community_has_a_nearest_hospital(city: tuple[GraphStore, Settings, SpatialReport]) -> None:
    store, settings, _ = city
    rows = select(store, f"""
        SELECT ?community (MIN(?metres) AS ?nearest) WHERE {{
          GRAPH ?c {{ ?community a <{CITY.Community}> }}
          GRAPH <{settings.graphs.spatial}> {{ ?fact <{CITY.nearestFrom}> ?community ;
            <{CITY.facilityKind}> <{CITY.Hospital}> ; <{CITY.distanceToNearestM}> ?metres }}
        }} GROUP BY ?community""").rows
    communities = select(store, f"SELECT DISTINCT ?c WHERE {{ ?c a <{CITY.Community}> }}").rows
    assert len(rows) == len(communities) >= 8
    assert all(0 <= float(metres) < 50_000 for _, metres in rows)  # type: ignore[arg-type]


def test_the_sample_city_places_unplaced_assets_and_relates_parcels(
        city: tuple[GraphStore, Settings, SpatialReport]) -> None:
    _, _, report = city
    assert report.triples["city:locatedIn"] > 0
    assert report.triples["geo:sfWithin"] > report.triples["geo:sfIntersects"] > 0


def test_reading_features_closes_classes_over_the_ontology(city: tuple[GraphStore, Settings, SpatialReport]) -> None:
    store, settings, _ = city
    hospitals = [f for f in read_spatial_features(store, settings.graphs.source_prefix) if f.is_a(CITY.Hospital)]
    assert hospitals and all(f.is_a(CITY.PublicServiceFacility) for f in hospitals)


def test_no_spatial_triple_repeats_a_departments(city: tuple[GraphStore, Settings, SpatialReport]) -> None:
    store, settings, report = city
    repeated = select(store, f"""
        SELECT ?s ?p ?o WHERE {{ GRAPH <{settings.graphs.spatial}> {{ ?s ?p ?o }}
          GRAPH ?g {{ ?s ?p ?o }} FILTER (STRSTARTS(STR(?g), "{settings.graphs.source_prefix}")) }}""").rows
    assert repeated == []
    assert store.count(settings.graphs.spatial) == report.total
