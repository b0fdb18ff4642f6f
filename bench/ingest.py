"""Ingesting generated cities: time and peak memory per stage, the incremental case, and the
alternatives side by side in the same run.

For each scale (a city of about N source rows from ``citykg generate``) the script runs:

1. the city's ingest through the pipeline (``kg_service.pipeline.ingest``, store on disk), timing
   every stage the pipeline reports: lift, validate and commit per dataset, then reasoning;
2. the incremental case: N rows of the water company's flow readings ingested alone, then 10 rows
   of the CSV changed (a reading's value) and the dataset ingested again, ``--repeat`` times with
   other rows; it prints the job's time and how many focus nodes the gate validated, against
   ``pyshacl.validate`` over the whole dataset graph and the ontology (the naive way), same run;
3. reasoning on the same triples (``--reason-triples``, taken from the city's committed data):
   the pipeline's step, ``kg_service.reason.infer`` (reasonable + property chains), against owlrl's
   OWL-RL closure, alternating.

Each step runs in a fresh process that reports when each stage starts and ends. A stage longer than
``--timeout`` seconds, or a process above ``--max-memory-gb``, is stopped and printed as
"> N s (stopped)"; the city's ingest then goes on with the datasets after the stopped one. Peak
memory is the process's resident set, native memory included (Oxigraph, reasonable): the kernel's
high-water mark, reset at each stage's start, or VmRSS sampled every 10 ms where that reset is not
allowed; the output says which. Everything is written under a temporary folder, removed at the end.
Run: python bench/ingest.py [--rows 100000 1000000] [--repeat 3] [--timeout 1800] [--quick]
"""

from __future__ import annotations

import argparse
import csv
import datetime
import json
import os
import platform
import queue
import signal
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, contextmanager
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from pathlib import Path
from types import FrameType
from typing import IO, Any

FLOW_READINGS = "water/flow-readings"
CHANGED_ROWS = 10
CHEAP_SECONDS = 60.0  # a measurement is repeated only when one run of it takes less than this
FLOW_UNITS = {"m3/d", "立方米/日", "万m3/d"}  # the units mappings/water/flow-readings.rml.ttl converts
STAGES = ("lift", "validate", "commit")


# --- the measuring side: one process per step ----------------------------------------------------

def _status_kb(field_name: str) -> int:
    with open("/proc/self/status", encoding="ascii") as status:
        for line in status:
            if line.startswith(field_name + ":"):
                return int(line.split()[1])
    return 0


def _reset_peak() -> bool:
    """Reset the kernel's high-water mark of this process's resident set (Linux >= 4.0)."""
    try:
        with open("/proc/self/clear_refs", "w", encoding="ascii") as clear_refs:
            clear_refs.write("5")
        return True
    except OSError:
        return False


class Meter:
    """Reports each span (a stage) to the parent as JSON lines: its start, then its time and peak.

    Peak memory comes from the kernel's VmHWM, reset when a span starts; spans nest, so before a reset
    the mark so far is credited to every open span. Where the reset is refused, a thread samples
    VmRSS every 10 ms instead."""

    def __init__(self, out: IO[str]) -> None:
        self._out = out
        self._open: list[list[int]] = []  # each open span's peak so far (kB), innermost last
        self._lock = threading.Lock()
        self.exact = _reset_peak()
        if not self.exact:
            threading.Thread(target=self._sample, daemon=True).start()
        self.emit("meter", measure="VmHWM, reset per stage" if self.exact else "VmRSS sampled every 10 ms")

    def emit(self, event: str, **fields: Any) -> None:
        self._out.write(json.dumps({"event": event, **fields}, ensure_ascii=False) + "\n")
        self._out.flush()

    def _credit(self, kilobytes: int) -> None:
        with self._lock:
            for peak in self._open:
                peak[0] = max(peak[0], kilobytes)

    def _sample(self) -> None:
        while True:
            self._credit(_status_kb("VmRSS"))
            time.sleep(0.01)

    @contextmanager
    def span(self, name: str, capped: bool = True) -> Iterator[dict[str, Any]]:
        """Time and measure the ``with`` body; values put in the yielded dict go out with its end.
        ``capped`` spans are stopped after --timeout; an uncapped one (a whole job) only wraps others."""
        self.emit("start", stage=name, capped=capped)
        if self.exact:
            self._credit(_status_kb("VmHWM"))
            _reset_peak()
        peak = [_status_kb("VmRSS")]
        with self._lock:
            self._open.append(peak)
        info: dict[str, Any] = {}
        started = time.perf_counter()
        yield info
        seconds = time.perf_counter() - started
        if self.exact:
            self._credit(_status_kb("VmHWM"))
        with self._lock:  # by identity: two open spans may hold equal peaks
            self._open = [other for other in self._open if other is not peak]
        self._credit(peak[0])
        self.emit("end", stage=name, seconds=seconds, peak_mb=peak[0] / 1024, **info)


class RecordingProgress:
    """The pipeline's Progress: every stage it reports becomes a measured span.

    When reasoning starts, the datasets' reports are sent ahead, so that a reasoning step stopped for
    time or memory does not take the jobs' counts with it. ingest() returns them only after
    reasoning; they are read from its frame, where they are complete by then."""

    def __init__(self, meter: Meter) -> None:
        self._meter = meter

    def stage(self, description: str, total: int | None = None) -> AbstractContextManager[Callable[[int], None]]:
        return self._stage(description)

    @contextmanager
    def _stage(self, description: str) -> Iterator[Callable[[int], None]]:
        if description == "reasoning":
            for report in _reports_so_far():
                emit_dataset(self._meter, report)
        with self._meter.span(description):
            yield lambda steps: None


