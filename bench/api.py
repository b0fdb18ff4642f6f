"""Serving GraphQL on generated cities: CityKG's compiled API against a naive one-resolver-per-field
schema over the same store, side by side in the same run.

For each size (a city of about N entities: distinct subjects of the datasets' graphs) the script
generates a city (``kg_service.generate.generate_city``, at the scale that gives about N entities),
ingests it into a store on disk in a process of its own (``kg_service.pipeline.ingest``: lift, gate,
commit, reasoning), then, in this process, serves five representative GraphQL documents through

- CityKG's API in process (``kg_service.api.schema_for`` + ``context_for``, ``execute_sync``): each
  request compiled into a page query, a count query and one values query per level of nesting, and
  answered straight from what they read (``kg_service.api.direct``), as ``citykg serve`` does (the
  process also moves its start-up objects out of the garbage collector's reach, as the server does);
- the naive schema of ``bench/naive_api.py`` over the same store: one SPARQL query per scalar field of
  each entity, one per object field of each parent.

Before timing, each document runs once through both (its time is printed as the "first request":
nothing is read and kept yet, such as a class's sorted members; it warms both up); the script
checks that neither answer has errors, that the answer is not empty, and that the two are equal once
the order of nested lists is normalised (pages and groups keep their order), and prints a line naming
the query when they differ. Then the two alternate, request by request (which goes first swaps every
round), ``--repeat`` times for the small documents and ``--repeat-large`` times for the 1,000-row
one, or until a document has used ``--budget`` seconds. Per document and implementation it prints
p50, p95 and p99 latency (linear interpolation between the ordered runs: with 10 runs, p99 is about
the slowest), sequential requests per second (runs / total time), the store queries per request
(counted by a wrapper around the store), and the ratio naive / CityKG of the medians; then the
issue's two targets, met or not.

With ``--neo4j`` a third implementation joins them: CityKG's API compiled to Cypher
(``kg_service.api.cypher``) over the city's projection in a Neo4j 5.26 Community server that the
script starts (``neo4j-server/server.sh``) and syncs first; its answers are compared like the naive
one's, and the ratio Neo4j / Oxigraph of the medians is printed.

Ingesting is slow (minutes per 100,000 rows), so ``--data-dir DIR`` keeps each city under
``DIR/entities-<N>/`` (sources, data directory, ``city.json``) and a later run reuses it, ingesting
only when it is not there yet. Without it everything goes to a temporary folder removed at the end.
Run: python bench/api.py [--entities 10000 100000] [--repeat 100] [--repeat-large 10] [--data-dir DIR]
     [--quick] [--neo4j]
"""

from __future__ import annotations

import argparse
import datetime
import json
import os
import platform
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

# bench/ holds neo4j.py, named like the driver: this folder must not shadow the driver's package.
sys.path = [entry for entry in sys.path if Path(entry or ".").resolve() != Path(__file__).resolve().parent]

# A city of scale 100,000 (source rows) holds 104,506 distinct IRI subjects in its datasets' graphs
# after ingest (seed 7, measured 2026-12-02); the script counts each city's own after ingesting it.
ENTITIES_PER_ROW = 1.045
SEED = 7
MINIMUM_CAPITAL = "1000"  # registered capital above 1,000 (10k yuan): most enterprises pass the filter


@dataclass(frozen=True)
class Document:
    key: str
    title: str
    text: str
    large: bool = False


DOCUMENTS = [
    Document("page", "1. a page of 20 schools, two levels of nesting", """{
  schools(first: 20) {
    totalCount
    nodes {
      id name(lang: "zh") capacity
      locatedIn {
        __typename
        ... on Community {
          id name(lang: "zh") population
          partOf { __typename ... on District { id name(lang: "zh") population } }
        }
      }
    }
  }
}"""),
    Document("nested", "2. 1,000 enterprises with their areas and parcels", """{
  enterprises(first: 1000) {
    nodes {
      id name(lang: "zh") creditCode registeredCapital
      locatedIn {
        __typename
        ... on District { id name(lang: "zh") }
        ... on Community { id name(lang: "zh") }
      }
      onParcel { id parcelCode areaKm2 }
    }
  }
}""", large=True),
    Document("filter", "3. enterprises above a registered capital, largest first, 50", """
query($minimum: Decimal!) {
  enterprises(filter: {registeredCapital: {gt: $minimum}},
              orderBy: [{field: REGISTERED_CAPITAL, direction: DESC}], first: 50) {
    totalCount
    nodes { id name(lang: "zh") registeredCapital employees }
  }
}"""),
    Document("aggregate", "4. enterprises per district: count and capital", """{
  enterprisesAggregate(groupBy: DISTRICT) { key label count capital: sum(field: REGISTERED_CAPITAL) }
}"""),
    Document("near", "5. schools within 1,500 m of a point", """
query($longitude: Float!, $latitude: Float!) {
  schools(filter: {near: {longitude: $longitude, latitude: $latitude, meters: 1500}}, first: 100) {
    totalCount
    nodes { id name(lang: "zh") capacity }
  }
}"""),
]
PAGE_TARGET_MS, NESTED_TARGET_RATIO = 50.0, 10.0


