"""The compiled fast path for CSV sources makes exactly what the per-record path makes, row for row,
fails a bad row alone, and streams: memory does not grow with the number of rows."""

from __future__ import annotations

import csv
import io
import shutil
import tracemalloc
from pathlib import Path

import pytest

from kg_service.config import project_path
from kg_service.generate import generate_source
from kg_service.lift import engine, lift, load_mapping
from kg_service.lift.model import Mapping
from kg_service.lift.output import LiftCounts, statement_batches, write_statements
from kg_service.lift.sources import iter_records

BASE = "https://city.example/id/"
MAPPING = """
@prefix rr: <http://www.w3.org/ns/r2rml#> .
@prefix rml: <http://semweb.mmlab.be/ns/rml#> .
@prefix ql: <http://semweb.mmlab.be/ns/ql#> .
@prefix city: <https://city.example/ontology#> .
@prefix xsd: <http://www.w3.org/2001/XMLSchema#> .
<#Site> rml:logicalSource [ rml:source "sites.csv" ; rml:referenceFormulation ql:CSV ] ;
  rr:subjectMap [ rr:template "site/{code}" ; rr:class city:Site, city:Facility ] ;
  rr:predicateObjectMap [ rr:predicate city:name ; rr:objectMap [ rml:reference "name" ; rr:language "zh" ] ] ,
    [ rr:predicate city:capacity ; rr:objectMap [ rml:reference "capacity" ; rr:datatype xsd:decimal ] ] ,
    [ rr:predicate city:homepage ; rr:objectMap [ rml:reference "homepage" ; rr:termType rr:IRI ] ] ,
    [ rr:predicate city:inDistrict, city:near ;
      rr:objectMap [ rr:template "http://other.example/d/{district}/{code}" ] ] ,
    [ rr:predicate city:label ; rr:objectMap [ rr:template "{name} ({district})" ; rr:termType rr:Literal ] ] ,
    [ rr:predicate city:operator ; rr:objectMap [ rr:parentTriplesMap <#Operator> ;
        rr:joinCondition [ rr:child "operator" ; rr:parent "id" ] ] ] ,
    [ rr:predicate city:self ; rr:objectMap [ rr:parentTriplesMap <#Site> ] ] ,
    [ rr:predicate city:tag ; rr:objectMap [ rr:constant "open" ] ] .
<#Operator> rml:logicalSource [ rml:source "operators.csv" ; rml:referenceFormulation ql:CSV ] ;
  rr:subjectMap [ rr:template "operator/{id}" ] ;
  rr:predicateObjectMap [ rr:predicate city:name ; rr:objectMap [ rml:reference "name" ] ] .
"""
HEADER = ["code", "name", "capacity", "homepage", "district", "operator"]
MESSY_ROWS = [
    ["S1", "清河 一中", "12.5", "http://school.example/1", "D1", "O1"],
    ["S2", 'say "hi"\nback\\slash', "", "", "D/2", "O2"],  # escapes, empty cells, a slash to encode
    ["", "no code", "1", "", "D1", "O1"],  # no subject: skipped with a reason
    ["S 4", "space", "2", "not an iri", "D1", "O9"],  # a value that is no IRI: this record fails alone
    ["S5", "short row"],  # wrong number of fields: fails alone
    ["S6", "Ünïcode ☃", "3", "", "Bezirk ä", ""],
]


def _write(folder: Path, rows: list[list[str]]) -> Mapping:
    (folder / "mapping.ttl").write_text(MAPPING, encoding="utf-8")
    with (folder / "sites.csv").open("w", encoding="utf-8", newline="") as handle:
        csv.writer(handle).writerows([HEADER, *rows])
    (folder / "operators.csv").write_text("id,name\nO1,Water Co\nO2,Health Co\nO2,Second name\n", encoding="utf-8")
    return load_mapping(folder / "mapping.ttl")


def _row_by_row(mapping: Mapping) -> list[engine.LiftedRecord]:
    parents = engine._ParentIndex(mapping, BASE)
    return [engine._lift_one(tm, line, record, BASE, parents)
            for tm in mapping.triples_maps for line, record in iter_records(tm.source)]


def _comparable(record: engine.LiftedRecord) -> tuple[object, ...]:
    return (record.line, record.values, record.subject, sorted(record.triples), record.error, record.skip_reason)


