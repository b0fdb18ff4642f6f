"""Lifting a department's CSV to N-Triples: CityKG's engine against morph-kgc 2.10, side by side.

morph-kgc is the fastest Python RML engine people use, and cannot be a dependency (its pins conflict
with ours), so this script installs it into its own virtual environment (bench/.venv-morph-kgc) on
first use. Both engines run the same RML mapping over the same generated flow-readings CSV (the
water company's time series from ``citykg generate``, Chinese headers) in fresh processes, alternating, ``--repeat``
times per size, and write N-Triples to a file. Wall time includes start-up; peak memory is the
process's maximum resident set. The script checks both outputs have the same statements, then prints
medians and the ratios morph-kgc / CityKG (above 1 means CityKG is faster or smaller).
Run: python bench/lift.py [--sizes 200000 2000000] [--repeat 3] [--citykg-only]
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
import venv
from dataclasses import dataclass
from pathlib import Path

HERE = Path(__file__).resolve().parent
MORPH_VENV = HERE / ".venv-morph-kgc"
MORPH_VERSION = "2.10.0"

MAPPING = """\
@prefix rr: <http://www.w3.org/ns/r2rml#> .
@prefix rml: <http://semweb.mmlab.be/ns/rml#> .
@prefix ql: <http://semweb.mmlab.be/ns/ql#> .
@prefix sosa: <http://www.w3.org/ns/sosa/> .
@prefix city: <https://w3id.org/citykg/ontology#> .
@prefix xsd: <http://www.w3.org/2001/XMLSchema#> .

<#Reading> rml:logicalSource [ rml:source "{source}" ; rml:referenceFormulation ql:CSV ] ;
  rr:subjectMap [ rr:template "https://w3id.org/citykg/id/observation/{{测点编号}}/{{记录号}}" ;
                  rr:class sosa:Observation ] ;
  rr:predicateObjectMap
    [ rr:predicate sosa:madeBySensor ;
      rr:objectMap [ rr:template "https://w3id.org/citykg/id/sensor/{{测点编号}}" ] ] ,
    [ rr:predicate sosa:hasFeatureOfInterest ;
      rr:objectMap [ rr:template "https://w3id.org/citykg/id/asset/{{站点编码}}" ] ] ,
    [ rr:predicate sosa:resultTime ; rr:objectMap [ rml:reference "采集时间" ] ] ,
    [ rr:predicate city:observedValue ; rr:objectMap [ rml:reference "读数" ; rr:datatype xsd:decimal ] ] ,
    [ rr:predicate city:unit ; rr:objectMap [ rml:reference "单位" ] ] .
"""
# Functions (unit conversion) are left out: morph-kgc does not know CityKG's; the real mapping is
# mappings/water/flow-readings.rml.ttl.


@dataclass
class Run:
    seconds: float
    peak_mb: float
    statements: int


def ensure_morph_kgc() -> Path:
    python = MORPH_VENV / "bin" / "python"
    probe = [str(python), "-c", "import importlib.metadata as m; print(m.version('morph-kgc'))"]
    if python.exists() and subprocess.run(probe, capture_output=True, text=True).stdout.strip() == MORPH_VERSION:
        return python
    print(f"installing morph-kgc {MORPH_VERSION} into {MORPH_VENV} ...", flush=True)
    venv.create(MORPH_VENV, with_pip=True, clear=True)
    subprocess.run([str(python), "-m", "pip", "install", "--quiet", "--disable-pip-version-check",
                    f"morph-kgc=={MORPH_VERSION}"], check=True)
    return python


def generate(folder: Path, rows: int, seed: int) -> Path:
    """The water company's flow readings at the requested size, from the city generator."""
    from kg_service.generate import generate_source

    return generate_source("water/flow-readings", folder, rows, seed)


