"""The throwaway test server: a machine without PostgreSQL gets a message saying what to do."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.integration import postgres


def test_missing_server_programs_say_how_to_install_them(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    (tmp_path / "15" / "bin").mkdir(parents=True)  # a version folder without initdb is not a server
    monkeypatch.setattr(postgres, "INSTALL_ROOT", tmp_path)
    with pytest.raises(postgres.ServerUnavailable) as caught, postgres.throwaway_server():
        pass
    assert "bash tests/run.sh" in str(caught.value)
    assert "apt-get install -y postgresql" in str(caught.value)


def test_the_newest_installed_version_is_used(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    for version in ("9", "15", "13"):
        for program in ("initdb", "pg_ctl"):
            (tmp_path / version / "bin").mkdir(parents=True, exist_ok=True)
            (tmp_path / version / "bin" / program).touch()
    monkeypatch.setattr(postgres, "INSTALL_ROOT", tmp_path)
    assert postgres.server_programs() == tmp_path / "15" / "bin"
