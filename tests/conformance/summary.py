"""Per-suite tallies for the conformance harnesses, printed as `suite: N passed, N failed`."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field


@dataclass
class Tally:
    passed: list[str] = field(default_factory=list)
    failed: list[tuple[str, str]] = field(default_factory=list)
    excluded: list[tuple[str, str]] = field(default_factory=list)


TALLIES: dict[str, Tally] = defaultdict(Tally)


def record(suite: str, case_id: str, problem: str | None, *, excluded: str | None = None) -> None:
    tally = TALLIES[suite]
    if excluded is not None:
        tally.excluded.append((case_id, excluded))
    elif problem is None:
        tally.passed.append(case_id)
    else:
        tally.failed.append((case_id, problem))
