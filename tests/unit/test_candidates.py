"""The candidate-link finder: near-matches across departments are proposed with a score, never merged."""

from __future__ import annotations

import random
from pathlib import Path

import pytest
from rdflib import OWL, RDF, Literal, URIRef
from rdflib.namespace import SKOS
from shapely.geometry import Point

from kg_service.config import load_settings
from kg_service.namespaces import CITY
from kg_service.pipeline import link_candidates
from kg_service.reason.candidates import (
    MAX_DISTANCE_M,
    Feature,
    candidate_graph,
    distance_m,
    find_candidates,
    name_similarity,
    normalise_name,
    read_features,
)
from kg_service.store import RdfFormat, open_store

DECIMAL = URIRef("http://www.w3.org/2001/XMLSchema#decimal")  # not XSD: pytest probes module globals, and it warns

BASE = "https://w3id.org/citykg/id/"
HEALTH = f"{BASE}graph/source/health/facilities"
WATER = f"{BASE}graph/source/water/network"


def _feature(iri: str, name: str, lon: float, lat: float, graph: str) -> Feature:
    return Feature(f"{BASE}{iri}", name, Point(lon, lat), graph)


def test_names_lose_brackets_punctuation_and_full_width_forms() -> None:
    assert normalise_name("清河市第一人民医院（总院）") == "清河市第一人民医院"
    assert normalise_name("ＱＨ 实验·小学") == "qh实验小学"


def test_name_similarity_rewards_one_name_inside_the_other() -> None:
    assert name_similarity("清河市第二人民医院", "清河市第二人民医院") == 1.0
    assert name_similarity("第二人民医院", "清河市第二人民医院") > 0.8
    assert name_similarity("清河市实验小学", "清河东港物流有限公司") < 0.4
    assert name_similarity("", "清河市实验小学") == 0.0


def test_distance_is_in_metres() -> None:
    # 0.001 degree of latitude is about 111 m anywhere
    assert distance_m(Point(117.0, 36.6), Point(117.0, 36.601)) == pytest.approx(111.2, abs=0.5)


def test_a_near_match_from_another_department_is_proposed() -> None:
    hospital = _feature("hospital/QH-WJ-002", "清河市第二人民医院", 117.05, 36.61, HEALTH)
    customer = _feature("water-customer/YS0031", "第二人民医院", 117.0502, 36.6101, WATER)
    (candidate,) = find_candidates([hospital, customer])
    assert {candidate.left, candidate.right} == {hospital, customer}
    assert candidate.distance_m < 30
    assert 0.8 < candidate.score <= 1


@pytest.mark.parametrize(("name", "lon", "graph", "why"), [
    ("第二人民医院", 117.06, WATER, "too far apart (about 900 m)"),
    ("清河东港物流有限公司", 117.0502, WATER, "names unlike"),
    ("第二人民医院", 117.0502, HEALTH, "same department"),
])
def test_no_candidate_when(name: str, lon: float, graph: str, why: str) -> None:
    hospital = _feature("hospital/QH-WJ-002", "清河市第二人民医院", 117.05, 36.61, HEALTH)
    other = _feature("other/1", name, lon, 36.6101, graph)
    assert find_candidates([hospital, other]) == [], why


def test_pairs_already_linked_are_not_proposed_again() -> None:
    hospital = _feature("hospital/QH-WJ-001", "清河市第一人民医院", 117.05, 36.61, HEALTH)
    customer = _feature("water-customer/YS0012", "清河市第一人民医院（总院）", 117.05, 36.61, WATER)
    assert find_candidates([hospital, customer], linked=[(customer.iri, hospital.iri)]) == []
    assert len(find_candidates([hospital, customer])) == 1