def _reports_so_far() -> list[Any]:
    frame: FrameType | None = sys._getframe()
    while frame is not None:
        report = frame.f_locals.get("report") if frame.f_code.co_name == "ingest" else None
        if report is not None and hasattr(report, "datasets"):
            return list(report.datasets)
        frame = frame.f_back
    return []


def emit_dataset(meter: Meter, report: Any) -> None:
    meter.emit("dataset", dataset=report.dataset, read=report.read, committed=report.committed,
               quarantined=report.quarantined, skipped=report.skipped, triples=report.triples,
               focus_nodes=getattr(report, "focus_nodes_validated", None))


def work_ingest(meter: Meter, data_dir: str, mappings_dir: str, datasets: list[str] | None = None,
                books: list[str] | None = None, reason_only: bool = False) -> None:
    """Ingest ``datasets`` (all when None); first, the counts of ``books`` (datasets a stopped process
    committed) from the provenance graph, since that process could not report them."""
    from kg_service import pipeline
    from kg_service.config import load_settings
    from kg_service.lift import find_datasets
    from kg_service.store import open_store

    settings = load_settings(data_dir=data_dir, mappings_dir=mappings_dir, in_memory=False)
    with open_store(settings) as store:
        for dataset in books or []:
            meter.emit("dataset", **_books_from_provenance(settings, store, dataset))
        if reason_only:
            vocabulary = pipeline.Vocabulary.load(settings)
            with meter.span("reasoning") as info:
                info["inferred"] = pipeline.reason(settings, store, vocabulary)
            return
        meter.emit("plan", datasets=[dataset.id for dataset in find_datasets(settings.mappings_dir, datasets)])
        with meter.span("job", capped=False) as info:
            report = pipeline.ingest(settings, store, datasets, RecordingProgress(meter))
            info["inferred"] = report.inferred_triples
        for done in report.datasets:
            emit_dataset(meter, done)


def _books_from_provenance(settings: Any, store: Any, dataset: str) -> dict[str, Any]:
    from kg_service.namespaces import CITY
    from kg_service.store import select

    graph = settings.graphs.source(dataset)
    rows = select(store, f"""
        PREFIX city: <{CITY}> PREFIX prov: <http://www.w3.org/ns/prov#>
        SELECT ?read ?committed ?quarantined ?skipped WHERE {{ GRAPH <{settings.graphs.provenance}> {{
          <{graph}> prov:wasGeneratedBy ?job . ?job prov:endedAtTime ?end ; city:recordsRead ?read ;
          city:recordsCommitted ?committed ; city:recordsQuarantined ?quarantined ; city:recordsSkipped ?skipped
        }} }} ORDER BY DESC(?end) LIMIT 1""").dicts()
    counts = {key: int(str(value)) for key, value in rows[0].items()} if rows else {}
    return {"dataset": dataset, **counts, "triples": store.count(graph), "focus_nodes": None, "from_provenance": True}


def work_change(meter: Meter, data_dir: str, mappings_dir: str, repetition: int) -> None:
    """Change 10 rows of the flow readings, then ingest the dataset again (the incremental job)."""
    source = Path(mappings_dir) / "water" / "sample" / "flow-readings.csv"
    meter.emit("changed", lines=change_rows(source, CHANGED_ROWS, repetition))
    work_ingest(meter, data_dir, mappings_dir, [FLOW_READINGS])


