"""The engine: runs a mapping's triples maps over their sources, one record at a time.

Each record yields its statements together with where it came from, so the validation gate can
quarantine a bad record with its raw values, and a bad record never stops the others.
https://w3id.org/rml/core/spec#generated-triples
"""

from __future__ import annotations

import itertools
from collections import defaultdict
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from kg_service.errors import MappingError, RecordError
from kg_service.lift import sources
from kg_service.lift.memo import RowMemo, joins_other_rows
from kg_service.lift.model import JoinCondition, Mapping, RefObjectMap, TermMap, TriplesMap, ValueKind
from kg_service.lift.sources import CsvRecord, Record
from kg_service.lift.tabular import Batch, LiftedRow, TabularPlan
from kg_service.lift.terms import lexical, lexical_of, make_terms

_RDF_TYPE = "<http://www.w3.org/1999/02/22-rdf-syntax-ns#type>"
JoinKey = tuple[str, ...]


@dataclass(slots=True)
class LiftedRecord:
    """One source record and what the mapping made of it."""

    source: Path
    line: int  # the CSV line the record starts on, or the record's position in a JSON source
    values: dict[str, str]  # the raw record, for quarantine and duplicate detection
    subject: str | None = None  # N-Triples form of the record's (first) subject
    triples: Sequence[str] = ()  # default-graph statements, N-Triples lines
    quads: Sequence[str] = ()  # named-graph statements, N-Quads lines
    error: str | None = None  # why the record could not be lifted; it then has no statements
    skip_reason: str | None = None  # why the record made no statements although nothing was wrong with it
    digest: str | None = None  # of ``triples``, when the row memo knew it and all are about ``subject``


BATCH_ROWS = 2000  # rows of a tabular source lifted together: large enough to amortise, small to stay bounded


def lift(mapping: Mapping, base_iri: str, memo: RowMemo | None = None) -> Iterator[LiftedRecord]:
    """Yield every record of every triples map of ``mapping``, in source order; with a ``memo``,
    CSV rows lifted the same way last time are taken from it instead of lifted again."""
    parents = _ParentIndex(mapping, base_iri)
    for index, triples_map in enumerate(mapping.triples_maps):
        _check_references(triples_map, mapping)
        base = triples_map.base_iri or base_iri
        if TabularPlan.supports(triples_map) and _parents_exist(triples_map, mapping):
            usable = memo if memo is not None and not joins_other_rows(mapping, index) else None
            yield from _lift_tabular(triples_map, mapping, base, parents, _Remembered(usable, index))
        else:
            for line, record in sources.iter_records(triples_map.source):
                yield _lift_one(triples_map, line, record, base, parents)


@dataclass(slots=True)
class LiftedChunk:
    """A batch of records for bulk output: the statements of those lifted, and those that were not."""

    read: int
    statements: list[str]  # N-Triples, or N-Quads for named-graph statements
    problems: list[LiftedRecord]  # records that failed or were skipped, each with its reason


def lift_chunks(mapping: Mapping, base_iri: str) -> Iterator[LiftedChunk]:
    """What ``lift`` makes, a batch at a time, without a record object per lifted row."""
    parents = _ParentIndex(mapping, base_iri)
    for triples_map in mapping.triples_maps:
        _check_references(triples_map, mapping)
        base = triples_map.base_iri or base_iri
        if TabularPlan.supports(triples_map) and _parents_exist(triples_map, mapping):
            for batch, numbers, lifted_rows in _tabular_batches(triples_map, mapping, base, parents):
                if lifted_rows is None:
                    yield _chunk(list(_row_by_row(triples_map, batch, numbers, base, parents)))
                    continue
                problems = [LiftedRecord(triples_map.source.path, line, dict(zip(batch.header, row, strict=False)),
                                         skip_reason=_no_subject(triples_map))
                            for line, row, made in zip(numbers, batch.rows, lifted_rows, strict=True)
                            if made.subject is None]
                yield LiftedChunk(len(batch), [t for made in lifted_rows for t in made.triples], problems)
        else:
            records = (_lift_one(triples_map, line, record, base, parents)
                       for line, record in sources.iter_records(triples_map.source))
            while records_batch := list(itertools.islice(records, BATCH_ROWS)):
                yield _chunk(records_batch)


def _chunk(records: list[LiftedRecord]) -> LiftedChunk:
    good = [r for r in records if r.error is None and r.skip_reason is None]
    return LiftedChunk(len(records), [s for r in good for s in (*r.triples, *r.quads)],
                       [r for r in records if r.error is not None or r.skip_reason is not None])


def _lift_one(triples_map: TriplesMap, line: int, record: Record, base_iri: str,
              parents: _ParentIndex) -> LiftedRecord:
    lifted = LiftedRecord(source=triples_map.source.path, line=line, values=record.raw())
    made = _Made()
    try:
        _lift_record(triples_map, record, lifted, made, base_iri, parents)
    except RecordError as error:  # the record makes nothing, not what it made before failing
        lifted.error = error.problem
    else:
        lifted.triples, lifted.quads = made.triples, made.quads
    return lifted


