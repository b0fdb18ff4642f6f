"""The row memo: lifting with it makes exactly what lifting without it makes; a second lift takes
every unchanged row from it and lifts only the changed ones; a changed mapping throws it away."""

from __future__ import annotations

import shutil
from dataclasses import replace
from pathlib import Path

import pytest

from kg_service.config import project_path
from kg_service.delta import Staged
from kg_service.lift import lift, load_mapping
from kg_service.lift.memo import RowMemo

BASE = "https://w3id.org/citykg/id/"
SOURCE = Path("sample") / "enterprise-register.csv"
ENCODING = "gb18030"


def _copy(tmp_path: Path) -> Path:
    folder = tmp_path / "market-regulation"
    shutil.copytree(project_path("mappings") / "market-regulation", folder)
    return folder / "enterprise-register.rml.ttl"


def _made(mapping_file: Path, memo: RowMemo | None) -> list[tuple[int, str | None, list[str], str | None]]:
    return [(r.line, r.subject, list(r.triples), r.error) for r in lift(load_mapping(mapping_file), BASE, memo)]


def _memo(tmp_path: Path, mapping_file: Path) -> RowMemo:
    return RowMemo.for_mapping(tmp_path / "memo.pickle", mapping_file, BASE)


def test_a_lift_with_the_memo_makes_what_a_lift_without_it_makes(tmp_path: Path) -> None:
    mapping_file = _copy(tmp_path)
    plain = _made(mapping_file, None)
    first = _memo(tmp_path, mapping_file)
    assert _made(mapping_file, first) == plain and first.reused == 0
    first.save()
    second = _memo(tmp_path, mapping_file)
    assert _made(mapping_file, second) == plain
    assert second.reused == len(plain) > 5


def test_the_entity_digests_a_remembered_row_brings_are_those_of_its_statements(tmp_path: Path) -> None:
    """Each remembered row brings the digest of its statements; grouped by entity, they are the
    digests the entities' statements give when none is known (another row adding to an entity drops it)."""
    mapping_file = _copy(tmp_path)
    memo = _memo(tmp_path, mapping_file)
    list(lift(load_mapping(mapping_file), BASE, memo))
    memo.save()
    records = list(lift(load_mapping(mapping_file), BASE, _memo(tmp_path, mapping_file)))
    assert all(record.digest is not None for record in records if record.triples)
    again = replace(records[0], digest=None)  # the same entity, from another row
    extra = replace(records[1], triples=[f'{records[1].subject} <https://example.org/p> "extra" .'])
    doubled = [*records, again, extra]
    for staged_records in (records, doubled):
        known = Staged.of(staged_records)
        computed = Staged.of([replace(record, digest=None) for record in staged_records])
        assert known.digests() == computed.digests() and known.known
    assert not {records[0].subject, records[1].subject} & set(Staged.of(doubled).known)


def test_only_changed_rows_are_lifted_again(tmp_path: Path) -> None:
    mapping_file = _copy(tmp_path)
    memo = _memo(tmp_path, mapping_file)
    rows = len(_made(mapping_file, memo))
    memo.save()
    source = mapping_file.parent / SOURCE
    before = source.read_bytes()
    _change_row(mapping_file)
    assert source.read_bytes() != before
    again = _memo(tmp_path, mapping_file)
    assert _made(mapping_file, again) == _made(mapping_file, None)  # the changed row as it is now
    assert again.reused == rows - 1


def test_a_changed_mapping_throws_the_memo_away(tmp_path: Path) -> None:
    mapping_file = _copy(tmp_path)
    memo = _memo(tmp_path, mapping_file)
    _made(mapping_file, memo)
    memo.save()
    mapping_file.write_text(mapping_file.read_text(encoding="utf-8") + "\n# changed\n", encoding="utf-8")
    again = _memo(tmp_path, mapping_file)
    _made(mapping_file, again)
    assert again.reused == 0


def _change_row(mapping_file: Path) -> None:
    source = mapping_file.parent / SOURCE
    lines = source.read_bytes().decode(ENCODING).splitlines(keepends=True)
    lines[2] = lines[2].replace("有限公司", "股份有限公司", 1)
    source.write_bytes("".join(lines).encode(ENCODING))


def test_a_memo_that_knew_nearly_every_row_is_not_rewritten(tmp_path: Path) -> None:
    """A few rows the memo does not know are lifted again next time, the memo left as it was; the
    lifts still make what a lift without the memo makes."""
    mapping_file = _copy(tmp_path)
    memo = _memo(tmp_path, mapping_file)
    rows = len(_made(mapping_file, memo))
    memo.save()
    kept = (tmp_path / "memo.pickle").read_bytes()
    _change_row(mapping_file)
    for _ in range(2):
        again = _memo(tmp_path, mapping_file)
        assert _made(mapping_file, again) == _made(mapping_file, None)
        assert again.reused == rows - 1  # the changed row, lifted both times
        again.save()
        assert (tmp_path / "memo.pickle").read_bytes() == kept


def test_a_memo_is_rewritten_once_a_lift_makes_more_rows_than_it_may_leave_out(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    mapping_file = _copy(tmp_path)
    memo = _memo(tmp_path, mapping_file)
    rows = len(_made(mapping_file, memo))
    memo.save()
    _change_row(mapping_file)
    monkeypatch.setattr("kg_service.lift.memo.REWRITE_AFTER_ROWS", 0)
    monkeypatch.setattr("kg_service.lift.memo.REWRITE_AFTER_SHARE", 0.0)
    again = _memo(tmp_path, mapping_file)
    _made(mapping_file, again)
    again.save()
    third = _memo(tmp_path, mapping_file)
    assert _made(mapping_file, third) == _made(mapping_file, None)
    assert third.reused == rows  # the changed row is known now
