"""The only place where the stages are wired together.

ingest = lift -> staging graph -> validation gate -> atomic commit (+ quarantine) -> reasoning.
(Projection to Neo4j joins at the end when that backend is configured.) Each stage lives in its
own package; this module decides the order and keeps the books: every record read is committed,
quarantined or skipped with a reason.
"""

from __future__ import annotations

import datetime
import hashlib
import itertools
import time
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from contextlib import AbstractContextManager, contextmanager
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol

from rdflib import Graph, Literal, URIRef

from kg_service.config import Settings
from kg_service.delta import (
    Change,
    KeptDigests,
    Previous,
    Scope,
    Staged,
    StagedNeighbours,
    content_digest,
    digest_lines,
    focus_and_data,
    read_previous,
    statements_about,
    validated_with_line,
    whole_in_chunks,
)
from kg_service.errors import MappingError, OntologyError
from kg_service.heap import JobHeap
from kg_service.lift import Dataset, LiftedRecord, find_datasets, lift, load_mapping
from kg_service.lift.memo import RowMemo
from kg_service.namespaces import CITY
from kg_service.ontology import ONTOLOGY_IRI, content_hash, load_vocabulary, ontology_version
from kg_service.provenance import JobRecord, attribution_lines, content_stamp, dataset_iri, job_graph, sha256_of
from kg_service.reason import Rule, checked_ontology, load_rules, rule_part
from kg_service.reason.candidates import (
    candidate_graph,
    changes_candidates,
    find_candidates,
    read_features,
    read_links,
    reads_candidates,
)
from kg_service.reason.entailment import entail_layers
from kg_service.reason.incremental import AssertedChange, NeedsFullReasoning, ReasonedGraphs, correct_inferred
from kg_service.reason.rules import rules_hash
from kg_service.store import GraphStore, GraphWrites, RdfFormat, statements
from kg_service.validate import Gate, GateReport, quarantine_triples, staging_graph
from kg_service.validate.quarantine import RefusedRecord
from kg_service.validate.scope import Reach, cached_shape_reach

if TYPE_CHECKING:
    from kg_service.project import SyncReport

Advance = Callable[[int], None]


class Progress(Protocol):
    """Where the pipeline reports how far a stage has got (the CLI draws bars)."""

    def stage(self, description: str, total: int | None = None) -> AbstractContextManager[Advance]: ...


class SilentProgress:
    @contextmanager
    def stage(self, description: str, total: int | None = None) -> Iterator[Advance]:
        yield lambda steps: None


class _TimedStages:
    """The caller's progress, with each stage's wall time kept (for the report)."""

    def __init__(self, shown: Progress, seconds: dict[str, float]) -> None:
        self._shown, self._seconds = shown, seconds

    @contextmanager
    def stage(self, description: str, total: int | None = None) -> Iterator[Advance]:
        started = time.perf_counter()
        with self._shown.stage(description, total) as advance:
            yield advance
        self._seconds[description] = round(time.perf_counter() - started, 3)


@dataclass
class DatasetReport:
    """What one dataset's job did; ``read == committed + quarantined + skipped`` always."""

    dataset: str
    graph: str
    read: int = 0
    committed: int = 0
    quarantined: int = 0
    skipped: int = 0
    triples: int = 0
    focus_nodes_validated: int = 0  # every entity on a first or full job; what a change can affect otherwise
    entities_changed: int = 0  # entities lifted differently from the last job (new, changed or gone)
    rows_remembered: int = 0  # source rows taken from the row memo instead of lifted again
    warnings: list[str] = field(default_factory=list)
    quarantine_reasons: list[str] = field(default_factory=list)
    skip_reasons: list[str] = field(default_factory=list)

    @property
    def reconciles(self) -> bool:
        return self.read == self.committed + self.quarantined + self.skipped


