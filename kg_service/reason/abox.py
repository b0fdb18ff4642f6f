"""Data reasoning with OWL 2 RL (https://www.w3.org/TR/owl2-profiles/#OWL_2_RL), by ``reasonable``.

Only facts about data entities that nobody asserted are kept: statements about the ontology's own
terms, and the trivial ``rdf:type owl:Thing``, stay out of the inferred graph.
"""

from __future__ import annotations

import reasonable
from rdflib import OWL, RDF, RDFS, XSD, Graph, Literal
from rdflib.term import Node

_BUILT_IN_VOCABULARIES = (str(RDF), str(RDFS), str(OWL), str(XSD))


def infer(ontology: Graph, data: Graph) -> Graph:
    """The triples OWL 2 RL entails from ``ontology`` and ``data`` that neither asserts."""
    combined = Graph()
    combined += ontology
    combined += data
    reasoner = reasonable.PyReasoner()
    reasoner.from_graph(combined)
    ontology_terms = set(ontology.subjects())
    inferred = Graph()
    for subject, predicate, obj in reasoner.reason():
        triple = (subject, predicate, _plain(obj))
        if (subject in ontology_terms or str(subject).startswith(_BUILT_IN_VOCABULARIES)
                or (predicate == RDF.type and obj == OWL.Thing) or triple in combined):
            continue
        inferred.add(triple)
    return inferred


def _plain(term: Node) -> Node:
    """RDF 1.1 makes "x"^^xsd:string and "x" one literal; rdflib does not, so compare them as one."""
    if isinstance(term, Literal) and term.datatype == XSD.string:
        return Literal(str(term))
    return term
