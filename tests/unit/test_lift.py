"""The RML engine of the foundation: term generation, both vocabularies, and its errors."""

from __future__ import annotations

import datetime
import json
from pathlib import Path

import pytest

from kg_service.errors import MappingError, RecordError, SourceError
from kg_service.lift import lift, load_mapping
from kg_service.lift.model import TermMap, TermType, ValueKind
from kg_service.lift.sources import CsvRecord
from kg_service.lift.terms import make_terms

BASE = "https://city.example/id/"


def _template(text: str, term_type: TermType = TermType.IRI) -> TermMap:
    return TermMap(ValueKind.TEMPLATE, text, term_type)


def test_templates_percent_encode_values_but_keep_chinese() -> None:
    terms = make_terms(_template("school/{name}"), CsvRecord({"name": "清河 一中/东校区"}), BASE)
    assert terms == ["<https://city.example/id/school/清河%20一中%2F东校区>"]


def test_absolute_templates_are_not_rebased() -> None:
    assert make_terms(_template("http://other.example/{id}"), CsvRecord({"id": "7"}), BASE) == [
        "<http://other.example/7>"]


def test_a_missing_or_empty_value_makes_no_term() -> None:
    assert make_terms(_template("x/{id}"), CsvRecord({"id": ""}), BASE) == []
    assert make_terms(TermMap(ValueKind.REFERENCE, "beds", TermType.LITERAL), CsvRecord({}), BASE) == []


def test_literals_are_escaped_and_typed() -> None:
    reference = TermMap(ValueKind.REFERENCE, "note", TermType.LITERAL, language="zh")
    assert make_terms(reference, CsvRecord({"note": 'say "hi"\nnow'}), BASE) == ['"say \\"hi\\"\\nnow"@zh']
    typed = TermMap(ValueKind.REFERENCE, "n", TermType.LITERAL, datatype="http://www.w3.org/2001/XMLSchema#integer")
    assert make_terms(typed, CsvRecord({"n": "12"}), BASE) == ['"12"^^<http://www.w3.org/2001/XMLSchema#integer>']


def test_a_reference_that_cannot_be_an_iri_is_a_record_error() -> None:
    with pytest.raises(RecordError, match="cannot make an IRI"):
        make_terms(TermMap(ValueKind.REFERENCE, "id", TermType.IRI), CsvRecord({"id": "has space"}), BASE)


RML_CORE = """
@prefix rml: <http://w3id.org/rml/> .
@prefix ex: <http://example.org/> .
<#Hospitals> a rml:TriplesMap ;
  rml:logicalSource [ rml:source "h.csv" ; rml:referenceFormulation rml:CSV ] ;
  rml:subjectMap [ rml:template "hospital/{code}" ; rml:class ex:Hospital ] ;
  rml:predicateObjectMap [ rml:predicate ex:beds ; rml:objectMap [ rml:reference "beds" ;
                           rml:datatype <http://www.w3.org/2001/XMLSchema#integer> ] ] ,
                         [ rml:predicate ex:page ; rml:objectMap [ rml:reference "url" ; rml:termType rml:IRI ] ] .
"""

LEGACY = """
@prefix rr: <http://www.w3.org/ns/r2rml#> .
@prefix rml: <http://semweb.mmlab.be/ns/rml#> .
@prefix ql: <http://semweb.mmlab.be/ns/ql#> .
@prefix csvw: <http://www.w3.org/ns/csvw#> .
@prefix ex: <http://example.org/> .
<#Hospitals> rml:logicalSource [ rml:source [ a csvw:Table ; csvw:url "h.csv" ;
                                 csvw:dialect [ csvw:delimiter ";" ] ] ; rml:referenceFormulation ql:CSV ] ;
  rr:subjectMap [ rr:template "hospital/{code}" ; rr:class ex:Hospital ] ;
  rr:predicateObjectMap [ rr:predicate ex:beds ; rr:objectMap [ rml:reference "beds" ;
                          rr:datatype <http://www.w3.org/2001/XMLSchema#integer> ] ] ,
                        [ rr:predicate ex:page ; rr:objectMap [ rml:reference "url" ; rr:termType rr:IRI ] ] .
"""


