"""Term generation: one RDF term, in N-Triples syntax, from a term map and a record.

https://w3id.org/rml/core/spec#term-map. Empty or missing values produce no term (and so no
triple), as NULL does in R2RML.
"""

from __future__ import annotations

import re
from hashlib import blake2b

from kg_service.errors import RecordError
from kg_service.lift.model import TermMap, TermType, ValueKind
from kg_service.lift.sources import Record

_ABSOLUTE_IRI = re.compile(r"^[A-Za-z][A-Za-z0-9+.\-]*:")
_FORBIDDEN_IN_IRI = re.compile(r'[\x00-\x20<>"{}|^`\\]')
_TEMPLATE_PART = re.compile(r"(?<!\\)\{([^{}]*)\}")
# RFC 3987 iunreserved: letters, digits, -._~ and non-ASCII characters stay as they are in IRIs.
_IRI_SAFE = re.compile(r"[A-Za-z0-9\-._~]|[^\x00-\x7f]")
_LITERAL_ESCAPES = str.maketrans({"\\": "\\\\", '"': '\\"', "\n": "\\n", "\r": "\\r"})


def make_term(term_map: TermMap, record: Record, base_iri: str) -> str | None:
    """The term's N-Triples text, or None when a value it needs is missing."""
    if term_map.kind is ValueKind.CONSTANT:
        return term_map.value
    if term_map.kind is ValueKind.REFERENCE:
        value = record.get(term_map.value)
        if not value:
            return None
        if term_map.term_type is TermType.IRI:
            return _iri(value, base_iri)
    else:
        filled = _fill_template(term_map.value, record, iri_safe=term_map.term_type is TermType.IRI)
        if filled is None:
            return None
        value = filled
        if term_map.term_type is TermType.IRI:
            return _iri(value, base_iri)
    if term_map.term_type is TermType.BLANK_NODE:
        return f"_:b{blake2b(value.encode(), digest_size=12).hexdigest()}"
    return _literal(value, term_map.language, term_map.datatype)


def _fill_template(template: str, record: Record, *, iri_safe: bool) -> str | None:
    missing = False

    def substitute(match: re.Match[str]) -> str:
        nonlocal missing
        value = record.get(match.group(1))
        if not value:
            missing = True
            return ""
        return _percent_encode(value) if iri_safe else value

    filled = _TEMPLATE_PART.sub(substitute, template)
    return None if missing else filled.replace("\\{", "{").replace("\\}", "}")


def _percent_encode(value: str) -> str:
    return "".join(char if _IRI_SAFE.fullmatch(char) else "".join(f"%{byte:02X}" for byte in char.encode())
                   for char in value)


def _iri(value: str, base_iri: str) -> str:
    iri = value if _ABSOLUTE_IRI.match(value) else base_iri + value
    bad = _FORBIDDEN_IN_IRI.search(iri)
    if bad:
        raise RecordError(f"cannot make an IRI from {value!r}: it contains {bad.group()!r}",
                          hint="clean the value or use a template, which percent-encodes it")
    return f"<{iri}>"


def _literal(value: str, language: str | None, datatype: str | None) -> str:
    text = f'"{value.translate(_LITERAL_ESCAPES)}"'
    if language:
        return f"{text}@{language}"
    if datatype and datatype != "http://www.w3.org/2001/XMLSchema#string":
        return f"{text}^^<{datatype}>"
    return text
