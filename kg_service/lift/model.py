"""The mapping model the engine runs: triples maps and term maps, vocabulary-neutral.

https://w3id.org/rml/core/spec#overview
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import Enum
from pathlib import Path


class TermType(Enum):
    IRI = "iri"  # template values IRI-safe: non-ASCII characters stay (RFC 3987 iunreserved)
    URI = "uri"  # template values URI-safe: non-ASCII characters are %-encoded too
    UNSAFE_IRI = "unsafe iri"  # an IRI whose template values are not percent-encoded
    BLANK_NODE = "blank node"
    LITERAL = "literal"


class ValueKind(Enum):
    CONSTANT = "constant"
    REFERENCE = "reference"
    TEMPLATE = "template"
    GENERATED = "generated"  # a fresh blank node per record: a blank-node term map with no value
    FUNCTION = "function"  # the result of a function execution (RML-FNML)


@dataclass(frozen=True)
class FunctionExecution:
    """A function called with one value per parameter (https://kg-construct.github.io/fnml-spec/)."""

    function: str  # the function's IRI
    inputs: tuple[tuple[str, TermMap], ...]  # (parameter IRI, the term map giving its value)


@dataclass(frozen=True)
class TermMap:
    """How one RDF term is made from a record (https://w3id.org/rml/core/spec#term-map)."""

    kind: ValueKind
    value: str  # the constant (N-Triples form for constants), reference or template text
    term_type: TermType
    language: str | None = None
    datatype: str | None = None
    references: tuple[str, ...] = ()  # every record field the term reads
    language_map: TermMap | None = None
    datatype_map: TermMap | None = None
    natural_datatypes: bool = True  # RML-Core types JSON numbers and booleans; legacy RML does not
    execution: FunctionExecution | None = None  # for ValueKind.FUNCTION

    @property
    def is_default_graph(self) -> bool:
        return self.kind is ValueKind.CONSTANT and self.value in DEFAULT_GRAPHS


DEFAULT_GRAPHS = {"<http://w3id.org/rml/defaultGraph>", "<http://www.w3.org/ns/r2rml#defaultGraph>"}


@dataclass(frozen=True)
class JoinCondition:
    child: TermMap
    parent: TermMap


@dataclass(frozen=True)
class RefObjectMap:
    """An object that is the subject of another triples map (https://w3id.org/rml/core/spec#ref-object-map)."""

    parent: str  # the name of the parent triples map
    joins: tuple[JoinCondition, ...] = ()


@dataclass(frozen=True)
class PredicateObjectMap:
    predicates: tuple[TermMap, ...]
    objects: tuple[TermMap | RefObjectMap, ...]
    graphs: tuple[TermMap, ...] = ()


@dataclass(frozen=True)
class LogicalSource:
    """Where records come from (https://w3id.org/rml/io/spec; an R2RML logical table,
    https://www.w3.org/TR/r2rml/#logical-tables, is one with a table name or query)."""

    path: Path
    formulation: str  # "csv" (also .xlsx), "json" (also GeoJSON), "xml" or "sql"
    iterator: str | None = None
    delimiter: str = ","
    encoding: str = "utf-8-sig"
    compression: str | None = None  # "gzip", "zip", "targz" or "tarxz"
    nulls: frozenset[str] | None = None  # values read as NULL; None: an empty CSV cell (legacy RML)
    namespaces: tuple[tuple[str, str], ...] = ()  # XPath prefixes
    table: str | None = None  # SQL: a table name, or
    query: str | None = None  # SQL: a query (the path is then an SQLite database file, unless:)
    # SQL: a PostgreSQL connection string (the path then only names the database); kept out of
    # repr because it may hold a password
    dsn: str | None = field(default=None, repr=False)
    declared_in: str | None = None  # the mapping file and triples map, for errors found while reading


@dataclass(frozen=True)
class TriplesMap:
    name: str  # the triples map's IRI or blank-node label, for error messages and joins
    source: LogicalSource
    subject: TermMap
    classes: tuple[str, ...] = ()
    predicate_objects: tuple[PredicateObjectMap, ...] = ()
    graphs: tuple[TermMap, ...] = ()
    base_iri: str | None = None


@dataclass(frozen=True)
class Mapping:
    path: Path
    triples_maps: tuple[TriplesMap, ...] = field(default_factory=tuple)

    def triples_map(self, name: str) -> TriplesMap:
        for triples_map in self.triples_maps:
            if triples_map.name == name:
                return triples_map
        raise KeyError(name)
