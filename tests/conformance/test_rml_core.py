"""The RML-Core conformance suite (../shared/conformance/rml-core), driven by its metadata.csv and
compared per named graph. The closing line `rml-core: N passed, N failed` is printed at the end of
the run; excluded cases are listed there with their reasons."""

from __future__ import annotations

import pytest

from tests.conformance.rml import SUITES, Case, read_cases, run_case
from tests.conformance.summary import record

METADATA = SUITES / "rml-core" / "test-cases" / "metadata.csv"
CASES = read_cases(METADATA) if METADATA.is_file() else []
EXCLUDED = {
    "RMLTC0027b-JSON": "rml:UnsafeIRI: the expected output holds IRIs with spaces, which no N-Quads parser "
                       "accepts, so it cannot be compared; the engine makes them as asked (tests/unit)",
}


def test_the_suite_is_there() -> None:
    assert len(CASES) == 76, f"expected the 76 cases of {METADATA}"


@pytest.mark.parametrize("case", [c for c in CASES if c.id not in EXCLUDED], ids=lambda c: c.id)
def test_case(case: Case) -> None:
    problem = run_case(case)
    record("rml-core", case.id, problem)
    assert problem is None, problem


def test_excluded_cases_are_listed() -> None:
    for case_id, reason in EXCLUDED.items():
        record("rml-core", case_id, None, excluded=reason)
    assert set(EXCLUDED) <= {c.id for c in CASES}