def change_rows(path: Path, count: int, repetition: int) -> list[int]:
    """Add 1 to the reading of ``count`` rows spread over the file, other rows in each repetition;
    returns their line numbers. Only rows the pipeline commits are changed (an ISO date-time, a number
    in a unit the mapping converts) and no row entered twice (the generator's duplicates are adjacent),
    so the change is 10 committed observations with a new value each."""
    with path.open(encoding="utf-8", newline="") as handle:
        rows = sum(1 for _ in handle) - 1
    targets = [1 + (i * rows) // count + 3 * repetition for i in range(count)]
    changed: list[int] = []
    temporary = path.with_suffix(".changing")
    with path.open(encoding="utf-8", newline="") as source, temporary.open("w", encoding="utf-8", newline="") as out:
        reader, writer = csv.reader(source), csv.writer(out)
        header = next(reader)
        writer.writerow(header)
        value, unit, taken = header.index("读数"), header.index("单位"), header.index("采集时间")
        previous: list[str] | None = None
        current = next(reader, None)
        index = 1
        while current is not None:
            following = next(reader, None)
            due = len(changed) < len(targets) and index >= targets[len(changed)]
            if due and current != previous and current != following and current[unit] in FLOW_UNITS \
                    and "T" in current[taken]:
                try:
                    current = [*current[:value], str(Decimal(current[value]) + 1), *current[value + 1:]]
                    changed.append(index + 1)  # the file's line number: the header is line 1
                except InvalidOperation:
                    pass
            writer.writerow(current)
            previous, current, index = current, following, index + 1
    temporary.replace(path)
    return changed


def work_pyshacl(meter: Meter, data_dir: str, mappings_dir: str) -> None:
    """pyshacl over the dataset's whole committed graph with the ontology: what a job without a
    delta would have to do after any change."""
    import pyshacl
    from rdflib import RDF
    from rdflib.namespace import SH

    from kg_service import pipeline
    from kg_service.config import load_settings
    from kg_service.store import open_store

    settings = load_settings(data_dir=data_dir, mappings_dir=mappings_dir, in_memory=False)
    vocabulary = pipeline.Vocabulary.load(settings)
    with open_store(settings) as store, meter.span("read the dataset's graph") as info:
        data = pipeline.committed_data(settings, store, [settings.graphs.source(FLOW_READINGS)])
        info["triples"] = len(data)
    with meter.span("pyshacl") as info:
        _, results, _ = pyshacl.validate(data, shacl_graph=vocabulary.shapes, ont_graph=vocabulary.ontology,
                                         inference="none", allow_warnings=True, allow_infos=True)
        info["results"] = len(set(results.subjects(RDF.type, SH.ValidationResult)))
        info["triples"] = len(data)


def work_sample(meter: Meter, data_dir: str, mappings_dir: str, triples: int, out: str) -> None:
    """About ``triples`` of the city's committed triples (its source graphs and graph/spatial): whole
    graphs from the smallest up, so the administrative hierarchy, the parcels and the network come
    first, then whole subjects of the next graph in IRI order until the count is reached."""
    from rdflib import Graph

    from kg_service import pipeline
    from kg_service.config import load_settings
    from kg_service.store import open_store

    settings = load_settings(data_dir=data_dir, mappings_dir=mappings_dir, in_memory=False)
    sample, graphs = Graph(), []

    def short(graph: str) -> str:
        return graph.removeprefix(settings.graphs.source_prefix).removeprefix(settings.base_iri)

    with open_store(settings) as store, meter.span("take the sample") as info:
        candidates = [g for g in store.named_graphs()
                      if g.startswith(settings.graphs.source_prefix) or g == settings.graphs.spatial]
        for graph in sorted(candidates, key=lambda g: (store.count(g), g)):
            data = pipeline.committed_data(settings, store, [graph])
            if len(sample) + len(data) <= triples:
                sample += data
                graphs.append(short(graph))
                continue
            for subject in sorted(set(data.subjects()), key=str):
                if len(sample) >= triples:
                    break
                for triple in data.triples((subject, None, None)):
                    sample.add(triple)
            graphs.append(f"part of {short(graph)}")
            break
        sample.serialize(destination=out, format="nt", encoding="utf-8")
        info.update(triples=len(sample), graphs=graphs)


def work_reason(meter: Meter, data_dir: str, sample: str, reasoner: str, inferred: str) -> None:
    """One reasoner over the ontology and the sample; owlrl also says how much of the pipeline's
    inferred graph its closure holds, as a check that the two did comparable work. "reasonable" is
    the general OWL 2 RL path, for ontologies beyond what forward chaining covers. "citykg-rules" is
    what the pipeline's step runs when the ontology has rules of its own (OWL 2 RL alternating with
    them): not comparable with owlrl, which knows no such rules, so shown beside, without a ratio."""
    from rdflib import Graph

    from kg_service.config import load_settings
    from kg_service.ontology import load_ontology

    settings = load_settings(data_dir=data_dir, in_memory=False)
    ontology = load_ontology(settings.ontology_dir)
    data = Graph().parse(sample, format="nt")
    if reasoner in ("citykg", "citykg-rules"):
        from kg_service.reason import entail, load_rules
        from kg_service.reason.entailment import statements_of

        rules = load_rules(settings.ontology_dir) if reasoner == "citykg-rules" else []
        facts = statements_of(data)
        with meter.span(reasoner) as info:
            found = entail(ontology, lambda: facts, rules)
            info["inferred"] = len(found)
            if rules:
                info["rules"] = len(rules)
        if not rules:
            Path(inferred).write_text("".join(f"{s} {p} {o} .\n" for s, p, o in sorted(found)), encoding="utf-8")
        return
    if reasoner == "reasonable":
        from kg_service.reason import infer

        with meter.span("reasonable") as info:
            info["inferred"] = len(infer(ontology, data))
        return
    import owlrl  # type: ignore[import-untyped]

    with meter.span("owlrl") as info:
        closure = Graph()
        closure += ontology
        closure += data
        asserted = len(closure)
        owlrl.DeductiveClosure(owlrl.OWLRL_Semantics).expand(closure)
        info["inferred"] = len(closure) - asserted
    if Path(inferred).is_file():
        ours = Graph().parse(inferred, format="nt")
        meter.emit("agreement", held=sum(1 for triple in ours if triple in closure), of=len(ours))


WORKERS: dict[str, Callable[..., None]] = {
    "ingest": work_ingest, "change": work_change, "pyshacl": work_pyshacl, "sample": work_sample,
    "reason": work_reason,
}


def worker(kind: str, arguments: str) -> None:
    events = os.fdopen(os.dup(1), "w", encoding="utf-8")
    os.dup2(2, 1)  # whatever a library prints goes to the step's log, not among the events
    WORKERS[kind](Meter(events), **json.loads(arguments))


# --- the driving side ----------------------------------------------------------------------------

@dataclass
class Span:
    name: str
    seconds: float = 0.0
    peak_mb: float = 0.0
    stopped: str = ""  # "time" or "memory" when the step was stopped during this span
    info: dict[str, Any] = field(default_factory=dict)

    @property
    def done(self) -> bool:
        return not self.stopped

    def time_text(self, timeout: float) -> str:
        if self.stopped == "time":
            return f"> {timeout:.0f} s (stopped)"
        if self.stopped == "memory":
            return f"> {self.seconds:.1f} s (stopped at the memory cap)"
        return f"{self.seconds:.2f}"

    def peak_text(self) -> str:
        return f"≥ {self.peak_mb:,.0f}" if self.stopped else f"{self.peak_mb:,.0f}"


@dataclass
class Step:
    spans: list[Span]
    events: list[dict[str, Any]]
    stopped: Span | None

    def span(self, name: str) -> Span | None:
        return next((s for s in self.spans if s.name == name), None)

    def all(self, event: str) -> list[dict[str, Any]]:
        return [e for e in self.events if e["event"] == event]

    def datasets(self) -> list[dict[str, Any]]:
        """Each dataset's report, the last one sent (a report sent ahead is sent again at the end)."""
        return list({e["dataset"]: e for e in self.all("dataset")}.values())


def _rss_mb(pid: int) -> float:
    try:
        with open(f"/proc/{pid}/status", encoding="ascii") as status:
            for line in status:
                if line.startswith("VmRSS:"):
                    return int(line.split()[1]) / 1024
    except OSError:
        pass
    return 0.0


def _read_lines(stream: IO[str], lines: queue.Queue[str | None]) -> None:
    for line in stream:
        lines.put(line)
    lines.put(None)


class Runner:
    """Runs steps in fresh processes and stops one whose stage outlives the timeout or whose memory
    passes the cap (SIGKILL to that process alone); prints each stage as it ends, on stderr."""

    def __init__(self, workdir: Path, timeout: float, max_rss_mb: float) -> None:
        self.workdir, self.timeout, self.max_rss_mb = workdir, timeout, max_rss_mb
        self.measure = ""
        self._count = 0

    def run(self, label: str, kind: str, **arguments: Any) -> Step:
        self._count += 1
        log = self.workdir / f"step-{self._count:02d}-{kind}.log"
        command = [sys.executable, str(Path(__file__).resolve()), "--worker", kind, json.dumps(arguments)]
        environment = {k: v for k, v in os.environ.items() if not k.startswith("CITYKG_")}
        spans: list[Span] = []
        events: list[dict[str, Any]] = []
        running: list[tuple[Span, float, bool]] = []  # open spans: span, start (monotonic), capped
        stopped: Span | None = None
        with log.open("wb") as stderr:
            process = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=stderr, cwd=self.workdir,
                                       env=environment, text=True, encoding="utf-8")
            assert process.stdout is not None
            lines: queue.Queue[str | None] = queue.Queue()
            threading.Thread(target=_read_lines, args=(process.stdout, lines), daemon=True).start()
            last_event = time.monotonic()
            try:
                while True:
                    try:
                        line = lines.get(timeout=0.25)
                    except queue.Empty:
                        line = ""
                    if line is None:
                        break
                    if line.strip():
                        last_event = time.monotonic()
                        event = json.loads(line)
                        if event["event"] == "start":
                            running.append((Span(event["stage"]), last_event, event["capped"]))
                        elif event["event"] == "end":
                            index = next(i for i, (s, _, _) in enumerate(running) if s.name == event["stage"])
                            span = running.pop(index)[0]
                            span.seconds, span.peak_mb = event.pop("seconds"), event.pop("peak_mb")
                            span.info = {k: v for k, v in event.items() if k not in ("event", "stage")}
                            spans.append(span)
                            if span.name != "job":
                                print(f"  [{label}] {span.name}: {span.seconds:.2f} s, {span.peak_mb:,.0f} MB",
                                      file=sys.stderr, flush=True)
                        elif event["event"] == "meter":
                            self.measure = event["measure"]
                        else:
                            events.append(event)
                    rss, now = _rss_mb(process.pid), time.monotonic()
                    for span, _, _ in running:
                        span.peak_mb = max(span.peak_mb, rss)
                    capped = [(span, started) for span, started, cap in running if cap]
                    reason = ""
                    if rss > self.max_rss_mb:
                        reason = "memory"
                    elif capped and now - capped[-1][1] > self.timeout:
                        reason = "time"
                    elif not capped and now - last_event > self.timeout:
                        reason = "time"  # between stages, or before the first: the step itself is stuck
                    if reason:
                        process.kill()
                        process.wait()
                        if not running:
                            running.append((Span(f"{kind} (before its first stage)"), last_event, True))
                        for span, started, _ in running:
                            span.stopped, span.seconds = reason, now - started
                            spans.append(span)
                        stopped = running[-1][0] if not capped else capped[-1][0]
                        print(f"  [{label}] {stopped.name}: stopped ({reason}) after {stopped.seconds:.0f} s, "
                              f"{stopped.peak_mb:,.0f} MB", file=sys.stderr, flush=True)
                        break
            except BaseException:  # interrupted: the step must not outlive the benchmark
                process.kill()
                raise
            finally:
                process.wait()  # at the end of its events a step may still be closing its store
        if stopped is None and process.returncode != 0:
            raise SystemExit(f"the step '{kind}' ({label}) failed (exit {process.returncode}); the end of {log}:\n"
                             + log.read_text(encoding="utf-8", errors="replace")[-3000:])
        return Step(spans, events, stopped)


