"""``bench/reasoning_change.py --quick`` corrects the inferred graph after a 10-row change and finds
it equal to reasoning over everything (it exits 1 otherwise), and ``bench/ingest_command.py`` times
the whole `citykg ingest` command on the city it kept, with and without what jobs keep beside the
store: each run changes 10 entities and reasons incrementally (it exits 1 otherwise). Timing is not
checked here."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

from tests.conftest import PROJECT_ROOT

READINGS = "water/flow-readings"


def test_quick_runs_correct_the_inferred_graph_and_time_the_command(tmp_path: Path) -> None:
    bench = PROJECT_ROOT / "bench"
    done = subprocess.run([sys.executable, str(bench / "reasoning_change.py"), "--quick", "--repeat", "1",
                           "--city", str(tmp_path), "--dataset", READINGS], capture_output=True, text=True, timeout=900)
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    assert re.search(r"repetition 1: 10 entities changed; .* inferred graphs equal: True", done.stdout), done.stdout

    done = subprocess.run([sys.executable, str(bench / "ingest_command.py"), "--city", str(tmp_path), "--repeat", "1"],
                          capture_output=True, text=True, timeout=900)
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    for variant in ("with what jobs keep", "without it"):
        assert re.search(rf"repetition 1, {variant}: [\d.]+ s, of which the job and reasoning [\d.]+ s "
                         rf"\(exit 0, 10 entities changed, reasoning incremental\)", done.stdout), done.stdout
    assert re.search(rf"median of 1: `citykg ingest {READINGS}` [\d.]+ s with what jobs keep, [\d.]+ s without it",
                     done.stdout), done.stdout
