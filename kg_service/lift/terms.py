"""Term generation: the RDF terms, in N-Triples syntax, a term map makes from one record.

https://w3id.org/rml/core/spec#term-map. A reference may give several values (a JSON array), so a
term map makes a list of terms; a template makes one per combination of its references' values.
Missing values make no term (and so no triple), as NULL does in R2RML.
"""

from __future__ import annotations

import datetime
import itertools
import math
import re
import uuid
from collections.abc import Iterable, Iterator, Sequence
from decimal import Decimal
from hashlib import blake2b
from typing import overload

from kg_service.errors import RecordError
from kg_service.lift.functions import FUNCTIONS
from kg_service.lift.model import TermMap, TermType, ValueKind
from kg_service.lift.sources import Record, Scalar

XSD = "http://www.w3.org/2001/XMLSchema#"
_ABSOLUTE_IRI = re.compile(r"^[A-Za-z][A-Za-z0-9+.\-]*:")
_FORBIDDEN_IN_IRI = re.compile(r'[\x00-\x20<>"{}|^`\\]')
TEMPLATE_PART = re.compile(r"(?<!\\)\{((?:[^{}\\]|\\.)*)\}")
# Characters a template value keeps: unreserved ASCII for URIs, plus non-ASCII (iunreserved) for IRIs.
_URI_SAFE = re.compile(r"[A-Za-z0-9\-._~]")
_IRI_SAFE = re.compile(r"[A-Za-z0-9\-._~]|[^\x00-\x7f]")
_LITERAL_ESCAPES = str.maketrans({"\\": "\\\\", '"': '\\"', "\n": "\\n", "\r": "\\r"})
# BCP 47, loosely: a 2-3 letter language (or a private-use or grandfathered singleton), then subtags
LANGUAGE_TAG = re.compile(r"^(?:[A-Za-z]{2,3}|[xXiI])(?:-[A-Za-z0-9]{1,8})*$")


