"""A dataset's freshly lifted statements against what the store holds from its last job.

Every entity's statements (those with it as subject) get a digest. The digests of the last job live
in the dataset's digest graph, written in the same commit as the data, so comparing them tells
which entities changed without reading the dataset's graph back. The store is then asked only
about the changed entities and their neighbours: which focus nodes the change can affect (through
the steps the shapes take, ``validate.scope``) and which statements validating them reads.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from kg_service.lift import LiftedRecord
from kg_service.lift.terms import lexical_of, statements_digest
from kg_service.namespaces import CITY, GraphNames
from kg_service.provenance import content_stamp
from kg_service.stamped import load_stamped, save_stamped
from kg_service.store import GraphStore
from kg_service.validate.scope import ANY, Reach, affected, neighbourhood, seeds_of_change

Statement = tuple[str, str, str]  # subject, predicate, object in N-Triples form
_LOOKUP_BATCH = 500  # nodes per store query: a VALUES block of this size stays a quick query


@dataclass
class Staged:
    """One job's lifted statements by subject, in lift order; and the digests of the entities one
    remembered row made whole (``known``). An entity's statements are a list, each once, or, for one
    a remembered row made whole, that row's lines as the memo kept them (read through ``lines``,
    which drops a repeated one): most of those are never read line by line."""

    statements: dict[str, Sequence[str]] = field(default_factory=dict)
    known: dict[str, str] = field(default_factory=dict)

    @classmethod
    def of(cls, records: Iterable[LiftedRecord]) -> Staged:
        by_subject: dict[str, dict[str, None]] = defaultdict(dict)
        remembered: dict[str, Sequence[str]] = {}  # entities one remembered row made, so far whole
        known: dict[str, str] = {}
        for record in records:
            lines, subject = record.triples, record.subject
            if subject and record.digest is not None and subject not in by_subject and subject not in remembered:
                remembered[subject] = lines  # all about its subject, and its digest known
                known[subject] = record.digest
            elif subject and all(line.startswith(f"{subject} ") for line in lines):
                by_subject[subject].update(dict.fromkeys(lines))  # the usual record: one subject
                known.pop(subject, None)
            else:
                _group(by_subject, lines)
                for line in lines:
                    known.pop(line.split(" ", 1)[0], None)
        statements: dict[str, Sequence[str]] = {}
        for subject, lines in remembered.items():
            if subject in by_subject:  # other records added to it: one list, the remembered row's lines first
                statements[subject] = list({**dict.fromkeys(lines), **by_subject.pop(subject)})
            else:
                statements[subject] = lines
        statements.update((subject, list(lines)) for subject, lines in by_subject.items())
        return cls(statements, known)

    @classmethod
    def of_lines(cls, lines: Iterable[str]) -> Staged:
        by_subject: dict[str, dict[str, None]] = defaultdict(dict)
        _group(by_subject, lines)
        return cls({subject: list(lines) for subject, lines in by_subject.items()})

    def digests(self) -> dict[str, str]:
        known = self.known
        return {subject: known.get(subject) or statements_digest(lines) for subject, lines in self.statements.items()}

    def lines(self, subjects: Iterable[str]) -> Iterable[str]:
        for subject in subjects:
            lines = self.statements.get(subject, ())
            yield from lines if isinstance(lines, list) else dict.fromkeys(lines)


def _group(by_subject: dict[str, dict[str, None]], lines: Iterable[str]) -> None:
    """Each line under its subject, once, in the order first seen."""
    for line in lines:
        by_subject[line.split(" ", 1)[0]][line] = None


@dataclass(frozen=True)
class Previous:
    """What the store holds about a dataset from its last job."""

    digests: dict[str, str]  # entity -> digest of what was lifted for it
    refused: dict[str, tuple[str, ...]]  # entities the gate quarantined, with the reasons it gave
    validated_with: str | None  # the ontology content hash the committed data was validated against

    @property
    def committed(self) -> set[str]:
        return set(self.digests) - set(self.refused)


def read_previous(store: GraphStore, graphs: GraphNames, dataset_id: str, kept: KeptDigests | None = None
                  ) -> Previous:
    """What the last job left; its digests from ``kept`` when that file was written for the data
    the store holds now, else from the digest graph."""
    digest_graph, dataset_graph = graphs.digests(dataset_id), graphs.source(dataset_id)
    digests = kept.load(content_stamp(store, graphs.provenance, dataset_graph)) if kept is not None else None
    if digests is None:
        rows = store.select_text(f"SELECT ?s ?d WHERE {{ GRAPH <{digest_graph}> {{ ?s <{CITY.liftDigest}> ?d }} }}")
        digests = {s or "": lexical_of(d or "") for s, d in rows}
    stamp = store.select_text(f"SELECT ?h WHERE {{ GRAPH <{digest_graph}> {{ <{dataset_graph}> "
                              f"<{CITY.validatedWith}> ?h }} }}")
    refusals = store.select_text(f"SELECT DISTINCT ?e ?why WHERE {{ GRAPH <{graphs.quarantine(dataset_id)}> "
                                 f"{{ ?r <{CITY.refusedEntity}> ?e ; <{CITY.refusalReason}> ?why }} }}")
    refused: dict[str, list[str]] = defaultdict(list)
    for entity, reason in refusals:
        refused[entity or ""].append(lexical_of(reason or ""))
    return Previous(digests=digests,
                    refused={entity: tuple(sorted(reasons)) for entity, reasons in refused.items()},
                    validated_with=lexical_of(stamp[0][0] or "") if stamp else None)


class KeptDigests:
    """A dataset's entity digests as its last job committed them, and a hash of the quarantine graph
    it wrote, kept in a file beside the store: reading 62k digests back out of the digest graph
    took 0.8 s of a 10-row change's job, and rewriting an unchanged quarantine graph 0.15 s. The file
    counts only under the content hash the commit gave the dataset's graph, and is removed before
    the next commit, so one left by an interrupted job, or by a job on another store, is never read."""

    _FORMAT = "citykg-digests-2"

    def __init__(self, path: Path) -> None:
        self.path = path
        self.loaded_for: str | None = None  # the content hash of the digests ``load`` last found
        self.quarantine: str | None = None  # the hash of the quarantine graph they were committed with

    def load(self, content: str | None) -> dict[str, str] | None:
        kept = load_stamped(self.path, f"{self._FORMAT} {content}") if content is not None else None
        digests, self.quarantine = kept if kept is not None else (None, None)
        self.loaded_for = content if digests is not None else None
        return digests

    def forget(self) -> None:
        self.path.unlink(missing_ok=True)
        self.loaded_for = self.quarantine = None

    def save(self, content: str, digests: dict[str, str], quarantine: str) -> None:
        try:
            save_stamped(self.path, f"{self._FORMAT} {content}", (digests, quarantine))
        except OSError:
            self.forget()  # nothing kept: the next job reads the digest graph


@dataclass(frozen=True)
class Change:
    """The entities whose lifted statements differ from the last job's."""

    changed: set[str]  # new, or lifted differently
    removed: set[str]  # lifted last time, not now

    @classmethod
    def between(cls, previous: Previous, digests: dict[str, str]) -> Change:
        return cls(changed={s for s, d in digests.items() if previous.digests.get(s) != d},
                   removed=set(previous.digests) - set(digests))

    def __len__(self) -> int:
        return len(self.changed) + len(self.removed)


