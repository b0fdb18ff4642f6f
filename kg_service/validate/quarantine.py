"""What goes into a dataset's quarantine graph: each refused record with its raw values and reasons.

Nothing is lost: a quarantined record keeps its file, line and original field values, so it can
be fixed at the source and re-ingested.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from rdflib import RDF, XSD, URIRef

from kg_service.lift.terms import literal
from kg_service.namespaces import CITY


@dataclass(frozen=True)
class RefusedRecord:
    source: Path
    line: int
    values: dict[str, str]
    entity: str | None  # the IRI the record would have described, if it got that far
    reasons: tuple[str, ...]


def quarantine_triples(graph_iri: str, records: Iterable[RefusedRecord], relative_to: Path) -> bytes:
    """The quarantine graph's statements as N-Triples, written out directly: a large dataset's
    quarantine holds thousands of records, and building an rdflib graph of them cost more than
    the rest of an incremental job's commit."""
    base = relative_to.resolve()
    rdf_type, quarantined = URIRef(str(RDF.type)).n3(), CITY.QuarantinedRecord.n3()
    lines: list[str] = []
    for index, record in enumerate(records, start=1):
        node = URIRef(f"{graph_iri}/record/{index}").n3()
        try:
            source = record.source.resolve().relative_to(base)
        except ValueError:
            source = record.source
        lines += [f"{node} {rdf_type} {quarantined} .",
                  f"{node} {CITY.sourceFile.n3()} {literal(str(source), None, None)} .",
                  f"{node} {CITY.sourceLine.n3()} {literal(str(record.line), None, str(XSD.integer))} .",
                  f"{node} {CITY.rawRecord.n3()} "
                  f"{literal(json.dumps(record.values, ensure_ascii=False), None, str(RDF.JSON))} ."]
        if record.entity:
            lines.append(f"{node} {CITY.refusedEntity.n3()} {URIRef(record.entity).n3()} .")
        lines += [f"{node} {CITY.refusalReason.n3()} {literal(reason, None, None)} ."
                  for reason in dict.fromkeys(record.reasons)]
    return "".join(f"{line}\n" for line in lines).encode()
