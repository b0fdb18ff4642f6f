"""The legacy RML suite's CSV, JSON and XML cases (../shared/conformance/rml-legacy), compared per
named graph. Its SQL cases (MySQL, PostgreSQL, SQL Server) and SPARQL cases need database sources,
which the engine does not read yet. Quirks of the suite, handled in tests/conformance/rml.py: an
empty expected output means "an error or an empty graph"; RMLTC0002g-JSON has no metadata row;
relative IRIs resolve against http://example.com/base/."""

from __future__ import annotations

import pytest

from tests.conformance.rml import SUITES, Case, check_case, read_legacy_cases

ROOT = SUITES / "rml-legacy"
CASES = read_legacy_cases(ROOT) if (ROOT / "metadata.csv").is_file() else []
# Cases this engine fails, each with its reason; a strict xfail turns red when one starts passing.
KNOWN_FAILURES = {
    "RMLTC0002c-JSON": "a reference to a key no JSON record has is an error here, but JSON has no schema to "
                       "check references against before reading; the engine makes no triple for it",
    "RMLTC0002c-XML": "the same for an XPath reference that matches nothing",
}


def test_the_suite_is_there() -> None:
    assert len(CASES) == 118, f"expected 118 CSV, JSON and XML cases under {ROOT}"


@pytest.mark.parametrize("case", CASES, ids=lambda c: c.id)
def test_case(case: Case, request: pytest.FixtureRequest) -> None:
    check_case("rml-legacy (CSV, JSON, XML)", case, KNOWN_FAILURES, request)
