"""A throwaway Neo4j Community server for tests: started by ``neo4j-server/server.sh`` (jars from Maven
Central) in a temporary folder, Bolt on 127.0.0.1 on a free port, a random password; stopped and
removed at the end of the run.

Set ``CITYKG_TEST_NEO4J_URI`` (and ``CITYKG_TEST_NEO4J_PASSWORD``, user ``neo4j``) to run the tests
against a server of your own instead: its database ``neo4j`` is emptied before each test.
"""

from __future__ import annotations

import os
import secrets
import socket
import subprocess
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import neo4j
from pydantic import SecretStr

from kg_service.config import Settings

SERVER_SCRIPT = Path(__file__).resolve().parents[2] / "neo4j-server" / "server.sh"
START_TIMEOUT_SECONDS = 600  # the first start fetches about 120 MB of jars


class ServerUnavailable(Exception):
    """The test server cannot be started; the message says why."""


@dataclass(frozen=True)
class Neo4jServer:
    uri: str
    user: str
    password: str

    def environment(self) -> dict[str, str]:
        """The settings that point CityKG at this server."""
        return {"CITYKG_NEO4J_URI": self.uri, "CITYKG_NEO4J_USER": self.user,
                "CITYKG_NEO4J_PASSWORD": self.password}

    def settings_for(self, settings: Settings, **overrides: Any) -> Settings:
        """``settings`` pointed at this server (and changed by ``overrides``)."""
        return settings.model_copy(update={"neo4j_uri": self.uri, "neo4j_user": self.user,
                                           "neo4j_password": SecretStr(self.password), **overrides})

    def empty(self) -> None:
        """Remove every node, relationship, index and constraint: a fresh database for the next test."""
        with neo4j.GraphDatabase.driver(self.uri, auth=(self.user, self.password)) as driver:
            with driver.session() as session:  # batched deletion runs only in an implicit transaction
                session.run("MATCH (n) CALL (n) { DETACH DELETE n } IN TRANSACTIONS OF 10000 ROWS").consume()
            for kind in ("CONSTRAINT", "INDEX"):
                records, _, _ = driver.execute_query(f"SHOW {kind}ES" if kind == "INDEX" else f"SHOW {kind}S")
                for record in records:
                    if kind == "INDEX" and (record.get("owningConstraint") or record["type"] == "LOOKUP"):
                        continue
                    driver.execute_query(f"DROP {kind} `{record['name']}` IF EXISTS")


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def _script(command: str, environment: dict[str, str]) -> str:
    try:
        done = subprocess.run(["bash", str(SERVER_SCRIPT), command], env={**os.environ, **environment},
                              capture_output=True, text=True, timeout=START_TIMEOUT_SECONDS, check=False)
    except subprocess.TimeoutExpired as error:
        raise ServerUnavailable(f"server.sh {command} did not finish in {START_TIMEOUT_SECONDS}s") from error
    if done.returncode != 0:
        raise ServerUnavailable(f"server.sh {command} failed (exit {done.returncode}):\n{done.stderr[-3000:]}")
    return done.stdout.strip()


class ServerProcess:
    """One server home folder, started and stopped (and started again, data kept) by server.sh."""

    def __init__(self, home: str | None = None, password: str | None = None) -> None:
        self.home = home or tempfile.mkdtemp(prefix="citykg-neo4j-")
        self.password = password or secrets.token_hex(12)
        self.port = 0

    def _environment(self, **extra: str) -> dict[str, str]:
        return {"CITYKG_NEO4J_HOME": self.home, "CITYKG_NEO4J_PASSWORD": self.password,
                "CITYKG_NEO4J_PORT": str(self.port), **extra}

    def start(self) -> Neo4jServer:
        """Start on a free port (the same one again on a restart, so a client's settings still hold)."""
        for attempt in range(3):  # another process may take the free port before the server binds it
            self.port = self.port or _free_port()
            try:
                uri = _script("start", self._environment())
                return Neo4jServer(uri, "neo4j", self.password)
            except ServerUnavailable:
                _script("stop", self._environment(CITYKG_NEO4J_KEEP="1"))
                if attempt == 2:
                    raise
                self.port = 0
        raise AssertionError("unreachable")

    def stop(self, *, keep: bool) -> None:
        _script("stop", self._environment(CITYKG_NEO4J_KEEP="1" if keep else "0"))


@contextmanager
def throwaway_server() -> Iterator[Neo4jServer]:
    own_uri = os.environ.get("CITYKG_TEST_NEO4J_URI")
    if own_uri:
        yield Neo4jServer(own_uri, "neo4j", os.environ.get("CITYKG_TEST_NEO4J_PASSWORD", ""))
        return
    process = ServerProcess()
    try:
        yield process.start()
    finally:
        process.stop(keep=False)
