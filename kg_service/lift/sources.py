"""Logical sources: iterate a source file's records as (line number, field values).

https://w3id.org/rml/io/spec#source. CSV only in the foundation; the mappings issue adds JSON,
XML, GeoJSON, Excel and SQL beside it.
"""

from __future__ import annotations

import csv
from collections.abc import Iterator

from kg_service.errors import SourceError
from kg_service.lift.model import LogicalSource

Record = dict[str, str]


def iter_records(source: LogicalSource) -> Iterator[tuple[int, Record]]:
    """Yield ``(line, record)``; ``line`` is the 1-based line the record starts on."""
    path = source.path
    try:
        handle = path.open(encoding=source.encoding, newline="")
    except OSError as error:
        raise SourceError(f"cannot open the source: {error.strerror}", where=str(path),
                          hint="check the path in the mapping's logical source") from error
    with handle:
        try:
            reader = csv.DictReader(handle, delimiter=source.delimiter)
            reader.fieldnames  # noqa: B018 -- reads the header, so line numbers start after it
            line = reader.line_num + 1
            for row in reader:
                yield line, {key: value for key, value in row.items() if key is not None}
                line = reader.line_num + 1
        except UnicodeDecodeError as error:
            raise SourceError(f"not {source.encoding} text: {error.reason}", where=f"{path}:{reader.line_num + 1}",
                              hint="declare the file's encoding in the mapping (csvw:encoding)") from error
        except csv.Error as error:
            raise SourceError(f"malformed CSV: {error}", where=f"{path}:{reader.line_num}") from error


def columns(source: LogicalSource) -> list[str]:
    """The header of a CSV source, to check a mapping's references before lifting."""
    try:
        with source.path.open(encoding=source.encoding, newline="") as handle:
            return next(csv.reader(handle, delimiter=source.delimiter), [])
    except OSError as error:
        raise SourceError(f"cannot open the source: {error.strerror}", where=str(source.path),
                          hint="check the path in the mapping's logical source") from error
    except UnicodeDecodeError as error:
        raise SourceError(f"not {source.encoding} text: {error.reason}", where=f"{source.path}:1") from error
