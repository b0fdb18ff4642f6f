"""The Cypher target of the API's compiler: the same request parts as ``compiler.SparqlCompiler``, over
the property graph the projection keeps in Neo4j (``kg_service.project.rules``), with the same rows.

A step's values are one Cypher list per entity: an IRI it links to as ``{iri}``, a literal as
``{value, language}``, a class as ``{label}``, an asserting dataset as ``{dataset}``; ``CypherRunner``
turns each into the ``Term`` the SPARQL target would have given (an integer ``xsd:integer``, a float
``xsd:decimal`` or ``xsd:double`` by the field's kind downstream, a date ``xsd:date``, a point its WKT),
and a row whose cell holds several values into one row per combination, as SPARQL's solutions are.

As in SPARQL, request values reach Cypher only as parameters; the text holds names derived from the
ontology's IRIs (backquoted labels and types, quoted keys) and entity IRIs a previous query returned
(as JSON string literals, which Cypher reads with the same escapes).
"""

from __future__ import annotations

import datetime
import itertools
import json
import threading
import time
from collections.abc import Callable, Sequence
from decimal import Decimal
from typing import Any

import neo4j
import neo4j.exceptions
import neo4j.spatial
import neo4j.time
from rdflib import Literal, URIRef
from rdflib.term import Identifier

from kg_service.api.compiler import (
    ASSERTED_COLUMN,
    CLASS_COLUMN,
    INFERRED_CLASS_COLUMN,
    AggregateQuery,
    CompiledQuery,
    Condition,
    Operator,
    PageQuery,
    Step,
    bind_values,
)
from kg_service.config import Settings
from kg_service.namespaces import CITY, GEO, PREFIXES
from kg_service.project.rules import RESOURCE_LABEL, iri_of_name, name_of, relationship_type
from kg_service.provenance import dataset_iri
from kg_service.store import Term, TermRows

_XSD = PREFIXES["xsd"]
_LANG_STRING = PREFIXES["rdf"] + "langString"
_WKT = str(GEO.wktLiteral)


class CypherCompiler:
    """Cypher 5 over the projection: entities are ``Resource`` nodes labelled by their classes."""

    def page(self, query: PageQuery) -> CompiledQuery:
        match, bindings = self._selection(query)
        keys = "".join(f", {_values('entity', step)} AS key{index}" for index, (step, _) in enumerate(query.order))
        return CompiledQuery(f"{match}\nRETURN DISTINCT {{iri: entity.uri}} AS entity{keys}", bindings)

    def count(self, query: PageQuery) -> CompiledQuery:
        match, bindings = self._selection(query)
        return CompiledQuery(f"{match}\nRETURN count(DISTINCT entity) AS count", bindings)

    def aggregate(self, query: AggregateQuery) -> CompiledQuery:
        match, bindings = self._selection(query.page)
        parts = [match]
        key, label = "null", "null"
        if query.key is not None and query.key.level_class is not None:
            # an area of the level it is located in, or part of (a community is part of its district)
            parts.append(f"MATCH (entity)-[:{_type(CITY.locatedIn)}|{_type(CITY.partOf)}]->"
                         f"(area:{_label(query.key.level_class)})")
            key, label = "{iri: area.uri}", f"area.{_key(name_of(str(CITY.name)) + '_zh')}"
        elif query.key is not None and query.key.step is not None:
            parts.append(f"UNWIND (CASE WHEN size({_values('entity', query.key.step)}) = 0 THEN [null] "
                         f"ELSE {_values('entity', query.key.step)} END) AS grouped")
            key, label = "grouped", "null"
        measures = [f"head([x IN {_values('entity', step)} | x.value]) AS v{index}"
                    for index, (_, step) in enumerate(query.measures)]
        parts.append(f"WITH DISTINCT entity, {key} AS key, {label} AS label"
                     + "".join(f", {measure}" for measure in measures))
        aggregates = []
        for index, (function, _) in enumerate(query.measures):
            aggregate = "sum" if function in ("sum", "avg") else function
            aggregates.append(f", {aggregate}(v{index}) AS m{index}, count(v{index}) AS n{index}")
        order = " ORDER BY coalesce(key.iri, toString(key.value))" if query.key is not None else ""
        parts.append("RETURN key, head(collect(label)) AS label, count(DISTINCT entity) AS count"
                     + "".join(aggregates) + order)
        return CompiledQuery("\n".join(parts), bindings)

    def values(self, entities: Sequence[str], columns: Sequence[Step], classes: Sequence[str] | None,
               inferred_graph: str | None) -> CompiledQuery:
        lists = [f"[{index}, {_values('e', step)}]" for index, step in enumerate(columns)]
        if classes is None:
            lists.append(f"[{CLASS_COLUMN}, [l IN labels(e) WHERE l <> '{RESOURCE_LABEL}' | {{label: l}}]]")
        elif classes:
            wanted = ", ".join(_string(name_of(iri)) for iri in classes)
            lists.append(f"[{CLASS_COLUMN}, [l IN labels(e) WHERE l IN [{wanted}] | {{label: l}}]]")
        if inferred_graph is not None:
            lists.append(f"[{INFERRED_CLASS_COLUMN}, [l IN coalesce(e.inferredLabels, []) | {{label: l}}]]")
        iris = ", ".join(_string(iri) for iri in entities)
        return CompiledQuery(
            f"UNWIND [{iris}] AS uri\nMATCH (e:{RESOURCE_LABEL} {{uri: uri}})\n"
            f"UNWIND [{', '.join(lists)}] AS column\nUNWIND column[1] AS value\n"
            "RETURN {iri: e.uri} AS entity, column[0] AS column, value", {})

    def geometries(self, class_iri: str) -> CompiledQuery:
        return CompiledQuery(f"MATCH (entity:{_label(class_iri)}) WHERE entity.geometry IS NOT NULL "
                             "RETURN {iri: entity.uri} AS entity, entity.geometry AS wkt", {})

    def _selection(self, query: PageQuery) -> tuple[str, dict[str, Identifier]]:
        bindings: dict[str, Identifier] = {}
        tests = []
        if query.among is not None:
            tests.append(f"entity.uri IN [{', '.join(_string(iri) for iri in query.among)}]")
        if query.inside is not None:
            bindings["area"] = URIRef(query.inside)
            tests.append(f"EXISTS {{ (entity)-[:{_type(CITY.locatedIn)}|{_type(GEO.sfWithin)}]->"
                         f"(:{RESOURCE_LABEL} {{uri: $area}}) }}")
        for index, condition in enumerate(query.conditions):
            tests.append(_condition(condition, f"c{index}", bindings))
        where = f"\nWHERE {' AND '.join(tests)}" if tests else ""
        return f"MATCH (entity:{_label(query.class_iri)}){where}", bindings


