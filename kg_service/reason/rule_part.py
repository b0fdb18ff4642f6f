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

import itertools
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
    by the change instead. A run that changed a few statements appends them to a patch file beside
    it (present: ``+``, gone: ``-``) rather than writing all of them again (0.5 s for the 430k of a
    100k-row city); the two are written whole again once the patch outgrows a tenth of the file.
    They are trusted only under the stamp they were sealed with, and unsealed while they are being
    changed, so an interrupted run leaves nothing trusted."""

    PATCH_SHARE = 0.1  # of the statements file's size, above which the patch is folded into it

    def __init__(self, data_dir: Path, since: str, stamp: str) -> None:
        self._folder = data_dir / WORKING_FOLDER
        self._since, self._stamp = since, stamp  # the stamps of the inferred graph before and after
        self._reopened = False

    def reopen(self, selection: str) -> ox.Store | None:
        """The store as the last run sealed it, when that run left the inferred graph as it is now and
        filled it with the same ``selection`` of statements (the predicates and classes the rules read)."""
        mark = self._folder / "stamp"
        try:
            if mark.read_text(encoding="utf-8") != f"{self._since} {selection}":
                return None
            mark.unlink()
            store = ox.Store()
            # lenient: the files are the store's own dump, checked when they were written (a third faster)
            store.load(path=str(self._folder / "statements.nt"), format=ox.RdfFormat.N_TRIPLES, lenient=True)
            patch = self._folder / "statements.patch"
            if patch.is_file():
                _apply_patch(store, patch.read_text(encoding="utf-8"))
        except (OSError, UnicodeDecodeError, SyntaxError, ValueError):
            return None
        self._reopened = True
        return store

    def fresh(self) -> ox.Store:
        """An empty store, in place of the kept one."""
        shutil.rmtree(self._folder, ignore_errors=True)
        self._reopened = False
        return ox.Store()

    def seal(self, store: ox.Store, selection: str, touched: Iterable[Statement] = ()) -> None:
        """Keep ``store`` for the next run, once it holds the state the inferred graph is being given.
        ``touched``: every statement added to or removed from it since ``reopen``."""
        try:
            self._folder.mkdir(parents=True, exist_ok=True)
            (self._folder / "stamp").unlink(missing_ok=True)
            statements, patch = self._folder / "statements.nt", self._folder / "statements.patch"
            lines = _patch_lines(store, touched) if self._reopened else None
            if lines is not None and _patch_fits(patch, statements, len(lines), self.PATCH_SHARE):
                with patch.open("a", encoding="utf-8") as handle:
                    handle.write(lines)
            else:
                partial = self._folder / "statements.partial"
                store.dump(output=str(partial), format=ox.RdfFormat.N_TRIPLES, from_graph=ox.DefaultGraph())
                patch.unlink(missing_ok=True)
                os.replace(partial, statements)
            (self._folder / "stamp").write_text(f"{self._stamp} {selection}", encoding="utf-8")
        except OSError:
            pass  # nothing kept: the next run reads the statements out of the store again


def _patch_fits(patch: Path, statements: Path, more: int, share: float) -> bool:
    """Whether ``more`` characters of patch keep it under ``share`` of the statements file's size."""
    try:
        return (patch.stat().st_size if patch.exists() else 0) + more <= share * statements.stat().st_size
    except OSError:
        return False


def _patch_lines(store: ox.Store, touched: Iterable[Statement]) -> str:
    """Each touched statement once, as the store now holds it: ``+`` present, ``-`` not."""
    text = "".join(f"{s} {p} {o} .\n" for s, p, o in set(touched))
    return "".join(f"{'+' if ox.Quad(t.subject, t.predicate, t.object, ox.DefaultGraph()) in store else '-'} "
                   f"{t.subject} {t.predicate} {t.object} .\n"
                   for t in ox.parse(text.encode(), format=ox.RdfFormat.N_TRIPLES))


def _apply_patch(store: ox.Store, patch: str) -> None:
    """The patch's lines in order, each run of lines with one sign at once."""
    for sign, run in itertools.groupby(patch.splitlines(), key=lambda line: line[:1]):
        quads = [ox.Quad(t.subject, t.predicate, t.object, ox.DefaultGraph()) for t in ox.parse(
            "".join(line[2:] + "\n" for line in run).encode(), format=ox.RdfFormat.N_TRIPLES)]
        if sign == "+":
            store.extend(quads)
        elif sign == "-":
            for quad in quads:
                store.remove(quad)
        else:
            raise ValueError(f"not a patch line: {sign!r}")
