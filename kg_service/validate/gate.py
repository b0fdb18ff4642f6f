"""Run the ontology's data shapes over a graph with pyshacl and read the results back.

https://www.w3.org/TR/shacl/#validation-report. Violations keep an entity out of the store;
Warnings and Infos are committed and reported. A job validates its whole staged graph, or, when it
re-ingests a changed source, only the focus nodes the change can affect (``scope``, ``delta``).
"""

from __future__ import annotations

import logging
from collections.abc import Collection, Mapping
from functools import lru_cache
from typing import Any

import pyoxigraph as ox
from pyshacl import validate as shacl_validate
from rdflib import RDF, RDFS, Graph, URIRef
from rdflib.namespace import SH
from rdflib.plugins.sparql import prepareQuery
from rdflib.plugins.sparql.sparql import Query
from rdflib.query import Result
from rdflib.term import Node

from kg_service.errors import OntologyError
from kg_service.validate.findings import SEVERITIES, Finding, GateReport
from kg_service.validate.sparql_constraints import evaluate, split_shapes

__all__ = ["Finding", "Gate", "GateReport", "staging_graph", "validate"]

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


class Gate:
    """The ontology's data shapes, prepared once for a run's many validations: pyshacl gets the
    shapes without the SPARQL constraints of node shapes, which Oxigraph evaluates."""

    def __init__(self, shapes: Graph, ontology: Graph) -> None:
        self.core_shapes, self.sparql_constraints = split_shapes(shapes)
        self.ontology = ontology
        self._ontology_triples = ontology.serialize(format="nt", encoding="utf-8")
        # pyshacl copies its ontology into every data graph it validates; the core constraints read
        # only which classes there are and how they nest, so it gets just that.
        self._class_hierarchy = Graph()
        for predicate in (RDF.type, RDFS.subClassOf):
            for triple in ontology.triples((None, predicate, None)):
                self._class_hierarchy.add(triple)

    def validate(self, data: Graph, focus: Collection[str] | None = None, data_text: str | None = None
                 ) -> GateReport:
        """Validate ``data``; with ``focus`` (IRIs in N-Triples form) only those of the shapes' targets.
        ``data_text`` is ``data`` as N-Triples when the caller has it (it saves serialising it again).

        ``data`` is left as it is: pyshacl works on a copy, into which it mixes the ontology."""
        if focus is not None and not focus:
            return GateReport()
        # pyshacl's own focus_nodes option also drops the value nodes of nested shapes (sh:or,
        # sh:node) that are not focus nodes themselves, so an sh:or over them always passes: the
        # graph given is already cut down to what the focus nodes reach, and findings are kept
        # for the focus nodes afterwards instead.
        findings = self._core_findings(data)
        if self.sparql_constraints:
            store = ox.Store()
            store.load(self._ontology_triples, ox.RdfFormat.N_TRIPLES)
            text = data_text if data_text is not None else data.serialize(format="nt", encoding="utf-8")
            if text:
                store.load(text, ox.RdfFormat.N_TRIPLES)
            findings += evaluate(self.sparql_constraints, store, focus)
        if focus is not None:
            wanted = {node[1:-1] for node in focus}
            findings = [f for f in findings if f.focus_node in wanted]
        return GateReport(findings=sorted(set(findings), key=lambda f: (f.focus_node, f.path or "", f.message,
                                                                         f.value or "", f.shape or "")))

    def _core_findings(self, data: Graph) -> list[Finding]:
        working = _PreparedQueryGraph()
        working += data
        try:
            _, results, text = shacl_validate(working, shacl_graph=self.core_shapes, ont_graph=self._class_hierarchy,
                                              inference="none", inplace=True, allow_warnings=True,
                                              allow_infos=True, abort_on_first=False)
        except Exception as error:  # pyshacl reports broken shapes with its own exception types
            raise OntologyError(f"the data shapes cannot be used: {error}", where="ontology/shapes") from error
        if not isinstance(results, Graph):  # pyshacl returns a failure instead of a report for broken shapes
            raise OntologyError(f"the data shapes cannot be used: {str(text).strip().splitlines()[-1]}",
                                where="ontology/shapes")
        return _findings(results)


def validate(data: Graph, shapes: Graph, ontology: Graph, focus: Collection[str] | None = None) -> GateReport:
    """Validate ``data`` against ``shapes`` once; the ontology supplies the class hierarchy for targets."""
    return Gate(shapes, ontology).validate(data, focus)


def staging_graph(text: str) -> Graph:
    """N-Triples parsed for the gate. An ill-typed literal (a date that is no date) is the gate's
    to report, per record and in words, so rdflib's own warning about it is not printed."""
    graph = Graph()
    if text:
        quiet = logging.getLogger("rdflib.term")
        level = quiet.level
        quiet.setLevel(logging.ERROR)
        try:
            graph.parse(data=text, format="nt")
        finally:
            quiet.setLevel(level)
    return graph


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
