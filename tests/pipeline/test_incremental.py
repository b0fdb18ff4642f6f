"""Re-ingesting a changed source validates only what the change can affect, and ends exactly where
ingesting the changed source into an empty store ends: same data, same quarantine, same digests,
same attributions."""

from __future__ import annotations

import csv
import json
import random
import shutil
from collections.abc import Callable
from pathlib import Path

import pytest
from rdflib import Graph

from kg_service import pipeline
from kg_service.config import Settings, load_settings, project_path
from kg_service.delta import KeptDigests
from kg_service.generate import generate_source
from kg_service.namespaces import CITY
from kg_service.provenance import content_stamp
from kg_service.store import GraphStore, open_store
from kg_service.store.oxigraph import OxigraphStore

NETWORK = "water/network"
READINGS = "water/flow-readings"
Edit = Callable[[Path], None]


def _settings(tmp_path: Path, name: str, mappings: Path, on_disk: bool = False) -> Settings:
    """In memory by default; on disk, a job also keeps its row memo and digests beside the store."""
    return load_settings(data_dir=tmp_path / name, in_memory=not on_disk, mappings_dir=mappings)


def _copy_water(tmp_path: Path) -> Path:
    mappings = tmp_path / "mappings"
    shutil.copytree(project_path("mappings") / "water", mappings / "water")
    return mappings


def _graph(store: GraphStore, iri: str) -> set[tuple[str, ...]]:
    result = store.query(f"CONSTRUCT {{ ?s ?p ?o }} WHERE {{ GRAPH <{iri}> {{ ?s ?p ?o }} }}")
    assert isinstance(result, Graph)
    return {tuple(term.n3() for term in triple) for triple in result}


def _state(store: GraphStore, settings: Settings, dataset: str) -> dict[str, set[tuple[str, ...]]]:
    graphs = settings.graphs
    asserted = {t for t in _graph(store, graphs.provenance) if t[1] == f"<{CITY.assertedBy}>"
                and t[2].endswith(f"/dataset/{dataset}>")}
    return {"data": _graph(store, graphs.source(dataset)), "quarantine": _graph(store, graphs.quarantine(dataset)),
            "digests": _graph(store, graphs.digests(dataset)), "asserted": asserted}


def _counts(report: pipeline.DatasetReport) -> tuple[int, ...]:
    return report.read, report.committed, report.quarantined, report.skipped, report.triples


def _incremental_matches_fresh(tmp_path: Path, mappings: Path, dataset: str, edit: Edit, on_disk: bool = False
                               ) -> pipeline.DatasetReport:
    """Ingest, edit the source, re-ingest; compare with the edited source ingested into an empty store."""
    settings = _settings(tmp_path, "incremental", mappings, on_disk)
    with open_store(settings) as store:
        (first,) = pipeline.ingest(settings, store, [dataset]).datasets
        edit(mappings)
        (again,) = pipeline.ingest(settings, store, [dataset]).datasets
        incremental = _state(store, settings, dataset)
    fresh_settings = _settings(tmp_path, "fresh", mappings)
    with open_store(fresh_settings) as store:
        (fresh,) = pipeline.ingest(fresh_settings, store, [dataset]).datasets
        expected = _state(store, fresh_settings, dataset)
    assert first.focus_nodes_validated > 0
    for part in expected:
        assert incremental[part] == expected[part], part
    assert _counts(again) == _counts(fresh)
    assert again.reconciles
    return again


def _edit_network(mappings: Path) -> None:
    path = mappings / NETWORK.split("/")[0] / "sample" / "network.geojson"
    collection = json.loads(path.read_text(encoding="utf-8"))
    features = collection["features"]
    by_code = {f["properties"]["SBBM"]: f for f in features}
    by_code["BZ-01"]["properties"]["SJGM"] = 6  # a pump station's capacity changes
    by_code["BZ-02"]["properties"]["GSH"] = ["YS0012"]  # and whom it supplies (walked backward by a shape)
    features.remove(by_code["JD-002"])  # a node is taken out
    added = json.loads(json.dumps(by_code["BZ-03"]))
    added["properties"].update({"SBBM": "BZ-09", "MC": "新建加压泵站"})
    features.append(added)  # a new pump station
    pipe = next(f for f in features if f["properties"].get("SBLX") == "管道" and f["properties"].get("GJ", 0) > 0)
    pipe["properties"]["GJ"] = -5  # a pipe breaks its diameter rule: quarantined now
    path.write_text(json.dumps(collection, ensure_ascii=False), encoding="utf-8")