@dataclass
class Scale:
    """What one scale measured, for the printed tables and the closing summary."""

    rows: int
    generated: dict[str, int] = field(default_factory=dict)
    generate_seconds: float = 0.0
    city: list[Span] = field(default_factory=list)
    city_jobs: list[Span] = field(default_factory=list)
    datasets: list[dict[str, Any]] = field(default_factory=list)
    first: list[Span] = field(default_factory=list)
    first_datasets: list[dict[str, Any]] = field(default_factory=list)
    changes: list[Step] = field(default_factory=list)
    pyshacl: Span | None = None
    pyshacl_triples: int | None = None
    sample: Span | None = None
    reasoners: dict[str, list[Span]] = field(default_factory=dict)
    agreement: dict[str, int] = field(default_factory=dict)


def bench_city(scale: Scale, runner: Runner, folder: Path, seed: int) -> None:
    from kg_service.config import project_path
    from kg_service.generate import generate_city

    mappings, data = folder / "city", folder / "city-data"
    started = time.perf_counter()
    scale.generated = generate_city(project_path("mappings"), mappings, scale.rows, seed)
    scale.generate_seconds = time.perf_counter() - started
    label = f"city {scale.rows:,}"
    remaining: list[str] | None = None
    books: list[str] = []
    plan: list[str] = []
    while True:
        step = runner.run(label, "ingest", data_dir=str(data), mappings_dir=str(mappings), datasets=remaining,
                          books=books)
        plan = plan or next((e["datasets"] for e in step.all("plan")), [])
        scale.city += [s for s in step.spans if s.name != "job"]
        scale.city_jobs += [s for s in step.spans if s.name == "job"]
        scale.datasets += step.datasets()
        if step.stopped is None or step.stopped.name == "reasoning":
            return
        # Go on with the datasets the stopped process had not reached; the store kept what it
        # committed (each commit is one transaction), so those datasets' books come from provenance.
        committed = {s.name.rsplit(": ", 1)[0] for s in scale.city if s.name.endswith(": commit") and s.done}
        reported = {d["dataset"] for d in scale.datasets}
        stopped_dataset = step.stopped.name.rsplit(": ", 1)[0]
        books = sorted(committed - reported)
        remaining = [d for d in plan if d not in committed and d != stopped_dataset]
        if not remaining:
            step = runner.run(label, "ingest", data_dir=str(data), mappings_dir=str(mappings), books=books,
                              reason_only=True)
            scale.city += step.spans
            scale.datasets += step.datasets()
            return