def _values(node: str, step: Step) -> str:
    """A Cypher list of the step's values for ``node``, each ``{iri}`` or ``{value, language}``."""
    if step == ASSERTED_COLUMN:
        return f"[d IN coalesce({node}.datasets, []) | {{dataset: d}}]"
    *hops, last = step.path
    if step.inverse:  # ?value path ?node: walk the chain backwards, to nodes only
        chain = "".join(f"<-[:{_type(iri)}]-()" for iri in reversed(step.path[1:]))
        return f"[({node}){chain}<-[:{_type(step.path[0])}]-(v) | {{iri: v.uri}}]"
    if not hops:
        return f"({_links(node, last)} + {_literals(node, last)})"
    chain = "".join(f"-[:{_type(iri)}]->()" for iri in hops[:-1])
    return (f"reduce(found = [], m IN [({node}){chain}-[:{_type(hops[-1])}]->(m) | m] | "
            f"found + {_links('m', last)} + {_literals('m', last)})")


def _links(node: str, predicate: str) -> str:
    return f"[({node})-[:{_type(predicate)}]->(v) | {{iri: v.uri}}]"


def _literals(node: str, predicate: str) -> str:
    """The property ``key`` and its language variants ``key_zh``... (lists spread, one item each)."""
    key = name_of(predicate)
    quoted, prefix = _string(key), _string(key + "_")
    return (f"reduce(found = [], k IN [k IN keys({node}) WHERE k = {quoted} OR k STARTS WITH {prefix}] | "
            f"found + [x IN (CASE WHEN {node}[k] IS :: LIST<ANY> THEN {node}[k] ELSE [{node}[k]] END) | "
            f"{{value: x, language: CASE WHEN k = {quoted} THEN null ELSE substring(k, {len(key) + 1}) END}}])")


def _condition(condition: Condition, name: str, bindings: dict[str, Identifier]) -> str:
    arguments = [f"${parameter}" for parameter in bind_values(condition, name, bindings)]
    first = arguments[0] if arguments else "null"
    if condition.operator is Operator.EQ and not condition.text and len(arguments) == 1 \
            and isinstance(condition.values[0], URIRef):
        return f"ANY(x IN {_values('entity', condition.step)} WHERE x.iri = {first})"
    value = "coalesce(x.iri, toString(x.value))" if condition.text else "x.value"
    test = {Operator.EQ: f"{value} = {first}",
            Operator.IN: f"{value} IN [{', '.join(arguments)}]",
            Operator.LT: f"{value} < {first}",
            Operator.LTE: f"{value} <= {first}",
            Operator.GT: f"{value} > {first}",
            Operator.GTE: f"{value} >= {first}",
            Operator.CONTAINS: f"toLower(coalesce(x.iri, toString(x.value))) CONTAINS toLower({first})",
            }[condition.operator]
    return f"ANY(x IN {_values('entity', condition.step)} WHERE {test})"


def _label(class_iri: str) -> str:
    return "`" + name_of(str(class_iri)).replace("`", "``") + "`"


def _type(predicate: str) -> str:
    return relationship_type(str(predicate))  # letters, digits and underscores only


