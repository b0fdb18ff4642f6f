"""The GraphStore protocol every backend implements, and the types it speaks.

Bulk data crosses the protocol as serialized RDF (N-Triples, N-Quads, Turtle, TriG), streamed as
chunks of bytes, so a backend parses it natively and nothing holds a whole dataset in Python
objects. Query results come back as rdflib terms, the project's RDF toolkit, or, for readers of
many rows (the API), as plain ``Term`` tuples that cost a fraction of an rdflib term to make.
"""

from __future__ import annotations

import io
import tempfile
from collections.abc import Hashable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from enum import Enum
from pathlib import Path
from types import TracebackType
from typing import BinaryIO, Generic, NamedTuple, Protocol, Self, TypeVar, runtime_checkable

import pyoxigraph as ox
from rdflib import Graph
from rdflib.term import Identifier, Node

from kg_service.errors import QuerySyntaxError, StoreError


class RdfFormat(Enum):
    """Serializations the store accepts and writes; the value is the usual file extension."""

    N_TRIPLES = "nt"
    N_QUADS = "nq"
    TURTLE = "ttl"
    TRIG = "trig"

    @property
    def has_graphs(self) -> bool:
        return self in (RdfFormat.N_QUADS, RdfFormat.TRIG)

    @classmethod
    def from_name(cls, name: str) -> RdfFormat:
        aliases = {"ntriples": "nt", "n-triples": "nt", "nquads": "nq", "n-quads": "nq", "turtle": "ttl"}
        value = aliases.get(name.lower(), name.lower())
        for member in cls:
            if member.value == value:
                return member
        known = ", ".join(sorted({*aliases, *(m.value for m in cls)}))
        raise ValueError(f"unknown RDF format '{name}'; known: {known}")


# Serialized RDF: all at once, a readable binary file, a path, or a stream of chunks.
RdfInput = bytes | BinaryIO | Path | Iterable[bytes]


@dataclass(frozen=True)
class GraphWrites:
    """Writes to several named graphs that take effect together, in one transaction: a job's data,
    its quarantine and its provenance are all there after a commit, or none of them."""

    replace: Mapping[str, RdfInput] = field(default_factory=dict)  # graph -> its whole new content
    add: Mapping[str, RdfInput] = field(default_factory=dict)  # graph -> triples added to it
    # (graph, subject, predicate, object), IRIs or None for any: every matching statement leaves the graph
    retract: Sequence[tuple[str, str | None, str | None, str | None]] = ()


Cell = TypeVar("Cell")


@dataclass(frozen=True)
class Rows(Generic[Cell]):
    """Rows of a SPARQL SELECT, by variable; unbound values are ``None``."""

    variables: list[str]
    rows: list[tuple[Cell | None, ...]]

    def dicts(self) -> list[dict[str, Cell | None]]:
        return [dict(zip(self.variables, row, strict=True)) for row in self.rows]

    def __len__(self) -> int:
        return len(self.rows)


class SelectResult(Rows[Node]):
    """A SELECT's rows as rdflib terms."""


QueryResult = SelectResult | bool | Graph


class Term(NamedTuple):
    """A query result's value as plain text: an IRI (no ``datatype``), a blank node (``value``
    ``_:label``) or a literal (its lexical form, datatype IRI and language tag, if any)."""

    value: str
    datatype: str | None = None
    language: str | None = None

    @property
    def is_iri(self) -> bool:
        return self.datatype is None and not self.value.startswith("_:")


class TermRows(Rows[Term]):
    """A SELECT's rows as ``Term`` values."""