# --- the store, counted ----------------------------------------------------------------------------

class CountingStore:
    """The store, with a count of the queries that reach it (the GraphStore protocol by delegation)."""

    def __init__(self, store: Any) -> None:
        self._store = store
        self.queries = 0

    def __getattr__(self, name: str) -> Any:
        return getattr(self._store, name)

    def query(self, sparql: str, **options: Any) -> Any:
        self.queries += 1
        return self._store.query(sparql, **options)

    def select_text(self, sparql: str) -> Any:
        self.queries += 1
        return self._store.select_text(sparql)

    def select_terms(self, sparql: str, **options: Any) -> Any:
        self.queries += 1
        return self._store.select_terms(sparql, **options)

    def count(self, graph: str | None = None) -> int:
        self.queries += 1
        return self._store.count(graph)  # type: ignore[no-any-return]


# --- cities: generated, ingested in a process of their own, reused ----------------------------------

def scale_for(entities: int) -> int:
    """Source rows for a city of about ``entities`` entities (at least the generator's 1,000)."""
    return max(1000, round(entities / ENTITIES_PER_ROW / 100) * 100)


@dataclass
class City:
    entities_asked: int
    folder: Path
    scale: int
    seed: int
    entities: int | None = None
    ingest_seconds: float | None = None
    reused: bool = False

    @property
    def sources(self) -> Path:
        return self.folder / "city"

    @property
    def data(self) -> Path:
        return self.folder / "data"

    @property
    def record(self) -> Path:
        return self.folder / "city.json"


def worker_ingest(data_dir: str, mappings_dir: str) -> None:
    """In its own process (the pipeline's memory is not the measuring process's): ingest everything."""
    from kg_service import pipeline
    from kg_service.config import load_settings
    from kg_service.store import open_store

    settings = load_settings(data_dir=data_dir, mappings_dir=mappings_dir, in_memory=False)
    started = time.perf_counter()
    with open_store(settings) as store:
        report = pipeline.ingest(settings, store)
    print(json.dumps({"seconds": time.perf_counter() - started, "inferred": report.inferred_triples,
                      "committed": sum(d.committed for d in report.datasets)}))


def prepare(city: City) -> None:
    """Generate and ingest the city, unless a finished ingest of the same scale and seed is there."""
    if city.record.exists():
        known = json.loads(city.record.read_text(encoding="utf-8"))
        if (known.get("scale"), known.get("seed")) != (city.scale, city.seed):
            sys.exit(f"{city.record}: a city of scale {known.get('scale')} seed {known.get('seed')}, not "
                     f"{city.scale} / {city.seed}; give another --data-dir or remove {city.folder}")
        if known.get("ingested"):
            city.entities, city.ingest_seconds, city.reused = known.get("entities"), known.get("ingest_seconds"), True
            return
    from kg_service.config import project_path
    from kg_service.generate import generate_city

    for stale in (city.sources, city.data):  # a generation or ingest that did not finish
        shutil.rmtree(stale, ignore_errors=True)
    city.folder.mkdir(parents=True, exist_ok=True)
    generate_city(project_path("mappings"), city.sources, city.scale, city.seed)
    _write_record(city, ingested=False)
    print(f"(ingesting a city of scale {city.scale:,} into {city.data}: minutes per 100,000 rows)", file=sys.stderr)
    log = city.folder / "ingest.log"
    with log.open("w", encoding="utf-8") as errors:
        done = subprocess.run([sys.executable, __file__, "--worker", "ingest", str(city.data), str(city.sources)],
                              stdout=subprocess.PIPE, stderr=errors, text=True)
    if done.returncode != 0:
        tail = log.read_text(encoding="utf-8", errors="replace")[-3000:]
        sys.exit(f"ingesting {city.sources} failed (exit {done.returncode}); end of {log}:\n{tail}")
    city.ingest_seconds = json.loads(done.stdout.strip().splitlines()[-1])["seconds"]
    _write_record(city, ingested=True)


