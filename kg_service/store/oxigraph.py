"""The embedded default backend: Oxigraph (RocksDB on disk under the data directory, or in memory).

Atomic graph replacement: the new triples are bulk-loaded (streamed, not held in memory) into a
private staging graph, then one SPARQL Update (a single Oxigraph transaction) drops the target and
adds the staging graph to it; the staging graph is removed afterwards. Readers run on snapshots
("repeatable read"), so they see the old graph or the new one, never a mix. Staging graphs are
invisible to queries and listings, and one left by a killed process is removed on the next open.
"""

from __future__ import annotations

import itertools
import threading
import uuid
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager, nullcontext
from pathlib import Path
from typing import Any, BinaryIO

import pyoxigraph as ox
from rdflib import BNode, Graph, Literal, URIRef
from rdflib.term import Identifier, Node

from kg_service.config import Settings
from kg_service.errors import QuerySyntaxError, StoreError, StoreLockedError
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

_FORMATS: dict[RdfFormat, ox.RdfFormat] = {
    RdfFormat.N_TRIPLES: ox.RdfFormat.N_TRIPLES,
    RdfFormat.N_QUADS: ox.RdfFormat.N_QUADS,
    RdfFormat.TURTLE: ox.RdfFormat.TURTLE,
    RdfFormat.TRIG: ox.RdfFormat.TRIG,
}
_XSD_STRING = "http://www.w3.org/2001/XMLSchema#string"


_OxTerm = ox.NamedNode | ox.BlankNode | ox.Literal | ox.Triple

_STORE_IDENTITIES = itertools.count(1)  # one per store object opened in this process