@pytest.mark.parametrize(("mapping", "delimiter"), [(RML_CORE, ","), (LEGACY, ";")], ids=["rml-core", "legacy"])
def test_both_vocabularies_lift_the_same_triples(tmp_path: Path, mapping: str, delimiter: str) -> None:
    (tmp_path / "h.csv").write_text(f"code{delimiter}beds{delimiter}url\nH1{delimiter}300{delimiter}"
                                    f"http://h1.example/\nH2{delimiter}{delimiter}\n", encoding="utf-8")
    (tmp_path / "m.ttl").write_text(mapping, encoding="utf-8")
    records = list(lift(load_mapping(tmp_path / "m.ttl"), BASE))
    assert [r.line for r in records] == [2, 3]
    assert sorted(records[0].triples) == sorted([
        "<https://city.example/id/hospital/H1> <http://www.w3.org/1999/02/22-rdf-syntax-ns#type> "
        "<http://example.org/Hospital> .",
        '<https://city.example/id/hospital/H1> <http://example.org/beds> '
        '"300"^^<http://www.w3.org/2001/XMLSchema#integer> .',
        "<https://city.example/id/hospital/H1> <http://example.org/page> <http://h1.example/> .",
    ])
    assert len(records[1].triples) == 1  # empty cells make no triple


def test_a_bad_record_does_not_stop_the_others(tmp_path: Path) -> None:
    (tmp_path / "h.csv").write_text("code,beds,url\nH1,1,bad url\nH2,2,http://ok.example/\n", encoding="utf-8")
    (tmp_path / "m.ttl").write_text(RML_CORE, encoding="utf-8")
    records = list(lift(load_mapping(tmp_path / "m.ttl"), BASE))
    assert records[0].error is not None and "cannot make an IRI" in records[0].error and not records[0].triples
    assert records[1].error is None and len(records[1].triples) == 3


def test_a_reference_to_a_missing_column_names_file_map_and_term(tmp_path: Path) -> None:
    (tmp_path / "h.csv").write_text("code,beds\nH1,1\n", encoding="utf-8")
    (tmp_path / "m.ttl").write_text(RML_CORE, encoding="utf-8")
    with pytest.raises(MappingError) as caught:
        list(lift(load_mapping(tmp_path / "m.ttl"), BASE))
    message = str(caught.value)
    assert str(tmp_path / "m.ttl") in message and "Hospitals" in message and "'url'" in message


@pytest.mark.parametrize(("text", "problem"), [
    ("this is not turtle", "not valid Turtle"),
    ("@prefix ex: <http://example.org/> . ex:a ex:b ex:c .", "no triples map"),
    ("@prefix rml: <http://w3id.org/rml/> . <#M> a rml:TriplesMap ; "
     "rml:logicalSource [ rml:source \"x.csv\" ] .", "no subject map"),
])
def test_malformed_mappings_are_named(tmp_path: Path, text: str, problem: str) -> None:
    (tmp_path / "m.ttl").write_text(text, encoding="utf-8")
    with pytest.raises(MappingError, match=problem) as caught:
        load_mapping(tmp_path / "m.ttl")
    assert str(tmp_path / "m.ttl") in str(caught.value)


def test_malformed_yarrrml_is_named(tmp_path: Path) -> None:
    (tmp_path / "m.yml").write_text("mappings: [unclosed", encoding="utf-8")
    with pytest.raises(MappingError, match="not valid YAML"):
        load_mapping(tmp_path / "m.yml")


