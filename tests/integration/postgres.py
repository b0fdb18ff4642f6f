"""A throwaway PostgreSQL server for tests: a cluster in a temporary folder, bound to 127.0.0.1 on a
free port, stopped and removed afterwards.

The server programs come from the Debian package ``postgresql`` (``/usr/lib/postgresql/<version>/bin``),
which ``tests/run.sh`` installs when it is missing. PostgreSQL refuses to run as root, so under root
the cluster belongs to, and runs as, the ``postgres`` OS user the package creates.
"""

from __future__ import annotations

import os
import pwd
import shutil
import socket
import subprocess
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import psycopg
from psycopg import sql

INSTALL_ROOT = Path("/usr/lib/postgresql")
SERVER_USER = "postgres"
HOW_TO_INSTALL = "run `bash tests/run.sh`, which installs it, or `apt-get install -y postgresql` as root"


class ServerUnavailable(Exception):
    """The test server cannot be started; the message says why and what to do."""


def server_programs() -> Path:
    """The newest installed version's bin folder (the one with initdb and pg_ctl)."""
    found = sorted((p for p in INSTALL_ROOT.glob("*/bin") if (p / "initdb").is_file() and (p / "pg_ctl").is_file()),
                   key=lambda p: int(p.parent.name) if p.parent.name.isdigit() else 0)
    if not found:
        raise ServerUnavailable(f"no PostgreSQL server under {INSTALL_ROOT}/<version>/bin: {HOW_TO_INSTALL}")
    return found[-1]


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def _run(command: list[str], folder: Path, what: str) -> None:
    # The cwd is a folder the server user can enter; the caller's may not be.
    done = subprocess.run(command, cwd=folder, capture_output=True, text=True, check=False)
    if done.returncode != 0:
        log = folder / "server.log"
        detail = (done.stderr or done.stdout).strip() + ("\n" + log.read_text()[-2000:] if log.is_file() else "")
        raise ServerUnavailable(f"{what} failed (exit {done.returncode}): {' '.join(command)}\n{detail}")


@contextmanager
def throwaway_server() -> Iterator[str]:
    """Start a cluster and yield the DSN of its ``postgres`` database (user postgres, no password)."""
    programs = server_programs()
    as_root = os.geteuid() == 0
    # Under root, /tmp: the server user must be able to reach the folder, which a root-only TMPDIR forbids.
    folder = Path(tempfile.mkdtemp(prefix="citykg-postgres-", dir="/tmp" if as_root else None))
    as_server_user: list[str] = []
    if as_root:
        try:
            account = pwd.getpwnam(SERVER_USER)
        except KeyError:
            shutil.rmtree(folder)
            raise ServerUnavailable(f"there is no '{SERVER_USER}' OS user to run the server as: "
                                    f"{HOW_TO_INSTALL}") from None
        os.chown(folder, account.pw_uid, account.pw_gid)
        as_server_user = ["runuser", "-u", SERVER_USER, "--"]
    data = folder / "data"
    started = False
    try:
        _run([*as_server_user, str(programs / "initdb"), "-D", str(data), "-U", "postgres", "-A", "trust",
              "-E", "UTF8", "--locale=C", "--no-sync"], folder, "initdb")
        for _attempt in range(3):  # another process may take the free port before the server binds it
            port = _free_port()
            options = (f"-c listen_addresses=127.0.0.1 -c port={port} -c unix_socket_directories={folder} "
                       "-c fsync=off -c synchronous_commit=off -c full_page_writes=off -c timezone=UTC")
            try:
                _run([*as_server_user, str(programs / "pg_ctl"), "-D", str(data), "-l", str(folder / "server.log"),
                      "-w", "-t", "60", "-o", options, "start"], folder, "pg_ctl start")
            except ServerUnavailable:
                if _attempt == 2:
                    raise
                continue
            started = True
            break
        yield f"host=127.0.0.1 port={port} user=postgres dbname=postgres"
    finally:
        if started:
            subprocess.run([*as_server_user, str(programs / "pg_ctl"), "-D", str(data), "-m", "immediate", "stop"],
                           cwd=folder, capture_output=True, check=False)
        shutil.rmtree(folder, ignore_errors=True)


def fresh_database(server_dsn: str, name: str, script: str, settings: dict[str, str] | None = None) -> str:
    """Drop and recreate database ``name``, run ``script`` in it (in a session with these server
    ``settings``: the server parses a whole script before running it, so a SET inside it comes too
    late for the literals after it), and return the database's DSN."""
    with psycopg.connect(server_dsn, autocommit=True) as admin:
        admin.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name)))
        admin.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
    dsn = psycopg.conninfo.make_conninfo(server_dsn, dbname=name)
    options = " ".join(f"-c {setting}={value}" for setting, value in (settings or {}).items())
    with psycopg.connect(dsn, autocommit=True, options=options) as connection:
        connection.execute(script.encode())  # bytes: a script read from a file is not a literal query
    return dsn
