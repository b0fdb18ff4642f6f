"""The two RML vocabularies CityKG reads, mapped onto one internal model.

RML-Core (https://w3id.org/rml/core/spec) uses ``rml:`` = ``http://w3id.org/rml/`` for everything;
the older RML uses ``rr:`` (R2RML) for term maps and ``rml:`` = semweb.mmlab.be for sources.
Every lookup tries RML-Core first, then the legacy terms of the same local name.
"""

from __future__ import annotations

from rdflib import Namespace, URIRef

RML = Namespace("http://w3id.org/rml/")
RML_LEGACY = Namespace("http://semweb.mmlab.be/ns/rml#")
RR = Namespace("http://www.w3.org/ns/r2rml#")
QL = Namespace("http://semweb.mmlab.be/ns/ql#")
CSVW = Namespace("http://www.w3.org/ns/csvw#")
FNML = Namespace("http://semweb.mmlab.be/ns/fnml#")  # legacy RML-FNML, what YARRRML translates to


def candidates(local_name: str) -> tuple[URIRef, ...]:
    """The IRIs a term of this local name may have, RML-Core first."""
    return (RML[local_name], RR[local_name], RML_LEGACY[local_name])


TRIPLES_MAP_CLASSES = candidates("TriplesMap")
IRI_TERM_TYPES = {RML.IRI, RR.IRI}
URI_TERM_TYPES = {RML.URI}
UNSAFE_IRI_TERM_TYPES = {RML.UnsafeIRI}
BLANK_NODE_TERM_TYPES = {RML.BlankNode, RR.BlankNode}
CSV_FORMULATIONS = {QL.CSV, RML.CSV}
JSON_FORMULATIONS = {QL.JSONPath, RML.JSONPath}
XML_FORMULATIONS = {QL.XPath, RML.XPath}

ENCODINGS = {RML["UTF-8"]: "utf-8-sig", RML["UTF-16"]: "utf-16"}
COMPRESSIONS = {RML.gzip: "gzip", RML.zip: "zip", RML.targz: "targz", RML.tarxz: "tarxz", RML.none: None}
