"""Logical sources: iterate a source file's records.

https://w3id.org/rml/io/spec#source. CSV (references are column names), JSON (references and
iterators are RFC 9535 JSONPath; a GeoJSON geometry gives its WKT), XML (XPath 1.0), Excel
workbooks (.xlsx, read as a table), and SQL tables or queries of SQLite files and PostgreSQL
servers (kg_service/lift/databases.py; values keep their SQL types).
"""

from __future__ import annotations

import csv
import datetime
import gzip
import io
import json
import tarfile
import zipfile
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass
from functools import lru_cache
from typing import IO, Any, Protocol, cast

import jsonpath_rfc9535 as jsonpath
from lxml import etree

from kg_service.errors import MappingError, RecordError, SourceError
from kg_service.lift.databases import SqlValue, sql_records
from kg_service.lift.model import LogicalSource

Scalar = SqlValue  # a JSON value is a str, int, float or bool; SQL adds decimals, dates, times and bytes


class Record(Protocol):
    """One source record: the values a reference gives, and the raw record for quarantine."""

    def get(self, reference: str) -> list[Scalar]: ...

    def raw(self) -> dict[str, str]: ...


@dataclass(frozen=True)
class CsvRecord:
    values: dict[str, str]
    nulls: frozenset[str] | None = None  # None: an empty cell is NULL
    problem: str | None = None  # a malformed row: every reference to it fails

    def get(self, reference: str) -> list[Scalar]:
        if self.problem:
            raise RecordError(self.problem)
        value = self.values.get(reference)
        if value is None or (value in self.nulls if self.nulls is not None else value == ""):
            return []
        return [value]

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
            if isinstance(value, dict) and value.get("type") in _GEOMETRY_TYPES:
                value = _wkt(value, self.location)
            if isinstance(value, dict | list):
                raise RecordError(f"reference '{reference}' gives a JSON {type(value).__name__}, not a value",
                                  where=self.location, hint="reference the values inside it, e.g. with [*]")
            if value is not None:
                values.append(value)
        return values

    def raw(self) -> dict[str, str]:
        return {"path": self.location, "json": json.dumps(self.node, ensure_ascii=False, sort_keys=True)}


_GEOMETRY_TYPES = {"Point", "MultiPoint", "LineString", "MultiLineString", "Polygon", "MultiPolygon",
                   "GeometryCollection"}


def _wkt(geometry: dict[str, Any], location: str) -> str:
    """A GeoJSON geometry (RFC 7946, WGS 84 longitude/latitude) as WKT, for geo:asWKT."""
    from shapely.geometry import shape

    try:
        return str(shape(geometry).wkt)
    except (ValueError, TypeError, AttributeError) as error:
        raise RecordError(f"not a valid GeoJSON geometry: {error}", where=location) from error


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

    namespaces: dict[str, str] | None = None

    def get(self, reference: str) -> list[Scalar]:
        try:
            found = self.element.xpath(reference, namespaces=self.namespaces)
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
    if source.formulation == "csv" and source.path.suffix.lower() == ".xlsx":
        yield from _excel_records(source)
    elif source.formulation == "json":
        yield from _json_records(source)
    elif source.formulation == "xml":
        yield from _xml_records(source)
    elif source.formulation == "sql":
        yield from sql_records(source)
    else:
        yield from _csv_records(source)


def _xml_records(source: LogicalSource) -> Iterator[tuple[int, Record]]:
    try:
        with _open_binary(source) as handle:
            tree = etree.parse(handle, etree.XMLParser(resolve_entities=False, no_network=True))
    except OSError as error:
        raise SourceError(f"cannot open the source: {error}", where=str(source.path)) from error
    except etree.XMLSyntaxError as error:
        raise SourceError(f"not well-formed XML: {error}", where=str(source.path)) from error
    try:
        elements = tree.xpath(source.iterator or "/*", namespaces=dict(source.namespaces) or None)
    except etree.XPathError as error:
        raise MappingError(f"invalid XPath iterator '{source.iterator}': {error}") from error
    for number, element in enumerate(elements, start=1):
        yield number, XmlRecord(element, f"{source.path.name} {tree.getpath(element)}",
                                dict(source.namespaces) or None)


def _csv_records(source: LogicalSource) -> Iterator[tuple[int, Record]]:
    rows = csv_rows(source)
    _, header = next(rows, (1, []))
    for line, row in rows:
        problem = None if len(row) == len(header) else f"the row has {len(row)} fields, the header {len(header)}"
        yield line, CsvRecord(dict(zip(header, row, strict=False)), source.nulls, problem)


