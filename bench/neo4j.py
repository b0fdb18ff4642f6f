"""Projecting the city into a real Neo4j server: sync throughput, batched against the naive way.

For each size (a city of about N triples, generated here: facilities of four kinds in communities of
districts, each with a Chinese name, a code, an integer, a decimal, a date, a point geometry, the
community it is located in, the classes a reasoner adds, and a dependency on a utility; written as
three datasets' graphs and an inferred graph into an in-memory Oxigraph store) the script runs, in a
fresh process per variant and against an emptied database of one Neo4j 5.26 Community server:

- ``batched``: CityKG's sync (``kg_service.project.sync``): a full sync into the empty database, then a
  change of 10 entities synced incrementally, the same again synced for its dataset only (``--dataset``,
  as a mutation does: only that dataset's entities are read), then a sync with nothing to do;
- the same with the driver's Rust extension (``neo4j-rust-ext``) blocked, so the driver packs in
  Python: ``batched, no rust``;
- ``naive``: one Cypher statement per node and one per relationship, each in its own transaction (what
  a script written without UNWIND does), on the first ``--naive-entities`` entities only (it is slow),
  its rate compared per item.

It prints, per size and variant, the seconds and items per second (items: nodes, relationships and
removals written) of each step, reading the RDF side included and excluded, the ratio batched / naive,
and whether the issue's target (at least 50,000 items/s) is met.

The server is started by ``neo4j-server/server.sh`` in a temporary folder (jars fetched once from
Maven Central) unless ``--uri`` and ``--password`` name a server to use; its database is emptied.

GraphQL latency on Neo4j beside Oxigraph: ``--api-entities N...`` then runs ``bench/api.py --neo4j``
on cities of about N entities (its five documents, CityKG on Oxigraph, the naive schema and CityKG
compiled to Cypher over the projection, side by side; ``--api-data-dir`` keeps the ingested cities).
Run: python bench/neo4j.py [--triples 100000 1000000] [--naive-entities 2000] [--uri URI --password PW]
     [--api-entities 10000 100000 [--api-data-dir DIR]]
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import random
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
# This file is named like the driver: its own folder must not shadow the driver's package.
sys.path = [entry for entry in sys.path if Path(entry or ".").resolve() != Path(__file__).resolve().parent]
sys.path.insert(0, str(ROOT))

CITY = "https://w3id.org/citykg/ontology#"
ID = "https://w3id.org/citykg/id/"
GEO = "http://www.opengis.net/ont/geosparql#"
XSD = "http://www.w3.org/2001/XMLSchema#"
RDF_TYPE = "http://www.w3.org/1999/02/22-rdf-syntax-ns#type"
KINDS = {  # dataset -> (class, inferred superclasses)
    "health/facilities": ("Hospital", ("HealthFacility", "PublicServiceFacility", "Facility")),
    "education/schools": ("PrimarySchool", ("School", "PublicServiceFacility", "Facility")),
    "water/network": ("PumpStation", ("InfrastructureAsset", "Facility")),
}
TRIPLES_PER_ENTITY = 14  # measured on the generator below: asserted + inferred + geometry
TARGET_ITEMS_PER_SECOND = 50_000


def generate(triples: int, seed: int, out: Path) -> int:
    """Write a city of about ``triples`` statements as N-Quads; returns the exact count."""
    rng = random.Random(seed)
    entities = max(10, triples // TRIPLES_PER_ENTITY)
    districts = max(2, entities // 20_000)
    communities = max(4, entities // 500)
    graph = f"{ID}graph/"
    written = 0
    with out.open("w", encoding="utf-8") as nq:
        def quad(s: str, p: str, o: str, g: str) -> None:
            nonlocal written
            nq.write(f"{s} <{p}> {o} <{graph}{g}> .\n")
            written += 1

        for c in range(communities):
            community = f"<{ID}area/c{c}>"
            quad(community, RDF_TYPE, f"<{CITY}Community>", "source/civil-affairs/admin-areas")
            quad(community, f"{CITY}partOf", f"<{ID}area/d{c % districts}>", "source/civil-affairs/admin-areas")
            quad(community, f"{CITY}name", f'"社区{c}"@zh', "source/civil-affairs/admin-areas")
        for d in range(districts):
            quad(f"<{ID}area/d{d}>", RDF_TYPE, f"<{CITY}District>", "source/civil-affairs/admin-areas")
        datasets = list(KINDS)
        pumps = [i for i in range(entities) if datasets[i % 3] == "water/network"]
        for i in range(entities):
            dataset = datasets[i % 3]
            kind, supers = KINDS[dataset]
            entity, geometry = f"<{ID}facility/{i}>", f"<{ID}facility/{i}/geometry>"
            source = f"source/{dataset}"
            quad(entity, RDF_TYPE, f"<{CITY}{kind}>", source)
            quad(entity, f"{CITY}name", f'"设施{i}号"@zh', source)
            quad(entity, f"{CITY}code", f'"F{i:08d}"', source)
            quad(entity, f"{CITY}capacity", f'"{rng.randint(10, 3000)}"^^<{XSD}integer>', source)
            quad(entity, f"{CITY}floorAreaM2", f'"{rng.uniform(100, 90000):.1f}"^^<{XSD}decimal>', source)
            quad(entity, f"{CITY}openedOn", f'"{rng.randint(1950, 2024)}-0{rng.randint(1, 9)}-1{rng.randint(0, 9)}"'
                                            f'^^<{XSD}date>', source)
            quad(entity, f"{CITY}locatedIn", f"<{ID}area/c{rng.randrange(communities)}>", source)
            quad(entity, f"{GEO}hasGeometry", geometry, source)
            quad(geometry, f"{GEO}asWKT", f'"POINT({117 + rng.random():.6f} {36 + rng.random():.6f})"'
                                          f'^^<{GEO}wktLiteral>', source)
            quad(geometry, RDF_TYPE, f"<{GEO}Geometry>", source)
            if dataset != "water/network":
                quad(entity, f"{CITY}dependsOn", f"<{ID}facility/{rng.choice(pumps)}>", "inferred")
            for parent in supers[:2]:
                quad(entity, RDF_TYPE, f"<{CITY}{parent}>", "inferred")
    return written


def worker(nquads: str, uri: str, password: str, rust: bool, naive_entities: int, naive: bool) -> None:
    """In a process of its own (so that blocking the Rust extension takes effect before import)."""
    if not rust:
        sys.modules["neo4j._rust"] = None  # type: ignore[assignment]  # the driver falls back to Python
    import neo4j
    from neo4j._codec.packstream._common import RUST_AVAILABLE
    from pydantic import SecretStr

    from kg_service.config import load_settings
    from kg_service.project import Neo4jProjection, read_projection, sync
    from kg_service.store import GraphWrites, RdfFormat, open_store

    settings = load_settings(in_memory=True, data_dir=Path(tempfile.mkdtemp()), neo4j_uri=uri)
    settings = settings.model_copy(update={"neo4j_password": SecretStr(password)})
    result: dict[str, Any] = {"rust": RUST_AVAILABLE}
    with open_store(settings) as store, neo4j.GraphDatabase.driver(uri, auth=("neo4j", password)) as driver:
        store.load(Path(nquads), RdfFormat.N_QUADS)
        with driver.session() as session:
            session.run("MATCH (n) CALL (n) { DETACH DELETE n } IN TRANSACTIONS OF 10000 ROWS").consume()
        started = time.perf_counter()
        projection = read_projection(settings, store)
        result["read_seconds"] = time.perf_counter() - started
        if naive:
            rows = projection.rows(sorted(projection.entities)[:naive_entities])
            started = time.perf_counter()
            items = _naive_sync(driver, rows)
            result["naive"] = {"items": items, "seconds": time.perf_counter() - started}
        else:
            with Neo4jProjection.open(settings) as target:
                full = sync(settings, store, target=target)
                facilities = settings.graphs.source("health/facilities")
                changed = [f"{ID}facility/{i}" for i in range(0, 30, 3)]  # ten hospitals
                store.commit(GraphWrites(retract=[(facilities, iri, f"{CITY}capacity", None) for iri in changed],
                                         add={facilities: "".join(f'<{iri}> <{CITY}capacity> "1"^^<{XSD}integer> .\n'
                                                                  for iri in changed).encode()}))
                incremental = sync(settings, store, target=target)
                # the same kind of change, synced for its dataset only (what a mutation does)
                store.commit(GraphWrites(retract=[(facilities, iri, f"{CITY}capacity", None) for iri in changed],
                                         add={facilities: "".join(f'<{iri}> <{CITY}capacity> "2"^^<{XSD}integer> .\n'
                                                                  for iri in changed).encode()}))
                one_dataset = sync(settings, store, ["health/facilities"], target=target)
                nothing = sync(settings, store, target=target)
            result.update({name: {"items": report.items, "written": report.written, "seconds": report.seconds,
                                  "relationships": report.relationships}
                           for name, report in (("full", full), ("incremental", incremental),
                                                ("one dataset", one_dataset), ("nothing", nothing))})
    print(json.dumps(result))


def _naive_sync(driver: Any, rows: list[dict[str, Any]]) -> int:
    """Per node one MERGE, per relationship one MERGE, each its own auto-commit transaction."""
    items = 0
    with driver.session() as session:
        for row in rows:
            labels = ":".join(f"`{label}`" for label in row["labels"])
            session.run(f"MERGE (n:Resource {{uri: $uri}}) SET n:{labels} SET n = $properties",
                        uri=row["uri"], properties=row["properties"]).consume()
            items += 1
            for relation in row["relationships"]:
                session.run(f"MATCH (a:Resource {{uri: $from}}) MERGE (b:Resource {{uri: $to}}) "
                            f"MERGE (a)-[r:`{relation['type']}`]->(b) SET r.datasets = $datasets, "
                            f"r.inferred = $inferred", relation).consume()
                items += 1
    return items


def run_worker(nquads: Path, args: argparse.Namespace, uri: str, password: str, *, rust: bool,
               naive: bool) -> dict[str, Any]:
    command = [sys.executable, __file__, "--worker", str(nquads), "--uri", uri, "--password", password,
               "--naive-entities", str(args.naive_entities)]
    command += ([] if rust else ["--no-rust"]) + (["--naive"] if naive else [])
    done = subprocess.run(command, capture_output=True, text=True, check=False, cwd=ROOT,
                          env={**os.environ, "PYTHONPATH": str(ROOT)})
    if done.returncode != 0:
        raise SystemExit(f"the worker failed:\n{done.stderr[-3000:]}")
    return dict(json.loads(done.stdout.strip().splitlines()[-1]))


def bench_size(triples: int, args: argparse.Namespace, uri: str, password: str) -> None:
    with tempfile.TemporaryDirectory() as folder:
        nquads = Path(folder) / "city.nq"
        count = generate(triples, args.seed, nquads)
        print(f"\n== a city of {count:,} triples ({nquads.stat().st_size / 1e6:.0f} MB of N-Quads)")
        runs: dict[str, list[dict[str, Any]]] = {"batched": [], "batched, no rust": [], "naive": []}
        for _ in range(args.repeat):
            runs["batched"].append(run_worker(nquads, args, uri, password, rust=True, naive=False))
            runs["batched, no rust"].append(run_worker(nquads, args, uri, password, rust=False, naive=False))
        runs["naive"].append(run_worker(nquads, args, uri, password, rust=True, naive=True))
    print(f"{'variant':<18} {'step':<12} {'items':>9} {'seconds':>9} {'items/s':>10} {'items/s w/o reading':>20}")
    rates: dict[str, float] = {}
    for variant in ("batched", "batched, no rust"):
        assert runs[variant][0]["rust"] == (variant == "batched"), "the Rust extension switch did not take"
        for step in ("full", "incremental", "one dataset", "nothing"):
            seconds = statistics.median(run[step]["seconds"] for run in runs[variant])
            reading = statistics.median(run["read_seconds"] for run in runs[variant])
            items = runs[variant][0][step]["items"]
            rate = items / seconds if seconds else 0.0
            # a sync of one dataset reads only its entities, not the whole city timed as "reading"
            writing = (f"{items / (seconds - reading):,.0f}" if step != "one dataset" and seconds > reading
                       else "n/a")
            if step == "full":
                rates[variant] = rate
            print(f"{variant:<18} {step:<12} {items:>9,} {seconds:>9.2f} {rate:>10,.0f} {writing:>20}")
    naive = runs["naive"][0]["naive"]
    naive_rate = naive["items"] / naive["seconds"]
    print(f"{'naive':<18} {'full':<12} {naive['items']:>9,} {naive['seconds']:>9.2f} {naive_rate:>10,.0f} "
          f"(first {args.naive_entities:,} entities, writing only)")
    print(f"batched / naive: {rates['batched'] / naive_rate:.1f}x (reading included in batched); "
          f"rust / no rust: {rates['batched'] / rates['batched, no rust']:.2f}x")
    verdict = "met" if rates["batched"] >= TARGET_ITEMS_PER_SECOND else "NOT met"
    print(f"target >= {TARGET_ITEMS_PER_SECOND:,} items/s on a full sync: {verdict} ({rates['batched']:,.0f})")


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n")[0])
    parser.add_argument("--triples", type=int, nargs="*", default=[100_000, 1_000_000])
    parser.add_argument("--repeat", type=int, default=3, help="runs of each batched variant (medians shown)")
    parser.add_argument("--naive-entities", type=int, default=2_000)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--uri", default=None)
    parser.add_argument("--password", default=None)
    parser.add_argument("--api-entities", type=int, nargs="*", default=[],
                        help="also run bench/api.py --neo4j on cities of about these many entities")
    parser.add_argument("--api-data-dir", default=None, help="bench/api.py's --data-dir")
    parser.add_argument("--worker", default=None, help=argparse.SUPPRESS)
    parser.add_argument("--no-rust", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--naive", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.worker:
        worker(args.worker, args.uri, args.password, not args.no_rust, args.naive_entities, args.naive)
        return
    print(f"bench/neo4j.py on {platform.node()}: {os.cpu_count()} cores, Python {platform.python_version()}, "
          f"load {os.getloadavg()[0]:.2f}")
    if args.uri:
        for size in args.triples:
            bench_size(size, args, args.uri, args.password or "")
    else:
        bench_sizes_on_own_server(args)
    if args.api_entities:
        command = [sys.executable, str(ROOT / "bench" / "api.py"), "--neo4j", "--entities",
                   *map(str, args.api_entities)] + (["--data-dir", args.api_data_dir] if args.api_data_dir else [])
        sys.stdout.flush()
        subprocess.run(command, check=True, cwd=ROOT)


def bench_sizes_on_own_server(args: argparse.Namespace) -> None:
    if not args.triples:
        return
    from tests.integration.neo4j_server import ServerProcess

    process = ServerProcess()
    # a server sized like a city's: the 1M-triple projection does not fit the test default
    os.environ.setdefault("CITYKG_NEO4J_HEAP", "2g")
    os.environ.setdefault("CITYKG_NEO4J_PAGECACHE", "1g")
    server = process.start()
    try:
        print(f"Neo4j 5.26 Community at {server.uri} (heap {os.environ['CITYKG_NEO4J_HEAP']}, "
              f"page cache {os.environ['CITYKG_NEO4J_PAGECACHE']})")
        for size in args.triples:
            bench_size(size, args, server.uri, server.password)
    finally:
        process.stop(keep=False)


if __name__ == "__main__":
    main()
