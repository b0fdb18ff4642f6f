"""The fictional city the generator draws: divisions tiling a rectangle, and places inside them.

Everything is a pure function of (scale, seed), so a department's table can be written on its own
and still agree with the others: a school's community code, a pump station's point and the parcel an
enterprise sits on all come from here. The layout follows the samples in ``mappings/``: districts
side by side west to east from longitude 117.00, between latitudes 36.60 and 36.64; codes 9901xx.
"""

from __future__ import annotations

import math
import random
from collections.abc import Iterator
from dataclasses import dataclass
from functools import cached_property

CITY_CODE = "990100"
# Metres per degree at the city's latitude (about 36.6 degrees north), for areas and pipe lengths.
METRES_PER_DEGREE_EAST, METRES_PER_DEGREE_NORTH = 89_360, 111_000
ROWS_PER_COMMUNITY = 250  # source rows (all departments) per community: sets the city's size
WEST, SOUTH, NORTH = 117.00, 36.60, 36.64
DISTRICT_WIDTH = 0.04
DISTRICT_NAMES = ["河西", "河东", "滨江", "高新", "北湖", "南山", "东港", "西岭", "新城", "古镇"]
PLACE_WORDS = ["东门", "南关", "西苑", "柳泉", "江湾", "沙洲", "科创", "新港", "桃园", "杏林", "松柏", "翠湖",
               "金桥", "银河", "春晖", "明德", "和平", "团结", "振兴", "光明"]


@dataclass(frozen=True)
class Box:
    west: float
    south: float
    east: float
    north: float

    def wkt(self) -> str:
        w, s, e, n = (f"{v:.5f}" for v in (self.west, self.south, self.east, self.north))
        return f"POLYGON(({w} {s}, {e} {s}, {e} {n}, {w} {n}, {w} {s}))"

    def point(self, rng: random.Random, margin: float = 0.1) -> tuple[float, float]:
        """A point well inside the box (never on an edge, so it lies in exactly one division)."""
        dx, dy = (self.east - self.west) * margin, (self.north - self.south) * margin
        return (round(rng.uniform(self.west + dx, self.east - dx), 6),
                round(rng.uniform(self.south + dy, self.north - dy), 6))


@dataclass(frozen=True)
class Division:
    code: str
    name: str
    level: int  # 1 city, 2 district, 3 subdistrict, 4 community
    parent: str | None
    box: Box


