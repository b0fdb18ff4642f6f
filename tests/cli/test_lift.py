"""``citykg lift``: a mapping's output on stdout or in a file, failed records listed with their
place, and the exit code saying whether every record made it."""

from __future__ import annotations

from pathlib import Path

from rdflib import Graph, URIRef

from tests.cli.test_help import run_citykg
from tests.unit.test_tabular import MESSY_ROWS, _write


def test_lift_writes_n_triples_and_lists_failed_records(tmp_path: Path) -> None:
    _write(tmp_path, MESSY_ROWS)
    target = tmp_path / "out.nt"
    done = run_citykg("lift", str(tmp_path / "mapping.ttl"), "-o", str(target), "--base-iri", "https://city.example/id/")
    assert done.returncode == 1, done.stderr  # two rows failed
    assert "Traceback" not in done.stderr
    assert f"{tmp_path / 'sites.csv'}:6: failed: " in done.stderr
    assert f"{tmp_path / 'sites.csv'}:5: skipped: no subject" in done.stderr
    assert "9 records read: 6 lifted, 2 failed, 1 skipped" in done.stderr
    lifted = Graph().parse(target, format="nt")
    names = {str(o) for o in lifted.objects(predicate=URIRef("https://city.example/ontology#name"))}
    assert {"清河 一中", "Ünïcode ☃", "Water Co"} <= names


def test_lift_of_a_dataset_id_goes_to_stdout_and_exits_0() -> None:
    done = run_citykg("lift", "market-regulation/enterprise-register", "--quiet")
    assert done.returncode == 0, done.stderr
    assert len(Graph().parse(data=done.stdout, format="nt")) > 10


def test_lift_of_a_missing_mapping_is_one_clear_error(tmp_path: Path) -> None:
    done = run_citykg("lift", str(tmp_path / "nope.ttl"))
    assert done.returncode == 2
    assert "no such mapping file" in done.stderr and "Traceback" not in done.stderr
