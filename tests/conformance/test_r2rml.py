"""The W3C R2RML test cases (../shared/conformance/w3c-r2rml), driven by each database folder's
manifest.ttl, against the throwaway server of tests/integration/postgres.py and compared per named
graph. Each case loads its database's create.sql into a fresh database, which the harness gives the
engine (R2RML leaves the connection to the processor). The Direct Mapping cases of the same
manifests are not R2RML and are not run. The closing line `w3c-r2rml: N passed, N failed` is
printed at the end of the run, with the excluded cases and their reasons."""

from __future__ import annotations

from pathlib import Path

import pytest
from rdflib import Graph, Namespace
from rdflib.namespace import DC, RDF

from tests.conformance.rml import SUITES, Case, check_case
from tests.conformance.summary import record
from tests.integration.postgres import fresh_database

ROOT = SUITES / "w3c-r2rml"
SUITE = "w3c-r2rml"
BASE = "http://example.com/base/"
TEST = Namespace("http://purl.org/NET/rdb2rdf-test#")
# The queries of R2RMLTC0002d, 0003b and 0014a-c are written for SQL Server: `+` joins strings and
# nvarchar is a type. Each test database gets both, so that those queries mean in PostgreSQL what they
# mean there; the engine passes queries to the database unchanged.
SQL_SERVER_COMPATIBILITY = """
CREATE DOMAIN nvarchar AS varchar;
CREATE OPERATOR + (LEFTARG = text, RIGHTARG = text, FUNCTION = textcat);
"""


def read_r2rml_cases(root: Path) -> list[Case]:
    """The R2RML cases every database folder's manifest.ttl lists."""
    cases = []
    for manifest in sorted(root.glob("D*/manifest.ttl")):
        graph = Graph().parse(manifest, format="turtle")
        for node in graph.subjects(RDF.type, TEST.R2RML):
            output = graph.value(node, TEST.output)
            cases.append(Case(id=str(graph.value(node, DC.identifier)), folder=manifest.parent,
                              mapping=manifest.parent / str(graph.value(node, TEST.mappingDocument)),
                              expected=manifest.parent / str(output) if output is not None else None,
                              expects_error=not graph.value(node, TEST.hasExpectedOutput).toPython(),
                              base_iri=BASE))
    return sorted(cases, key=lambda case: case.id)


CASES = read_r2rml_cases(ROOT) if ROOT.is_dir() else []
EXCLUDED = {
    case_id: "D016's create.sql is not PostgreSQL (datetime, bit and VARBINARY columns, 0x... literals), so its "
             "database cannot be built; the same datatype cases run in PostgreSQL form in the legacy RML "
             "suite (RMLTC0016a-e-PostgreSQL, tests/conformance/test_rml_legacy_postgres.py)"
    for case_id in ("R2RMLTC0016a", "R2RMLTC0016b", "R2RMLTC0016c", "R2RMLTC0016d", "R2RMLTC0016e")
}
# Cases this engine fails, each with its reason; a strict xfail turns red when one starts passing.
KNOWN_FAILURES: dict[str, str] = {}


def test_the_suite_is_there() -> None:
    assert len(CASES) == 63, f"expected the 63 R2RML cases of the manifests under {ROOT}"


@pytest.mark.parametrize("case", [c for c in CASES if c.id not in EXCLUDED], ids=lambda c: c.id)
def test_case(case: Case, postgres_server: str, request: pytest.FixtureRequest) -> None:
    script = (case.folder / "create.sql").read_text(encoding="utf-8-sig")
    database = fresh_database(postgres_server, "r2rml_case", SQL_SERVER_COMPATIBILITY + script)
    check_case(SUITE, case, KNOWN_FAILURES, request, database=database)


def test_excluded_cases_are_listed() -> None:
    for case_id, reason in EXCLUDED.items():
        record(SUITE, case_id, None, excluded=reason)
    assert set(EXCLUDED) <= {c.id for c in CASES}
