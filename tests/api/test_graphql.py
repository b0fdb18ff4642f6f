"""The GraphQL slice over HTTP (the ASGI app in-process) on the ingested sample."""

from __future__ import annotations

import csv
import json
from collections.abc import Iterator
from decimal import Decimal
from typing import Any

import httpx
import pytest

from kg_service import pipeline
from kg_service.api import create_app
from kg_service.config import Settings, project_path
from kg_service.store import GraphStore, open_store

SAMPLE = project_path("mappings") / "market-regulation" / "sample" / "enterprise-register.csv"


class CountingStore:
    """Counts store round trips, to prove they do not grow with the number of rows."""

    def __init__(self, inner: GraphStore) -> None:
        self.inner = inner
        self.queries = 0

    def query(self, *args: Any, **kwargs: Any) -> Any:
        self.queries += 1
        return self.inner.query(*args, **kwargs)

    def select_terms(self, *args: Any, **kwargs: Any) -> Any:
        self.queries += 1
        return self.inner.select_terms(*args, **kwargs)

    def __getattr__(self, name: str) -> Any:
        return getattr(self.inner, name)


@pytest.fixture
def store(memory_settings: Settings) -> Iterator[CountingStore]:
    with open_store(memory_settings) as opened:
        pipeline.ingest(memory_settings, opened, None)
        yield CountingStore(opened)


@pytest.fixture
def client(memory_settings: Settings, store: CountingStore) -> Iterator[httpx.Client]:
    # Reading without a key, as `citykg demo` serves; authentication has its own tests (test_security.py).
    app = create_app(memory_settings.model_copy(update={"anonymous": "read"}), store)  # type: ignore[arg-type]
    transport = httpx.ASGITransport(app=app)  # type: ignore[arg-type]

    class SyncOverAsync(httpx.BaseTransport):
        def handle_request(self, request: httpx.Request) -> httpx.Response:
            import asyncio

            async def send() -> httpx.Response:
                response = await transport.handle_async_request(request)
                content = await response.aread()
                return httpx.Response(response.status_code, headers=response.headers, content=content)

            return asyncio.run(send())

    with httpx.Client(transport=SyncOverAsync(), base_url="http://testserver") as http:
        yield http


def _post(client: httpx.Client, query: str, variables: dict[str, Any] | None = None) -> dict[str, Any]:
    response = client.post("/graphql", json={"query": query, "variables": variables or {}})
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


def test_typename(client: httpx.Client) -> None:
    assert _post(client, "{ __typename }") == {"data": {"__typename": "Query"}}


def _sample_rows() -> dict[str, dict[str, str]]:
    with SAMPLE.open(encoding="gb18030") as handle:
        return {r["统一社会信用代码"]: r for r in csv.DictReader(handle) if len(r["统一社会信用代码"]) == 18}


def test_enterprises_come_from_the_sample_file_through_the_store(client: httpx.Client) -> None:
    rows = _sample_rows()
    body = _post(client, "{ enterprises(first: 100) { totalCount nodes { id name(lang: \"zh\") creditCode "
                         "registeredCapital employees establishedOn locatedIn { id } classes inferredClasses "
                         "assertedBy inferred } } }")
    enterprises = body["data"]["enterprises"]["nodes"]
    assert {e["creditCode"] for e in enterprises} == set(rows)  # the bad code's row is in quarantine
    assert body["data"]["enterprises"]["totalCount"] == len(enterprises)
    for enterprise in enterprises:
        row = rows[enterprise["creditCode"]]
        assert enterprise["name"] == [row["企业名称"]]
        assert enterprise["establishedOn"] == row["成立日期"]
        capital = row["注册资本（万元）"]
        assert (Decimal(enterprise["registeredCapital"]) if enterprise["registeredCapital"] else None) == (
            Decimal(capital) if capital else None)
        assert f"https://w3id.org/citykg/id/district/{row['区划代码']}" in {a["id"] for a in enterprise["locatedIn"]}
        assert enterprise["assertedBy"] == ["market-regulation/enterprise-register"]
        assert enterprise["inferred"] is False
        agent = "https://w3id.org/citykg/ontology#Agent"
        assert agent in enterprise["classes"] and agent in enterprise["inferredClasses"]  # reasoning made it


def test_cursor_paging_walks_every_entity_once(client: httpx.Client) -> None:
    first = _post(client, "{ enterprises(first: 3) { totalCount pageInfo { hasNextPage endCursor } nodes { id } } }")
    page = first["data"]["enterprises"]
    assert page["pageInfo"]["hasNextPage"] is True and len(page["nodes"]) == 3
    rest = _post(client, "query($after: String) { enterprises(first: 100, after: $after) { pageInfo { hasNextPage } "
                         "nodes { id } } }", {"after": page["pageInfo"]["endCursor"]})["data"]["enterprises"]
    ids = [n["id"] for n in page["nodes"]] + [n["id"] for n in rest["nodes"]]
    assert len(ids) == len(set(ids)) == page["totalCount"] and rest["pageInfo"]["hasNextPage"] is False


