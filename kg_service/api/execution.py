"""Run a compiled request against the store, level by level, and count the round trips.

The page query picks the entities; then, for each level of nesting, one values query reads every
selected field of every entity at that level (the union of what the level's selections ask), and
the entities the level links to are the next level. Store round trips: one for the page, one for
the total count when asked, one per level: bounded by the query's depth, never by its rows.
"""

from __future__ import annotations

import threading
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from rdflib import Literal, URIRef
from rdflib.term import Node

from kg_service.api.compiler import (
    ASSERTED_COLUMN,
    TYPES_COLUMN,
    AggregateQuery,
    PageQuery,
    QueryCompiler,
    SparqlCompiler,
    Step,
)
from kg_service.api.model import Field
from kg_service.config import Settings
from kg_service.store import GraphStore, SelectResult


@dataclass
class Plan:
    """What a selection asks of the entities at one place of the request."""

    scalars: dict[str, Field] = field(default_factory=dict)  # field name -> field
    links: dict[str, tuple[Field, Plan]] = field(default_factory=dict)  # object fields, with what they ask

    def steps(self) -> set[Step]:
        return {_step(f) for f in (*self.scalars.values(), *(f for f, _ in self.links.values()))}


@dataclass
class EntityValues:
    """One entity's values, by step, as the store gave them."""

    iri: str
    values: dict[Step, list[Node]] = field(default_factory=lambda: defaultdict(list))
    inferred_types: set[str] = field(default_factory=set)
    read: set[Step] = field(default_factory=set)  # the steps already read: read again, values would repeat

    @property
    def types(self) -> list[str]:
        return sorted({str(node) for node in self.values.get(TYPES_COLUMN, ())})

    @property
    def asserted_by(self) -> list[str]:
        return sorted({str(node) for node in self.values.get(ASSERTED_COLUMN, ())})


class RoundTrips:
    """Counts the store queries a request makes (thread-safe: requests run in worker threads)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.count = 0

    def add(self) -> None:
        with self._lock:
            self.count += 1


class Executor:
    """Pages and values from the store, over the union of its committed graphs.

    The union is what Oxigraph plans best (an explicit list of a dozen graphs made scans 3-7x
    slower). It serves no refused data: a quarantine graph holds records about refused entities
    (file, line, raw values, reasons), never an entity's own statements, and the digest and
    provenance graphs hold bookkeeping about entities, none of the properties the schema reads."""

    def __init__(self, store: GraphStore, settings: Settings, compiler: QueryCompiler | None = None,
                 round_trips: RoundTrips | None = None) -> None:
        self.store, self.settings = store, settings
        self.compiler = compiler or SparqlCompiler()
        self.round_trips = round_trips or RoundTrips()

    def page(self, query: PageQuery) -> list[str]:
        compiled = self.compiler.page(query)
        return [str(row[0]) for row in self.select(compiled.text, compiled.bindings)]

    def count(self, query: PageQuery) -> int:
        compiled = self.compiler.count(query)
        rows = self.select(compiled.text, compiled.bindings)
        return int(rows[0][0].toPython()) if rows and isinstance(rows[0][0], Literal) else 0

    def aggregate(self, query: AggregateQuery) -> list[dict[str, Node | None]]:
        """One row per group: ``key``, ``label``, ``count``, ``m0``, ``m1``..."""
        compiled = self.compiler.aggregate(query)
        return self._result(compiled.text, compiled.bindings).dicts()

    def load(self, roots: Sequence[str], plan: Plan) -> dict[str, EntityValues]:
        """The entities of ``roots`` and every entity the plan's links reach, with the values the plan
        asks for: one store query per level (the plan tree is finite, so the levels end)."""
        entities: dict[str, EntityValues] = {}
        level: list[tuple[str, Plan]] = [(iri, plan) for iri in roots]
        while level:
            needed: dict[str, set[Step]] = defaultdict(set)
            for iri, asked in level:
                read = entities[iri].read if iri in entities else set()
                needed[iri] |= (asked.steps() | {TYPES_COLUMN, ASSERTED_COLUMN}) - read
            needed = {iri: steps for iri, steps in needed.items() if steps}
            if needed:
                self._read_values(needed, entities)
            following: dict[tuple[str, int], tuple[str, Plan]] = {}
            for iri, asked in level:
                for linked, child in asked.links.values():
                    for node in entities[iri].values.get(_step(linked), ()):
                        if isinstance(node, URIRef):
                            following[(str(node), id(child))] = (str(node), child)
            level = list(following.values())
        return entities

    def _read_values(self, needed: dict[str, set[Step]], entities: dict[str, EntityValues]) -> None:
        steps = sorted(set().union(*needed.values()), key=lambda s: (s.path, s.inverse))
        iris = sorted(needed)
        for iri in iris:
            entities.setdefault(iri, EntityValues(iri))
        compiled = self.compiler.values(iris, steps, self.settings.graphs.inferred)
        for subject, column, value in self.select(compiled.text, compiled.bindings):
            entity = entities[str(subject)]
            index = int(column.toPython()) if isinstance(column, Literal) else -2
            if index == -1:
                entity.inferred_types.add(str(value))
            elif value is not None and index >= 0 and steps[index] in needed[entity.iri]:
                entity.values[steps[index]].append(value)
        for iri in iris:
            entities[iri].read |= needed[iri]

    def select(self, text: str, bindings: dict[str, Any]) -> list[tuple[Node | None, ...]]:
        return self._result(text, bindings).rows

    def _result(self, text: str, bindings: dict[str, Any]) -> SelectResult:
        """One store round trip, counted."""
        self.round_trips.add()
        result = self.store.query(text, bindings=bindings or None)
        assert isinstance(result, SelectResult)
        return result


def _step(f: Field) -> Step:
    return Step(f.path, f.inverse)