def test_the_fast_path_makes_what_the_row_path_makes(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(engine, "BATCH_ROWS", 4)  # several batches, one of them with bad rows in it
    mapping = _write(tmp_path, MESSY_ROWS * 3)
    fast = list(lift(mapping, BASE))
    slow = _row_by_row(mapping)
    assert [_comparable(r) for r in fast] == [_comparable(r) for r in slow]
    assert sum(r.error is not None for r in fast) == 6
    assert sum(r.skip_reason is not None for r in fast) == 3
    made = {r.subject: " ".join(r.triples) for r in fast}
    assert f'<{BASE}operator/O1> .' in made[f"<{BASE}site/S1>"]
    assert '<http://other.example/d/D%2F2/S2>' in made[f"<{BASE}site/S2>"]
    assert r'"say \"hi\"\nback\\slash"@zh' in made[f"<{BASE}site/S2>"]


def test_a_batch_of_good_rows_takes_the_compiled_plan(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    calls: list[int] = []
    original = engine._lift_one
    monkeypatch.setattr(engine, "_lift_one", lambda *args: calls.append(1) or original(*args))
    mapping = _write(tmp_path, [MESSY_ROWS[0], MESSY_ROWS[1], MESSY_ROWS[5]])
    records = [r for r in lift(mapping, BASE) if r.source.name == "sites.csv"]
    assert len(records) == 3 and all(r.error is None for r in records)
    assert calls == [], "good rows went row by row"


def test_a_bad_value_fails_its_row_alone_on_the_compiled_plan(tmp_path: Path, monkeypatch: pytest.MonkeyPatch
                                                               ) -> None:
    calls: list[int] = []
    original = engine._lift_one
    monkeypatch.setattr(engine, "_lift_one", lambda *args: calls.append(1) or original(*args))
    mapping = _write(tmp_path, [MESSY_ROWS[0], MESSY_ROWS[3], MESSY_ROWS[5]])
    records = [r for r in lift(mapping, BASE) if r.source.name == "sites.csv"]
    assert calls == [], "a batch with one bad value went row by row"
    assert [r.error is not None for r in records] == [False, True, False]
    assert records[1].triples == [] and "not an iri" in (records[1].error or "")
    assert [_comparable(r) for r in records] == [_comparable(r) for r in _row_by_row(mapping)
                                                 if r.source.name == "sites.csv"]


def test_function_columns_make_what_the_row_path_makes(tmp_path: Path) -> None:
    """The flow readings convert units with a function; generated readings include unknown units."""
    shutil.copytree(project_path("mappings") / "water", tmp_path / "water")
    generate_source("water/flow-readings", tmp_path / "water" / "sample", 3000, 5)
    mapping = load_mapping(tmp_path / "water" / "flow-readings.rml.ttl")
    fast = list(lift(mapping, BASE))
    assert any(r.error and "unknown unit" in r.error for r in fast)
    assert [_comparable(r) for r in fast] == [_comparable(r) for r in _row_by_row(mapping)]


def test_output_streams_every_statement_and_counts_every_record(tmp_path: Path) -> None:
    mapping = _write(tmp_path, MESSY_ROWS)
    problems: list[engine.LiftedRecord] = []
    sink = io.BytesIO()
    counts = write_statements(mapping, BASE, sink, problems.append)
    lines = sink.getvalue().decode().splitlines()
    assert counts.read == counts.lifted + counts.failed + counts.skipped == len(MESSY_ROWS) + 3
    assert (counts.failed, counts.skipped) == (2, 1)
    assert counts.statements == len(lines) == sum(len(r.triples) for r in lift(mapping, BASE))
    # CSV lines: the second row spans two lines
    assert [(p.line, p.error is not None) for p in problems] == [(5, False), (6, True), (7, True)]


def test_memory_stays_bounded_however_many_rows(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Peak memory while streaming 10k rows stays near that of 1k rows (it would grow tenfold if
    anything held every row or statement). Small batches keep the traced run short."""
    monkeypatch.setattr(engine, "BATCH_ROWS", 250)
    peaks = []
    for rows in (1_000, 10_000):
        folder = tmp_path / str(rows)
        folder.mkdir()
        mapping = _write(folder, [[f"S{i}", f"站点{i}", str(i), "", f"D{i % 7}", "O1"] for i in range(rows)])
        counts = LiftCounts()
        tracemalloc.start()
        for _ in statement_batches(mapping, BASE, counts):
            pass
        peaks.append(tracemalloc.get_traced_memory()[1])
        tracemalloc.stop()
        assert counts.lifted == rows + 3
    assert peaks[1] < 2 * peaks[0], f"peak memory grew from {peaks[0]} to {peaks[1]} bytes"
