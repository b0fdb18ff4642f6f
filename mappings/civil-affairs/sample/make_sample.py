"""Build admin-areas.sqlite, the civil affairs bureau's register of administrative divisions.

Run from anywhere: ``python mappings/civil-affairs/sample/make_sample.py``. The database is committed;
this script is how it was made, so a change to the sample is a change here.
"""

from __future__ import annotations

import sqlite3
from pathlib import Path

HERE = Path(__file__).resolve().parent


def box(west: float, south: float, east: float, north: float) -> str:
    return (f"POLYGON(({west:.2f} {south:.2f}, {east:.2f} {south:.2f}, {east:.2f} {north:.2f}, "
            f"{west:.2f} {north:.2f}, {west:.2f} {south:.2f}))")


# (district code, district, subdistrict, north community, south community, west edge)
DISTRICTS = [
    ("990102", "河西区", "西城街道", "西苑社区", "柳泉社区", 117.00),
    ("990101", "河东区", "东城街道", "东门社区", "南关社区", 117.04),
    ("990103", "滨江区", "滨江街道", "江湾社区", "沙洲社区", 117.08),
    ("990104", "高新区", "科创街道", "科创社区", "新港社区", 117.12),
]
POPULATION = {"990102": (5200, 4800), "990101": (8100, 7400), "990103": (3900, None), "990104": (2600, 3100)}

rows: list[tuple[str, str, int, str | None, int | None, str, str | None]] = []
rows.append(("990100", "清河市", 1, None, None, "2023-12-31", box(117.00, 36.60, 117.16, 36.64)))
for code, district, subdistrict, north, south, west in DISTRICTS:
    north_people, south_people = POPULATION[code]
    total = None if south_people is None else north_people + south_people
    rows.append((code, district, 2, "990100", total, "2023年12月31日", box(west, 36.60, west + 0.04, 36.64)))
    rows.append((f"{code}001", subdistrict, 3, code, total, "2023/12/31", box(west, 36.60, west + 0.04, 36.64)))
    rows.append((f"{code}001001", north, 4, f"{code}001", north_people, "2023-12-31",
                 box(west, 36.62, west + 0.04, 36.64)))
    rows.append((f"{code}001002", south, 4, f"{code}001", south_people, "20231231",
                 box(west, 36.60, west + 0.04, 36.62)))
# Planted mess: a name padded with a full-width space, a row entered twice, and a community whose
# code lost a digit (the gate must refuse it; it has no boundary either).
rows[2] = (rows[2][0], rows[2][1] + "\u3000", *rows[2][2:])
rows.append(rows[4])
rows.append(("99010100100", "东门新村社区", 4, "990101001", 1200, "2023-12-31", None))

database = HERE / "admin-areas.sqlite"
database.unlink(missing_ok=True)
with sqlite3.connect(database) as connection:
    connection.execute("""CREATE TABLE xzqh (
        dm TEXT,     -- 区划代码: 6 digits (city, district), 9 (subdistrict), 12 (community)
        mc TEXT,     -- 名称
        jb INTEGER,  -- 级别: 1 市, 2 区, 3 街道, 4 社区
        sjdm TEXT,   -- 上级代码
        hjrk INTEGER, -- 户籍人口
        tjrq TEXT,   -- 统计日期, as each clerk typed it
        bj TEXT      -- 边界, WKT in longitude/latitude
    )""")
    connection.executemany("INSERT INTO xzqh VALUES (?, ?, ?, ?, ?, ?, ?)", rows)
connection.close()