class OxigraphStore(StoreBasics):
    """A :class:`~kg_service.store.base.GraphStore` over a pyoxigraph ``Store``."""

    backend_name = "oxigraph"

    def __init__(self, store: ox.Store, *, staging_prefix: str, location: str) -> None:
        self._store = store
        self._staging_prefix = staging_prefix
        self.location = location
        # The committed graphs, listed once and kept until this store writes: a persistent store is
        # held by one process (RocksDB's lock), so no other writer can change the list meanwhile.
        self._visible: list[str] | None = None
        self._all_visible = False
        # Staging graphs being loaded now. While there are none, every graph in the store is committed
        # and queries use Oxigraph's own union default graph, which it plans 3-7x better than the same
        # graphs listed. The lock orders "no staging graph" with the start of a query (which takes
        # its snapshot then) against the start of a bulk load.
        self._staging_loads = 0
        self._staging_lock = threading.Lock()
        # Every write goes through this object (the store's lock keeps other processes out) and
        # takes the next version once it is done: a reader that saw a version read a snapshot at
        # least that new. The identity tells this store from one opened later at the same address.
        self._identity, self._versions = next(_STORE_IDENTITIES), itertools.count(1)
        self._version = 0
        self._drop_abandoned_staging_graphs()

    @classmethod
    def open(cls, settings: Settings) -> OxigraphStore:
        staging = settings.graphs.staging_prefix
        if settings.in_memory:
            return cls(ox.Store(), staging_prefix=staging, location="memory")
        path = settings.ensure_data_dir() / "store"
        try:
            store = ox.Store(str(path))
        except OSError as error:
            if "lock" in str(error).lower():
                raise StoreLockedError(
                    "the store is open in another process", where=str(path),
                    hint="stop the running 'citykg serve' or 'citykg demo', or point CITYKG_DATA_DIR elsewhere",
                ) from error
            raise StoreError(f"cannot open the store: {error}", where=str(path)) from error
        return cls(store, staging_prefix=staging, location=str(path))

    # -- reading ---------------------------------------------------------------------------

    @property
    def data_version(self) -> tuple[int, int]:
        return self._identity, self._version

    def named_graphs(self) -> list[str]:
        return list(self._visible_graphs())

    def _visible_graphs(self) -> list[str]:
        if self._visible is None:
            every = self._all_graphs()
            self._visible = [g for g in every if not g.startswith(self._staging_prefix)]
            self._all_visible = len(self._visible) == len(every)
        return self._visible

    def _all_graphs(self) -> list[str]:
        return sorted(graph.value for graph in self._store.named_graphs() if isinstance(graph, ox.NamedNode))

    def count(self, graph: str | None = None) -> int:
        if graph is None:
            return len(self._store)
        # Counted inside the store, not by turning every quad into a Python object.
        result = self._store.query(f"SELECT (COUNT(*) AS ?n) WHERE {{ GRAPH {_iri(graph)} {{ ?s ?p ?o }} }}")
        assert isinstance(result, ox.QuerySolutions)
        return int(next(iter(result))[0].value)

    def select_text(self, sparql: str) -> list[tuple[str | None, ...]]:
        result = self._run(sparql, {}, union_default_graph=True)
        if not isinstance(result, ox.QuerySolutions):
            raise QuerySyntaxError("expected a SELECT query", where=sparql.strip().splitlines()[0][:80])
        return [tuple(None if value is None else str(value) for value in solution) for solution in result]

    def query(self, sparql: str, *, bindings: Mapping[str, Identifier] | None = None,
              union_default_graph: bool = True) -> QueryResult:
        substitutions: dict[ox.Variable, _OxTerm] = {
            ox.Variable(name): _to_oxigraph(value) for name, value in (bindings or {}).items()}
        result = self._run(sparql, substitutions, union_default_graph)
        if isinstance(result, ox.QuerySolutions):
            variables = [variable.value for variable in result.variables]
            rows = [tuple(_to_rdflib(value) for value in solution) for solution in result]
            return SelectResult(variables, rows)
        if isinstance(result, ox.QueryBoolean):
            return bool(result)
        graph = Graph()
        for triple in result:
            graph.add((_to_rdflib(triple.subject), _to_rdflib(triple.predicate),  # type: ignore[arg-type]
                       _to_rdflib(triple.object)))
        return graph

    def select_terms(self, sparql: str, *, bindings: Mapping[str, Identifier] | None = None) -> TermRows:
        substitutions: dict[ox.Variable, _OxTerm] = {
            ox.Variable(name): _to_oxigraph(value) for name, value in (bindings or {}).items()}
        result = self._run(sparql, substitutions, union_default_graph=True)
        if not isinstance(result, ox.QuerySolutions):
            raise QuerySyntaxError("expected a SELECT query", where=sparql.strip().splitlines()[0][:80])
        variables = [variable.value for variable in result.variables]
        return TermRows(variables, [tuple(map(_to_term, solution)) for solution in result])

    def _run(self, sparql: str, substitutions: dict[ox.Variable, _OxTerm], union_default_graph: bool
             ) -> ox.QuerySolutions | ox.QueryBoolean | ox.QueryTriples:
        try:
            with self._staging_lock:
                if self._staging_loads == 0 and self._visible_graphs() and self._all_visible:
                    return self._store.query(sparql, use_default_graph_as_union=union_default_graph,
                                             substitutions=substitutions or None)
            # Queries see committed graphs only: a staging graph being loaded is in no dataset.
            visible: list[ox.NamedNode | ox.BlankNode] = [ox.NamedNode(graph) for graph in self._visible_graphs()]
            default: list[ox.NamedNode | ox.BlankNode | ox.DefaultGraph] = (
                [*visible] if union_default_graph and visible else [ox.DefaultGraph()])
            return self._store.query(sparql, default_graph=default, named_graphs=visible,
                                     substitutions=substitutions or None)
        except SyntaxError as error:
            raise QuerySyntaxError(f"invalid SPARQL: {error}", where="query",
                                   hint="only read queries (SELECT, ASK, CONSTRUCT, DESCRIBE) are accepted"
                                   ) from error
        except RuntimeError as error:  # e.g. a bound variable missing from the SELECT projection
            raise QuerySyntaxError(f"cannot run the query: {error}", where="query") from error

    def export(self, out: BinaryIO, format: RdfFormat, *, graphs: Sequence[str] | None = None) -> None:
        if not format.has_graphs:
            raise StoreError(f"export writes named graphs, so it needs N-Quads or TriG, not {format.name}")
        if graphs is None:
            self._store.dump(out, format=_FORMATS[format])
            return
        quads = (quad for graph in graphs
                 for quad in self._store.quads_for_pattern(None, None, None, _iri(graph)))
        ox.serialize(quads, out, format=_FORMATS[format])

    # -- writing ---------------------------------------------------------------------------

    def load(self, data: RdfInput, format: RdfFormat, *, graph: str | None = None,
             base_iri: str | None = None) -> None:
        if format.has_graphs:
            # Quad formats name their own graphs; a transactional load keeps it atomic.
            self._visible = None
            try:
                with _parse_errors(graph or "dataset"):
                    self._store.load(**_reader_arguments(data), format=_FORMATS[format], base_iri=base_iri)
            finally:
                self._version = next(self._versions)  # atomic: the counter's next() holds the GIL
            return
        staging = self._bulk_load_to_staging(data, format, base_iri)
        try:
            self._update(f"ADD SILENT {staging} TO {_iri(graph) if graph else 'DEFAULT'}")
        finally:
            self._remove_staging(staging)

    def commit(self, writes: GraphWrites, format: RdfFormat = RdfFormat.N_TRIPLES, *,
               base_iri: str | None = None) -> None:
        self.check_commit_format(writes, format)
        staged: list[ox.NamedNode] = []
        try:
            # Only the one update below, a single transaction, makes anything visible. N-Triples
            # up to INLINE_LIMIT go into it as INSERT DATA; larger payloads are bulk-loaded
            # (streamed) into a private staging graph first and copied in by it, which costs a
            # copy per statement (several times slower) but keeps memory bounded.
            steps = [f"DELETE WHERE {{ GRAPH {_iri(graph)} {{ {_term_or_any(subject, '?s')} "
                     f"{_term_or_any(predicate, '?p')} {_term_or_any(obj, '?o')} }} }}"
                     for graph, subject, predicate, obj in writes.retract]
            inlined = False
            for replaced, payloads in ((True, writes.replace), (False, writes.add)):
                for graph, data in payloads.items():
                    drop = f"DROP SILENT GRAPH {_iri(graph)} ; " if replaced else ""
                    text = _inline_text(data) if format is RdfFormat.N_TRIPLES else data
                    if isinstance(text, str):
                        inlined = True
                        steps.append(f"{drop}INSERT DATA {{ GRAPH {_iri(graph)} {{\n{text}\n}} }}")
                    else:
                        staged.append(self._bulk_load_to_staging(text, format, base_iri))
                        steps.append(f"{drop}ADD SILENT {staged[-1]} TO {_iri(graph)}")
            if steps:
                with _parse_errors("commit") if inlined else nullcontext():
                    self._update(" ;\n".join(steps))
        finally:
            # Outside the transaction, which then holds only the new graphs; invisible meanwhile.
            for staging in staged:
                self._remove_staging(staging)

    def delete_graph(self, graph: str) -> None:
        self._update(f"DROP SILENT GRAPH {_iri(graph)}")

    def close(self) -> None:
        if hasattr(self, "_store"):
            self._store.flush()
            del self._store


    # -- internals -------------------------------------------------------------------------

    def _bulk_load_to_staging(self, data: RdfInput, format: RdfFormat, base_iri: str | None) -> ox.NamedNode:
        staging = ox.NamedNode(f"{self._staging_prefix}{uuid.uuid4().hex}")
        with self._staging_lock:
            self._staging_loads += 1
        try:
            with _parse_errors("staging graph"):
                self._store.bulk_load(**_reader_arguments(data), format=_FORMATS[format], to_graph=staging,
                                      base_iri=base_iri)
        except BaseException:
            self._remove_staging(staging)
            raise
        return staging

    def _remove_staging(self, staging: ox.NamedNode) -> None:
        self._store.remove_graph(staging)
        with self._staging_lock:
            self._staging_loads -= 1
            self._visible = None

    def _update(self, update: str) -> None:
        self._visible = None
        try:
            self._store.update(update)
        except OSError as error:
            raise StoreError(f"the store refused the write: {error}", where=self.location) from error
        finally:
            self._version = next(self._versions)

    def _drop_abandoned_staging_graphs(self) -> None:
        for graph in self._all_graphs():
            if graph.startswith(self._staging_prefix):
                self._store.remove_graph(ox.NamedNode(graph))


