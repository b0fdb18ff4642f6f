"""What reasoning keeps beside the store about the ontology's rules: the part of the inferred graph
they brought, and their working store.

Reasoning after a change the rules read runs them again, and must then know which inferred
statements were theirs. A named graph of their own would show each of them twice to a query over
all graphs (Oxigraph's union default graph keeps one solution per graph), so they are kept in a
file under the data directory, with the stamp of what the inferred graph was inferred from (the
ontology's and every dataset's content hash): the file counts only while the stamps agree, so a
file left by an interrupted run, or by another store in the same directory, is never trusted.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterable
from pathlib import Path

import pyoxigraph as ox

from kg_service.reason.chaining import Statement

FILE_NAME = "rule-conclusions.nt"
WORKING_FOLDER = "rules-working"
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


class KeptWorkingStore:
    """The rules' working store, kept between runs as an N-Triples file: the statements the rules
    read and what they concluded, as the last run left them. Reading those statements out of the
    store again is most of what running the rules after a change costs; the kept ones are loaded
    into memory (the rules run several times slower over a store on disk) and brought up to date
    by the change instead. They are trusted only under the stamp they were sealed with, and
    unsealed while they are being changed, so an interrupted run leaves nothing trusted."""

    def __init__(self, data_dir: Path, since: str, stamp: str) -> None:
        self._folder = data_dir / WORKING_FOLDER
        self._since, self._stamp = since, stamp  # the stamps of the inferred graph before and after

    def reopen(self, selection: str) -> ox.Store | None:
        """The store as the last run sealed it, when that run left the inferred graph as it is now and
        filled it with the same ``selection`` of statements (the predicates and classes the rules read)."""
        mark = self._folder / "stamp"
        try:
            if mark.read_text(encoding="utf-8") != f"{self._since} {selection}":
                return None
            mark.unlink()
            store = ox.Store()
            # lenient: the file is the store's own dump, checked when it was written (a third faster)
            store.load(path=str(self._folder / "statements.nt"), format=ox.RdfFormat.N_TRIPLES, lenient=True)
        except (OSError, UnicodeDecodeError, SyntaxError, ValueError):
            return None
        return store

    def fresh(self) -> ox.Store:
        """An empty store, in place of the kept one."""
        shutil.rmtree(self._folder, ignore_errors=True)
        return ox.Store()

    def seal(self, store: ox.Store, selection: str) -> None:
        """Keep ``store`` for the next run, once it holds the state the inferred graph is being given."""
        try:
            self._folder.mkdir(parents=True, exist_ok=True)
            (self._folder / "stamp").unlink(missing_ok=True)
            partial = self._folder / "statements.partial"
            store.dump(output=str(partial), format=ox.RdfFormat.N_TRIPLES, from_graph=ox.DefaultGraph())
            os.replace(partial, self._folder / "statements.nt")
            (self._folder / "stamp").write_text(f"{self._stamp} {selection}", encoding="utf-8")
        except OSError:
            pass  # nothing kept: the next run reads the statements out of the store again