def test_unsafe_iris_keep_values_as_they_are_and_uris_encode_non_ascii() -> None:
    record = CsvRecord({"name": "Zoë Krüger"})
    unsafe = make_terms(_template("http://example.com/{name}", TermType.UNSAFE_IRI), record, BASE)
    uri = make_terms(_template("http://example.com/{name}", TermType.URI), record, BASE)
    iri = make_terms(_template("http://example.com/{name}", TermType.IRI), record, BASE)
    assert unsafe == ["<http://example.com/Zoë Krüger>"]
    assert uri == ["<http://example.com/Zo%C3%AB%20Kr%C3%BCger>"]
    assert iri == ["<http://example.com/Zoë%20Krüger>"]


def test_json_sources_iterate_and_give_natural_datatypes(tmp_path: Path) -> None:
    (tmp_path / "h.json").write_text('{"items": [{"code": "H1", "beds": 300, "public": true, "wards": ["a", "b"]}]}',
                                     encoding="utf-8")
    (tmp_path / "m.ttl").write_text("""
@prefix rml: <http://w3id.org/rml/> .
@prefix ex: <http://example.org/> .
<#H> rml:logicalSource [ rml:source "h.json" ; rml:referenceFormulation rml:JSONPath ;
                         rml:iterator "$.items[*]" ] ;
  rml:subjectMap [ rml:template "hospital/{$.code}" ] ;
  rml:predicateObjectMap [ rml:predicate ex:beds ; rml:objectMap [ rml:reference "$.beds" ] ] ,
                         [ rml:predicate ex:public ; rml:objectMap [ rml:reference "$.public" ] ] ,
                         [ rml:predicate ex:ward ; rml:objectMap [ rml:reference "$.wards[*]" ] ] .
""", encoding="utf-8")
    (record,) = list(lift(load_mapping(tmp_path / "m.ttl"), BASE))
    subject = "<https://city.example/id/hospital/H1>"
    assert sorted(record.triples) == sorted([
        f'{subject} <http://example.org/beds> "300"^^<http://www.w3.org/2001/XMLSchema#integer> .',
        f'{subject} <http://example.org/public> "true"^^<http://www.w3.org/2001/XMLSchema#boolean> .',
        f'{subject} <http://example.org/ward> "a" .',
        f'{subject} <http://example.org/ward> "b" .',
    ])


def test_geojson_geometries_become_wkt(tmp_path: Path) -> None:
    (tmp_path / "parcels.geojson").write_text(json.dumps({"type": "FeatureCollection", "features": [
        {"type": "Feature", "properties": {"code": "P1"},
         "geometry": {"type": "Polygon", "coordinates": [[[120, 30], [120.01, 30], [120.01, 30.01], [120, 30]]]}},
        {"type": "Feature", "properties": {"code": "P2"}, "geometry": {"type": "Polygon", "coordinates": 5}},
    ]}), encoding="utf-8")
    (tmp_path / "m.ttl").write_text("""
@prefix rml: <http://w3id.org/rml/> .
@prefix geo: <http://www.opengis.net/ont/geosparql#> .
<#P> rml:logicalSource [ rml:source "parcels.geojson" ; rml:referenceFormulation rml:JSONPath ;
                         rml:iterator "$.features[*]" ] ;
  rml:subjectMap [ rml:template "parcel/{$.properties.code}" ] ;
  rml:predicateObjectMap [ rml:predicate geo:asWKT ;
                           rml:objectMap [ rml:reference "$.geometry" ; rml:datatype geo:wktLiteral ] ] .
""", encoding="utf-8")
    good, bad = list(lift(load_mapping(tmp_path / "m.ttl"), BASE))
    assert good.triples == ['<https://city.example/id/parcel/P1> <http://www.opengis.net/ont/geosparql#asWKT> '
                            '"POLYGON ((120 30, 120.01 30, 120.01 30.01, 120 30))"'
                            '^^<http://www.opengis.net/ont/geosparql#wktLiteral> .']
    assert bad.error is not None and "not a valid GeoJSON geometry" in bad.error


