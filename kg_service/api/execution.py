"""Run a compiled request against the store, level by level, and count the round trips.

The page query picks the entities; then, for each level of nesting, one values query reads every
selected field of every entity at that level (the union of what the level's selections ask), and
the entities the level links to are the next level. Store round trips: one for the page, one for
the total count when asked, one per level: bounded by the query's depth, never by its rows.
"""

from __future__ import annotations

import threading
from collections import OrderedDict, defaultdict
from collections.abc import Hashable, Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any, Protocol

from rdflib import XSD

from kg_service.api.compiler import (
    ASSERTED_COLUMN,
    CLASS_COLUMN,
    INFERRED_CLASS_COLUMN,
    AggregateQuery,
    PageQuery,
    QueryCompiler,
    SparqlCompiler,
    Step,
)
from kg_service.api.model import Field
from kg_service.config import Settings
from kg_service.store import Term, TermRows


class Selecting(Protocol):
    """Where compiled queries run: the store for SPARQL, ``cypher.CypherRunner`` for Cypher."""

    def select_terms(self, sparql: str, *, bindings: Any = None) -> TermRows:
        ...


@dataclass
class Plan:
    """What a selection asks of the entities at one place of the request.

    The defaults read everything about an entity's classes and provenance; the schema narrows them
    to what the selection needs (an entity of a page of schools is read for the one class that makes
    it a School, not for its five), which halves the rows a values query returns."""

    scalars: dict[str, Field] = field(default_factory=dict)  # field name -> field
    links: dict[str, tuple[Field, Plan]] = field(default_factory=dict)  # object fields, with what they ask
    classes: set[str] | None = None  # class IRIs whose membership matters here; None: every class
    inferred_classes: bool = True  # the classes only reasoning gave
    asserted: bool = True  # which datasets state the entity

    def steps(self) -> set[Step]:
        steps = {_step(f) for f in (*self.scalars.values(), *(f for f, _ in self.links.values()))}
        return steps | {ASSERTED_COLUMN} if self.asserted else steps

    def merge(self, other: Plan) -> None:
        self.scalars |= other.scalars
        for name, (f, child) in other.links.items():
            if name in self.links:
                self.links[name][1].merge(child)
            else:
                self.links[name] = (f, child)
        self.classes = None if self.classes is None or other.classes is None else self.classes | other.classes
        self.inferred_classes |= other.inferred_classes
        self.asserted |= other.asserted


@dataclass
class EntityValues:
    """One entity's values, by step, as the store gave them, and what has been read of it."""

    iri: str
    values: dict[Step, list[Term]] = field(default_factory=lambda: defaultdict(list))
    classes: set[str] = field(default_factory=set)  # of those read: every class, or the checked ones
    inferred_types: set[str] = field(default_factory=set)
    read: set[Step] = field(default_factory=set)  # the steps already read: read again, values would repeat
    every_class_read: bool = False
    classes_checked: set[str] = field(default_factory=set)
    inferred_read: bool = False

    @property
    def types(self) -> list[str]:
        return sorted(self.classes)

    @property
    def asserted_by(self) -> list[str]:
        return sorted({term.value for term in self.values.get(ASSERTED_COLUMN, ())})

    def unread_classes(self, wanted: set[str] | None) -> set[str] | None:
        """Of ``wanted`` (None: every class), what is not known yet; None: every class is needed."""
        if self.every_class_read:
            return set()
        return None if wanted is None else wanted - self.classes_checked


@dataclass(frozen=True)
class Page:
    ids: list[str]
    total: int  # how many entities the filters select, on every page