@dataclass
class IngestReport:
    datasets: list[DatasetReport] = field(default_factory=list)
    inferred_triples: int = 0
    # "unchanged", "incremental" (the inferred graph corrected where the jobs' changes reach), or
    # "full" with the reason the change could not be followed
    reasoning: str = "unchanged"
    projection: SyncReport | None = None  # when the run projected into Neo4j
    seconds: dict[str, float] = field(default_factory=dict)  # each stage's wall time, as the progress names it

    def totals(self) -> dict[str, int]:
        keys = ("read", "committed", "quarantined", "skipped", "triples")
        return {key: sum(getattr(report, key) for report in self.datasets) for key in keys}

    def to_json(self) -> dict[str, Any]:
        report: dict[str, Any] = {"datasets": {r.dataset: asdict(r) for r in self.datasets},
                                  "total": self.totals(), "inferred_triples": self.inferred_triples,
                                  "reasoning": self.reasoning, "seconds": self.seconds}
        if self.projection is not None:
            report["neo4j"] = {**asdict(self.projection), "items_per_second": self.projection.items_per_second}
        return report


@dataclass(frozen=True)
class Vocabulary:
    """The ontology and its data shapes, loaded once per run."""

    ontology: Graph
    shapes: Graph
    content_hash: str
    reach: Reach  # the steps the shapes take from a focus node: what a change can affect
    gate: Gate  # the shapes prepared for validating

    @classmethod
    def load(cls, settings: Settings) -> Vocabulary:
        hashed = content_hash(settings.ontology_dir)
        ontology, shapes = load_vocabulary(settings.ontology_dir, settings.parsed_vocabulary_file, hashed)
        return cls(ontology, shapes, hashed, cached_shape_reach(shapes, hashed, settings.data_dir),
                   Gate(shapes, ontology))


def ingest(settings: Settings, store: GraphStore, selectors: list[str] | None = None,
           progress: Progress | None = None) -> IngestReport:
    """Run one job per selected dataset (all when ``selectors`` is empty), then reason once."""
    report = IngestReport()
    progress = _TimedStages(progress or SilentProgress(), report.seconds)
    datasets = find_datasets(settings.mappings_dir, selectors)
    vocabulary = Vocabulary.load(settings)
    rules = load_rules(settings.ontology_dir)  # a malformed rule fails the run before any job commits
    publish_ontology(settings, store, vocabulary)
    # Reasoning can follow this run's changes only from an inferred graph made from the data as it is now.
    reasoned_from = content_stamp(store, settings.graphs.provenance, settings.graphs.inferred)
    change: AssertedChange | None = (
        AssertedChange() if reasoned_from == _reasoning_inputs(settings, store, vocabulary) else None)
    # the rules' kept working store is read while the jobs run, for reasoning after their changes
    loading = rule_part.start_loading(settings.data_dir, reasoned_from) if change is not None and rules \
        and not settings.in_memory else None
    # Each dataset's graph is counted on a thread while the later jobs and reasoning run: the store
    # counts without holding the interpreter (0.2 s of a 10-row change's job for 430k statements).
    with ThreadPoolExecutor(max_workers=1, thread_name_prefix="citykg-count") as counter:
        counted: list[Future[int]] = []
        for dataset in datasets:
            with JobHeap() as heap:
                dataset_report, dataset_change = _ingest_dataset(settings, store, dataset, vocabulary, progress,
                                                                 heap)
            report.datasets.append(dataset_report)
            counted.append(counter.submit(store.count, dataset_report.graph))
            change = change.then(dataset_change) if change is not None and dataset_change is not None else None
        with progress.stage("reasoning", total=None):
            since = reasoned_from  # jobs write their datasets' stamps, never the inferred graph's
            inputs = _reasoning_inputs(settings, store, vocabulary)
            if since == inputs:
                # no job changed any data and the ontology is the same: what reasoning made still holds
                report.inferred_triples = store.count(settings.graphs.inferred)
            else:
                report.inferred_triples, report.reasoning = reason_after(settings, store, vocabulary, rules,
                                                                         change, since or "", inputs, loading)
        for dataset_report, triples in zip(report.datasets, counted, strict=True):
            dataset_report.triples = triples.result()
    if settings.neo4j_sync or settings.store == "neo4j":
        with progress.stage("projecting into Neo4j", total=None) as advance:
            from kg_service.project import sync  # the driver is imported only when Neo4j is used

            report.projection = sync(settings, store, on_batch=advance)
    return report


