"""Shared fixtures: every test runs with a clean CityKG environment and its own data directory."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest

from kg_service.config import Settings, load_settings

PROJECT_ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture(autouse=True)
def _hermetic_environment(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Iterator[None]:
    """No CITYKG_* variable or citykg.toml from the developer's shell leaks into a test."""
    for name in list(os.environ):
        if name.startswith("CITYKG_"):
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
