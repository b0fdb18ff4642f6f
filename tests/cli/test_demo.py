"""README command 1, for real: `citykg demo` ingests the sample city and serves GraphQL over HTTP."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx

from kg_service.cli.demo import SAMPLE_QUERY


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def test_demo_serves_the_sample_city_over_http(tmp_path: Path) -> None:
    port = _free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith("CITYKG_")}
    env["CITYKG_DATA_DIR"] = str(tmp_path / "data")
    server = subprocess.Popen([str(Path(sys.executable).parent / "citykg"), "demo", "--port", str(port)],
                              env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 90
        while True:
            assert server.poll() is None, server.stdout.read() if server.stdout else "demo exited"
            try:
                if httpx.get(f"{url}/healthz", timeout=2).status_code == 200:
                    break
            except httpx.TransportError:
                pass
            assert time.monotonic() < deadline, "the demo server did not come up within 90 s"
            time.sleep(0.3)
        typename = httpx.post(f"{url}/graphql", json={"query": "{__typename}"}, timeout=10)
        assert typename.json() == {"data": {"__typename": "Query"}}
        sample = httpx.post(f"{url}/graphql", json={"query": SAMPLE_QUERY}, timeout=10).json()
        enterprises = sample["data"]["enterprises"]
        assert len(enterprises) == 5
        assert all(e["creditCode"] and len(e["creditCode"]) == 18 for e in enterprises)
        assert enterprises[0]["name"] == "清河市江岸精密机械有限公司"
    finally:
        server.send_signal(signal.SIGINT)
        try:
            server.wait(timeout=20)
        except subprocess.TimeoutExpired:
            server.kill()
            server.wait()
    assert (tmp_path / "data" / "store").is_dir()
