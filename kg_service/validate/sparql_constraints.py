"""SPARQL-based constraints of node shapes (https://www.w3.org/TR/shacl/#sparql-constraints),
evaluated by Oxigraph.

pyshacl runs such a constraint once per focus node through rdflib's SPARQL engine, a few
milliseconds each: on the flow readings that was more than four fifths of the gate's time. Here a
constraint is one Oxigraph query over all its focus nodes (``$this`` left free, the solutions kept for
the shape's targets), or, for a handful of focus nodes, one query per node with ``$this``
pre-bound as the specification says. Every other constraint stays with pyshacl. A test checks that
both engines give the same findings for the ontology's shapes.
"""

from __future__ import annotations

import re
from collections.abc import Collection
from dataclasses import dataclass

import pyoxigraph as ox
from rdflib import OWL, RDF, RDFS, Graph, URIRef
from rdflib.namespace import SH
from rdflib.term import Node

from kg_service.validate.findings import SEVERITIES, Finding

PRE_BIND_BELOW = 64  # fewer focus nodes than this: one pre-bound query each, not one for all


@dataclass(frozen=True)
class SparqlConstraint:
    shape: str  # the node shape (its IRI, or a blank node's label)
    query: str  # with its prefixes, ``$this`` written ``?this``
    message: str | None
    severity: str
    targets: str  # a SELECT of ?this: the shape's focus nodes


def split_shapes(shapes: Graph) -> tuple[Graph, list[SparqlConstraint]]:
    """The shapes with the SPARQL constraints of node shapes taken out (for pyshacl), and those constraints."""
    rest = Graph()
    rest += shapes
    constraints: list[SparqlConstraint] = []
    prefixes = "".join(f"PREFIX {shapes.value(d, SH.prefix)}: <{shapes.value(d, SH.namespace)}>\n"
                       for d in shapes.objects(None, SH.declare))
    for shape, constraint in shapes.subject_objects(SH.sparql):
        select = shapes.value(constraint, SH.select)
        if (shape, SH.path, None) in shapes or select is None or _deactivated(shapes, shape, constraint):
            continue  # property shapes ($PATH), ASK validators and deactivated ones stay with pyshacl
        rest.remove((shape, SH.sparql, constraint))
        severity = shapes.value(shape, SH.severity) or SH.Violation
        message = shapes.value(constraint, SH.message) or shapes.value(shape, SH.message)
        constraints.append(SparqlConstraint(
            shape=str(shape), query=prefixes + re.sub(r"\$this\b", "?this", str(select)),
            message=None if message is None else str(message),
            severity=SEVERITIES.get(URIRef(str(severity)), "Violation"), targets=_targets(shapes, shape)))
    return rest, constraints


def evaluate(constraints: list[SparqlConstraint], store: ox.Store, focus: Collection[str] | None
             ) -> list[Finding]:
    """Every constraint's findings over ``store`` (data and ontology in its default graph);
    only for ``focus`` (IRIs in N-Triples form) when given."""
    wanted = None if focus is None else {node[1:-1] for node in focus if node.startswith("<")}
    findings: set[Finding] = set()
    for constraint in constraints:
        rows = store.query(constraint.targets)
        assert isinstance(rows, ox.QuerySolutions)
        targets = {_text(row[0]) for row in rows}
        if wanted is not None:
            targets &= wanted
        if not targets:
            continue
        if len(targets) < PRE_BIND_BELOW:
            for node in sorted(targets):
                solutions = store.query(constraint.query, substitutions={ox.Variable("this"): ox.NamedNode(node)})
                assert isinstance(solutions, ox.QuerySolutions)
                findings.update(_finding(constraint, node, solutions.variables, s) for s in solutions)
            continue
        solutions = store.query(constraint.query)
        assert isinstance(solutions, ox.QuerySolutions)
        for solution in solutions:
            this = solution["this"]
            if this is not None and this.value in targets:
                findings.add(_finding(constraint, this.value, solutions.variables, solution))
    return list(findings)


def _finding(constraint: SparqlConstraint, focus: str, variables: list[ox.Variable],
             solution: ox.QuerySolution) -> Finding:
    bound = {variable.value: term.value for variable in variables if (term := solution[variable]) is not None}
    bound.setdefault("this", focus)
    message = constraint.message
    if message is not None:
        for name, text in bound.items():
            message = message.replace(f"{{?{name}}}", text).replace(f"{{${name}}}", text)
    return Finding(focus_node=focus, severity=constraint.severity, message=message or "does not conform",
                   path=bound.get("path"), value=bound.get("value", focus), shape=constraint.shape)


def _targets(shapes: Graph, shape: Node) -> str:
    """https://www.w3.org/TR/shacl/#targets as one SELECT of ?this."""
    parts = [f"{{ ?this a/<{RDFS.subClassOf}>* {cls.n3()} }}" for cls in shapes.objects(shape, SH.targetClass)]
    if (shape, RDF.type, RDFS.Class) in shapes or (shape, RDF.type, OWL.Class) in shapes:
        parts.append(f"{{ ?this a/<{RDFS.subClassOf}>* {shape.n3()} }}")  # an implicit class target
    parts += [f"{{ ?this {p.n3()} ?any }}" for p in shapes.objects(shape, SH.targetSubjectsOf)]
    parts += [f"{{ ?any {p.n3()} ?this }}" for p in shapes.objects(shape, SH.targetObjectsOf)]
    parts += [f"{{ VALUES ?this {{ {n.n3()} }} }}" for n in shapes.objects(shape, SH.targetNode)]
    return f"SELECT DISTINCT ?this WHERE {{ {' UNION '.join(parts) or 'FILTER (false)'} FILTER (isIRI(?this)) }}"


def _deactivated(shapes: Graph, *nodes: Node) -> bool:
    return any(str(shapes.value(node, SH.deactivated)).lower() == "true" for node in nodes)


def _text(term: object) -> str:
    return str(getattr(term, "value", term))