def lexical(value: Scalar) -> str:
    """A value's lexical form: JSON true is "true", 10.0 is "10.0"; SQL values take their XSD form
    (https://www.w3.org/TR/r2rml/#natural-mapping)."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, bytes):
        return value.hex().upper()  # xsd:hexBinary
    if isinstance(value, Decimal):
        return _decimal(value)
    if isinstance(value, datetime.date | datetime.time):
        return value.isoformat()  # a datetime's is xsd:dateTime's, with the T
    return str(value)


def _natural_datatype(value: Scalar) -> str | None:
    """https://w3id.org/rml/core/spec#natural-mapping: typed source values keep their type
    (https://www.w3.org/TR/r2rml/#natural-mapping for SQL's)."""
    if isinstance(value, bool):
        return f"{XSD}boolean"
    if isinstance(value, int):
        return f"{XSD}integer"
    if isinstance(value, float):
        return f"{XSD}double"
    if isinstance(value, Decimal):
        return f"{XSD}decimal"
    if isinstance(value, datetime.datetime):  # before date: a datetime is a date too
        return f"{XSD}dateTime"
    if isinstance(value, datetime.date):
        return f"{XSD}date"
    if isinstance(value, datetime.time):
        return f"{XSD}time"
    if isinstance(value, bytes):
        return f"{XSD}hexBinary"
    return None


def _decimal(value: Decimal) -> str:
    """The canonical xsd:decimal form: no exponent, no trailing zeros (80.250 is 80.25, 1E+1 is 10)."""
    if not value.is_finite():
        raise RecordError(f"{value} is not an xsd:decimal")
    text = f"{value:f}"
    if "." in text:
        text = text.rstrip("0").rstrip(".")
    return "0" if text in ("-0", "") else text


def make_terms(term_map: TermMap, record: Record, base_iri: str) -> list[str]:
    """The N-Triples text of every term ``term_map`` makes from ``record``."""
    if term_map.kind is ValueKind.CONSTANT:
        return [term_map.value]
    if term_map.kind is ValueKind.GENERATED:
        return [f"_:b{uuid.uuid4().hex}"]
    if term_map.kind is ValueKind.FUNCTION:
        result = _execute(term_map, record, base_iri)
        return [] if result is None else [t for t in [_term(term_map, result, record, base_iri)] if t is not None]
    if term_map.kind is ValueKind.REFERENCE:
        values: list[Scalar] = record.get(term_map.value)
    else:
        values = [*_fill_template(term_map, record)]
    return [term for value in values if (term := _term(term_map, value, record, base_iri)) is not None]


def _execute(term_map: TermMap, record: Record, base_iri: str) -> str | None:
    """Call the term map's function; a missing input value means no result (NULL), like a reference."""
    execution = term_map.execution
    assert execution is not None
    arguments = {}
    for parameter, value_map in execution.inputs:
        values = make_terms(value_map, record, base_iri)
        if not values:
            return None
        arguments[parameter] = lexical_of(values[0])
    result = FUNCTIONS[execution.function].call(arguments)
    return result or None


def _term(term_map: TermMap, value: Scalar, record: Record, base_iri: str) -> str | None:
    if term_map.term_type in (TermType.IRI, TermType.URI):
        return _iri(lexical(value), base_iri)
    if term_map.term_type is TermType.UNSAFE_IRI:  # the mapping asked for no checks
        text = lexical(value)
        return f"<{text if _ABSOLUTE_IRI.match(text) else base_iri + text}>"

    if term_map.term_type is TermType.BLANK_NODE:
        return f"_:b{blake2b(lexical(value).encode(), digest_size=12).hexdigest()}"
    language = term_map.language
    if term_map.language_map is not None:
        languages = make_terms(term_map.language_map, record, base_iri)
        if not languages:
            return None
        language = lexical_of(languages[0])
        if not LANGUAGE_TAG.match(language):
            raise RecordError(f"'{language}' is not a language tag")
    datatype = term_map.datatype
    if term_map.datatype_map is not None:
        datatypes = make_terms(term_map.datatype_map, record, base_iri)
        if not datatypes:
            return None
        datatype = datatypes[0].strip("<>")
    if language is None and datatype is None and term_map.kind is ValueKind.REFERENCE and term_map.natural_datatypes:
        datatype = _natural_datatype(value)
    if language is None and datatype is None and term_map.execution is not None:
        datatype = FUNCTIONS[term_map.execution.function].returns  # what the function declares it returns
    return literal(lexical(value) if not isinstance(value, float) else _double(value), language, datatype)


def _double(value: float) -> str:
    """The canonical xsd:double form (one digit before the point, an exponent: 1.5E1)."""
    if math.isnan(value):
        return "NaN"
    if math.isinf(value):
        return "INF" if value > 0 else "-INF"
    mantissa, exponent = f"{value:.15E}".split("E")
    digits = mantissa.rstrip("0")
    return f"{digits}0E{int(exponent)}" if digits.endswith(".") else f"{digits}E{int(exponent)}"


def _fill_template(term_map: TermMap, record: Record) -> list[str]:
    """Every filling of the template: one per combination of its references' values."""
    parts = TEMPLATE_PART.split(term_map.value)  # literal text at even, references at odd positions
    safe = {TermType.IRI: _IRI_SAFE, TermType.URI: _URI_SAFE}.get(term_map.term_type)
    choices: list[list[str]] = []
    for index, part in enumerate(parts):
        if index % 2 == 0:
            choices.append([_unescape(part)])
            continue
        values = [lexical(value) for value in record.get(_unescape(part))]
        if not values:
            return []
        choices.append([_percent_encode(v, safe) if safe else v for v in values])
    return ["".join(combination) for combination in itertools.product(*choices)]


def _unescape(text: str) -> str:
    return re.sub(r"\\([{}\\])", r"\1", text)


def _percent_encode(value: str, safe: re.Pattern[str]) -> str:
    return "".join(char if safe.fullmatch(char) else "".join(f"%{byte:02X}" for byte in char.encode())
                   for char in value)


def _iri(value: str, base_iri: str) -> str:
    iri = value if _ABSOLUTE_IRI.match(value) else base_iri + value
    bad = _FORBIDDEN_IN_IRI.search(iri)
    if bad or not _ABSOLUTE_IRI.match(iri):
        raise RecordError(f"cannot make an IRI from {value!r}" + (f": it contains {bad.group()!r}" if bad else ""),
                          hint="clean the value or use a template, which percent-encodes it")
    return f"<{iri}>"


class StatementLines(Sequence[str]):
    """N-Triples lines kept as one text, split only when read line by line: a remembered row's
    statements are mostly never read (only changed entities' are), and splitting the 60k rows of a
    dataset into lists took 0.1 s of every job."""

    __slots__ = ("_lines", "text")

    def __init__(self, text: str) -> None:
        self.text = text  # the lines joined by newlines
        self._lines: list[str] | None = None

    def _split(self) -> list[str]:
        if self._lines is None:
            self._lines = self.text.split("\n") if self.text else []
        return self._lines

    @overload
    def __getitem__(self, index: int) -> str: ...

    @overload
    def __getitem__(self, index: slice) -> list[str]: ...

    def __getitem__(self, index: int | slice) -> str | list[str]:
        return self._split()[index]

    def __len__(self) -> int:
        return len(self._split())

    def __iter__(self) -> Iterator[str]:
        return iter(self._split())

    def __repr__(self) -> str:
        return f"StatementLines({self._split()!r})"


def statements_digest(lines: Iterable[str]) -> str:
    """One digest of a set of N-Triples lines, whatever their order and repetitions: what an
    entity's statements are compared by from one job to the next."""
    return blake2b("\n".join(sorted(set(lines))).encode(), digest_size=16).hexdigest()


def lexical_of(term: str) -> str:
    """The lexical value of a term in N-Triples syntax: an IRI's text, a literal's string."""
    if term.startswith("<"):
        return term[1:-1]
    if term.startswith('"'):
        body = term[1:term.rindex('"')]
        return re.sub(r'\\(["\\nr])', lambda m: {"n": "\n", "r": "\r"}.get(m.group(1), m.group(1)), body)
    return term


def literal(value: str, language: str | None, datatype: str | None) -> str:
    text = f'"{value.translate(_LITERAL_ESCAPES)}"'
    if language:
        return f"{text}@{language}"
    if datatype:
        return f"{text}^^<{datatype}>"
    return text
