"""Who may ask the API and how much (kg_service/api/security.py), over real HTTP through the ASGI app:
keys and bearer tokens mapped to roles, anonymous access off by default, the department check of
writes, the limits (depth, tokens, aliases, page size, timeout) and the access log."""

from __future__ import annotations

import asyncio
import json
import logging
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from graphql import get_introspection_query
from starlette.applications import Starlette

from kg_service import pipeline
from kg_service.api import context_for, create_app
from kg_service.api.app import ACCESS_LOGGER
from kg_service.api.security import AccessDenied, Principal, hash_key, require_writer
from kg_service.config import Settings, load_settings
from kg_service.errors import ConfigError
from kg_service.store import GraphStore, open_store
from tests.live_server import citykg_server

READER, EDUCATION, HEALTH, ADMIN = "reader-key-1", "education-key-2", "health-key-3", "admin-key-4"
KEYS = {hash_key(READER): "reader", hash_key(EDUCATION): "writer:education", hash_key(HEALTH): "writer:health",
        hash_key(ADMIN): "admin"}
SCHOOLS = "query Schools { schools(first: 3) { totalCount nodes { id } } }"
COMMUNITY = "https://w3id.org/citykg/id/community/990101001001"
CREATE = ('mutation { createSchool(dataset: "education/schools", id: "https://w3id.org/citykg/id/school/sec-%s", '
          'input: {name: [{value: "安全测试学校", lang: "zh"}], capacity: 300, locatedIn: ["' + COMMUNITY + '"]}) '
          "{ id assertedBy } }")
QUESTIONS = sorted((Path(__file__).parent / "questions").glob("*.graphql"))