def test_excel_workbooks_read_as_tables(tmp_path: Path) -> None:
    from openpyxl import Workbook

    workbook = Workbook()
    sheet = workbook.active
    sheet.append(["机构代码", "床位数", "开业日期"])
    sheet.append(["H001", 1200, datetime.datetime(1998, 5, 1)])
    sheet.append([None, None, None])
    sheet.append(["H002", None, datetime.datetime(2010, 1, 15)])
    workbook.save(tmp_path / "hospitals.xlsx")
    (tmp_path / "m.ttl").write_text("""
@prefix rr: <http://www.w3.org/ns/r2rml#> .
@prefix rml: <http://semweb.mmlab.be/ns/rml#> .
@prefix ql: <http://semweb.mmlab.be/ns/ql#> .
@prefix ex: <http://example.org/> .
<#H> rml:logicalSource [ rml:source "hospitals.xlsx" ; rml:referenceFormulation ql:CSV ] ;
  rr:subjectMap [ rr:template "hospital/{机构代码}" ] ;
  rr:predicateObjectMap [ rr:predicate ex:beds ; rr:objectMap [ rml:reference "床位数" ] ] ,
                        [ rr:predicate ex:opened ; rr:objectMap [ rml:reference "开业日期" ] ] .
""", encoding="utf-8")
    records = list(lift(load_mapping(tmp_path / "m.ttl"), BASE))
    assert [r.line for r in records] == [2, 4]  # the empty row is no record
    assert sorted(records[0].triples) == [
        '<https://city.example/id/hospital/H001> <http://example.org/beds> "1200" .',
        '<https://city.example/id/hospital/H001> <http://example.org/opened> "1998-05-01" .',
    ]
    assert records[1].triples == ['<https://city.example/id/hospital/H002> <http://example.org/opened> "2010-01-15" .']


def test_sqlite_tables_and_queries(tmp_path: Path) -> None:
    import sqlite3

    database = tmp_path / "civil.sqlite"
    with sqlite3.connect(database) as connection:
        connection.execute('CREATE TABLE "社区" (code TEXT, name TEXT, population INTEGER, district TEXT)')
        rows = [("990101001001", "东门社区", 8200, "990101"), ("990101001002", "西街社区", None, "990101")]
        connection.executemany('INSERT INTO "社区" VALUES (?, ?, ?, ?)', rows)
    connection.close()
    for source in ('rr:tableName "社区"', 'rml:query "SELECT code, name, population FROM 社区 ORDER BY code"'):
        (tmp_path / "m.ttl").write_text(f"""
@prefix rr: <http://www.w3.org/ns/r2rml#> .
@prefix rml: <http://semweb.mmlab.be/ns/rml#> .
@prefix ex: <http://example.org/> .
<#C> rml:logicalSource [ rml:source "civil.sqlite" ; {source} ] ;
  rr:subjectMap [ rr:template "community/{{code}}" ] ;
  rr:predicateObjectMap [ rr:predicate ex:population ; rr:objectMap [ rml:reference "population" ;
                          rr:datatype <http://www.w3.org/2001/XMLSchema#integer> ] ] .
""", encoding="utf-8")
        records = list(lift(load_mapping(tmp_path / "m.ttl"), BASE))
        assert [len(r.triples) for r in records] == [1, 0], source  # NULL makes no triple
        assert records[0].triples == [
            '<https://city.example/id/community/990101001001> <http://example.org/population> '
            '"8200"^^<http://www.w3.org/2001/XMLSchema#integer> .']


def test_a_missing_database_names_the_path(tmp_path: Path) -> None:
    (tmp_path / "m.ttl").write_text("""
@prefix rr: <http://www.w3.org/ns/r2rml#> .
@prefix rml: <http://semweb.mmlab.be/ns/rml#> .
<#C> rml:logicalSource [ rml:source "missing.sqlite" ; rr:tableName "t" ] ;
  rr:subjectMap [ rr:template "x/{id}" ] .
""", encoding="utf-8")
    with pytest.raises(SourceError, match="does not exist") as caught:
        list(lift(load_mapping(tmp_path / "m.ttl"), BASE))
    assert str(tmp_path / "missing.sqlite") in str(caught.value)
