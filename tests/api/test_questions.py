"""Cross-department questions as GraphQL documents (``questions/NN-name.graphql``), each with the
answer expected on the ingested sample city next to it (``NN-name.expected.json``)."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from strawberry import Schema

from kg_service import pipeline
from kg_service.api import context_for, schema_for
from kg_service.api.schema import Context
from kg_service.config import Settings, load_settings
from kg_service.store import GraphStore, open_store
from tests.api.cypher_target import cypher_contexts

QUESTIONS = sorted((Path(__file__).parent / "questions").glob("*.graphql"))


def test_there_are_at_least_fifteen_questions_each_with_its_answer() -> None:
    assert len(QUESTIONS) >= 15
    for question in QUESTIONS:
        assert question.with_suffix(".expected.json").is_file(), question.name
        header = [line for line in question.read_text(encoding="utf-8").splitlines() if line.startswith("#")]
        assert any(line.startswith("# question:") for line in header), question.name
        assert any(line.startswith("# departments:") for line in header), question.name


@pytest.fixture(scope="module")
def sample_city(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Settings, GraphStore, Schema]]:
    settings = load_settings(data_dir=tmp_path_factory.mktemp("data"), in_memory=True)
    with open_store(settings) as store:
        pipeline.ingest(settings, store)
        yield settings, store, schema_for(settings)


@pytest.fixture(scope="module", params=["sparql", "cypher"])
def answering(request: pytest.FixtureRequest, sample_city: tuple[Settings, GraphStore, Schema]
              ) -> Iterator[Callable[[Settings, GraphStore], Context]]:
    """How a request is answered: compiled to SPARQL over the store, or to Cypher over the city's
    projection in a real Neo4j server (synced from the same store)."""
    if request.param == "sparql":
        yield context_for
        return
    settings, store, _ = sample_city
    with cypher_contexts(request.getfixturevalue("neo4j_test_server"), settings, store) as answer:
        yield answer


@pytest.mark.parametrize("question", QUESTIONS, ids=[q.stem for q in QUESTIONS])
def test_the_question_gets_its_expected_answer(question: Path, sample_city: tuple[Settings, GraphStore, Schema],
                                              answering: Callable[[Settings, GraphStore], Context]) -> None:
    settings, store, schema = sample_city
    result = schema.execute_sync(question.read_text(encoding="utf-8"), context_value=answering(settings, store))
    assert result.errors is None, result.errors
    expected = json.loads(question.with_suffix(".expected.json").read_text(encoding="utf-8"))
    assert json.loads(json.dumps(result.data, default=str)) == expected


# ---- answered directly (``kg_service.api.direct``) against the usual execution --------------------

# Documents that use what a direct answer must get right besides the questions: fragments on
# interfaces and types, aliases, one key selected twice, @skip/@include, __typename at every level,
# pageInfo and cursors, every kind of value (languages, enums, decimals, dates, GeoJSON), provenance,
# interface pages, inverse fields, filters and ordering through variables, an empty page.
COVERAGE = {
    "fragments-aliases-directives": ("""
query($withCode: Boolean!, $skipPopulation: Boolean!) {
  __typename
  first: anyPublicServiceFacilities(first: 7) {
    __typename totalCount
    pageInfo { __typename hasNextPage endCursor }
    nodes {
      __typename id ...named
      ... on School { seats capacity }
      ... on Hospital { beds hospitalGrade }
      code: facilityCode @include(if: $withCode)
      locatedIn { __typename ...area }
    }
  }
  second: anyPublicServiceFacilities(first: 7, after: "b2Zmc2V0Ojc=") { nodes { id name } }
}
fragment named on AnyPublicServiceFacility { name(lang: "zh") english: name(lang: "en") name(lang: "zh") }
fragment area on AnySpatialFeature {
  id
  ... on Community { adminCode population @skip(if: $skipPopulation) areaKm2 geometry partOf { __typename id } }
  ... on District { adminCode population }
}""", {"withCode": True, "skipPopulation": False}),
    "values-and-provenance": ("""
{
  enterprises(first: 30) {
    nodes {
      id name classes inferredClasses assertedBy inferred creditCode registeredCapital annualOutput
      employees establishedOn inIndustry inPark { id } onParcel { parcelCode areaKm2 enterprisesByLocatedIn { id } }
    }
  }
  hospitals { nodes { id hospitalGrade servedBy { __typename id } serves { __typename id } geometry } }
}""", {}),
    "filter-order-variables": ("""