def test_the_graph_says_close_match_with_a_score_and_never_same_as() -> None:
    hospital = _feature("hospital/QH-WJ-002", "清河市第二人民医院", 117.05, 36.61, HEALTH)
    customer = _feature("water-customer/YS0031", "第二人民医院", 117.0502, 36.6101, WATER)
    graph = candidate_graph(find_candidates([hospital, customer]), BASE)
    assert len(list(graph.triples((None, SKOS.closeMatch, None)))) == 1
    assert not list(graph.triples((None, OWL.sameAs, None)))
    (link,) = graph.subjects(RDF.type, CITY.CandidateLink)
    assert {graph.value(link, CITY.linkFrom), graph.value(link, CITY.linkTo)} == {URIRef(hospital.iri),
                                                                                URIRef(customer.iri)}
    score = graph.value(link, CITY.matchScore)
    assert isinstance(score, Literal) and score.datatype == DECIMAL and 0.8 < float(score) <= 1


def test_the_pipeline_writes_candidates_from_point_features_to_their_own_graph(tmp_path: Path) -> None:
    settings = load_settings(data_dir=tmp_path / "data", in_memory=True)
    geo = "http://www.opengis.net/ont/geosparql#"
    wkt = f"^^<{geo}wktLiteral>"
    data = "\n".join([
        f'<{BASE}hospital/2> <{CITY.name}> "清河市第二人民医院" <{HEALTH}> .',
        f"<{BASE}hospital/2> <{geo}hasGeometry> <{BASE}g/h2> <{HEALTH}> .",
        f'<{BASE}g/h2> <{geo}asWKT> "POINT(117.05 36.61)"{wkt} <{HEALTH}> .',
        f'<{BASE}customer/31> <{CITY.name}> "第二人民医院" <{WATER}> .',
        f"<{BASE}customer/31> <{geo}hasGeometry> <{BASE}g/c31> <{WATER}> .",
        f'<{BASE}g/c31> <{geo}asWKT> "POLYGON((117.05 36.61, 117.051 36.61, 117.051 36.611, 117.05 36.61))"{wkt} '
        f"<{WATER}> .",
    ])
    with open_store(settings) as store:
        store.load(data.encode(), RdfFormat.N_QUADS)
        assert len(read_features(store, settings.graphs.source_prefix)) == 1  # the polygon is not a point
        assert link_candidates(settings, store) == 0
        store.load(f'<{BASE}g/c31> <{geo}asWKT> "POINT(117.0501 36.6101)"{wkt} <{WATER}> .'.encode(),
                   RdfFormat.N_QUADS)
        assert link_candidates(settings, store) == 1
        assert store.query(f"ASK {{ GRAPH <{settings.graphs.candidates}> {{ <{BASE}customer/31> "
                           f"<{SKOS.closeMatch}> <{BASE}hospital/2> }} }}") is True
        # a crosswalk a department states (either way round) takes the pair out of the candidates
        store.load(f"<{BASE}hospital/2> <{CITY.suppliedBy}> <{BASE}customer/31> <{WATER}> .".encode(),
                   RdfFormat.N_QUADS)
        assert link_candidates(settings, store) == 0


def test_the_spatial_index_finds_exactly_the_pairs_every_pair_against_every_other_finds() -> None:
    """Clustered points at a high and a low latitude, with names alike: the STR-tree search gives
    the same candidates as comparing every pair, including pairs just inside and outside 200 m."""
    generator = random.Random(11)
    features = []
    for number in range(300):
        latitude = generator.choice([22.5, 60.0]) + generator.uniform(-0.004, 0.004)
        longitude = 114.0 + generator.uniform(-0.006, 0.006)
        features.append(Feature(f"https://example.org/f/{number:03d}", f"清河医院{number % 3}",
                                Point(longitude, latitude), f"https://example.org/graph/{number % 2}"))

    def every_pair() -> list[tuple[str, str]]:
        ordered = sorted(features, key=lambda f: f.iri)
        pairs = []
        for i, left in enumerate(ordered):
            for right in ordered[i + 1:]:
                distance = distance_m(left.point, right.point)
                if left.graph != right.graph and distance <= MAX_DISTANCE_M:
                    similarity = name_similarity(left.name, right.name)
                    if similarity >= 0.5 and 0.7 * similarity + 0.3 * (1 - distance / MAX_DISTANCE_M) >= 0.6:
                        pairs.append((left.iri, right.iri))
        return sorted(pairs)

    expected = every_pair()
    assert len(expected) > 50  # enough pairs to compare, near the limit included
    assert sorted((c.left.iri, c.right.iri) for c in find_candidates(features)) == expected
