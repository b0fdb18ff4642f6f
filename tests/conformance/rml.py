"""Running one RML conformance case through the engine and comparing its output per named graph."""

from __future__ import annotations

import csv
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

import pytest
from rdflib import Dataset, Graph
from rdflib.compare import isomorphic

from kg_service.errors import CityKGError
from kg_service.lift import lift, load_mapping
from tests.conformance.summary import record

SUITES = Path(__file__).resolve().parents[2].parent / "shared" / "conformance"


@dataclass(frozen=True)
class Case:
    id: str
    folder: Path
    mapping: Path
    expected: Path | None
    expects_error: bool
    base_iri: str


def read_cases(metadata: Path) -> list[Case]:
    """The cases a suite's metadata.csv lists (one folder per case beside it)."""
    cases = []
    with metadata.open(encoding="utf-8") as handle:
        for row in csv.DictReader(handle):
            folder = metadata.parent / row["ID"]
            expected = folder / row["output1"] if row.get("output1") else None
            cases.append(Case(id=row["ID"], folder=folder, mapping=folder / row["mapping"], expected=expected,
                              expects_error=row["error"].strip().lower() == "true",
                              base_iri=row.get("base_iri") or "http://example.com/base/"))
    return cases


def _graphs(dataset: Dataset) -> dict[str, Graph]:
    graphs = {}
    for graph in dataset.graphs():
        if len(graph):
            graphs[str(graph.identifier)] = graph
    return graphs


def run_case(case: Case, database: str | None = None) -> str | None:
    """None when the engine's behaviour matches the case, else what differs; ``database`` is the one
    R2RML logical tables read.

    An empty or missing expected output means "an error or an empty graph" (the legacy suite marks
    several error cases only that way)."""
    empty_expected = case.expected is None or not case.expected.is_file() or not case.expected.read_text().strip()
    error_allowed = case.expects_error or empty_expected
    try:
        records = list(lift(load_mapping(case.mapping, database=database), case.base_iri))
    except CityKGError as error:
        return None if error_allowed else f"unexpected error: {error}"
    # A bad record is the engine's to report (the pipeline quarantines it); it makes no statements,
    # which is what the suites expect of "data errors, limited results".
    errors = [r.error for r in records if r.error]
    if case.expects_error:
        return None if errors else "expected an error, got output"
    if errors and empty_expected:
        return None
    produced = Dataset()
    text = "\n".join([*(t for r in records for t in r.triples), *(q for r in records for q in r.quads)])
    produced.parse(data=text, format="nquads")
    expected = Dataset()
    if case.expected is not None and case.expected.is_file():
        expected.parse(case.expected, format="nquads")
    mine, theirs = _graphs(produced), _graphs(expected)
    if set(mine) != set(theirs):
        return f"graphs differ: produced {sorted(mine)}, expected {sorted(theirs)}"
    for name, graph in theirs.items():
        if not isomorphic(graph, mine[name]):
            return f"graph {name} differs: {len(mine[name])} triples produced, {len(graph)} expected"
    return None


LEGACY_BASE = "http://example.com/base/"


def read_legacy_cases(root: Path, formats: tuple[str, ...] = ("CSV", "JSON", "XML")) -> list[Case]:
    """The legacy suite's file-based cases: one folder per case, errors from metadata.csv."""
    with (root / "metadata.csv").open(encoding="utf-8") as handle:
        errors = {row["RML id"]: row["error expected?"].strip().lower() == "true" for row in csv.DictReader(handle)}
    cases = []
    for folder in sorted((root / "test-cases").iterdir()):
        if folder.is_dir() and folder.name.rsplit("-", 1)[-1] in formats:
            expected = folder / "output.nq"
            cases.append(Case(id=folder.name, folder=folder, mapping=folder / "mapping.ttl",
                              expected=expected if expected.is_file() else None,
                              expects_error=errors.get(folder.name, False), base_iri=LEGACY_BASE))
    return cases


def check_case(suite: str, case: Case, known_failures: Mapping[str, str], request: pytest.FixtureRequest,
               database: str | None = None) -> None:
    """Run a case as a test: tallied for the suite's closing line; a known failure is a strict xfail
    (with its reason), so it turns red the day it starts passing."""
    if case.id in known_failures:
        request.applymarker(pytest.mark.xfail(strict=True, reason=known_failures[case.id]))
    problem = run_case(case, database)
    record(suite, case.id, problem)
    assert problem is None, problem