query($minimum: Decimal!, $skip: Boolean!) {
  enterprises(filter: {registeredCapital: {gt: $minimum}}, orderBy: [{field: REGISTERED_CAPITAL, direction: DESC}],
              first: 5) {
    totalCount pageInfo { hasNextPage } nodes { name(lang: "zh") registeredCapital employees @skip(if: $skip) }
  }
  none: schools(first: 0) { totalCount nodes { id } pageInfo { hasNextPage endCursor } }
}""", {"minimum": "100", "skip": True}),
    "one-field-in-two-places": ("""
{ schools(first: 4) { totalCount } schools(first: 4) { nodes { id name } pageInfo { hasNextPage } } }""", {}),
}


@pytest.fixture(scope="module")
def resolved_schema(sample_city: tuple[Settings, GraphStore, Schema]) -> Schema:
    """The same schema with every field resolved by graphql-core's execution."""
    return schema_for(sample_city[0], answer_directly=False)


def _both(text: str, variables: dict[str, object], sample_city: tuple[Settings, GraphStore, Schema],
          resolved_schema: Schema, answering: Callable[[Settings, GraphStore], Context]) -> tuple[object, object, bool]:
    settings, store, schema = sample_city
    context = answering(settings, store)
    direct = schema.execute_sync(text, variable_values=variables, context_value=context)
    usual = resolved_schema.execute_sync(text, variable_values=variables, context_value=answering(settings, store))
    assert [e.message for e in direct.errors or ()] == [e.message for e in usual.errors or ()]
    return direct.data, usual.data, context.answered_directly


@pytest.mark.parametrize("question", QUESTIONS, ids=[q.stem for q in QUESTIONS])
def test_a_question_answered_directly_gets_the_usual_answer(
        question: Path, sample_city: tuple[Settings, GraphStore, Schema], resolved_schema: Schema,
        answering: Callable[[Settings, GraphStore], Context]) -> None:
    text = question.read_text(encoding="utf-8")
    direct, usual, answered_directly = _both(text, {}, sample_city, resolved_schema, answering)
    assert direct == usual  # the same values, keys and key order
    assert json.dumps(direct, default=str) == json.dumps(usual, default=str)
    pages_only = "Aggregate" not in text and "node(" not in text
    assert answered_directly == pages_only, "only pages of generated fields are answered directly"


@pytest.mark.parametrize("name", sorted(COVERAGE))
def test_every_kind_of_selection_answered_directly_gets_the_usual_answer(
        name: str, sample_city: tuple[Settings, GraphStore, Schema], resolved_schema: Schema,
        answering: Callable[[Settings, GraphStore], Context]) -> None:
    text, variables = COVERAGE[name]
    direct, usual, answered_directly = _both(text, variables, sample_city, resolved_schema, answering)
    assert answered_directly
    assert json.dumps(direct, default=str) == json.dumps(usual, default=str)
    assert isinstance(direct, dict)
    listed = [page["nodes"] for key, page in direct.items() if isinstance(page, dict) and "nodes" in page
              and key != "none"]  # the empty page on purpose
    assert listed and all(listed), "every page of the documents has entities: a comparison of empty pages shows nothing"


def test_a_request_with_an_error_is_answered_the_usual_way(
        sample_city: tuple[Settings, GraphStore, Schema]) -> None:
    settings, store, schema = sample_city
    for text, path, words in (("{ schools(first: 5000) { nodes { id } } }", ["schools"], "between 0 and 1000"),
                              ('{ enterprises(after: "x") { totalCount } }', ["enterprises"], "not a cursor")):
        context = context_for(settings, store)
        result = schema.execute_sync(text, context_value=context)
        assert not context.answered_directly
        assert result.errors is not None and len(result.errors) == 1
        assert result.errors[0].path == path and words in result.errors[0].message
