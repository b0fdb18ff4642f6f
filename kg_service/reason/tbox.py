"""Ontology reasoning: consistency and classification of the ontology itself with HermiT
(through owlready2; HermiT needs Java).

HermiT accepts only the OWL 2 datatype map; xsd:date and geo:wktLiteral are outside it, so they
are ignored for this check (they constrain data values, not the class hierarchy).

HermiT takes seconds, and the ontology changes far less often than data is reasoned over, so
``checked_ontology`` keeps the last report in a small JSON file under the data directory, keyed by
the ontology's content hash (and the owlready2 version, which ships HermiT), and runs HermiT only
for an ontology it has not checked.
"""

from __future__ import annotations

import json
import os
import tempfile
import time
from dataclasses import asdict, dataclass, field
from importlib.metadata import version
from pathlib import Path
from typing import Any

from rdflib import OWL, RDF, RDFS, Graph

from kg_service.errors import DataDirError, OntologyError

REPORT_FILE = "ontology-check.json"


@dataclass(frozen=True)
class TBoxReport:
    consistent: bool
    unsatisfiable: list[str] = field(default_factory=list)  # IRIs of classes equivalent to owl:Nothing
    seconds: float = 0.0  # how long HermiT took, when it ran (a cached report keeps the time it took then)
    detail: str = ""
    cached: bool = False  # read back from an earlier check of the same ontology, HermiT not run

    @property
    def ok(self) -> bool:
        return self.consistent and not self.unsatisfiable

    def problem(self) -> str:
        """What is wrong, in one line; empty when nothing is."""
        classes = f"unsatisfiable classes (equivalent to owl:Nothing): {', '.join(self.unsatisfiable)}"
        if self.consistent:
            return classes if self.unsatisfiable else ""
        inconsistent = "the ontology is inconsistent" + (f" ({self.detail.strip()})" if self.detail.strip() else "")
        if self.unsatisfiable:
            return f"{inconsistent}; without its individuals, {classes}"
        return f"{inconsistent}; every class is satisfiable without its individuals, so look at their statements"


def checked_ontology(ontology: Graph, content_hash: str, cache_dir: Path, *, keep: bool = True) -> TBoxReport:
    """``check_ontology``'s report for this ontology, from ``cache_dir`` when the same content hash was
    checked before; otherwise HermiT runs and its report is stored for next time (unless not ``keep``:
    a check that must leave the disk as it found it).

    An inconsistent or unsatisfiable result is returned, not raised: the caller decides to refuse."""
    path = cache_dir / REPORT_FILE
    key = {"content_hash": content_hash, "checker": _checker()}
    stored = _read_report(path, key)
    if stored is not None:
        return stored
    report = check_ontology(ontology)
    if keep:
        _write_report(path, key, report)
    return report


def _checker() -> str:
    return f"owlready2 {version('owlready2')}"


def _read_report(path: Path, key: dict[str, str]) -> TBoxReport | None:
    """The stored report if it is for ``key``; a missing, unreadable or foreign file is no report."""
    try:
        stored: Any = json.loads(path.read_text(encoding="utf-8"))
        if not isinstance(stored, dict) or any(stored.get(name) != value for name, value in key.items()):
            return None
        fields = stored["report"]
        return TBoxReport(consistent=bool(fields["consistent"]),
                          unsatisfiable=[str(iri) for iri in fields["unsatisfiable"]],
                          seconds=float(fields["seconds"]), detail=str(fields["detail"]), cached=True)
    except (OSError, ValueError, KeyError, TypeError):
        return None


def _write_report(path: Path, key: dict[str, str], report: TBoxReport) -> None:
    """Written beside and renamed over, so a reader never sees half a file."""
    fields = asdict(report)
    del fields["cached"]
    partial = path.with_name(f".{path.name}.{os.getpid()}")
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        partial.write_text(json.dumps({**key, "report": fields}, ensure_ascii=False, indent=1), encoding="utf-8")
        os.replace(partial, path)
    except OSError as error:
        raise DataDirError(f"cannot store the ontology check: {error.strerror}", where=str(path),
                           hint="set CITYKG_DATA_DIR (or data_dir in citykg.toml) to a writable folder") from error


def check_ontology(ontology: Graph) -> TBoxReport:
    """Run HermiT over the ontology: is it consistent, and is every class satisfiable?

    An inconsistent ontology has no classification to ask about, so HermiT then classifies the
    ontology without its individuals: the classes unsatisfiable there are the usual cause (an
    individual of a class under two disjoint classes), and the report names them."""
    started = time.perf_counter()
    outcome = _hermit(ontology)
    if isinstance(outcome, _Inconsistent):
        without_individuals = _hermit(_classes_only(ontology))
        unsatisfiable = [] if isinstance(without_individuals, _Inconsistent) else without_individuals
        return TBoxReport(consistent=False, unsatisfiable=unsatisfiable, seconds=time.perf_counter() - started,
                          detail=outcome.detail)
    return TBoxReport(consistent=True, unsatisfiable=outcome, seconds=time.perf_counter() - started)


@dataclass(frozen=True)
class _Inconsistent:
    detail: str


def _hermit(ontology: Graph) -> list[str] | _Inconsistent:
    """The IRIs of the unsatisfiable classes, sorted, or what HermiT said when it found no model at all."""
    import owlready2

    merged = Graph()
    merged += ontology
    merged.remove((None, OWL.imports, None))  # imports are already merged; owlready2 would fetch them
    with tempfile.TemporaryDirectory() as workdir:
        path = Path(workdir) / "ontology.nt"
        merged.serialize(path, format="nt", encoding="utf-8")
        world = owlready2.World()
        try:
            loaded = world.get_ontology(path.as_uri()).load()
            with loaded:
                owlready2.sync_reasoner_hermit(world, infer_property_values=False, debug=0,
                                               ignore_unsupported_datatypes=True)
        except owlready2.OwlReadyInconsistentOntologyError as error:
            return _Inconsistent(str(error))
        except owlready2.OwlReadyJavaError as error:
            raise OntologyError(f"HermiT failed: {str(error).strip().splitlines()[-1]}",
                                hint="HermiT needs Java 17 or later on PATH") from error
        return sorted(str(cls.iri) for cls in world.inconsistent_classes() if cls is not owlready2.Nothing)


def _classes_only(ontology: Graph) -> Graph:
    """The ontology less every statement about an individual (a subject typed owl:NamedIndividual or
    typed by a class that is not part of the RDF, RDFS and OWL vocabularies)."""
    built_in = (str(RDF), str(RDFS), str(OWL))
    individuals = {subject for subject, kind in ontology.subject_objects(RDF.type)
                   if kind == OWL.NamedIndividual or not str(kind).startswith(built_in)}
    kept = Graph()
    for triple in ontology:
        if triple[0] not in individuals:
            kept.add(triple)
    return kept
