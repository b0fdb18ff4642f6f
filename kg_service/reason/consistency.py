"""Inconsistency detection: the OWL 2 RL rules whose head is ``false``, applied to a closure.

``reasonable`` evaluates some of these rules (cax-dw, cls-com, cls-nothing2, prp-irp, prp-asyp,
prp-pdw) but keeps what it finds to itself: its Python binding (0.4.4) returns triples only. So each
rule is asked here as SPARQL over the closure that ``kg_service.reason.abox.closure`` computes, and
every clash comes back as one readable reason naming the rule and the nodes, which is what a caller
refusing inconsistent data has to show. Rule names follow https://www.w3.org/TR/owl2-profiles/#OWL_2_RL.

The closure lacks rule eq-ref (``x owl:sameAs x``), so clashes with the same node on both sides
(``x owl:differentFrom x``, a list naming one member twice) are matched directly as well.
"""

from __future__ import annotations

import re
import xml.dom.minidom
from collections.abc import Iterator
from decimal import Decimal, InvalidOperation
from xml.parsers.expat import ExpatError

from rdflib import OWL, RDF, RDFS, XSD, Graph, Literal
from rdflib.query import ResultRow
from rdflib.term import Node

__all__ = ["inconsistencies"]

_PREFIXES = """PREFIX owl: <http://www.w3.org/2002/07/owl#>
PREFIX rdf: <http://www.w3.org/1999/02/22-rdf-syntax-ns#>
"""
# Two members of an RDF list at distinct positions: ?a before ?b.
_PAIR_IN = "?{list} rdf:rest* ?cell . ?cell rdf:first ?a ; rdf:rest+/rdf:first ?b ."
_SAME = "(sameTerm(?{0}, ?{1}) || EXISTS {{ ?{0} owl:sameAs ?{1} }} || EXISTS {{ ?{1} owl:sameAs ?{0} }})"

# (rule, SPARQL SELECT, message with the selected variables in braces)
_RULES: tuple[tuple[str, str, str], ...] = (
    ("eq-diff1", "SELECT DISTINCT ?x ?y { ?x owl:differentFrom ?y . FILTER " + _SAME.format("x", "y") + " }",
     "{x} is declared different from {y}, yet they are the same individual"),
    ("eq-diff2/3", "SELECT DISTINCT ?a ?b ?d { ?d a owl:AllDifferent ; owl:members|owl:distinctMembers ?list . "
     + _PAIR_IN.format(list="list") + " FILTER " + _SAME.format("a", "b") + " }",
     "{a} and {b} are members of the owl:AllDifferent {d}, yet they are the same individual"),
    ("prp-irp", "SELECT DISTINCT ?x ?p { ?p a owl:IrreflexiveProperty . ?x ?p ?x }",
     "{x} {p} {x}, but {p} is irreflexive"),
    ("prp-asyp", "SELECT DISTINCT ?x ?p ?y { ?p a owl:AsymmetricProperty . ?x ?p ?y . ?y ?p ?x }",
     "{x} {p} {y} and back, but {p} is asymmetric"),
    ("prp-pdw", "SELECT DISTINCT ?x ?y ?p1 ?p2 { ?p1 owl:propertyDisjointWith ?p2 . ?x ?p1 ?y . ?x ?p2 ?y }",
     "{x} is linked to {y} by both {p1} and {p2}, which are disjoint properties"),
    ("prp-adp", "SELECT DISTINCT ?x ?y ?a ?b ?d { ?d a owl:AllDisjointProperties ; owl:members ?list . "
     + _PAIR_IN.format(list="list") + " ?x ?a ?y . ?x ?b ?y }",
     "{x} is linked to {y} by both {a} and {b}, members of the owl:AllDisjointProperties {d}"),
    ("prp-npa1", "SELECT DISTINCT ?s ?p ?o ?n { ?n owl:sourceIndividual ?s ; owl:assertionProperty ?p ; "
     "owl:targetIndividual ?o . ?s ?p ?o }",
     "{s} {p} {o} holds, but the negative property assertion {n} denies it"),
    ("prp-npa2", "SELECT DISTINCT ?s ?p ?o ?n { ?n owl:sourceIndividual ?s ; owl:assertionProperty ?p ; "
     "owl:targetValue ?o . ?s ?p ?o }",
     "{s} {p} {o} holds, but the negative property assertion {n} denies it"),
    ("cls-nothing2", "SELECT DISTINCT ?x { ?x a owl:Nothing }",
     "{x} is an instance of owl:Nothing"),
    ("cls-com", "SELECT DISTINCT ?x ?c1 ?c2 { ?c1 owl:complementOf ?c2 . ?x a ?c1 , ?c2 }",
     "{x} is an instance of both {c1} and its complement {c2}"),
    ("cls-maxc1", "SELECT DISTINCT ?x ?p ?y ?r { ?r owl:maxCardinality ?n ; owl:onProperty ?p . "
     "FILTER (str(?n) = \"0\") ?x a ?r ; ?p ?y }",
     "{x} {p} {y}, but {x} is an instance of {r}, which allows no {p} at all"),
    ("cls-maxqc1/2", "SELECT DISTINCT ?x ?p ?y ?r { ?r owl:maxQualifiedCardinality ?n ; owl:onProperty ?p ; "
     "owl:onClass ?c . FILTER (str(?n) = \"0\") ?x a ?r ; ?p ?y . "
     "FILTER (?c = owl:Thing || EXISTS { ?y a ?c }) }",
     "{x} {p} {y}, but {x} is an instance of {r}, which allows no such {p}"),
    ("cax-dw", "SELECT DISTINCT ?x ?c1 ?c2 { ?c1 owl:disjointWith ?c2 . ?x a ?c1 , ?c2 }",
     "{x} is an instance of both {c1} and {c2}, which are disjoint classes"),
    ("cax-adc", "SELECT DISTINCT ?x ?a ?b ?d { ?d a owl:AllDisjointClasses ; owl:members ?list . "
     + _PAIR_IN.format(list="list") + " ?x a ?a , ?b }",
     "{x} is an instance of both {a} and {b}, members of the owl:AllDisjointClasses {d}"),
)


