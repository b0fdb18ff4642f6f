"""Write network.geojson, the water company's supply network: pump stations, junctions, customer
connections (points) and pipes (lines whose ends are those points, so the network connects).

The layer is committed; this script is how it was drawn. Run:
``python mappings/water/sample/make_sample.py``.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent

# SBBM code, SBLX kind, MC name, SQDM community, point, extra properties
NODES: list[tuple[str, str, str | None, str, tuple[float, float], dict[str, Any]]] = [
    ("BZ-01", "泵站", "东门加压泵站", "990101001001", (117.0450, 36.6250),
     {"SJGM": 5, "GMDW": "万m3/d", "TYRQ": "2009年6月18日", "GSH": ["YS0012", "YS0045", "YS0050"]}),
    ("BZ-02", "泵站", "西城加压泵站", "990102001002", (117.0100, 36.6150),
     {"SJGM": 30000, "GMDW": "m3/d", "TYRQ": "2012/3/1", "GSH": ["YS0031"]}),
    ("BZ-03", "泵站", "科创加压泵站", "990104001001", (117.1350, 36.6250),
     {"SJGM": 2.5, "GMDW": "万立方米/日", "TYRQ": "20150801", "GSH": ["YS0088"]}),
    ("JD-001", "节点", None, "990101001001", (117.0500, 36.6280), {}),
    ("JD-002", "节点", None, "990102001002", (117.0300, 36.6180), {}),
    ("YS0012", "用户", "清河市第一人民医院（总院）", "990101001001", (117.0502, 36.6298), {}),
    ("YS0031", "用户", "第二人民医院", "990102001001", (117.0201, 36.6299), {}),
    ("YS0045", "用户", "实验小学", "990101001001", (117.0701, 36.6349), {}),
    ("YS0050", "用户", "南关卫生服务中心", "990101001002", (117.0601, 36.6101), {}),
    ("YS0088", "用户", "清河市第一人民医院（东院）", "990104001001", (117.1300, 36.6300), {}),
]
POINTS = {code: point for code, _, _, _, point, _ in NODES}
# SBBM code, from, to, diameter (mm), length and its unit
PIPES: list[tuple[str, str, str, int | None, float | None, str | None]] = [
    ("GX-001", "BZ-01", "JD-001", 600, 0.59, "km"),
    ("GX-002", "JD-001", "YS0012", 300, 200, "m"),
    ("GX-003", "JD-001", "YS0045", 300, 1.9, "km"),
    ("GX-004", "BZ-01", "YS0050", 400, 2.2, "公里"),
    ("GX-005", "BZ-02", "JD-002", 800, 1850, "米"),
    ("GX-006", "JD-002", "YS0031", 300, None, None),
    ("GX-007", "JD-002", "BZ-01", 800, 1.42, "km"),
    ("GX-008", "BZ-03", "YS0088", 300, 0.74, "km"),
    # Planted: a pipe surveyed without its diameter; the gate must refuse it.
    ("GX-009", "JD-001", "JD-002", None, 2.1, "km"),
]

features: list[dict[str, Any]] = []
for code, kind, name, community, (lon, lat), extra in NODES:
    features.append({"type": "Feature", "properties": {"SBBM": code, "SBLX": kind, "MC": name, "SQDM": community,
                                                       **extra},
                     "geometry": {"type": "Point", "coordinates": [lon, lat]}})
for code, start, end, diameter, length, unit in PIPES:
    features.append({"type": "Feature",
                     "properties": {"SBBM": code, "SBLX": "管道", "QD": start, "ZD": end, "GJ": diameter,
                                    "CD": length, "CDDW": unit},
                     "geometry": {"type": "LineString", "coordinates": [list(POINTS[start]), list(POINTS[end])]}})

lines = ",\n".join("  " + json.dumps(f, ensure_ascii=False) for f in features)
(HERE / "network.geojson").write_text(
    '{"type": "FeatureCollection", "name": "network", "features": [\n' + lines + "\n]}\n", encoding="utf-8")
