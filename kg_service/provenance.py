"""What each ingest job did, in PROV-O (https://www.w3.org/TR/prov-o/), for the provenance graph.

A job is a ``city:IngestJob`` (a ``prov:Activity``) that ``prov:used`` the source files and the
mapping (each an entity with its SHA-256 and path) and the ontology (with its version and content
hash), was associated with the department, and generated the dataset's graph; it carries its
start and end times, its record counts and its outcome. Jobs accumulate: the graph is the history.

Which dataset asserted an entity is kept apart from the history, as ``<entity> city:assertedBy
<dataset>``: it is replaced with each job of that dataset, so it always says what the dataset
asserts now; an entity several datasets describe has one statement per dataset.
"""

from __future__ import annotations

import datetime
import hashlib
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from rdflib import RDF, XSD, Graph, Literal, Namespace, URIRef

from kg_service.lift.terms import lexical_of
from kg_service.namespaces import CITY
from kg_service.store import GraphStore

PROV = Namespace("http://www.w3.org/ns/prov#")

# The departments the ontology names; a department it does not know gets an IRI of its own.
DEPARTMENT_AGENTS = {
    "planning": CITY.PlanningBureau,
    "market-regulation": CITY.MarketRegulationBureau,
    "education": CITY.EducationBureau,
    "health": CITY.HealthCommission,
    "water": CITY.WaterAuthority,
    "civil-affairs": CITY.CivilAffairsBureau,
}


@dataclass(frozen=True)
class JobRecord:
    """One finished job, in plain values."""

    dataset: str  # <department>/<dataset>
    graph: str  # the dataset's named graph
    started: datetime.datetime
    ended: datetime.datetime
    files: dict[Path, str]  # every file read (sources and mapping) -> SHA-256
    mappings_dir: Path  # paths are recorded relative to it, so a moved checkout reads the same
    ontology_iri: str
    ontology_version: str
    ontology_hash: str
    read: int
    committed: int
    quarantined: int
    skipped: int
    outcome: str  # "committed" or "unchanged"


def sha256_of(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def dataset_iri(base_iri: str, dataset: str) -> URIRef:
    return URIRef(f"{base_iri}dataset/{dataset}")


def department_agent(base_iri: str, department: str) -> URIRef:
    return DEPARTMENT_AGENTS.get(department, URIRef(f"{base_iri}department/{department}"))


def job_graph(job: JobRecord, base_iri: str) -> Graph:
    """The job's statements, to add to the provenance graph."""
    graph = Graph()
    stamp = job.started.astimezone(datetime.UTC).strftime("%Y%m%dT%H%M%S%fZ")
    activity = URIRef(f"{base_iri}job/{job.dataset}/{stamp}")
    dataset = dataset_iri(base_iri, job.dataset)
    department = department_agent(base_iri, job.dataset.split("/")[0])
    graph.add((activity, RDF.type, CITY.IngestJob))
    graph.add((activity, PROV.startedAtTime, Literal(job.started.isoformat(), datatype=XSD.dateTime)))
    graph.add((activity, PROV.endedAtTime, Literal(job.ended.isoformat(), datatype=XSD.dateTime)))
    graph.add((activity, PROV.wasAssociatedWith, department))
    for path, checksum in sorted(job.files.items()):
        # A file's version is the entity: the same bytes are the same entity in every job.
        version = URIRef(f"{base_iri}file/{checksum}")
        graph.add((activity, PROV.used, version))
        graph.add((version, RDF.type, PROV.Entity))
        graph.add((version, CITY.contentHash, Literal(checksum)))
        graph.add((version, CITY.filePath, Literal(_relative(path, job.mappings_dir))))
    ontology = URIRef(job.ontology_iri)
    graph.add((activity, PROV.used, ontology))
    graph.add((ontology, CITY.contentHash, Literal(job.ontology_hash)))
    graph.add((ontology, URIRef("http://www.w3.org/2002/07/owl#versionInfo"), Literal(job.ontology_version)))
    graph.add((URIRef(job.graph), PROV.wasGeneratedBy, activity))
    graph.add((dataset, RDF.type, CITY.Dataset))
    graph.add((dataset, PROV.wasAttributedTo, department))
    graph.add((department, CITY.publishes, dataset))
    for predicate, count in ((CITY.recordsRead, job.read), (CITY.recordsCommitted, job.committed),
                             (CITY.recordsQuarantined, job.quarantined), (CITY.recordsSkipped, job.skipped)):
        graph.add((activity, predicate, Literal(count)))
    graph.add((activity, CITY.jobOutcome, Literal(job.outcome)))
    return graph


def attribution_lines(base_iri: str, dataset: str, entities: Iterable[str]) -> Iterable[bytes]:
    """``<entity> city:assertedBy <dataset>`` as N-Triples lines, for entities given in N-Triples form."""
    tail = f" <{CITY.assertedBy}> <{dataset_iri(base_iri, dataset)}> .\n".encode()
    return (entity.encode() + tail for entity in entities)


def _relative(path: Path, root: Path) -> str:
    try:
        return str(path.resolve().relative_to(root.resolve()))
    except ValueError:
        return str(path)


def content_stamp(store: GraphStore, provenance: str, graph: str) -> str | None:
    """The content hash the provenance graph gives ``graph``: a dataset's graph (what its last
    commit wrote) or the inferred graph (what it was inferred from); None when it gives none."""
    rows = store.select_text(f"SELECT ?hash WHERE {{ GRAPH <{provenance}> {{ "
                             f"<{graph}> <{CITY.contentHash}> ?hash }} }}")
    return lexical_of(rows[0][0] or "") if rows else None
