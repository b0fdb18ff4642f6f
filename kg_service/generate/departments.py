"""Each department's source files at any size, in the shapes of the samples under ``mappings/``.

Every writer streams (rows go to the file as they are drawn), so ten million rows need no more
memory than ten. The mess the samples show is drawn at fixed rates: exact duplicate rows, missing
values, mixed spellings of dates and units, the same facility under other codes and names in
another department, and bad rows the validation gate must quarantine.
"""

from __future__ import annotations

import csv
import datetime
import json
import math
import random
import re
import sqlite3
import zipfile
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import TextIO

from openpyxl import Workbook

from kg_service.generate.city import (
    COMMUNITIES_PER_PUMP_STATION,
    HOSPITAL_SLOT,
    INDUSTRIAL_SLOTS,
    LAND_USES,
    METRES_PER_DEGREE_EAST,
    METRES_PER_DEGREE_NORTH,
    PUMP_SLOT,
    SCHOOL_SLOT,
    Box,
    City,
    Division,
    parcel_box,
    parcel_code,
    rng_for,
    site,
)

DUPLICATE_RATE = 0.01  # an exact copy of the row before
MISSING_RATE = 0.03  # an optional value left empty
BAD_RATE = 0.005  # a row the gate must refuse
UNCROSSWALKED_EVERY = 10  # one health facility in ten the commission's crosswalk forgets (a candidate link)


@dataclass(frozen=True)
class Source:
    """One source file: its department, where it goes in the department's folder, its size.

    ``share`` is its part of the rows asked for; ``None`` sizes it by the city (divisions, parcels,
    facilities), and the flow readings take whatever the others leave.
    """

    department: str
    file: str
    share: float | None
    write: Callable[[City, Path, int, int], int]  # (city, file, rows, seed) -> rows written

    @property
    def name(self) -> str:
        return f"{self.department}/{Path(self.file).name.split('.')[0]}"


def _spelled_date(rng: random.Random, day: datetime.date) -> str:
    """A date spelled the ways clerks spell it."""
    spellings = (day.isoformat(), f"{day.year}年{day.month}月{day.day}日", f"{day.year}/{day.month}/{day.day}",
                 day.strftime("%Y%m%d"))
    return spellings[rng.randrange(len(spellings))]


def _some_day(rng: random.Random, first_year: int, last_year: int) -> datetime.date:
    return datetime.date(rng.randint(first_year, last_year), rng.randint(1, 12), rng.randint(1, 28))


def _stem(community: Division) -> str:
    """柳泉3社区 -> 柳泉3: what facilities in the community are named after."""
    return community.name.removesuffix("社区")


def _with_duplicates(rng: random.Random, rows: Iterator[list[object]]) -> Iterator[list[object]]:
    """Each row, now and then followed by an exact copy (entered twice)."""
    for row in rows:
        yield row
        if rng.random() < DUPLICATE_RATE:
            yield row


# --- civil affairs -------------------------------------------------------------------------------

def write_admin_areas(city: City, path: Path, rows: int, seed: int) -> int:
    """The SQLite register ``xzqh`` of divisions, with population and boundaries."""
    rng = rng_for(seed, "civil-affairs/admin-areas")

    def divisions() -> Iterator[list[object]]:
        for division in city.divisions():
            population = None if division.level < 4 or rng.random() < MISSING_RATE else rng.randint(800, 12000)
            name = division.name + ("\u3000" if rng.random() < MISSING_RATE else "")  # a full-width space
            code: str = division.code
            boundary: str | None = division.box.wkt()
            if division.level == 4 and rng.random() < BAD_RATE:
                code, boundary = code[:-1], None  # a digit lost: the gate refuses the community
            yield [code, name, division.level, division.parent, population,
                   _spelled_date(rng, datetime.date(2023, 12, 31)), boundary]

    path.unlink(missing_ok=True)
    records = list(_with_duplicates(rng, divisions()))  # divisions are few: about 1 in 250 rows
    connection = sqlite3.connect(path)
    with connection:
        connection.execute("CREATE TABLE xzqh (dm TEXT, mc TEXT, jb INTEGER, sjdm TEXT, hjrk INTEGER, tjrq TEXT, "
                           "bj TEXT)")
        connection.executemany("INSERT INTO xzqh VALUES (?, ?, ?, ?, ?, ?, ?)", records)
    connection.close()
    return len(records)


