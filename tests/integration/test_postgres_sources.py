"""PostgreSQL logical sources against a real server: natural datatypes of SQL values, and the errors a
user sees for an unreachable database, a bad query or a missing column."""

from __future__ import annotations

import socket
from pathlib import Path

import psycopg
import pytest
from psycopg.conninfo import conninfo_to_dict

from kg_service.errors import MappingError, SourceError
from kg_service.lift import lift, load_mapping
from tests.integration.postgres import fresh_database

BASE = "https://city.example/id/"
XSD = "http://www.w3.org/2001/XMLSchema#"
PREFIXES = """
@prefix rr: <http://www.w3.org/ns/r2rml#> .
@prefix rml: <http://semweb.mmlab.be/ns/rml#> .
@prefix d2rq: <http://www.wiwiss.fu-berlin.de/suhl/bizer/D2RQ/0.1#> .
@prefix ex: <http://example.org/> .
"""
SITES = """
CREATE TABLE site (id integer PRIMARY KEY, area numeric(10, 3), height real, depth double precision,
                   open boolean, opened date, closes time, surveyed timestamp, updated timestamptz,
                   code bytea, note text);
INSERT INTO site VALUES (1, 1250.500, 80.25, 0.1, true, '2023-04-01', '18:30:00', '2023-04-01 09:15:00',
                         '2023-04-01 09:15:00+08', '\\x0aff', NULL);
"""


def _jdbc_url(dsn: str) -> str:
    parts = conninfo_to_dict(dsn)
    return f"jdbc:postgresql://{parts['host']}:{parts['port']}/{parts['dbname']}"


def _mapping(folder: Path, url: str, source: str, objects: str, password: str = "") -> Path:
    path = folder / "sites.rml.ttl"
    path.write_text(PREFIXES + f"""
<#Sites> rml:logicalSource [ rml:source <#db> ; {source} ] ;
  rr:subjectMap [ rr:template "site/{{id}}" ] ;
  {objects} .
<#db> a d2rq:Database ; d2rq:jdbcDSN "{url}" ; d2rq:username "postgres" ; d2rq:password "{password}" .
""", encoding="utf-8")
    return path


def _object(column: str) -> str:
    return f'rr:predicateObjectMap [ rr:predicate ex:{column} ; rr:objectMap [ rml:reference "{column}" ] ]'


def test_sql_values_make_natural_rdf_literals(postgres_server: str, tmp_path: Path) -> None:
    database = fresh_database(postgres_server, "sources_natural", SITES)
    columns = ("area", "height", "depth", "open", "opened", "closes", "surveyed", "updated", "code", "note", "id")
    mapping = _mapping(tmp_path, _jdbc_url(database), 'rr:tableName "site"', " ; ".join(map(_object, columns)))
    [record] = list(lift(load_mapping(mapping), BASE))
    objects = {triple.split(" ", 2)[1]: triple.split(" ", 2)[2].removesuffix(" .") for triple in record.triples}
    assert objects == {
        "<http://example.org/id>": f'"1"^^<{XSD}integer>',
        "<http://example.org/area>": f'"1250.5"^^<{XSD}decimal>',
        "<http://example.org/height>": f'"8.025E1"^^<{XSD}double>',
        "<http://example.org/depth>": f'"1.0E-1"^^<{XSD}double>',
        "<http://example.org/open>": f'"true"^^<{XSD}boolean>',
        "<http://example.org/opened>": f'"2023-04-01"^^<{XSD}date>',
        "<http://example.org/closes>": f'"18:30:00"^^<{XSD}time>',
        "<http://example.org/surveyed>": f'"2023-04-01T09:15:00"^^<{XSD}dateTime>',
        "<http://example.org/updated>": f'"2023-04-01T01:15:00+00:00"^^<{XSD}dateTime>',  # the server runs in UTC
        "<http://example.org/code>": f'"0AFF"^^<{XSD}hexBinary>',
    }  # note is NULL: no triple


