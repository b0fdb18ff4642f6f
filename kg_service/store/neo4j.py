"""The scale-out backend: the GraphStore protocol on a Neo4j 5 server, over Bolt with the official driver.

Neo4j holds RDF here as one node per statement, ``(:Quad)``, so that every RDF term survives a round
trip exactly (the property-graph *projection* for Cypher users is a separate thing:
``kg_service.neo4j``). A named graph is a ``(:NamedGraph {iri, layers})`` whose ``layers`` list the
physical graphs (``Quad.g``) that make it up:

* a replacement writes a new physical graph in batches of its own transactions (so a graph of any
  size needs bounded server memory), then one small transaction points the named graph at it;
* an addition writes a new layer the same way and appends it;
* retractions and the pointer moves of one ``commit`` share that last transaction.

Neo4j reads are "read committed", not snapshots: a query that started before a commit could see part
of a graph changed in place. Readers therefore take the pointers once per query and read whole
physical graphs, which a writer never changes, only retires: a retired physical graph is deleted a
grace period later, and one left half-written by a killed process is deleted on the next open.

SPARQL is answered by rdflib's engine over a view that asks Neo4j one Cypher query per triple pattern:
correct and complete, but a round trip per pattern and binding, so it suits the pipeline's and the
tests' queries; the GraphQL API compiles its requests to Cypher over the projection instead.
"""

from __future__ import annotations

import hashlib
import time
import uuid
from collections.abc import Generator, Iterable, Iterator, Mapping, Sequence
from contextlib import AbstractContextManager, contextmanager
from itertools import islice
from typing import Any, BinaryIO

import neo4j
import pyoxigraph as ox
from neo4j.exceptions import AuthError, ClientError, Neo4jError, ServiceUnavailable, SessionExpired, TransientError
from rdflib import BNode, Dataset, Graph, Literal, URIRef
from rdflib.graph import DATASET_DEFAULT_GRAPH_ID
from rdflib.store import Store
from rdflib.term import Identifier, Node

from kg_service.config import Settings
from kg_service.errors import QuerySyntaxError, StoreError
from kg_service.store.base import (
    GraphWrites,
    QueryResult,
    RdfFormat,
    RdfInput,
    SelectResult,
    StoreBasics,
    Term,
    TermRows,
    as_binary_file,
)

BATCH = 5_000  # statements per write transaction: large enough to amortise a round trip
RETIRED_GRACE_SECONDS = 60.0  # how long a replaced physical graph stays for queries that began before
STALE_PENDING_SECONDS = 600.0  # a physical graph not written to for this long belongs to a dead writer
DEFAULT_GRAPH = ""  # the unnamed default graph's key among the named graphs

_FORMATS: dict[RdfFormat, ox.RdfFormat] = {
    RdfFormat.N_TRIPLES: ox.RdfFormat.N_TRIPLES,
    RdfFormat.N_QUADS: ox.RdfFormat.N_QUADS,
    RdfFormat.TURTLE: ox.RdfFormat.TURTLE,
    RdfFormat.TRIG: ox.RdfFormat.TRIG,
}
_XSD_STRING = "http://www.w3.org/2001/XMLSchema#string"
_RDF_LANG_STRING = "http://www.w3.org/1999/02/22-rdf-syntax-ns#langString"

_SCHEMA = (
    "CREATE CONSTRAINT citykg_quad_key IF NOT EXISTS FOR (q:Quad) REQUIRE q.k IS UNIQUE",
    "CREATE INDEX citykg_quad_graph IF NOT EXISTS FOR (q:Quad) ON (q.g)",
    "CREATE INDEX citykg_quad_subject IF NOT EXISTS FOR (q:Quad) ON (q.s)",
    "CREATE INDEX citykg_quad_predicate IF NOT EXISTS FOR (q:Quad) ON (q.p)",
    "CREATE INDEX citykg_quad_object IF NOT EXISTS FOR (q:Quad) ON (q.o)",
    "CREATE INDEX citykg_quad_statement IF NOT EXISTS FOR (q:Quad) ON (q.h)",
    "CREATE CONSTRAINT citykg_named_graph IF NOT EXISTS FOR (n:NamedGraph) REQUIRE n.iri IS UNIQUE",
)
_WRITE_BATCH = """
MERGE (pending:Pending {physical: $physical}) SET pending.since = $now
WITH pending
UNWIND $rows AS row
MERGE (q:Quad {k: row.k})
ON CREATE SET q.g = $physical, q.h = row.h, q.s = row.s, q.p = row.p, q.o = row.o,
              q.ok = row.ok, q.ov = row.ov, q.od = row.od, q.ol = row.ol
"""
_QUAD_FIELDS = "q.s AS s, q.p AS p, q.ok AS ok, q.ov AS ov, q.od AS od, q.ol AS ol"


