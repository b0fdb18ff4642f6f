"""The fast path for tabular (CSV) sources: a triples map compiled once, run a batch of rows at a time.

A CSV record gives at most one value per reference, so every term map makes at most one term per
row, and a term map can be run over a whole column with one comprehension instead of one call chain
per row. The result is exactly what the per-record path in ``engine`` makes: a row that fails fails
alone, with the reason the per-record path would give (the first failing term in mapping order).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from kg_service.errors import RecordError
from kg_service.lift.functions import FUNCTIONS, Function
from kg_service.lift.model import Mapping, RefObjectMap, TermMap, TermType, TriplesMap, ValueKind
from kg_service.lift.sources import CsvRecord, Record
from kg_service.lift.terms import (
    _ABSOLUTE_IRI,
    _FORBIDDEN_IN_IRI,
    _IRI_SAFE,
    _LITERAL_ESCAPES,
    _URI_SAFE,
    TEMPLATE_PART,
    _iri,
    _percent_encode,
    _term,
    _unescape,
    lexical_of,
    make_terms,
)

_RDF_TYPE = "<http://www.w3.org/1999/02/22-rdf-syntax-ns#type>"
# A value made only of characters a template keeps as they are needs no percent-encoding.
_URI_SAFE_RUN = re.compile(r"[A-Za-z0-9\-._~]*")
_IRI_SAFE_RUN = re.compile(r"(?:[A-Za-z0-9\-._~]|[^\x00-\x7f])*")

Column = list[str | None]  # one term (N-Triples text) or None per row


@dataclass(frozen=True, slots=True)
class LiftedRow:
    subject: str | None
    triples: Sequence[str]  # a list when lifted now, a ``StatementLines`` when remembered
    error: str | None = None  # why the row could not be lifted; it then has no statements
    digest: str | None = None  # of ``triples`` when all are about ``subject`` and known already (the row memo)


class Batch:
    """Rows of a CSV source as lists, with the records the row-by-row makers need built on demand."""

    def __init__(self, header: list[str], rows: list[list[str]], nulls: frozenset[str] | None) -> None:
        self.header = header
        # a repeated column name reads the last of them, as a record (a dict) does
        self.positions = {name: index for index, name in enumerate(header)}
        self.rows = rows
        self.nulls = nulls
        self._records: list[CsvRecord] | None = None
        self.failures: dict[int, str] = {}  # row index -> the first problem a term map had with it

    def __len__(self) -> int:
        return len(self.rows)

    @property
    def records(self) -> list[CsvRecord]:
        if self._records is None:
            self._records = [CsvRecord(dict(zip(self.header, row, strict=False)), self.nulls) for row in self.rows]
        return self._records

    def cells(self, reference: str) -> list[str | None]:
        """A column's values, None where the cell is NULL (empty, or one of the declared NULL values)."""
        index = self.positions.get(reference)
        if index is None:
            return [None] * len(self.rows)
        if self.nulls is None:
            return [row[index] or None for row in self.rows]
        nulls = self.nulls
        return [None if (value := row[index]) in nulls else value for row in self.rows]


ColumnMaker = Callable[[Batch], Column]
JoinLookup = Callable[[RefObjectMap, Record], list[str]]