# --- market regulation ---------------------------------------------------------------------------

ENTERPRISE_HEADER = ["统一社会信用代码", "企业名称", "行业代码", "注册资本（万元）", "成立日期", "区划代码", "从业人数",
                     "地块编码"]
INDUSTRIES = [("C3484", "精密机械"), ("I6450", "数据科技"), ("C2720", "生物医药"), ("G5436", "物流"),
              ("C3981", "电子元件"), ("M7320", "工程设计"), ("F5212", "商贸"), ("C1713", "纺织")]


def _hand_typed(code: str, rng: random.Random) -> str:
    """A parcel code as a clerk types it: lower case, with dashes, full-width or padded."""
    spelling = rng.randrange(5)
    if spelling == 1:
        return code.lower()
    if spelling == 2:
        return f"{code[:2]}-{code[2:-2]}-{code[-2:]}"
    if spelling == 3:
        return code.translate({c: c + 0xFEE0 for c in range(0x21, 0x7F)})  # full-width forms
    if spelling == 4:
        return code + " "
    return code


def write_enterprise_register(city: City, path: Path, rows: int, seed: int) -> int:
    """The enterprise register: CSV in GB 18030 with Chinese headers; enterprises on industrial parcels."""
    rng = rng_for(seed, "market-regulation/enterprise-register")

    def enterprises() -> Iterator[list[object]]:
        for number in range(rows):
            community = city.community(rng.randrange(city.community_count))
            district = city.district(int(community.code[4:6]) - 1)
            industry, trade = INDUSTRIES[rng.randrange(len(INDUSTRIES))]
            parcel = "" if rng.random() < MISSING_RATE * 5 else _hand_typed(
                parcel_code(community, INDUSTRIAL_SLOTS[rng.randrange(len(INDUSTRIAL_SLOTS))]), rng)
            code = f"91{district.code}MA{number:08X}"
            if rng.random() < BAD_RATE:
                code = code[:-1]  # 17 characters: the gate refuses it
            capital = "" if rng.random() < MISSING_RATE else f"{rng.randint(10, 500000) / 10:g}"
            employees = "" if rng.random() < MISSING_RATE else str(rng.randint(1, 3000))
            yield [code, f"清河{_stem(community)}{trade}第{number + 1}号有限公司", industry, capital,
                   _some_day(rng, 1995, 2024).isoformat(), district.code, employees, parcel]

    return _write_csv(path, ENTERPRISE_HEADER, _with_duplicates(rng, enterprises()), "gb18030", limit=rows)


# --- planning ------------------------------------------------------------------------------------

GEOJSON_HEAD = ('{{"type": "FeatureCollection", "name": "{name}", "crs": {{"type": "name", "properties": '
                '{{"name": "urn:ogc:def:crs:OGC:1.3:CRS84"}}}}, "features": [\n')


class _FeatureWriter:
    """A GeoJSON FeatureCollection written a feature per line, as the departments' exports are."""

    def __init__(self, handle: TextIO, name: str) -> None:
        self.handle, self.count = handle, 0
        handle.write(GEOJSON_HEAD.format(name=name))

    def write(self, properties: dict[str, object], geometry: dict[str, object] | None) -> None:
        feature = {"type": "Feature", "properties": properties, "geometry": geometry}
        self.handle.write(("  " if self.count == 0 else ",\n  ") + json.dumps(feature, ensure_ascii=False))
        self.count += 1

    def close(self) -> None:
        self.handle.write("\n]}\n")


def _polygon(box: Box) -> dict[str, object]:
    ring = [[box.west, box.south], [box.east, box.south], [box.east, box.north], [box.west, box.north],
            [box.west, box.south]]
    return {"type": "Polygon", "coordinates": [[[round(x, 6), round(y, 6)] for x, y in ring]]}


def _zone_code(community: Division) -> str:
    return f"QHZ{community.code[4:9]}"


