"""The GraphQL slice over HTTP (the ASGI app in-process) on the ingested sample."""

from __future__ import annotations

import csv
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

    def __getattr__(self, name: str) -> Any:
        return getattr(self.inner, name)


@pytest.fixture
def store(memory_settings: Settings) -> Iterator[CountingStore]:
    with open_store(memory_settings) as opened:
        pipeline.ingest(memory_settings, opened, None)
        yield CountingStore(opened)


@pytest.fixture
def client(memory_settings: Settings, store: CountingStore) -> Iterator[httpx.Client]:
    app = create_app(memory_settings, store)  # type: ignore[arg-type]
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


def test_enterprises_come_from_the_sample_file_through_the_store(client: httpx.Client) -> None:
    with SAMPLE.open(encoding="gb18030") as handle:
        rows = {r["统一社会信用代码"]: r for r in csv.DictReader(handle) if len(r["统一社会信用代码"]) == 18}
    body = _post(client, "{ enterprises(first: 100) { id name creditCode registeredCapital employees "
                         "establishedOn district classes } }")
    enterprises = body["data"]["enterprises"]
    assert {e["creditCode"] for e in enterprises} == set(rows)
    for enterprise in enterprises:
        row = rows[enterprise["creditCode"]]
        assert enterprise["name"] == row["企业名称"]
        assert enterprise["establishedOn"] == row["成立日期"]
        capital = row["注册资本（万元）"]
        assert (Decimal(enterprise["registeredCapital"]) if enterprise["registeredCapital"] else None) == (
            Decimal(capital) if capital else None)
        assert enterprise["district"].endswith(f"/district/{row['区划代码']}")
        assert "https://w3id.org/citykg/ontology#Agent" in enterprise["classes"]  # inferred


def test_paging_and_district_filter(client: httpx.Client) -> None:
    first = _post(client, "{ enterprises(first: 3) { id } }")["data"]["enterprises"]
    rest = _post(client, "{ enterprises(first: 100, offset: 3) { id } }")["data"]["enterprises"]
    assert len(first) == 3 and len(rest) == 5 and not {e["id"] for e in first} & {e["id"] for e in rest}
    district = "https://w3id.org/citykg/id/district/990101"
    found = _post(client, "query($d: ID) { enterprises(district: $d) { name district } }", {"d": district})
    names = {e["name"] for e in found["data"]["enterprises"]}
    assert names == {"清河市江岸精密机械有限公司", "清河东港物流有限公司"}


def test_a_filter_value_cannot_inject_sparql(client: httpx.Client) -> None:
    attack = 'https://x/> } UNION { ?entity ?p ?o } #'
    body = _post(client, "query($d: ID) { enterprises(district: $d) { id } }", {"d": attack})
    assert body.get("data") in (None, {"enterprises": []}) or body["data"]["enterprises"] == []


def test_round_trips_do_not_grow_with_rows(client: httpx.Client, store: CountingStore) -> None:
    counts = []
    for first in (1, 8):
        store.queries = 0
        body = _post(client, f"{{ enterprises(first: {first}) {{ name creditCode employees classes }} }}")
        assert len(body["data"]["enterprises"]) == first
        counts.append(store.queries)
    assert counts == [1, 1]


def test_graphs_lists_the_named_graphs(client: httpx.Client, memory_settings: Settings) -> None:
    graphs = {g["iri"]: g["triples"] for g in _post(client, "{ graphs { iri triples } }")["data"]["graphs"]}
    assert graphs[memory_settings.graphs.source("market-regulation/enterprise-register")] == 67  # 62 + 5 onParcel
    assert memory_settings.graphs.inferred in graphs and memory_settings.graphs.ontology in graphs


def test_graphiql_in_the_browser_and_health(client: httpx.Client) -> None:
    page = client.get("/graphql", headers={"accept": "text/html"})
    assert page.status_code == 200 and "graphiql" in page.text.lower()
    health = client.get("/healthz").json()
    assert health["status"] == "ok" and health["store"] == "oxigraph" and health["quads"] > 0


def test_a_bad_page_size_is_a_graphql_error(client: httpx.Client) -> None:
    body = _post(client, "{ enterprises(first: 100000) { id } }")
    assert body["data"] is None and "between 0 and 1000" in body["errors"][0]["message"]
