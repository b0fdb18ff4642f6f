"""The running service serves the schema of the ontology as it is now: an edit shows without a
restart, and an ontology that cannot be read leaves the last good schema served."""

from __future__ import annotations

import asyncio
import shutil
from pathlib import Path
from typing import Any

import httpx
import pytest

from kg_service.api import app as app_module
from kg_service.api import create_app
from kg_service.config import Settings, load_settings, project_path
from kg_service.store import open_store

DEFINITION = '"A facility of formal education, at one level."@en'
DESCRIBE = '{ __type(name: "School") { description } }'


def _ask(app: Any, query: str) -> dict[str, Any]:
    async def send() -> httpx.Response:
        async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://test") as client:
            return await client.post("/graphql", json={"query": query})

    response = asyncio.run(send())
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    ontology = tmp_path / "ontology"
    shutil.copytree(project_path("ontology"), ontology)
    return load_settings(data_dir=tmp_path / "data", in_memory=True, ontology_dir=ontology, anonymous="read")


def test_an_ontology_edit_is_served_without_a_restart(settings: Settings, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(app_module, "SCHEMA_CHECK_SECONDS", 0.0)
    module = settings.ontology_dir / "public-services.ttl"
    assert DEFINITION in module.read_text(encoding="utf-8")
    with open_store(settings) as store:
        app = create_app(settings, store)
        before = _ask(app, DESCRIBE)["data"]["__type"]["description"]
        assert "one level" in before
        module.write_text(module.read_text(encoding="utf-8").replace(
            DEFINITION, '"A facility of formal education, from kindergarten to senior high school."@en'),
            encoding="utf-8")
        after = _ask(app, DESCRIBE)["data"]["__type"]["description"]
        assert "from kindergarten to senior high school" in after

        module.write_text("this is not Turtle .", encoding="utf-8")
        kept = _ask(app, DESCRIBE)
        assert kept["data"]["__type"]["description"] == after, "the last good schema is still served"