def write_parcels(city: City, path: Path, rows: int, seed: int) -> int:
    """The regulatory plan's parcels: GeoJSON polygons, areas in 公顷 or 亩, a few without an area."""
    rng = rng_for(seed, "planning/parcels")
    with path.open("w", encoding="utf-8") as handle:
        features = _FeatureWriter(handle, "parcels")
        for community in city.communities():
            zone = _zone_code(community) if community.code.endswith("001") else None
            for slot, (use, use_name) in enumerate(LAND_USES):
                if rng.random() < BAD_RATE:
                    use = "X1"  # in no edition of GB 50137: the gate refuses the parcel
                box = parcel_box(community, slot)
                hectares = ((box.east - box.west) * METRES_PER_DEGREE_EAST
                            * (box.north - box.south) * METRES_PER_DEGREE_NORTH / 10_000)
                area: float | None = round(hectares, 3)
                unit: str | None = "公顷"
                if rng.random() < 0.3:
                    area, unit = round(hectares * 15, 2), "亩"
                if rng.random() < MISSING_RATE:
                    area, unit = None, None
                features.write({"DKBM": parcel_code(community, slot), "YDDM": use, "YDMC": use_name, "MJ": area,
                                "MJDW": unit, "SQDM": community.code, "KGDY": zone}, _polygon(box))
        features.close()
    return features.count


def write_zones(city: City, path: Path, rows: int, seed: int) -> int:
    """Plan units (控规单元): every subdistrict's first community is one."""
    with path.open("w", encoding="utf-8") as handle:
        features = _FeatureWriter(handle, "zones")
        for index, community in enumerate(city.communities()):
            if community.code.endswith("001"):
                features.write({"DYBM": _zone_code(community), "DYMC": f"{_stem(community)}片区",
                                "ZDYD": "RAM"[index % 3]}, _polygon(community.box))
        features.close()
    return features.count


INDICATORS = [("容积率", "", (0.8, 4.0)), ("建筑限高", "m", (15, 120)), ("绿地率", "%", (15, 40))]


def write_plan_indicators(city: City, path: Path, rows: int, seed: int) -> int:
    """Indicators set on parcels (most parcels have some): CSV, approval dates as clerks write them."""
    rng = rng_for(seed, "planning/plan-indicators")

    def indicators() -> Iterator[list[object]]:
        for community in city.communities():
            for slot in range(len(LAND_USES)):
                approved = _spelled_date(rng, _some_day(rng, 2015, 2024))
                for kind, unit, (low, high) in INDICATORS:
                    if rng.random() < 0.15:
                        continue  # not every indicator is set on every parcel
                    value = "" if rng.random() < BAD_RATE else f"{rng.uniform(low, high):.1f}"  # no value: refused
                    if kind == "容积率" and rng.random() < BAD_RATE:
                        value = "25"  # above any plan's limit of 20: the gate refuses it
                    yield [parcel_code(community, slot), kind, value, unit,
                           "" if rng.random() < MISSING_RATE else approved]

    return _write_csv(path, ["地块编码", "指标", "数值", "单位", "批复日期"], _with_duplicates(rng, indicators()))


# --- education -----------------------------------------------------------------------------------

STAGES = [("01", "幼儿园", "幼儿园"), ("21", "小学", "小学"), ("21", "小学", "第二小学"),
          ("31", "初级中学", "初级中学"), ("34", "普通高中", "中学")]
PAGE_SIZE = 50


def school_of(community: Division, index: int) -> tuple[str, str, tuple[float, float]]:
    """(id, name, point) of the school of the ``index``-th community, on its A33 parcel."""
    _, _, word = STAGES[index % len(STAGES)]
    return f"JY{index + 1:08d}", f"清河市{_stem(community)}{word}", site(parcel_box(community, SCHOOL_SLOT))