def csv_rows(source: LogicalSource) -> Iterator[tuple[int, list[str]]]:
    """The header row, then every non-blank row, each with the line it starts on (a quoted field
    may span lines); a row may have more or fewer fields than the header."""
    path = source.path
    with _open_text(source) as handle:
        try:
            reader = csv.reader(handle, delimiter=source.delimiter)
            line = 1
            for row in reader:
                if row:  # a blank line is no record
                    yield line, row
                line = reader.line_num + 1
        except UnicodeDecodeError as error:
            raise SourceError(f"not {source.encoding} text: {error.reason}", where=f"{path}:{reader.line_num + 1}",
                              hint="declare the file's encoding in the mapping (csvw:encoding)") from error
        except csv.Error as error:
            raise SourceError(f"malformed CSV: {error}", where=f"{path}:{reader.line_num}") from error


def _excel_records(source: LogicalSource) -> Iterator[tuple[int, Record]]:
    """An Excel workbook read as a table: the first sheet (or the sheet the iterator names), the
    first row as header; dates become ISO dates, whole numbers lose their ".0"."""
    from openpyxl import load_workbook

    try:
        workbook = load_workbook(source.path, read_only=True, data_only=True)
    except (OSError, ValueError, KeyError, zipfile.BadZipFile) as error:
        raise SourceError(f"cannot read the workbook: {error}", where=str(source.path)) from error
    try:
        sheet = workbook[source.iterator] if source.iterator else workbook.worksheets[0]
    except KeyError as error:
        raise MappingError(f"the workbook has no sheet '{source.iterator}'", where=str(source.path),
                           hint=f"sheets are: {', '.join(workbook.sheetnames)}") from error
    try:
        rows = sheet.iter_rows(values_only=True)
        header = [_cell_text(cell) for cell in next(rows, ())]
        for line, row in enumerate(rows, start=2):
            cells = [_cell_text(cell) for cell in row]
            if any(cells):
                yield line, CsvRecord(dict(zip(header, cells, strict=False)), source.nulls)
    finally:
        workbook.close()


def _cell_text(cell: object) -> str:
    if cell is None:
        return ""
    if isinstance(cell, datetime.datetime):
        return cell.date().isoformat() if cell.time() == datetime.time() else cell.isoformat()
    if isinstance(cell, float) and cell.is_integer():
        return str(int(cell))
    return str(cell).strip()


def _json_records(source: LogicalSource) -> Iterator[tuple[int, Record]]:
    try:
        with _open_text(source) as handle:
            document = json.load(handle)
    except (json.JSONDecodeError, UnicodeDecodeError) as error:
        raise SourceError(f"not valid JSON: {error}", where=str(source.path)) from error
    for number, found in enumerate(_compiled(source.iterator or "$").find(document), start=1):
        yield number, JsonRecord(found.value, f"{source.path.name} {found.path()}")


@contextmanager
def _open_binary(source: LogicalSource) -> Iterator[IO[bytes]]:
    """The source's bytes, decompressed (https://w3id.org/rml/io/spec#compression)."""
    try:
        with ExitStack() as stack:
            yield stack.enter_context(_decompressed(source, stack))
    except (OSError, zipfile.BadZipFile, tarfile.TarError) as error:
        raise SourceError(f"cannot open the source: {getattr(error, 'strerror', None) or error}",
                          where=str(source.path),
                          hint="check the path and compression in the logical source") from error


def _decompressed(source: LogicalSource, stack: ExitStack) -> IO[bytes]:
    """The readable bytes of the source; archives opened here are closed by ``stack``."""
    if source.compression == "gzip":
        return cast(IO[bytes], gzip.open(source.path, "rb"))
    if source.compression == "zip":
        archive = stack.enter_context(zipfile.ZipFile(source.path))
        return archive.open(archive.namelist()[0])
    if source.compression in ("targz", "tarxz"):
        tar = stack.enter_context(tarfile.open(source.path, "r:*"))  # noqa: SIM115 -- the stack closes it
        member = next((m for m in tar.getmembers() if m.isfile()), None)
        extracted = tar.extractfile(member) if member is not None else None
        if extracted is None:
            raise tarfile.TarError("the archive holds no file")
        return extracted
    return source.path.open("rb")


@contextmanager
def _open_text(source: LogicalSource) -> Iterator[IO[str]]:
    with _open_binary(source) as raw:
        yield io.TextIOWrapper(raw, encoding=source.encoding, newline="")


def columns(source: LogicalSource) -> list[str] | None:
    """The header of a CSV source, to check a mapping's references before lifting (None: no header)."""
    if source.formulation != "csv" or source.path.suffix.lower() == ".xlsx":
        return None  # no header to check before reading (JSON, XML, SQL, workbooks)
    try:
        with _open_text(source) as handle:
            return next(csv.reader(handle, delimiter=source.delimiter), [])
    except UnicodeDecodeError as error:
        raise SourceError(f"not {source.encoding} text: {error.reason}", where=f"{source.path}:1") from error