def _write_record(city: City, ingested: bool) -> None:
    city.record.write_text(json.dumps({"scale": city.scale, "seed": city.seed, "entities": city.entities,
                                       "ingest_seconds": city.ingest_seconds, "ingested": ingested}, indent=2),
                           encoding="utf-8")


def count_entities(settings: Any, store: Any) -> int:
    """Distinct IRI subjects of the datasets' graphs: what "a city of N entities" counts."""
    prefix = settings.graphs.source_prefix
    rows = store.select_text(f'SELECT (COUNT(DISTINCT ?s) AS ?n) WHERE {{ GRAPH ?g {{ ?s ?p ?o }} '
                             f'FILTER(isIRI(?s) && STRSTARTS(STR(?g), "{prefix}")) }}')
    return int(rows[0][0].split('"')[1])


def central_school(store: Any) -> tuple[float, float]:
    """The point of the spatial query: the school nearest the middle of all schools' points, so that
    the query finds at least that school at any size."""
    from kg_service.reason.spatial import parse_wkt

    rows = store.select_text("SELECT ?wkt WHERE { ?s a <https://w3id.org/citykg/ontology#School> ; "
                             "<http://www.opengis.net/ont/geosparql#hasGeometry>/"
                             "<http://www.opengis.net/ont/geosparql#asWKT> ?wkt }")
    points = []
    for (wkt,) in rows:
        shape = parse_wkt((wkt or "").split('"')[1])
        points.append((shape.centroid.x, shape.centroid.y))
    if not points:
        sys.exit("the city has no school with a geometry: the spatial query would find nothing")
    middle = (sum(x for x, _ in points) / len(points), sum(y for _, y in points) / len(points))
    return min(points, key=lambda p: (p[0] - middle[0]) ** 2 + (p[1] - middle[1]) ** 2)


# --- measuring ---------------------------------------------------------------------------------------

@dataclass
class Runs:
    seconds: list[float] = field(default_factory=list)
    queries: list[int] = field(default_factory=list)
    first: float = 0.0  # the checking run before the timed ones: nothing read and kept yet

    def percentile(self, q: float) -> float:
        ordered = sorted(self.seconds)
        position = (len(ordered) - 1) * q / 100
        low = int(position)
        high = min(low + 1, len(ordered) - 1)
        return (ordered[low] + (ordered[high] - ordered[low]) * (position - low)) * 1000

    @property
    def per_second(self) -> float:
        return len(self.seconds) / sum(self.seconds) if self.seconds else 0.0

    def queries_text(self) -> str:
        low, high = min(self.queries), max(self.queries)
        return f"{low:,}" if low == high else f"{low:,}-{high:,}"


@dataclass
class Measured:
    document: Document
    citykg: Runs
    naive: Runs
    same: bool
    rows: int  # entities or groups at the answer's top level
    neo4j: Runs | None = None  # CityKG's API compiled to Cypher over the Neo4j projection (--neo4j)

    @property
    def ratio(self) -> float:
        return self.naive.percentile(50) / self.citykg.percentile(50)


Implementation = Callable[[str, Mapping[str, Any]], tuple[Any, float, int]]


class CountingRunner:
    """The Cypher runner, with a count of the queries that reach Neo4j."""

    def __init__(self, runner: Any) -> None:
        self._runner = runner
        self.queries = 0

    def select_terms(self, text: str, **options: Any) -> Any:
        self.queries += 1
        return self._runner.select_terms(text, **options)


