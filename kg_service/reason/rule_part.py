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
import threading
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

import pyoxigraph as ox

from kg_service.reason.chaining import Statement
from kg_service.stamped import load_stamped, save_stamped

FILE_NAME = "rule-conclusions.nt"
WORKING_FOLDER = "rules-working"
CONCLUSIONS = "conclusions.pickle"  # what each rule concluded: sealed with the folder, by its stamp file
_CONCLUSIONS_FORMAT = "citykg-rule-conclusions-1"
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


@dataclass(frozen=True)
class KeptConclusions:
    """What the rules concluded, each rule's apart (those the working store held already
    included), and what OWL 2 RL drew from them alone: a rule run again for a few keys replaces its
    conclusions about them and keeps the others."""

    by_rule: dict[str, frozenset[Statement]]
    drawn: frozenset[Statement]


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

    def __init__(self, data_dir: Path, since: str, stamp: str, loading: WorkingStoreLoad | None = None) -> None:
        self._folder = data_dir / WORKING_FOLDER
        self._since, self._stamp = since, stamp  # the stamps of the inferred graph before and after
        self._loading = loading  # the files being read already (``start_loading``)
        self._reopened = False
        self.conclusions: KeptConclusions | None = None  # what the rules concluded into the reopened store

    def reopen(self, selection: str) -> ox.Store | None:
        """The store as the last run sealed it, when that run left the inferred graph as it is now and
        filled it with the same ``selection`` of statements (the predicates and classes the rules read)."""
        if _sealed(self._folder) != f"{self._since} {selection}":
            return None
        try:
            (self._folder / "stamp").unlink()
        except OSError:
            return None
        loading = self._loading if self._loading is not None and self._loading.since == self._since else None
        store = loading.result() if loading is not None else _read_kept(self._folder)
        self._reopened = store is not None
        kept = load_stamped(self._folder / CONCLUSIONS, _CONCLUSIONS_FORMAT)  # trusted with the folder's stamp
        self.conclusions = kept if isinstance(kept, KeptConclusions) else None
        return store

    def carry_over(self) -> None:
        """The change reached nothing the rules read: the kept store holds what it held, now for the
        inferred graph it is being given (without this, the next change they read builds it again)."""
        sealed, mark = _sealed(self._folder), self._folder / "stamp"
        if sealed is None or not sealed.startswith(f"{self._since} "):
            return
        try:
            partial = mark.with_suffix(".partial")
            partial.write_text(f"{self._stamp} {sealed.removeprefix(f'{self._since} ')}", encoding="utf-8")
            os.replace(partial, mark)
        except OSError:
            mark.unlink(missing_ok=True)

    def fresh(self) -> ox.Store:
        """An empty store, in place of the kept one."""
        shutil.rmtree(self._folder, ignore_errors=True)
        self._reopened = False
        return ox.Store()

    def seal(self, store: ox.Store, selection: str, touched: Iterable[Statement] = (),
             conclusions: KeptConclusions | None = None) -> None:
        """Keep ``store`` for the next run, once it holds the state the inferred graph is being given.
        ``touched``: every statement added to or removed from it since ``reopen``; ``conclusions``:
        what the rules concluded into it."""
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
            if conclusions is not None:
                save_stamped(self._folder / CONCLUSIONS, _CONCLUSIONS_FORMAT, conclusions)
            else:
                (self._folder / CONCLUSIONS).unlink(missing_ok=True)
            (self._folder / "stamp").write_text(f"{self._stamp} {selection}", encoding="utf-8")
        except OSError:
            pass  # nothing kept: the next run reads the statements out of the store again


class WorkingStoreLoad:
    """The kept working store's files read into memory on a thread of their own (Oxigraph parses
    without holding the interpreter), while the run's jobs lift, validate and commit: reading
    them is 0.8 s of the rules' 2 s after a change of 62k readings. ``KeptWorkingStore.reopen``
    takes the result only once it has checked the stamp."""

    def __init__(self, folder: Path, since: str) -> None:
        self.since = since
        self._store: ox.Store | None = None
        self._thread = threading.Thread(target=self._read, args=(folder,), daemon=True, name="kept-working-store")
        self._thread.start()

    def _read(self, folder: Path) -> None:
        self._store = _read_kept(folder)

    def result(self) -> ox.Store | None:
        self._thread.join()
        return self._store


def start_loading(data_dir: Path, since: str | None) -> WorkingStoreLoad | None:
    """Start reading the kept working store, when the last run sealed it for the inferred graph
    stamped ``since`` (the one a run that follows its changes starts from)."""
    folder = data_dir / WORKING_FOLDER
    sealed = _sealed(folder)
    return WorkingStoreLoad(folder, since) if since and sealed and sealed.startswith(f"{since} ") else None


def _sealed(folder: Path) -> str | None:
    """The stamp the kept store was sealed with (the inferred graph's, then the selection); None: unsealed."""
    try:
        return (folder / "stamp").read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError):
        return None


def _read_kept(folder: Path) -> ox.Store | None:
    """The statements file with its patch applied; None when they cannot be read."""
    try:
        store = ox.Store()
        # lenient: the files are the store's own dump, checked when they were written (a third faster)
        store.load(path=str(folder / "statements.nt"), format=ox.RdfFormat.N_TRIPLES, lenient=True)
        patch = folder / "statements.patch"
        if patch.is_file():
            _apply_patch(store, patch.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, SyntaxError, ValueError):
        return None
    return store


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
