"""The RML-IO suite's source cases (RMLSTC*, ../shared/conformance/rml-io): encodings, compression,
NULL values, reference formulations, malformed sources. Compared per named graph."""

from __future__ import annotations

import pytest

from tests.conformance.rml import SUITES, Case, check_case, read_cases

METADATA = SUITES / "rml-io" / "test-cases" / "metadata.csv"
CASES = [c for c in read_cases(METADATA) if c.id.startswith("RMLSTC")] if METADATA.is_file() else []
# Cases this engine fails, each with its reason; a strict xfail turns red when one starts passing.
KNOWN_FAILURES = {
    "RMLSTC0003": "an RDF source queried with SPARQL: not a source kind the engine reads yet",
    "RMLSTC0006a": "an RML-IO database source (rml:SQL2008Table, the table named by rml:iterator, data given as "
                   "a CSV file): the loader reads the legacy and R2RML database sources, not this formulation yet",
    "RMLSTC0009a": "the suite expects an error for a header whose names are quoted; the engine reads "
                   "quoted fields as RFC 4180 says, so the names are id, name, age and the rows map",
}


def test_the_suite_is_there() -> None:
    assert len(CASES) == 32, f"expected the 32 source cases of {METADATA}"


@pytest.mark.parametrize("case", CASES, ids=lambda c: c.id)
def test_case(case: Case, request: pytest.FixtureRequest) -> None:
    check_case("rml-io (sources)", case, KNOWN_FAILURES, request)
