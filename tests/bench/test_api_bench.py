"""``bench/api.py --quick`` runs end to end: each of the five documents is measured for CityKG and for
the naive implementation, both give the same answer, and the ratios and targets are printed. Timing is
not checked here."""

from __future__ import annotations

import re
import subprocess
import sys

from tests.conftest import PROJECT_ROOT

NUMBER = r"[\d,]+(?:\.\d+)?"
TITLE = re.compile(r"^\| (\d\. [^|]+?) \((?P<rows>[\d,]+) rows?\)(?P<differ> ANSWERS DIFFER)? \| CityKG ", re.MULTILINE)
ROW = re.compile(rf"^\| [^|]* \| (CityKG|naive) \| (\d+) \| ({NUMBER}) \| ({NUMBER}) \| ({NUMBER}) \| ({NUMBER}) "
                 rf"\| ([\d,]+(?:-[\d,]+)?) \| ({NUMBER})? \| ({NUMBER}) \|$", re.MULTILINE)


def test_quick_run_measures_every_query_for_both_implementations() -> None:
    done = subprocess.run([sys.executable, str(PROJECT_ROOT / "bench" / "api.py"), "--quick"],
                          capture_output=True, text=True, timeout=900)
    assert done.returncode == 0, done.stderr[-3000:]
    out = done.stdout

    titles = TITLE.findall(out)
    assert [title for title, _, _ in titles] == [
        "1. a page of 20 schools, two levels of nesting", "2. 1,000 enterprises with their areas and parcels",
        "3. enterprises above a registered capital, largest first, 50",
        "4. enterprises per district: count and capital", "5. schools within 1,500 m of a point"], out
    for title, rows, differ in titles:
        assert int(rows.replace(",", "")) > 0, title
        assert not differ, title
    rows = ROW.findall(out)
    assert [row[0] for row in rows] == ["CityKG", "naive"] * 5, out
    for implementation, runs, p50, p95, p99, per_second, queries, ratio, first in rows:
        assert int(runs) >= 1 and float(per_second.replace(",", "")) > 0, implementation
        assert float(first.replace(",", "")) > 0, implementation  # the untimed checking run, also printed
        assert float(p50.replace(",", "")) <= float(p95.replace(",", "")) <= float(p99.replace(",", ""))
        assert int(queries.split("-")[0].replace(",", "")) >= 1, implementation
        assert bool(ratio) == (implementation == "CityKG"), out
    assert len(re.findall(rf"^Ratio naive / CityKG, \d\. .+: {NUMBER} \(above 1", out, re.MULTILINE)) == 5, out
    assert re.search(rf"^Target p95 < 50 ms, .*: CityKG p95 {NUMBER} ms: (met|not met)\.$", out, re.MULTILINE), out
    assert re.search(rf"^Target >= 10x the naive implementation, .*: {NUMBER}x: (met|not met)\.$", out,
                     re.MULTILINE), out
    assert "Answers: the same from both for all 5 queries" in out, out
    assert "DIFFER" not in out, out
