"""The projection rules: how CityKG's RDF graph becomes a Neo4j property graph. All of them are here.

* **Nodes.** Every subject of a dataset's graph, of the inferred graph or of the spatial graph is a
  node labelled ``Resource``, keyed by its IRI in ``uri`` (unique). An IRI that is only ever an object
  becomes a bare ``Resource`` node with just its ``uri``, unless the ontology describes it: an
  individual of a code list (an alert status, an observed property) gets its classes (superclasses
  included, as ``inferredLabels``) and its labels and notation from the ontology's graph, and no
  ``datasets``. (One that a projected graph describes too is an entity like any other.)
* **Labels** come from all its classes, the inferred superclasses included: a class of the city
  ontology by its local name (``Hospital``), one of another known vocabulary as ``prefix_Name``
  (``geo_Feature``, ``prov_Activity``); a class of another vocabulary by its local name
  (``sosa:Observation`` as ``Observation``). The
  labels of the classes only the reasoner gave are listed again in ``inferredLabels``.
* **Datatype properties** become node properties named like labels (``name``, ``geo_asWKT``) with
  Neo4j types: integers as integers, decimals and doubles as floats (Neo4j has no decimal type: a
  decimal with more digits than a double holds, 17, is rounded), booleans as booleans, dates as
  dates, date-times as date-times, WKT points as Neo4j points (WGS-84 when the CRS is CRS84 or
  absent, as the city's data is longitude/latitude), other geometries as WKT text, anything else
  (or a value not valid for its type) as text. A language-tagged value goes to ``name_zh``,
  ``label_en``, ...; ``rdfs:label`` is ``label``. Several values make a list (of text when their types
  differ, since a Neo4j list holds one type).
* **Geometries** are nodes too (``geo:hasGeometry`` relationships); a feature with one geometry also
  carries it inline as ``geometry``, so that Cypher's spatial functions apply to the feature itself.
* **Object properties** become relationships of type ``UPPER_SNAKE`` of the local name
  (``LOCATED_IN``; ``GEO_SF_WITHIN`` for another vocabulary), one per (subject, type, object).
* **Where a fact came from.** Every node has ``datasets``, the datasets (``department/dataset``) that
  asserted anything about it; every relationship has ``datasets`` (those that asserted it) and
  ``inferred`` (true when no dataset did: the reasoner or the spatial step made it).
* ``citykgHash`` on a node digests what its projection is made from (and these rules): an
  unchanged entity is neither projected again nor rewritten.
"""

from __future__ import annotations

import functools
import hashlib
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date, datetime
from pathlib import Path
from typing import Any

import neo4j.spatial
import neo4j.time

from kg_service.namespaces import CITY, GEO, PREFIXES

RDF_TYPE = PREFIXES["rdf"] + "type"
RDFS_LABEL = PREFIXES["rdfs"] + "label"
HAS_GEOMETRY = str(GEO.hasGeometry)
AS_WKT = str(GEO.asWKT)
HASH_PROPERTY = "citykgHash"
RESOURCE_LABEL = "Resource"
SUBCLASS_OF = PREFIXES["rdfs"] + "subClassOf"
OWL_NAMESPACE = PREFIXES["owl"]
CODE_LABELS = (RDFS_LABEL, PREFIXES["skos"] + "prefLabel", PREFIXES["skos"] + "notation")  # of a code-list individual

_XSD = PREFIXES["xsd"]
_XSD_STRING = f"{_XSD}string"
_STRINGS = frozenset({_XSD_STRING, PREFIXES["rdf"] + "langString"})
# These rules, in every node's digest: a change to them projects every node again, once.
_RULES_DIGEST = hashlib.blake2b(Path(__file__).read_bytes(), digest_size=8).hexdigest()
_INTEGERS = {f"{_XSD}{name}" for name in ("integer", "int", "long", "short", "byte", "nonNegativeInteger",
                                          "positiveInteger", "nonPositiveInteger", "negativeInteger",
                                          "unsignedInt", "unsignedLong", "unsignedShort", "unsignedByte")}