def bench_incremental(scale: Scale, runner: Runner, folder: Path, rows: int, seed: int, repeat: int) -> None:
    import shutil

    from kg_service.config import project_path
    from kg_service.generate import generate_source

    mappings, data = folder / "flow", folder / "flow-data"
    (mappings / "water").mkdir(parents=True)
    shutil.copy(project_path("mappings") / "water" / "flow-readings.rml.ttl", mappings / "water")
    generate_source(FLOW_READINGS, mappings / "water" / "sample", rows, seed)
    label = f"flow readings {rows:,}"
    arguments = {"data_dir": str(data), "mappings_dir": str(mappings)}
    first = runner.run(label + ", first ingest", "ingest", datasets=[FLOW_READINGS], **arguments)
    scale.first, scale.first_datasets = first.spans, first.datasets()
    commit = first.span(f"{FLOW_READINGS}: commit")
    if commit is None or not commit.done:
        return  # nothing committed, so there is nothing to change against
    for repetition in range(repeat):
        step = runner.run(f"{label}, {CHANGED_ROWS}-row change {repetition + 1}", "change", repetition=repetition,
                          **arguments)
        scale.changes.append(step)
        # Repeated while the dataset's own stages are cheap, even when reasoning over everything
        # was stopped: the delta is the figure the incremental case is about.
        delta = [s for s in step.spans if s.name.startswith(f"{FLOW_READINGS}: ")]
        if not delta or any(not s.done for s in delta) or sum(s.seconds for s in delta) > CHEAP_SECONDS:
            break
    step = runner.run(label + ", pyshacl over the whole graph", "pyshacl", **arguments)
    scale.pyshacl = step.span("pyshacl") or step.stopped
    read = step.span("read the dataset's graph")
    scale.pyshacl_triples = read.info.get("triples") if read is not None else None


def bench_reasoning(scale: Scale, runner: Runner, folder: Path, triples: int, repeat: int) -> None:
    sample, inferred = folder / "sample.nt", folder / "citykg-inferred.nt"
    label = f"reasoning on {triples:,} triples"
    step = runner.run(label, "sample", data_dir=str(folder / "city-data"), mappings_dir=str(folder / "city"),
                      triples=triples, out=str(sample))
    scale.sample = step.span("take the sample")
    scale.reasoners = {"citykg": [], "owlrl": [], "reasonable": [], "citykg-rules": []}
    for _ in range(repeat):  # alternating, so drifting load hits them alike
        for reasoner in scale.reasoners:
            step = runner.run(f"{label}, {reasoner}", "reason", data_dir=str(folder), sample=str(sample),
                              reasoner=reasoner, inferred=str(inferred))
            measured = step.span(reasoner) or step.stopped
            if measured is not None:
                scale.reasoners[reasoner].append(measured)
            for agreement in step.all("agreement"):
                scale.agreement = {"held": agreement["held"], "of": agreement["of"]}
        if any(not s.done or s.seconds > CHEAP_SECONDS for runs in scale.reasoners.values() for s in runs):
            break