def _reasoning_inputs(settings: Settings, store: GraphStore, vocabulary: Vocabulary) -> str:
    """One hash of what reasoning reads: the ontology, its rules and every dataset's content stamp."""
    rows = store.select_text(f"SELECT ?graph ?hash WHERE {{ GRAPH <{settings.graphs.provenance}> {{ "
                             f"?graph <{CITY.contentHash}> ?hash FILTER (STRSTARTS(STR(?graph), "
                             f"{Literal(settings.graphs.source_prefix).n3()})) }} }}")
    stamps = sorted(f"{graph} {stamp}" for graph, stamp in rows)
    rules = rules_hash(settings.ontology_dir)
    return hashlib.sha256("\n".join([vocabulary.content_hash, rules, *stamps]).encode()).hexdigest()


def publish_ontology(settings: Settings, store: GraphStore, vocabulary: Vocabulary) -> bool:
    """Keep the store's ontology graph equal to the ontology files; True when it had to change.

    The graph carries the files' content hash, so an unchanged ontology is not rewritten (its
    blank nodes would get new identities, and a re-run must change nothing)."""
    graph = URIRef(settings.graphs.ontology)
    stamp = (graph, CITY.contentHash, Literal(vocabulary.content_hash))
    if store.query(f"ASK {{ GRAPH {graph.n3()} {{ {' '.join(term.n3() for term in stamp)} }} }}") is True:
        return False
    published = Graph()
    published += vocabulary.ontology
    published.add(stamp)
    store.replace_graph(settings.graphs.ontology, published.serialize(format="nt", encoding="utf-8"),
                        RdfFormat.N_TRIPLES)
    return True


def _ingest_dataset(settings: Settings, store: GraphStore, dataset: Dataset, vocabulary: Vocabulary,
                    progress: Progress, heap: JobHeap) -> tuple[DatasetReport, AssertedChange | None]:
    """One dataset's job; returns its report and the statements it retracted from and added to the
    dataset's graph (None when it replaced the graph whole)."""
    graph = settings.graphs.source(dataset.id)
    report = DatasetReport(dataset=dataset.id, graph=graph)
    started = datetime.datetime.now(datetime.UTC)
    mapping = load_mapping(dataset.mapping_path)
    sources: set[Path] = set()

    lifted: list[LiftedRecord] = []
    refused: list[RefusedRecord] = []
    first_seen: dict[tuple[str, ...], int] = {}
    # what each CSV row made last time (a file cache, so not for a store that keeps nothing on disk)
    memo = None if settings.in_memory else RowMemo.for_mapping(
        settings.data_dir / "lift-memo" / f"{dataset.id.replace('/', '--')}.pickle", dataset.mapping_path,
        settings.base_iri)
    kept = None if settings.in_memory else KeptDigests(
        settings.data_dir / "digests" / f"{dataset.id.replace('/', '--')}.pickle")
    with progress.stage(f"{dataset.id}: lift", total=None) as advance, heap.growing():
        for record in lift(mapping, settings.base_iri, memo):
            report.read += 1
            if report.read % PROGRESS_STEP == 0:
                advance(PROGRESS_STEP)
            sources.add(record.source)
            # the fields in their source's order, then the values: one flat tuple is the quickest key
            key = (str(record.source), *record.values, *record.values.values())
            if key in first_seen:
                report.skipped += 1
                report.skip_reasons.append(f"{record.source.name}:{record.line}: exact duplicate of line "
                                           f"{first_seen[key]}")
                continue
            first_seen[key] = record.line
            if record.quads:
                raise MappingError("the mapping puts statements in named graphs (graph maps); a dataset's "
                                   "graph is chosen by CityKG", where=str(dataset.mapping_path),
                                   hint="remove the graph maps from the mapping")
            if record.skip_reason:
                report.skipped += 1
                report.skip_reasons.append(f"{record.source.name}:{record.line}: {record.skip_reason}")
                continue
            if record.error:
                refused.append(RefusedRecord(record.source, record.line, record.values, None, (record.error,)))
            else:
                lifted.append(record)
        advance(report.read % PROGRESS_STEP)

    report.rows_remembered = memo.reused if memo is not None else 0
    with progress.stage(f"{dataset.id}: validate", total=None) as advance:
        with heap.growing():
            staged = Staged.of(lifted)
            digests = staged.digests()
        previous = read_previous(store, settings.graphs, dataset.id, kept)
        change = Change.between(previous, digests)
        incremental, scopes = _validation_scopes(store, graph, vocabulary, staged, previous, change)
        gate, validated = GateReport(), set()
        for scope in scopes:
            validated |= scope.focus or set()
            gate.findings += vocabulary.gate.validate(staging_graph(scope.text), scope.focus, scope.text).findings
            report.focus_nodes_validated += len(scope.focus) if incremental and scope.focus else 0
            advance(1)
        if not incremental:
            report.focus_nodes_validated = len(staged.statements)
        report.entities_changed = len(change)
    violations = gate.by_focus_node("Violation")
    committed: list[LiftedRecord] = []
    for record in lifted:
        entity = (record.subject or "").strip("<>")
        if entity in violations:
            refused.append(RefusedRecord(record.source, record.line, record.values, entity,
                                         tuple(sorted({f.describe() for f in violations[entity]}))))
        elif incremental and record.subject in previous.refused and record.subject not in validated:
            # unchanged, and nothing it reaches changed: refused again for the same reasons
            refused.append(RefusedRecord(record.source, record.line, record.values, entity,
                                         previous.refused[record.subject]))
        else:
            committed.append(record)
    report.warnings = [f"{f.focus_node}: {f.describe()}" for f in gate.findings if f.severity != "Violation"]
    # A Violation of a node no record describes (a misspelt class used as a type) refuses no record
    # by itself; it is reported so that it is not lost.
    report.warnings += [f"{f.focus_node}: {f.describe()} (a node no record of this dataset describes)"
                        for f in gate.findings
                        if f.severity == "Violation" and f"<{f.focus_node}>" not in staged.statements]
    report.quarantine_reasons = [f"{r.source.name}:{r.line}: {'; '.join(r.reasons)}" for r in refused]

    report.committed, report.quarantined = len(committed), len(refused)
    job = _Job(dataset, report, started, sources, staged, digests, previous, change,
               refused_entities={f"<{r.entity}>" for r in refused if r.entity}, incremental=incremental, kept=kept)
    with progress.stage(f"{dataset.id}: commit", total=len(committed)) as advance:
        asserted = _commit(settings, store, vocabulary, job, refused)
        advance(len(committed))
    if memo is not None:
        memo.save()
    return report, asserted


