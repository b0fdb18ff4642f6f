"""Ontology reasoning: consistency and classification of the ontology itself with HermiT
(through owlready2; HermiT needs Java).

HermiT accepts only the OWL 2 datatype map; xsd:date and geo:wktLiteral are outside it, so they
are ignored for this check (they constrain data values, not the class hierarchy).
"""

from __future__ import annotations

import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

from rdflib import OWL, Graph

from kg_service.errors import OntologyError


@dataclass(frozen=True)
class TBoxReport:
    consistent: bool
    unsatisfiable: list[str] = field(default_factory=list)  # IRIs of classes equivalent to owl:Nothing
    seconds: float = 0.0
    detail: str = ""

    @property
    def ok(self) -> bool:
        return self.consistent and not self.unsatisfiable


def check_ontology(ontology: Graph) -> TBoxReport:
    """Run HermiT over the ontology: is it consistent, and is every class satisfiable?"""
    import owlready2

    merged = Graph()
    merged += ontology
    merged.remove((None, OWL.imports, None))  # imports are already merged; owlready2 would fetch them
    started = time.perf_counter()
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
            return TBoxReport(consistent=False, seconds=time.perf_counter() - started, detail=str(error))
        except owlready2.OwlReadyJavaError as error:
            raise OntologyError(f"HermiT failed: {str(error).strip().splitlines()[-1]}",
                                hint="HermiT needs Java 17 or later on PATH") from error
        unsatisfiable = sorted(str(cls.iri) for cls in world.inconsistent_classes() if cls is not owlready2.Nothing)
    return TBoxReport(consistent=True, unsatisfiable=unsatisfiable, seconds=time.perf_counter() - started)