# --- printing ------------------------------------------------------------------------------------

def _median(spans: list[Span]) -> Span:
    """The median run, or the stopped one: a stopped run means at least the timeout."""
    stopped = [s for s in spans if not s.done]
    if stopped:
        return stopped[0]
    return Span(spans[0].name, statistics.median(s.seconds for s in spans),
                statistics.median(s.peak_mb for s in spans), info=spans[0].info)


def _ratio(slow: Span | None, fast: Span | None) -> str:
    """``slow / fast``; a stopped ``slow`` makes a lower bound, a stopped ``fast`` an upper one."""
    if slow is None or fast is None or fast.seconds <= 0:
        return "n/a"
    if not slow.done and not fast.done:
        return "n/a (both stopped)"
    value = slow.seconds / fast.seconds
    return f"> {value:.1f}" if not slow.done else f"< {value:.1f}" if not fast.done else f"{value:.1f}"


def _count(value: Any) -> str:
    return "n/a" if value is None else f"{value:,}"


def _focus_nodes(scale: Scale) -> list[int]:
    """How many focus nodes the gate validated in each change job, where the pipeline reports it."""
    return [d["focus_nodes"] for step in scale.changes for d in step.datasets() if d.get("focus_nodes") is not None]


def print_datasets(datasets: list[dict[str, Any]]) -> None:
    print("| dataset | read | committed | quarantined | skipped | triples | focus nodes validated "
          "| read = committed + quarantined + skipped |")
    print("|---|---:|---:|---:|---:|---:|---:|---|")
    for d in datasets:
        balances = d.get("read") == d.get("committed", 0) + d.get("quarantined", 0) + d.get("skipped", 0)
        source = " (books from provenance)" if d.get("from_provenance") else ""
        print(f"| {d['dataset']}{source} | {_count(d.get('read'))} | {_count(d.get('committed'))} "
              f"| {_count(d.get('quarantined'))} | {_count(d.get('skipped'))} | {_count(d.get('triples'))} "
              f"| {_count(d.get('focus_nodes'))} | {'yes' if balances else 'NO'} |")


def print_scale(scale: Scale, args: argparse.Namespace) -> None:
    timeout = args.timeout
    print(f"\n## City of {scale.rows:,} rows (seed {args.seed})\n")
    print(f"Generated in {scale.generate_seconds:.1f} s: "
          + ", ".join(f"{name} {rows:,}" for name, rows in scale.generated.items()) + ".\n")
    print("| stage | seconds | peak MB |")
    print("|---|---:|---:|")
    for span in scale.city:
        print(f"| {span.name} | {span.time_text(timeout)} | {span.peak_text()} |")
    stages = [s for s in scale.city if s.done]
    slowest = max(scale.city, key=lambda s: (not s.done, s.seconds), default=None)
    print(f"| sum of the stages that ran to the end | {sum(s.seconds for s in stages):.2f} | |")
    if len(scale.city_jobs) == 1 and scale.city_jobs[0].done:
        job = scale.city_jobs[0]
        print(f"| whole ingest() call (with loading the ontology) | {job.seconds:.2f} | {job.peak_mb:,.0f} |")
    if slowest is not None:
        print(f"\nSlowest stage: {slowest.name} ({slowest.time_text(timeout)}).")
    print()
    print_datasets(scale.datasets)
    print_incremental(scale, args)
    print_reasoning(scale, args)


@dataclass
class Incremental:
    """The incremental case's figures: medians over the change runs."""

    job: Span | None  # the whole ingest() call, reasoning included
    delta: Span | None  # lift + validate + commit of the dataset: the job without reasoning
    validate: Span | None  # the gate alone
    focus_nodes: list[int]


def incremental_figures(scale: Scale) -> Incremental:
    def median_of(name: str) -> Span | None:
        spans = [span for step in scale.changes for span in step.spans if span.name == name]
        return _median(spans) if spans else None

    deltas = []
    for step in scale.changes:
        stages = [s for s in step.spans if s.name.startswith(f"{FLOW_READINGS}: ")]
        if stages:
            stopped = next((s for s in stages if not s.done), None)
            deltas.append(Span("lift + validate + commit", sum(s.seconds for s in stages),
                               max(s.peak_mb for s in stages), stopped.stopped if stopped else ""))
    return Incremental(median_of("job"), _median(deltas) if deltas else None,
                       median_of(f"{FLOW_READINGS}: validate"), _focus_nodes(scale))


