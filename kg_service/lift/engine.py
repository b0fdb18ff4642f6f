"""The engine: runs a mapping's triples maps over their sources, one record at a time.

Each record yields its N-Triples lines together with where it came from, so the validation gate
can quarantine a bad record with its raw values, and a bad record never stops the others.
https://w3id.org/rml/core/spec#generated-triples
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

from kg_service.errors import MappingError, RecordError
from kg_service.lift import sources
from kg_service.lift.model import Mapping, TriplesMap
from kg_service.lift.terms import make_term

_RDF_TYPE = "<http://www.w3.org/1999/02/22-rdf-syntax-ns#type>"


@dataclass
class LiftedRecord:
    """One source record and what the mapping made of it."""

    source: Path
    line: int
    values: dict[str, str]
    subject: str | None = None  # N-Triples form of the record's subject, when one was made
    triples: list[str] = field(default_factory=list)  # N-Triples lines, without the newline
    error: str | None = None  # why the record could not be lifted; it then has no triples


def lift(mapping: Mapping, base_iri: str) -> Iterator[LiftedRecord]:
    """Yield every record of every triples map of ``mapping``, in source order."""
    for triples_map in mapping.triples_maps:
        _check_references(triples_map, mapping.path)
        for line, values in sources.iter_records(triples_map.source):
            record = LiftedRecord(source=triples_map.source.path, line=line, values=values)
            try:
                _lift_record(triples_map, record, base_iri)
            except RecordError as error:
                record.triples.clear()
                record.error = error.problem
            yield record


def _lift_record(triples_map: TriplesMap, record: LiftedRecord, base_iri: str) -> None:
    subject = make_term(triples_map.subject, record.values, base_iri)
    if subject is None:
        raise RecordError(f"no subject: a value the subject map needs ({', '.join(triples_map.subject.references)}) "
                          "is empty")
    record.subject = subject
    record.triples.extend(f"{subject} {_RDF_TYPE} <{cls}> ." for cls in triples_map.classes)
    for pom in triples_map.predicate_objects:
        predicates = [make_term(p, record.values, base_iri) for p in pom.predicates]
        objects = [make_term(o, record.values, base_iri) for o in pom.objects]
        record.triples.extend(f"{subject} {p} {o} ." for p in predicates if p for o in objects if o)


def _check_references(triples_map: TriplesMap, mapping_path: Path) -> None:
    """A reference to a column the source lacks is a mapping bug: fail before lifting anything."""
    header = set(sources.columns(triples_map.source))
    term_maps = [triples_map.subject, *(t for pom in triples_map.predicate_objects
                                        for t in (*pom.predicates, *pom.objects))]
    for term_map in term_maps:
        for reference in term_map.references:
            if reference not in header:
                raise MappingError(
                    f"term '{term_map.value}' refers to column '{reference}', which "
                    f"{triples_map.source.path.name} does not have",
                    where=f"{mapping_path}: triples map {triples_map.name}",
                    hint=f"columns are: {', '.join(sorted(header))}",
                )
