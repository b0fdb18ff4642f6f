"""What the API tests share: answering a request on the Cypher target, over a city's projection in
the run's Neo4j server."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager

from kg_service.api.cypher import CypherCompiler, CypherRunner
from kg_service.api.execution import Executor
from kg_service.api.schema import Context
from kg_service.config import Settings
from kg_service.project import sync
from kg_service.store import GraphStore
from tests.integration.neo4j_server import Neo4jServer

Answering = Callable[[Settings, GraphStore], Context]


@contextmanager
def cypher_contexts(server: Neo4jServer, settings: Settings, store: GraphStore) -> Iterator[Answering]:
    """The city of ``store`` projected into the emptied ``server``; yields what makes a request's
    context whose executor compiles to Cypher over that projection."""
    server.empty()
    settings = server.settings_for(settings)
    sync(settings, store)
    runner = CypherRunner.open(settings)
    try:
        yield lambda settings, store: Context(store=store, settings=settings,
                                              executor=Executor(runner, settings, compiler=CypherCompiler()))
    finally:
        runner.close()
