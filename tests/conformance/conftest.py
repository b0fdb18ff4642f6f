"""Prints each conformance suite's tally at the end of the run."""

from __future__ import annotations

import pytest

from tests.conformance.summary import TALLIES


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    for suite, tally in sorted(TALLIES.items()):
        terminalreporter.write_line("")
        for case_id, reason in tally.excluded:
            terminalreporter.write_line(f"{suite} excluded {case_id}: {reason}")
        for case_id, problem in tally.failed:
            terminalreporter.write_line(f"{suite} failed {case_id}: {problem}")
        terminalreporter.write_line(f"{suite}: {len(tally.passed)} passed, {len(tally.failed)} failed")
