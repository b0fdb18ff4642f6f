"""The sample city end to end: every department's sample through lift -> gate -> commit -> reason,
then questions only the departments together can answer."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from shapely import wkt
from shapely.geometry import LineString, Point

from kg_service import pipeline
from kg_service.config import Settings
from kg_service.namespaces import PREFIXES
from kg_service.store import GraphStore, open_store, select

ID = "https://w3id.org/citykg/id/"
SPARQL_PREFIXES = "".join(f"PREFIX {prefix}: <{iri}>\n" for prefix, iri in PREFIXES.items()) + \
    "PREFIX sosa: <http://www.w3.org/ns/sosa/>\n"
DEPARTMENTS = {"planning", "market-regulation", "education", "health", "water", "civil-affairs"}

# Each planted bad record: the dataset, the line it is on, and words its refusal reason must contain.
PLANTED = [
    ("civil-affairs/admin-areas", "admin-areas.sqlite:10:", "12 digits"),
    ("planning/parcels", "parcels.geojson:15:", "land use"),
    ("planning/plan-indicators", "plan-indicators.csv:13:", "floor-area ratio"),
    ("planning/plan-indicators", "plan-indicators.csv:12:", "indicatorValue"),
    ("market-regulation/enterprise-register", "enterprise-register.csv:10:", "credit code must be 18"),
    ("education/schools", "schools.json:6:", "needs its name"),
    ("health/facilities", "facilities.xlsx:7:", "facilityCode"),
    ("water/network", "network.geojson:9:", "diameter"),
    ("water/flow-readings", "flow-readings.csv:5:", "result time"),
    ("water/flow-readings", "flow-readings.csv:7:", "observedValue"),
    ("water/flow-readings", "flow-readings.csv:8:", "unknown unit 'L/s'"),
]


@pytest.fixture(scope="module")
def city(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[pipeline.IngestReport, GraphStore, Settings]]:
    from kg_service.config import load_settings

    settings = load_settings(data_dir=tmp_path_factory.mktemp("city"), in_memory=True)
    with open_store(settings) as store:
        yield pipeline.ingest(settings, store), store, settings


def _ask(store: GraphStore, query: str) -> list[tuple[str, ...]]:
    return sorted(tuple(str(v) for v in row) for row in select(store, SPARQL_PREFIXES + query).rows)


def test_every_department_has_a_dataset(city: tuple[pipeline.IngestReport, GraphStore, Settings]) -> None:
    report, _, _ = city
    assert {d.dataset.split("/")[0] for d in report.datasets} == DEPARTMENTS


def test_every_dataset_reconciles(city: tuple[pipeline.IngestReport, GraphStore, Settings]) -> None:
    report, _, _ = city
    for dataset in report.datasets:
        assert dataset.read > 0, dataset.dataset
        assert dataset.reconciles, (dataset.dataset, dataset.read, dataset.committed, dataset.quarantined,
                                    dataset.skipped)
        assert dataset.committed > dataset.quarantined, dataset.dataset


@pytest.mark.parametrize(("dataset", "where", "words"), PLANTED, ids=[f"{d}:{w}" for d, w, _ in PLANTED])
def test_each_planted_bad_record_is_quarantined_with_its_reason(
        city: tuple[pipeline.IngestReport, GraphStore, Settings], dataset: str, where: str, words: str) -> None:
    report, _, _ = city
    (found,) = [d for d in report.datasets if d.dataset == dataset]
    reasons = [r for r in found.quarantine_reasons if r.startswith(where)]
    assert reasons and words in reasons[0], found.quarantine_reasons


def test_nothing_else_is_quarantined(city: tuple[pipeline.IngestReport, GraphStore, Settings]) -> None:
    report, _, _ = city
    assert sum(d.quarantined for d in report.datasets) == len(PLANTED)


def test_exact_duplicate_rows_are_skipped(city: tuple[pipeline.IngestReport, GraphStore, Settings]) -> None:
    report, _, _ = city
    skipped = {d.dataset for d in report.datasets if any("exact duplicate" in r for r in d.skip_reasons)}
    assert skipped == {"civil-affairs/admin-areas", "planning/plan-indicators", "market-regulation/enterprise-register",
                       "health/facilities", "water/flow-readings"}


def test_hospitals_supplied_by_pump_stations_through_the_crosswalk(
        city: tuple[pipeline.IngestReport, GraphStore, Settings]) -> None:
    _, store, _ = city
    # health's crosswalk links its code to the water company's customer; the pump station supplies
    # that customer; the reasoner makes the facility depend on the pump station.
    assert _ask(store, """SELECT DISTINCT ?name ?station WHERE {
        ?facility a city:HealthFacility ; city:name ?name ; city:dependsOn ?pump .
        ?pump a city:PumpStation ; city:name ?station }""") == [
        ("南关社区卫生服务中心", "东门加压泵站"), ("清河市第一人民医院", "东门加压泵站")]


def test_manufacturers_stand_on_industrial_parcels(city: tuple[pipeline.IngestReport, GraphStore, Settings]) -> None:
    _, store, _ = city
    rows = _ask(store, """SELECT DISTINCT ?name ?code ?use WHERE {
        ?enterprise a city:Enterprise ; city:name ?name ; city:onParcel ?parcel .
        ?parcel city:parcelCode ?code ; city:landUse ?use }""")
    assert len(rows) == 5  # the sixth enterprise with a parcel is the quarantined one
    assert {use for _, _, use in rows} == {f"{PREFIXES['city']}IndustrialLand"}
    assert ("清河新能电池材料有限公司", "QHGX01", f"{PREFIXES['city']}IndustrialLand") in rows  # written ＱＨＧＸ０１


def test_facilities_lie_inside_the_polygon_of_their_community(
        city: tuple[pipeline.IngestReport, GraphStore, Settings]) -> None:
    _, store, _ = city
    rows = _ask(store, """SELECT ?thing ?point ?community ?boundary WHERE {
        ?thing city:locatedIn ?community ; geo:hasGeometry/geo:asWKT ?point .
        ?community a city:Community ; geo:hasGeometry/geo:asWKT ?boundary .
        FILTER (STRSTARTS(STR(?point), "POINT")) }""")
    kinds = {thing.removeprefix(ID).split("/")[0] for thing, *_ in rows}
    assert kinds == {"school", "health-facility", "asset"}
    for thing, point, community, boundary in rows:
        assert wkt.loads(boundary).contains(wkt.loads(point)), (thing, community)


def test_parcels_lie_inside_their_community(city: tuple[pipeline.IngestReport, GraphStore, Settings]) -> None:
    _, store, _ = city
    rows = _ask(store, """SELECT ?parcel ?shape ?boundary WHERE {
        ?parcel a city:LandParcel ; city:locatedIn ?community ; geo:hasGeometry/geo:asWKT ?shape .
        ?community a city:Community ; geo:hasGeometry/geo:asWKT ?boundary }""")
    assert len(rows) == 14
    for parcel, shape, boundary in rows:
        assert wkt.loads(boundary).contains(wkt.loads(shape)), parcel


def test_pipes_end_at_the_nodes_they_connect(city: tuple[pipeline.IngestReport, GraphStore, Settings]) -> None:
    _, store, _ = city
    rows = _ask(store, """SELECT ?pipe ?line ?node ?point WHERE {
        ?pipe a city:WaterSupplyPipe ; city:connectsTo ?node ; geo:hasGeometry/geo:asWKT ?line .
        ?node geo:hasGeometry/geo:asWKT ?point . FILTER NOT EXISTS { ?node a city:Pipe } }""")
    assert len(rows) == 16  # 8 committed pipes, two ends each
    for pipe, line, node, point in rows:
        geometry, end = wkt.loads(line), wkt.loads(point)
        assert isinstance(geometry, LineString) and isinstance(end, Point)
        assert min(Point(geometry.coords[0]).distance(end), Point(geometry.coords[-1]).distance(end)) < 1e-9, \
            (pipe, node)


def test_every_customer_connection_is_reached_from_a_pump_station(
        city: tuple[pipeline.IngestReport, GraphStore, Settings]) -> None:
    _, store, _ = city
    unreached = _ask(store, """SELECT ?connection WHERE { ?connection a city:ServiceConnection .
        FILTER NOT EXISTS { ?pump a city:PumpStation . ?pump (city:connectsTo)+ ?connection } }""")
    assert unreached == []


def test_near_matches_are_proposed_with_scores_and_never_merged(
        city: tuple[pipeline.IngestReport, GraphStore, Settings]) -> None:
    _, store, settings = city
    rows = _ask(store, f"""SELECT ?a ?b ?score WHERE {{ GRAPH <{settings.graphs.candidates}> {{
        ?a skos:closeMatch ?b . ?link city:linkFrom ?a ; city:linkTo ?b ; city:matchScore ?score }} }}""")
    pairs = {frozenset((a.removeprefix(ID), b.removeprefix(ID))) for a, b, _ in rows}
    # the water company's customers 第二人民医院 and 实验小学 have no crosswalk row; the customer the
    # health commission's crosswalk already links (YS0012) and the far namesake (YS0088) are not proposed.
    assert pairs == {frozenset(("asset/YS0031", "health-facility/QHWJ0002")),
                     frozenset(("asset/YS0045", "school/JY2019001"))}
    assert all(0.6 <= float(score) <= 1 for *_, score in rows)
    assert store.query(f"ASK {{ ?a <{PREFIXES['owl']}sameAs> ?b }}") is False


def test_people_per_hospital_bed_by_district(city: tuple[pipeline.IngestReport, GraphStore, Settings]) -> None:
    _, store, _ = city
    # civil affairs' population and health's beds meet through the community the facility names.
    rows = _ask(store, """SELECT ?district (SUM(?beds) AS ?total) WHERE {
        ?facility a city:Hospital ; city:beds ?beds ; city:locatedIn ?district . ?district a city:District }
        GROUP BY ?district""")
    assert rows == [(f"{ID}district/990101", "1200"), (f"{ID}district/990102", "650")]


def test_the_community_of_a_pipe_no_department_located(
        city: tuple[pipeline.IngestReport, GraphStore, Settings]) -> None:
    _, store, settings = city
    # The water company gives pipes as lines only. Worked out from network.geojson and the
    # boundaries in admin-areas.sqlite: GX-001..003 lie inside 东门社区 (117.04-117.08 E,
    # 36.62-36.64 N), GX-005 inside 柳泉社区 (117.00-117.04, 36.60-36.62), GX-008 inside 科创社区
    # (117.12-117.16, 36.62-36.64); GX-004, 006, 007 and 009 cross a boundary, so lie in no one community.
    rows = _ask(store, f"""SELECT ?code ?name WHERE {{
        ?pipe a city:WaterSupplyPipe ; city:assetCode ?code .
        GRAPH <{settings.graphs.spatial}> {{ ?pipe city:locatedIn ?community }}
        ?community a city:Community ; city:name ?name .
        FILTER NOT EXISTS {{ GRAPH ?stated {{ ?pipe city:locatedIn ?community }}
                             FILTER (?stated != <{settings.graphs.spatial}>) }} }}""")
    assert rows == [("GX-001", "东门社区"), ("GX-002", "东门社区"), ("GX-003", "东门社区"),
                    ("GX-005", "柳泉社区"), ("GX-008", "科创社区")]


def test_pipes_per_district_from_geometry_and_the_administrative_hierarchy(
        city: tuple[pipeline.IngestReport, GraphStore, Settings]) -> None:
    _, store, _ = city
    # A pipe inside one community is carried up to its district by the reasoner (locatedIn o
    # partOf): 东门社区 is in 河东区, 柳泉社区 in 河西区, 科创社区 in 高新区. A pipe crossing
    # communities but inside one district's boundary lies in that district: GX-004 (东门 to 南关,
    # both within 河东区, 117.04-117.08 E) and GX-006 (柳泉 to 西苑, within 河西区, 117.00-117.04 E).
    # GX-007 and GX-009 cross 117.04 E, the line between 河西区 and 河东区: in no district.
    rows = _ask(store, """SELECT ?district (GROUP_CONCAT(?code; separator=" ") AS ?pipes) WHERE {
        { SELECT DISTINCT ?district ?code WHERE { ?pipe a city:WaterSupplyPipe ; city:assetCode ?code ;
            city:locatedIn ?area . ?area a city:District ; city:name ?district } ORDER BY ?code } }
        GROUP BY ?district""")
    assert [(district, sorted(codes.split())) for district, codes in rows] == [
        ("河东区", ["GX-001", "GX-002", "GX-003", "GX-004"]), ("河西区", ["GX-005", "GX-006"]), ("高新区", ["GX-008"])]