def _key(name: str) -> str:
    return "`" + name.replace("`", "``") + "`"


def _string(text: str) -> str:
    return json.dumps(text)  # a Cypher string literal: the same escapes as JSON's


_runners: dict[tuple[str, str, str], CypherRunner] = {}
_runners_lock = threading.Lock()


def runner_for(settings: Settings) -> CypherRunner:
    """One runner (one driver, its connection pool) per server, user and database, for the process."""
    key = (settings.neo4j_uri, settings.neo4j_user, settings.neo4j_database)
    with _runners_lock:
        if key not in _runners:
            _runners[key] = CypherRunner.open(settings)
        return _runners[key]


class CypherRunner:
    """Runs compiled Cypher on the projection's database and gives rows of ``Term`` values, as the
    store does for SPARQL (the executor's one interface to either)."""

    def __init__(self, driver: neo4j.Driver, database: str, base_iri: str) -> None:
        self._driver = driver
        self._database = database
        self._dataset_prefix = str(dataset_iri(base_iri, ""))

    @classmethod
    def open(cls, settings: Settings) -> CypherRunner:
        from kg_service.store.neo4j import connect

        return cls(connect(settings), settings.neo4j_database, settings.base_iri)

    def close(self) -> None:
        self._driver.close()

    def select_terms(self, text: str, *, bindings: dict[str, Identifier] | None = None,
                     timeout: float | None = None) -> TermRows:
        parameters = {name: _parameter(value) for name, value in (bindings or {}).items()}
        query = neo4j.Query(text, timeout=timeout)  # the server stops the transaction after ``timeout`` s
        records, _, keys = self._driver.execute_query(query, parameters, database_=self._database,
                                                      routing_=neo4j.RoutingControl.READ)
        rows: list[tuple[Term | None, ...]] = []
        for record in records:
            cells = [self._terms(value) for value in record.values()]
            rows.extend(itertools.product(*cells))
        return TermRows(list(keys), rows)

    def _terms(self, value: Any) -> list[Term | None]:
        """A cell's terms: one, or one per item of a list (an empty list: unbound)."""
        if isinstance(value, list):
            terms = [term for item in value for term in self._terms(item)]
            return terms or [None]
        if isinstance(value, dict):
            if "iri" in value:
                return [None if value["iri"] is None else Term(value["iri"])]
            if "label" in value:
                return [Term(iri_of_name(value["label"]))]
            if "dataset" in value:
                return [Term(self._dataset_prefix + value["dataset"])]
            if value.get("language"):
                return [Term(str(value["value"]), _LANG_STRING, value["language"])]
            return [_literal(value.get("value"))]
        return [_literal(value)]


class DeadlineRunner:
    """A runner for one served request: each query first checks the request's deadline (as the
    served store does) and may run only for the time left, which the server enforces."""

    def __init__(self, runner: CypherRunner, deadline: float, check: Callable[[], None]) -> None:
        self._runner, self._deadline, self._check = runner, deadline, check

    def select_terms(self, text: str, *, bindings: dict[str, Identifier] | None = None) -> TermRows:
        self._check()
        left = max(self._deadline - time.monotonic(), 0.001)
        try:
            return self._runner.select_terms(text, bindings=bindings, timeout=left)
        except neo4j.exceptions.ClientError as error:
            if "TimedOut" in (error.code or ""):
                time.sleep(max(self._deadline - time.monotonic(), 0.0))
                self._check()  # the server stopped it at the deadline: the request's timeout error
            raise


def _literal(value: Any) -> Term | None:
    """A Neo4j value as the literal it was projected from (its canonical lexical form)."""
    if value is None:
        return None
    if isinstance(value, bool):
        return Term("true" if value else "false", f"{_XSD}boolean")
    if isinstance(value, int):
        return Term(str(value), f"{_XSD}integer")
    if isinstance(value, float):
        return Term(_number(value), f"{_XSD}decimal")
    if isinstance(value, neo4j.time.DateTime):
        return Term(value.to_native().isoformat(), f"{_XSD}dateTime")
    if isinstance(value, neo4j.time.Date):
        return Term(value.iso_format(), f"{_XSD}date")
    if isinstance(value, neo4j.spatial.Point):
        x, y = value[0], value[1]
        return Term(f"POINT({_number(x)} {_number(y)})", _WKT)
    return Term(str(value), f"{_XSD}string")


def _number(value: float) -> str:
    """A double's shortest exact text without exponent or trailing zeros (1200.0 -> "1200")."""
    return format(Decimal(repr(value)).normalize(), "f")


def _parameter(value: Identifier) -> Any:
    """A bound request value as a Cypher parameter of the projection's types."""
    if isinstance(value, URIRef):
        return str(value)
    if isinstance(value, Literal):
        python = value.toPython()
        if isinstance(python, Decimal):
            return float(python)
        if isinstance(python, datetime.datetime | datetime.date | bool | int | float | str):
            return python
        return str(value)
    return str(value)
