"""Logical sources: iterate a source file's records.

https://w3id.org/rml/io/spec#source. CSV (references are column names), JSON (references and
iterators are RFC 9535 JSONPath) and XML (XPath 1.0). GeoJSON, Excel and SQL come next.
"""

from __future__ import annotations

import csv
import json
from collections.abc import Iterator
from dataclasses import dataclass
from functools import lru_cache
from typing import Any, Protocol

import jsonpath_rfc9535 as jsonpath
from lxml import etree

from kg_service.errors import MappingError, RecordError, SourceError
from kg_service.lift.model import LogicalSource

Scalar = str | int | float | bool


class Record(Protocol):
    """One source record: the values a reference gives, and the raw record for quarantine."""

    def get(self, reference: str) -> list[Scalar]: ...

    def raw(self) -> dict[str, str]: ...


@dataclass(frozen=True)
class CsvRecord:
    values: dict[str, str]

    def get(self, reference: str) -> list[Scalar]:
        value = self.values.get(reference)
        return [value] if value else []  # an empty cell is NULL

    def raw(self) -> dict[str, str]:
        return self.values


@dataclass(frozen=True)
class JsonRecord:
    node: Any
    location: str

    def get(self, reference: str) -> list[Scalar]:
        values: list[Scalar] = []
        for found in _compiled(_absolute(reference)).find(self.node):
            value = found.value
            if isinstance(value, dict | list):
                raise RecordError(f"reference '{reference}' gives a JSON {type(value).__name__}, not a value",
                                  where=self.location, hint="reference the values inside it, e.g. with [*]")
            if value is not None:
                values.append(value)
        return values

    def raw(self) -> dict[str, str]:
        return {"path": self.location, "json": json.dumps(self.node, ensure_ascii=False, sort_keys=True)}


def _absolute(reference: str) -> str:
    """Legacy RML references are relative ("Name", "address.city"); RML-Core ones start with $."""
    if reference.startswith(("$", "@")):
        return reference
    if any(char in reference for char in ".[*"):
        return f"$.{reference}"
    return "$[" + json.dumps(reference) + "]"  # a plain key, possibly with spaces


@lru_cache(maxsize=1024)
def _compiled(expression: str) -> Any:
    try:
        return jsonpath.compile(expression)
    except jsonpath.JSONPathError as error:
        raise MappingError(f"invalid JSONPath '{expression}': {error}") from error


@dataclass(frozen=True)
class XmlRecord:
    element: Any
    location: str

    def get(self, reference: str) -> list[Scalar]:
        try:
            found = self.element.xpath(reference)
        except etree.XPathError as error:
            raise MappingError(f"invalid XPath '{reference}': {error}") from error
        if not isinstance(found, list):
            found = [found]
        values: list[Scalar] = []
        for item in found:
            text = item.xpath("string(.)") if isinstance(item, etree._Element) else str(item)
            values.append(str(text))
        return values

    def raw(self) -> dict[str, str]:
        return {"path": self.location, "xml": etree.tostring(self.element, encoding="unicode")}


def iter_records(source: LogicalSource) -> Iterator[tuple[int, Record]]:
    """Yield ``(number, record)``: the CSV line a record starts on, or the record's position."""
    if source.formulation == "json":
        yield from _json_records(source)
    elif source.formulation == "xml":
        yield from _xml_records(source)
    else:
        yield from _csv_records(source)


def _xml_records(source: LogicalSource) -> Iterator[tuple[int, Record]]:
    try:
        tree = etree.parse(str(source.path), etree.XMLParser(resolve_entities=False, no_network=True))
    except OSError as error:
        raise SourceError(f"cannot open the source: {error}", where=str(source.path)) from error
    except etree.XMLSyntaxError as error:
        raise SourceError(f"not well-formed XML: {error}", where=str(source.path)) from error
    try:
        elements = tree.xpath(source.iterator or "/*")
    except etree.XPathError as error:
        raise MappingError(f"invalid XPath iterator '{source.iterator}': {error}") from error
    for number, element in enumerate(elements, start=1):
        yield number, XmlRecord(element, f"{source.path.name} {tree.getpath(element)}")


def _open_error(source: LogicalSource, error: OSError) -> SourceError:
    return SourceError(f"cannot open the source: {error.strerror}", where=str(source.path),
                       hint="check the path in the mapping's logical source")


def _csv_records(source: LogicalSource) -> Iterator[tuple[int, Record]]:
    path = source.path
    try:
        handle = path.open(encoding=source.encoding, newline="")
    except OSError as error:
        raise _open_error(source, error) from error
    with handle:
        try:
            reader = csv.DictReader(handle, delimiter=source.delimiter)
            reader.fieldnames  # noqa: B018 -- reads the header, so line numbers start after it
            line = reader.line_num + 1
            for row in reader:
                yield line, CsvRecord({key: value for key, value in row.items() if key is not None})
                line = reader.line_num + 1
        except UnicodeDecodeError as error:
            raise SourceError(f"not {source.encoding} text: {error.reason}", where=f"{path}:{reader.line_num + 1}",
                              hint="declare the file's encoding in the mapping (csvw:encoding)") from error
        except csv.Error as error:
            raise SourceError(f"malformed CSV: {error}", where=f"{path}:{reader.line_num}") from error


def _json_records(source: LogicalSource) -> Iterator[tuple[int, Record]]:
    try:
        with source.path.open(encoding=source.encoding) as handle:
            document = json.load(handle)
    except OSError as error:
        raise _open_error(source, error) from error
    except (json.JSONDecodeError, UnicodeDecodeError) as error:
        raise SourceError(f"not valid JSON: {error}", where=str(source.path)) from error
    for number, found in enumerate(_compiled(source.iterator or "$").find(document), start=1):
        yield number, JsonRecord(found.value, f"{source.path.name} {found.path()}")


def columns(source: LogicalSource) -> list[str] | None:
    """The header of a CSV source, to check a mapping's references before lifting (None: no header)."""
    if source.formulation != "csv":
        return None
    try:
        with source.path.open(encoding=source.encoding, newline="") as handle:
            return next(csv.reader(handle, delimiter=source.delimiter), [])
    except OSError as error:
        raise _open_error(source, error) from error
    except UnicodeDecodeError as error:
        raise SourceError(f"not {source.encoding} text: {error.reason}", where=f"{source.path}:1") from error
