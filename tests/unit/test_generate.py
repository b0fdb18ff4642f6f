"""The city generator: same seed same bytes, the size asked for, and one coherent city across the
six departments' files (read back here with the departments' own formats, not the generator's code)."""

from __future__ import annotations

import csv
import json
import sqlite3
import unicodedata
from pathlib import Path

import pytest
from openpyxl import load_workbook
from shapely import wkt
from shapely.geometry import Point, shape

from kg_service.config import project_path
from kg_service.generate import generate_city, generate_source

MAPPINGS = project_path("mappings")


@pytest.fixture(scope="module")
def city(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("generated")
    generate_city(MAPPINGS, out, 4000, 11)
    return out


def _files(folder: Path) -> dict[str, bytes]:
    return {str(path.relative_to(folder)): path.read_bytes() for path in sorted(folder.rglob("*")) if path.is_file()}


def test_same_seed_same_bytes_other_seed_other_bytes(tmp_path: Path, city: Path) -> None:
    again, other = tmp_path / "again", tmp_path / "other"
    generate_city(MAPPINGS, again, 4000, 11)
    generate_city(MAPPINGS, other, 4000, 12)
    first, second, third = _files(city), _files(again), _files(other)
    assert first == second
    samples = [name for name in first if "/sample/" in name]
    assert len(samples) == 9
    assert all(first[name] != third[name] for name in samples if "zones" not in name)  # zones have no chance


@pytest.mark.parametrize("rows", [1000, 25_000])
def test_about_the_rows_asked_for(tmp_path: Path, rows: int) -> None:
    written = generate_city(MAPPINGS, tmp_path, rows, 1)
    assert abs(sum(written.values()) - rows) <= rows * 0.02, written
    assert all(count > 0 for count in written.values()), written


def test_every_department_keeps_its_mappings(city: Path) -> None:
    for department in ("planning", "market-regulation", "education", "health", "water", "civil-affairs"):
        mapped = {path.name for path in (MAPPINGS / department).glob("*.rml.ttl")}
        assert mapped and mapped == {path.name for path in (city / department).glob("*.rml.ttl")}


def _communities(city: Path) -> dict[str, object]:
    with sqlite3.connect(city / "civil-affairs/sample/admin-areas.sqlite") as connection:
        rows = connection.execute("SELECT dm, bj FROM xzqh WHERE jb = 4 AND bj IS NOT NULL").fetchall()
    return {code: wkt.loads(boundary) for code, boundary in rows}


def test_facilities_lie_inside_their_communities(city: Path) -> None:
    communities = _communities(city)
    schools = [record for page in json.loads((city / "education/sample/schools.json").read_text("utf-8"))["pages"]
               for record in page["data"]["records"]]
    places = [(s["address"]["communityCode"], s["address"]["location"]["lng"], s["address"]["location"]["lat"])
              for s in schools]
    register = load_workbook(city / "health/sample/facilities.xlsx", read_only=True)["医疗机构"]
    places += [(row[5], row[6], row[7]) for row in register.iter_rows(min_row=2, values_only=True)]
    network = json.loads((city / "water/sample/network.geojson").read_text("utf-8"))["features"]
    places += [(f["properties"]["SQDM"], *f["geometry"]["coordinates"]) for f in network
               if f["geometry"]["type"] == "Point"]
    parcels = json.loads((city / "planning/sample/parcels.geojson").read_text("utf-8"))["features"]
    assert len(places) > 40 and parcels
    for code, lng, lat in places:
        assert communities[str(code)].contains(Point(lng, lat)), (code, lng, lat)
    for parcel in parcels:
        assert communities[parcel["properties"]["SQDM"]].contains(shape(parcel["geometry"])), parcel["properties"]


def test_pipes_join_the_nodes_they_name_and_every_customer_is_supplied(city: Path) -> None:
    features = json.loads((city / "water/sample/network.geojson").read_text("utf-8"))["features"]
    points = {f["properties"]["SBBM"]: f["geometry"]["coordinates"] for f in features
              if f["geometry"]["type"] == "Point"}
    pipes = [f for f in features if f["properties"]["SBLX"] == "管道"]
    for pipe in pipes:
        start, end = pipe["geometry"]["coordinates"]
        assert (start, end) == (points[pipe["properties"]["QD"]], points[pipe["properties"]["ZD"]])
    customers = {f["properties"]["SBBM"] for f in features if f["properties"]["SBLX"] == "用户"}
    supplied = {c for f in features if f["properties"]["SBLX"] == "泵站" for c in f["properties"]["GSH"]}
    assert customers and supplied == customers
    # One network: every node reachable from the first pump station along pipes.
    links: dict[str, set[str]] = {}
    for pipe in pipes:
        links.setdefault(pipe["properties"]["QD"], set()).add(pipe["properties"]["ZD"])
        links.setdefault(pipe["properties"]["ZD"], set()).add(pipe["properties"]["QD"])
    reached, frontier = {"BZ-00001"}, ["BZ-00001"]
    while frontier:
        for node in links.get(frontier.pop(), set()) - reached:
            reached.add(node)
            frontier.append(node)
    assert reached == set(points)


def _parcel_key(typed: str) -> str:
    """What the market regulation mapping makes of a hand-typed parcel code (full-width, dashes, case)."""
    return unicodedata.normalize("NFKC", typed).strip().replace("-", "").upper()


def test_enterprises_stand_on_industrial_parcels(city: Path) -> None:
    parcels = json.loads((city / "planning/sample/parcels.geojson").read_text("utf-8"))["features"]
    land_use = {p["properties"]["DKBM"]: p["properties"]["YDDM"] for p in parcels}
    with (city / "market-regulation/sample/enterprise-register.csv").open(encoding="gb18030", newline="") as handle:
        typed = [row["地块编码"] for row in csv.DictReader(handle) if row["地块编码"]]
    assert len(typed) > 100
    assert any(code != _parcel_key(code) for code in typed)  # the mess is there
    assert all(land_use[_parcel_key(code)] in {"M1", "M2", "X1"} for code in typed)  # X1: a planted bad parcel


def test_health_crosswalk_points_at_water_customers_and_leaves_some_out(city: Path) -> None:
    workbook = load_workbook(city / "health/sample/facilities.xlsx", read_only=True)
    facilities = {row[0] for row in workbook["医疗机构"].iter_rows(min_row=2, values_only=True)}
    crosswalk = list(workbook["用水户对照"].iter_rows(min_row=2, values_only=True))
    features = json.loads((city / "water/sample/network.geojson").read_text("utf-8"))["features"]
    customers = {f["properties"]["SBBM"] for f in features if f["properties"]["SBLX"] == "用户"}
    assert crosswalk and {row[1] for row in crosswalk} <= customers
    assert len({row[0] for row in crosswalk}) < len(facilities)  # some left out, for candidate links


def test_one_source_alone_has_the_rows_asked_for(tmp_path: Path) -> None:
    alone = generate_source("water/flow-readings", tmp_path, 500, 3)
    with alone.open(encoding="utf-8") as handle:
        assert sum(1 for _ in handle) == 501
    assert alone.read_text("utf-8").startswith("记录号,测点编号,站点编码,采集时间,读数,单位\n")
