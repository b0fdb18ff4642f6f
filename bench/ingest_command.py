"""The whole `citykg ingest DATASET` command after a 10-row change, as a user runs it: a fresh
process that starts, opens the store, lifts, validates, commits and corrects the inferred graph.

Side by side in the same run, the same command without what jobs keep beside the store (the row
memo, the digests of the last job, the rules' working store): it then lifts every row, reads every
digest from the store and fills the rules' working store from it, as the job did before they were
kept (and builds them again for the next run).

For each run it also prints the job's own stages (lift, validate, commit) and reasoning, as the
command's JSON report times them: the rest is the process starting, importing and loading the
ontology, the shapes and the rules.

The city is one kept by ``reasoning_change.py --city DIR`` (sources in DIR/city, store in DIR/data);
the change is made to its sources in place, other rows in each repetition.
Run: python bench/ingest_command.py --city DIR [--dataset water/flow-readings] [--repeat 3]
Exits 1 when a run failed, did not reason incrementally, or changed another number of entities.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from ingest import CHANGED_ROWS, change_rows  # sibling scripts: bench/ is on the path
from reasoning_change import ENTERPRISES, SOURCES, change_enterprises

KEPT = ("lift-memo", "digests", "rules-working")  # under the data directory


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--city", type=Path, required=True, help="a city kept by reasoning_change.py --city")
    parser.add_argument("--dataset", choices=sorted(SOURCES), default="water/flow-readings")
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    env = {**os.environ, "CITYKG_DATA_DIR": str(args.city / "data"), "CITYKG_MAPPINGS_DIR": str(args.city / "city")}
    timings: dict[str, list[float]] = {"with what jobs keep": [], "without it": []}
    staged: dict[str, list[float]] = {variant: [] for variant in timings}  # the job and reasoning, as reported
    failed = False
    repetition = 20  # other rows than reasoning_change.py's (a changed row changes again: 1 is added to it)
    with tempfile.TemporaryDirectory() as scratch:
        report_path = Path(scratch) / "report.json"
        for number in range(args.repeat):
            for variant, seconds in timings.items():
                repetition += 1
                if variant == "without it":
                    for folder in KEPT:
                        shutil.rmtree(args.city / "data" / folder, ignore_errors=True)
                source = args.city / "city" / SOURCES[args.dataset]
                if args.dataset == ENTERPRISES:
                    change_enterprises(source, repetition)
                else:
                    change_rows(source, CHANGED_ROWS, repetition)
                started = time.perf_counter()
                done = subprocess.run([sys.executable, "-m", "kg_service", "ingest", args.dataset,
                                       "--report", str(report_path)], env=env, capture_output=True, text=True)
                seconds.append(time.perf_counter() - started)
                report = json.loads(report_path.read_text(encoding="utf-8")) if done.returncode == 0 else {}
                job = report.get("datasets", {}).get(args.dataset, {})
                ok = report.get("reasoning") == "incremental" and job.get("entities_changed") == CHANGED_ROWS
                failed |= not ok
                stages = report.get("seconds", {})
                staged[variant].append(sum(s for stage, s in stages.items()
                                           if stage.startswith(f"{args.dataset}:") or stage == "reasoning"))
                print(f"repetition {number + 1}, {variant}: {seconds[-1]:.2f} s, of which the job and reasoning "
                      f"{staged[variant][-1]:.2f} s (exit {done.returncode}, "
                      f"{job.get('entities_changed')} entities changed, reasoning {report.get('reasoning')})"
                      + ("" if ok else f"\n{done.stderr[-2000:]}"), flush=True)
    kept, without = (statistics.median(values) for values in timings.values())
    kept_job, without_job = (statistics.median(values) for values in staged.values())
    print(f"median of {args.repeat}: `citykg ingest {args.dataset}` {kept:.2f} s with what jobs keep, "
          f"{without:.2f} s without it: {without / kept:.1f}x; the job and reasoning {kept_job:.2f} s and "
          f"{without_job:.2f} s: {without_job / kept_job:.1f}x")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
