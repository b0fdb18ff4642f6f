"""What goes into a dataset's quarantine graph: each refused record with its raw values and reasons.

Nothing is lost: a quarantined record keeps its file, line and original field values, so it can
be fixed at the source and re-ingested.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from rdflib import RDF, XSD, Graph, Literal, URIRef

from kg_service.namespaces import CITY


@dataclass(frozen=True)
class RefusedRecord:
    source: Path
    line: int
    values: dict[str, str]
    entity: str | None  # the IRI the record would have described, if it got that far
    reasons: tuple[str, ...]


def quarantine_triples(graph_iri: str, records: Iterable[RefusedRecord], relative_to: Path) -> Graph:
    graph = Graph()
    for index, record in enumerate(records, start=1):
        node = URIRef(f"{graph_iri}/record/{index}")
        try:
            source = record.source.resolve().relative_to(relative_to.resolve())
        except ValueError:
            source = record.source
        graph.add((node, RDF.type, CITY.QuarantinedRecord))
        graph.add((node, CITY.sourceFile, Literal(str(source))))
        graph.add((node, CITY.sourceLine, Literal(record.line, datatype=XSD.integer)))
        graph.add((node, CITY.rawRecord, Literal(json.dumps(record.values, ensure_ascii=False),
                                                 datatype=RDF.JSON)))
        if record.entity:
            graph.add((node, CITY.refusedEntity, URIRef(record.entity)))
        for reason in record.reasons:
            graph.add((node, CITY.refusalReason, Literal(reason)))
    return graph
