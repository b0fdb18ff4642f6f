"""A real CityKG server for tests that speak HTTP to it: ``citykg serve`` or ``citykg demo`` in a
process of its own, bound to 127.0.0.1 on a free port, over a data directory of the test's, stopped
with SIGINT (as Ctrl-C stops it) afterwards."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def _tail(log: Path, characters: int = 4000) -> str:
    return log.read_text(errors="replace")[-characters:] if log.is_file() else "(no output)"


@contextmanager
def citykg_server(command: str, data_dir: Path, *, startup_timeout: float = 90,
                  settings: dict[str, str] | None = None) -> Iterator[str]:
    """Run ``citykg <command> --port PORT`` with ``CITYKG_DATA_DIR=data_dir`` and no other CITYKG_*
    setting than ``settings`` (environment variables); yield its base URL (``http://127.0.0.1:PORT``)
    once ``/healthz`` answers 200.

    The server's output goes to ``server.log`` beside ``data_dir`` (a pipe nobody reads would stall a
    server that logs every request); its tail is in the failure message when it dies or never answers.
    """
    port = free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith("CITYKG_")}
    env["CITYKG_DATA_DIR"] = str(data_dir)
    env |= settings or {}
    log = data_dir.parent / "server.log"
    with log.open("w") as output:
        server = subprocess.Popen([str(Path(sys.executable).parent / "citykg"), command, "--port", str(port)],
                                  env=env, stdout=output, stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + startup_timeout
        while True:
            assert server.poll() is None, f"citykg {command} exited with {server.returncode}:\n{_tail(log)}"
            try:
                if httpx.get(f"{url}/healthz", timeout=2).status_code == 200:
                    break
            except httpx.TransportError:
                pass
            assert time.monotonic() < deadline, \
                f"citykg {command} did not answer /healthz within {startup_timeout:.0f} s:\n{_tail(log)}"
            time.sleep(0.3)
        yield url
    finally:
        server.send_signal(signal.SIGINT)
        try:
            server.wait(timeout=20)
        except subprocess.TimeoutExpired:
            server.kill()
            server.wait()