INLINE_LIMIT = 256 * 1024 * 1024  # bytes of N-Triples a commit carries in its update


def _inline_text(data: RdfInput) -> str | RdfInput:
    """``data`` as text when it is at most INLINE_LIMIT bytes; otherwise ``data`` again (what was
    read of a stream put back in front of the rest)."""
    if isinstance(data, Path):
        return data.read_text(encoding="utf-8") if data.stat().st_size <= INLINE_LIMIT else data
    if isinstance(data, bytes | bytearray):
        return data.decode("utf-8") if len(data) <= INLINE_LIMIT else data
    chunks: Iterator[bytes] = (iter(lambda: data.read(1 << 20), b"") if hasattr(data, "read")
                               else iter(data))
    read: list[bytes] = []
    size = 0
    for chunk in chunks:
        read.append(chunk)
        size += len(chunk)
        if size > INLINE_LIMIT:
            return itertools.chain(read, chunks)
    return b"".join(read).decode("utf-8")


def _reader_arguments(data: RdfInput) -> dict[str, Any]:
    source = as_binary_file(data)
    return {"path": str(source)} if isinstance(source, Path) else {"input": source}


@contextmanager
def _parse_errors(where: str) -> Iterator[None]:
    try:
        yield
    except SyntaxError as error:
        raise StoreError(f"cannot parse the RDF: {error}", where=where,
                         hint="nothing was written; fix the input and retry") from error