def neo4j_implementation(settings: Any, store: Any, server: Any) -> Implementation:
    """CityKG's API over the city's projection in Neo4j (synced here, the sync timed)."""
    from kg_service.api import schema_for
    from kg_service.api.cypher import CypherCompiler, CypherRunner
    from kg_service.api.execution import Executor
    from kg_service.api.schema import Context
    from kg_service.project import sync

    settings = server.settings_for(settings)
    server.empty()
    report = sync(settings, store)
    print(f"(projected into Neo4j: {report.written:,} nodes, {report.relationships:,} relationships in "
          f"{report.seconds:,.1f} s)", file=sys.stderr)
    counting, schema = CountingRunner(CypherRunner.open(settings)), schema_for(settings)

    def run_neo4j(text: str, variables: Mapping[str, Any]) -> tuple[Any, float, int]:
        counting.queries = 0
        started = time.perf_counter()
        context = Context(store=store, settings=settings,
                          executor=Executor(counting, settings, compiler=CypherCompiler()))
        result = schema.execute_sync(text, variable_values=dict(variables), context_value=context)
        return result, time.perf_counter() - started, counting.queries

    return run_neo4j


def implementations(settings: Any, store: Any) -> dict[str, Implementation]:
    """Run a document through CityKG's API or the naive schema: (answer, seconds, store queries).
    A request's time includes making its context, as a server does per request."""
    sys.path.append(str(Path(__file__).resolve().parent))  # after the driver's package: bench/neo4j.py
    from naive_api import naive_context, naive_schema

    from kg_service.api import context_for, schema_for

    counting = CountingStore(store)
    citykg, naive = schema_for(settings), naive_schema()

    def run_citykg(text: str, variables: Mapping[str, Any]) -> tuple[Any, float, int]:
        counting.queries = 0
        started = time.perf_counter()
        result = citykg.execute_sync(text, variable_values=dict(variables),
                                     context_value=context_for(settings, counting))
        return result, time.perf_counter() - started, counting.queries

    def run_naive(text: str, variables: Mapping[str, Any]) -> tuple[Any, float, int]:
        counting.queries = 0
        started = time.perf_counter()
        result = naive.execute_sync(text, variable_values=dict(variables),
                                    context_value=naive_context(settings, counting))
        return result, time.perf_counter() - started, counting.queries

    return {"citykg": run_citykg, "naive": run_naive}


def normalise(value: Any, ordered: bool = True) -> Any:
    """Nested lists sorted (their order is the store's, not the API's); pages and groups keep theirs."""
    if isinstance(value, dict):
        return {key: normalise(item, ordered=key == "nodes" or key.endswith("Aggregate"))
                for key, item in value.items()}
    if isinstance(value, list):
        items = [normalise(item, ordered=False) for item in value]
        return items if ordered else sorted(items, key=lambda item: json.dumps(item, sort_keys=True, default=str))
    return value


def first_difference(a: Any, b: Any, path: str = "") -> str:
    if isinstance(a, dict) and isinstance(b, dict):
        for key in sorted(set(a) | set(b)):
            if a.get(key) != b.get(key):
                return first_difference(a.get(key), b.get(key), f"{path}.{key}")
    elif isinstance(a, list) and isinstance(b, list) and len(a) == len(b):
        for index, (x, y) in enumerate(zip(a, b, strict=True)):
            if x != y:
                return first_difference(x, y, f"{path}[{index}]")
    elif isinstance(a, list) and isinstance(b, list):
        return f"{path}: {len(a)} items against {len(b)}"
    return f"{path}: {json.dumps(a, ensure_ascii=False, default=str)[:200]} against " \
           f"{json.dumps(b, ensure_ascii=False, default=str)[:200]}"


def top_level_rows(data: Any) -> int:
    root = next(iter(data.values())) if isinstance(data, dict) and data else None
    if isinstance(root, dict):
        return len(root.get("nodes") or [])
    return len(root) if isinstance(root, list) else 0


def measure(document: Document, variables: Mapping[str, Any], run: dict[str, Implementation], repeats: int,
            budget: float) -> Measured:
    answers, firsts = {}, {}
    for name, implementation in run.items():
        result, firsts[name], _ = implementation(document.text, variables)
        if result.errors:
            sys.exit(f"query {document.title}: {name} answered with errors: {result.errors}")
        if not top_level_rows(result.data):
            sys.exit(f"query {document.title}: {name}'s answer is empty: {result.data}")
        answers[name] = normalise(result.data)
    same = all(answer == answers["citykg"] for answer in answers.values())
    for name, answer in answers.items():
        if answer != answers["citykg"]:
            print(f"ANSWERS DIFFER for query {document.title}: at {first_difference(answers['citykg'], answer)}"
                  f" (CityKG first, {name} second)")
    runs = {name: Runs(first=firsts[name]) for name in run}
    started = time.perf_counter()
    for round_ in range(repeats):
        order = list(run) if round_ % 2 == 0 else list(reversed(run))
        for name in order:
            result, seconds, queries = run[name](document.text, variables)
            assert not result.errors, result.errors
            runs[name].seconds.append(seconds)
            runs[name].queries.append(queries)
        if time.perf_counter() - started > budget and round_ >= 2:
            break
    return Measured(document, runs["citykg"], runs["naive"], same, top_level_rows(answers["citykg"]),
                    runs.get("neo4j"))