def write_schools(city: City, path: Path, rows: int, seed: int) -> int:
    """The bureau's JSON API dump: an envelope, then pages of records; one school per community."""
    rng = rng_for(seed, "education/schools")
    total = city.community_count
    pages = (total + PAGE_SIZE - 1) // PAGE_SIZE
    written = 0
    last: dict[str, object] | None = None
    with path.open("w", encoding="utf-8") as handle:
        handle.write('{"code": 0, "msg": "ok", "exportedAt": "2024-05-06T09:30:00+08:00", "pages": [\n')
        for page in range(pages):
            records: list[dict[str, object]] = []
            if last is not None and rng.random() < 0.2:
                records.append(last)  # the paging shifted during the dump: the previous page's last again
            for index in range(page * PAGE_SIZE, min(total, (page + 1) * PAGE_SIZE)):
                community = city.community(index)
                school_id, name, (lng, lat) = school_of(community, index)
                code, label, _ = STAGES[index % len(STAGES)]
                seats = None if rng.random() < MISSING_RATE else rng.randrange(300, 2400, 30)
                records.append({
                    "schoolId": school_id, "name": None if rng.random() < BAD_RATE else name,  # no name: refused
                    "stage": {"code": code, "label": label},
                    "address": {"text": f"{city.district(int(community.code[4:6]) - 1).name}{_stem(community)}路"
                                        f"{rng.randint(1, 200)}号",
                                "communityCode": community.code, "location": {"lng": lng, "lat": lat}},
                    "capacity": {"seats": seats, "classes": None if seats is None else seats // 45},
                    "aliases": [] if rng.random() < 0.5 else [name.removeprefix("清河市")]})
            last = records[-1]
            written += len(records)
            body = ",\n  ".join(json.dumps(record, ensure_ascii=False) for record in records)
            handle.write(("" if page == 0 else ",\n") + f' {{"page": {page + 1}, "pageSize": {PAGE_SIZE}, '
                         f'"total": {total}, "data": {{"records": [\n  {body}\n ]}}}}')
        handle.write("\n]}\n")
    return written


# --- health --------------------------------------------------------------------------------------

def has_health_facility(index: int) -> bool:
    return index % 2 == 0


def health_facility_of(community: Division, index: int) -> tuple[str, str, bool, tuple[float, float]]:
    """(code, name, is a hospital, point) of the health facility of the ``index``-th community."""
    hospital = index % 8 == 0
    name = f"清河市{_stem(community)}人民医院" if hospital else f"{_stem(community)}社区卫生服务中心"
    return f"QHWJ{index:07d}", name, hospital, site(parcel_box(community, HOSPITAL_SLOT))


def customer_code(index: int, school: bool) -> str:
    """The water company's customer code of the community's health facility or school."""
    return f"YS{2 * index + school:08d}"


def write_health_facilities(city: City, path: Path, rows: int, seed: int) -> int:
    """The commission's workbook: the register (医疗机构) and its crosswalk to water customers (用水户对照)."""
    rng = rng_for(seed, "health/facilities")
    workbook = Workbook(write_only=True)
    register = workbook.create_sheet("医疗机构")
    register.append(["机构编码", "机构名称", "机构类别", "等级代码", "床位数", "所在社区", "经度", "纬度", "开业日期"])
    crosswalk: list[list[object]] = [["机构编码", "供水户号", "备注"]]
    written = 0
    previous: list[object] | None = None
    for index in range(0, city.community_count):
        if not has_health_facility(index):
            continue
        community = city.community(index)
        code, name, hospital, (lng, lat) = health_facility_of(community, index)
        if rng.random() < MISSING_RATE:
            name = f" {name} "  # padded with spaces: trimmed
        beds = rng.randint(200, 1500) if hospital else rng.randint(20, 80)
        opened = _some_day(rng, 1950, 2020)
        row: list[object] = [
            "待分配" if rng.random() < BAD_RATE else code,  # "to be assigned": the gate refuses the code
            name, "医院" if hospital else "社区卫生服务中心", rng.choice(["3A", "3B", "2A"]) if hospital else None,
            None if rng.random() < MISSING_RATE else beds, community.code, lng, lat,
            datetime.datetime(opened.year, opened.month, opened.day) if rng.random() < 0.4
            else _spelled_date(rng, opened)]
        for _ in range(2 if previous is not None and rng.random() < DUPLICATE_RATE else 1):
            register.append(row)
            written += 1
        previous = row
        if index // 2 % UNCROSSWALKED_EVERY != 1:
            crosswalk.append([code, customer_code(index, school=False), "总院" if hospital else None])
    sheet = workbook.create_sheet("用水户对照")
    for line in crosswalk:
        sheet.append(line)
    workbook.properties.created = workbook.properties.modified = EXPORTED_AT
    workbook.save(path)
    _fix_zip_times(path)
    return written + len(crosswalk) - 1


EXPORTED_AT = datetime.datetime(2024, 5, 6, 9, 30)


def _fix_zip_times(path: Path) -> None:
    """A workbook is a zip whose entries, and its modified property, carry the time of writing; fix
    them, so same seed, same bytes."""
    with zipfile.ZipFile(path) as original:
        entries = [(info.filename, original.read(info)) for info in original.infolist()]
    stamp = EXPORTED_AT.strftime("%Y-%m-%dT%H:%M:%SZ").encode()
    entries = [(name, re.sub(rb"(<dcterms:modified[^>]*>)[^<]*", rb"\g<1>" + stamp, data)
                if name == "docProps/core.xml" else data) for name, data in entries]
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as rewritten:
        for name, data in entries:
            rewritten.writestr(zipfile.ZipInfo(name, EXPORTED_AT.timetuple()[:6]), data, zipfile.ZIP_DEFLATED)


# --- water ---------------------------------------------------------------------------------------

CAPACITY_UNITS = [("m3/d", 1.0), ("万m3/d", 1e-4), ("万立方米/日", 1e-4)]
LENGTH_UNITS = [("m", 1.0), ("米", 1.0), ("km", 1e-3), ("公里", 1e-3)]
FLOW_UNITS = [("m3/d", 1.0), ("立方米/日", 1.0), ("万m3/d", 1e-4), ("万立方米/日", 1e-4)]


def pump_station_code(group: int) -> str:
    return f"BZ-{group + 1:05d}"


def _customers(city: City, index: int) -> Iterator[tuple[str, str, tuple[float, float]]]:
    """The water customers in the ``index``-th community: its health facility and every other school,
    under the company's own codes and names (a name a clerk shortened, a point at the meter)."""
    community = city.community(index)
    if has_health_facility(index):
        _, name, hospital, _ = health_facility_of(community, index)
        short = name.removeprefix("清河市") if hospital else name.replace("社区卫生服务中心", "卫生服务中心")
        yield customer_code(index, school=False), short, site(parcel_box(community, HOSPITAL_SLOT), 0.52, 0.52)
    else:
        _, name, _ = school_of(community, index)
        yield customer_code(index, school=True), name.removeprefix("清河市"), site(parcel_box(community, SCHOOL_SLOT),
                                                                                 0.52, 0.52)


def _metres(a: tuple[float, float], b: tuple[float, float]) -> float:
    """Length of a short line in this city (latitude about 36.6 degrees)."""
    return math.hypot((a[0] - b[0]) * METRES_PER_DEGREE_EAST, (a[1] - b[1]) * METRES_PER_DEGREE_NORTH)


def write_network(city: City, path: Path, rows: int, seed: int) -> int:
    """The supply network: a pump station for every four communities, a junction beside it, pipes to
    each customer from the junction, and a trunk main joining the junctions, so the network connects."""
    rng = rng_for(seed, "water/network")
    groups = (city.community_count + COMMUNITIES_PER_PUMP_STATION - 1) // COMMUNITIES_PER_PUMP_STATION
    pipes = 0

    def pipe(features: _FeatureWriter, start: tuple[str, tuple[float, float]],
             end: tuple[str, tuple[float, float]], diameter: int) -> None:
        nonlocal pipes
        pipes += 1
        unit: str | None
        unit, factor = LENGTH_UNITS[rng.randrange(len(LENGTH_UNITS))]
        length: float | None = round(_metres(start[1], end[1]) * factor, 3 if factor < 1 else 1)
        if rng.random() < MISSING_RATE:
            length, unit = None, None  # surveyed without its length: the gate warns
        features.write({"SBBM": f"GX-{pipes:07d}", "SBLX": "管道", "QD": start[0], "ZD": end[0],
                        "GJ": None if rng.random() < BAD_RATE else diameter,  # no diameter: refused
                        "CD": length, "CDDW": unit},
                       {"type": "LineString", "coordinates": [list(start[1]), list(end[1])]})

    with path.open("w", encoding="utf-8") as handle:
        features = _FeatureWriter(handle, "network")
        previous_junction: tuple[str, tuple[float, float]] | None = None
        for group in range(groups):
            first = group * COMMUNITIES_PER_PUMP_STATION
            home = city.community(first)
            members = range(first, min(first + COMMUNITIES_PER_PUMP_STATION, city.community_count))
            customers = [customer for index in members for customer in _customers(city, index)]
            station = (pump_station_code(group), site(parcel_box(home, PUMP_SLOT)))
            junction = (f"JD-{group + 1:05d}", site(parcel_box(home, PUMP_SLOT), 0.8, 0.8))
            unit, factor = CAPACITY_UNITS[rng.randrange(len(CAPACITY_UNITS))]
            features.write({"SBBM": station[0], "SBLX": "泵站", "MC": f"{_stem(home)}加压泵站", "SQDM": home.code,
                            "SJGM": round(rng.randrange(5_000, 50_000, 500) * factor, 4), "GMDW": unit,
                            "TYRQ": _spelled_date(rng, _some_day(rng, 1990, 2022)),
                            "GSH": [code for code, _, _ in customers]},
                           {"type": "Point", "coordinates": list(station[1])})
            features.write({"SBBM": junction[0], "SBLX": "节点", "MC": None, "SQDM": home.code},
                           {"type": "Point", "coordinates": list(junction[1])})
            for index, (code, name, point) in zip(members, customers, strict=True):
                features.write({"SBBM": code, "SBLX": "用户", "MC": name, "SQDM": city.community(index).code},
                               {"type": "Point", "coordinates": list(point)})
            pipe(features, station, junction, 800)
            for code, _, point in customers:
                pipe(features, junction, (code, point), 300)
            if previous_junction is not None:
                pipe(features, previous_junction, junction, 600)
            previous_junction = junction
        features.close()
    return features.count


def write_flow_readings(city: City, path: Path, rows: int, seed: int) -> int:
    """The SCADA export: a daily flow reading of each pump station's meter, mixed units."""
    rng = rng_for(seed, "water/flow-readings")
    stations = (city.community_count + COMMUNITIES_PER_PUMP_STATION - 1) // COMMUNITIES_PER_PUMP_STATION
    first_day = datetime.date(2024, 1, 1)

    def readings() -> Iterator[list[object]]:
        for number in range(rows):
            station = pump_station_code(number % stations)
            day = first_day + datetime.timedelta(days=number // stations)
            taken = f"{day.isoformat()}T08:00:00+08:00"
            if rng.random() < BAD_RATE:
                taken = f"{day.year}/{day.month}/{day.day} 8:00"  # not an xsd:dateTime: refused
            unit, factor = FLOW_UNITS[rng.randrange(len(FLOW_UNITS))]
            value = f"{rng.uniform(5_000, 50_000) * factor:.{2 if factor < 1 else 0}f}"
            if rng.random() < BAD_RATE:
                value = ""  # the logger lost the reading: refused
            elif rng.random() < BAD_RATE:
                value, unit = f"{rng.uniform(50, 600):.0f}", "L/s"  # a unit the conversion does not know
            yield [number + 1, f"FM-{station}", station, taken, value, unit]

    return _write_csv(path, ["记录号", "测点编号", "站点编码", "采集时间", "读数", "单位"],
                      _with_duplicates(rng, readings()), limit=rows)


def _write_csv(path: Path, header: list[str], rows: Iterator[list[object]], encoding: str = "utf-8",
               limit: int | None = None) -> int:
    written = 0
    with path.open("w", encoding=encoding, newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(header)
        for row in rows:
            if limit is not None and written == limit:
                break
            writer.writerow(row)
            written += 1
    return written


SOURCES = [
    Source("civil-affairs", "sample/admin-areas.sqlite", None, write_admin_areas),
    Source("planning", "sample/parcels.geojson", None, write_parcels),
    Source("planning", "sample/zones.geojson", None, write_zones),
    Source("planning", "sample/plan-indicators.csv", None, write_plan_indicators),
    Source("education", "sample/schools.json", None, write_schools),
    Source("health", "sample/facilities.xlsx", None, write_health_facilities),
    Source("water", "sample/network.geojson", None, write_network),
    Source("market-regulation", "sample/enterprise-register.csv", 0.2, write_enterprise_register),
    Source("water", "sample/flow-readings.csv", None, write_flow_readings),  # last: takes the rows left
]
