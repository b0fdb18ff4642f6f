"""Bad input gets one clear line naming what is wrong, exit code 2, and no traceback unless --debug."""

from __future__ import annotations

import os
import stat
from pathlib import Path

import pytest

from tests.cli.test_help import run_citykg


def _env(**values: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("CITYKG_")}
    env.update(values)
    return env


def _assert_one_line_error(done: object, *fragments: str) -> None:
    assert done.returncode == 2, (done.stdout, done.stderr)  # type: ignore[attr-defined]
    stderr = done.stderr.strip()  # type: ignore[attr-defined]
    assert "Traceback" not in stderr
    # Progress bars may come first; the error is one line, and the last.
    errors = [line for line in stderr.splitlines() if line.startswith("error: ")]
    assert len(errors) == 1 and stderr.splitlines()[-1] == errors[0], stderr
    for fragment in fragments:
        assert fragment in errors[0]


def test_a_missing_data_directory_is_created(tmp_path: Path) -> None:
    data_dir = tmp_path / "not" / "yet" / "there"
    done = run_citykg("sparql", "ASK { ?s ?p ?o }", env=_env(CITYKG_DATA_DIR=str(data_dir)))
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "false"
    assert (data_dir / "store").is_dir()


def test_a_data_directory_that_cannot_be_created_is_refused(tmp_path: Path) -> None:
    blocker = tmp_path / "a-file"
    blocker.write_text("not a folder")
    done = run_citykg("sparql", "ASK {}", env=_env(CITYKG_DATA_DIR=str(blocker / "data")))
    _assert_one_line_error(done, str(blocker / "data"), "cannot create the data directory", "CITYKG_DATA_DIR")


def _unwritable_directory(tmp_path: Path) -> Path:
    """A folder this process cannot write: permission bits for a normal user; sysfs for root."""
    if os.geteuid() != 0:
        folder = tmp_path / "read-only"
        folder.mkdir()
        folder.chmod(stat.S_IRUSR | stat.S_IXUSR)
        return folder
    return Path("/sys/kernel")


def test_an_unwritable_data_directory_is_refused(tmp_path: Path) -> None:
    folder = _unwritable_directory(tmp_path)
    done = run_citykg("sparql", "ASK {}", env=_env(CITYKG_DATA_DIR=str(folder)))
    _assert_one_line_error(done, str(folder), "not writable")


def test_an_unknown_backend_lists_the_known_ones(tmp_path: Path) -> None:
    done = run_citykg("sparql", "ASK {}", env=_env(CITYKG_DATA_DIR=str(tmp_path), CITYKG_STORE="graphdb"))
    _assert_one_line_error(done, "unknown store backend 'graphdb'", "known backends: neo4j, oxigraph")


def test_debug_shows_the_traceback(tmp_path: Path) -> None:
    done = run_citykg("--debug", "sparql", "ASK {}", env=_env(CITYKG_DATA_DIR=str(tmp_path), CITYKG_STORE="nope"))
    assert done.returncode != 0
    assert "Traceback" in done.stderr and "UnknownBackendError" in done.stderr


def test_a_malformed_settings_file_names_the_file(tmp_path: Path) -> None:
    config = tmp_path / "citykg.toml"
    config.write_text('port = "eighty"\n')
    done = run_citykg("--config", str(config), "sparql", "ASK {}", env=_env(CITYKG_DATA_DIR=str(tmp_path)))
    _assert_one_line_error(done, str(config), "port")
    config.write_text("port = \n")
    done = run_citykg("--config", str(config), "sparql", "ASK {}", env=_env(CITYKG_DATA_DIR=str(tmp_path)))
    _assert_one_line_error(done, str(config), "not valid TOML")


def test_an_invalid_port_in_the_environment(tmp_path: Path) -> None:
    done = run_citykg("sparql", "ASK {}", env=_env(CITYKG_DATA_DIR=str(tmp_path), CITYKG_PORT="99999"))
    _assert_one_line_error(done, "CITYKG_PORT", "port")


@pytest.mark.parametrize("update", ["DROP ALL", "INSERT DATA { <urn:a> <urn:b> <urn:c> }"])
def test_sparql_refuses_updates(tmp_path: Path, update: str) -> None:
    done = run_citykg("sparql", update, env=_env(CITYKG_DATA_DIR=str(tmp_path)))
    _assert_one_line_error(done, "invalid SPARQL", "only read queries")


def test_an_unknown_dataset_lists_the_known_ones(tmp_path: Path) -> None:
    done = run_citykg("ingest", "water-affairs", env=_env(CITYKG_DATA_DIR=str(tmp_path)))
    _assert_one_line_error(done, "no department or dataset named 'water-affairs'", "market-regulation")


def test_a_store_held_by_another_process_is_named(tmp_path: Path) -> None:
    from kg_service.config import load_settings
    from kg_service.store import open_store

    with open_store(load_settings(data_dir=tmp_path)):
        done = run_citykg("sparql", "ASK {}", env=_env(CITYKG_DATA_DIR=str(tmp_path)))
    _assert_one_line_error(done, str(tmp_path / "store"), "open in another process")


def test_a_missing_mapping_source_names_the_path(tmp_path: Path) -> None:
    department = tmp_path / "mappings" / "health"
    department.mkdir(parents=True)
    (department / "hospitals.yml").write_text(
        'mappings:\n  h:\n    sources:\n      - ["missing.csv~csv"]\n    s: "h/$(code)"\n    po:\n'
        '      - ["http://example.org/name", "$(name)"]\n', encoding="utf-8")
    done = run_citykg("ingest", "health", env=_env(CITYKG_DATA_DIR=str(tmp_path / "data"),
                                                   CITYKG_MAPPINGS_DIR=str(tmp_path / "mappings")))
    _assert_one_line_error(done, str(department / "missing.csv"), "cannot open the source")