def connect(settings: Settings) -> neo4j.Driver:
    """A driver for the configured server, checked: one clear error if it is down or refuses us."""
    driver = neo4j.GraphDatabase.driver(
        settings.neo4j_uri, auth=(settings.neo4j_user, settings.neo4j_password.get_secret_value()),
        connection_timeout=10.0, max_transaction_retry_time=settings.neo4j_retry_seconds,
        notifications_min_severity=neo4j.NotificationMinimumSeverity.OFF)
    try:
        driver.verify_connectivity()
    except AuthError as error:
        driver.close()
        raise StoreError("Neo4j refused the user name or password", where=settings.neo4j_uri,
                         hint="set CITYKG_NEO4J_USER and CITYKG_NEO4J_PASSWORD (or neo4j_* in citykg.toml)"
                         ) from error
    except (ServiceUnavailable, OSError, ValueError, Neo4jError) as error:
        driver.close()
        raise StoreError(f"cannot reach Neo4j: {one_line(error)}", where=settings.neo4j_uri,
                         hint="start the server (neo4j-server/server.sh start) or set CITYKG_NEO4J_URI"
                         ) from error
    return driver


@contextmanager
def neo4j_errors(doing: str, location: str, hint: str) -> Iterator[None]:
    """The driver's failures as one-line StoreErrors: the server gone (transient: a caller may retry,
    the driver's exception stays the cause) or a refused statement."""
    try:
        yield
    except (ServiceUnavailable, SessionExpired, TransientError) as error:
        raise StoreError(f"lost the connection to Neo4j while {doing}: {one_line(error)}", where=location,
                         hint=hint) from error
    except ClientError as error:
        raise StoreError(f"Neo4j refused a statement while {doing}: {error.message}", where=location) from error


def one_line(error: BaseException) -> str:
    """The driver's message on one line (some span several), for the one-line errors users see."""
    return " ".join(str(error).split())