class TabularPlan:
    """A triples map over a CSV source, compiled to column makers."""

    def __init__(self, triples_map: TriplesMap, mapping: Mapping, base_iri: str, joins: JoinLookup) -> None:
        self.subject = _column_maker(triples_map.subject, base_iri)
        self.classes = [f"<{cls}>" for cls in triples_map.classes]
        self._joins = joins
        # (predicate makers, object makers); a RefObjectMap with a join makes several objects per row
        self.pairs: list[tuple[list[ColumnMaker], list[ColumnMaker | RefObjectMap]]] = []
        for pom in triples_map.predicate_objects:
            objects: list[ColumnMaker | RefObjectMap] = []
            for object_map in pom.objects:
                if isinstance(object_map, RefObjectMap) and not object_map.joins:
                    # Without a join condition the parent's subject is made from the same row.
                    parent = mapping.triples_map(object_map.parent)
                    objects.append(_column_maker(parent.subject, parent.base_iri or base_iri))
                elif isinstance(object_map, RefObjectMap):
                    objects.append(object_map)
                else:
                    objects.append(_column_maker(object_map, base_iri))
            self.pairs.append(([_column_maker(p, base_iri) for p in pom.predicates], objects))

    @staticmethod
    def supports(triples_map: TriplesMap) -> bool:
        """Graph maps and non-CSV sources take the per-record path."""
        source = triples_map.source
        return (source.formulation == "csv" and source.path.suffix.lower() != ".xlsx" and not triples_map.graphs
                and not any(pom.graphs for pom in triples_map.predicate_objects))

    def run(self, rows: Batch) -> list[LiftedRow]:
        """Lift every row; a row a term map failed on comes back with the first problem and no statements."""
        subjects = self.subject(rows)
        subject_failures = dict(rows.failures)
        # One column of statements per (predicate, object) pair, then read across each row.
        statements: list[Column] = [[None if s is None else f"{s} {_RDF_TYPE} {cls} ." for s in subjects]
                                    for cls in self.classes]
        joined: list[list[str]] | None = None
        for predicate_makers, object_makers in self.pairs:
            predicate_columns = [make(rows) for make in predicate_makers]
            for object_maker in object_makers:
                if isinstance(object_maker, RefObjectMap):
                    joined = joined or [[] for _ in range(len(rows))]
                    self._emit_joined(rows, subjects, predicate_columns, object_maker, joined)
                    continue
                objects = object_maker(rows)
                for predicates in predicate_columns:
                    statements.append([None if s is None or p is None or o is None else f"{s} {p} {o} ."
                                       for s, p, o in zip(subjects, predicates, objects, strict=True)])
        made = [[statement for statement in row if statement is not None] for row in zip(*statements, strict=True)]
        if not statements:
            made = [[] for _ in range(len(rows))]
        if joined:
            for row_statements, extra in zip(made, joined, strict=True):
                row_statements.extend(extra)
        lifted = [LiftedRow(subject, row_statements) for subject, row_statements in zip(subjects, made, strict=True)]
        for index, problem in rows.failures.items():
            # Without a subject the per-record path makes nothing more, so later terms cannot fail.
            if index in subject_failures or subjects[index] is not None:
                lifted[index] = LiftedRow(subjects[index], [], subject_failures.get(index, problem))
        return lifted

    def _emit_joined(self, rows: Batch, subjects: Column, predicate_columns: list[Column], ref: RefObjectMap,
                     triples: list[list[str]]) -> None:
        for index, (row, subject) in enumerate(zip(rows.records, subjects, strict=True)):
            if subject is None:
                continue
            try:
                parents = self._joins(ref, row)
            except RecordError as error:
                rows.failures.setdefault(index, error.problem)
                continue
            for predicates in predicate_columns:
                predicate = predicates[index]
                if predicate is not None:
                    triples[index].extend(f"{subject} {predicate} {parent} ." for parent in parents)


def _column_maker(term_map: TermMap, base_iri: str) -> ColumnMaker:
    """A function making ``term_map``'s term for every row of a batch."""
    if term_map.kind is ValueKind.CONSTANT:
        constant = term_map.value
        return lambda rows: [constant] * len(rows)
    if term_map.language_map is None and term_map.datatype_map is None:
        if term_map.kind is ValueKind.REFERENCE and term_map.term_type is TermType.LITERAL:
            return _literal_column(term_map)
        if term_map.kind is ValueKind.TEMPLATE and term_map.term_type in (TermType.IRI, TermType.URI):
            return _iri_template_column(term_map, base_iri)
        if term_map.kind is ValueKind.FUNCTION and _plain_inputs(term_map):
            return _function_column(term_map, base_iri)
    return _row_by_row(term_map, base_iri)


def _plain_inputs(term_map: TermMap) -> bool:
    """A function whose inputs are constants or plain references (no nested function, no template)."""
    assert term_map.execution is not None
    return all(value_map.kind is ValueKind.CONSTANT
               or (value_map.kind is ValueKind.REFERENCE and value_map.term_type is TermType.LITERAL
                   and value_map.language_map is None and value_map.datatype_map is None)
               for _, value_map in term_map.execution.inputs)


def _function_column(term_map: TermMap, base_iri: str) -> ColumnMaker:
    """The function called once per row on its input columns, as the per-record path calls it
    (``terms._execute``): a missing input is no result, a failure fails the row alone."""
    assert term_map.execution is not None
    function = FUNCTIONS[term_map.execution.function]
    inputs = [(parameter, value_map) for parameter, value_map in term_map.execution.inputs]

    def make(rows: Batch) -> Column:
        columns = [(parameter, [lexical_of(value_map.value)] * len(rows) if value_map.kind is ValueKind.CONSTANT
                    else rows.cells(value_map.value)) for parameter, value_map in inputs]
        made: Column = []
        for index in range(len(rows)):
            arguments = {parameter: column[index] for parameter, column in columns}
            if any(value is None for value in arguments.values()):
                made.append(None)
                continue
            made.append(_row_term(rows, index, _function_term, term_map, function, arguments, base_iri))
        return made
    return make


