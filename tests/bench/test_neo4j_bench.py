"""``bench/neo4j.py`` runs end to end on a small city against the test server: every variant and step
is measured, the counts agree between variants, and the ratios and the target are printed. Timing is
not checked here."""

from __future__ import annotations

import re
import subprocess
import sys

from tests.conftest import PROJECT_ROOT
from tests.integration.neo4j_server import Neo4jServer

STEP = re.compile(r"^(batched|batched, no rust)\s+(full|incremental|one dataset|nothing)\s+([\d,]+)\s+([\d.]+)\s",
                  re.MULTILINE)


def test_a_small_run_measures_every_variant_and_step(neo4j_test_server: Neo4jServer) -> None:
    neo4j_test_server.empty()
    done = subprocess.run([sys.executable, str(PROJECT_ROOT / "bench" / "neo4j.py"), "--triples", "3000",
                           "--repeat", "1", "--naive-entities", "20", "--uri", neo4j_test_server.uri,
                           "--password", neo4j_test_server.password],
                          capture_output=True, text=True, timeout=900, cwd=PROJECT_ROOT)
    assert done.returncode == 0, done.stderr[-3000:]
    out = done.stdout
    steps = {(variant, step): int(items.replace(",", "")) for variant, step, items, _ in STEP.findall(out)}
    assert len(steps) == 8, out
    for variant in ("batched", "batched, no rust"):
        assert steps[(variant, "full")] > 500, out  # nodes and relationships of a ~210-entity city
        assert steps[(variant, "incremental")] == steps[(variant, "one dataset")] > 0, out  # the 10 hospitals
        assert steps[(variant, "nothing")] == 0, out
    assert steps[("batched", "full")] == steps[("batched, no rust", "full")], out
    assert re.search(r"^naive\s+full\s+[\d,]+\s+[\d.]+", out, re.MULTILINE), out
    assert re.search(r"^batched / naive: [\d.]+x .*rust / no rust: [\d.]+x$", out, re.MULTILINE), out
    assert re.search(r"^target >= 50,000 items/s on a full sync: (met|NOT met)", out, re.MULTILINE), out