PROGRESS_STEP = 1_000  # records lifted between two updates of the progress bar (one per record: 0.14 s per 100k)

INCREMENTAL_SHARE = 0.25  # above this share of entities changed, validating everything is as quick


GATE_CHUNK = 20_000  # entities validated together on a full job: the gate's memory follows this, not the data


def _validation_scopes(store: GraphStore, graph: str, vocabulary: Vocabulary, staged: Staged, previous: Previous,
                       change: Change) -> tuple[bool, Iterable[Scope]]:
    """What the gate validates: the focus nodes the change can affect and the statements they need
    (incremental), or everything, a chunk at a time, when the last job's checks cannot be reused:
    a first job, an ontology or shapes changed since, a shape reading beyond its focus node's
    reach, blank-node subjects (a new identity each run), or a change touching much of the dataset."""
    reusable = (previous.validated_with == vocabulary.content_hash and previous.digests
                and not vocabulary.reach.whole_graph
                and len(change) <= INCREMENTAL_SHARE * max(len(staged.statements), 1)
                and not any(subject.startswith("_:") for subject in (*staged.statements, *previous.digests)))
    if not reusable:
        return False, whole_in_chunks(vocabulary.reach, staged, GATE_CHUNK)
    neighbours = StagedNeighbours(store, graph, staged, change, previous.refused)
    return True, [focus_and_data(vocabulary.reach, staged, change, previous, neighbours)]


