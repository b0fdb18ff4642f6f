"""A generated city through the real mappings and the whole pipeline: the generator's files have the
samples' shapes (every department commits), its mess is the samples' mess (duplicates skipped, only
the planted kinds of bad record quarantined) and its departments fit together (the same
cross-department answers as in the sample city)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from kg_service import pipeline
from kg_service.config import Settings, load_settings, project_path
from kg_service.generate import generate_city
from kg_service.namespaces import PREFIXES
from kg_service.store import GraphStore, open_store, select

ID = "https://w3id.org/citykg/id/"
ROWS, SEED = 1200, 5

# The kinds of bad record the generator plants, by dataset: words the refusal reason contains.
PLANTED_KINDS = {
    "civil-affairs/admin-areas": ["12 digits"],
    "market-regulation/enterprise-register": ["credit code must be 18"],
    "planning/parcels": ["land use"],
    "planning/plan-indicators": ["indicatorValue", "floor-area ratio"],
    "education/schools": ["needs its name"],
    "health/facilities": ["facilityCode"],
    "water/network": ["diameter"],
    "water/flow-readings": ["result time", "observedValue", "unknown unit 'L/s'"],
}


@pytest.fixture(scope="module")
def city(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[pipeline.IngestReport, GraphStore, Settings]]:
    mappings = tmp_path_factory.mktemp("generated-city")
    generate_city(project_path("mappings"), mappings, ROWS, SEED)
    settings = load_settings(data_dir=tmp_path_factory.mktemp("store"), in_memory=True, mappings_dir=mappings)
    with open_store(settings) as store:
        yield pipeline.ingest(settings, store), store, settings


def _ask(store: GraphStore, query: str) -> list[tuple[str, ...]]:
    prefixes = "".join(f"PREFIX {prefix}: <{iri}>\n" for prefix, iri in PREFIXES.items())
    return sorted(tuple(str(v) for v in row) for row in select(store, prefixes + query).rows)


def test_every_dataset_commits_and_reconciles(city: tuple[pipeline.IngestReport, GraphStore, Settings]) -> None:
    report, _, _ = city
    assert {d.dataset for d in report.datasets} == set(PLANTED_KINDS)
    for dataset in report.datasets:
        assert dataset.committed > dataset.quarantined, dataset.dataset
        assert dataset.reconciles, dataset


def test_only_planted_kinds_of_bad_record_are_quarantined(
        city: tuple[pipeline.IngestReport, GraphStore, Settings]) -> None:
    report, _, _ = city
    assert sum(d.quarantined for d in report.datasets) >= 5
    for dataset in report.datasets:
        for reason in dataset.quarantine_reasons:
            assert any(words in reason for words in PLANTED_KINDS[dataset.dataset]), reason


def test_duplicate_rows_are_skipped_as_duplicates(city: tuple[pipeline.IngestReport, GraphStore, Settings]) -> None:
    report, _, _ = city
    reasons = [reason for d in report.datasets for reason in d.skip_reasons]
    assert reasons and all("duplicate" in reason for reason in reasons)


def test_health_facilities_depend_on_pump_stations(city: tuple[pipeline.IngestReport, GraphStore, Settings]) -> None:
    _, store, _ = city
    rows = _ask(store, """SELECT ?facility ?station WHERE {
        ?facility a city:HealthFacility ; city:dependsOn ?station . ?station a city:PumpStation }""")
    assert ("health-facility/QHWJ0000000", "asset/BZ-00001") in {(f.removeprefix(ID), s.removeprefix(ID))
                                                                  for f, s in rows}


def test_enterprises_reach_industrial_land(city: tuple[pipeline.IngestReport, GraphStore, Settings]) -> None:
    _, store, _ = city
    uses = _ask(store, """SELECT DISTINCT ?use WHERE {
        ?enterprise a city:Enterprise ; city:onParcel ?parcel . ?parcel city:landUse ?use }""")
    assert uses == [(PREFIXES["city"] + "IndustrialLand",)]


def test_the_forgotten_crosswalk_row_is_a_candidate_link(
        city: tuple[pipeline.IngestReport, GraphStore, Settings]) -> None:
    _, store, settings = city
    rows = _ask(store, f"""SELECT ?a ?b WHERE {{ GRAPH <{settings.graphs.candidates}> {{ ?a skos:closeMatch ?b }} }}""")
    pairs = {frozenset((a.removeprefix(ID), b.removeprefix(ID))) for a, b in rows}
    # QHWJ0000002 (community 2) is the facility the crosswalk leaves out; QHWJ0000000 is crosswalked.
    assert frozenset(("health-facility/QHWJ0000002", "asset/YS00000004")) in pairs
    assert frozenset(("health-facility/QHWJ0000000", "asset/YS00000000")) not in pairs
