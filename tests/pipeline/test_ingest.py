"""The thin slice end to end on the bundled sample: lift -> gate -> commit -> reason."""

from __future__ import annotations

import csv
import hashlib
import io
import json
import shutil
from pathlib import Path

import pytest
from rdflib import Literal, URIRef

from kg_service import pipeline
from kg_service.config import Settings, load_settings, project_path
from kg_service.namespaces import CITY
from kg_service.store import GraphStore, RdfFormat, open_store, select

DATASET = "market-regulation/enterprise-register"
PROV = "http://www.w3.org/ns/prov#"
SAMPLE = project_path("mappings") / "market-regulation" / "sample" / "enterprise-register.csv"


def _sample_rows() -> list[dict[str, str]]:
    with SAMPLE.open(encoding="gb18030") as handle:
        return list(csv.DictReader(handle))


def _dump(store: GraphStore, without: str | None = None) -> bytes:
    out = io.BytesIO()
    store.export(out, RdfFormat.N_QUADS)
    return b"\n".join(sorted(line for line in out.getvalue().splitlines()
                             if without is None or not line.endswith(f"<{without}> .".encode())))


def _job_outcomes(store: GraphStore, settings: Settings) -> list[tuple[str, str]]:
    rows = select(store, f"""SELECT ?graph ?outcome WHERE {{ GRAPH <{settings.graphs.provenance}> {{
        ?job a <{CITY.IngestJob}> ; <{CITY.jobOutcome}> ?outcome . ?graph <{PROV}wasGeneratedBy> ?job }} }}
        ORDER BY ?graph ?outcome""").rows
    return [(str(graph), str(outcome)) for graph, outcome in rows]


def test_every_record_is_committed_quarantined_or_skipped(memory_settings: Settings) -> None:
    with open_store(memory_settings) as store:
        report = pipeline.ingest(memory_settings, store, [DATASET])
    (dataset,) = report.datasets
    assert dataset.read == len(_sample_rows())
    assert dataset.reconciles
    assert (dataset.committed, dataset.quarantined, dataset.skipped) == (8, 1, 1)
    assert report.totals()["read"] == dataset.read


def test_the_planted_bad_row_is_quarantined_with_its_reason_and_raw_values(memory_settings: Settings) -> None:
    with open_store(memory_settings) as store:
        pipeline.ingest(memory_settings, store, [DATASET])
        quarantine = memory_settings.graphs.quarantine(DATASET)
        rows = select(store, f"""
            PREFIX city: <{CITY}>
            SELECT ?file ?line ?raw ?reason ?entity WHERE {{ GRAPH <{quarantine}> {{
              ?record a city:QuarantinedRecord ; city:sourceFile ?file ; city:sourceLine ?line ;
                      city:rawRecord ?raw ; city:refusalReason ?reason ; city:refusedEntity ?entity }} }}""").dicts()
        assert len(rows) == 1
        row = rows[0]
        assert str(row["file"]) == "market-regulation/sample/enterprise-register.csv"
        assert row["line"] == Literal(10)
        assert json.loads(str(row["raw"]))["统一社会信用代码"] == "91990102MA09QH0J"
        assert "credit code must be 18 characters" in str(row["reason"])
        # ...and the refused entity is nowhere in the committed data
        assert store.query(f"ASK {{ GRAPH <{memory_settings.graphs.source(DATASET)}> {{ {row['entity'].n3()} "  # type: ignore[union-attr]
                           "?p ?o } }") is False


def test_committed_values_are_the_sample_file_values(memory_settings: Settings) -> None:
    with open_store(memory_settings) as store:
        pipeline.ingest(memory_settings, store, [DATASET])
        committed = select(store, f"PREFIX city: <{CITY}> SELECT ?code ?name WHERE {{ GRAPH "
                           f"<{memory_settings.graphs.source(DATASET)}> {{ ?e city:creditCode ?code ; "
                           "city:name ?name } }")
    expected = {(r["统一社会信用代码"], r["企业名称"]) for r in _sample_rows() if len(r["统一社会信用代码"]) == 18}
    assert {(str(code), str(name)) for code, name in committed.rows} == expected  # type: ignore[misc]


def test_reasoning_adds_superclasses_to_the_inferred_graph_only(memory_settings: Settings) -> None:
    with open_store(memory_settings) as store:
        report = pipeline.ingest(memory_settings, store, [DATASET])
        inferred = memory_settings.graphs.inferred
        agents = select(store, f"SELECT ?e WHERE {{ GRAPH <{inferred}> {{ ?e a <{CITY.Agent}> }} }}")
        assert len(agents) == 8
        assert report.inferred_triples == store.count(inferred)
        source = memory_settings.graphs.source(DATASET)
        assert store.query(f"ASK {{ GRAPH <{source}> {{ ?e a <{CITY.Agent}> }} }}") is False
        # dropping and recomputing the inferred graph gives the same graph
        before = store.count(inferred)
        store.delete_graph(inferred)
        assert pipeline.reason(memory_settings, store) == before


def test_running_the_same_job_twice_changes_nothing(memory_settings: Settings) -> None:
    provenance = memory_settings.graphs.provenance
    with open_store(memory_settings) as store:
        report = pipeline.ingest(memory_settings, store, None)
        first = _dump(store, without=provenance)
        pipeline.ingest(memory_settings, store, None)
        assert _dump(store, without=provenance) == first
        # The history says so: each dataset's second job found its data already there.
        graphs = [memory_settings.graphs.source(d.dataset) for d in report.datasets]
        assert _job_outcomes(store, memory_settings) == sorted(
            [(graph, "committed") for graph in graphs] + [(graph, "unchanged") for graph in graphs])


