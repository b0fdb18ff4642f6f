"""`citykg ontology check` passes on the project's ontology and fails, naming the class, on a broken copy."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

from kg_service.config import project_path
from tests.cli.test_help import run_citykg


def _env(ontology_dir: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("CITYKG_")}
    env["CITYKG_ONTOLOGY_DIR"] = str(ontology_dir)
    return env


def test_the_ontology_passes_every_check() -> None:
    done = run_citykg("ontology", "check", env=_env(project_path("ontology")))
    assert done.returncode == 0, done.stdout + done.stderr
    for check in ("Turtle round trip", "HermiT", "meta-shapes"):
        assert f"passed {check}" in done.stdout


def test_a_broken_ontology_fails_and_names_the_problem(tmp_path: Path) -> None:
    copy = tmp_path / "ontology"
    shutil.copytree(project_path("ontology"), copy)
    with (copy / "public-services.ttl").open("a", encoding="utf-8") as module:
        module.write("\ncity:Hospital rdfs:subClassOf city:School .\n")  # disjoint with HealthFacility
    done = run_citykg("ontology", "check", env=_env(copy))
    assert done.returncode == 1, done.stdout + done.stderr
    assert "FAILED HermiT" in done.stdout
    assert "unsatisfiable class https://w3id.org/citykg/ontology#Hospital" in done.stdout