def _lift_tabular(triples_map: TriplesMap, mapping: Mapping, base_iri: str,
                  parents: _ParentIndex, remembered: _Remembered) -> Iterator[LiftedRecord]:
    for batch, numbers, lifted_rows in _tabular_batches(triples_map, mapping, base_iri, parents, remembered):
        if lifted_rows is None:
            yield from _row_by_row(triples_map, batch, numbers, base_iri, parents)
            continue
        path, no_subject = triples_map.source.path, _no_subject(triples_map)
        for line, record, made in zip(numbers, batch.records, lifted_rows, strict=True):
            yield LiftedRecord(source=path, line=line, values=record.values, subject=made.subject,
                               triples=made.triples, error=made.error,
                               skip_reason=None if made.subject is not None or made.error else no_subject,
                               digest=made.digest)


@dataclass(frozen=True)
class _Remembered:
    """A row memo, and which triples map of the mapping its keys are for."""

    memo: RowMemo | None
    map_index: int

    def run(self, plan: TabularPlan, batch: Batch) -> list[LiftedRow]:
        """The plan over the rows the memo does not know; the others as it remembers them."""
        memo = self.memo
        if memo is None:
            return plan.run(batch)
        prefix = RowMemo.prefix(self.map_index, batch.header)
        keys = [RowMemo.key(prefix, row) for row in batch.rows]
        made: list[LiftedRow | None] = [memo.get(key) for key in keys]
        missing = [index for index, row in enumerate(made) if row is None]
        if missing:
            fresh = plan.run(Batch(batch.header, [batch.rows[index] for index in missing], batch.nulls))
            for index, row in zip(missing, fresh, strict=True):
                made[index] = row
                memo.keep(keys[index], row)
        return [row for row in made if row is not None]


_NOTHING_REMEMBERED = _Remembered(None, 0)


def _tabular_batches(triples_map: TriplesMap, mapping: Mapping, base_iri: str, parents: _ParentIndex,
                     remembered: _Remembered = _NOTHING_REMEMBERED
                     ) -> Iterator[tuple[Batch, list[int], list[LiftedRow] | None]]:
    """CSV rows a batch at a time through the compiled plan, each batch with its line numbers and
    what the plan made of it, or None when a row failed: that batch then goes row by row."""
    plan = TabularPlan(triples_map, mapping, base_iri, lambda ref, row: parents.subjects(ref, row, triples_map))
    rows = sources.csv_rows(triples_map.source)
    _, header = next(rows, (1, []))
    while chunk := list(itertools.islice(rows, BATCH_ROWS)):
        batch = Batch(header, [row for _, row in chunk], triples_map.source.nulls)
        numbers = [line for line, _ in chunk]
        try:
            if any(len(row) != len(header) for row in batch.rows):
                raise RecordError("a malformed row")
            yield batch, numbers, remembered.run(plan, batch)
        except RecordError:
            yield batch, numbers, None


def _row_by_row(triples_map: TriplesMap, batch: Batch, numbers: list[int], base_iri: str,
                parents: _ParentIndex) -> Iterator[LiftedRecord]:
    header = batch.header
    for line, row in zip(numbers, batch.rows, strict=True):
        problem = None if len(row) == len(header) else f"the row has {len(row)} fields, the header {len(header)}"
        record = CsvRecord(dict(zip(header, row, strict=False)), batch.nulls, problem)
        yield _lift_one(triples_map, line, record, base_iri, parents)


def _no_subject(triples_map: TriplesMap) -> str:
    return f"no subject: a value the subject map needs ({', '.join(triples_map.subject.references)}) is empty"


def _parents_exist(triples_map: TriplesMap, mapping: Mapping) -> bool:
    """A missing parent triples map is reported by the per-record path, with where it is referred to."""
    names = {m.name for m in mapping.triples_maps}
    return all(o.parent in names for pom in triples_map.predicate_objects for o in pom.objects
               if isinstance(o, RefObjectMap))


def _lift_record(triples_map: TriplesMap, record: Record, lifted: LiftedRecord, made: _Made, base_iri: str,
                 parents: _ParentIndex) -> None:
    subjects = make_terms(triples_map.subject, record, base_iri)
    if not subjects:  # as NULL in R2RML: no subject, no statements; the pipeline reports it as skipped
        lifted.skip_reason = _no_subject(triples_map)
        return
    lifted.subject = subjects[0]
    subject_graphs = _graphs(triples_map.graphs, record, base_iri)
    for subject in subjects:
        for cls in triples_map.classes:
            made.emit(subject, _RDF_TYPE, f"<{cls}>", subject_graphs)
        for pom in triples_map.predicate_objects:
            graphs = subject_graphs | _graphs(pom.graphs, record, base_iri) if pom.graphs else subject_graphs
            predicates = [p for term_map in pom.predicates for p in make_terms(term_map, record, base_iri)]
            objects: list[str] = []
            for object_map in pom.objects:
                if isinstance(object_map, RefObjectMap):
                    objects.extend(parents.subjects(object_map, record, triples_map))
                else:
                    objects.extend(make_terms(object_map, record, base_iri))
            for predicate in predicates:
                for obj in objects:
                    made.emit(subject, predicate, obj, graphs)


