from __future__ import annotations

from pathlib import Path

import pytest

from kg_service.config import load_settings
from kg_service.errors import ConfigError


def test_defaults(tmp_path: Path) -> None:
    settings = load_settings()
    assert settings.store == "oxigraph"
    assert (settings.host, settings.port) == ("127.0.0.1", 8000)
    assert settings.data_dir == tmp_path / "xdg" / "citykg"  # XDG_DATA_HOME is set by the fixture
    assert settings.graphs.source("a/b") == "https://w3id.org/citykg/id/graph/source/a/b"


def test_precedence_flag_over_environment_over_file_over_default(tmp_path: Path,
                                                                 monkeypatch: pytest.MonkeyPatch) -> None:
    config = tmp_path / "citykg.toml"  # the fixture runs each test in tmp_path, so this is ./citykg.toml
    config.write_text('port = 7000\nhost = "0.0.0.0"\nlog_level = "debug"\nbase_iri = "https://city.example/"\n')
    monkeypatch.setenv("CITYKG_PORT", "7100")
    settings = load_settings(host="127.0.0.2")
    assert settings.port == 7100
    assert settings.host == "127.0.0.2"
    assert settings.log_level == "DEBUG"
    assert settings.graphs.inferred == "https://city.example/graph/inferred"
    assert load_settings(port=7200).port == 7200


def test_config_file_from_the_environment(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    config = tmp_path / "elsewhere.toml"
    config.write_text(f'data_dir = "{tmp_path / "d"}"\nin_memory = true\n')
    monkeypatch.setenv("CITYKG_CONFIG", str(config))
    settings = load_settings()
    assert settings.data_dir == tmp_path / "d" and settings.in_memory


@pytest.mark.parametrize(("field", "value"), [("base_iri", "not-an-iri"), ("base_iri", "https://x.org/no-slash"),
                                              ("port", 0), ("log_level", "LOUD")])
def test_invalid_values_name_the_setting(field: str, value: object) -> None:
    with pytest.raises(ConfigError, match=field):
        load_settings(**{field: value})


def test_unknown_keys_in_the_file_are_refused(tmp_path: Path) -> None:
    config = tmp_path / "c.toml"
    config.write_text("prot = 8000\n")
    with pytest.raises(ConfigError, match="prot"):
        load_settings(config)


def test_data_dir_is_created_on_demand(tmp_path: Path) -> None:
    settings = load_settings(data_dir=tmp_path / "x" / "y")
    assert not settings.data_dir.exists()
    assert settings.ensure_data_dir().is_dir()
