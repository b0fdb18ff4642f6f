"""Compile a GraphQL request's parts into store queries, so round trips never grow with rows.

A request becomes a page query (which entities, filtered and ordered, one page of them), a count
query when ``totalCount`` is asked, and one values query per level of nesting: the values of every
selected field of every entity at that level, whatever their number. The executor (``execution``)
runs them; this module only writes them. ``QueryCompiler`` is the backend-specific part: SPARQL
here, Cypher for the Neo4j backend.

Every value that comes from a request reaches the query as a bound variable (``bindings``), never in
its text: the text holds only the ontology's IRIs and the IRIs of entities a previous query returned.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from enum import Enum
from typing import NamedTuple, Protocol

from rdflib import URIRef
from rdflib.term import Identifier

from kg_service.namespaces import CITY, GEO


class Operator(Enum):
    EQ = "eq"
    IN = "in"
    LT = "lt"
    LTE = "lte"
    GT = "gt"
    GTE = "gte"
    CONTAINS = "contains"


class Step(NamedTuple):
    """How a field reaches its values from an entity: a chain of properties, or one backwards (a
    tuple: it is made and hashed for every field of every entity a request reads)."""

    path: tuple[str, ...]
    inverse: bool = False


@dataclass(frozen=True)
class Condition:
    """Some value of ``step`` stands in ``operator`` to ``values`` (compared as text when ``text``)."""

    step: Step
    operator: Operator
    values: tuple[Identifier, ...]
    text: bool = False


@dataclass(frozen=True)
class PageQuery:
    class_iri: str
    conditions: tuple[Condition, ...] = ()
    inside: str | None = None  # an area: entities located in it or within it (materialised relations)
    among: tuple[str, ...] | None = None  # entities a filter computed outside the store chose
    order: tuple[tuple[Step, bool], ...] = ()  # (field, descending); then by IRI
    limit: int = 20
    offset: int = 0

    @property
    def whole_class(self) -> bool:
        """Every member of the class, by IRI: no filter and no sort key."""
        return not (self.conditions or self.order) and self.inside is None and self.among is None


@dataclass(frozen=True)
class GroupKey:
    """What entities are grouped by: a field's values, or the area of a level they are located in."""

    step: Step | None = None
    level_class: str | None = None  # e.g. city:District: grouped by the district each is located in


@dataclass(frozen=True)
class AggregateQuery:
    page: PageQuery  # its filters; its order and limits are ignored
    key: GroupKey | None
    measures: tuple[tuple[str, Step], ...]  # (function: sum, avg, min, max), field


@dataclass(frozen=True)
class CompiledQuery:
    text: str
    bindings: dict[str, Identifier]


CLASS_COLUMN, INFERRED_CLASS_COLUMN = -2, -1  # the values query's columns that are not steps
ASSERTED_COLUMN = Step((str(CITY.assertedBy),))  # the provenance graph's: which datasets state the entity


class QueryCompiler(Protocol):
    def page(self, query: PageQuery) -> CompiledQuery:
        """Rows ``entity``, ``key0``, ``key1``... (a value of each of the query's order keys, or
        unbound): every entity the filters select, at least once, in any order. The executor orders
        them and cuts the page, the same way whatever the backend."""
        ...

    def count(self, query: PageQuery) -> CompiledQuery:
        """One row, one column ``count``: how many entities the query's filters select."""
        ...

    def aggregate(self, query: AggregateQuery) -> CompiledQuery:
        """Rows ``key``, ``label``, ``count`` and, per measure, ``m<i>`` (for avg: the sum) and ``n<i>``
        (how many entities have the value), one per group."""
        ...

    def values(self, entities: Sequence[str], columns: Sequence[Step], classes: Sequence[str] | None,
               inferred_graph: str | None) -> CompiledQuery:
        """Rows ``entity``, ``column``, ``value``: ``column`` is an index into ``columns``, or
        CLASS_COLUMN for a class of the entity among ``classes`` (None: any class; empty: none is
        read), or INFERRED_CLASS_COLUMN for a class in ``inferred_graph`` (None: not read)."""
        ...

    def geometries(self, class_iri: str) -> CompiledQuery:
        """Rows ``entity``, ``wkt``: the geometries of the class's entities, for distance filters."""
        ...


