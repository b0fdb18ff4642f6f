"""Reasoning after a small change: the inferred graph corrected where the change reaches
(``kg_service.reason.incremental``) against reasoning over the whole city, side by side in the same run.

A generated city of about ``--rows`` source rows is ingested once into a store on disk. Then, per
repetition and per changed dataset, 10 rows change (other rows each repetition):

- the enterprise register: 8 registered capitals, one enterprise deregistered and one registered
  (OWL 2 RL followed from the change; no rule reads these);
- the water company's flow readings: 10 readings get a new value (as in ``bench/ingest.py``), which
  the ontology's rules read, so they run again.

The dataset is ingested again
(``kg_service.pipeline.ingest``, its stages timed), with reasoning done incrementally; then reasoning
over everything (``kg_service.pipeline.reason``) runs on the same data, and the two inferred graphs
must be equal (the script exits 1 when they are not, or when reasoning was not incremental). It
prints, per repetition, the job's stages and both reasonings, then the medians and the ratio
whole / incremental.

Ingesting is slow (minutes per 100,000 rows): ``--city DIR`` keeps the city there (``DIR/city``
sources, ``DIR/data`` store) and a later run reuses it. The change is made to the sources in place.
Run: python bench/reasoning_change.py [--rows 100000] [--repeat 3] [--city DIR] [--dataset NAME] [--quick]
"""

from __future__ import annotations

import argparse
import csv
import io
import statistics
import sys
import tempfile
import time
from pathlib import Path

from ingest import CHANGED_ROWS, FLOW_READINGS, change_rows  # a sibling script: bench/ is on the path

from kg_service import pipeline
from kg_service.config import Settings, load_settings, project_path
from kg_service.generate import generate_city
from kg_service.store import GraphStore, open_store

ENTERPRISES = "market-regulation/enterprise-register"
SOURCES = {ENTERPRISES: Path("market-regulation") / "sample" / "enterprise-register.csv",
           FLOW_READINGS: Path("water") / "sample" / "flow-readings.csv"}
ENCODING = "gb18030"


def change_enterprises(path: Path, repetition: int) -> None:
    """8 capitals changed, one row removed and one added, at rows that move with ``repetition``."""
    rows = list(csv.reader(io.StringIO(path.read_bytes().decode(ENCODING))))
    header, body = rows[0], rows[1:]
    capital, code, name = (header.index(h) for h in ("注册资本（万元）", "统一社会信用代码", "企业名称"))
    step = max(1, len(body) // 10)
    picks = [(i * step + 7 * repetition) % len(body) for i in range(10)]
    for index in picks[:8]:
        body[index][capital] = str(round(float(body[index][capital] or 0) + 1, 1))
    gone = body.pop(picks[8])
    added = list(body[picks[9] % len(body)])
    added[code], added[name] = f"{gone[code][:-4]}R{repetition:03d}"[:18], added[name] + f"第{repetition + 1}分公司"
    body.append(added)
    out = io.StringIO()
    csv.writer(out, lineterminator="\n").writerows([header, *body])
    path.write_bytes(out.getvalue().encode(ENCODING))


def inferred(store: GraphStore, settings: Settings) -> set[tuple[str | None, ...]]:
    return set(store.select_text(f"SELECT ?s ?p ?o WHERE {{ GRAPH <{settings.graphs.inferred}> {{ ?s ?p ?o }} }}"))


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rows", type=int, default=100_000, help="source rows of the generated city")
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--city", type=Path, help="where the city is kept between runs")
    parser.add_argument("--dataset", choices=sorted(SOURCES), action="append",
                        help="the dataset to change (default: both)")
    parser.add_argument("--quick", action="store_true", help="a city of 3,000 rows, 2 repetitions")
    args = parser.parse_args()
    if args.quick:
        args.rows, args.repeat = 3000, min(args.repeat, 2)
    with tempfile.TemporaryDirectory() as scratch:
        folder = args.city or Path(scratch)
        settings = load_settings(data_dir=folder / "data", mappings_dir=folder / "city", in_memory=False)
        if not (folder / "city" / SOURCES[ENTERPRISES]).is_file():
            generate_city(project_path("mappings"), folder / "city", args.rows, args.seed)
        with open_store(settings) as store:
            if not store.count(settings.graphs.inferred):
                started = time.perf_counter()
                pipeline.ingest(settings, store)
                print(f"city of {args.rows:,} rows ingested in {time.perf_counter() - started:.0f} s")
            changed = args.dataset or list(SOURCES)
            failed = [run(settings, store, folder / "city", dataset, args.repeat) for dataset in changed]
            return 1 if any(failed) else 0


def run(settings: Settings, store: GraphStore, sources: Path, dataset: str, repeat: int) -> bool:
    """The change of ``dataset``, ``repeat`` times; True when a correction was wrong or not made."""
    print(f"\n{CHANGED_ROWS}-row changes of {dataset} ({store.count(settings.graphs.source(dataset)):,} triples; "
          f"inferred graph: {store.count(settings.graphs.inferred):,} triples)")
    incremental_s: list[float] = []
    whole_s: list[float] = []
    job_s: list[float] = []
    failed = False
    for repetition in range(repeat):
        if dataset == ENTERPRISES:
            change_enterprises(sources / SOURCES[dataset], repetition)
        else:
            change_rows(sources / SOURCES[dataset], CHANGED_ROWS, repetition)
        report = pipeline.ingest(settings, store, [dataset])
        job = sum(seconds for stage, seconds in report.seconds.items() if stage.startswith(dataset))
        corrected = inferred(store, settings)
        started = time.perf_counter()
        pipeline.reason(settings, store)
        whole = time.perf_counter() - started
        whole_graph = inferred(store, settings)
        same = corrected == whole_graph
        if not same:
            print(f"  only after reasoning over everything: {sorted(whole_graph - corrected)[:5]}")
            print(f"  only after the correction: {sorted(corrected - whole_graph)[:5]}")
        (job_report,) = report.datasets
        print(f"repetition {repetition + 1}: {job_report.entities_changed} entities changed; job (lift, validate, "
              f"commit) {job:.2f} s; reasoning {report.reasoning} {report.seconds['reasoning']:.2f} s; "
              f"over everything {whole:.2f} s; inferred graphs equal: {same}")
        failed |= not same or report.reasoning != "incremental"
        incremental_s.append(report.seconds["reasoning"])
        whole_s.append(whole)
        job_s.append(job)
    incremental, whole = statistics.median(incremental_s), statistics.median(whole_s)
    print(f"median: job {statistics.median(job_s):.2f} s, reasoning incremental {incremental:.2f} s, "
          f"over everything {whole:.2f} s; whole / incremental {whole / incremental:.1f}x; "
          f"job + incremental reasoning {statistics.median(job_s) + incremental:.2f} s")
    return failed


if __name__ == "__main__":
    sys.exit(main())
