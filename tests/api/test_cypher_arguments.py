"""Request values reach Cypher only as parameters, as they reach SPARQL only as bound variables:
every string argument of the SPARQL injection test, with attacks written for SPARQL and for
Cypher, answered on the Cypher target over a real Neo4j server holding the city's projection."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from pathlib import Path

import neo4j
import pytest
from strawberry import Schema

from kg_service import pipeline
from kg_service.api import schema_for
from kg_service.api.cypher import CypherCompiler
from kg_service.api.schema import Context
from kg_service.config import Settings, load_settings
from kg_service.store import GraphStore, open_store
from tests.api.cypher_target import cypher_contexts
from tests.api.test_graphql import ATTACKS, STRING_ARGUMENTS, assert_only_refused
from tests.integration.neo4j_server import Neo4jServer

CYPHER_ATTACKS = ["x' }) MATCH (n) DETACH DELETE n //", 'x"}) WITH 1 AS one MATCH (n) SET n.hacked = true //',
                  "https://x/'] RETURN 1 AS entity UNION MATCH (entity) RETURN entity //", "\\u0027 OR 1=1 //",
                  "` MATCH (n) DETACH DELETE n //"]
City = tuple[Settings, GraphStore, Schema, Callable[[Settings, GraphStore], Context], Neo4jServer]


@pytest.fixture(scope="module")
def cypher_city(tmp_path_factory: pytest.TempPathFactory, neo4j_test_server: Neo4jServer) -> Iterator[City]:
    data: Path = tmp_path_factory.mktemp("data")
    settings = load_settings(data_dir=data, in_memory=True)
    with open_store(settings) as store:
        pipeline.ingest(settings, store, ["civil-affairs", "market-regulation"])
        with cypher_contexts(neo4j_test_server, settings, store) as answering:
            yield settings, store, schema_for(settings), answering, neo4j_test_server


def _graph_state(server: Neo4jServer) -> tuple[int, int, int]:
    with neo4j.GraphDatabase.driver(server.uri, auth=(server.user, server.password)) as driver:
        records, _, _ = driver.execute_query(
            "MATCH (n) OPTIONAL MATCH (n)-[r]->() "
            "RETURN count(DISTINCT n) AS nodes, count(r) AS relationships, "
            "count(DISTINCT CASE WHEN n.hacked IS NOT NULL THEN n END) AS touched")
    return records[0]["nodes"], records[0]["relationships"], records[0]["touched"]


@pytest.mark.parametrize("template", STRING_ARGUMENTS)
def test_no_string_argument_reaches_cypher_as_text(cypher_city: City, template: str) -> None:
    settings, store, schema, answering, server = cypher_city
    before = _graph_state(server)
    assert before[0] > 0
    for attack in [*ATTACKS, *CYPHER_ATTACKS]:
        context = answering(settings, store)
        assert isinstance(context.executor.compiler, CypherCompiler)
        result = schema.execute_sync(template.format(v=json.dumps(attack)), context_value=context)
        assert_only_refused(template, attack, result.data, [error.message for error in result.errors or ()])
    assert _graph_state(server) == before