def _term_or_any(value: str | None, variable: str) -> str:
    return variable if value is None else str(_iri(value))


def _iri(value: str) -> ox.NamedNode:
    try:
        return ox.NamedNode(value)
    except ValueError as error:
        raise StoreError(f"not a valid graph IRI: {error}", where=value) from error


def _to_rdflib(term: object) -> Node | None:
    if term is None:
        return None
    if isinstance(term, ox.NamedNode):
        return URIRef(term.value)
    if isinstance(term, ox.Literal):
        if term.language:
            return Literal(term.value, lang=term.language)
        datatype = term.datatype.value
        return Literal(term.value) if datatype == _XSD_STRING else Literal(term.value, datatype=URIRef(datatype))
    if isinstance(term, ox.BlankNode):
        return BNode(term.value)
    raise StoreError(f"unsupported RDF term in a result: {term!r}")


_new_term = tuple.__new__


def _to_term(term: object) -> Term | None:
    if term is None:
        return None
    # tuple.__new__ skips the named tuple's argument handling: this runs for every value of a result
    if type(term) is ox.NamedNode:
        return _new_term(Term, (term.value, None, None))
    if type(term) is ox.Literal:
        return _new_term(Term, (term.value, term.datatype.value, term.language))
    if isinstance(term, ox.BlankNode):
        return Term(f"_:{term.value}")
    raise StoreError(f"unsupported RDF term in a result: {term!r}")


def _to_oxigraph(term: Identifier) -> ox.NamedNode | ox.BlankNode | ox.Literal:
    if isinstance(term, URIRef):
        return ox.NamedNode(str(term))
    if isinstance(term, BNode):
        return ox.BlankNode(str(term))
    if isinstance(term, Literal):
        if term.language:
            return ox.Literal(str(term), language=term.language)
        if term.datatype:
            return ox.Literal(str(term), datatype=ox.NamedNode(str(term.datatype)))
        return ox.Literal(str(term))
    raise StoreError(f"cannot bind a value of type {type(term).__name__} in a query")