_FLOATS = {f"{_XSD}decimal", f"{_XSD}double", f"{_XSD}float"}
_WKT = str(GEO.wktLiteral)
_CRS84 = "http://www.opengis.net/def/crs/OGC/1.3/CRS84"
_POINT = re.compile(r"^\s*(?:<([^>]*)>\s*)?POINT\s*\(\s*([-+0-9.eE]+)\s+([-+0-9.eE]+)\s*\)\s*$", re.IGNORECASE)
_NAMESPACES = sorted(((iri, prefix) for prefix, iri in PREFIXES.items()), key=lambda pair: -len(pair[0]))
_NEO4J_INT_RANGE = (-(2**63), 2**63 - 1)

# A statement's object as read: an IRI or blank node (``datatype`` None), or a literal.
Value = tuple[str, str | None, str | None]  # (value, datatype, language)


@dataclass
class Relationship:
    type: str
    target: str
    datasets: set[str] = field(default_factory=set)


@dataclass
class Entity:
    """One node's projected state, gathered from every graph that says something about it."""

    uri: str
    classes: set[str] = field(default_factory=set)
    inferred_classes: set[str] = field(default_factory=set)  # stated by the inferred graph
    values: dict[str, list[Value]] = field(default_factory=dict)  # property IRI -> literals
    relationships: dict[tuple[str, str], Relationship] = field(default_factory=dict)
    datasets: set[str] = field(default_factory=set)
    geometries: list[str] = field(default_factory=list)

    def labels(self) -> list[str]:
        return sorted({RESOURCE_LABEL, *(name_of(cls) for cls in self.classes)})

    def digest(self, wkt_of: dict[str, str]) -> str:
        """A digest of everything the node's projection is made from, and of the rules that make
        it (this file): an entity whose digest Neo4j holds is not projected again, and digesting
        what was read is quicker than digesting the Neo4j values made of it."""
        geometry = wkt_of.get(self.geometries[0]) if len(self.geometries) == 1 else None
        values = sorted((predicate, sorted(values, key=str)) for predicate, values in self.values.items())
        relationships = sorted((key, sorted(relation.datasets)) for key, relation in self.relationships.items())
        state = repr((_RULES_DIGEST, self.uri, sorted(self.classes), sorted(self.inferred_classes),
                      sorted(self.datasets), values, geometry, relationships))
        return hashlib.blake2b(state.encode(), digest_size=16).hexdigest()

    def properties(self, wkt_of: dict[str, str], digest: str) -> dict[str, Any]:
        """The node's properties, ``uri``, ``datasets`` and ``citykgHash`` (``digest``) included."""
        grouped: dict[str, list[Any]] = {}
        for predicate, values in self.values.items():
            key = "label" if predicate == RDFS_LABEL else name_of(predicate)
            for lexical, datatype, language in values:
                name = f"{key}_{language.lower().replace('-', '_')}" if language else key
                grouped.setdefault(name, []).append(typed_value(lexical, datatype))
        if len(self.geometries) == 1 and self.geometries[0] in wkt_of:
            grouped["geometry"] = [typed_value(wkt_of[self.geometries[0]], _WKT)]
        properties = {name: _single_or_list(values) for name, values in sorted(grouped.items())}
        properties.update(uri=self.uri, datasets=sorted(self.datasets),
                          inferredLabels=sorted({name_of(cls) for cls in self.inferred_classes}))
        properties[HASH_PROPERTY] = digest
        return properties

    def relationship_rows(self) -> list[dict[str, Any]]:
        return [{"from": self.uri, "type": relation.type, "to": relation.target,
                 "datasets": sorted(relation.datasets), "inferred": not relation.datasets}
                for _, relation in sorted(self.relationships.items())]