def print_incremental(scale: Scale, args: argparse.Namespace) -> None:
    rows, timeout = args.incremental_rows or scale.rows, args.timeout
    print(f"\n### Incremental: {FLOW_READINGS}, {rows:,} rows, {CHANGED_ROWS} rows changed\n")
    print("| step | seconds | peak MB | focus nodes validated |")
    print("|---|---:|---:|---:|")
    focus = scale.first_datasets[0].get("focus_nodes") if scale.first_datasets else None
    for span in sorted(scale.first, key=lambda s: s.name == "job"):
        name = "first ingest: whole job" if span.name == "job" else f"first ingest: {span.name}"
        print(f"| {name} | {span.time_text(timeout)} | {span.peak_text()} | "
              f"{_count(focus) if span.name == 'job' else ''} |")
    if not scale.changes:
        print("\nNo change was measured: the first ingest did not commit the dataset.")
        return
    figures = incremental_figures(scale)
    runs = len(scale.changes)
    change = f"{CHANGED_ROWS}-row change"
    names = dict.fromkeys(span.name for step in scale.changes for span in step.spans)  # in the pipeline's order
    for name in sorted(names, key=lambda n: n == "job"):
        median = _median([span for step in scale.changes for span in step.spans if span.name == name])
        label = f"{change}: whole job" if name == "job" else f"{change}: {name}"
        shown = "" if name != "job" else (f"{max(figures.focus_nodes):,} (largest of {len(figures.focus_nodes)})"
                                          if figures.focus_nodes else "n/a")
        print(f"| {label} (median of {runs}) | {median.time_text(timeout)} | {median.peak_text()} | {shown} |")
    if figures.delta is not None:
        print(f"| {change}: lift + validate + commit, no reasoning (median of {runs}) "
              f"| {figures.delta.time_text(timeout)} | {figures.delta.peak_text()} | |")
    shacl = scale.pyshacl
    print(f"| pyshacl.validate, whole dataset graph + ontology ({_count(scale.pyshacl_triples)} triples) "
          f"| {shacl.time_text(timeout) if shacl else 'n/a'} | {shacl.peak_text() if shacl else ''} | all |")
    changed = [len(e["lines"]) for step in scale.changes for e in step.all("changed")]
    print(f"\nRows changed per run: {', '.join(map(str, changed))}; runs: {runs}"
          + (" (not repeated: the dataset's stages take more than a minute, or were stopped)"
             if runs < args.repeat else "")
          + ".\n")
    print_datasets([{**d, "dataset": f"{d['dataset']} (first ingest)"} for d in scale.first_datasets]
                   + [{**d, "dataset": f"{d['dataset']} (change {run})"}
                      for run, step in enumerate(scale.changes, start=1) for d in step.datasets()])
    print(f"\nRatio pyshacl over the whole graph / the {change} job: {_ratio(shacl, figures.job)} (whole job); "
          f"{_ratio(shacl, figures.delta)} (without reasoning); {_ratio(shacl, figures.validate)} (the gate's "
          "validate stage alone). Above 1: the incremental job is faster.")
    nodes = "not reported by the pipeline" if not figures.focus_nodes else (
        f"{max(figures.focus_nodes):,} ({'met' if max(figures.focus_nodes) < 1000 else 'not met'})")

    def verdict(span: Span | None) -> str:
        if span is None or not span.done:
            return span.time_text(timeout) if span else "n/a"
        return f"{span.seconds:.2f} s ({'met' if span.seconds < 2 else 'not met'})"

    print(f"Target for {CHANGED_ROWS} rows of a 100,000-row dataset (< 1,000 focus nodes, < 2 s), here {rows:,} "
          f"rows: focus nodes {nodes}; whole job {verdict(figures.job)}; without reasoning "
          f"{verdict(figures.delta)}.")


def print_reasoning(scale: Scale, args: argparse.Namespace) -> None:
    sample = scale.sample
    triples = sample.info.get("triples") if sample else None
    print(f"\n### Reasoning on the same {_count(triples)} triples of the city's committed data\n")
    if sample is not None and sample.info.get("graphs"):
        print(f"Sample: {', '.join(sample.info['graphs'])}.\n")
    print("| reasoner | seconds | peak MB | inferred triples |")
    print("|---|---:|---:|---:|")
    medians: dict[str, Span] = {}
    names = {"citykg": "kg_service.reason.entail, no rules (the pipeline's OWL 2 RL: forward chaining)",
             "owlrl": "owlrl DeductiveClosure(OWLRL_Semantics).expand",
             "reasonable": "kg_service.reason.infer (reasonable + property chains: the general path)",
             "citykg-rules": "kg_service.reason.entail (the same + the ontology's rules; no ratio)"}
    for reasoner, spans in scale.reasoners.items():
        if not spans:
            continue
        medians[reasoner] = median = _median(spans)
        print(f"| {names[reasoner]} (median of {len(spans)}) | {median.time_text(args.timeout)} "
              f"| {median.peak_text()} | {_count(median.info.get('inferred'))} |")
    owlrl, citykg = medians.get("owlrl"), medians.get("citykg")
    memory = (f"{owlrl.peak_mb / citykg.peak_mb:.2f}" if owlrl and citykg and owlrl.done and citykg.done
              and citykg.peak_mb else "n/a")
    print(f"\nRatio owlrl / CityKG's OWL 2 RL: time {_ratio(owlrl, citykg)} (above 1: CityKG is faster), "
          f"peak memory {memory} (below 1: owlrl holds less). owlrl's count includes its axiomatic triples "
          "and what CityKG's filter leaves out (terms of the ontology, rdf:type owl:Thing, x owl:sameAs x).")
    if scale.agreement:
        held, of = scale.agreement["held"], scale.agreement["of"]
        print(f"owlrl's closure holds {held:,} of the {of:,} triples CityKG inferred"
              + (f" ({held / of:.1%})." if of else "."))


