"""SQL logical sources: the rows of a table or query, from an SQLite file or a PostgreSQL server.

Values keep their SQL types, so a reference makes the natural RDF literal of its value
(https://www.w3.org/TR/r2rml/#natural-mapping). A reference names a column: a delimited one
(``"Name"``) exactly, a plain one exactly or else case-insensitively, as a database matches a
column created without quotes (the loader delimits R2RML's SQL identifiers, whose matching is
stricter). A reference to a column the table or query lacks is a mapping error. A table name is
an SQL identifier, used as written.
"""

from __future__ import annotations

import datetime
import json
import re
import sqlite3
from collections.abc import Generator, Iterator, Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from kg_service.errors import MappingError, SourceError
from kg_service.lift.model import LogicalSource

SqlValue = str | int | float | bool | Decimal | datetime.date | datetime.time | bytes
_SQL_TYPES = (str, int, float, bool, Decimal, datetime.date, datetime.time, bytes)
_PLAIN_IDENTIFIER = re.compile(r"\w+(?:\.\w+)*")


@dataclass(frozen=True)
class SqlRecord:
    """One row; a NULL column is absent, so it gives no value."""

    values: dict[str, SqlValue]
    columns: tuple[str, ...]
    source: LogicalSource

    def get(self, reference: str) -> list[SqlValue]:
        column = self._column(reference)
        return [self.values[column]] if column in self.values else []

    def _column(self, reference: str) -> str:
        if len(reference) > 1 and reference.startswith('"') and reference.endswith('"'):
            delimited = reference[1:-1].replace('""', '"')
            if delimited in self.columns:
                return delimited
        elif reference in self.columns:
            return reference
        else:
            folded = [column for column in self.columns if column.casefold() == reference.casefold()]
            if len(folded) == 1:
                return folded[0]
        what = f"table {self.source.table}" if self.source.query is None else "query"
        raise MappingError(f"the {what} of {self.source.path} has no column {reference}",
                           where=self.source.declared_in, hint=f"columns are: {', '.join(self.columns)}")

    def raw(self) -> dict[str, str]:
        return {name: value.hex().upper() if isinstance(value, bytes) else str(value)
                for name, value in self.values.items()}


def sql_records(source: LogicalSource) -> Iterator[tuple[int, SqlRecord]]:
    """Yield ``(position, record)`` for every row of the source's table or query."""
    statement = _statement(source)
    rows = _postgres_rows(source, statement) if source.dsn is not None else _sqlite_rows(source, statement)
    columns = [str(name) for name in next(rows)]
    duplicated = sorted({c for c in columns if columns.count(c) > 1})
    if duplicated:
        rows.close()
        raise MappingError(f"the query gives column {', '.join(duplicated)} more than once, so a reference to it "
                           "is ambiguous", where=source.declared_in, hint="give each column its own name (AS)")
    for number, row in enumerate(rows, start=1):
        values = {name: _sql_value(value) for name, value in zip(columns, row, strict=True) if value is not None}
        yield number, SqlRecord(values, tuple(columns), source)


def _statement(source: LogicalSource) -> str:
    if source.query is not None:
        return source.query.strip().rstrip(";")
    table = source.table or ""
    if table.startswith('"') or _PLAIN_IDENTIFIER.fullmatch(table):
        return f"SELECT * FROM {table}"  # already an SQL identifier, maybe schema-qualified
    return 'SELECT * FROM "{}"'.format(table.replace('"', '""'))


def _sql_value(value: Any) -> SqlValue:
    if isinstance(value, _SQL_TYPES):
        return value
    if isinstance(value, memoryview):
        return bytes(value)
    if isinstance(value, dict | list):  # json, jsonb, arrays
        return json.dumps(value, ensure_ascii=False)
    return str(value)  # uuid, interval, network addresses...: their text form


def _sqlite_rows(source: LogicalSource, statement: str) -> Generator[Sequence[Any]]:
    """The column names, then the rows, of an SQLite database file opened read-only."""
    if not source.path.is_file():
        raise SourceError("the database file does not exist", where=str(source.path),
                          hint="check the path in the mapping's logical source")
    connection = sqlite3.connect(f"{source.path.resolve().as_uri()}?mode=ro", uri=True)
    try:
        cursor = connection.execute(statement)
        yield [column[0] for column in cursor.description]
        yield from cursor
    except sqlite3.Error as error:
        raise _refused(source, statement, error) from error
    finally:
        connection.close()


def _postgres_rows(source: LogicalSource, statement: str) -> Generator[Sequence[Any]]:
    """The column names, then the rows, read through a server-side cursor in a read-only transaction."""
    import psycopg

    try:
        connection = psycopg.connect(source.dsn or "", connect_timeout=10)
    except psycopg.Error as error:
        reason = " ".join(str(error).split())
        raise SourceError(f"cannot connect to the PostgreSQL database: {reason}", where=str(source.path),
                          hint="check that the server runs and accepts this host, port, user and password "
                               "(the mapping's d2rq:Database, or the database given for R2RML)") from error
    try:
        connection.read_only = True
        with connection.transaction(), connection.cursor(name="citykg_records") as cursor:
            cursor.execute(statement.encode())  # bytes: the mapping's query text, not a literal one
            yield [column.name for column in cursor.description or ()]
            yield from cursor
    except psycopg.Error as error:
        raise _refused(source, statement, error) from error
    finally:
        connection.close()


def _refused(source: LogicalSource, statement: str, error: Exception) -> MappingError:
    reason, shown = " ".join(str(error).split()), " ".join(statement.split())  # one line, as errors print
    return MappingError(f"the database {source.path} refused `{shown}`: {reason}", where=source.declared_in,
                        hint="check the table name or SQL query of the logical source against the database")


def postgres_dsn(url: str, user: str | None, password: str | None) -> str:
    """A libpq connection string from a JDBC URL (``jdbc:postgresql://host:port/db``) or a
    ``postgresql://`` URL, with the user and password declared beside it. ValueError if neither."""
    from psycopg.conninfo import make_conninfo

    url = url.removeprefix("jdbc:")
    if not url.startswith(("postgresql://", "postgres://")):
        raise ValueError(url)
    return make_conninfo(url, **{k: v for k, v in (("user", user), ("password", password)) if v})


def database_label(dsn: str) -> str:
    """How a PostgreSQL database is named in messages and provenance: user@host:port/dbname, never
    its password."""
    from psycopg.conninfo import conninfo_to_dict

    parts = conninfo_to_dict(dsn)
    user = f"{parts['user']}@" if parts.get("user") else ""
    return f"postgresql:{user}{parts.get('host', 'localhost')}:{parts.get('port', 5432)}/{parts.get('dbname', '')}"