def test_provenance_records_the_job_its_files_and_who_asserted_each_entity(memory_settings: Settings) -> None:
    with open_store(memory_settings) as store:
        report = pipeline.ingest(memory_settings, store, [DATASET])
        provenance = memory_settings.graphs.provenance
        (job,) = select(store, f"""SELECT ?job ?read ?committed ?quarantined ?skipped ?start ?end WHERE {{
            GRAPH <{provenance}> {{ ?job a <{CITY.IngestJob}> ; <{CITY.recordsRead}> ?read ;
              <{CITY.recordsCommitted}> ?committed ; <{CITY.recordsQuarantined}> ?quarantined ;
              <{CITY.recordsSkipped}> ?skipped ; <{PROV}startedAtTime> ?start ; <{PROV}endedAtTime> ?end ;
              <{PROV}wasAssociatedWith> <{CITY.MarketRegulationBureau}> }} }}""").rows
        (dataset,) = report.datasets
        assert [int(v) for v in job[1:5]] == [dataset.read, dataset.committed, dataset.quarantined, dataset.skipped]
        assert job[5].toPython() <= job[6].toPython()
        files = {str(path): str(checksum) for path, checksum in select(store, f"""SELECT ?path ?sum WHERE {{
            GRAPH <{provenance}> {{ <{job[0]}> <{PROV}used> ?file . ?file <{CITY.filePath}> ?path ;
            <{CITY.contentHash}> ?sum }} }}""").rows}
        sample = project_path("mappings") / "market-regulation/sample/enterprise-register.csv"
        assert files["market-regulation/sample/enterprise-register.csv"] == hashlib.sha256(
            sample.read_bytes()).hexdigest()
        assert "market-regulation/enterprise-register.rml.ttl" in files
        asserted = select(store, f"""SELECT (COUNT(DISTINCT ?entity) AS ?n) WHERE {{ GRAPH <{provenance}> {{
            ?entity <{CITY.assertedBy}> ?dataset }} }}""").rows[0][0]
        committed_subjects = select(store, f"""SELECT (COUNT(DISTINCT ?s) AS ?n) WHERE {{
            GRAPH <{memory_settings.graphs.source(DATASET)}> {{ ?s a ?class }} }}""").rows[0][0]
        assert int(asserted) == int(committed_subjects) > 0


def test_ontology_graph_is_published(memory_settings: Settings) -> None:
    with open_store(memory_settings) as store:
        pipeline.ingest(memory_settings, store, [DATASET])
        assert store.query(f"ASK {{ GRAPH <{memory_settings.graphs.ontology}> {{ <{CITY.Enterprise}> "
                           f"<http://www.w3.org/2000/01/rdf-schema#label> ?l }} }}") is True
        assert URIRef(memory_settings.graphs.ontology)


def test_validate_committed_conforms_after_the_gate(memory_settings: Settings) -> None:
    with open_store(memory_settings) as store:
        pipeline.ingest(memory_settings, store, [DATASET])
        reports = pipeline.validate_committed(memory_settings, store, [DATASET])
    assert reports[DATASET].conforms


def test_reasoning_is_skipped_when_no_job_changed_anything(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    mappings = tmp_path / "mappings"
    shutil.copytree(project_path("mappings") / "market-regulation", mappings / "market-regulation")
    settings = load_settings(data_dir=tmp_path / "data", in_memory=True, mappings_dir=mappings)
    calls: list[int] = []
    real_reason = pipeline.reason
    monkeypatch.setattr(pipeline, "reason", lambda *args, **kwargs: calls.append(1) or real_reason(*args, **kwargs))
    with open_store(settings) as store:
        first = pipeline.ingest(settings, store, [DATASET])
        again = pipeline.ingest(settings, store, [DATASET])
        assert len(calls) == 1 and again.inferred_triples == first.inferred_triples > 0
        assert again.reasoning == "unchanged"
        register = mappings / "market-regulation" / "sample" / "enterprise-register.csv"
        text = register.read_bytes().decode("gb18030").replace("精密机械有限公司", "精密机械集团有限公司")
        register.write_bytes(text.encode("gb18030"))
        renamed = pipeline.ingest(settings, store, [DATASET])
        # a job changed data: reasoning followed the change, without reasoning over everything
        assert renamed.reasoning == "incremental" and len(calls) == 1


def test_a_violation_of_a_node_no_record_describes_is_reported(tmp_path: Path) -> None:
    mappings = tmp_path / "mappings"
    shutil.copytree(project_path("mappings") / "market-regulation", mappings / "market-regulation")
    mapping = mappings / "market-regulation" / "enterprise-register.rml.ttl"
    mapping.write_text(mapping.read_text(encoding="utf-8").replace("rml:class city:Enterprise ",
                                                                   "rml:class city:Enterprize "), encoding="utf-8")
    settings = load_settings(data_dir=tmp_path / "data", in_memory=True, mappings_dir=mappings)
    with open_store(settings) as store:
        (dataset,) = pipeline.ingest(settings, store, [DATASET]).datasets
    assert dataset.committed == 0 and dataset.reconciles  # every enterprise is typed with the misspelt class
    assert any(warning.startswith(f"{CITY}Enterprize: Violation") and "no record" in warning
               for warning in dataset.warnings), dataset.warnings