def test_a_changed_network_re_ingested_ends_as_a_fresh_ingest(tmp_path: Path) -> None:
    again = _incremental_matches_fresh(tmp_path, _copy_water(tmp_path), NETWORK, _edit_network)
    assert again.entities_changed >= 5
    assert again.focus_nodes_validated < again.read  # not everything was validated again


def test_fixing_a_quarantined_record_commits_it(tmp_path: Path) -> None:
    mappings = _copy_water(tmp_path)

    def fix(folder: Path) -> None:
        path = folder / "water" / "sample" / "flow-readings.csv"
        text = path.read_text(encoding="utf-8").replace("L/s", "m3/d")  # the planted unknown unit
        path.write_text(text, encoding="utf-8")

    settings = _settings(tmp_path, "before", mappings)
    with open_store(settings) as store:
        (before,) = pipeline.ingest(settings, store, [READINGS]).datasets
    again = _incremental_matches_fresh(tmp_path, mappings, READINGS, fix)
    assert again.quarantined == before.quarantined - 1


@pytest.mark.parametrize(("seed", "on_disk"), [(1, False), (2, False), (3, True)])
def test_random_edits_to_generated_readings_end_as_a_fresh_ingest(tmp_path: Path, seed: int, on_disk: bool) -> None:
    mappings = _copy_water(tmp_path)
    source = generate_source(READINGS, mappings / "water" / "sample", 600, seed)

    def edit(_: Path) -> None:
        with source.open(encoding="utf-8", newline="") as handle:
            header, *rows = list(csv.reader(handle))
        pick = random.Random(seed)
        for row in pick.sample(rows, 10):
            row[4] = str(pick.randint(1, 90000))  # a reading's value
        for row in pick.sample(rows, 3):
            row[5] = "L/s"  # an unknown unit: refused by the mapping
        for row in pick.sample(rows, 2):
            row[3] = "yesterday"  # not a date-time: refused by the gate
        del rows[pick.randrange(len(rows))]
        rows.append([*rows[0][:1], "FM-NEW-1", *rows[0][2:]])
        with source.open("w", encoding="utf-8", newline="") as handle:
            csv.writer(handle).writerows([header, *rows])

    again = _incremental_matches_fresh(tmp_path, mappings, READINGS, edit, on_disk)
    assert 0 < again.entities_changed <= 20
    assert again.focus_nodes_validated < again.read // 2


def test_an_unchanged_source_validates_nothing_and_keeps_its_quarantine(tmp_path: Path) -> None:
    settings = _settings(tmp_path, "same", _copy_water(tmp_path))
    with open_store(settings) as store:
        (first,) = pipeline.ingest(settings, store, [READINGS]).datasets
        (again,) = pipeline.ingest(settings, store, [READINGS]).datasets
    assert (again.entities_changed, again.focus_nodes_validated) == (0, 0)
    assert (again.committed, again.quarantined) == (first.committed, first.quarantined)
    assert sorted(again.quarantine_reasons) == sorted(first.quarantine_reasons)


def test_a_changed_shape_validates_everything_again(tmp_path: Path) -> None:
    mappings = _copy_water(tmp_path)
    ontology = tmp_path / "ontology"
    shutil.copytree(project_path("ontology"), ontology)
    settings = load_settings(data_dir=tmp_path / "d", in_memory=True, mappings_dir=mappings, ontology_dir=ontology)
    with open_store(settings) as store:
        (first,) = pipeline.ingest(settings, store, [READINGS]).datasets
        shapes = ontology / "shapes" / "observation.ttl"
        shapes.write_text(shapes.read_text(encoding="utf-8") + "\n# edited\n", encoding="utf-8")
        (again,) = pipeline.ingest(settings, store, [READINGS]).datasets
    assert again.focus_nodes_validated == first.focus_nodes_validated