class RoundTrips:
    """Counts the store queries a request makes (thread-safe: requests run in worker threads)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.count = 0

    def add(self) -> None:
        with self._lock:
            self.count += 1


class ClassMembers:
    """Each class's members sorted by IRI, kept per store and data version, so that a class's pages
    without a filter (the commonest request) read no store until the next write.

    The store gives a class's members in an order of its own, so even the first page by IRI needs
    them all, decoded and sorted: 50-150 ms for the 19k enterprises of a 100k-entity city. A write
    changes the store's data version, and the next page reads them again; the oldest of
    ``capacity`` lists is dropped first."""

    def __init__(self, capacity: int = 32) -> None:
        self.capacity = capacity
        self._lists: OrderedDict[tuple[Hashable, str], list[str]] = OrderedDict()
        self._lock = threading.Lock()  # requests run in worker threads

    def get(self, key: tuple[Hashable, str]) -> list[str] | None:
        with self._lock:
            found = self._lists.get(key)
            if found is not None:
                self._lists.move_to_end(key)
            return found

    def put(self, key: tuple[Hashable, str], members: list[str]) -> None:
        with self._lock:
            self._lists[key] = members
            while len(self._lists) > self.capacity:
                self._lists.popitem(last=False)


CLASS_MEMBERS = ClassMembers()


class Executor:
    """Pages and values from the store, over the union of its committed graphs.

    The union is what Oxigraph plans best (an explicit list of a dozen graphs made scans 3-7x
    slower). It serves no refused data: a quarantine graph holds records about refused entities
    (file, line, raw values, reasons), never an entity's own statements, and the digest and
    provenance graphs hold bookkeeping about entities, none of the properties the schema reads."""

    def __init__(self, store: Selecting, settings: Settings, compiler: QueryCompiler | None = None,
                 round_trips: RoundTrips | None = None) -> None:
        self.store, self.settings = store, settings
        self.compiler = compiler or SparqlCompiler()
        self.round_trips = round_trips or RoundTrips()

    def page(self, query: PageQuery) -> Page:
        """The page's entities, ordered by the query's keys and then by IRI, and the total: the
        page query returns every selected entity, so the count comes with it."""
        # Cypher's runner has no data version: the database is written by other processes too.
        version = getattr(self.store, "data_version", None) if query.whole_class else None
        ordered = CLASS_MEMBERS.get((version, query.class_iri)) if version is not None else None
        if ordered is None:
            compiled = self.compiler.page(query)
            ordered = _ordered(self.select(compiled.text, compiled.bindings), query.order)
            if version is not None:
                CLASS_MEMBERS.put((version, query.class_iri), ordered)
        return Page(ordered[query.offset:query.offset + query.limit], len(ordered))

    def count(self, query: PageQuery) -> int:
        compiled = self.compiler.count(query)
        rows = self.select(compiled.text, compiled.bindings)
        return int(rows[0][0].value) if rows and rows[0][0] is not None else 0

    def aggregate(self, query: AggregateQuery) -> list[dict[str, Term | None]]:
        """One row per group: ``key``, ``label``, ``count``, ``m0``, ``m1``..."""
        compiled = self.compiler.aggregate(query)
        return self._result(compiled.text, compiled.bindings).dicts()

    def load(self, roots: Sequence[str], plan: Plan, *, roots_class: str | None = None) -> dict[str, EntityValues]:
        """The entities of ``roots`` and every entity the plan's links reach, with the values the plan
        asks for: one store query per level (the plan tree is finite, so the levels end).
        ``roots_class`` is a class every root is known to belong to (the class a page selected):
        its membership is not read again."""
        entities: dict[str, EntityValues] = {}
        if roots_class is not None:
            for iri in roots:
                entities[iri] = EntityValues(iri, classes={roots_class}, classes_checked={roots_class})
        level: list[tuple[str, Plan]] = [(iri, plan) for iri in roots]
        while level:
            wanted = _Wanted()
            for iri, asked in level:
                entity = entities.setdefault(iri, EntityValues(iri))
                wanted.add(entity, asked)
            if wanted.entities:
                self._read_values(wanted, entities)
            following: dict[tuple[str, int], tuple[str, Plan]] = {}
            for iri, asked in level:
                for linked, child in asked.links.values():
                    for term in entities[iri].values.get(_step(linked), ()):
                        if term.is_iri:
                            following[(term.value, id(child))] = (term.value, child)
            level = list(following.values())
        return entities

    def _read_values(self, wanted: _Wanted, entities: dict[str, EntityValues]) -> None:
        steps = sorted(set().union(*wanted.steps.values()), key=lambda s: (s.path, s.inverse))
        iris = sorted(wanted.entities)
        classes = None if wanted.every_class else sorted(wanted.classes)
        inferred_graph = self.settings.graphs.inferred if wanted.inferred else None
        compiled = self.compiler.values(iris, steps, classes, inferred_graph)
        for subject, column, value in self.select(compiled.text, compiled.bindings):
            if subject is None or column is None or value is None:
                continue
            entity, index = entities[subject.value], int(column.value)
            if index == CLASS_COLUMN:
                entity.classes.add(value.value)
            elif index == INFERRED_CLASS_COLUMN:
                entity.inferred_types.add(value.value)
            elif steps[index] in wanted.steps.get(entity.iri, ()):
                entity.values[steps[index]].append(value)
        for iri in iris:  # what the query read, it read for every entity in it
            entity = entities[iri]
            for step in wanted.steps.get(iri, ()):  # in a stable order: the store's is none
                entity.values[step].sort(key=_term_order)
            entity.read |= wanted.steps.get(iri, set())
            if classes is None:
                entity.every_class_read = True
            else:
                entity.classes_checked |= wanted.classes
            entity.inferred_read |= wanted.inferred

    def select(self, text: str, bindings: dict[str, Any]) -> list[tuple[Term | None, ...]]:
        return self._result(text, bindings).rows

    def _result(self, text: str, bindings: dict[str, Any]) -> TermRows:
        """One store round trip, counted."""
        self.round_trips.add()
        return self.store.select_terms(text, bindings=bindings or None)


class _Wanted:
    """What one level's values query must read: the union of its entities' unread needs."""

    def __init__(self) -> None:
        self.steps: dict[str, set[Step]] = defaultdict(set)
        self.classes: set[str] = set()
        self.every_class = False
        self.inferred = False
        self.entities: set[str] = set()
        self._plan_steps: dict[int, set[Step]] = {}  # a level's entities share a few plans

    def _steps_of(self, plan: Plan) -> set[Step]:
        if id(plan) not in self._plan_steps:
            self._plan_steps[id(plan)] = plan.steps()
        return self._plan_steps[id(plan)]

    def add(self, entity: EntityValues, asked: Plan) -> None:
        steps = self._steps_of(asked) - entity.read
        classes = entity.unread_classes(asked.classes)
        inferred = asked.inferred_classes and not entity.inferred_read
        if steps:
            self.steps[entity.iri] |= steps
        if classes is None:
            self.every_class = True
        else:
            self.classes |= classes
        self.inferred |= inferred
        if steps or classes is None or classes or inferred:
            self.entities.add(entity.iri)


def _step(f: Field) -> Step:
    return Step(f.path, f.inverse)


def _ordered(rows: Sequence[tuple[Term | None, ...]], order: Sequence[tuple[Step, bool]]) -> list[str]:
    """The entities of page rows (``entity``, then a value per order key), by their keys and then
    their IRIs. An entity with several values of a key sorts by the smallest going up and by the
    largest going down; one without a value sorts first going up, last going down (as SPARQL does)."""
    keys: dict[str, list[tuple[Any, ...]]] = {}
    for entity, *values in rows:
        if entity is None:
            continue
        found = [_sort_key(value) for value in values]
        known = keys.setdefault(entity.value, found)
        if known is not found:
            for index, (value, (_, descending)) in enumerate(zip(found, order, strict=False)):
                if value != _UNBOUND and (known[index] == _UNBOUND or (value > known[index]) == descending):
                    known[index] = value
    ids = sorted(keys)
    for index in reversed(range(len(order))):  # stable sorts, the last key first
        ids.sort(key=lambda iri: keys[iri][index], reverse=order[index][1])
    return ids


_UNBOUND: tuple[Any, ...] = (0,)
_NUMBERS = {str(XSD[name]) for name in ("integer", "decimal", "int", "long", "short", "byte", "nonNegativeInteger",
                                         "positiveInteger", "unsignedInt", "unsignedLong")}
_FLOATS = {str(XSD.double), str(XSD.float)}


def _sort_key(term: Term | None) -> tuple[Any, ...]:
    """SPARQL's order: unbound, blank nodes, IRIs, literals (numbers by value, the rest by text)."""
    if term is None:
        return _UNBOUND
    if term.datatype is None:
        return (1 if term.value.startswith("_:") else 2, 0, term.value)
    try:
        if term.datatype in _NUMBERS and (number := Decimal(term.value)).is_finite():
            return 3, 0, number
        if term.datatype in _FLOATS:
            return 3, 0, float(term.value)
    except (ArithmeticError, ValueError):
        pass
    return 3, 1, term.value


def _term_order(term: Term) -> tuple[str, str, str]:
    return term.value, term.datatype or "", term.language or ""
