"""Streaming the engine's output: N-Triples / N-Quads written a batch at a time, memory bounded.

The engine yields records one by one; this module turns them into bytes for a file, a pipe or a
store's bulk loader, in batches, so a ten-million-row source never sits in memory. Records that
failed are reported through a callback with their place in the source, never silently dropped.
"""

from __future__ import annotations

import gc
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import IO

from kg_service.lift.engine import LiftedRecord, lift_chunks
from kg_service.lift.model import Mapping


@dataclass
class LiftCounts:
    """What a run made: every record read is lifted, failed or skipped."""

    read: int = 0
    lifted: int = 0
    failed: int = 0
    skipped: int = 0
    statements: int = 0


def statement_batches(mapping: Mapping, base_iri: str, counts: LiftCounts,
                      on_problem: Callable[[LiftedRecord], None] | None = None) -> Iterator[bytes]:
    """UTF-8 N-Quads (N-Triples where a statement is in the default graph), one chunk per batch."""
    with _fewer_collections():
        for chunk in lift_chunks(mapping, base_iri):
            counts.read += chunk.read
            for problem in chunk.problems:
                if problem.error is not None:
                    counts.failed += 1
                else:
                    counts.skipped += 1
                if on_problem is not None:
                    on_problem(problem)
            counts.lifted += chunk.read - len(chunk.problems)
            if chunk.statements:
                counts.statements += len(chunk.statements)
                chunk.statements.append("")
                yield "\n".join(chunk.statements).encode()


def write_statements(mapping: Mapping, base_iri: str, sink: IO[bytes],
                     on_problem: Callable[[LiftedRecord], None] | None = None) -> LiftCounts:
    counts = LiftCounts()
    for data in statement_batches(mapping, base_iri, counts, on_problem):
        sink.write(data)
    return counts


@contextmanager
def _fewer_collections() -> Iterator[None]:
    """Lifting allocates millions of short-lived strings and lists; the collector's default young
    generation threshold (700) makes it scan them thousands of times a second for cycles they never
    form. A larger threshold keeps collection on, just less often; the old thresholds come back after."""
    thresholds = gc.get_threshold()
    gc.set_threshold(max(thresholds[0], 50_000), *thresholds[1:])
    try:
        yield
    finally:
        gc.set_threshold(*thresholds)