@runtime_checkable
class GraphStore(Protocol):
    """A quad store with named graphs: the one interface the rest of CityKG uses.

    Graph names are absolute IRIs given as strings. Every write is atomic: readers see the state
    before it or after it, never a mix.
    """

    backend_name: str

    @property
    def data_version(self) -> Hashable | None:
        """A value that changes whenever the store's data may have: what lets a reader keep
        something it derived (the API's class members) until a write. None when the store cannot
        tell (a server other processes write to)."""
        ...

    def named_graphs(self) -> list[str]:
        """The IRIs of all non-empty named graphs, sorted."""
        ...

    def count(self, graph: str | None = None) -> int:
        """Triples in one named graph, or quads in the whole store when ``graph`` is None."""
        ...

    def load(self, data: RdfInput, format: RdfFormat, *, graph: str | None = None,
             base_iri: str | None = None) -> None:
        """Add serialized RDF; triples go to ``graph`` (required for triple formats)."""
        ...

    def replace_graph(self, graph: str, data: RdfInput, format: RdfFormat, *,
                      base_iri: str | None = None) -> None:
        """Atomically replace the content of one named graph with the given triples."""
        ...

    def commit(self, writes: GraphWrites, format: RdfFormat = RdfFormat.N_TRIPLES) -> None:
        """Apply ``writes`` atomically (retractions first, then replacements and additions); the
        data are triples in ``format``. A reader, or a process killed meanwhile, sees all or none."""
        ...

    def delete_graph(self, graph: str) -> None:
        """Remove a named graph and all its triples; deleting a missing graph is not an error."""
        ...

    def query(self, sparql: str, *, bindings: Mapping[str, Identifier] | None = None,
              union_default_graph: bool = True) -> QueryResult:
        """Run a read-only SPARQL query over the committed graphs (a graph still being loaded is
        invisible). With ``union_default_graph`` the default graph is the union of the named graphs.

        ``bindings`` substitute values for variables, so values never enter the query text; as in
        SPARQL 1.2 SEP-0007 a bound variable of a SELECT must appear in its projection."""
        ...

    def select_terms(self, sparql: str, *, bindings: Mapping[str, Identifier] | None = None) -> TermRows:
        """Run a SELECT like ``query`` (same graphs, same bindings), its values as ``Term`` tuples:
        for reading many rows that need no rdflib term."""
        ...

    def select_text(self, sparql: str) -> list[tuple[str | None, ...]]:
        """The rows of a SELECT with each value in N-Triples form (``<iri>``, ``"text"^^<type>``,
        ``_:label``): for reading many rows without building a term object for every value."""
        ...

    def export(self, out: BinaryIO, format: RdfFormat, *, graphs: Sequence[str] | None = None) -> None:
        """Write the store, or only the given named graphs, as N-Quads or TriG."""
        ...

    def close(self) -> None:
        """Release files and connections; the store is unusable afterwards."""
        ...

    def __enter__(self) -> Self:
        ...

    def __exit__(self, kind: type[BaseException] | None, error: BaseException | None,
                 trace: TracebackType | None) -> None:
        ...


class StoreBasics:
    """What every backend does the same way: a replacement is a commit of one graph, a commit takes
    triples, and the store is a context manager that closes itself."""

    def commit(self, writes: GraphWrites, format: RdfFormat = RdfFormat.N_TRIPLES, *,
               base_iri: str | None = None) -> None:
        raise NotImplementedError

    def close(self) -> None:
        raise NotImplementedError

    def replace_graph(self, graph: str, data: RdfInput, format: RdfFormat, *,
                      base_iri: str | None = None) -> None:
        self.commit(GraphWrites(replace={graph: data}), format, base_iri=base_iri)

    @staticmethod
    def check_commit_format(writes: GraphWrites, format: RdfFormat) -> None:
        if format.has_graphs:
            raise StoreError(f"a commit takes triples (N-Triples or Turtle), not {format.name}",
                             where=", ".join([*writes.replace, *writes.add]))

    def __enter__(self) -> Self:
        return self

    def __exit__(self, kind: type[BaseException] | None, error: BaseException | None,
                 trace: TracebackType | None) -> None:
        self.close()


def select(store: GraphStore, sparql: str, **bindings: Identifier) -> SelectResult:
    """Run a SELECT query; fails clearly if ``sparql`` is another query form."""
    result = store.query(sparql, bindings=bindings or None)
    if not isinstance(result, SelectResult):
        raise QuerySyntaxError("expected a SELECT query", where=sparql.strip().splitlines()[0][:80])
    return result


def statements(store: GraphStore, graphs: Sequence[str]) -> Iterator[tuple[str, str, str]]:
    """The triples of ``graphs`` (a triple in two graphs twice), terms in N-Triples form, streamed
    through an N-Quads export to a temporary file: no graph is held in Python objects."""
    with tempfile.TemporaryFile() as buffer:
        store.export(buffer, RdfFormat.N_QUADS, graphs=graphs)
        buffer.seek(0)
        for quad in ox.parse(buffer, format=ox.RdfFormat.N_QUADS):
            yield str(quad.subject), str(quad.predicate), str(quad.object)


class ChunkReader(io.RawIOBase):
    """A readable binary file over an iterator of byte chunks, so streams load without buffering."""

    def __init__(self, chunks: Iterable[bytes]) -> None:
        self._chunks: Iterator[bytes] = iter(chunks)
        self._pending = b""

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: memoryview) -> int:  # type: ignore[override]
        while not self._pending:
            try:
                self._pending = next(self._chunks)
            except StopIteration:
                return 0
        size = min(len(buffer), len(self._pending))
        buffer[:size] = self._pending[:size]
        self._pending = self._pending[size:]
        return size


def as_binary_file(data: RdfInput) -> BinaryIO | Path:
    """Normalise an ``RdfInput`` to something a parser reads: a path or a binary file."""
    if isinstance(data, Path):
        return data
    if isinstance(data, bytes | bytearray):
        return io.BytesIO(data)
    if hasattr(data, "read"):
        return data  # type: ignore[return-value]
    return io.BufferedReader(ChunkReader(data))