def bench_city(city: City, args: argparse.Namespace) -> list[Measured]:
    from kg_service.api.app import settle_start_up_objects
    from kg_service.config import load_settings
    from kg_service.store import open_store

    settings = load_settings(data_dir=city.data, mappings_dir=city.sources, in_memory=False)
    with open_store(settings) as store:
        if city.entities is None:
            city.entities = count_entities(settings, store)
            _write_record(city, ingested=True)
        longitude, latitude = central_school(store)
        variables: dict[str, dict[str, Any]] = {"filter": {"minimum": MINIMUM_CAPITAL},
                                                "near": {"longitude": longitude, "latitude": latitude}}
        run = implementations(settings, store)
        settle_start_up_objects()  # as `citykg serve` does once its app is built
        if args.neo4j_server is not None:
            run["neo4j"] = neo4j_implementation(settings, store, args.neo4j_server)
        measured = []
        for document in DOCUMENTS:
            repeats = args.repeat_large if document.large else args.repeat
            measured.append(measure(document, variables.get(document.key, {}), run, repeats, args.budget))
            print(f"(measured {document.title})", file=sys.stderr)
    return measured


# --- printing ----------------------------------------------------------------------------------------

def print_city(city: City, measured: list[Measured]) -> None:
    how = (f"reused from an earlier run (its ingest took {city.ingest_seconds:,.0f} s)" if city.reused and
           city.ingest_seconds else "reused from an earlier run" if city.reused else
           f"ingested in {city.ingest_seconds:,.0f} s")
    print(f"\n## A city of about {city.entities_asked:,} entities\n\nScale {city.scale:,} source rows, "
          f"seed {city.seed}: {city.entities or 0:,} entities (distinct subjects of the datasets' graphs); "
          f"store on disk, {how}.\n")
    print("| query | implementation | runs | p50 ms | p95 ms | p99 ms | req/s | store queries per request "
          "| ratio naive / CityKG (p50) | first request ms |")
    print("|---|---|---:|---:|---:|---:|---:|---:|---:|---:|")
    for m in measured:
        rows = f"{m.rows:,} {'row' if m.rows == 1 else 'rows'}"
        title = f"{m.document.title} ({rows})" + ("" if m.same else " ANSWERS DIFFER")
        implementations = [("CityKG", m.citykg), ("naive", m.naive)]
        if m.neo4j is not None:
            implementations.append(("CityKG on Neo4j", m.neo4j))
        for name, runs in implementations:
            ratio = f"{m.ratio:.2f}" if name == "CityKG" else ""
            print(f"| {title if name == 'CityKG' else ''} | {name} | {len(runs.seconds)} | {runs.percentile(50):,.1f} "
                  f"| {runs.percentile(95):,.1f} | {runs.percentile(99):,.1f} | {runs.per_second:,.2f} "
                  f"| {runs.queries_text()} | {ratio} | {runs.first * 1000:,.1f} |")
    print()
    for m in measured:
        print(f"Ratio naive / CityKG, {m.document.title}: {m.ratio:.2f} (above 1: CityKG is faster).")
    for m in measured:
        if m.neo4j is not None:
            print(f"Ratio CityKG on Neo4j / CityKG on Oxigraph (p50), {m.document.title}: "
                  f"{m.neo4j.percentile(50) / m.citykg.percentile(50):.2f} (above 1: Oxigraph is faster).")
    by_key = {m.document.key: m for m in measured}
    page, nested = by_key["page"], by_key["nested"]
    p95 = page.citykg.percentile(95)
    where = "" if city.entities_asked == 100_000 else " (the target is set at 100,000 entities)"
    print(f"\nTarget p95 < {PAGE_TARGET_MS:.0f} ms, {page.document.title}{where}: CityKG p95 {p95:,.1f} ms: "
          f"{'met' if p95 < PAGE_TARGET_MS else 'not met'}.")
    print(f"Target >= {NESTED_TARGET_RATIO:.0f}x the naive implementation, {nested.document.title} ({nested.rows:,} "
          f"rows){where}: {nested.ratio:.2f}x: {'met' if nested.ratio >= NESTED_TARGET_RATIO else 'not met'}.")
    differ = [m.document.title for m in measured if not m.same]
    print("Answers: " + (f"DIFFER for {'; '.join(differ)}." if differ else
                         f"the same from both for all {len(measured)} queries (nested lists compared as sets)."))
    sys.stdout.flush()


