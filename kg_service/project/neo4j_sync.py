"""Sync: keep a Neo4j property graph equal to the projection (``rules.py``) of the RDF store.

A sync reads the datasets' graphs, the inferred graph and the spatial graph, projects every entity,
and compares each node's ``citykgHash`` with what Neo4j holds. Only entities that changed are written,
a batch of them per transaction (nodes, labels, properties and outgoing relationships together, with
UNWIND), so a second run writes nothing, and a run that was interrupted (server stopped, process
killed) is finished by the next one without duplicates: every write is keyed by IRI. An entity that
no graph mentions any more loses its labels, properties and relationships; its node stays as a bare
``Resource`` while some relationship still points at it, and goes when none does.
"""

from __future__ import annotations

import tempfile
import time
from collections import Counter
from collections.abc import Callable, Sequence
from contextlib import AbstractContextManager
from dataclasses import dataclass, field
from typing import Any

import neo4j
import pyoxigraph as ox
from neo4j.exceptions import ServiceUnavailable, SessionExpired, TransientError

from kg_service.config import Settings
from kg_service.errors import StoreError
from kg_service.heap import collector_paused
from kg_service.project.rules import (
    CODE_LABELS,
    HAS_GEOMETRY,
    HASH_PROPERTY,
    OWL_NAMESPACE,
    RDF_TYPE,
    RESOURCE_LABEL,
    SUBCLASS_OF,
    Projection,
)
from kg_service.store.base import GraphStore, RdfFormat
from kg_service.store.neo4j import connect, neo4j_errors

BATCH = 2_000  # entities per write transaction
READ_CHUNK = 1_000  # entities named in one query when a sync reads only some datasets' entities

_SCHEMA = f"CREATE CONSTRAINT citykg_resource_uri IF NOT EXISTS FOR (n:{RESOURCE_LABEL}) REQUIRE n.uri IS UNIQUE"
_WRITE_NODES = f"""
UNWIND $rows AS row
MERGE (n:{RESOURCE_LABEL} {{uri: row.uri}})
WITH n, row, [label IN labels(n) WHERE NOT label IN row.labels] AS stale
REMOVE n:$(stale)
SET n:$(row.labels)
SET n = row.properties
"""
_DROP_RELATIONSHIPS = f"UNWIND $uris AS uri MATCH (:{RESOURCE_LABEL} {{uri: uri}})-[old]->() DELETE old"
_WRITE_RELATIONSHIPS = f"""
UNWIND $relationships AS rel
MATCH (a:{RESOURCE_LABEL} {{uri: rel.from}})
MERGE (b:{RESOURCE_LABEL} {{uri: rel.to}})
CREATE (a)-[r:$(rel.type)]->(b)
SET r.datasets = rel.datasets, r.inferred = rel.inferred
"""
# A node no graph mentions any more: a bare Resource while something points at it, gone otherwise.
_RETIRE = f"""
UNWIND $uris AS uri
MATCH (n:{RESOURCE_LABEL} {{uri: uri}})
OPTIONAL MATCH (n)-[old]->()
DELETE old
WITH DISTINCT n
WITH n, [label IN labels(n) WHERE label <> '{RESOURCE_LABEL}'] AS stale
REMOVE n:$(stale)
SET n = {{uri: n.uri}}
"""
_DROP_ORPHANS = f"MATCH (n:{RESOURCE_LABEL}) WHERE n.{HASH_PROPERTY} IS NULL AND NOT (n)--() DELETE n"


@dataclass
class SyncReport:
    entities: int = 0  # projected entities considered
    written: int = 0  # nodes written because they changed
    unchanged: int = 0
    retired: int = 0  # nodes no graph mentions any more
    relationships: int = 0  # relationships written
    seconds: float = 0.0

    @property
    def items(self) -> int:
        return self.written + self.relationships + self.retired

    @property
    def items_per_second(self) -> float:
        return self.items / self.seconds if self.seconds > 0 else 0.0


@dataclass
class StatusReport:
    """Counts per label and relationship type: expected from the RDF side, found in Neo4j."""

    expected_labels: Counter[str] = field(default_factory=Counter)
    found_labels: Counter[str] = field(default_factory=Counter)
    expected_relationships: Counter[str] = field(default_factory=Counter)
    found_relationships: Counter[str] = field(default_factory=Counter)

    def differences(self) -> list[tuple[str, str, int, int]]:
        """(kind, name, expected, found) for every label or type whose counts differ."""
        rows = []
        for kind, expected, found in (("label", self.expected_labels, self.found_labels),
                                      ("relationship", self.expected_relationships, self.found_relationships)):
            for name in sorted({*expected, *found}):
                if expected[name] != found[name]:
                    rows.append((kind, name, expected[name], found[name]))
        return rows

    @property
    def in_sync(self) -> bool:
        return not self.differences()


