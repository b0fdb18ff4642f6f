"""The part of the inferred graph the ontology's rules brought, kept beside the store.

Reasoning after a change the rules read runs them again, and must then know which inferred
statements were theirs. A named graph of their own would show each of them twice to a query over
all graphs (Oxigraph's union default graph keeps one solution per graph), so they are kept in a
file under the data directory, with the stamp of what the inferred graph was inferred from (the
ontology's and every dataset's content hash): the file counts only while the stamps agree, so a
file left by an interrupted run, or by another store in the same directory, is never trusted.
"""

from __future__ import annotations

import os
from collections.abc import Iterable
from pathlib import Path

from kg_service.reason.chaining import Statement

FILE_NAME = "rule-conclusions.nt"
_STAMP = "# inferred from "


def save(data_dir: Path, stamp: str, statements: Iterable[Statement] | None) -> None:
    """Keep ``statements`` as the rules' part of the inferred graph stamped ``stamp``; None: not known."""
    path = data_dir / FILE_NAME
    if statements is None:
        path.unlink(missing_ok=True)
        return
    data_dir.mkdir(parents=True, exist_ok=True)
    partial = path.with_suffix(".partial")
    partial.write_text(_STAMP + stamp + "\n" + "".join(f"{s} {p} {o} .\n" for s, p, o in sorted(statements)),
                       encoding="utf-8")
    os.replace(partial, path)  # whole or not at all


def load(data_dir: Path, stamp: str) -> frozenset[Statement] | None:
    """The rules' part of the inferred graph stamped ``stamp``; None when not kept for that stamp."""
    path = data_dir / FILE_NAME
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
    except (OSError, UnicodeDecodeError):
        return None
    if not lines or lines[0] != _STAMP + stamp:
        return None
    found: set[Statement] = set()
    for line in lines[1:]:
        subject, predicate, rest = line.split(" ", 2)
        found.add((subject, predicate, rest.removesuffix(" .")))
    return frozenset(found)
