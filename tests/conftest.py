"""Shared fixtures: every test runs with a clean CityKG environment and its own data directory;
tests of database sources share one throwaway PostgreSQL server."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest

from kg_service.config import Settings, load_settings
from tests.integration import neo4j_server
from tests.integration.postgres import ServerUnavailable, throwaway_server

PROJECT_ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture(autouse=True)
def _hermetic_environment(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Iterator[None]:
    """No CITYKG_* variable or citykg.toml from the developer's shell leaks into a test."""
    for name in list(os.environ):
        if name.startswith("CITYKG_") and not name.startswith("CITYKG_TEST_"):
            monkeypatch.delenv(name)
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "xdg"))
    monkeypatch.chdir(tmp_path)
    yield


@pytest.fixture
def memory_settings(tmp_path: Path) -> Settings:
    return load_settings(data_dir=tmp_path / "data", in_memory=True)


@pytest.fixture
def disk_settings(tmp_path: Path) -> Settings:
    return load_settings(data_dir=tmp_path / "data")


@pytest.fixture(scope="session")
def postgres_server() -> Iterator[str]:
    """The DSN of a PostgreSQL server started for this run (tests/integration/postgres.py). A server
    that cannot start fails the tests that need it: they are never skipped."""
    try:
        with throwaway_server() as dsn:
            yield dsn
    except ServerUnavailable as error:
        pytest.fail(f"no PostgreSQL server for the tests: {error}", pytrace=False)


@pytest.fixture(scope="session")
def neo4j_test_server() -> Iterator[neo4j_server.Neo4jServer]:
    """A Neo4j server for this run (tests/integration/neo4j_server.py), started on first use. A server
    that cannot start fails the tests that need it: they are never skipped."""
    try:
        with neo4j_server.throwaway_server() as server:
            yield server
    except neo4j_server.ServerUnavailable as error:
        pytest.fail(f"no Neo4j server for the tests: {error}", pytrace=False)