class Neo4jStore(StoreBasics):
    """A :class:`~kg_service.store.base.GraphStore` whose quads live in a Neo4j database."""

    backend_name = "neo4j"
    data_version = None  # other processes (syncs, other services) write to the same database

    def __init__(self, driver: neo4j.Driver, *, database: str, staging_prefix: str, location: str) -> None:
        self._driver = driver
        self._database = database
        self._staging_prefix = staging_prefix
        self.location = location
        with self._errors("preparing the database"):
            for statement in _SCHEMA:
                self._driver.execute_query(statement, database_=database)
            self._drop_abandoned_staging_graphs()
            self._collect_garbage()

    @classmethod
    def open(cls, settings: Settings) -> Neo4jStore:
        return cls(connect(settings), database=settings.neo4j_database,
                   staging_prefix=settings.graphs.staging_prefix,
                   location=f"{settings.neo4j_uri} (database {settings.neo4j_database})")

    # -- reading ---------------------------------------------------------------------------

    def named_graphs(self) -> list[str]:
        return sorted(self._graph_layers())

    def _graph_layers(self, *, with_default: bool = False) -> dict[str, list[str]]:
        """The committed graphs (IRI -> physical layers) now: one read, kept for a whole query."""
        records = self._read("MATCH (n:NamedGraph) RETURN n.iri AS iri, n.layers AS layers")
        return {record["iri"]: list(record["layers"]) for record in records
                if not record["iri"].startswith(self._staging_prefix)
                and (with_default or record["iri"] != DEFAULT_GRAPH)}

    def count(self, graph: str | None = None) -> int:
        graphs = self._graph_layers(with_default=True)
        layers = [layer for iri, physical in graphs.items() if graph is None or iri == graph for layer in physical]
        if not layers:
            return 0
        records = self._read("MATCH (q:Quad) WHERE q.g IN $layers RETURN count(q) AS n", layers=layers)
        return int(records[0]["n"])

    def query(self, sparql: str, *, bindings: Mapping[str, Identifier] | None = None,
              union_default_graph: bool = True) -> QueryResult:
        view = _QuadView(self, self._graph_layers(with_default=True))
        dataset = Dataset(store=view, default_union=union_default_graph)
        try:
            result = dataset.query(sparql, initBindings=dict(bindings or {}))
        except Neo4jError as error:
            raise StoreError(f"Neo4j failed a read: {one_line(error)}", where=self.location) from error
        except Exception as error:  # rdflib's parser raises pyparsing's and its own exception types
            raise QuerySyntaxError(f"invalid SPARQL: {error}", where="query",
                                   hint="only read queries (SELECT, ASK, CONSTRUCT, DESCRIBE) are accepted"
                                   ) from error
        if result.type == "ASK":
            return bool(result.askAnswer)
        if result.type in ("CONSTRUCT", "DESCRIBE"):
            graph = Graph()
            for triple in result:
                graph.add(triple)  # type: ignore[arg-type]
            return graph
        variables = [str(variable) for variable in result.vars or []]
        return SelectResult(variables, [tuple(row) for row in result])  # type: ignore[arg-type]

    def select_terms(self, sparql: str, *, bindings: Mapping[str, Identifier] | None = None) -> TermRows:
        result = self.query(sparql, bindings=bindings)
        if not isinstance(result, SelectResult):
            raise QuerySyntaxError("expected a SELECT query", where=sparql.strip().splitlines()[0][:80])
        return TermRows(result.variables, [tuple(map(_to_term, row)) for row in result.rows])

    def select_text(self, sparql: str) -> list[tuple[str | None, ...]]:
        result = self.query(sparql)
        if not isinstance(result, SelectResult):
            raise QuerySyntaxError("expected a SELECT query", where=sparql.strip().splitlines()[0][:80])
        return [tuple(None if value is None else value.n3() for value in row) for row in result.rows]

    def export(self, out: BinaryIO, format: RdfFormat, *, graphs: Sequence[str] | None = None) -> None:
        if not format.has_graphs:
            raise StoreError(f"export writes named graphs, so it needs N-Quads or TriG, not {format.name}")
        layers = self._graph_layers(with_default=graphs is None)
        chosen = sorted(layers) if graphs is None else [graph for graph in graphs if graph in layers]
        quads = (quad for graph in chosen for quad in self._physical_quads(graph, layers[graph]))
        ox.serialize(quads, out, format=_FORMATS[format])

    def _physical_quads(self, graph: str, layers: list[str]) -> Iterator[ox.Quad]:
        name: ox.NamedNode | ox.DefaultGraph = ox.NamedNode(graph) if graph else ox.DefaultGraph()
        with self._errors("export"), self._driver.session(database=self._database,
                                                          default_access_mode=neo4j.READ_ACCESS) as session:
            for record in session.run(f"MATCH (q:Quad) WHERE q.g IN $layers RETURN {_QUAD_FIELDS}", layers=layers):
                yield ox.Quad(_ox_resource(record["s"]), ox.NamedNode(record["p"]),
                              _ox_object(record["ok"], record["ov"], record["od"], record["ol"]), name)

    def matching(self, layers: list[str], subject: str | None, predicate: str | None, obj: str | None
                 ) -> list[Any]:
        """The statements of the physical ``layers`` matching a pattern (terms in N-Triples form, or
        None for any): one Cypher query, using the index of the most selective bound position."""
        conditions = ["q.g IN $layers"] + [f"q.{field} = ${field}" for field, value in
                                           (("s", subject), ("p", predicate), ("o", obj)) if value is not None]
        return self._read(f"MATCH (q:Quad) WHERE {' AND '.join(conditions)} RETURN q.g AS g, {_QUAD_FIELDS}",
                          layers=layers, s=subject, p=predicate, o=obj)

    # -- writing ---------------------------------------------------------------------------

    def load(self, data: RdfInput, format: RdfFormat, *, graph: str | None = None,
             base_iri: str | None = None) -> None:
        if format.has_graphs:
            # Quad formats name their own graphs: one new layer per graph, appended together.
            written: dict[str, str] = {}
            try:
                self._apply(adds=self._write_layers(data, format, base_iri, default=graph, written=written))
            except BaseException:
                self._discard(written.values())
                raise
            return
        self.commit(GraphWrites(add={graph or DEFAULT_GRAPH: data}), format, base_iri=base_iri)

    def commit(self, writes: GraphWrites, format: RdfFormat = RdfFormat.N_TRIPLES, *,
               base_iri: str | None = None) -> None:
        self.check_commit_format(writes, format)
        written: dict[str, str] = {}
        try:
            replaces = {graph: self._write_layer(data, format, base_iri, graph, written)
                        for graph, data in writes.replace.items()}
            adds = {graph: self._write_layer(data, format, base_iri, graph, written)
                    for graph, data in writes.add.items()}
            self._apply(replaces=replaces, adds=adds, retracts=writes.retract)
        except BaseException:
            self._discard(written.values())
            raise
        self._collect_garbage()

    def delete_graph(self, graph: str) -> None:
        self._apply(deletes=[graph])

    def close(self) -> None:
        self._driver.close()


    # -- internals -------------------------------------------------------------------------

    def _write_layer(self, data: RdfInput, format: RdfFormat, base_iri: str | None, graph: str,
                     written: dict[str, str]) -> str:
        layers = self._write_layers(data, format, base_iri, default=graph, written=written)
        return layers.get(graph) or self._new_physical(written, graph)

    def _write_layers(self, data: RdfInput, format: RdfFormat, base_iri: str | None, *, default: str | None,
                      written: dict[str, str] | None = None) -> dict[str, str]:
        """Parse ``data`` and write its statements, batch by batch, into a new physical graph per
        graph named in it (triples go to ``default``): invisible until ``_apply`` points at them."""
        written = {} if written is None else written
        layers: dict[str, str] = {}
        source = as_binary_file(data)
        reader = {"path": str(source)} if not hasattr(source, "read") else {"input": source}
        try:
            parsed = ox.parse(**reader, format=_FORMATS[format], base_iri=base_iri)
            while batch := list(islice(parsed, BATCH)):
                rows: dict[str, list[dict[str, Any]]] = {}
                for quad in batch:
                    name = (quad.graph_name.value if isinstance(quad.graph_name, ox.NamedNode)
                            else default if default is not None else DEFAULT_GRAPH)
                    if name not in layers:
                        layers[name] = self._new_physical(written, name)
                    rows.setdefault(layers[name], []).append(_row(layers[name], quad))
                for physical, physical_rows in rows.items():
                    self._write(_WRITE_BATCH, physical=physical, rows=physical_rows, now=time.time())
        except SyntaxError as error:
            raise StoreError(f"cannot parse the RDF: {error}", where=default or "dataset",
                             hint="nothing was written; fix the input and retry") from error
        return layers

    def _new_physical(self, written: dict[str, str], graph: str) -> str:
        physical = uuid.uuid4().hex
        written[f"{graph}#{physical}"] = physical
        self._write("CREATE (:Pending {physical: $physical, since: $now})", physical=physical, now=time.time())
        return physical

    def _apply(self, *, replaces: Mapping[str, str] | None = None, adds: Mapping[str, str] | None = None,
               retracts: Sequence[tuple[str, str | None, str | None, str | None]] = (),
               deletes: Sequence[str] = ()) -> None:
        """The one transaction that makes a commit visible: retractions, then the pointer moves."""

        def work(tx: neo4j.ManagedTransaction) -> None:
            now = time.time()
            for graph, subject, predicate, obj in retracts:
                tx.run("MATCH (n:NamedGraph {iri: $iri}) MATCH (q:Quad) WHERE q.g IN n.layers"
                       + "".join(f" AND q.{field} = ${field}" for field, value in
                                 (("s", subject), ("p", predicate), ("o", obj)) if value is not None)
                       + " DELETE q", iri=graph, s=_key_iri(subject), p=predicate, o=_key_iri(obj)).consume()
            retire = ("OPTIONAL MATCH (old:NamedGraph {iri: $iri}) "
                      "FOREACH (layer IN coalesce(old.layers, []) | CREATE (:Retired {physical: layer, since: $now}))")
            for graph in deletes:
                tx.run(f"{retire} WITH old DELETE old", iri=graph, now=now).consume()
            for graph, physical in (replaces or {}).items():
                tx.run(f"{retire} WITH old MERGE (n:NamedGraph {{iri: $iri}}) SET n.layers = [$physical]",
                       iri=graph, physical=physical, now=now).consume()
            for graph, physical in (adds or {}).items():
                # A statement the graph already holds is dropped from the new layer (RDF graphs are sets).
                tx.run("MATCH (n:NamedGraph {iri: $iri}) MATCH (q:Quad {g: $physical}) "
                       "WHERE EXISTS { MATCH (x:Quad {h: q.h}) WHERE x.g IN n.layers } DELETE q",
                       iri=graph, physical=physical).consume()
                tx.run("MERGE (n:NamedGraph {iri: $iri}) ON CREATE SET n.layers = [] "
                       "SET n.layers = n.layers + $physical", iri=graph, physical=physical).consume()
            every = [*(replaces or {}).values(), *(adds or {}).values()]
            tx.run("MATCH (p:Pending) WHERE p.physical IN $every DELETE p", every=every).consume()
            # A graph left with no statement is no graph at all (as in SPARQL's model).
            tx.run("MATCH (n:NamedGraph) WHERE n.iri IN $touched "
                   "AND NOT EXISTS { MATCH (q:Quad) WHERE q.g IN n.layers } "
                   "FOREACH (layer IN n.layers | CREATE (:Retired {physical: layer, since: $now})) DELETE n",
                   touched=[*(replaces or {}), *(adds or {}), *(graph for graph, *_ in retracts)], now=now).consume()

        with self._errors("commit"), self._driver.session(database=self._database) as session:
            session.execute_write(work)

    def _discard(self, physicals: Iterable[str]) -> None:
        """Remove what a failed write had written; a dead process's leftovers go in ``_collect_garbage``."""
        for physical in physicals:
            self._delete_physical(physical)
            self._write("MATCH (p:Pending {physical: $physical}) DELETE p", physical=physical)

    def _collect_garbage(self) -> None:
        now = time.time()
        stale = self._read("MATCH (r:Retired) WHERE r.since < $before RETURN r.physical AS physical "
                           "UNION MATCH (p:Pending) WHERE p.since < $pending RETURN p.physical AS physical",
                           before=now - RETIRED_GRACE_SECONDS, pending=now - STALE_PENDING_SECONDS)
        for record in stale:
            self._delete_physical(record["physical"])
            self._write("MATCH (m) WHERE (m:Retired OR m:Pending) AND m.physical = $physical DELETE m",
                        physical=record["physical"])

    def _delete_physical(self, physical: str) -> None:
        with self._errors("removing an old graph"), self._driver.session(database=self._database) as session:
            session.run("MATCH (q:Quad {g: $physical}) CALL (q) { DELETE q } IN TRANSACTIONS OF 10000 ROWS",
                        physical=physical).consume()

    def _drop_abandoned_staging_graphs(self) -> None:
        """A staging graph is only ever left by a killed job: dropped at once, without a grace period."""
        every = self._read("MATCH (n:NamedGraph) RETURN n.iri AS iri, n.layers AS layers")
        abandoned = {record["iri"]: record["layers"] for record in every
                     if record["iri"].startswith(self._staging_prefix)}
        if abandoned:
            self._apply(deletes=list(abandoned))
            layers = [layer for graph_layers in abandoned.values() for layer in graph_layers]
            for layer in layers:
                self._delete_physical(layer)
            self._write("MATCH (r:Retired) WHERE r.physical IN $layers DELETE r", layers=layers)

    def _read(self, cypher: str, **parameters: Any) -> list[neo4j.Record]:
        with self._errors("read"):
            records, _, _ = self._driver.execute_query(cypher, parameters, database_=self._database,
                                                       routing_=neo4j.RoutingControl.READ)
        return records

    def _write(self, cypher: str, **parameters: Any) -> None:
        with self._errors("write"):
            self._driver.execute_query(cypher, parameters, database_=self._database)

    def _errors(self, doing: str) -> AbstractContextManager[None]:
        return neo4j_errors(doing, self.location, "check that the server is running; the write was not applied")