def test_an_unreachable_database_names_it_without_the_password(tmp_path: Path) -> None:
    with socket.socket() as probe:  # a port nothing listens on
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    mapping = _mapping(tmp_path, f"jdbc:postgresql://127.0.0.1:{port}/city", 'rr:tableName "site"', _object("id"),
                       password="s3cret-password")
    with pytest.raises(SourceError) as caught:
        list(lift(load_mapping(mapping), BASE))
    message = str(caught.value)
    assert f"postgres@127.0.0.1:{port}/city" in message
    assert "cannot connect" in message and caught.value.hint and "password" in caught.value.hint
    assert "s3cret-password" not in message
    assert "s3cret-password" not in repr(load_mapping(mapping).triples_maps[0].source)


def test_a_bad_query_names_the_triples_map(postgres_server: str, tmp_path: Path) -> None:
    database = fresh_database(postgres_server, "sources_bad_query", SITES)
    mapping = _mapping(tmp_path, _jdbc_url(database), 'rml:query "SELECT id FROM no_such_table"', _object("id"))
    with pytest.raises(MappingError, match="no_such_table") as caught:
        list(lift(load_mapping(mapping), BASE))
    assert caught.value.where is not None
    assert caught.value.where.startswith(f"{mapping}: triples map <") and caught.value.where.endswith("#Sites>")


@pytest.mark.parametrize(("query", "problem"), [
    ("SELECT id, note AS id FROM site", "gives column id more than once"),
    ("SELECT note FROM site", "has no column id"),
])
def test_a_query_whose_columns_do_not_fit_the_mapping_is_a_mapping_error(
        postgres_server: str, tmp_path: Path, query: str, problem: str) -> None:
    database = fresh_database(postgres_server, "sources_columns", SITES)
    mapping = _mapping(tmp_path, _jdbc_url(database), f'rml:query "{query}"', _object("id"))
    with pytest.raises(MappingError, match=problem):
        list(lift(load_mapping(mapping), BASE))


def test_r2rml_identifiers_fold_as_postgresql_does(postgres_server: str, tmp_path: Path) -> None:
    database = fresh_database(postgres_server, "sources_r2rml",
                              'CREATE TABLE "Site" ("ID" integer, Name text); INSERT INTO "Site" VALUES (7, \'Pier\');')
    mapping = tmp_path / "sites.r2rml.ttl"
    mapping.write_text(PREFIXES + """
<#Sites> rr:logicalTable [ rr:tableName "\\"Site\\"" ] ;
  rr:subjectMap [ rr:template "site/{\\"ID\\"}" ] ;
  rr:predicateObjectMap [ rr:predicate ex:name ; rr:objectMap [ rr:column "NAME" ] ] .
""", encoding="utf-8")
    [record] = list(lift(load_mapping(mapping, database=database), BASE))
    assert record.triples == ['<https://city.example/id/site/7> <http://example.org/name> "Pier" .']
    mapping.write_text(mapping.read_text().replace('{\\"ID\\"}', "{ID}"))  # a regular identifier: "id"
    with pytest.raises(MappingError, match='no column "id"'):
        list(lift(load_mapping(mapping, database=database), BASE))


def test_an_r2rml_logical_table_needs_a_database(tmp_path: Path) -> None:
    mapping = tmp_path / "sites.r2rml.ttl"
    mapping.write_text(PREFIXES + '<#Sites> rr:logicalTable [ rr:tableName "site" ] ; '
                                  'rr:subjectMap [ rr:template "site/{id}" ] .', encoding="utf-8")
    with pytest.raises(MappingError, match="does not name") as caught:
        load_mapping(mapping)
    assert caught.value.hint and "database" in caught.value.hint


def test_only_postgresql_servers_are_read(tmp_path: Path) -> None:
    mapping = _mapping(tmp_path, "jdbc:mysql://localhost:3306/city", 'rr:tableName "site"', _object("id"))
    with pytest.raises(MappingError, match="not a PostgreSQL database"):
        load_mapping(mapping)


def test_the_test_server_listens_on_the_loopback_interface_only(postgres_server: str) -> None:
    with psycopg.connect(postgres_server) as connection:
        row = connection.execute("SHOW listen_addresses").fetchone()
    assert row == ("127.0.0.1",)