def test_filters_order_and_a_related_entity(client: httpx.Client) -> None:
    district = "https://w3id.org/citykg/id/district/990101"
    found = _post(client, "query($d: ID) { enterprises(filter: {locatedIn: {eq: $d}}, orderBy: [{field: EMPLOYEES, "
                          "direction: DESC}]) { nodes { name employees } } }", {"d": district})
    assert found["data"]["enterprises"]["nodes"] == [{"name": ["清河市江岸精密机械有限公司"], "employees": 320},
                                                     {"name": ["清河东港物流有限公司"], "employees": 210}]
    small = _post(client, "{ enterprises(filter: {employees: {lte: 100}, establishedOn: {gte: \"2000-01-01\"}}) "
                          "{ nodes { employees establishedOn } } }")["data"]["enterprises"]["nodes"]
    assert small and all(n["employees"] <= 100 and n["establishedOn"] >= "2000-01-01" for n in small)


STRING_ARGUMENTS = [
    "{{ enterprises(filter: {{name: {{contains: {v}}}}}) {{ nodes {{ id }} }} }}",
    "{{ enterprises(filter: {{name: {{eq: {v}}}}}) {{ nodes {{ id }} }} }}",
    "{{ enterprises(filter: {{creditCode: {{in: [{v}]}}}}) {{ nodes {{ id }} }} }}",
    "{{ enterprises(filter: {{locatedIn: {{eq: {v}}}}}) {{ nodes {{ id }} }} }}",
    "{{ enterprises(filter: {{inside: {v}}}) {{ nodes {{ id }} }} }}",
    "{{ enterprises(after: {v}) {{ nodes {{ id }} }} }}",
    "{{ enterprises {{ nodes {{ name(lang: {v}) }} }} }}",
    "{{ node(id: {v}) {{ id }} }}",
]
ATTACKS = ['x" } UNION { ?entity ?p ?o } #', "https://x/> } UNION { ?entity ?p ?o } #",
           "') } ; DROP ALL ; #", "\\u0022 ) } INSERT DATA { <a> <b> <c> } #"]


REFUSALS = ("not an IRI", "not a cursor")  # what the API answers to a value that cannot be an IRI or a cursor


def assert_only_refused(template: str, attack: str, data: dict[str, Any] | None, errors: list[str]) -> None:
    """An attack through a string argument matched nothing (or, for a language, nothing of that
    language), and any error is the API refusing the value, never a query the store could not run."""
    for message in errors:
        assert any(words in message for words in REFUSALS), (template, attack, message)
    root = next(iter(data.values()), None) if data else None
    if isinstance(root, dict) and "nodes" in root:
        names = [node.get("name") for node in root["nodes"]]
        ids = [node.get("id") for node in root["nodes"]]
        assert ids == [] or all(name == [] for name in names), (template, attack, data)
    else:
        assert root is None, (template, attack, data)


@pytest.mark.parametrize("template", STRING_ARGUMENTS)
def test_no_string_argument_reaches_sparql_as_text(client: httpx.Client, store: CountingStore,
                                                   template: str) -> None:
    before = store.count()
    for attack in ATTACKS:
        body = _post(client, template.format(v=json.dumps(attack)))
        assert_only_refused(template, attack, body.get("data"), [e["message"] for e in body.get("errors") or ()])
    assert store.count() == before


def test_round_trips_grow_with_depth_not_rows(client: httpx.Client, store: CountingStore) -> None:
    counts = []
    # the class's members are read once and kept until a write: both measured requests find them kept
    _post(client, "{ enterprises(first: 1) { nodes { id } } }")
    for first in (1, 8):
        store.queries = 0
        body = _post(client, f"{{ enterprises(first: {first}) {{ totalCount nodes {{ name creditCode "
                             "locatedIn { id ... on District { name population } } onParcel { id landUse } } } }")
        assert len(body["data"]["enterprises"]["nodes"]) == first
        counts.append(store.queries)
    assert counts[0] == counts[1] <= 2 + 2  # page, count, and one per level of nesting


def test_graphs_lists_the_named_graphs(client: httpx.Client, memory_settings: Settings) -> None:
    graphs = {g["iri"]: g["triples"] for g in _post(client, "{ graphs { iri triples } }")["data"]["graphs"]}
    assert graphs[memory_settings.graphs.source("market-regulation/enterprise-register")] == 67  # 62 + 5 onParcel
    assert memory_settings.graphs.inferred in graphs and memory_settings.graphs.ontology in graphs


def test_graphiql_in_the_browser_and_health(client: httpx.Client) -> None:
    page = client.get("/graphql", headers={"accept": "text/html"})
    assert page.status_code == 200 and "graphiql" in page.text.lower()
    health = client.get("/healthz").json()
    assert health["status"] == "ok" and health["store"] == "oxigraph" and health["quads"] > 0


def test_a_bad_page_size_or_cursor_is_a_graphql_error(client: httpx.Client) -> None:
    body = _post(client, "{ enterprises(first: 100000) { nodes { id } } }")
    assert body["data"] is None and "between 0 and 1000" in body["errors"][0]["message"]
    body = _post(client, '{ enterprises(after: "not-a-cursor") { nodes { id } } }')
    assert body["data"] is None and "not a cursor" in body["errors"][0]["message"]