def inconsistencies(closure: Graph) -> list[str]:
    """One reason per clash found in ``closure`` (rule, then the nodes involved); empty when consistent.

    ``closure`` must already hold everything entailed (``abox.closure``): the rules here only look for
    contradictions, they derive nothing."""
    reasons = []
    for rule, query, message in _RULES:
        result = closure.query(_PREFIXES + query)
        for row in result:
            assert isinstance(row, ResultRow)
            names = {str(var): _show(value) for var, value in row.asdict().items()}
            reasons.append(f"{rule}: {message.format(**names)}")
    reasons.extend(f"dt-not-type: {reason}" for reason in _datatype_clashes(closure))
    return sorted(set(reasons))


def _show(node: Node) -> str:
    return node.n3()


# --- dt-not-type ------------------------------------------------------------------------------------

_LANGUAGE = r"[a-zA-Z]{1,8}(-[a-zA-Z0-9]{1,8})*"
_NAME_START = r"A-Za-z_\u00C0-\u02FF\u0370-\u1FFF\u2C00-\uD7FF\uF900-\uFFFD"
_NAME_CHAR = _NAME_START + r"\-.0-9\u00B7\u0300-\u036F\u203F-\u2040"
_DATE_TIME = r"-?\d{4,}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?"
_TIMEZONE = r"(Z|[+-]\d\d:\d\d)"
_FLOATING = r"[+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?|[+-]?INF|NaN"
_INTEGER = r"[+-]?\d+"

# Lexical forms of the OWL 2 RL datatype map, as patterns over the whole literal.
_LEXICAL: dict[str, str] = {
    str(XSD.boolean): r"true|false|1|0",
    str(XSD.decimal): r"[+-]?(\d+(\.\d*)?|\.\d+)",
    str(XSD.double): _FLOATING,
    str(XSD.float): _FLOATING,
    str(XSD.string): r"[^\x00]*",
    str(XSD.normalizedString): r"[^\r\n\t]*",
    str(XSD.token): r"([^\s]+( [^\s]+)*)?",
    str(XSD.language): _LANGUAGE,
    str(XSD.Name): f"[{_NAME_START}:][{_NAME_CHAR}:]*",
    str(XSD.NCName): f"[{_NAME_START}][{_NAME_CHAR}]*",
    str(XSD.NMTOKEN): f"[{_NAME_CHAR}:]+",
    str(XSD.anyURI): r"([A-Za-z][A-Za-z0-9+.\-]*:[^\s<>\"{}|\\^`]*|[^\s<>\"{}|\\^`:/?#]*([/?#][^\s<>\"{}|\\^`]*)?)",
    str(XSD.hexBinary): r"([0-9a-fA-F]{2})*",
    str(XSD.base64Binary): r"(([A-Za-z0-9+/] ?){4})*(([A-Za-z0-9+/] ?){2}([AEIMQUYcgkosw048] ?)=|"
                           r"[A-Za-z0-9+/] ?[AQgw] ?= ?=)?",
    str(XSD.dateTime): _DATE_TIME + _TIMEZONE + "?",
    str(XSD.dateTimeStamp): _DATE_TIME + _TIMEZONE,
    str(RDF.PlainLiteral): f"[^\\x00]*@({_LANGUAGE})?",
    str(RDF.XMLLiteral): r"[\s\S]*",  # checked by parsing
}
_INTEGER_RANGES: dict[str, tuple[int | None, int | None]] = {
    str(XSD.integer): (None, None), str(XSD.nonNegativeInteger): (0, None),
    str(XSD.nonPositiveInteger): (None, 0), str(XSD.positiveInteger): (1, None),
    str(XSD.negativeInteger): (None, -1), str(XSD.long): (-2**63, 2**63 - 1), str(XSD.int): (-2**31, 2**31 - 1),
    str(XSD.short): (-2**15, 2**15 - 1), str(XSD.byte): (-2**7, 2**7 - 1), str(XSD.unsignedLong): (0, 2**64 - 1),
    str(XSD.unsignedInt): (0, 2**32 - 1), str(XSD.unsignedShort): (0, 2**16 - 1), str(XSD.unsignedByte): (0, 2**8 - 1),
}
_LEXICAL.update(dict.fromkeys(_INTEGER_RANGES, _INTEGER))
# Datatypes whose values are the same kind of thing: a literal can belong to another datatype of its family.
_FAMILIES: dict[str, str] = {
    **dict.fromkeys([str(XSD.decimal), *_INTEGER_RANGES], "number"),
    **dict.fromkeys([str(XSD.string), str(XSD.normalizedString), str(XSD.token), str(XSD.language), str(XSD.Name),
                     str(XSD.NCName), str(XSD.NMTOKEN), str(RDF.PlainLiteral)], "text"),
    str(XSD.dateTime): "dateTime", str(XSD.dateTimeStamp): "dateTime",
}
_FLOAT_LIMITS = {str(XSD.float): (3.4028235e38, 1.4e-45)}  # largest finite, smallest positive (subnormal)