class SparqlCompiler:
    """SPARQL 1.1 over the store's served graphs (the default graph is their union)."""

    def page(self, query: PageQuery) -> CompiledQuery:
        # No ORDER BY: Oxigraph compares terms by decoding them from its dictionary (about 100 µs per
        # row: 2 s for a page of 20k IRIs), where sorting their text in Python takes milliseconds.
        patterns, bindings = self._selection(query)
        keys = []
        for index, (step, _) in enumerate(query.order):
            patterns += f"\n  OPTIONAL {{ {_triple('?entity', step, f'?key{index}')} }}"
            keys.append(f"?key{index}")
        return CompiledQuery(f"SELECT DISTINCT ?entity {' '.join(keys)} {_bound(bindings)} WHERE {{\n{patterns}\n}}",
                             bindings)

    def count(self, query: PageQuery) -> CompiledQuery:
        patterns, bindings = self._selection(query)
        bound = _bound(bindings)
        grouped = f" GROUP BY {bound}" if bound else ""
        return CompiledQuery(f"SELECT (COUNT(DISTINCT ?entity) AS ?count) {bound} WHERE {{\n{patterns}\n}}{grouped}",
                             bindings)

    def aggregate(self, query: AggregateQuery) -> CompiledQuery:
        patterns, bindings = self._selection(query.page)
        parts = [patterns]
        if query.key is not None and query.key.level_class is not None:
            # an area of the level it is located in, or part of (a community is part of its district)
            parts.append(f"  ?entity {CITY.locatedIn.n3()}|{CITY.partOf.n3()} ?key . "
                         f"?key a {URIRef(query.key.level_class).n3()} .")
        elif query.key is not None and query.key.step is not None:
            parts.append(f"  OPTIONAL {{ {_triple('?entity', query.key.step, '?key')} }}")
        if query.key is not None:
            parts.append(f'  OPTIONAL {{ ?key {CITY.name.n3()} ?name FILTER(LANGMATCHES(LANG(?name), "zh")) }}')
        measures = []
        for index, (function, step) in enumerate(query.measures):
            # one value per entity (a sub-select reads no bound variable), so that nothing multiplies rows
            parts.append(f"  OPTIONAL {{ SELECT ?entity (SAMPLE(?x{index}) AS ?v{index}) WHERE {{ "
                         f"{_triple('?entity', step, f'?x{index}')} }} GROUP BY ?entity }}")
            # an aggregate over an unbound value is an error in SPARQL: entities without the value
            # count as the aggregate's neutral element, and ``n<i>`` says whether any had one
            neutral = {"sum": "0", "avg": "0", "min": "1e300", "max": "-1e300"}[function]
            aggregate = "SUM" if function == "avg" else function.upper()
            measures.append(f"({aggregate}(COALESCE(?v{index}, {neutral})) AS ?m{index}) "
                            f"(COUNT(?v{index}) AS ?n{index})")
        bound = _bound(bindings)
        key = "?key" if query.key is not None else ""
        label = "(SAMPLE(?name) AS ?label)" if query.key is not None else ""
        grouped = f" GROUP BY {key} {bound}" if key or bound else ""
        text = (f"SELECT {key} {label} (COUNT(DISTINCT ?entity) AS ?count) {' '.join(measures)} {bound} WHERE {{\n"
                + "\n".join(parts) + f"\n}}{grouped}" + (" ORDER BY ?key" if key else ""))
        return CompiledQuery(text, bindings)

    def values(self, entities: Sequence[str], columns: Sequence[Step], classes: Sequence[str] | None,
               inferred_graph: str | None) -> CompiledQuery:
        branches = [f"{{ {_triple('?entity', step, '?value')} BIND({index} AS ?column) }}"
                    for index, step in enumerate(columns)]
        if classes is None:
            branches.append(f"{{ ?entity a ?value BIND({CLASS_COLUMN} AS ?column) }}")
        elif classes:  # membership in a few classes, not every class of every entity
            # A filter, not VALUES: joined with the entities' VALUES, a list of 21 classes took
            # Oxigraph 90 ms for 300 entities, the filter 8 ms.
            listed = ", ".join(URIRef(iri).n3() for iri in classes)
            branches.append(f"{{ ?entity a ?value FILTER(?value IN ({listed})) BIND({CLASS_COLUMN} AS ?column) }}")
        if inferred_graph is not None:
            branches.append(f"{{ GRAPH {URIRef(inferred_graph).n3()} {{ ?entity a ?value }} "
                            f"BIND({INFERRED_CLASS_COLUMN} AS ?column) }}")
        values = " ".join(URIRef(entity).n3() for entity in entities)
        return CompiledQuery(f"SELECT ?entity ?column ?value WHERE {{\n  VALUES ?entity {{ {values} }}\n  "
                             + "\n  UNION ".join(branches) + "\n}", {})

    def geometries(self, class_iri: str) -> CompiledQuery:
        return CompiledQuery(f"SELECT ?entity ?wkt WHERE {{ ?entity a {URIRef(class_iri).n3()} ; "
                             f"{GEO.hasGeometry.n3()}/{GEO.asWKT.n3()} ?wkt }}", {})

    def _selection(self, query: PageQuery) -> tuple[str, dict[str, Identifier]]:
        # The class is the schema's, not the request's: written in, so that the store plans with it.
        bindings: dict[str, Identifier] = {}
        patterns = [f"  ?entity a {URIRef(query.class_iri).n3()} ."]
        if query.among is not None:
            patterns.append(f"  VALUES ?entity {{ {' '.join(URIRef(iri).n3() for iri in query.among)} }}")
        if query.inside is not None:
            bindings["area"] = URIRef(query.inside)
            patterns.append(f"  {{ ?entity {CITY.locatedIn.n3()} ?area }} UNION "
                            f"{{ ?entity {GEO.sfWithin.n3()} ?area }}")
        for index, condition in enumerate(query.conditions):
            patterns.append(_condition(condition, f"c{index}", bindings))
        return "\n".join(patterns), bindings