class StagedNeighbours:
    """Lookups into the dataset's staging graph, before and after the change.

    Entities the job changed, and the quarantined ones, are read from memory; every other entity's
    statements are what the store already holds for it, so they are read from there."""

    def __init__(self, store: GraphStore, graph: str, staged: Staged, change: Change, refused: Iterable[str]
                 ) -> None:
        self._store, self._graph, self._staged = store, graph, staged
        self._stale = change.changed | change.removed  # whose statements in the store no longer hold
        self._pointing: dict[str, list[Statement]] = defaultdict(list)  # object -> in-memory statements
        for subject in change.changed | set(refused):
            for line in staged.statements.get(subject, ()):
                statement = split_statement(line)
                self._pointing[statement[2]].append(statement)

    # before and after: everything either state holds
    def statements_either(self, nodes: set[str]) -> list[Statement]:
        return [*self._store_statements(nodes), *self.statements_after(nodes)]

    def pointing_at_either(self, nodes: set[str], predicates: frozenset[str] | None = None) -> list[Statement]:
        return [*self._store_pointing_at(nodes, predicates), *self._memory_pointing_at(nodes)]

    # after the change only
    def statements_after(self, nodes: set[str]) -> list[Statement]:
        return [split_statement(line) for line in self._staged.lines(nodes)]

    def pointing_at_after(self, nodes: set[str], predicates: frozenset[str] | None = None) -> list[Statement]:
        return [*(s for s in self._store_pointing_at(nodes, predicates) if s[0] not in self._stale),
                *self._memory_pointing_at(nodes)]

    def _memory_pointing_at(self, nodes: set[str]) -> list[Statement]:
        return [statement for node in nodes for statement in self._pointing.get(node, ())]

    def _store_statements(self, nodes: set[str]) -> list[Statement]:
        return self._lookup(nodes, "?s", None)

    def _store_pointing_at(self, nodes: set[str], predicates: frozenset[str] | None) -> list[Statement]:
        return self._lookup(nodes, "?o", predicates)

    def _lookup(self, nodes: set[str], variable: str, predicates: frozenset[str] | None) -> list[Statement]:
        return statements_about(self._store, self._graph, nodes, variable, predicates)


