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