def _bound(bindings: dict[str, Identifier]) -> str:
    return " ".join(f"?{name}" for name in sorted(bindings))


def bind_values(condition: Condition, name: str, bindings: dict[str, Identifier]) -> list[str]:
    """Bind each of a condition's values as ``<name>_<position>``; returns those parameter names.
    Every compiler target binds them so: values never enter a query's text."""
    names = [f"{name}_{position}" for position in range(len(condition.values))]
    bindings.update(zip(names, condition.values, strict=True))
    return names


def _condition(condition: Condition, name: str, bindings: dict[str, Identifier]) -> str:
    arguments = [f"?{parameter}" for parameter in bind_values(condition, name, bindings)]
    value = f"?{name}"
    if condition.operator is Operator.EQ and not condition.text and len(arguments) == 1 \
            and isinstance(condition.values[0], URIRef):
        return f"  {_triple('?entity', condition.step, arguments[0])}"  # an IRI: the index finds it
    compared = f"STR({value})" if condition.text else value
    first = arguments[0] if arguments else "?none"
    test = {Operator.EQ: f"{compared} = {first}",
            Operator.IN: f"{compared} IN ({', '.join(arguments)})",
            Operator.LT: f"{compared} < {first}",
            Operator.LTE: f"{compared} <= {first}",
            Operator.GT: f"{compared} > {first}",
            Operator.GTE: f"{compared} >= {first}",
            Operator.CONTAINS: f"CONTAINS(LCASE(STR({value})), LCASE({first}))",
            }[condition.operator]
    return f"  {_triple('?entity', condition.step, value)} FILTER({test})"


def _triple(entity: str, step: Step, value: str) -> str:
    path = "/".join(URIRef(iri).n3() for iri in step.path)
    return f"{value} {path} {entity} ." if step.inverse else f"{entity} {path} {value} ."
