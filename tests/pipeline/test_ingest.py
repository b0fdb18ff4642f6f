"""The thin slice end to end on the bundled sample: lift -> gate -> commit -> reason."""

from __future__ import annotations

import csv
import io
import json

from rdflib import Literal, URIRef

from kg_service import pipeline
from kg_service.config import Settings, project_path
from kg_service.namespaces import CITY
from kg_service.store import GraphStore, RdfFormat, open_store, select

DATASET = "market-regulation/enterprise-register"
SAMPLE = project_path("mappings") / "market-regulation" / "sample" / "enterprise-register.csv"


def _sample_rows() -> list[dict[str, str]]:
    with SAMPLE.open(encoding="gb18030") as handle:
        return list(csv.DictReader(handle))


def _dump(store: GraphStore) -> bytes:
    out = io.BytesIO()
    store.export(out, RdfFormat.N_QUADS)
    return b"\n".join(sorted(out.getvalue().splitlines()))


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
    with open_store(memory_settings) as store:
        pipeline.ingest(memory_settings, store, None)
        first = _dump(store)
        pipeline.ingest(memory_settings, store, None)
        assert _dump(store) == first


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
