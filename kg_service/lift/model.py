"""The mapping model the engine runs: triples maps and term maps, vocabulary-neutral.

https://w3id.org/rml/core/spec#overview
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import Enum
from pathlib import Path


class TermType(Enum):
    IRI = "iri"
    BLANK_NODE = "blank node"
    LITERAL = "literal"


class ValueKind(Enum):
    CONSTANT = "constant"
    REFERENCE = "reference"
    TEMPLATE = "template"


@dataclass(frozen=True)
class TermMap:
    """How one RDF term is made from a record (https://w3id.org/rml/core/spec#term-map)."""

    kind: ValueKind
    value: str  # the constant (N-Triples form for constants), reference name or template text
    term_type: TermType
    language: str | None = None
    datatype: str | None = None
    references: tuple[str, ...] = ()  # every record field the term reads


@dataclass(frozen=True)
class PredicateObjectMap:
    predicates: tuple[TermMap, ...]
    objects: tuple[TermMap, ...]


@dataclass(frozen=True)
class LogicalSource:
    """Where records come from (https://w3id.org/rml/io/spec)."""

    path: Path
    formulation: str  # "csv" for now; the mappings issue adds json, xml, geojson, sql, xlsx
    delimiter: str = ","
    encoding: str = "utf-8-sig"


@dataclass(frozen=True)
class TriplesMap:
    name: str  # the triples map's IRI or blank-node label, for error messages
    source: LogicalSource
    subject: TermMap
    classes: tuple[str, ...] = ()
    predicate_objects: tuple[PredicateObjectMap, ...] = ()


@dataclass(frozen=True)
class Mapping:
    path: Path
    triples_maps: tuple[TriplesMap, ...] = field(default_factory=tuple)
