"""The checks an ontology must pass before anything depends on it, and before an edit is written:
Turtle round trip of every module, HermiT consistency and no (new) unsatisfiable class, the
meta-shapes, and the competency questions."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from rdflib import Graph
from rdflib.compare import isomorphic

from kg_service.errors import CityKGError, OntologyError
from kg_service.ontology.loader import content_hash, load_ontology

META_SHAPES = Path("shapes") / "meta" / "ontology.ttl"


@dataclass(frozen=True)
class Baseline:
    """The ontology before an edit, and where its HermiT report is cached (the data directory)."""

    ontology_dir: Path
    cache_dir: Path


@dataclass(frozen=True)
class CheckResult:
    name: str
    passed: bool
    problems: list[str] = field(default_factory=list)
    summary: str = ""


def turtle_round_trip(ontology_dir: Path, ontology: Graph, baseline: Baseline | None = None) -> CheckResult:
    """Every module parses, and serialising it again gives the same graph."""
    problems = []
    modules = sorted(ontology_dir.glob("*.ttl")) + sorted((ontology_dir / "imports").glob("*.ttl"))
    for module in modules:
        try:
            graph = Graph().parse(module, format="turtle")
        except Exception as error:  # rdflib raises several unrelated types for bad Turtle
            problems.append(f"{module}: not valid Turtle: {error}")
            continue
        again = Graph().parse(data=graph.serialize(format="turtle"), format="turtle")
        if not isomorphic(graph, again):
            problems.append(f"{module}: does not survive a Turtle round trip")
    return CheckResult("Turtle round trip", not problems, problems, f"{len(modules)} modules")


def hermit(ontology_dir: Path, ontology: Graph, baseline: Baseline | None = None) -> CheckResult:
    """Consistent, and no unsatisfiable class; with a baseline (the ontology before an edit), no
    unsatisfiable class the baseline did not already have."""
    from kg_service.reason.tbox import check_ontology, checked_ontology

    report = check_ontology(ontology)
    if not report.consistent:
        return CheckResult("HermiT", False, [report.problem()])
    already: set[str] = set()
    if baseline is not None:  # the ontology before: reasoning has usually cached its classification already
        before = load_ontology(baseline.ontology_dir)
        cached = checked_ontology(before, content_hash(baseline.ontology_dir), baseline.cache_dir, keep=False)
        already = set(cached.unsatisfiable)
    problems = [f"unsatisfiable class {iri}" for iri in report.unsatisfiable if iri not in already]
    return CheckResult("HermiT", not problems, problems, f"consistent, classified in {report.seconds:.1f} s")


def meta_shapes(ontology_dir: Path, ontology: Graph, baseline: Baseline | None = None) -> CheckResult:
    from kg_service.validate import validate

    shapes = Graph().parse(ontology_dir / META_SHAPES)
    findings = validate(ontology, shapes, Graph()).findings
    problems = [f"{f.value or f.focus_node}: {f.message}" for f in findings]
    return CheckResult("meta-shapes", not problems, problems, "labels, definitions, subsystems")


def competency_questions(ontology_dir: Path, ontology: Graph, baseline: Baseline | None = None) -> CheckResult:
    from kg_service.ontology.competency import read_questions, wrong_answers

    try:
        problems = wrong_answers(ontology_dir, ontology)
    except CityKGError as error:
        problems = [str(error)]
    return CheckResult("competency questions", not problems, problems,
                       f"{len(read_questions(ontology_dir))} questions over the fixture city")


CHECKS: list[Callable[[Path, Graph, Baseline | None], CheckResult]] = [turtle_round_trip, hermit, meta_shapes,
                                                                   competency_questions]


def run_checks(ontology_dir: Path, baseline: Baseline | None = None) -> list[CheckResult]:
    """Every check, in order; ``baseline`` is the ontology before an edit, when checking one."""
    try:
        ontology = load_ontology(ontology_dir)
    except OntologyError as error:
        return [CheckResult("loading", False, [str(error)])]
    return [check(ontology_dir, ontology, baseline) for check in CHECKS]
