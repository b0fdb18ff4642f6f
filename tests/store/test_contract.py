"""The GraphStore contract, run against every registered backend.

Each backend must pass every test here unchanged; a backend that cannot run in memory gets a
throwaway instance from ``open_backend``.
"""

from __future__ import annotations

import gc
import io
import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from rdflib import RDF, Dataset, Graph, Literal, URIRef
from rdflib.compare import isomorphic

from kg_service.config import Settings, load_settings
from kg_service.errors import QuerySyntaxError, StoreError
from kg_service.store import (
    GraphStore,
    GraphWrites,
    RdfFormat,
    SelectResult,
    Term,
    backend_names,
    open_store,
    select,
)

EX = "http://example.org/"
XSD = "http://www.w3.org/2001/XMLSchema#"
G1, G2 = f"{EX}graph/one", f"{EX}graph/two"


def _triples(count: int, version: str) -> bytes:
    integer = "http://www.w3.org/2001/XMLSchema#integer"
    lines = [f'<{EX}s{i}> <{EX}version> "{version}" .\n<{EX}s{i}> <{EX}n> "{i}"^^<{integer}> .'
             for i in range(count)]
    return ("\n".join(lines) + "\n").encode()


@pytest.fixture(params=backend_names())
def backend(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> str:
    """A backend's name, with the settings that reach a fresh, empty instance of it in the environment
    (so a subprocess finds it too): a server-backed one gets the run's test server, emptied."""
    if request.param == "neo4j":
        server = request.getfixturevalue("neo4j_test_server")
        server.empty()
        for name, value in server.environment().items():
            monkeypatch.setenv(name, value)
    return str(request.param)


@pytest.fixture
def store(backend: str, tmp_path: Path) -> Iterator[GraphStore]:
    settings = load_settings(store=backend, data_dir=tmp_path / "data", in_memory=True)
    with open_store(settings) as opened:
        yield opened


def test_a_new_store_is_empty(store: GraphStore) -> None:
    assert store.named_graphs() == []
    assert store.count() == 0


def test_the_data_version_changes_with_every_write_and_store(store: GraphStore, backend: str, tmp_path: Path) -> None:
    """What lets the API keep a class's members until a write; a server others write to cannot tell."""
    if backend == "neo4j":
        assert store.data_version is None
        return
    seen = [store.data_version]
    quads = f'<{EX}a> <{EX}p> "1" <{G2}> .\n'.encode()
    for write in (lambda: store.load(_triples(2, "a"), RdfFormat.N_TRIPLES, graph=G1),
                  lambda: store.load(quads, RdfFormat.N_QUADS),
                  lambda: store.replace_graph(G1, _triples(1, "b"), RdfFormat.N_TRIPLES),
                  lambda: store.commit(GraphWrites(add={G2: _triples(1, "c")})),
                  lambda: store.delete_graph(G2)):
        write()
        assert store.data_version not in seen
        seen.append(store.data_version)
    with pytest.raises(StoreError):  # a refused write may have changed nothing, but says so anyway
        store.commit(GraphWrites(add={G1: b"<not a triple"}))
    assert store.data_version not in seen
    later = []
    for index in range(3):  # stores opened later, each after the one before was closed, are other stores
        with open_store(load_settings(store=backend, data_dir=tmp_path / f"later{index}", in_memory=True)) as other:
            later.append(other.data_version)
        del other
        gc.collect()
    assert len(set(later)) == 3 and not set(later) & {*seen, store.data_version}


def test_load_triples_into_a_named_graph(store: GraphStore) -> None:
    store.load(_triples(5, "a"), RdfFormat.N_TRIPLES, graph=G1)
    assert store.named_graphs() == [G1]
    assert store.count(G1) == 10
    assert store.count(G2) == 0


def test_load_quads_keeps_their_graphs(store: GraphStore) -> None:
    data = f'<{EX}a> <{EX}p> "1" <{G1}> .\n<{EX}b> <{EX}p> "2" <{G2}> .\n'.encode()
    store.load(data, RdfFormat.N_QUADS)
    assert store.named_graphs() == [G1, G2]
    assert store.count() == 2


def test_load_streams_chunks_split_anywhere(store: GraphStore) -> None:
    data = _triples(200, "a")
    chunks = (data[i:i + 7] for i in range(0, len(data), 7))  # splits inside terms and lines
    store.load(chunks, RdfFormat.N_TRIPLES, graph=G1)
    assert store.count(G1) == 400


def test_load_turtle_resolves_relative_iris_against_the_base(store: GraphStore) -> None:
    store.load(b'<thing/1> <p> "x" .', RdfFormat.TURTLE, graph=G1, base_iri="https://city.example/id/")
    rows = select(store, f"SELECT ?s WHERE {{ GRAPH <{G1}> {{ ?s ?p ?o }} }}")
    assert rows.rows == [(URIRef("https://city.example/id/thing/1"),)]


def test_replace_graph_swaps_content_and_leaves_other_graphs(store: GraphStore) -> None:
    store.load(_triples(5, "a"), RdfFormat.N_TRIPLES, graph=G1)
    store.load(_triples(3, "keep"), RdfFormat.N_TRIPLES, graph=G2)
    store.replace_graph(G1, _triples(2, "b"), RdfFormat.N_TRIPLES)
    versions = select(store, f"SELECT DISTINCT ?v WHERE {{ GRAPH <{G1}> {{ ?s <{EX}version> ?v }} }}")
    assert versions.rows == [(Literal("b"),)]
    assert store.count(G1) == 4
    assert store.count(G2) == 6
    assert store.named_graphs() == [G1, G2]  # no staging graph is left behind


def test_replace_graph_with_nothing_empties_it(store: GraphStore) -> None:
    store.load(_triples(5, "a"), RdfFormat.N_TRIPLES, graph=G1)
    store.replace_graph(G1, b"", RdfFormat.N_TRIPLES)
    assert store.count(G1) == 0
    assert G1 not in store.named_graphs()


def test_a_failed_replace_leaves_the_old_graph_whole(store: GraphStore) -> None:
    store.load(_triples(5, "a"), RdfFormat.N_TRIPLES, graph=G1)
    broken = _triples(50, "b") + b"<not a valid line\n"
    with pytest.raises(StoreError, match="cannot parse"):
        store.replace_graph(G1, broken, RdfFormat.N_TRIPLES)
    assert store.count(G1) == 10
    assert store.named_graphs() == [G1]


def test_delete_graph(store: GraphStore) -> None:
    store.load(_triples(5, "a"), RdfFormat.N_TRIPLES, graph=G1)
    store.load(_triples(1, "a"), RdfFormat.N_TRIPLES, graph=G2)
    store.delete_graph(G1)
    store.delete_graph(f"{EX}graph/never-existed")
    assert store.named_graphs() == [G2]
    assert store.count() == 2


def test_literals_keep_language_datatype_and_script(store: GraphStore) -> None:
    data = (f'<{EX}h> <{EX}label> "第一人民医院"@zh .\n'
            f'<{EX}h> <{EX}label> "First People\'s Hospital"@en .\n'
            f'<{EX}h> <{EX}beds> "1200"^^<http://www.w3.org/2001/XMLSchema#integer> .\n'
            f'<{EX}h> <{EX}code> "H-01" .\n').encode()
    store.load(data, RdfFormat.N_TRIPLES, graph=G1)
    result = select(store, f"SELECT ?o WHERE {{ <{EX}h> ?p ?o }}")
    assert set(row[0] for row in result.rows) == {
        Literal("第一人民医院", lang="zh"), Literal("First People's Hospital", lang="en"),
        Literal(1200), Literal("H-01"),
    }


def test_query_forms(store: GraphStore) -> None:
    store.load(_triples(3, "a"), RdfFormat.N_TRIPLES, graph=G1)
    assert store.query(f"ASK {{ <{EX}s1> <{EX}version> 'a' }}") is True
    assert store.query(f"ASK {{ <{EX}s9> ?p ?o }}") is False
    constructed = store.query(f"CONSTRUCT {{ ?s <{EX}tag> ?v }} WHERE {{ ?s <{EX}version> ?v }}")
    assert isinstance(constructed, Graph) and len(constructed) == 3
    unbound = select(store, "SELECT ?s ?missing WHERE { ?s ?p 'a' } ORDER BY ?s")
    assert unbound.variables == ["s", "missing"]
    assert [row[1] for row in unbound.rows] == [None, None, None]


def test_select_text_gives_the_terms_in_n_triples_form(store: GraphStore) -> None:
    store.load(f'<{EX}s> <{EX}name> "say \\"hi\\""@en .\n<{EX}s> <{EX}size> "3"^^<{XSD}integer> .\n'.encode(),
               RdfFormat.N_TRIPLES, graph=G1)
    rows = store.select_text("SELECT ?s ?o ?missing WHERE { ?s ?p ?o } ORDER BY ?o")
    assert rows == [(f"<{EX}s>", '"3"^^<http://www.w3.org/2001/XMLSchema#integer>', None),
                    (f"<{EX}s>", '"say \\"hi\\""@en', None)]
    with pytest.raises(QuerySyntaxError):
        store.select_text(f"ASK {{ <{EX}s> ?p ?o }}")


def test_select_terms_gives_plain_terms_with_bindings(store: GraphStore) -> None:
    store.load(f'<{EX}s> <{EX}name> "say \\"hi\\""@en .\n<{EX}s> <{EX}size> "3"^^<{XSD}integer> .\n'
               f'<{EX}s> <{EX}link> <{EX}t> .\n<{EX}s> <{EX}note> "plain" .\n'.encode(), RdfFormat.N_TRIPLES, graph=G1)
    result = store.select_terms("SELECT ?s ?p ?o ?missing WHERE { ?s ?p ?o } ORDER BY ?p",
                                bindings={"s": URIRef(f"{EX}s")})
    assert result.variables == ["s", "p", "o", "missing"]
    by_predicate = {row[1].value: row[2] for row in result.rows if row[1] is not None}
    assert by_predicate[f"{EX}link"] == Term(f"{EX}t") and by_predicate[f"{EX}link"].is_iri
    assert by_predicate[f"{EX}name"] == Term('say "hi"', str(RDF.langString), "en")
    assert by_predicate[f"{EX}size"] == Term("3", f"{XSD}integer")
    assert by_predicate[f"{EX}note"] == Term("plain", f"{XSD}string") and not by_predicate[f"{EX}note"].is_iri
    assert all(row[3] is None for row in result.rows) and len(result.rows) == 4
    assert store.select_terms("SELECT ?s ?o WHERE { ?s ?p ?o }", bindings={"s": URIRef(f"{EX}nobody")}).rows == []
    with pytest.raises(QuerySyntaxError):
        store.select_terms(f"ASK {{ <{EX}s> ?p ?o }}")


def test_union_default_graph_can_be_turned_off(store: GraphStore) -> None:
    store.load(_triples(3, "a"), RdfFormat.N_TRIPLES, graph=G1)
    assert store.query("ASK { ?s ?p ?o }") is True
    assert store.query("ASK { ?s ?p ?o }", union_default_graph=False) is False


def test_bindings_are_values_not_query_text(store: GraphStore) -> None:
    store.load(_triples(3, "a"), RdfFormat.N_TRIPLES, graph=G1)
    query = f"SELECT ?s ?v WHERE {{ ?s <{EX}version> ?v }}"
    assert len(select(store, query, v=Literal("a"))) == 3
    injection = Literal('a" } UNION { ?s ?p ?o } #')
    assert len(select(store, query, v=injection)) == 0


@pytest.mark.parametrize("bad", ["SELEC ?s WHERE {}", f"INSERT DATA {{ <{EX}a> <{EX}b> <{EX}c> }}",
                                 f"DROP GRAPH <{G1}>"])
def test_invalid_queries_and_updates_are_refused(store: GraphStore, bad: str) -> None:
    store.load(_triples(1, "a"), RdfFormat.N_TRIPLES, graph=G1)
    with pytest.raises(QuerySyntaxError):
        store.query(bad)
    assert store.count(G1) == 2


@pytest.mark.parametrize("format", [RdfFormat.N_QUADS, RdfFormat.TRIG])
def test_export_round_trips_every_graph(store: GraphStore, backend: str, tmp_path: Path,
                                        format: RdfFormat) -> None:
    store.load(_triples(4, "a"), RdfFormat.N_TRIPLES, graph=G1)
    store.load('<http://example.org/h> <http://example.org/label> "医院"@zh .'.encode(),
               RdfFormat.N_TRIPLES, graph=G2)
    out = io.BytesIO()
    store.export(out, format)
    exported = Dataset()
    exported.parse(data=out.getvalue(), format="nquads" if format is RdfFormat.N_QUADS else "trig")
    for graph in (G1, G2):
        expected = Graph()
        for row in select(store, f"SELECT ?s ?p ?o WHERE {{ GRAPH <{graph}> {{ ?s ?p ?o }} }}").rows:
            expected.add(row)  # type: ignore[arg-type]
        assert isomorphic(exported.graph(URIRef(graph)), expected), graph

    settings = load_settings(store=backend, data_dir=tmp_path / "copy", in_memory=True)
    with open_store(settings) as copy:
        copy.load(out.getvalue(), format)
        assert copy.named_graphs() == [G1, G2]
        assert copy.count() == store.count()


def test_export_only_the_chosen_graphs(store: GraphStore) -> None:
    store.load(_triples(4, "a"), RdfFormat.N_TRIPLES, graph=G1)
    store.load(_triples(1, "b"), RdfFormat.N_TRIPLES, graph=G2)
    out = io.BytesIO()
    store.export(out, RdfFormat.N_QUADS, graphs=[G2])
    lines = out.getvalue().decode().strip().splitlines()
    assert len(lines) == 2 and all(line.endswith(f"<{G2}> .") for line in lines)


def test_replacing_a_graph_is_atomic_for_concurrent_readers(store: GraphStore) -> None:
    """Readers count the graph by version while a writer swaps it: one version, full size, always."""
    sizes = {"a": 400, "b": 150}
    payloads = {version: _triples(size, version) for version, size in sizes.items()}
    store.replace_graph(G1, payloads["a"], RdfFormat.N_TRIPLES)
    query = f"SELECT ?v (COUNT(*) AS ?n) WHERE {{ GRAPH <{G1}> {{ ?s <{EX}version> ?v }} }} GROUP BY ?v"
    seen: list[list[tuple[str, int]]] = []
    done = threading.Event()

    def read() -> None:
        while not done.is_set():
            result = store.query(query)
            assert isinstance(result, SelectResult)
            seen.append([(str(v), int(n)) for v, n in result.rows])  # type: ignore[arg-type]

    readers = [threading.Thread(target=read) for _ in range(2)]
    for reader in readers:
        reader.start()
    try:
        for turn in range(40):
            version = "b" if turn % 2 == 0 else "a"
            store.replace_graph(G1, payloads[version], RdfFormat.N_TRIPLES)
    finally:
        done.set()
        for reader in readers:
            reader.join()
    assert len(seen) > 0
    torn = [groups for groups in seen if len(groups) != 1 or groups[0][1] != sizes[groups[0][0]]]
    assert torn == [], f"{len(torn)} of {len(seen)} reads saw a mix, first: {torn[:1]}"


def _backend_environment(settings: Settings) -> dict[str, str]:
    """What a subprocess needs to open the same store: the data folder, the backend and its settings."""
    reach = {name: value for name, value in os.environ.items() if name.startswith("CITYKG_NEO4J_")}
    return {"CITYKG_DATA_DIR": str(settings.data_dir), "CITYKG_STORE": settings.store, "PATH": "/usr/bin:/bin",
            **reach}


def _run_python(code: str, settings: Settings) -> str:
    env = _backend_environment(settings)
    done = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    return done.stdout


def test_data_survives_a_process_restart(backend: str, tmp_path: Path) -> None:
    settings = load_settings(store=backend, data_dir=tmp_path / "data")
    write = f"""
from kg_service.config import load_settings
from kg_service.store import RdfFormat, open_store
with open_store(load_settings()) as store:
    store.replace_graph({G1!r}, {_triples(25, "kept")!r}, RdfFormat.N_TRIPLES)
"""
    read = f"""
from kg_service.config import load_settings
from kg_service.store import open_store
with open_store(load_settings()) as store:
    print(store.count({G1!r}), store.named_graphs())
"""
    _run_python(write, settings)
    assert _run_python(read, settings).strip() == f"50 ['{G1}']"


def test_a_staging_graph_left_by_a_killed_job_is_dropped_on_open(backend: str, tmp_path: Path) -> None:
    settings = load_settings(store=backend, data_dir=tmp_path / "data")
    abandoned = settings.graphs.staging_prefix + "killed-job"
    with open_store(settings) as store:
        store.load(_triples(3, "half"), RdfFormat.N_TRIPLES, graph=abandoned)
        store.load(_triples(1, "kept"), RdfFormat.N_TRIPLES, graph=G1)
    with open_store(settings) as store:
        assert store.named_graphs() == [G1]
        assert store.count() == 2  # the abandoned graph's quads are gone, not just hidden


def test_a_graph_being_staged_is_invisible_to_queries(store: GraphStore, backend: str, tmp_path: Path) -> None:
    staging = load_settings(store=backend, data_dir=tmp_path).graphs.staging_prefix + "in-progress"
    store.load(_triples(1, "kept"), RdfFormat.N_TRIPLES, graph=G1)
    store.load(_triples(5, "half-loaded"), RdfFormat.N_TRIPLES, graph=staging)
    assert store.named_graphs() == [G1]
    assert store.query("ASK { ?s ?p 'half-loaded' }") is False
    assert store.query("ASK { GRAPH ?g { ?s ?p 'half-loaded' } }") is False
    assert store.query("ASK { ?s ?p 'kept' }") is True
    assert store.query("ASK { GRAPH ?g { ?s ?p 'kept' } }") is True


def test_graph_patterns_with_a_variable_read_every_graph(store: GraphStore) -> None:
    store.load(_triples(2, "a"), RdfFormat.N_TRIPLES, graph=G1)
    store.load(_triples(3, "b"), RdfFormat.N_TRIPLES, graph=G2)
    rows = select(store, "SELECT ?g (COUNT(*) AS ?n) WHERE { GRAPH ?g { ?s ?p ?o } } GROUP BY ?g ORDER BY ?g").rows
    assert [(str(g), int(n)) for g, n in rows] == [(G1, 4), (G2, 6)]  # type: ignore[call-overload]
    values = select(store, f"SELECT ?v WHERE {{ GRAPH <{G2}> {{ ?s <{EX}version> ?v }} }}").rows
    assert {str(v) for (v,) in values} == {"b"}


def test_commit_replaces_adds_and_retracts_together(store: GraphStore) -> None:
    store.replace_graph(G1, _triples(3, "old"), RdfFormat.N_TRIPLES)
    store.load(f"<{EX}a> <{EX}from> <{EX}one> .\n<{EX}b> <{EX}from> <{EX}two> .\n".encode(), RdfFormat.N_TRIPLES,
               graph=G2)
    store.commit(GraphWrites(replace={G1: _triples(2, "new")},
                             add={G2: f"<{EX}c> <{EX}from> <{EX}one> .\n".encode()},
                             retract=[(G2, None, f"{EX}from", f"{EX}one")]))
    assert store.count(G1) == 4
    assert store.query(f'ASK {{ GRAPH <{G1}> {{ ?s <{EX}version> "old" }} }}') is False
    rows = select(store, f"SELECT ?s WHERE {{ GRAPH <{G2}> {{ ?s <{EX}from> ?o }} }} ORDER BY ?s").rows
    assert [str(s) for (s,) in rows] == [f"{EX}b", f"{EX}c"]  # retracted first, then added


def test_a_commit_with_one_bad_payload_changes_nothing(store: GraphStore) -> None:
    store.replace_graph(G1, _triples(3, "old"), RdfFormat.N_TRIPLES)
    with pytest.raises(StoreError):
        store.commit(GraphWrites(replace={G1: _triples(2, "new"), G2: b"<not a triple"},
                                 retract=[(G1, None, f"{EX}version", None)]))
    assert store.count(G1) == 6 and G2 not in store.named_graphs()
    assert store.query(f'ASK {{ GRAPH <{G1}> {{ ?s <{EX}version> "new" }} }}') is False


def test_a_process_killed_mid_commit_leaves_every_graph_before_or_after(backend: str, tmp_path: Path) -> None:
    """A writer commits two graphs together, version after version, and is killed with SIGKILL at
    moments spread over its work; after each kill both graphs hold one and the same version, whole."""
    settings = load_settings(store=backend, data_dir=tmp_path / "data")
    writer = f"""
import sys
from kg_service.config import load_settings
from kg_service.store import GraphWrites, RdfFormat, open_store
from tests.store.test_contract import _triples
with open_store(load_settings()) as store:
    for version in range(1000):
        store.commit(GraphWrites(replace={{{G1!r}: _triples(20000, str(version)),
                                           {G2!r}: _triples(500, str(version))}}))
        print(version, flush=True)
"""
    env = {**_backend_environment(settings), "PYTHONPATH": str(Path(__file__).resolve().parents[2])}
    seen: list[str] = []
    for attempt in range(6):
        process = subprocess.Popen([sys.executable, "-c", writer], env=env, stdout=subprocess.PIPE, text=True)
        assert process.stdout is not None
        for _ in range(1 + attempt % 3):  # wait for some commits, then kill at a moment inside the next
            if not process.stdout.readline():
                break
        time.sleep(0.05 * attempt)
        process.send_signal(signal.SIGKILL)
        process.wait()
        with open_store(settings) as store:
            versions = {str(v) for g in (G1, G2) for (v,) in select(
                store, f"SELECT DISTINCT ?v WHERE {{ GRAPH <{g}> {{ ?s <{EX}version> ?v }} }}").rows}
            assert len(versions) == 1, versions
            assert (store.count(G1), store.count(G2)) == (40000, 1000)
            assert store.named_graphs() == [G1, G2]  # no staging graph left visible
            seen.extend(versions)
    assert len(set(seen)) > 1  # the kills fell at different points of the writer's work