def _edit_readings(source: Path, seed: int) -> None:
    with source.open(encoding="utf-8", newline="") as handle:
        header, *rows = list(csv.reader(handle))
    pick = random.Random(seed)
    for row in pick.sample(rows, 5):
        row[4] = str(pick.randint(1, 90000))
    del rows[pick.randrange(len(rows))]
    with source.open("w", encoding="utf-8", newline="") as handle:
        csv.writer(handle).writerows([header, *rows])


def test_kept_digests_are_the_digest_graphs_and_a_stale_file_is_not_read(tmp_path: Path) -> None:
    """A job on disk keeps its entities' digests beside the store for the next job, which reads them
    instead of the digest graph only while the store holds the data they were kept for."""
    mappings = _copy_water(tmp_path)
    source = generate_source(READINGS, mappings / "water" / "sample", 300, 5)
    settings = _settings(tmp_path, "kept", mappings, on_disk=True)
    kept = settings.data_dir / "digests" / f"{READINGS.replace('/', '--')}.pickle"
    with open_store(settings) as store:
        pipeline.ingest(settings, store, [READINGS])
        stale = kept.read_bytes()
        stored = {(t[0], t[2]) for t in _graph(store, settings.graphs.digests(READINGS))
                  if t[1] == f"<{CITY.liftDigest}>"}
        stamp = content_stamp(store, settings.graphs.provenance, settings.graphs.source(READINGS))
        kept_digests = KeptDigests(kept).load(stamp)
        assert kept_digests is not None
        assert {(s, f'"{d}"') for s, d in kept_digests.items()} == stored
        for seed in (1, 2):
            _edit_readings(source, seed)
            (again,) = pipeline.ingest(settings, store, [READINGS]).datasets
            assert 0 < again.entities_changed <= 7
        kept.write_bytes(stale)  # the first job's file, for data the store no longer holds
        stamp = content_stamp(store, settings.graphs.provenance, settings.graphs.source(READINGS))
        assert KeptDigests(kept).load(stamp) is None
        _edit_readings(source, 3)
        (third,) = pipeline.ingest(settings, store, [READINGS]).datasets
        assert 0 < third.entities_changed <= 6  # against the second job's digests, not the first's
        incremental = _state(store, settings, READINGS)
    fresh_settings = _settings(tmp_path, "fresh", mappings)
    with open_store(fresh_settings) as store:
        pipeline.ingest(fresh_settings, store, [READINGS])
        expected = _state(store, fresh_settings, READINGS)
    for part in expected:
        assert incremental[part] == expected[part], part


def test_an_unchanged_quarantine_graph_is_not_written_again(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Rewriting it took 0.15 s of each commit: a job on disk whose refused records are the same
    leaves it as it is, and still ends where a fresh ingest ends; one whose refusals changed rewrites it."""
    mappings = _copy_water(tmp_path)
    source = generate_source(READINGS, mappings / "water" / "sample", 300, 5)
    replaced: list[str] = []
    commit = OxigraphStore.commit
    monkeypatch.setattr(OxigraphStore, "commit", lambda self, writes, *args, **kwargs: replaced.extend(
        writes.replace) or commit(self, writes, *args, **kwargs))

    def revalue(_: Path) -> None:  # five readings' values, in place: no line moves, no refusal changes
        with source.open(encoding="utf-8", newline="") as handle:
            header, *rows = list(csv.reader(handle))
        for row in random.Random(4).sample(rows, 5):
            row[4] = str(int(float(row[4] or 0)) + 1)
        with source.open("w", encoding="utf-8", newline="") as handle:
            csv.writer(handle).writerows([header, *rows])

    quarantine = load_settings(data_dir=tmp_path, mappings_dir=mappings).graphs.quarantine(READINGS)
    again = _incremental_matches_fresh(tmp_path, mappings, READINGS, revalue, on_disk=True)
    assert again.entities_changed > 0 and again.quarantined > 0
    assert replaced.count(quarantine) == 2  # the first job and the fresh one, not the change
    _edit_readings(source, 1)  # a row removed: the refused records' lines move
    settings = _settings(tmp_path, "incremental", mappings, on_disk=True)
    with open_store(settings) as store:
        (moved,) = pipeline.ingest(settings, store, [READINGS]).datasets
    assert moved.entities_changed > 0 and replaced.count(quarantine) == 3