@dataclass(frozen=True)
class City:
    """The city at a scale: ``rows`` is the total number of source rows asked for."""

    rows: int
    seed: int

    @cached_property
    def shape(self) -> tuple[int, int, int]:
        """(districts, subdistricts per district, communities per subdistrict)."""
        communities = max(8, self.rows // ROWS_PER_COMMUNITY)
        districts = min(99, max(4, math.ceil(communities / 200)))
        subdistricts = min(999, max(1, math.ceil(communities / districts / 12)))
        per_subdistrict = min(999, max(2, math.ceil(communities / districts / subdistricts)))
        return districts, subdistricts, per_subdistrict

    def divisions(self) -> Iterator[Division]:
        """Every division, parents before children (the civil affairs register's order)."""
        districts, subdistricts, communities = self.shape
        yield Division(CITY_CODE, "清河市", 1, None, Box(WEST, SOUTH, WEST + districts * DISTRICT_WIDTH, NORTH))
        for d in range(districts):
            district = self.district(d)
            yield district
            for s in range(subdistricts):
                subdistrict = self._subdistrict(d, s)
                yield subdistrict
                for c in range(communities):
                    yield self._community(d, s, c)

    def communities(self) -> Iterator[Division]:
        return (division for division in self.divisions() if division.level == 4)

    def community(self, index: int) -> Division:
        """The ``index``-th community (wrapping), for spreading places over the city."""
        districts, subdistricts, communities = self.shape
        index %= districts * subdistricts * communities
        return self._community(index // (subdistricts * communities), index // communities % subdistricts,
                               index % communities)

    @property
    def community_count(self) -> int:
        districts, subdistricts, communities = self.shape
        return districts * subdistricts * communities

    def district(self, d: int) -> Division:
        west = WEST + d * DISTRICT_WIDTH
        name = DISTRICT_NAMES[d % len(DISTRICT_NAMES)] + ("" if d < len(DISTRICT_NAMES) else str(d // 10)) + "区"
        return Division(f"9901{d + 1:02d}", name, 2, CITY_CODE, Box(west, SOUTH, west + DISTRICT_WIDTH, NORTH))

    def _subdistrict(self, d: int, s: int) -> Division:
        district = self.district(d)
        height = (NORTH - SOUTH) / self.shape[1]
        box = Box(district.box.west, SOUTH + s * height, district.box.east, SOUTH + (s + 1) * height)
        name = f"{PLACE_WORDS[(d * 7 + s) % len(PLACE_WORDS)]}{s + 1}街道"
        return Division(f"{district.code}{s + 1:03d}", name, 3, district.code, box)

    def _community(self, d: int, s: int, c: int) -> Division:
        subdistrict = self._subdistrict(d, s)
        width = DISTRICT_WIDTH / self.shape[2]
        box = Box(subdistrict.box.west + c * width, subdistrict.box.south, subdistrict.box.west + (c + 1) * width,
                  subdistrict.box.north)
        name = f"{PLACE_WORDS[(d * 13 + s * 5 + c) % len(PLACE_WORDS)]}{c + 1}社区"
        return Division(f"{subdistrict.code}{c + 1:03d}", name, 4, subdistrict.code, box)


# The parcels of every community, by slot: (GB 50137 land-use code, name). A community has at least
# these ten; the slot fixes what stands on the parcel (a school on A33, a hospital on A51, a pump
# station on U11, enterprises on M1 and M2), so each department's facilities agree on their place.
LAND_USES = [("R2", "二类居住用地"), ("R2", "二类居住用地"), ("A33", "中小学用地"), ("M1", "一类工业用地"),
             ("B1", "商业用地"), ("R1", "一类居住用地"), ("M2", "二类工业用地"), ("A51", "医院用地"),
             ("U11", "供水用地"), ("G1", "公园绿地")]
SCHOOL_SLOT, HOSPITAL_SLOT, PUMP_SLOT = 2, 7, 8
INDUSTRIAL_SLOTS = [slot for slot, (code, _) in enumerate(LAND_USES) if code.startswith("M")]
COMMUNITIES_PER_PUMP_STATION = 4


def parcel_code(community: Division, slot: int) -> str:
    """The planning bureau's parcel code: QH, the community's digits after the city, the slot."""
    return f"QH{community.code[4:]}{slot:02d}"


def parcel_box(community: Division, slot: int) -> Box:
    """Slot ``slot`` of a grid over the community, shrunk a little so that parcels do not touch."""
    columns = math.ceil(math.sqrt(len(LAND_USES)))
    rows = math.ceil(len(LAND_USES) / columns)
    width = (community.box.east - community.box.west) / columns
    height = (community.box.north - community.box.south) / rows
    west = community.box.west + slot % columns * width
    south = community.box.south + slot // columns * height
    return Box(west + width * 0.05, south + height * 0.05, west + width * 0.95, south + height * 0.95)


def site(box: Box, x: float = 0.5, y: float = 0.5) -> tuple[float, float]:
    """A point at fractions (x, y) of a box: facilities stand on their parcel, inside their community."""
    return round(box.west + (box.east - box.west) * x, 6), round(box.south + (box.north - box.south) * y, 6)


def rng_for(seed: int, dataset: str) -> random.Random:
    """One independent, reproducible stream per dataset, so one table can be written alone."""
    return random.Random(f"{seed}/{dataset}")
