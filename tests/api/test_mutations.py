"""Mutations write into a department's dataset through the SHACL gate: all or nothing."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from graphql import GraphQLError
from strawberry import Schema

from kg_service import pipeline
from kg_service.api import context_for, schema_for
from kg_service.config import Settings, load_settings
from kg_service.project import sync
from kg_service.store import GraphStore, open_store

SCHOOL = "https://w3id.org/citykg/id/school/api-test-1"
COMMUNITY = "https://w3id.org/citykg/id/community/990101001001"
CREATE = """mutation($id: ID, $capacity: BigInt, $in: [ID!]) { createSchool(dataset: "education/schools",
  id: $id, input: {name: [{value: "试验学校", lang: "zh"}], capacity: $capacity, locatedIn: $in}) {
  id name(lang: "zh") capacity assertedBy } }"""


@pytest.fixture(scope="module", params=["sparql", "cypher"])
def city(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
         ) -> Iterator[tuple[Settings, GraphStore, Schema]]:
    """Reads compiled to SPARQL over the store, or (settings ``store = "neo4j"``) to Cypher over the
    city's projection in a real Neo4j server, which each mutation brings up to date."""
    settings = load_settings(data_dir=tmp_path_factory.mktemp("data"), in_memory=True)
    with open_store(settings) as store:
        pipeline.ingest(settings, store, ["civil-affairs", "education"])
        if request.param == "cypher":
            server = request.getfixturevalue("neo4j_test_server")
            server.empty()
            settings = server.settings_for(settings, store="neo4j")
            sync(settings, store)
        yield settings, store, schema_for(settings)


def _run(city: tuple[Settings, GraphStore, Schema], document: str, variables: dict[str, Any] | None = None,
         **context: Any) -> Any:
    settings, store, schema = city
    given = context_for(settings, store)
    for name, value in context.items():
        setattr(given, name, value)
    return schema.execute_sync(document, variable_values=variables, context_value=given)


def test_create_update_and_delete_a_school(city: tuple[Settings, GraphStore, Schema]) -> None:
    created = _run(city, CREATE, {"id": SCHOOL, "capacity": 500, "in": [COMMUNITY]})
    assert created.errors is None, created.errors
    assert created.data["createSchool"] == {"id": SCHOOL, "name": ["试验学校"],
                                            "capacity": 500, "assertedBy": ["education/schools"]}
    found = _run(city, "{ schools(filter: {capacity: {eq: 500}}) { nodes { id locatedIn { id } } } }")
    assert found.data["schools"]["nodes"] == [{"id": SCHOOL, "locatedIn": [{"id": COMMUNITY}]}]
    again = _run(city, CREATE, {"id": SCHOOL, "capacity": 500, "in": [COMMUNITY]})
    assert again.errors and again.errors[0].extensions["code"] == "ALREADY_EXISTS"

    updated = _run(city, f'mutation {{ updateSchool(dataset: "education/schools", id: "{SCHOOL}", '
                         "input: {capacity: 650}) { capacity name(lang: \"zh\") } }")
    assert updated.errors is None and updated.data["updateSchool"] == {"capacity": 650, "name": ["试验学校"]}

    deleted = _run(city, f'mutation {{ deleteSchool(dataset: "education/schools", id: "{SCHOOL}") }}')
    assert deleted.data == {"deleteSchool": True}
    gone = _run(city, f'{{ node(id: "{SCHOOL}") {{ id }} }}')
    assert gone.data == {"node": None}


def test_a_violation_writes_nothing_and_lists_each_violation(city: tuple[Settings, GraphStore, Schema]) -> None:
    settings, store, _ = city
    before = store.count()
    refused = _run(city, 'mutation { createSchool(dataset: "education/schools", input: {capacity: -5}) { id } }')
    assert refused.data is None and store.count() == before
    (error,) = refused.errors
    assert error.extensions["code"] == "VIOLATION"
    violations = {(v["path"].rsplit("#", 1)[-1], v["severity"]) for v in error.extensions["violations"]}
    assert {("capacity", "Violation"), ("name", "Violation")} <= violations
    assert all(v["focusNode"].startswith(settings.base_iri) and v["message"] for v in error.extensions["violations"])


def test_a_department_writes_only_where_it_may(city: tuple[Settings, GraphStore, Schema]) -> None:
    _, store, _ = city
    before = store.count()

    def only_health(department: str) -> None:
        if department != "health":
            raise GraphQLError(f"may not write the datasets of {department}", extensions={"code": "FORBIDDEN"})

    refused = _run(city, CREATE, {"id": SCHOOL + "-x", "capacity": 10, "in": [COMMUNITY]},
                   write_check=only_health)
    assert refused.errors and refused.errors[0].extensions["code"] == "FORBIDDEN" and store.count() == before
    unknown = _run(city, 'mutation { deleteSchool(dataset: "education/nowhere", id: "https://x/y") }')
    assert unknown.errors and unknown.errors[0].extensions["code"] == "UNKNOWN_DATASET"
