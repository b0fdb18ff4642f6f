"""Loading a dataset's graph: CityKG's store (Oxigraph, atomic replace) against rdflib in memory.

rdflib is the alternative a Python team reaches for first. Each engine loads the same generated
N-Triples in a fresh process (so peak memory is its own), ``--repeat`` times per size; the script
prints medians and the ratio to rdflib. Time includes the imports and opening the store.
Run: python bench/store_load.py [--sizes 100000 500000] [--repeat 3]
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

WORKER = r"""
import json, resource, sys, time
from pathlib import Path
engine, path, data_dir = sys.argv[1], Path(sys.argv[2]), sys.argv[3]
start = time.perf_counter()
if engine.startswith("citykg"):
    from kg_service.config import load_settings
    from kg_service.store import RdfFormat, open_store
    settings = load_settings(data_dir=data_dir, in_memory=engine.endswith("memory"))
    with open_store(settings) as store:
        store.replace_graph("https://bench.example/graph", path, RdfFormat.N_TRIPLES)
        count = store.count("https://bench.example/graph")
else:
    from rdflib import Graph
    graph = Graph()
    graph.parse(path, format="nt")
    count = len(graph)
seconds = time.perf_counter() - start
peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
print(json.dumps({"seconds": seconds, "count": count, "peak_mb": peak_mb}))
"""

ENGINES = ("citykg-disk", "citykg-memory", "rdflib-memory")


def generate(path: Path, triples: int) -> None:
    """Enterprise-register-like triples: IRIs, Chinese names, typed numbers and dates."""
    city = "https://w3id.org/citykg/ontology#"
    with path.open("w", encoding="utf-8") as out:
        for i in range(triples // 5):
            s = f"<https://w3id.org/citykg/id/enterprise/E{i:09d}>"
            out.write(f"{s} <http://www.w3.org/1999/02/22-rdf-syntax-ns#type> <{city}Enterprise> .\n")
            out.write(f'{s} <{city}name> "清河第{i}号企业有限公司"@zh .\n')
            out.write(f'{s} <{city}employees> "{i % 900}"^^<http://www.w3.org/2001/XMLSchema#integer> .\n')
            out.write(f'{s} <{city}establishedOn> "20{i % 24:02d}-0{1 + i % 9}-1{i % 9}"'
                      f'^^<http://www.w3.org/2001/XMLSchema#date> .\n')
            out.write(f"{s} <{city}locatedIn> <https://w3id.org/citykg/id/district/99010{i % 4}> .\n")


def run(engine: str, path: Path) -> dict[str, float]:
    with tempfile.TemporaryDirectory() as data_dir:
        done = subprocess.run([sys.executable, "-c", WORKER, engine, str(path), data_dir],
                              capture_output=True, text=True, check=True)
    result: dict[str, float] = json.loads(done.stdout)
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--sizes", type=int, nargs="+", default=[100_000, 500_000])
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    print(f"{'triples':>9} {'engine':<14} {'median s':>9} {'triples/s':>10} {'peak MB':>8}")
    with tempfile.TemporaryDirectory() as workdir:
        for size in args.sizes:
            path = Path(workdir) / f"{size}.nt"
            generate(path, size)
            medians: dict[str, float] = {}
            for engine in ENGINES:
                runs = [run(engine, path) for _ in range(args.repeat)]
                seconds = statistics.median(r["seconds"] for r in runs)
                peak = statistics.median(r["peak_mb"] for r in runs)
                assert all(r["count"] == size for r in runs), runs
                medians[engine] = seconds
                print(f"{size:>9} {engine:<14} {seconds:>9.2f} {size / seconds:>10,.0f} {peak:>8.0f}")
            for engine in ("citykg-disk", "citykg-memory"):
                ratio = medians["rdflib-memory"] / medians[engine]
                print(f"{size:>9} ratio rdflib/{engine}: {ratio:.2f} (above 1: CityKG faster)")


if __name__ == "__main__":
    main()
