"""The GraphQL-over-HTTP audit of the npm package graphql-http, run against the real server.

`citykg demo` ingests the sample city and serves it on 127.0.0.1 (tests/live_server.py); the Node
runner in http_audit/ (graphql-http pinned by its package-lock.json) runs every server audit of the
library against /graphql. No MUST audit may fail; the SHOULD and MAY audits that fail are printed,
and listed in the failure message.
"""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest

from tests.live_server import citykg_server

RUNNER = Path(__file__).parent / "http_audit"


def _installed_as_pinned() -> bool:
    """Every dependency of the runner's package.json is in its node_modules, at the pinned version."""
    pinned: dict[str, str] = json.loads((RUNNER / "package.json").read_text())["dependencies"]
    for name, version in pinned.items():
        manifest = RUNNER / "node_modules" / name / "package.json"
        if not manifest.is_file() or json.loads(manifest.read_text()).get("version") != version:
            return False
    return True


def _runner_node() -> str:
    """The node executable, once the runner's dependencies are installed (`npm ci` on a fresh clone)."""
    node, npm = shutil.which("node"), shutil.which("npm")
    if node is None or npm is None:
        pytest.fail("the GraphQL-over-HTTP audit needs Node.js and npm on PATH (node >= 18): install them "
                    "(Debian: apt-get install -y nodejs npm) and run the tests again", pytrace=False)
    if not _installed_as_pinned():
        done = subprocess.run([npm, "ci", "--no-audit", "--no-fund", "--loglevel=error"], cwd=RUNNER,
                              capture_output=True, text=True, timeout=600, check=False)
        if done.returncode != 0 or not _installed_as_pinned():
            pytest.fail(f"`npm ci` in {RUNNER} failed (exit {done.returncode}); it installs graphql-http from "
                        f"the npm registry as package-lock.json pins it:\n{done.stdout}{done.stderr}",
                        pytrace=False)
    return node


def _describe(result: dict[str, Any]) -> str:
    line = f"  {result['id']} {result['name']}: {result['status']}: {result.get('reason', '')}"
    if result.get("response"):
        line += f"\n      response: {json.dumps(result['response'], ensure_ascii=False)}"
    return line


def test_the_server_fails_no_must_audit_of_graphql_http(tmp_path: Path) -> None:
    node = _runner_node()
    with citykg_server("demo", tmp_path / "data") as url:
        done = subprocess.run([node, str(RUNNER / "audit.mjs"), f"{url}/graphql"], cwd=RUNNER,
                              capture_output=True, text=True, timeout=300, check=False)
    assert done.returncode in (0, 1), f"the audit runner failed (exit {done.returncode}):\n{done.stderr}"
    lines = [json.loads(line) for line in done.stdout.splitlines() if line.strip()]
    results = [line for line in lines if "summary" not in line]
    summaries = [line["summary"] for line in lines if "summary" in line]
    assert len(summaries) == 1 and summaries[0]["total"] == len(results), \
        f"the audit runner's output is not one line per audit and a summary:\n{done.stdout}\n{done.stderr}"
    assert any(result["level"] == "MUST" for result in results), f"no MUST audit ran:\n{done.stdout}"

    failed = [result for result in results if result["status"] in ("error", "fatal")]
    advisory = [result for result in results if result["status"] in ("warn", "notice")]
    report = "\n".join(_describe(result) for result in advisory) or "  (none)"
    print(f"graphql-http audit of {url}/graphql: {summaries[0]}\nSHOULD and MAY audits failed:\n{report}")
    assert not failed, (f"{len(failed)} of {len(results)} audits failed a MUST or could not run:\n"
                        + "\n".join(_describe(result) for result in failed)
                        + f"\nSHOULD and MAY audits failed:\n{report}")
    assert done.returncode == 0, f"every MUST audit passed, yet the runner exited 1:\n{done.stdout}"
