"""Every console command and group answers --help (a command nothing runs ships broken)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

GROUPS = ["ingest", "validate", "reason", "serve", "query", "schema", "sparql", "export", "ontology", "neo4j", "demo",
          "api-key"]
SUBCOMMANDS = {
    "ontology": ["check", "add-class", "add-property", "label", "deprecate", "rename", "move", "impact", "diff",
                 "docs"],
    "neo4j": ["sync", "status"],
}
CONSOLE_SCRIPT = Path(sys.executable).parent / "citykg"


def run_citykg(*args: str, env: dict[str, str] | None = None, timeout: float = 120) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "kg_service", *args], capture_output=True, text=True,
                          timeout=timeout, env=env)


def test_the_console_script_is_installed_and_answers_help() -> None:
    assert CONSOLE_SCRIPT.exists(), "install the project (pip install -e .) so 'citykg' is on PATH"
    done = subprocess.run([str(CONSOLE_SCRIPT), "--help"], capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    for group in GROUPS:
        assert group in done.stdout
    assert "Exit codes" in done.stdout


@pytest.mark.parametrize("group", GROUPS)
def test_group_help(group: str) -> None:
    done = run_citykg(group, "--help")
    assert done.returncode == 0, done.stderr
    assert f"citykg {group}" in done.stdout
    assert "Traceback" not in done.stdout + done.stderr


@pytest.mark.parametrize(("group", "command"), [(g, c) for g, commands in SUBCOMMANDS.items() for c in commands])
def test_subcommand_help(group: str, command: str) -> None:
    done = run_citykg(group, command, "--help")
    assert done.returncode == 0, done.stderr
    assert f"citykg {group} {command}" in done.stdout


def test_version() -> None:
    done = run_citykg("--version")
    assert done.returncode == 0 and done.stdout.startswith("citykg ")