class _QuadView(Store):
    """A read-only rdflib store over the statements of the committed graphs, as of one moment."""

    context_aware = True
    graph_aware = True

    def __init__(self, backend: Neo4jStore, graphs: dict[str, list[str]]) -> None:
        super().__init__()
        self._backend = backend
        self._graphs = graphs
        # each statement read names its graph: one Graph object per graph, made once
        self._graph_of_layer = {layer: Graph(store=self, identifier=_graph_identifier(iri))
                                for iri, layers in graphs.items() for layer in layers}

    def triples(self, pattern: tuple[Any, Any, Any], context: Graph | None = None
                ) -> Iterator[tuple[tuple[Node, Node, Node], Iterator[Graph]]]:
        subject, predicate, obj = pattern
        if context is None:
            layers = [layer for layers in self._graphs.values() for layer in layers]
        else:
            layers = self._graphs.get(_graph_key(context.identifier), [])
        if not layers or not _matchable(subject, predicate, obj):
            return
        for record in self._backend.matching(layers, _key(subject), None if predicate is None else str(predicate),
                                             _key(obj)):
            triple = (_rdflib_resource(record["s"]), URIRef(record["p"]),
                      _rdflib_object(record["ok"], record["ov"], record["od"], record["ol"]))
            yield triple, iter([self._graph_of_layer[record["g"]]])

    def contexts(self, triple: Any = None) -> Generator[Graph, None, None]:
        for iri in sorted(self._graphs):
            if iri != DEFAULT_GRAPH:
                yield Graph(store=self, identifier=URIRef(iri))  # over this store: GRAPH ?g reads through it

    def __len__(self, context: Graph | None = None) -> int:
        return sum(1 for _ in self.triples((None, None, None), context))

    def add_graph(self, graph: Graph) -> None:
        """rdflib's engine registers each graph a GRAPH pattern visits; nothing to keep here."""