def statements_about(store: GraphStore, graph: str, nodes: Iterable[str], variable: str = "?s",
                     predicates: frozenset[str] | None = None) -> list[Statement]:
    """The store's statements of ``graph`` with ``variable`` (?s or ?o) one of ``nodes``, and a
    predicate among ``predicates`` (any when None or ANY is among them): a node many statements
    point at (a sensor, a district) is asked only for the steps a shape takes."""
    iris = sorted(node for node in nodes if node.startswith("<"))
    # A FILTER, not a second VALUES block: the store joins two VALUES blocks with every quad (30x slower).
    wanted = "" if predicates is None or ANY in predicates else f"FILTER (?p IN ({', '.join(sorted(predicates))}))"
    found: list[Statement] = []
    for start in range(0, len(iris), _LOOKUP_BATCH):
        values = " ".join(iris[start:start + _LOOKUP_BATCH])
        query = (f"SELECT ?s ?p ?o WHERE {{ GRAPH <{graph}> {{ VALUES {variable} {{ {values} }} "
                 f"?s ?p ?o {wanted} }} }}")
        found.extend((s or "", p or "", o or "") for s, p, o in store.select_text(query))
    return found


def focus_and_data(reach: Reach, staged: Staged, change: Change, previous: Previous,
                   neighbours: StagedNeighbours) -> Scope:
    """The focus nodes whose validation the change can alter, and the part of the staging graph
    validating them reads. A quarantined entity the change cannot reach keeps its refusal."""
    changed_statements = neighbours.statements_either(change.changed | change.removed)
    seeds, targets = seeds_of_change(reach, changed_statements)
    reached = affected(reach, seeds, neighbours.statements_either, neighbours.pointing_at_either)
    focus = (reached | targets) & (set(staged.statements) | targets)
    needed = neighbourhood(reach, focus, neighbours.statements_after, neighbours.pointing_at_after)
    return Scope(focus, "\n".join(staged.lines(needed)))


class MemoryNeighbours:
    """Lookups into a staging graph held in memory only (a first or full job)."""

    def __init__(self, staged: Staged, backward: frozenset[str]) -> None:
        self._staged = staged
        self._pointing: dict[str, list[Statement]] = defaultdict(list)  # object -> statements, backward steps only
        for lines in staged.statements.values():
            for line in lines:
                statement = split_statement(line)
                if ANY in backward or statement[1] in backward:
                    self._pointing[statement[2]].append(statement)

    def statements(self, nodes: set[str]) -> list[Statement]:
        return [split_statement(line) for line in self._staged.lines(nodes)]

    def pointing_at(self, nodes: set[str], predicates: frozenset[str] | None = None) -> list[Statement]:
        return [statement for node in nodes for statement in self._pointing.get(node, ())]


@dataclass(frozen=True)
class Scope:
    """Focus nodes (None: every one) and the staging statements validating them reads."""

    focus: set[str] | None
    text: str


def whole_in_chunks(reach: Reach, staged: Staged, chunk: int) -> Iterator[Scope]:
    """The whole staged dataset, validated ``chunk`` entities at a time, each chunk with the statements
    its entities reach: the gate's memory then grows with the chunk, not with the dataset."""
    subjects = sorted(staged.statements)
    if reach.whole_graph or len(subjects) <= chunk:
        yield Scope(None, "\n".join(staged.lines(subjects)))
        return
    neighbours = MemoryNeighbours(staged, reach.backward)
    for start in range(0, len(subjects), chunk):
        focus = set(subjects[start:start + chunk])
        _, targets = seeds_of_change(reach, neighbours.statements(focus))  # class nodes, sh:targetNode
        focus |= targets
        needed = neighbourhood(reach, focus, neighbours.statements, neighbours.pointing_at)
        yield Scope(focus, "\n".join(staged.lines(needed)))


def content_digest(digests: dict[str, str], subjects: Iterable[str]) -> str:
    """One digest of many entities' digests, independent of their order (a sum, modulo 2^128)."""
    total = sum(int(digests[subject], 16) for subject in subjects) % (1 << 128)
    return f"{total:032x}"


def digest_lines(digests: dict[str, str], subjects: Iterable[str]) -> Iterable[bytes]:
    predicate = f" <{CITY.liftDigest}> "
    return (f'{subject}{predicate}"{digests[subject]}" .\n'.encode() for subject in subjects)


def validated_with_line(graphs: GraphNames, dataset_id: str, ontology_hash: str) -> bytes:
    return f'<{graphs.source(dataset_id)}> <{CITY.validatedWith}> "{ontology_hash}" .\n'.encode()


def split_statement(line: str) -> Statement:
    subject, predicate, rest = line.split(" ", 2)
    return subject, predicate, rest[:-2]  # drop the closing " ."
