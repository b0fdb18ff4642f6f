"""A job killed with SIGKILL at any moment leaves its dataset as before or as after, never half: the
dataset's graph, its quarantine and the provenance that describes them agree after every kill."""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

from kg_service.config import load_settings, project_path
from kg_service.store import open_store, select

DEPARTMENT = "market-regulation"
DATASET = "market-regulation/enterprise-register"
OLD_NAME, NEW_NAME = "清河东港物流有限公司", "清河东港物流集团有限公司"


def _ingest(mappings: Path, data: Path) -> subprocess.Popen[bytes]:
    env = {**os.environ, "CITYKG_MAPPINGS_DIR": str(mappings), "CITYKG_DATA_DIR": str(data)}
    return subprocess.Popen([sys.executable, "-m", "kg_service", "ingest", DEPARTMENT], env=env,
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


def _state(data: Path) -> tuple[frozenset[str], str | None]:
    """The dataset graph's statements, and the content hash provenance records for it."""
    settings = load_settings(data_dir=data)
    graph = settings.graphs.source(DATASET)
    with open_store(settings) as store:
        statements = frozenset(" ".join(term.n3() for term in row) for row in select(
            store, f"SELECT ?s ?p ?o WHERE {{ GRAPH <{graph}> {{ ?s ?p ?o }} }}").rows)
        stamps = select(store, f"""SELECT ?hash WHERE {{ GRAPH <{settings.graphs.provenance}> {{
            <{graph}> <https://w3id.org/citykg/ontology#contentHash> ?hash }} }}""").rows
    assert len(stamps) <= 1, stamps
    return statements, str(stamps[0][0]) if stamps else None


def test_a_job_killed_at_any_moment_leaves_the_dataset_before_or_after(tmp_path: Path) -> None:
    mappings, data = tmp_path / "mappings", tmp_path / "data"
    shutil.copytree(project_path("mappings") / DEPARTMENT, mappings / DEPARTMENT)
    register = mappings / DEPARTMENT / "sample" / "enterprise-register.csv"

    assert _ingest(mappings, data).wait(timeout=300) == 0
    started = time.monotonic()  # the kills are spread over a warm run: the first also checks the ontology
    assert _ingest(mappings, data).wait(timeout=300) == 0
    duration = time.monotonic() - started
    before = _state(data)
    assert before[1] is not None and any(OLD_NAME in statement for statement in before[0])

    register.write_bytes(register.read_bytes().decode("gb18030").replace(OLD_NAME, NEW_NAME).encode("gb18030"))
    seen = set()
    for fraction in (0.2, 0.4, 0.6, 0.75, 0.85, 0.95):
        job = _ingest(mappings, data)
        time.sleep(duration * fraction)
        job.send_signal(signal.SIGKILL)
        job.wait()
        seen.add(_state(data))
    assert _ingest(mappings, data).wait(timeout=300) == 0
    after = _state(data)
    assert after != before and any(NEW_NAME in statement for statement in after[0])
    assert seen <= {before, after}, "a killed job left the dataset neither as before nor as after"
    assert before in seen  # some kills did fall before the job could commit