class Projection:
    """Entities gathered statement by statement; ``origin`` is the asserting dataset, or None for
    the inferred and spatial graphs (``inferred`` for the former)."""

    def __init__(self) -> None:
        self.entities: dict[str, Entity] = {}
        self.described: set[str] = set()  # code-list individuals, described by the ontology alone
        self._wkt: dict[str, str] = {}

    def add(self, subject: str, predicate: str, obj: Value, origin: str | None, *, inferred: bool = False) -> None:
        entity = self.entities.get(subject)
        if entity is None:
            entity = self.entities[subject] = Entity(subject)
        if origin is not None:
            entity.datasets.add(origin)
        value, datatype, _ = obj
        if predicate == RDF_TYPE and datatype is None:
            entity.classes.add(value)
            if inferred:
                entity.inferred_classes.add(value)
        elif datatype is None:
            relation = entity.relationships.get((predicate, value))
            if relation is None:
                relation = entity.relationships[(predicate, value)] = Relationship(relationship_type(predicate), value)
            if origin is not None:
                relation.datasets.add(origin)
            if predicate == HAS_GEOMETRY and value not in entity.geometries:
                entity.geometries.append(value)
        else:
            if datatype in _STRINGS:  # a string, whether the store said so or not: one value, one digest
                obj = (value, _XSD_STRING, obj[2])
            values = entity.values.setdefault(predicate, [])
            if obj not in values:
                values.append(obj)
            if predicate == AS_WKT:
                self._wkt[subject] = value

    def rows(self, uris: Iterable[str] | None = None, held: Mapping[str, str | None] | None = None
             ) -> list[dict[str, Any]]:
        """Node rows (``uri``, ``labels``, ``properties``, ``relationships``) to write, by IRI; with
        ``held`` (IRI -> the ``citykgHash`` Neo4j holds), only those of entities that changed."""
        chosen = sorted(self.entities) if uris is None else sorted(uris)
        rows = []
        for uri in chosen:
            entity = self.entities.get(uri)
            if entity is None:
                continue
            digest = entity.digest(self._wkt)
            if held is None or held.get(uri) != digest:
                rows.append({"uri": uri, "labels": entity.labels(), "properties": entity.properties(self._wkt, digest),
                             "relationships": entity.relationship_rows()})
        return rows


@functools.cache  # a city has a few hundred class and property IRIs, each met thousands of times
def name_of(iri: str) -> str:
    """A class's label or a property's key: the city ontology's local name, ``prefix_local`` for
    another known vocabulary, the bare local name otherwise."""
    if iri.startswith(str(CITY)):
        return iri[len(str(CITY)):]
    for namespace, prefix in _NAMESPACES:
        if iri.startswith(namespace) and prefix != "city":
            return f"{prefix}_{iri[len(namespace):]}"
    return re.split(r"[#/:]", iri.rstrip("/#"))[-1] or iri


def iri_of_name(name: str) -> str:
    """The class or property IRI a label or key stands for (the inverse of ``name_of`` for the city
    ontology and the known vocabularies)."""
    prefix, _, local = name.partition("_")
    if local and prefix in PREFIXES and prefix != "city":
        return PREFIXES[prefix] + local
    return str(CITY) + name


@functools.cache
def relationship_type(predicate: str) -> str:
    name = name_of(predicate)
    snake = re.sub(r"(?<=[a-z0-9])(?=[A-Z])", "_", name)
    return re.sub(r"[^A-Za-z0-9_]", "_", snake).upper()


def typed_value(lexical: str, datatype: str | None) -> Any:
    """A literal as the Neo4j value it projects to; text when it is not valid for its datatype."""
    try:
        if datatype in _INTEGERS:
            number = int(lexical.strip())
            return number if _NEO4J_INT_RANGE[0] <= number <= _NEO4J_INT_RANGE[1] else lexical
        if datatype in _FLOATS:
            return float(lexical)
        if datatype == f"{_XSD}boolean":
            return {"true": True, "1": True, "false": False, "0": False}[lexical.strip()]
        if datatype == f"{_XSD}date":
            return neo4j.time.Date.from_native(date.fromisoformat(lexical.strip()))
        if datatype == f"{_XSD}dateTime":
            return neo4j.time.DateTime.from_native(datetime.fromisoformat(lexical.strip()))
        if datatype == _WKT:
            point = _POINT.match(lexical)
            if point and point.group(1) in (None, _CRS84):
                return neo4j.spatial.WGS84Point((float(point.group(2)), float(point.group(3))))
    except (ValueError, KeyError):
        return lexical
    return lexical


def _single_or_list(values: list[Any]) -> Any:
    if len(values) == 1:
        return values[0]
    if len({type(value) for value in values}) > 1:
        values = [str(value) for value in values]
    return sorted(values, key=str)
