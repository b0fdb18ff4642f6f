"""Functions for messy data, alone and called from a YARRRML mapping (through yatter's RML-FNML)."""

from __future__ import annotations

from pathlib import Path

import pytest

from kg_service.errors import MappingError, RecordError
from kg_service.lift import lift, load_mapping
from kg_service.lift.functions import FROM_UNIT, TO_UNIT, VALUE, convert_unit, normalise_code, parse_date, trim


@pytest.mark.parametrize(("text", "iso"), [
    ("2023年4月1日", "2023-04-01"), ("2023 年 4 月 1 日", "2023-04-01"), ("2023/4/1", "2023-04-01"),
    ("2023.04.01", "2023-04-01"), ("20230401", "2023-04-01"), ("2023-4-1", "2023-04-01"),
    ("2023-04-01 08:30:00", "2023-04-01"), ("２０２３年４月１日", "2023-04-01"),
])
def test_parse_date_reads_the_common_chinese_forms(text: str, iso: str) -> None:
    assert parse_date({VALUE: text}) == iso


@pytest.mark.parametrize("text", ["2023年13月1日", "April 1st", "2023-02-30", ""])
def test_parse_date_refuses_what_is_not_a_date(text: str) -> None:
    with pytest.raises(RecordError):
        parse_date({VALUE: text})


@pytest.mark.parametrize(("value", "source", "target", "expected"), [
    ("1200.5", "万元", "元", "12005000"), ("3", "亿元", "万元", "30000"), ("15", "亩", "m2", "10000"),
    ("2.5", "公里", "m", "2500"), ("1,500", "m2", "ha", "0.15"), ("10", "万m3/d", "m3/d", "100000"),
])
def test_convert_unit(value: str, source: str, target: str, expected: str) -> None:
    assert convert_unit({VALUE: value, FROM_UNIT: source, TO_UNIT: target}) == expected


def test_convert_unit_refuses_unknown_or_mismatched_units() -> None:
    with pytest.raises(RecordError, match="unknown unit"):
        convert_unit({VALUE: "1", FROM_UNIT: "斤", TO_UNIT: "元"})
    with pytest.raises(RecordError, match="cannot convert"):
        convert_unit({VALUE: "1", FROM_UNIT: "万元", TO_UNIT: "m2"})
    with pytest.raises(RecordError, match="not a number"):
        convert_unit({VALUE: "many", FROM_UNIT: "万元", TO_UNIT: "元"})


def test_normalise_code_and_trim() -> None:
    assert normalise_code({VALUE: " 9199-0101ＭＡ01 qh0a1g "}) == "91990101MA01QH0A1G"
    assert trim({VALUE: "\u3000清河  第一\xa0中学 "}) == "清河 第一 中学"


MAPPING = """
prefixes:
  ex: "http://example.org/"
  cityfn: "https://w3id.org/citykg/functions#"
mappings:
  school:
    sources:
      - ["schools.csv~csv"]
    s: "school/$(code)"
    po:
      - p: "ex:opened"
        o:
          function: "cityfn:parseDate"
          parameters:
            - ["cityfn:value", "$(opened)"]
      - p: "ex:code"
        o:
          function: "cityfn:normaliseCode"
          parameters:
            - ["cityfn:value", "$(code)"]
"""


def test_a_yarrrml_function_call_lifts_and_a_bad_value_fails_only_its_record(tmp_path: Path) -> None:
    """parseDate's result is typed xsd:date by the function's declared return type."""
    (tmp_path / "schools.csv").write_text("code,opened\nS01,1998年9月1日\nS02,someday\nS03,\n", encoding="utf-8")
    (tmp_path / "m.yml").write_text(MAPPING, encoding="utf-8")
    first, bad, empty = lift(load_mapping(tmp_path / "m.yml"), "https://city.example/id/")
    assert sorted(first.triples) == [
        '<https://city.example/id/school/S01> <http://example.org/code> "S01" .',
        '<https://city.example/id/school/S01> <http://example.org/opened> '
        '"1998-09-01"^^<http://www.w3.org/2001/XMLSchema#date> .',
    ]
    assert bad.error is not None and "not a date" in bad.error and not bad.triples
    assert empty.error is None  # an empty input is NULL: no opening date, not an error
    assert empty.triples == ['<https://city.example/id/school/S03> <http://example.org/code> "S03" .']


def test_an_unknown_function_is_a_mapping_error(tmp_path: Path) -> None:
    (tmp_path / "schools.csv").write_text("code,opened\nS01,1998\n", encoding="utf-8")
    (tmp_path / "m.yml").write_text(MAPPING.replace("cityfn:parseDate", "cityfn:parseDat"), encoding="utf-8")
    with pytest.raises(MappingError, match="unknown function") as caught:
        load_mapping(tmp_path / "m.yml")
    assert "parseDat" in str(caught.value) and "known functions" in str(caught.value)