def projected_graphs(settings: Settings, store: GraphStore) -> list[str]:
    graphs = settings.graphs
    return [graph for graph in store.named_graphs()
            if graph.startswith(graphs.source_prefix) or graph in (graphs.inferred, graphs.spatial)]


def read_projection(settings: Settings, store: GraphStore) -> Projection:
    """Project every dataset's graph, the inferred graph and the spatial graph of ``store``."""
    graphs = settings.graphs
    projection = Projection()
    sources, inferred = graphs.source_prefix, graphs.inferred
    add = projection.add
    for graph in projected_graphs(settings, store):  # a graph at a time: its triples need no graph name
        origin, is_inferred = (graph[len(sources):] if graph.startswith(sources) else None), graph == inferred
        with tempfile.TemporaryFile() as buffer:
            store.export(buffer, RdfFormat.N_QUADS, graphs=[graph])
            buffer.seek(0)
            for quad in ox.parse(buffer, format=ox.RdfFormat.N_QUADS):
                obj = quad.object
                value = ((obj.value, obj.datatype.value, obj.language) if isinstance(obj, ox.Literal)
                         else (_resource(obj), None, None))
                add(_resource(quad.subject), quad.predicate.value, value, origin, inferred=is_inferred)
    _describe_code_lists(settings, store, projection)
    return projection


def read_entities(settings: Settings, store: GraphStore, datasets: set[str], also: set[str]) -> Projection | None:
    """Project only what one or a few datasets touch: the subjects of their graphs and ``also``
    (what they asserted at the last sync), each with everything every projected graph says of it,
    and their geometries. None when a subject is a blank node, which a query cannot name: the
    caller then reads everything."""
    graphs = settings.graphs
    chosen = projected_graphs(settings, store)
    subjects = set(also)
    for dataset in sorted(datasets):
        source = graphs.source(dataset)
        if source in chosen:
            found = store.select_terms(f"SELECT DISTINCT ?s WHERE {{ GRAPH <{source}> {{ ?s ?p ?o }} }}")
            subjects |= {row[0].value for row in found.rows if row[0] is not None}
    if any(subject.startswith("_:") for subject in subjects):
        return None
    projection = Projection()
    sources, projected = graphs.source_prefix, set(chosen)
    pending, read = sorted(subjects), set()
    while pending:
        read |= set(pending)
        geometries: set[str] = set()
        for start in range(0, len(pending), READ_CHUNK):
            named = " ".join(f"<{iri}>" for iri in pending[start:start + READ_CHUNK])
            # every graph, the others dropped here: a second VALUES (of graphs) made the store's plan 4x slower
            rows = store.select_terms(f"SELECT ?g ?s ?p ?o WHERE {{ VALUES ?s {{ {named} }} GRAPH ?g {{ ?s ?p ?o }} }}")
            for in_graph, subject, predicate, obj in rows.rows:
                if in_graph is None or subject is None or predicate is None or obj is None \
                        or in_graph.value not in projected:
                    continue
                origin = in_graph.value[len(sources):] if in_graph.value.startswith(sources) else None
                value = (obj.value, obj.datatype, obj.language)
                projection.add(subject.value, predicate.value, value, origin,
                               inferred=in_graph.value == graphs.inferred)
                if predicate.value == HAS_GEOMETRY and obj.is_iri:
                    geometries.add(obj.value)
        pending = sorted(geometries - read)  # a feature's geometry, for its inline ``geometry``
    _describe_code_lists(settings, store, projection)
    return projection


