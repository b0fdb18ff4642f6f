"""``citykg generate``: a city's sources written where asked, a summary of the rows, and clear
refusals for a folder that is not empty or a scale that is not a size."""

from __future__ import annotations

from pathlib import Path

from tests.cli.test_help import run_citykg


def test_generate_writes_every_department_and_says_how_to_ingest(tmp_path: Path) -> None:
    out = tmp_path / "city"
    done = run_citykg("generate", "--scale", "1500", "--seed", "9", "--out", str(out))
    assert done.returncode == 0, done.stderr
    assert f"ingest with: CITYKG_MAPPINGS_DIR={out} citykg ingest --all" in done.stderr
    assert "water/flow-readings" in done.stderr
    assert {path.parent.parent.name for path in out.glob("*/sample/*")} == {
        "planning", "market-regulation", "education", "health", "water", "civil-affairs"}


def test_generate_refuses_a_folder_that_is_not_empty(tmp_path: Path) -> None:
    (tmp_path / "notes.txt").write_text("keep me", encoding="utf-8")
    done = run_citykg("generate", "--scale", "1000", "--out", str(tmp_path))
    assert done.returncode == 2
    assert "not empty" in done.stderr and "--force" in done.stderr and "Traceback" not in done.stderr
    assert [path.name for path in tmp_path.iterdir()] == ["notes.txt"]


def test_generate_refuses_a_scale_below_one(tmp_path: Path) -> None:
    done = run_citykg("generate", "--scale", "0", "--out", str(tmp_path / "city"))
    assert done.returncode == 2
    assert "--scale" in done.stderr and "Traceback" not in done.stderr
