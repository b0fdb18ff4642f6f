"""What a CSV triples map made of each row the last time a dataset was lifted, so that lifting it
again runs the mapping only over the rows it has not seen: a 10-row change of a 20,000-row
register then lifts 10 rows, not 20,000.

A row's statements depend only on the row, the header, the mapping and the base IRI when its
triples map joins no other rows; the memo is used only then. It is stamped with the mapping, the
base IRI and the lifting code, and is thrown away whole when any of them changes. Rows that make
fresh blank nodes (new on every lift) are not kept, so they are lifted anew as before. The memo
holds the rows of one recent lift only, so it does not grow with the history of a dataset: it is
rewritten with the rows of the latest lift unless it already knew nearly all of them (see ``save``).
"""

from __future__ import annotations

import hashlib
from pathlib import Path

from kg_service.lift.model import Mapping
from kg_service.lift.tabular import LiftedRow
from kg_service.lift.terms import StatementLines, statements_digest
from kg_service.stamped import load_stamped, save_stamped

_FORMAT = b"citykg-row-memo-4"
_Kept = tuple[str | None, str, str | None, str | None]
_CODE = Path(__file__).parent
# Rows a lift may make anew, or leave unmet in the memo, before the memo is rewritten: the larger of
# these. Lifting a hundred rows again takes milliseconds; rewriting the memo of 60k rows 0.3 s.
REWRITE_AFTER_ROWS = 100
REWRITE_AFTER_SHARE = 0.01


class RowMemo:
    def __init__(self, path: Path, stamp: str) -> None:
        self.path, self.stamp = path, stamp
        # key -> (subject, statements joined by newlines, error, their digest): strings load ten times faster
        # than rows
        self._known: dict[str, _Kept] = {}
        self._seen: dict[str, _Kept] = {}
        self.reused = 0  # rows taken from the memo in this lift
        # an unreadable memo only means lifting every row, as without one
        self._known = load_stamped(path, stamp) or {}

    @classmethod
    def for_mapping(cls, path: Path, mapping_file: Path, base_iri: str) -> RowMemo:
        digest = hashlib.blake2b(_FORMAT, digest_size=16)
        digest.update(mapping_file.read_bytes())
        digest.update(base_iri.encode())
        for source in sorted(_CODE.glob("*.py")):  # the lifting code: a fix to it must not be hidden
            digest.update(source.read_bytes())
        return cls(path, digest.hexdigest())

    @staticmethod
    def prefix(map_index: int, header: list[str]) -> str:
        """What the keys of one triples map's rows start with: a new header is a new set of keys."""
        return f"{map_index}\x1e{hashlib.blake2b(repr(header).encode(), digest_size=8).hexdigest()}\x1e"

    @staticmethod
    def key(prefix: str, row: list[str]) -> str:
        return prefix + "\x1f".join(row)  # the row itself: hashing it again would cost more than it saves

    def get(self, key: str) -> LiftedRow | None:
        kept = self._known.get(key)
        if kept is None:
            return None
        self._seen[key] = kept
        self.reused += 1
        subject, statements, error, digest = kept
        return LiftedRow(subject, StatementLines(statements), error, digest)

    def keep(self, key: str, made: LiftedRow) -> None:
        if not any("_:" in triple for triple in made.triples):
            # the row's statements' digest, when they are all about its subject: then, unless another
            # row adds to that entity, it is the entity's digest (62k of them took 0.2-0.3 s a job)
            about_subject = made.subject is not None and all(line.startswith(f"{made.subject} ")
                                                             for line in made.triples)
            self._seen[key] = (made.subject, "\n".join(made.triples), made.error,
                               statements_digest(made.triples) if about_subject else None)

    def save(self) -> None:
        """Keep the rows of this lift, unless the memo as kept knew nearly all of them and holds few
        others: then the rows it does not know are lifted again next time rather than the whole memo
        written for them (a 10-row change of 60k rows would rewrite 76 MB)."""
        known_and_met = sum(1 for key in self._seen if key in self._known)
        new, unmet = len(self._seen) - known_and_met, len(self._known) - known_and_met
        allowed = max(REWRITE_AFTER_ROWS, int(len(self._seen) * REWRITE_AFTER_SHARE))
        if self._known and new <= allowed and unmet <= allowed:
            return
        save_stamped(self.path, self.stamp, self._seen)


def joins_other_rows(mapping: Mapping, map_index: int) -> bool:
    """Whether a triples map's statements for a row depend on other rows (a join condition)."""
    from kg_service.lift.model import RefObjectMap

    triples_map = mapping.triples_maps[map_index]
    return any(isinstance(o, RefObjectMap) and o.joins for pom in triples_map.predicate_objects for o in pom.objects)