@dataclass(frozen=True)
class _Job:
    """One dataset's job, between the gate and the commit."""

    dataset: Dataset
    report: DatasetReport
    started: datetime.datetime
    sources: set[Path]
    staged: Staged
    digests: dict[str, str]
    previous: Previous
    change: Change
    refused_entities: set[str]  # N-Triples form
    incremental: bool
    kept: KeptDigests | None  # the digests kept beside the store for the next job

    @property
    def committed_entities(self) -> set[str]:
        return set(self.staged.statements) - self.refused_entities


def _commit(settings: Settings, store: GraphStore, vocabulary: Vocabulary, job: _Job,
            refused: list[RefusedRecord]) -> AssertedChange | None:
    """One transaction: the dataset's graph, its digests, its quarantine, who asserted what, and the
    job's record. A full job replaces the graphs; an incremental one retracts and adds the changed
    entities' statements only, and returns what it retracted and added (a full job: None).

    When the data and the quarantine are what the store already holds, only the job is recorded
    (outcome "unchanged"): running the same job twice changes no data the second time."""
    dataset, report, graphs = job.dataset, job.report, settings.graphs
    graph, quarantine_graph, digest_graph = (graphs.source(dataset.id), graphs.quarantine(dataset.id),
                                             graphs.digests(dataset.id))
    committed = job.committed_entities
    quarantine = quarantine_triples(quarantine_graph, refused, settings.mappings_dir)
    quarantine_lines = _sorted_lines(quarantine)
    quarantine_hash = hashlib.sha256(quarantine_lines).hexdigest()
    content = hashlib.sha256(content_digest(job.digests, committed).encode() + b"\0" + quarantine_lines).hexdigest()
    stamp = (f"<{graph}>", f"<{CITY.contentHash}>", Literal(content).n3())
    unchanged = store.query(f"ASK {{ GRAPH <{graphs.provenance}> {{ {' '.join(stamp)} }} }}") is True
    files = {path: sha256_of(path) for path in sorted({*job.sources, dataset.mapping_path}) if path.is_file()}
    record = JobRecord(dataset.id, graph, job.started, datetime.datetime.now(datetime.UTC), files,
                       settings.mappings_dir, ONTOLOGY_IRI, ontology_version(vocabulary.ontology),
                       vocabulary.content_hash, report.read, report.committed, report.quarantined, report.skipped,
                       "unchanged" if unchanged else "committed")
    history = job_graph(record, settings.base_iri).serialize(format="nt", encoding="utf-8")
    if unchanged:
        store.commit(GraphWrites(add={graphs.provenance: history}))
        if job.kept is not None and job.kept.loaded_for != content:
            job.kept.save(content, job.previous.digests, quarantine_hash)  # what the digest graph holds
        return AssertedChange()
    # the quarantine graph is rewritten only when it changes (0.15 s for 600 refused records): the
    # kept file, read for the data the store holds, says what the last commit wrote there
    quarantine_writes = {} if job.kept is not None and job.kept.loaded_for is not None \
        and job.kept.quarantine == quarantine_hash else {quarantine_graph: quarantine}
    if job.kept is not None:
        job.kept.forget()  # the commit changes what it was kept for
    asserted_by = (str(CITY.assertedBy), str(dataset_iri(settings.base_iri, dataset.id)))
    validated_with = validated_with_line(graphs, dataset.id, vocabulary.content_hash)
    if job.incremental:
        # Whose committed statements differ: lifted differently, gone, or in or out of quarantine.
        touched = job.change.changed | job.change.removed | (set(job.previous.refused) ^ job.refused_entities)
        entering = sorted(touched & committed)
        relifted = sorted(job.change.changed)
        before = set(statements_about(store, graph, touched))
        store.commit(GraphWrites(
            replace=quarantine_writes,
            retract=[*((graph, s[1:-1], None, None) for s in sorted(touched)),
                     *((digest_graph, s[1:-1], str(CITY.liftDigest), None)
                       for s in sorted(job.change.changed | job.change.removed)),
                     *((graphs.provenance, s[1:-1], *asserted_by) for s in sorted(touched)),
                     (graphs.provenance, graph, str(CITY.contentHash), None)],
            add={graph: (f"{line}\n".encode() for line in job.staged.lines(entering)),
                 digest_graph: digest_lines(job.digests, relifted),
                 graphs.provenance: itertools.chain([history, " ".join(stamp).encode() + b" .\n"],
                                                    attribution_lines(settings.base_iri, dataset.id, entering))}))
        _keep_digests(job, content, quarantine_hash)
        # read back, not taken from the lift: the store writes some literals its own way ("1.0" as "1")
        after = set(statements_about(store, graph, touched))
        return AssertedChange(frozenset(before - after), frozenset(after - before))
    entities = sorted(committed)
    store.commit(GraphWrites(
        replace={graph: (f"{line}\n".encode() for line in job.staged.lines(entities)), **quarantine_writes,
                 digest_graph: itertools.chain([validated_with], digest_lines(job.digests, sorted(job.digests)))},
        retract=[(graphs.provenance, None, *asserted_by),
                 (graphs.provenance, graph, str(CITY.contentHash), None)],
        add={graphs.provenance: itertools.chain([history, " ".join(stamp).encode() + b" .\n"],
                                                attribution_lines(settings.base_iri, dataset.id, entities))}))
    _keep_digests(job, content, quarantine_hash)
    return None