def _describe_code_lists(settings: Settings, store: GraphStore, projection: Projection) -> None:
    """The ontology's individuals the data points at (an alert status, an observed property, an
    aggregation level), with their classes (superclasses too) and labels from the ontology's
    graph, so that their nodes are not bare: ``MATCH (:PumpStation)-[:ALERT_STATUS]->(s) RETURN
    s.label_en`` then answers. Only those no projected graph says anything about (a dataset that
    describes one projects it as its own entity), and only what the ontology says of them."""
    pointed_at = {relation.target for entity in projection.entities.values()
                  for relation in entity.relationships.values()}
    candidates = sorted(iri for iri in pointed_at - set(projection.entities) if not iri.startswith("_:"))
    ontology, projected = settings.graphs.ontology, set(projected_graphs(settings, store))
    for start in range(0, len(candidates), READ_CHUNK):
        named = " ".join(f"<{iri}>" for iri in candidates[start:start + READ_CHUNK])
        # a projection of some datasets only has not read the others: ask which are subjects there
        described_elsewhere = {row[0].value for row in store.select_terms(
            f"SELECT DISTINCT ?s ?g WHERE {{ VALUES ?s {{ {named} }} GRAPH ?g {{ ?s ?p ?o }} }}").rows
            if row[0] is not None and row[1] is not None and row[1].value in projected}
        rows = store.select_terms(
            f"SELECT ?s ?p ?o ?direct WHERE {{ GRAPH <{ontology}> {{ VALUES ?s {{ {named} }} "
            f"{{ ?s <{RDF_TYPE}> ?o BIND(true AS ?direct) }} "
            f"UNION {{ ?s <{RDF_TYPE}>/<{SUBCLASS_OF}>+ ?o FILTER NOT EXISTS {{ ?s <{RDF_TYPE}> ?o }} }} "
            f"UNION {{ ?s ?p ?o FILTER (?p IN ({', '.join(f'<{p}>' for p in CODE_LABELS)})) }} "
            f"FILTER (!isBlank(?o) && !STRSTARTS(STR(?o), \"{OWL_NAMESPACE}\")) }} }}")
        for subject, predicate, obj, direct in rows.rows:
            if subject is None or obj is None or subject.value in described_elsewhere:
                continue
            projection.described.add(subject.value)
            if predicate is None:  # a class: stated in the ontology, or one of its superclasses
                projection.add(subject.value, RDF_TYPE, (obj.value, None, None), None, inferred=direct is None)
            else:
                projection.add(subject.value, predicate.value, (obj.value, obj.datatype, obj.language), None)


def _resource(term: Any) -> str:
    return f"_:{term.value}" if isinstance(term, ox.BlankNode) else str(term.value)


class Neo4jProjection:
    """The projected property graph in one Neo4j database."""

    def __init__(self, driver: neo4j.Driver, database: str, location: str, retry_seconds: float = 30.0) -> None:
        self._driver = driver
        self._retry_seconds = retry_seconds
        self._database = database
        self.location = location
        with self._errors("preparing the database"):
            self._driver.execute_query(_SCHEMA, database_=database)

    @classmethod
    def open(cls, settings: Settings) -> Neo4jProjection:
        return cls(connect(settings), settings.neo4j_database,
                   f"{settings.neo4j_uri} (database {settings.neo4j_database})", settings.neo4j_retry_seconds)

    def close(self) -> None:
        self._driver.close()

    def __enter__(self) -> Neo4jProjection:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def hashes(self) -> dict[str, str | None]:
        """Each projected node's IRI and ``citykgHash`` (None for a bare node)."""
        # One record holding every pair: a record per node costs a Bolt message each to decode.
        records = self._read(f"MATCH (n:{RESOURCE_LABEL}) RETURN collect([n.uri, n.{HASH_PROPERTY}]) AS pairs")
        return {uri: digest for uri, digest in records[0]["pairs"]} if records else {}

    def datasets_of(self) -> dict[str, list[str]]:
        """Each projected node's asserting datasets as of the last sync."""
        records = self._read(f"MATCH (n:{RESOURCE_LABEL}) WHERE n.datasets IS NOT NULL "
                             "RETURN collect([n.uri, n.datasets]) AS pairs")
        return {uri: list(datasets) for uri, datasets in records[0]["pairs"]} if records else {}

    def write(self, rows: list[dict[str, Any]]) -> int:
        """Write entities (nodes and their outgoing relationships) in one transaction; returns how
        many relationships were written."""
        relationships = [relation for row in rows for relation in row["relationships"]]
        nodes = [{"uri": row["uri"], "labels": row["labels"], "properties": row["properties"]} for row in rows]

        def work(tx: neo4j.ManagedTransaction) -> None:
            tx.run(_WRITE_NODES, rows=nodes).consume()
            tx.run(_DROP_RELATIONSHIPS, uris=[row["uri"] for row in rows]).consume()
            tx.run(_WRITE_RELATIONSHIPS, relationships=relationships).consume()

        self._write(work)
        return len(relationships)

    def retire(self, uris: list[str]) -> None:
        self._write(lambda tx: tx.run(_RETIRE, uris=uris).consume())

    def drop_orphans(self) -> None:
        self._write(lambda tx: tx.run(_DROP_ORPHANS).consume())

    def counts(self) -> tuple[Counter[str], Counter[str]]:
        labels = self._read(f"MATCH (n:{RESOURCE_LABEL}) WHERE n.{HASH_PROPERTY} IS NOT NULL "
                            "UNWIND labels(n) AS label RETURN label, count(*) AS n")
        types = self._read(f"MATCH (:{RESOURCE_LABEL})-[r]->(:{RESOURCE_LABEL}) RETURN type(r) AS type, count(*) AS n")
        return (Counter({record["label"]: record["n"] for record in labels}),
                Counter({record["type"]: record["n"] for record in types}))

    def _read(self, cypher: str, **parameters: Any) -> list[neo4j.Record]:
        with self._errors("reading the projection"):
            records, _, _ = self._driver.execute_query(cypher, parameters, database_=self._database,
                                                       routing_=neo4j.RoutingControl.READ)
        return records

    def _write(self, work: Callable[[neo4j.ManagedTransaction], object]) -> None:
        """One transaction, retried with backoff while the server is unavailable (a restart, a leader
        change) for up to ``neo4j_retry_seconds``; the driver's own quick retries come first."""
        deadline = time.monotonic() + self._retry_seconds
        pause = 0.5
        while True:
            try:
                with self._errors("writing the projection"), self._driver.session(database=self._database) as session:
                    session.execute_write(work)
                return
            except StoreError as error:
                transient = isinstance(error.__cause__, ServiceUnavailable | SessionExpired | TransientError)
                if not transient or time.monotonic() + pause > deadline:
                    raise
                time.sleep(pause)
                pause = min(pause * 2, 8.0)

    def _errors(self, doing: str) -> AbstractContextManager[None]:
        return neo4j_errors(doing, self.location, "check that the server is running, then run 'citykg neo4j sync' "
                                                  "again: it finishes what was left")