def _graphs(graph_maps: tuple[TermMap, ...], record: Record, base_iri: str) -> set[str | None]:
    """The graphs statements go to; None is the default graph."""
    if not graph_maps:
        return {None}
    graphs: set[str | None] = set()
    for graph_map in graph_maps:
        if graph_map.is_default_graph:
            graphs.add(None)
        else:
            graphs.update(make_terms(graph_map, record, base_iri))
    return graphs


@dataclass(slots=True)
class _Made:
    """The statements one record makes, gathered while it is lifted."""

    triples: list[str] = field(default_factory=list)
    quads: list[str] = field(default_factory=list)

    def emit(self, subject: str, predicate: str, obj: str, graphs: set[str | None]) -> None:
        for graph in graphs:
            if graph is None:
                self.triples.append(f"{subject} {predicate} {obj} .")
            else:
                self.quads.append(f"{subject} {predicate} {obj} {graph} .")


class _ParentIndex:
    """Subjects of parent triples maps, indexed by their join values (built once per join, lazily)."""

    def __init__(self, mapping: Mapping, base_iri: str) -> None:
        self.mapping = mapping
        self.base_iri = base_iri
        self._indexes: dict[tuple[str, tuple[JoinCondition, ...]], dict[JoinKey, list[str]]] = {}

    def subjects(self, ref: RefObjectMap, record: Record, child_map: TriplesMap) -> list[str]:
        try:
            parent = self.mapping.triples_map(ref.parent)
        except KeyError:
            raise MappingError(f"the parent triples map {ref.parent} does not exist",
                               where=f"{self.mapping.path}: triples map {child_map.name}") from None
        base = parent.base_iri or self.base_iri
        if not ref.joins:
            # Without a join condition the parent's subject is made from the same record.
            return make_terms(parent.subject, record, base)
        index = self._index(parent, ref.joins, base)
        found: list[str] = []
        for key in _keys([c.child for c in ref.joins], record, base):
            found.extend(s for s in index.get(key, []) if s not in found)
        return found

    def _index(self, parent: TriplesMap, joins: tuple[JoinCondition, ...], base: str) -> dict[JoinKey, list[str]]:
        cache_key = (parent.name, joins)
        if cache_key not in self._indexes:
            index: dict[JoinKey, list[str]] = defaultdict(list)
            for _, record in sources.iter_records(parent.source):
                try:
                    subjects = make_terms(parent.subject, record, base)
                    keys = _keys([c.parent for c in joins], record, base)
                except RecordError:
                    continue  # the parent record is reported when its own triples map runs
                for key in keys:
                    index[key].extend(subjects)
            self._indexes[cache_key] = index
        return self._indexes[cache_key]


def _keys(sides: list[TermMap], record: Record, base: str) -> list[JoinKey]:
    """Every combination of the join values a record has (a JSON array gives several)."""
    values = []
    for side in sides:
        if side.kind is ValueKind.REFERENCE:
            side_values = [lexical(v) for v in record.get(side.value)]
        else:
            side_values = [lexical_of(term) for term in make_terms(side, record, base)]
        if not side_values:
            return []
        values.append(side_values)
    return [tuple(key) for key in itertools.product(*values)]


def _check_references(triples_map: TriplesMap, mapping: Mapping) -> None:
    """A reference to a column a CSV source lacks is a mapping bug: fail before lifting anything."""
    header = sources.columns(triples_map.source)
    if header is None:
        return
    known = set(header)
    term_maps: list[TermMap] = [triples_map.subject, *triples_map.graphs]
    for pom in triples_map.predicate_objects:
        term_maps.extend(pom.predicates)
        term_maps.extend(pom.graphs)
        for obj in pom.objects:
            if isinstance(obj, RefObjectMap):
                term_maps.extend(c.child for c in obj.joins)
            else:
                term_maps.append(obj)
    for term_map in term_maps:
        for reference in term_map.references:
            if reference not in known:
                raise MappingError(
                    f"term '{term_map.value}' refers to column '{reference}', which "
                    f"{triples_map.source.path.name} does not have",
                    where=f"{mapping.path}: triples map {triples_map.name}",
                    hint=f"columns are: {', '.join(sorted(known))}",
                )