def _keep_digests(job: _Job, content: str, quarantine: str) -> None:
    """The digests the commit wrote (the digest graph now holds ``job.digests``: the changed ones
    rewritten, the others equal) and its quarantine's hash, for the next job to read without asking
    the store."""
    if job.kept is not None:
        job.kept.save(content, job.digests, quarantine)


def _sorted_lines(data: bytes) -> bytes:
    return b"".join(sorted(set(data.splitlines(keepends=True))))


def committed_data(settings: Settings, store: GraphStore, graphs: list[str] | None = None) -> Graph:
    """The committed triples of the given source graphs (all of them by default), as one graph."""
    chosen = graphs if graphs is not None else _source_graphs(settings, store)
    data = Graph()
    for graph in chosen:
        result = store.query(f"CONSTRUCT {{ ?s ?p ?o }} WHERE {{ GRAPH {URIRef(graph).n3()} {{ ?s ?p ?o }} }}")
        assert isinstance(result, Graph)
        data += result
    return data


def _source_graphs(settings: Settings, store: GraphStore) -> list[str]:
    return [g for g in store.named_graphs() if g.startswith(settings.graphs.source_prefix)]


def reason(settings: Settings, store: GraphStore, vocabulary: Vocabulary | None = None,
           rules: list[Rule] | None = None) -> int:
    """Recompute the spatial relations and the inferred graph from the ontology and all committed
    data; returns the inferred graph's size. Spatial facts come first, so that the reasoner carries
    a located-in the geometry found up the administrative hierarchy like one a department stated.
    OWL 2 RL and the ontology's rules alternate until neither adds anything. An ontology in which
    HermiT (run once per content hash) finds an inconsistency or an unsatisfiable class is refused,
    the inferred graph left as it was."""
    vocabulary = vocabulary or Vocabulary.load(settings)
    tbox = checked_ontology(vocabulary.ontology, vocabulary.content_hash, settings.data_dir)
    if not tbox.ok:
        raise OntologyError(f"refusing to reason: {tbox.problem()}", where=str(settings.ontology_dir),
                            hint="fix the ontology ('citykg ontology check' lists what HermiT finds)")
    rules = rules if rules is not None else load_rules(settings.ontology_dir)
    # imported here: shapely and numpy take 0.3 s to import, which a job whose change reaches no
    # geometry (reasoning incrementally) never needs
    from kg_service.reason.spatial import spatial_relations

    spatial_relations(store, settings.graphs)
    graphs = [*_source_graphs(settings, store), settings.graphs.spatial]
    inputs = _reasoning_inputs(settings, store, vocabulary)
    entailment = entail_layers(vocabulary.ontology, lambda: statements(store, graphs), rules)
    # the inferred graph and the stamp of what it was inferred from, together
    store.commit(GraphWrites(
        replace={settings.graphs.inferred: (f"{s} {p} {o} .\n".encode() for s, p, o in sorted(entailment.facts))},
        retract=[(settings.graphs.provenance, settings.graphs.inferred, str(CITY.contentHash), None)],
        add={settings.graphs.provenance: f"<{settings.graphs.inferred}> <{CITY.contentHash}> "
                                         f"{Literal(inputs).n3()} .\n".encode()}))
    rule_part.save(settings.data_dir, inputs, entailment.by_rules)
    link_candidates(settings, store)
    return len(entailment.facts)


