"""Write parcels.geojson and zones.geojson, the planning bureau's regulatory-plan layers.

The layers are committed; this script is how they were drawn, so the polygons stay consistent with
the civil affairs boundaries (communities are 0.04 x 0.02 degree boxes) and with where the other
departments place their facilities. Run: ``python mappings/planning/sample/make_sample.py``.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent


def box(west: float, south: float, east: float, north: float) -> dict[str, Any]:
    ring = [[west, south], [east, south], [east, north], [west, north], [west, south]]
    return {"type": "Polygon", "coordinates": [[[round(x, 4), round(y, 4)] for x, y in ring]]}


def feature(properties: dict[str, Any], geometry: dict[str, Any] | None) -> dict[str, Any]:
    return {"type": "Feature", "properties": properties, "geometry": geometry}


# DKBM parcel code, YDDM land-use code (GB 50137), YDMC its name, MJ area and MJDW its unit as the
# surveyor wrote it, SQDM the community, KGDY the plan unit (zone), and the box.
PARCELS = [
    ("QHHX01", "A33", "中小学用地", 15, "公顷", "990102001002", None, (117.015, 36.605, 117.025, 36.615)),
    ("QHHX02", "A51", "医院用地", 120, "亩", "990102001001", None, (117.015, 36.625, 117.025, 36.635)),
    ("QHHD01", "A51", "医院用地", 4.2, "公顷", "990101001001", "QHHDZ1", (117.047, 36.627, 117.053, 36.633)),
    ("QHHD02", "A33", "中小学用地", 90, "亩", "990101001001", "QHHDZ1", (117.065, 36.630, 117.075, 36.638)),
    ("QHHD03", "R2", "二类居住用地", 12, "公顷", "990101001002", None, (117.055, 36.602, 117.075, 36.608)),
    ("QHHD04", "U11", "供水用地", None, None, "990101001001", None, (117.043, 36.623, 117.047, 36.627)),
    ("QHHD05", "M1", "一类工业用地", 9, "公顷", "990101001002", None, (117.060, 36.612, 117.075, 36.618)),
    ("QHBJ01", "M2", "二类工业用地", 15, "公顷", "990103001002", None, (117.085, 36.602, 117.100, 36.612)),
    ("QHGX01", "M1", "一类工业用地", 150, "亩", "990104001002", "QHGXZ1", (117.125, 36.602, 117.135, 36.612)),
    ("QHGX02", "M2", "二类工业用地", 16.5, "公顷", "990104001002", "QHGXZ1", (117.140, 36.602, 117.155, 36.612)),
    ("QHGX03", "A33", "中小学用地", 3, "公顷", "990104001002", None, (117.137, 36.613, 117.143, 36.617)),
    ("QHBJ02", "A33", "中小学用地", 3, "公顷", "990103001002", None, (117.097, 36.607, 117.103, 36.613)),
    ("QHGX04", "U11", "供水用地", 1, "公顷", "990104001001", None, (117.133, 36.623, 117.137, 36.627)),
    ("QHHX03", "U11", "供水用地", 1, "公顷", "990102001002", None, (117.008, 36.613, 117.012, 36.617)),
    # Planted: a land-use code that is in no edition of GB 50137 (a typo for M1); the gate must refuse it.
    ("QHBJ09", "X1", "工业用地", 6, "公顷", "990103001002", None, (117.105, 36.602, 117.115, 36.608)),
]

parcels = [feature({"DKBM": code, "YDDM": use, "YDMC": name, "MJ": area, "MJDW": unit, "SQDM": community,
                    "KGDY": zone}, box(*bounds))
           for code, use, name, area, unit, community, zone, bounds in PARCELS]
zones = [
    feature({"DYBM": "QHHDZ1", "DYMC": "河东中心片区", "ZDYD": "A"}, box(117.045, 36.625, 117.078, 36.640)),
    feature({"DYBM": "QHGXZ1", "DYMC": "高新区工业片区", "ZDYD": "M"}, box(117.122, 36.600, 117.158, 36.614)),
]
for name, features in (("parcels", parcels), ("zones", zones)):
    collection = {"type": "FeatureCollection", "name": name,
                  "crs": {"type": "name", "properties": {"name": "urn:ogc:def:crs:OGC:1.3:CRS84"}},
                  "features": features}
    # One feature per line: easy to read and to diff.
    lines = ",\n".join("  " + json.dumps(f, ensure_ascii=False) for f in features)
    head = json.dumps({k: v for k, v in collection.items() if k != "features"}, ensure_ascii=False)[:-1]
    (HERE / f"{name}.geojson").write_text(f'{head}, "features": [\n{lines}\n]}}\n', encoding="utf-8")