def _code_version() -> str:
    import kg_service

    root = Path(kg_service.__file__).resolve().parent.parent
    try:
        def git(*arguments: str) -> str:
            return subprocess.run(["git", "-C", str(root), *arguments], capture_output=True, text=True,
                                  check=True).stdout.strip()

        commit = git("rev-parse", "--short", "HEAD")
        dirty = git("status", "--porcelain", "--", "kg_service", "ontology")
    except (OSError, subprocess.CalledProcessError):
        return f"{root} (not a git checkout)"
    return f"{root} at {commit}" + (" with uncommitted changes to kg_service/ or ontology/" if dirty else "")


def _load() -> str:
    one, five, _ = os.getloadavg()
    return f"load average {one:.1f} (1 min), {five:.1f} (5 min) on {os.cpu_count()} cores"


def run_sizes(root: Path, args: argparse.Namespace) -> None:
    print(f"# API benchmark, {datetime.date.today()}, {os.cpu_count()} cores, Python {platform.python_version()}\n\n"
          f"kg_service from {_code_version()}. Runs per document: {args.repeat} ({args.repeat_large} for the "
          f"1,000-row one), alternating CityKG and naive, each document stopped after {args.budget:.0f} s "
          f"(at least 3 runs). At the start: {_load()}.")
    for entities in args.entities:
        city = City(entities, root / f"entities-{entities}", scale_for(entities), args.seed)
        prepare(city)
        measured = bench_city(city, args)
        print_city(city, measured)
        print(f"At the end of this size: {_load()}.")


def main(argv: Sequence[str] | None = None) -> None:
    arguments = list(sys.argv[1:] if argv is None else argv)
    if len(arguments) == 4 and arguments[0] == "--worker" and arguments[1] == "ingest":
        worker_ingest(arguments[2], arguments[3])
        return
    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n")[0])
    parser.add_argument("--entities", type=int, nargs="+", default=[10_000, 100_000],
                        help="city sizes in entities (the issue asks 10,000, 100,000 and 1,000,000)")
    parser.add_argument("--repeat", type=int, default=100, help="runs per implementation of the small documents")
    parser.add_argument("--repeat-large", type=int, default=10, help="runs per implementation of the 1,000-row one")
    parser.add_argument("--budget", type=float, default=240.0,
                        help="seconds a document may take (both implementations) before its runs stop")
    parser.add_argument("--seed", type=int, default=SEED)
    parser.add_argument("--data-dir", type=Path, default=None,
                        help="keep the cities here (DIR/entities-N) and reuse them; default: a temporary folder")
    parser.add_argument("--quick", action="store_true", help="a smoke run: a city of 1,000 rows, 1 run each")
    parser.add_argument("--neo4j", action="store_true",
                        help="also serve each document from the city's projection in a Neo4j server (Cypher), "
                             "started here by neo4j-server/server.sh")
    args = parser.parse_args(arguments)
    args.neo4j_server = None
    if args.neo4j:
        sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
        from tests.integration.neo4j_server import ServerProcess

        os.environ.setdefault("CITYKG_NEO4J_HEAP", "2g")
        os.environ.setdefault("CITYKG_NEO4J_PAGECACHE", "1g")
        process = ServerProcess()
        args.neo4j_server = process.start()
        try:
            _run(args)
        finally:
            process.stop(keep=False)
        return
    _run(args)


def _run(args: argparse.Namespace) -> None:
    if args.quick:
        args.entities, args.repeat, args.repeat_large = [1000], 1, 1
    if args.data_dir is not None:
        args.data_dir.mkdir(parents=True, exist_ok=True)
        run_sizes(args.data_dir, args)
        return
    with tempfile.TemporaryDirectory(prefix="citykg-bench-api-") as tmp:
        run_sizes(Path(tmp), args)


if __name__ == "__main__":
    main()
