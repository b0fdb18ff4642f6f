"""What the spatial relations are computed from: geometries, and for a thing with a geometry, its
types and the places a department stated (not repeated). A change to none of these leaves them as
they are. Kept apart from ``spatial`` so that telling whether a change reaches them does not import
shapely and numpy (0.3 s of a command that then never uses them)."""

from __future__ import annotations

from kg_service.namespaces import CITY, GEO

SPATIAL_PREDICATES = (GEO.sfWithin, GEO.sfIntersects, CITY.locatedIn)
GEOMETRY_PREDICATES = frozenset(f"<{p}>" for p in (GEO.hasGeometry, GEO.asWKT))
PLACE_PREDICATES = frozenset(f"<{p}>" for p in SPATIAL_PREDICATES)
