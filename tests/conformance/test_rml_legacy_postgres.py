"""The legacy RML suite's PostgreSQL cases (../shared/conformance/rml-legacy, *-PostgreSQL), against
the throwaway server of tests/integration/postgres.py, compared per named graph.

Each case's resource.sql is loaded into a fresh database, and its mapping's d2rq:Database, whose
d2rq:jdbcDSN is the placeholder CONNECTIONDSN, is pointed at it. The closing line
`rml-legacy (PostgreSQL): N passed, N failed` is printed at the end of the run."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import pytest
from psycopg.conninfo import conninfo_to_dict

from tests.conformance.rml import SUITES, Case, check_case, read_legacy_cases
from tests.integration.postgres import fresh_database

ROOT = SUITES / "rml-legacy"
SUITE = "rml-legacy (PostgreSQL)"
CASES = read_legacy_cases(ROOT, formats=("PostgreSQL",)) if (ROOT / "metadata.csv").is_file() else []
# The 0016 scripts write bytea values as '\\x89...', which is the hex form only when backslashes
# escape in string literals, as they did before PostgreSQL 9.1 made standard_conforming_strings on.
SCRIPT_SETTINGS = {"standard_conforming_strings": "off"}
# Cases this engine fails, each with its reason; a strict xfail turns red when one starts passing.
KNOWN_FAILURES = {
    "RMLTC0002f-PostgreSQL": "the suite expects an error for the references ID and Name, but resource.sql creates "
                             "the columns without quotes, so PostgreSQL names them id and name, which ID and Name "
                             "match as regular identifiers (as DateOfBirth must match dateofbirth in RMLTC0013a); "
                             "the case comes from R2RMLTC0002f, whose columns are the delimited \"ID\" and \"Name\"",
    "RMLTC0015a-PostgreSQL": "the query names \"Country\", \"Code\", \"Name\" and \"Lan\" as delimited identifiers "
                             "but resource.sql creates them without quotes (country, code, ...), so PostgreSQL "
                             "refuses the query; the expected output assumes it runs",
}


def test_the_suite_is_there() -> None:
    assert len(CASES) == 60, f"expected the 60 PostgreSQL cases under {ROOT}"


@pytest.mark.parametrize("case", CASES, ids=lambda c: c.id)
def test_case(case: Case, postgres_server: str, tmp_path: Path, request: pytest.FixtureRequest) -> None:
    script = (case.folder / "resource.sql").read_text(encoding="utf-8-sig")
    dsn = fresh_database(postgres_server, "rml_legacy_case", script, SCRIPT_SETTINGS)
    server = conninfo_to_dict(dsn)
    jdbc_url = f"jdbc:postgresql://{server['host']}:{server['port']}/{server['dbname']}"
    mapping = tmp_path / "mapping.ttl"
    mapping.write_text(case.mapping.read_text(encoding="utf-8").replace("CONNECTIONDSN", jdbc_url),
                       encoding="utf-8")
    check_case(SUITE, dataclasses.replace(case, mapping=mapping), KNOWN_FAILURES, request)
