"""Store round trips per request follow the query's depth, not its rows: a 1,000-row nested query
on a generated city makes as many as a 10-row one."""

from __future__ import annotations

from collections.abc import Callable, Iterator

import pytest
from strawberry import Schema

from kg_service import pipeline
from kg_service.api import context_for, schema_for
from kg_service.api.schema import Context
from kg_service.config import Settings, load_settings, project_path
from kg_service.generate import generate_city
from kg_service.store import GraphStore, open_store
from tests.api.cypher_target import cypher_contexts

NESTED = """query($first: Int!) { enterprises(first: $first) { totalCount nodes {
  name(lang: "zh") creditCode registeredCapital
  locatedIn { id ... on District { name(lang: "zh") population } }
  onParcel { id landUse planIndicators: enterprisesByOnParcel { creditCode } }
} } }"""


@pytest.fixture(scope="module")
def city(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Settings, GraphStore, Schema]]:
    mappings = tmp_path_factory.mktemp("city")
    generate_city(project_path("mappings"), mappings, 6000, 7)  # about 1,200 enterprises
    settings = load_settings(data_dir=tmp_path_factory.mktemp("data"), in_memory=True, mappings_dir=mappings)
    with open_store(settings) as store:
        pipeline.ingest(settings, store, ["civil-affairs", "planning/parcels", "market-regulation"])
        yield settings, store, schema_for(settings)


@pytest.fixture(scope="module", params=["sparql", "cypher"])
def answering(request: pytest.FixtureRequest, city: tuple[Settings, GraphStore, Schema]
              ) -> Iterator[Callable[[Settings, GraphStore], Context]]:
    """Requests compiled to SPARQL over the store, or to Cypher over the city's Neo4j projection."""
    if request.param == "sparql":
        yield context_for
        return
    settings, store, _ = city
    with cypher_contexts(request.getfixturevalue("neo4j_test_server"), settings, store) as answer:
        yield answer


def _trips(city: tuple[Settings, GraphStore, Schema], first: int,
           answering: Callable[[Settings, GraphStore], Context]) -> tuple[int, int]:
    settings, store, schema = city
    context = answering(settings, store)
    result = schema.execute_sync(NESTED, variable_values={"first": first}, context_value=context)
    assert result.errors is None, result.errors
    assert result.data is not None
    return len(result.data["enterprises"]["nodes"]), context.executor.round_trips.count


def test_a_thousand_row_nested_query_makes_as_many_round_trips_as_ten_rows(
        city: tuple[Settings, GraphStore, Schema], answering: Callable[[Settings, GraphStore], Context]) -> None:
    _trips(city, 1, answering)  # the class's members, read once and kept until a write, are kept for both
    rows, trips = _trips(city, 1000, answering)
    assert rows == 1000
    small_rows, small_trips = _trips(city, 10, answering)
    assert small_rows == 10
    # the page, the total, and one per level of nesting (enterprises, their areas and parcels, the
    # parcels' enterprises)
    assert trips == small_trips <= 2 + 3
