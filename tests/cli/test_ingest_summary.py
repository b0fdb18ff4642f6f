"""``citykg ingest`` prints a summary: per dataset, the first quarantined, skipped and warned records
and how many more there are; the JSON report (``--report``) holds every one of them."""

from __future__ import annotations

import json
import os
import re
import shutil
from pathlib import Path

from kg_service.cli.ingest import SHOWN_PER_KIND
from kg_service.config import project_path
from kg_service.generate import generate_source
from tests.cli.test_help import run_citykg

READINGS = "water/flow-readings"


def test_the_summary_lists_the_first_records_of_each_kind_and_counts_the_rest(tmp_path: Path) -> None:
    mappings = tmp_path / "mappings"
    shutil.copytree(project_path("mappings") / "water", mappings / "water")
    generate_source(READINGS, mappings / "water" / "sample", 3000, 3)
    env = {**{k: v for k, v in os.environ.items() if not k.startswith("CITYKG_")},
           "CITYKG_DATA_DIR": str(tmp_path / "data"), "CITYKG_MAPPINGS_DIR": str(mappings)}
    done = run_citykg("ingest", READINGS, "--report", str(tmp_path / "report.json"), env=env)
    assert done.returncode == 0, done.stdout + done.stderr
    job = json.loads((tmp_path / "report.json").read_text(encoding="utf-8"))["datasets"][READINGS]
    assert len(job["quarantine_reasons"]) == job["quarantined"] > SHOWN_PER_KIND
    assert len(job["skip_reasons"]) == job["skipped"] > SHOWN_PER_KIND
    for kind, reasons in (("quarantined", job["quarantine_reasons"]), ("skipped", job["skip_reasons"])):
        lines = [line for line in done.stdout.splitlines() if line.startswith(f"{kind} {READINGS}: ")]
        listed, (rest,) = lines[:-1], lines[-1:]
        assert listed == [f"{kind} {READINGS}: {reason}" for reason in reasons[:SHOWN_PER_KIND]]
        more = re.search(r"\.\.\. and ([\d,]+) more \(([\d,]+) in all; the JSON report", rest)
        assert more, rest
        assert (int(more[1].replace(",", "")), int(more[2].replace(",", ""))) == \
            (len(reasons) - SHOWN_PER_KIND, len(reasons))
    # the report times each stage as the progress bars name them
    seconds = json.loads((tmp_path / "report.json").read_text(encoding="utf-8"))["seconds"]
    assert list(seconds) == [f"{READINGS}: lift", f"{READINGS}: validate", f"{READINGS}: commit", "reasoning"]
    assert all(isinstance(value, float) and value >= 0 for value in seconds.values())
    assert f"took {READINGS}: lift {seconds[f'{READINGS}: lift']:.2f} s, " in done.stdout
    assert f", reasoning {seconds['reasoning']:.2f} s" in done.stdout
