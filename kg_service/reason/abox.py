"""Data reasoning with OWL 2 RL (https://www.w3.org/TR/owl2-profiles/#OWL_2_RL), by ``reasonable``.

``reasonable`` leaves out rule prp-spo2 (``owl:propertyChainAxiom``), which the ontology relies
on to place a thing located in a community in its subdistrict, district and city. That one rule is
applied here, alternating with the reasoner until neither adds anything.

Only facts about data entities that nobody asserted are kept: statements about the ontology's own
terms, the trivial ``rdf:type owl:Thing`` and ``x owl:sameAs x``, and types that are anonymous
restriction classes stay out of the inferred graph.
"""

from __future__ import annotations

from collections.abc import Iterator

import reasonable
from rdflib import OWL, RDF, RDFS, XSD, BNode, Graph, Literal
from rdflib.collection import Collection
from rdflib.term import Node

_BUILT_IN_VOCABULARIES = (str(RDF), str(RDFS), str(OWL), str(XSD))
Triple = tuple[Node, Node, Node]


def infer(ontology: Graph, data: Graph) -> Graph:
    """The triples OWL 2 RL entails from ``ontology`` and ``data`` that neither asserts."""
    entailed = closure(ontology, data)
    ontology_terms = set(ontology.subjects())
    inferred = Graph()
    for triple in entailed:
        # asked of each graph rather than of a merged copy: on a large city that copy cost gigabytes
        if triple not in data and triple not in ontology and _worth_keeping(triple, ontology_terms):
            inferred.add(triple)
    return inferred


def closure(ontology: Graph, data: Graph) -> Graph:
    """Everything OWL 2 RL (with prp-spo2) entails from ``ontology`` and ``data``, asserted triples included.

    The rules draw no line between schema and data, so the split only matters to ``infer``'s filter;
    property chains are read from the whole closure, wherever they are declared. Kept apart from
    ``infer`` so that consistency checks and the conformance suite see the very closure the pipeline uses."""
    entailed = Graph()
    entailed += ontology
    entailed += data
    while True:
        reasoner = reasonable.PyReasoner()
        reasoner.from_graph(entailed)
        for subject, predicate, obj in reasoner.reason():
            entailed.add((subject, predicate, _plain(obj)))
        added = [triple for triple in _apply_chains(entailed, _property_chains(entailed)) if triple not in entailed]
        if not added:
            return entailed
        for triple in added:
            entailed.add(triple)


def _property_chains(graph: Graph) -> list[tuple[Node, list[Node]]]:
    """(property, [p1, p2, ...]) for every ``property owl:propertyChainAxiom (p1 p2 ...)``."""
    return [(prop, list(Collection(graph, chain)))
            for prop, chain in graph.subject_objects(OWL.propertyChainAxiom)]


def _apply_chains(graph: Graph, chains: list[tuple[Node, list[Node]]]) -> Iterator[Triple]:
    """Rule prp-spo2: x p1 y1 ... yn-1 pn z  =>  x p z."""
    for prop, steps in chains:
        if not steps:
            continue
        frontier = [(x, y) for x, y in graph.subject_objects(steps[0])]
        for step in steps[1:]:
            frontier = [(x, z) for x, y in frontier for z in graph.objects(y, step)]
        for x, z in frontier:
            yield (x, prop, z)


def _worth_keeping(triple: Triple, ontology_terms: set[Node]) -> bool:
    subject, predicate, obj = triple
    if subject in ontology_terms or str(subject).startswith(_BUILT_IN_VOCABULARIES):
        return False
    if predicate == RDF.type and (obj == OWL.Thing or isinstance(obj, BNode)):
        return False
    return not (predicate == OWL.sameAs and subject == obj)


def _plain(term: Node) -> Node:
    """RDF 1.1 makes "x"^^xsd:string and "x" one literal; rdflib does not, so compare them as one."""
    if isinstance(term, Literal) and term.datatype == XSD.string:
        return Literal(str(term))
    return term