def measure(command: list[str], output: Path, cwd: Path) -> Run:
    """Run ``command`` in a fresh process; its own peak resident memory comes from wait4."""
    output.unlink(missing_ok=True)
    start = time.perf_counter()
    process = subprocess.Popen(command, cwd=cwd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    _, status, usage = os.wait4(process.pid, 0)
    seconds = time.perf_counter() - start
    stderr = process.stderr.read().decode() if process.stderr else ""
    if os.waitstatus_to_exitcode(status) != 0 or not output.exists():
        raise SystemExit(f"{command[0]} failed:\n{stderr[-2000:]}")
    with output.open("rb") as handle:
        statements = sum(1 for line in handle if line.strip())
    return Run(seconds, usage.ru_maxrss / 1024, statements)


def digest(path: Path) -> str:
    """Of the set of statements: the engines write them in different orders, and one drops the
    repeats that duplicate rows make (an RDF graph is a set, so both are right). Sorted by a child
    process: a parent holding millions of lines would pass its size on to the measured children,
    whose peak resident memory counts what they inherit at fork."""
    done = subprocess.run(f"LC_ALL=C sort -u '{path}' | sha256sum", shell=True, check=True, capture_output=True)
    return done.stdout.split()[0].decode()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[200_000, 2_000_000], help="rows per run")
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--citykg-only", action="store_true",
                        help="skip morph-kgc (for sizes it cannot hold in memory); no ratio is printed")
    args = parser.parse_args()
    engines = {
        "citykg": lambda folder: [sys.executable, "-c", "from kg_service.cli import main; main()", "lift",
                                  str(folder / "mapping.ttl"), "--quiet", "-o", str(folder / "citykg.nt")],
    }
    if not args.citykg_only:
        morph_python = ensure_morph_kgc()
        engines["morph-kgc"] = lambda folder: [str(morph_python), "-m", "morph_kgc", str(folder / "morph-kgc.ini")]
    results: list[tuple[int, str, Run]] = []
    for rows in args.sizes:
        with tempfile.TemporaryDirectory(prefix="citykg-bench-lift-") as tmp:
            folder = Path(tmp)
            source = generate(folder, rows, args.seed)
            (folder / "mapping.ttl").write_text(MAPPING.format(source=source.name), encoding="utf-8")
            (folder / "morph-kgc.ini").write_text(
                "[CONFIGURATION]\noutput_file=morph-kgc.nt\noutput_format=N-TRIPLES\nlogging_level=WARNING\n"
                f"[DataSource]\nmappings={folder / 'mapping.ttl'}\n", encoding="utf-8")
            for attempt in range(args.repeat):
                for name, command in engines.items():  # alternating, so drifting load hits both alike
                    run = measure(command(folder), folder / f"{name}.nt", folder)
                    results.append((rows, name, run))
                    print(f"  {rows:>10,} rows  {name:<10} run {attempt + 1}: {run.seconds:7.2f} s  "
                          f"{run.peak_mb:8.0f} MB  {run.statements:,} statements", flush=True)
                if attempt == 0 and not args.citykg_only:
                    same = digest(folder / "citykg.nt") == digest(folder / "morph-kgc.nt")
                    print(f"  outputs identical: {same}", flush=True)
                    if not same:
                        raise SystemExit("the engines disagree; a timing would compare different work")
    if not args.citykg_only:
        print_table(results, args.sizes)


def print_table(results: list[tuple[int, str, Run]], sizes: list[int]) -> None:
    print("\n| rows | engine | median s | statements/s | median peak MB | time ratio morph-kgc/citykg "
          "| memory ratio morph-kgc/citykg |")
    print("|---:|---|---:|---:|---:|---:|---:|")
    for rows in sizes:
        medians = {}
        for name in ("citykg", "morph-kgc"):
            runs = [run for size, engine, run in results if size == rows and engine == name]
            medians[name] = (statistics.median(r.seconds for r in runs), statistics.median(r.peak_mb for r in runs),
                             runs[0].statements)
        for name, (seconds, peak, statements) in medians.items():
            ratios = ("", "")
            if name == "citykg":
                ratios = (f"{medians['morph-kgc'][0] / seconds:.2f}", f"{medians['morph-kgc'][1] / peak:.2f}")
            print(f"| {rows:,} | {name} | {seconds:.2f} | {statements / seconds:,.0f} | {peak:,.0f} | "
                  f"{ratios[0]} | {ratios[1]} |")


if __name__ == "__main__":
    main()