@pytest.fixture(scope="module")
def data(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("data")


@pytest.fixture(scope="module")
def store(data: Path) -> Iterator[GraphStore]:
    settings = load_settings(data_dir=data, in_memory=True)
    with open_store(settings) as opened:
        pipeline.ingest(settings, opened, ["civil-affairs", "education"])
        yield opened


def _settings(data: Path, **given: Any) -> Settings:
    return load_settings(data_dir=data, in_memory=True, api_keys=KEYS, **given)


@pytest.fixture(scope="module")
def app(data: Path, store: GraphStore) -> Starlette:
    """The defaults: keys configured, anonymous access off."""
    return create_app(_settings(data), store)


@pytest.fixture(scope="module")
def open_app(data: Path, store: GraphStore) -> Starlette:
    return create_app(_settings(data, anonymous="read"), store)


@pytest.fixture(scope="module")
def tight_app(data: Path, store: GraphStore) -> Starlette:
    return create_app(_settings(data, max_query_depth=3, max_query_tokens=40, max_aliases=2, max_page_size=5),
                      store)


def _send(app: Starlette, method: str, path: str, *, headers: dict[str, str] | None = None,
          body: dict[str, Any] | None = None, params: dict[str, str] | None = None) -> httpx.Response:
    async def send() -> httpx.Response:
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as client:
            return await client.request(method, path, headers=headers, json=body, params=params)

    return asyncio.run(send())


def _graphql(app: Starlette, query: str, key: str | None = None, **body: Any) -> httpx.Response:
    return _send(app, "POST", "/graphql", headers={"X-API-Key": key} if key else {}, body={"query": query, **body})


def _errors(response: httpx.Response) -> list[dict[str, Any]]:
    assert response.status_code == 200, response.text
    errors: list[dict[str, Any]] = response.json().get("errors") or []
    return errors


# ---- authentication ---------------------------------------------------------------------------------

def test_no_key_is_refused_with_401_and_a_challenge(app: Starlette) -> None:
    for refused in (_graphql(app, SCHOOLS), _send(app, "GET", "/graphql", params={"query": "{ __typename }"})):
        assert refused.status_code == 401
        assert refused.headers["www-authenticate"] == 'Bearer realm="citykg"'
        body = refused.json()
        assert "data" not in body and body["errors"][0]["extensions"]["code"] == "UNAUTHENTICATED"
        assert "X-API-Key" in body["errors"][0]["message"]


@pytest.mark.parametrize("headers", [
    {"X-API-Key": "not-a-key"},
    {"Authorization": "Bearer not-a-key"},
    {"X-API-Key": ""},
    {"Authorization": f"Basic {READER}"},  # another scheme, even around a good key
    {"X-API-Key": READER, "Authorization": f"Bearer {ADMIN}"},  # two credentials that disagree
], ids=["wrong-key", "wrong-token", "empty-key", "basic-scheme", "two-credentials"])
def test_a_wrong_credential_is_refused_with_401(app: Starlette, open_app: Starlette, headers: dict[str, str]) -> None:
    for served in (app, open_app):  # anonymous read does not rescue a credential that fails
        refused = _send(served, "POST", "/graphql", headers=headers, body={"query": SCHOOLS})
        assert refused.status_code == 401, refused.text
        assert 'error="invalid_token"' in refused.headers["www-authenticate"]
        assert refused.json()["errors"][0]["extensions"]["code"] == "UNAUTHENTICATED"
        assert READER not in refused.text and ADMIN not in refused.text


def test_a_reader_key_or_bearer_token_reads(app: Starlette) -> None:
    for headers in ({"X-API-Key": READER}, {"Authorization": f"Bearer {READER}"}, {"authorization": f"bearer {ADMIN}"},
                    {"X-API-Key": EDUCATION, "Authorization": f"Bearer {EDUCATION}"}):
        answered = _send(app, "POST", "/graphql", headers=headers, body={"query": SCHOOLS})
        assert answered.status_code == 200, (headers, answered.text)
        schools = answered.json()["data"]["schools"]
        assert schools["totalCount"] > 0 and len(schools["nodes"]) == 3


def test_anonymous_read_when_configured(open_app: Starlette) -> None:
    answered = _graphql(open_app, SCHOOLS)
    assert answered.status_code == 200 and answered.json()["data"]["schools"]["totalCount"] > 0


def test_health_and_the_graphiql_page_need_no_key(app: Starlette) -> None:
    assert _send(app, "GET", "/healthz").json()["status"] == "ok"
    page = _send(app, "GET", "/graphql", headers={"accept": "text/html"})
    assert page.status_code == 200 and "graphiql" in page.text.lower()


# ---- roles ------------------------------------------------------------------------------------------

def test_require_writer_lets_only_the_department_or_an_admin_write(data: Path, store: GraphStore) -> None:
    context = context_for(_settings(data), store)
    for roles in ({"reader"}, {"writer:health"}, {"reader", "writer:health"}):
        context.principal = Principal(frozenset(roles))
        with pytest.raises(AccessDenied) as refused:
            require_writer(context, "education")
        assert refused.value.extensions is not None and refused.value.extensions["code"] == "FORBIDDEN"
        assert "'writer:education' or 'admin'" in refused.value.message
    context.principal = None  # nothing authenticated: refused, not allowed
    with pytest.raises(AccessDenied):
        require_writer(context, "education")
    for roles in ({"writer:education"}, {"admin"}):
        context.principal = Principal(frozenset(roles))
        assert require_writer(context, "education") is context.principal


def test_a_mutation_is_refused_unless_the_key_writes_its_department(app: Starlette, open_app: Starlette,
                                                                    store: GraphStore) -> None:
    before = store.count()
    for served, key in ((app, READER), (app, HEALTH), (open_app, None)):
        errors = _errors(_graphql(served, CREATE % "refused", key))
        assert [e["extensions"]["code"] for e in errors] == ["FORBIDDEN"], errors
        assert "writer:education" in errors[0]["message"]
    assert store.count() == before
    created = _graphql(app, CREATE % "allowed", EDUCATION)
    assert not _errors(created) and created.json()["data"]["createSchool"]["assertedBy"] == ["education/schools"]
    deleted = _graphql(app, 'mutation { deleteSchool(dataset: "education/schools", '
                            'id: "https://w3id.org/citykg/id/school/sec-allowed") }', ADMIN)
    assert deleted.json() == {"data": {"deleteSchool": True}}


# ---- limits -----------------------------------------------------------------------------------------

def test_the_default_limits_let_every_question_and_graphiql_introspection_through(app: Starlette) -> None:
    assert QUESTIONS
    for question in QUESTIONS:
        assert not _errors(_graphql(app, question.read_text(encoding="utf-8"), READER)), question.name
    introspection = get_introspection_query(descriptions=True, specified_by_url=True, directive_is_repeatable=True,
                                            schema_description=True, input_value_deprecation=True)
    answered = _graphql(app, introspection, READER)
    assert not _errors(answered) and answered.json()["data"]["__schema"]["queryType"]["name"] == "Query"


def test_a_query_deeper_than_max_query_depth_is_refused(tight_app: Starlette) -> None:
    within = "{ schools(first: 1) { nodes { locatedIn { id } } } }"
    assert not _errors(_graphql(tight_app, within, READER))
    errors = _errors(_graphql(tight_app, "{ schools(first: 1) { nodes { locatedIn { ... on Community { "
                                         "partOf { id } } } } } }", READER))
    assert len(errors) == 1 and "exceeds maximum operation depth of 3" in errors[0]["message"]


def test_too_many_aliases_or_tokens_are_refused(tight_app: Starlette) -> None:
    assert not _errors(_graphql(tight_app, "{ a: __typename b: __typename }", READER))
    errors = _errors(_graphql(tight_app, "{ a: __typename b: __typename c: __typename }", READER))
    assert len(errors) == 1 and errors[0]["message"] == "3 aliases found. Allowed: 2"
    long = "{ " + " ".join(["__typename"] * 40) + " }"
    errors = _errors(_graphql(tight_app, long, READER))
    assert len(errors) == 1 and "more than 40 tokens" in errors[0]["message"]


def test_a_page_larger_than_max_page_size_is_refused(tight_app: Starlette) -> None:
    assert not _errors(_graphql(tight_app, "{ schools(first: 5) { nodes { id } } }", READER))
    for query, variables in (("{ schools(first: 6) { nodes { id } } }", {}),
                             ("query($n: Int) { schools(first: $n) { nodes { id } } }", {"n": 50}),
                             ("query($n: Int = 7) { ...f } fragment f on Query { schools(first: $n) { totalCount } }",
                              {})):
        errors = _errors(_graphql(tight_app, query, READER, variables=variables))
        assert len(errors) == 1 and "between 0 and 5 (the max_page_size limit)" in errors[0]["message"], errors
        assert errors[0]["extensions"] == {"code": "LIMIT", "limit": "max_page_size", "value": 5}


class SlowStore:
    """The store, with every query taking ``delay`` seconds; counts the queries that started."""

    def __init__(self, inner: GraphStore, delay: float) -> None:
        self.inner, self.delay, self.queries = inner, delay, 0

    def query(self, *args: Any, **kwargs: Any) -> Any:
        self.queries += 1
        time.sleep(self.delay)
        return self.inner.query(*args, **kwargs)

    def select_terms(self, *args: Any, **kwargs: Any) -> Any:
        self.queries += 1
        time.sleep(self.delay)
        return self.inner.select_terms(*args, **kwargs)

    def __getattr__(self, name: str) -> Any:
        return getattr(self.inner, name)


def test_a_request_past_request_timeout_gets_a_timeout_error_and_stops(data: Path, store: GraphStore) -> None:
    slow = SlowStore(store, delay=4.0)
    app = create_app(_settings(data, request_timeout=1.0), slow)  # type: ignore[arg-type]
    finished: dict[str, float] = {}

    async def run() -> httpx.Response:
        async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://testserver") as client:
            started = time.monotonic()

            async def health() -> None:
                await asyncio.sleep(0.1)
                await client.get("/healthz")
                finished["health"] = time.monotonic() - started

            async def query() -> httpx.Response:
                # a page, its total and its values: three store queries if nothing stopped it
                answered = await client.post("/graphql", headers={"X-API-Key": READER},
                                             json={"query": "{ schools { totalCount nodes { name } } }"})
                finished["query"] = time.monotonic() - started
                return answered

            answered, _ = await asyncio.gather(query(), health())
            return answered

    answered = asyncio.run(run())  # returns once the abandoned worker thread has ended too
    body = answered.json()
    assert answered.status_code == 200 and body["data"] is None, body
    (error,) = body["errors"]
    assert error["extensions"] == {"code": "TIMEOUT", "limit": "request_timeout", "value": 1.0}
    assert "request_timeout limit of 1 s" in error["message"]
    assert finished["query"] < 4.0  # answered before the store query it abandoned could end
    assert finished["health"] < finished["query"]  # the event loop kept serving meanwhile
    assert slow.queries == 1  # the abandoned request stopped before its next round trip


# ---- the access log ---------------------------------------------------------------------------------

def test_one_json_line_per_request_and_no_key_in_any_log(app: Starlette, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)
    _graphql(app, SCHOOLS)
    _graphql(app, SCHOOLS, READER, operationName="Schools")
    _graphql(app, "{ schools(first: 100000) { totalCount } }", READER)
    _send(app, "GET", "/healthz")
    lines = [json.loads(r.getMessage()) for r in caplog.records if r.name == ACCESS_LOGGER]
    assert [(line["method"], line["path"], line["status"], line["role"], line["operation"], line["errors"])
            for line in lines] == [("POST", "/graphql", 401, None, None, 0),
                                   ("POST", "/graphql", 200, "reader", "Schools", 0),
                                   ("POST", "/graphql", 200, "reader", None, 1),
                                   ("GET", "/healthz", 200, None, None, 0)]
    assert all(isinstance(line["duration_ms"], float) and line["duration_ms"] >= 0 for line in lines)
    everything = "\n".join(f"{r.getMessage()} {r.__dict__}" for r in caplog.records)
    assert READER not in everything and hash_key(READER) not in everything


# ---- settings and the api-key command ----------------------------------------------------------------

def test_keys_are_configured_as_hashes_with_known_roles(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    with pytest.raises(ConfigError) as plain:
        load_settings(data_dir=tmp_path, api_keys={"my-secret-key": "reader"})
    assert "SHA-256" in str(plain.value) and "my-secret-key" not in str(plain.value)
    with pytest.raises(ConfigError, match="unknown role 'writer'"):
        load_settings(data_dir=tmp_path, api_keys={hash_key("k"): "writer"})
    config = tmp_path / "settings.toml"  # not ./citykg.toml (tests run in tmp_path), which every load reads
    config.write_text(f'anonymous = "read"\n[api_keys]\n"{hash_key("k").upper()}" = ["writer:water", "reader"]\n')
    settings = load_settings(config, data_dir=tmp_path)
    assert settings.api_keys == {hash_key("k"): ["reader", "writer:water"]} and settings.anonymous == "read"
    monkeypatch.setenv("CITYKG_API_KEYS", json.dumps({hash_key("e"): "admin"}))
    assert load_settings(data_dir=tmp_path).api_keys == {hash_key("e"): ["admin"]}
    assert load_settings(data_dir=tmp_path).anonymous == "off"


def test_the_api_key_command_makes_a_key_and_its_entry(tmp_path: Path) -> None:
    done = subprocess.run([sys.executable, "-m", "kg_service", "api-key", "writer:health"], capture_output=True,
                          text=True, timeout=120, check=False)
    assert done.returncode == 0, done.stderr
    key, *entry = done.stdout.splitlines()
    assert len(key) >= 40 and "cannot be shown again" in done.stderr
    (tmp_path / "citykg.toml").write_text("\n".join(entry) + "\n")
    assert load_settings(tmp_path / "citykg.toml", data_dir=tmp_path).api_keys == {hash_key(key): ["writer:health"]}
    hashed = subprocess.run([sys.executable, "-m", "kg_service", "api-key", "reader", "--stdin"], input="given\n",
                            capture_output=True, text=True, timeout=120, check=False)
    assert hashed.returncode == 0 and hashed.stdout.splitlines() == ["[api_keys]", f'"{hash_key("given")}" = "reader"']
    refused = subprocess.run([sys.executable, "-m", "kg_service", "api-key", "editor"], capture_output=True, text=True,
                             timeout=120, check=False)
    assert refused.returncode == 2 and "unknown role 'editor'" in refused.stderr


def test_citykg_serve_asks_for_a_key_and_logs_json_lines(tmp_path: Path) -> None:
    settings = {"CITYKG_API_KEYS": json.dumps({hash_key(READER): "reader"})}
    with citykg_server("serve", tmp_path / "data", settings=settings) as url:
        refused = httpx.post(f"{url}/graphql", json={"query": "{ __typename }"}, timeout=30)
        answered = httpx.post(f"{url}/graphql", json={"query": "query Name { __typename }"},
                              headers={"Authorization": f"Bearer {READER}"}, timeout=30)
    assert refused.status_code == 401 and answered.json() == {"data": {"__typename": "Query"}}
    output = (tmp_path / "server.log").read_text()
    assert "access: 1 API key configured; requests without a key are refused (401)" in output
    lines = [json.loads(line) for line in output.splitlines() if line.startswith("{")]
    graphql = [(line["status"], line["role"], line["operation"]) for line in lines if line["path"] == "/graphql"]
    assert graphql == [(401, None, None), (200, "reader", "Name")]
    assert {line["path"] for line in lines} == {"/graphql", "/healthz"}  # and nothing else logs per request
    assert not [line for line in output.splitlines() if '"POST /graphql' in line]  # uvicorn's access log is off
    assert READER not in output