def sync(settings: Settings, store: GraphStore, datasets: Sequence[str] | None = None,
         target: Neo4jProjection | None = None, on_batch: Callable[[int], None] | None = None) -> SyncReport:
    """Bring the projection in Neo4j up to date with ``store``: all entities, or those that one of
    ``datasets`` (ids ``department/dataset``) asserts now or asserted at the last sync."""
    started = time.perf_counter()
    own = target is None
    target = target or Neo4jProjection.open(settings)
    chosen = set(datasets) if datasets is not None else None
    try:
        # The projection is about a million containers for 270k statements, alive until the sync
        # ends: collections while it is built and written walk them all and free nothing (they
        # took half of reading and projecting it).
        with collector_paused():
            projection = None
            if chosen is not None:  # only these datasets' entities: read them, not the city
                before = {uri for uri, had in target.datasets_of().items() if set(had) & chosen}
                projection = read_entities(settings, store, chosen, before)
            report = _sync(projection or read_projection(settings, store), target, chosen, on_batch)
    finally:
        if own:
            target.close()
    report.seconds = time.perf_counter() - started
    return report


def _sync(projection: Projection, target: Neo4jProjection, datasets: set[str] | None,
          on_batch: Callable[[int], None] | None) -> SyncReport:
    existing = target.hashes()
    if datasets is None:
        scope = set(projection.entities) | {uri for uri, digest in existing.items() if digest is not None}
    else:
        scope = {uri for uri, entity in projection.entities.items() if entity.datasets & datasets}
        scope |= {uri for uri, had in target.datasets_of().items() if set(had) & datasets}
        # the code-list individuals they point at, described by the ontology alone (a full sync
        # retires one nothing points at any more)
        scope |= {relation.target for uri in list(scope) if (entity := projection.entities.get(uri)) is not None
                  for relation in entity.relationships.values() if relation.target in projection.described}
    report = SyncReport(entities=len(scope))
    projected = [uri for uri in scope if uri in projection.entities]
    changed = projection.rows(projected, held=existing)
    report.unchanged = len(projected) - len(changed)
    for start in range(0, len(changed), BATCH):
        batch = changed[start:start + BATCH]
        report.relationships += target.write(batch)
        report.written += len(batch)
        if on_batch:
            on_batch(len(batch))
    gone = sorted(uri for uri in scope if uri not in projection.entities and existing.get(uri) is not None)
    for start in range(0, len(gone), BATCH):
        target.retire(gone[start:start + BATCH])
    report.retired = len(gone)
    if gone or changed:
        target.drop_orphans()
    return report


def status(settings: Settings, store: GraphStore, target: Neo4jProjection | None = None) -> StatusReport:
    report = StatusReport()
    with collector_paused():  # as in ``sync``; counting needs each node's labels and types, not its properties
        for entity in read_projection(settings, store).entities.values():
            report.expected_labels.update(entity.labels())
            report.expected_relationships.update(relation.type for relation in entity.relationships.values())
    own = target is None
    target = target or Neo4jProjection.open(settings)
    try:
        report.found_labels, report.found_relationships = target.counts()
    finally:
        if own:
            target.close()
    return report
