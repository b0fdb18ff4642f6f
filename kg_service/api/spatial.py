"""Spatial filters and GeoJSON for the API.

"Inside an area" is a graph fact (``city:locatedIn``, ``geo:sfWithin``: stated, or computed by the
reasoning step), so the page query asks the store. "Within a distance of a point" is geometry: the
class's geometries are read in one query and put under an STR-tree (the reasoning step's
``SpatialIndex``, in metres), and the entities it finds reach the page query as a list.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import shapely
from shapely.geometry import mapping

from kg_service.reason.spatial import SpatialFeature, SpatialIndex, parse_wkt

if TYPE_CHECKING:
    from kg_service.api.execution import Executor


def geojson_of(wkt: str) -> dict[str, Any] | None:
    """A geo:wktLiteral as a GeoJSON geometry; None for one that does not parse."""
    try:
        return dict(mapping(parse_wkt(wkt)))
    except (ValueError, shapely.errors.ShapelyError):
        return None


def near(executor: Executor, class_iri: str, longitude: float, latitude: float, meters: float) -> list[str]:
    """The entities of ``class_iri`` whose geometry lies within ``meters`` of the point, nearest first."""
    compiled = executor.compiler.geometries(class_iri)
    rows = executor.select(compiled.text, compiled.bindings)
    features = []
    for entity, wkt in rows:
        if entity is None or wkt is None:
            continue
        try:
            features.append(SpatialFeature(entity.value, parse_wkt(wkt.value)))
        except (ValueError, shapely.errors.ShapelyError):
            continue  # a geometry the gate let through as a warning: not near anything
    found = SpatialIndex(features).within_distance(shapely.Point(longitude, latitude), meters) if features else []
    return list(dict.fromkeys(feature.iri for feature, _ in found))