def _well_formed(lexical: str, datatype: str) -> bool:
    """Whether ``lexical`` is in the lexical space of ``datatype`` (a datatype of the map)."""
    if not re.fullmatch(_LEXICAL[datatype], lexical):
        return False
    if datatype in _INTEGER_RANGES:
        low, high = _INTEGER_RANGES[datatype]
        return (low is None or int(lexical) >= low) and (high is None or int(lexical) <= high)
    if datatype in (str(XSD.double), str(XSD.float)) and lexical.strip("+-") not in ("INF", "NaN"):
        return _representable(lexical, datatype)
    if datatype == str(RDF.XMLLiteral):
        return _xml_fragment(lexical)
    return True


def _representable(lexical: str, datatype: str) -> bool:
    """A finite number too large for the type, or a non-zero one too small, has no value in it."""
    value = Decimal(lexical)
    largest, smallest = _FLOAT_LIMITS.get(datatype, (1.7976931348623157e308, 4.9e-324))
    return value == 0 or Decimal(smallest) / 2 <= abs(value) <= Decimal(largest)


def _xml_fragment(lexical: str) -> bool:
    try:
        xml.dom.minidom.parseString(f"<fragment>{lexical}</fragment>")
    except ExpatError:
        return False
    return True


def _literal_datatype(literal: Literal) -> str:
    if literal.language:
        return str(RDF.langString)
    return str(literal.datatype or XSD.string)


def _ill_typed(literal: Literal) -> bool:
    datatype = _literal_datatype(literal)
    return datatype in _LEXICAL and not _well_formed(str(literal), datatype)


def _member(literal: Literal, datatype: str) -> bool:
    """Whether ``literal`` (well formed) is a value of ``datatype``, within what this module knows."""
    own = _literal_datatype(literal)
    if datatype in (str(RDFS.Literal), own):
        return True
    if own == str(RDF.langString):
        return datatype == str(RDF.PlainLiteral)
    family = _FAMILIES.get(own)
    if family is None or family != _FAMILIES.get(datatype):
        return False
    lexical = str(literal)
    if family == "number":
        try:
            value = Decimal(lexical)
        except InvalidOperation:
            return False
        if datatype in _INTEGER_RANGES:
            return value == value.to_integral_value() and _well_formed(str(int(value)), datatype)
        return True
    if datatype == str(RDF.PlainLiteral):
        return True
    return _well_formed(lexical, datatype)


def _datatype_clashes(closure: Graph) -> Iterator[str]:
    """dt-not-type: a literal that is no value of a datatype it is said (or made, by owl:sameAs) to belong to.

    An ill-typed literal of the datatype map counts wherever it occurs, stricter than the rule (which
    waits for ``lt rdf:type DT``): the closure never types literals (no dt-type2), and data carrying a
    number or date that is not one is what a pipeline must refuse anyway."""
    seen = set()
    for literal in {o for o in closure.objects() if isinstance(o, Literal)}:
        if _ill_typed(literal):
            seen.add(literal)
            yield f"{_show(literal)} is not a valid {_literal_datatype(literal)} lexical form"
    for node, datatype in closure.subject_objects(RDF.type):
        if str(datatype) not in _LEXICAL and datatype != RDFS.Literal:
            continue
        values = {node} if isinstance(node, Literal) else set(closure.objects(node, OWL.sameAs)) | set(
            closure.subjects(OWL.sameAs, node))
        for value in values:
            if isinstance(value, Literal) and value not in seen and not _member(value, str(datatype)):
                yield f"{_show(node)} is a {_show(datatype)} but equals {_show(value)}, which is no such value"