def _function_term(term_map: TermMap, function: Function, arguments: dict[str, str], base_iri: str) -> str | None:
    result = function.call(arguments)
    return _term(term_map, result, CsvRecord({}, None), base_iri) if result else None


def _literal_column(term_map: TermMap) -> ColumnMaker:
    reference = term_map.value
    suffix = (f"@{term_map.language}" if term_map.language
              else f"^^<{term_map.datatype}>" if term_map.datatype else "")

    def make(rows: Batch) -> Column:
        values = rows.cells(reference)
        if _needs_escapes(values):
            return [None if value is None else f'"{value.translate(_LITERAL_ESCAPES)}"{suffix}' for value in values]
        return [None if value is None else f'"{value}"{suffix}' for value in values]
    return make


def _needs_escapes(values: list[str | None]) -> bool:
    """Whether any value of a column needs N-Triples string escapes: one look at the whole column
    (most columns need none) instead of one per value."""
    text = "".join(value for value in values if value is not None)
    return '"' in text or "\\" in text or "\n" in text or "\r" in text


def _iri_template_column(term_map: TermMap, base_iri: str) -> ColumnMaker:
    parts = TEMPLATE_PART.split(term_map.value)
    texts = [_unescape(part) for part in parts[0::2]]
    references = [_unescape(part) for part in parts[1::2]]
    safe, safe_run = (_IRI_SAFE, _IRI_SAFE_RUN) if term_map.term_type is TermType.IRI else (_URI_SAFE, _URI_SAFE_RUN)
    # Letters and digits are safe everywhere (non-ASCII ones in IRIs only); str methods check that fastest.
    plain: Callable[[str], bool] = (str.isalnum if term_map.term_type is TermType.IRI
                                    else lambda value: value.isascii() and value.isalnum())
    # Encoded values hold no character an IRI forbids, so an absolute IRI prefix free of them makes
    # every filling a valid IRI; otherwise each filling is checked (and resolved) as the row path does.
    checked = bool(_ABSOLUTE_IRI.match(texts[0])) and not any(_FORBIDDEN_IN_IRI.search(text) for text in texts)

    def encoded(reference: str, rows: Batch) -> list[str | None]:
        values = rows.cells(reference)
        # One look at the whole column first: values made only of safe characters stay as they are.
        if safe_run.fullmatch("".join(value for value in values if value is not None)):
            return values
        return [None if value is None else value if plain(value) or safe_run.fullmatch(value)
                else _percent_encode(value, safe) for value in values]

    def make(rows: Batch) -> Column:
        columns = [encoded(reference, rows) for reference in references]
        if len(references) == 1:
            before, after = texts
            filled = [None if value is None else f"{before}{value}{after}" for value in columns[0]]
        else:
            filled = [None if None in values else "".join(_interleave(texts, values))
                      for values in zip(*columns, strict=True)]
        if checked:
            return [None if iri is None else f"<{iri}>" for iri in filled]
        return [None if iri is None else _row_term(rows, index, _iri, iri, base_iri)
                for index, iri in enumerate(filled)]
    return make


def _interleave(texts: list[str], values: tuple[str | None, ...]) -> list[str]:
    out = [texts[0]]
    for value, text in zip(values, texts[1:], strict=True):
        out.append(value or "")
        out.append(text)
    return out


def _row_by_row(term_map: TermMap, base_iri: str) -> ColumnMaker:
    """Any other term map (functions, blank nodes, language or datatype maps), one row at a time."""
    def make(rows: Batch) -> Column:
        return [_row_term(rows, index, _first_term, term_map, row, base_iri) for index, row in enumerate(rows.records)]
    return make


def _first_term(term_map: TermMap, record: Record, base_iri: str) -> str | None:
    terms = make_terms(term_map, record, base_iri)
    return terms[0] if terms else None


def _row_term(rows: Batch, index: int, make: Callable[..., str | None], *arguments: object) -> str | None:
    """One row's term, or None with the row's failure noted when the value cannot make one."""
    try:
        return make(*arguments)
    except RecordError as error:
        rows.failures.setdefault(index, error.problem)
        return None