def _graph_key(identifier: Node) -> str:
    return DEFAULT_GRAPH if identifier == DATASET_DEFAULT_GRAPH_ID else str(identifier)


def _graph_identifier(key: str) -> URIRef:
    return DATASET_DEFAULT_GRAPH_ID if key == DEFAULT_GRAPH else URIRef(key)


def _matchable(*terms: Any) -> bool:
    return all(term is None or isinstance(term, URIRef | BNode | Literal) for term in terms)


def _row(physical: str, quad: ox.Quad) -> dict[str, Any]:
    subject, obj = str(quad.subject), str(quad.object)
    statement = hashlib.sha1(f"{subject}\t{quad.predicate.value}\t{obj}".encode()).hexdigest()
    row: dict[str, Any] = {"k": f"{physical}:{statement}", "h": statement, "s": subject,
                           "p": quad.predicate.value, "o": obj, "od": None, "ol": None}
    term = quad.object
    if isinstance(term, ox.Literal):
        row.update(ok="l", ov=term.value, od=term.datatype.value, ol=term.language)
    elif isinstance(term, ox.NamedNode | ox.BlankNode):
        row.update(ok="i" if isinstance(term, ox.NamedNode) else "b", ov=term.value)
    else:
        raise StoreError("RDF-star quoted triples are not supported", where=str(quad))
    return row