def reason_after(settings: Settings, store: GraphStore, vocabulary: Vocabulary, rules: list[Rule],
                 change: AssertedChange | None, since: str, inputs: str,
                 loading: rule_part.WorkingStoreLoad | None = None) -> tuple[int, str]:
    """Bring the inferred graph, stamped ``since``, up to date after ``change`` (None: unknown) with
    the data stamped ``inputs``, correcting it where the change reaches when that can be done
    (``reason.incremental``), else recomputing it; returns its size and which of the two was done
    (with why not incrementally). ``loading``: the rules' kept working store, being read already."""
    if change is None:
        return reason(settings, store, vocabulary, rules), "full: the inferred graph did not follow the data " \
                                                          "before this run, or a job replaced a dataset whole"
    graphs = settings.graphs
    by_rules = rule_part.load(settings.data_dir, since)
    kept = rule_part.KeptWorkingStore(settings.data_dir, since, inputs, loading)
    try:
        correction = correct_inferred(
            store, ReasonedGraphs([*_source_graphs(settings, store), graphs.spatial], graphs.inferred, by_rules,
                                  kept), vocabulary.ontology, rules, change)
    except NeedsFullReasoning as why:
        return reason(settings, store, vocabulary, rules), f"full: {why}"
    store.commit(GraphWrites(
        retract=[*((graphs.inferred, s[1:-1], None, None) for s in sorted(correction.subjects)),
                 (graphs.provenance, graphs.inferred, str(CITY.contentHash), None)],
        add={graphs.inferred: "".join(f"{s} {p} {o} .\n" for s, p, o in sorted(correction.after)).encode(),
             graphs.provenance: f"<{graphs.inferred}> <{CITY.contentHash}> {Literal(inputs).n3()} .\n".encode()}))
    rule_part.save(settings.data_dir, inputs,
                   correction.rule_conclusions if correction.rule_conclusions is not None else by_rules)
    # No geometry changed here (that takes the full path), so only names and links of placed records can.
    if reads_candidates(change.statements) and changes_candidates(store, graphs.source_prefix, change.statements):
        link_candidates(settings, store)
    return store.count(graphs.inferred), "incremental"


def link_candidates(settings: Settings, store: GraphStore) -> int:
    """Recompute the candidate links between departments' records; returns how many were proposed."""
    prefix = settings.graphs.source_prefix
    near = find_candidates(read_features(store, prefix))
    linked = {frozenset(pair) for pair in read_links(store, prefix, [(c.left.iri, c.right.iri) for c in near])}
    candidates = [c for c in near if frozenset((c.left.iri, c.right.iri)) not in linked]
    store.replace_graph(settings.graphs.candidates,
                        candidate_graph(candidates, settings.base_iri).serialize(format="nt", encoding="utf-8"),
                        RdfFormat.N_TRIPLES)
    return len(candidates)


def validate_committed(settings: Settings, store: GraphStore,
                       selectors: list[str] | None = None) -> dict[str, GateReport]:
    """Re-run the gate over datasets already in the store (after a shape changed, say), a chunk
    of entities at a time as a full job does."""
    vocabulary = Vocabulary.load(settings)
    reports: dict[str, GateReport] = {}
    for dataset in find_datasets(settings.mappings_dir, selectors):
        rows = store.select_text(f"SELECT ?s ?p ?o WHERE {{ GRAPH <{settings.graphs.source(dataset.id)}> "
                                 "{ ?s ?p ?o } }")
        staged = Staged.of_lines(f"{s} {p} {o} ." for s, p, o in rows)
        findings = {finding for scope in whole_in_chunks(vocabulary.reach, staged, GATE_CHUNK)
                    for finding in vocabulary.gate.validate(staging_graph(scope.text), scope.focus,
                                                            scope.text).findings}
        reports[dataset.id] = GateReport(sorted(findings, key=lambda f: (f.focus_node, f.path or "", f.message,
                                                                          f.value or "", f.shape or "")))
    return reports
