"""``citykg validate`` re-runs the gate over committed data: exit 0 when it conforms, 1 with every
violation listed when a shape has become stricter since the data was committed, 2 on bad input."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

from kg_service.config import project_path
from tests.cli.test_help import run_citykg

DATASET = "market-regulation/enterprise-register"
STRICTER = """
citysh:TwoNamesShape a sh:NodeShape ;
    sh:targetClass city:Enterprise ;
    sh:property [ sh:path city:name ; sh:minCount 2 ; sh:message "an enterprise needs two names here" ] .
"""


def _env(tmp_path: Path, ontology: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("CITYKG_")}
    return {**env, "CITYKG_DATA_DIR": str(tmp_path / "data"), "CITYKG_ONTOLOGY_DIR": str(ontology)}


def test_exit_codes_follow_what_the_gate_finds(tmp_path: Path) -> None:
    ontology = tmp_path / "ontology"
    shutil.copytree(project_path("ontology"), ontology)
    env = _env(tmp_path, ontology)
    assert run_citykg("ingest", DATASET, env=env).returncode == 0

    done = run_citykg("validate", DATASET, env=env)
    assert done.returncode == 0, done.stdout + done.stderr
    assert f"{DATASET}: conforms" in done.stdout

    shapes = ontology / "shapes" / "industry.ttl"
    shapes.write_text(shapes.read_text(encoding="utf-8") + STRICTER, encoding="utf-8")
    done = run_citykg("validate", DATASET, env=env)
    assert done.returncode == 1, done.stdout + done.stderr
    listed = [line for line in done.stdout.splitlines() if "an enterprise needs two names here" in line]
    assert len(listed) == 8  # every committed enterprise, each by its IRI
    assert all("/enterprise/" in line for line in listed)

    done = run_citykg("validate", "no-such-department", env=env)
    assert done.returncode == 2 and "Traceback" not in done.stderr
