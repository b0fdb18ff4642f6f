"""Run the ontology's data shapes over a graph with pyshacl and read the results back.

https://www.w3.org/TR/shacl/#validation-report. Violations keep an entity out of the store;
Warnings and Infos are committed and reported. A job validates its whole staged graph, or, when it
re-ingests a changed source, only the focus nodes the change can affect (``scope``, ``delta``).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Collection, Mapping
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any

from pyshacl import validate as shacl_validate
from rdflib import Graph, URIRef
from rdflib.namespace import SH
from rdflib.plugins.sparql import prepareQuery
from rdflib.plugins.sparql.sparql import Query
from rdflib.query import Result
from rdflib.term import Node

from kg_service.errors import OntologyError

SEVERITIES = {SH.Violation: "Violation", SH.Warning: "Warning", SH.Info: "Info"}


@dataclass(frozen=True)
class Finding:
    """One SHACL validation result, in plain values."""

    focus_node: str
    severity: str
    message: str
    path: str | None = None
    value: str | None = None
    shape: str | None = None  # the result's sh:sourceShape (a property shape may be a blank node)

    def describe(self) -> str:
        where = f"{self.path.rsplit('#', 1)[-1]}: " if self.path else ""
        value = f" (value {self.value!r})" if self.value is not None else ""
        return f"{self.severity}: {where}{self.message}{value}"


@dataclass
class GateReport:
    findings: list[Finding] = field(default_factory=list)

    @property
    def conforms(self) -> bool:
        return not any(f.severity == "Violation" for f in self.findings)

    def by_focus_node(self, severity: str) -> dict[str, list[Finding]]:
        grouped: dict[str, list[Finding]] = defaultdict(list)
        for finding in self.findings:
            if finding.severity == severity:
                grouped[finding.focus_node].append(finding)
        return dict(grouped)

    def count(self, severity: str) -> int:
        return sum(1 for f in self.findings if f.severity == severity)


class _PreparedQueryGraph(Graph):
    """A graph that parses each SPARQL text once.

    pyshacl runs a SPARQL-based constraint once per focus node, with the same text and only
    ``$this`` bound differently, and rdflib parses a text on every call: on the sample city that
    parsing was most of the gate's time.
    """

    def query(self, query_object: str | Query, processor: Any = "sparql", result: Any = "sparql",
              initNs: Mapping[str, Any] | None = None, initBindings: Mapping[str, Any] | None = None,
              use_store_provided: bool = True, **kwargs: Any) -> Result:
        if isinstance(query_object, str) and not initNs:
            query_object = _prepared(query_object)
        return super().query(query_object, processor, result, initNs, initBindings, use_store_provided, **kwargs)


@lru_cache(maxsize=512)
def _prepared(text: str) -> Query:
    return prepareQuery(text)


def validate(data: Graph, shapes: Graph, ontology: Graph, focus: Collection[str] | None = None) -> GateReport:
    """Validate ``data`` against ``shapes``; the ontology supplies the class hierarchy for targets.
    With ``focus`` (IRIs in N-Triples form), only those of the shapes' targets are validated.

    ``data`` is left as it is: pyshacl works on a copy, into which it mixes the ontology."""
    focus_nodes: list[str | URIRef] | None = (
        None if focus is None else [URIRef(node[1:-1]) for node in focus if node.startswith("<")])
    if focus_nodes == []:  # pyshacl reads an empty list as "every focus node"
        return GateReport()
    working = _PreparedQueryGraph()
    working += data
    try:
        _, results, text = shacl_validate(working, shacl_graph=shapes, ont_graph=ontology, inference="none",
                                          inplace=True, allow_warnings=True, allow_infos=True,
                                          abort_on_first=False, focus_nodes=focus_nodes)
    except Exception as error:  # pyshacl reports broken shapes with its own exception types
        raise OntologyError(f"the data shapes cannot be used: {error}", where="ontology/shapes") from error
    if not isinstance(results, Graph):  # pyshacl returns a failure instead of a report for broken shapes
        raise OntologyError(f"the data shapes cannot be used: {str(text).strip().splitlines()[-1]}",
                            where="ontology/shapes")
    return GateReport(findings=sorted(_findings(results), key=lambda f: (f.focus_node, f.path or "", f.message)))


def _findings(results: Graph) -> list[Finding]:
    findings = []
    for result, severity in results.subject_objects(SH.resultSeverity):
        def one(predicate: URIRef, node: Node = result) -> str | None:
            value = results.value(node, predicate)
            return None if value is None else str(value)

        component = one(SH.sourceConstraintComponent)
        findings.append(Finding(
            focus_node=one(SH.focusNode) or "",
            severity=SEVERITIES.get(URIRef(str(severity)), "Violation"),
            message=one(SH.resultMessage) or (f"breaks {component.rsplit('#', 1)[-1]}" if component
                                              else "does not conform"),
            path=one(SH.resultPath),
            value=one(SH.value),
            shape=one(SH.sourceShape),
        ))
    return findings
