"""``bench/ingest.py --quick`` runs end to end: every stage of every dataset, the incremental case and
the reasoning comparison are printed with numbers, nothing is stopped, and every dataset row it
prints balances its books (read = committed + quarantined + skipped). Timing is not checked here."""

from __future__ import annotations

import re
import subprocess
import sys

from tests.conftest import PROJECT_ROOT

DATASETS = [
    "civil-affairs/admin-areas", "education/schools", "health/facilities", "market-regulation/enterprise-register",
    "planning/parcels", "planning/plan-indicators", "water/flow-readings", "water/network",
]
NUMBER = r"[\d,]+(?:\.\d+)?"
STAGE_ROW = re.compile(rf"^\| (.+?) \| ({NUMBER}) \| ({NUMBER}) \|", re.MULTILINE)
BOOKS_ROW = re.compile(r"^\| (\S+)(?: \([^|]*\))? \| ([\d,]+) \| ([\d,]+) \| ([\d,]+) \| ([\d,]+) \| [\d,]+ "
                       r"\| (?:[\d,]+|n/a) \| (yes|NO) \|$", re.MULTILINE)


def _number(text: str) -> int:
    return int(text.replace(",", ""))


def test_quick_run_prints_every_stage_and_balanced_books() -> None:
    done = subprocess.run([sys.executable, str(PROJECT_ROOT / "bench" / "ingest.py"), "--quick"],
                          capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stderr[-3000:]
    out = done.stdout
    assert "(stopped" not in out, out

    measured = {name for name, _, _ in STAGE_ROW.findall(out)}
    expected = {f"{dataset}: {stage}" for dataset in DATASETS for stage in ("lift", "validate", "commit")}
    expected |= {"reasoning", "first ingest: water/flow-readings: validate", "first ingest: whole job",
                 "10-row change: whole job (median of 1)",
                 "kg_service.reason.entail, no rules (the pipeline's OWL 2 RL: forward chaining) (median of 1)",
                 "kg_service.reason.infer (reasonable + property chains: the general path) (median of 1)",
                 "owlrl DeductiveClosure(OWLRL_Semantics).expand (median of 1)"}
    assert expected <= measured, sorted(expected - measured)
    assert re.search(rf"^\| pyshacl\.validate, whole dataset graph \+ ontology \([\d,]+ triples\) \| {NUMBER} \|",
                     out, re.MULTILINE), out

    books = BOOKS_ROW.findall(out)
    city = [row for row in books if row[0] in DATASETS]
    assert {row[0] for row in city} == set(DATASETS), out
    assert len(books) >= len(DATASETS) + 2, out  # the city's datasets, the first ingest and one change
    for dataset, read, committed, quarantined, skipped, balanced in books:
        assert _number(read) == _number(committed) + _number(quarantined) + _number(skipped), dataset
        assert balanced == "yes", dataset

    assert re.search(rf"Ratio pyshacl over the whole graph / the 10-row change job: {NUMBER} ", out), out
    assert re.search(rf"Ratio owlrl / CityKG's OWL 2 RL: time {NUMBER} ", out), out