def print_summary(scales: list[Scale], args: argparse.Namespace) -> None:
    timeout = args.timeout
    print("\n## Summary\n")
    print("| rows | slowest city stage | its seconds | city reasoning s | 10-row change: whole job s "
          "| without reasoning s | focus nodes validated | pyshacl whole graph / change without reasoning "
          "| owlrl / CityKG reasoning |")
    print("|---:|---|---:|---:|---:|---:|---:|---:|---:|")
    for scale in scales:
        slowest = max(scale.city, key=lambda s: (not s.done, s.seconds), default=None)
        reasoning = next((s for s in scale.city if s.name == "reasoning"), None)
        figures = incremental_figures(scale)
        owlrl = _median(scale.reasoners["owlrl"]) if scale.reasoners.get("owlrl") else None
        citykg = _median(scale.reasoners["citykg"]) if scale.reasoners.get("citykg") else None
        cells = [f"{scale.rows:,}", slowest.name if slowest else "n/a",
                 slowest.time_text(timeout) if slowest else "n/a",
                 reasoning.time_text(timeout) if reasoning else "not reached",
                 figures.job.time_text(timeout) if figures.job else "n/a",
                 figures.delta.time_text(timeout) if figures.delta else "n/a",
                 f"{max(figures.focus_nodes):,}" if figures.focus_nodes else "n/a",
                 _ratio(scale.pyshacl, figures.delta), _ratio(owlrl, citykg)]
        print(f"| {' | '.join(cells)} |")


def _code_version() -> str:
    """Where the measured kg_service comes from, and its commit when that is a git checkout."""
    import kg_service

    root = Path(kg_service.__file__).resolve().parent.parent
    try:
        def git(*arguments: str) -> str:
            return subprocess.run(["git", "-C", str(root), *arguments], capture_output=True, text=True,
                                  check=True).stdout.strip()

        commit = git("rev-parse", "--short", "HEAD")
        dirty = git("status", "--porcelain", "--", "kg_service", "ontology", "mappings")
    except (OSError, subprocess.CalledProcessError):
        return f"{root} (not a git checkout)"
    return f"{root} at {commit}" + (" with uncommitted changes to kg_service/, ontology/ or mappings/" if dirty else "")


def _memory_available_mb() -> float:
    with open("/proc/meminfo", encoding="ascii") as meminfo:
        for line in meminfo:
            if line.startswith("MemAvailable:"):
                return int(line.split()[1]) / 1024
    return 8192.0


def main() -> None:
    if len(sys.argv) == 4 and sys.argv[1] == "--worker":
        worker(sys.argv[2], sys.argv[3])
        return
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--rows", type=int, nargs="+", default=[100_000, 1_000_000], help="source rows per city")
    parser.add_argument("--incremental-rows", type=int, default=None,
                        help="rows of the flow readings in the incremental case (default: each city's rows)")
    parser.add_argument("--reason-triples", type=int, default=100_000,
                        help="triples of committed data the two reasoners get")
    parser.add_argument("--repeat", type=int, default=3, help="runs of the cheap measurements (under a minute)")
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--timeout", type=float, default=1800.0, help="seconds a stage may take before it is stopped")
    parser.add_argument("--max-memory-gb", type=float, default=None,
                        help="resident memory a step may reach before it is stopped (default 60%% of what is "
                             "available at the start)")
    parser.add_argument("--quick", action="store_true",
                        help="a small smoke run: a city of 1,000 rows, 200 flow readings, 2,000 triples, 1 run")
    args = parser.parse_args()
    # Stopped from outside: unwind, so the running step is killed and the temporary folder removed.
    signal.signal(signal.SIGTERM, lambda number, frame: sys.exit(128 + number))
    if args.quick:
        args.rows, args.incremental_rows, args.reason_triples, args.repeat = [1000], 200, 2000, 1
    max_rss_mb = args.max_memory_gb * 1024 if args.max_memory_gb else 0.6 * _memory_available_mb()
    scales: list[Scale] = []
    with tempfile.TemporaryDirectory(prefix="citykg-bench-ingest-") as tmp:
        runner = Runner(Path(tmp), args.timeout, max_rss_mb)
        for rows in args.rows:
            folder = Path(tmp) / f"rows-{rows}"
            folder.mkdir()
            scale = Scale(rows)
            bench_city(scale, runner, folder, args.seed)
            bench_incremental(scale, runner, folder, args.incremental_rows or rows, args.seed, args.repeat)
            bench_reasoning(scale, runner, folder, args.reason_triples, args.repeat)
            if rows == args.rows[0]:
                print(f"# Ingest benchmark, {datetime.date.today()}, {os.cpu_count()} cores, Python "
                      f"{platform.python_version()}\n\nkg_service from {_code_version()}. Store on disk. "
                      f"Peak MB: the process's resident set ({runner.measure}; native memory included). "
                      f"Stages stop after {args.timeout:.0f} s, steps above {max_rss_mb / 1024:.1f} GB.")
            print_scale(scale, args)
            sys.stdout.flush()
            scales.append(scale)
    print_summary(scales, args)


if __name__ == "__main__":
    main()