def _key(term: Any) -> str | None:
    """An rdflib term in the N-Triples form the statements are keyed by (as pyoxigraph writes it)."""
    if term is None:
        return None
    return str(_ox_from_rdflib(term))


def _key_iri(value: str | None) -> str | None:
    return None if value is None else f"<{value}>"


def _ox_from_rdflib(term: Node) -> ox.NamedNode | ox.BlankNode | ox.Literal:
    if isinstance(term, URIRef):
        return ox.NamedNode(str(term))
    if isinstance(term, BNode):
        return ox.BlankNode(str(term))
    if isinstance(term, Literal):
        if term.language:
            return ox.Literal(str(term), language=term.language)
        return ox.Literal(str(term), datatype=ox.NamedNode(str(term.datatype or _XSD_STRING)))
    raise StoreError(f"cannot match a value of type {type(term).__name__}")


def _ox_resource(key: str) -> ox.NamedNode | ox.BlankNode:
    return ox.BlankNode(key[2:]) if key.startswith("_:") else ox.NamedNode(key[1:-1])


def _ox_object(kind: str, value: str, datatype: str | None, language: str | None
               ) -> ox.NamedNode | ox.BlankNode | ox.Literal:
    if kind == "i":
        return ox.NamedNode(value)
    if kind == "b":
        return ox.BlankNode(value)
    if language:
        return ox.Literal(value, language=language)
    return ox.Literal(value, datatype=ox.NamedNode(datatype or _XSD_STRING))


def _rdflib_resource(key: str) -> URIRef | BNode:
    return BNode(key[2:]) if key.startswith("_:") else URIRef(key[1:-1])


def _rdflib_object(kind: str, value: str, datatype: str | None, language: str | None) -> Node:
    if kind == "i":
        return URIRef(value)
    if kind == "b":
        return BNode(value)
    if language:
        return Literal(value, lang=language)
    return Literal(value) if datatype in (None, _XSD_STRING) else Literal(value, datatype=URIRef(datatype))


def _to_term(node: Node | None) -> Term | None:
    if node is None:
        return None
    if isinstance(node, Literal):
        datatype = (_RDF_LANG_STRING if node.language else str(node.datatype) if node.datatype else _XSD_STRING)
        return Term(str(node), datatype, node.language)
    if isinstance(node, BNode):
        return Term(f"_:{node}")
    return Term(str(node))
