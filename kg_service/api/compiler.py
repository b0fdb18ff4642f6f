"""Compile a GraphQL selection into one SPARQL query, so round trips never grow with rows.

The foundation compiles a flat selection of one class's single-valued fields plus its classes
(asserted and inferred). The API issue generalises this to every class, nested traversal, filters
and aggregations, with the backend-specific part (SPARQL, Cypher) behind an interface.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from rdflib import URIRef
from rdflib.term import Identifier


@dataclass(frozen=True)
class FieldSource:
    """Where a GraphQL field's value lives: a predicate, optionally one language of it, or only
    values of one class (locatedIn also names parcels and communities, not only the district)."""

    predicate: str
    language: str | None = None
    value_class: str | None = None


@dataclass(frozen=True)
class ClassQuery:
    class_iri: str
    fields: Mapping[str, FieldSource]  # GraphQL field name -> source; only these may be selected


@dataclass(frozen=True)
class CompiledQuery:
    sparql: str
    bindings: dict[str, Identifier]


def compile_list(spec: ClassQuery, selected: Sequence[str], *, limit: int, offset: int,
                 located_in: str | None = None) -> CompiledQuery:
    """One SELECT returning a row per entity: ``entity``, each selected field, and ``classes``."""
    projections, patterns = ["?entity"], [f"?entity a {URIRef(spec.class_iri).n3()} ."]
    group_by = ["?entity"]
    bindings: dict[str, Identifier] = {}
    for name in selected:
        if name not in spec.fields:
            continue
        source = spec.fields[name]
        variable = f"?v_{name}"
        language = f' FILTER(LANGMATCHES(LANG({variable}), "{source.language}"))' if source.language else ""
        if source.value_class:
            language += f" {variable} a {URIRef(source.value_class).n3()} ."
        patterns.append(f"OPTIONAL {{ ?entity {URIRef(source.predicate).n3()} {variable} .{language} }}")
        projections.append(f"(SAMPLE({variable}) AS ?{name})")
    if "classes" in selected:
        patterns.append("OPTIONAL { ?entity a ?class }")
        projections.append('(GROUP_CONCAT(DISTINCT STR(?class); separator=" ") AS ?classes)')
    if located_in is not None:
        # Bound as a value, never spliced into the text; a bound variable must be projected.
        patterns.append("?entity <https://w3id.org/citykg/ontology#locatedIn> ?area .")
        projections.append("?area")
        group_by.append("?area")
        bindings["area"] = URIRef(located_in)
    sparql = (f"SELECT {' '.join(projections)} WHERE {{\n  " + "\n  ".join(patterns) + "\n}\n"
              f"GROUP BY {' '.join(group_by)} ORDER BY ?entity LIMIT {int(limit)} OFFSET {int(offset)}")
    return CompiledQuery(sparql=sparql, bindings=bindings)
