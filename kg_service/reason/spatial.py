"""Spatial relations computed from the departments' geometries and materialised as triples.

Departments say where a thing is by a code (a school names its community) or only by a point. The
geometries answer the rest: which community a pump station is in, which parcels a pipe crosses,
how far the nearest hospital is from each community. The results go to a graph of their own
(``graph/spatial``), recomputed from scratch each time, holding only triples no department asserted.

What is materialised, between features (the things), not their geometries (a department's drawing
of a thing; GeoSPARQL 1.1 defines the relations for both, and questions are asked about things):

- ``geo:sfWithin`` when a feature lies inside an area (administrative area, parcel or zone) with no
  part on its boundary only, ``geo:sfIntersects`` when the two meet otherwise (a point on the edge,
  a pipe crossing into the area, a parcel overlapping a zone). Each pair gets one of the two:
  within implies intersects, so ask for either. Administrative areas are not related to each
  other (the civil affairs bureau says ``city:partOf``), and lines or polygons that only touch an
  area's boundary are left out: neighbouring parcels would otherwise all "intersect".
- ``city:locatedIn`` the smallest administrative area that covers the whole geometry, for a
  feature no department placed anywhere (a stated place is not second-guessed: where the geometry
  disagrees, the report says so); a point on the border of two
  communities is then in their subdistrict, which is true, rather than in a guessed one.
- For each community and each kind of public-service facility present, the nearest facility of
  that kind from the community's centroid, as a ``city:NearestFacility`` node with the distance in
  metres; equally near facilities each get one.

Distances and relations are computed in a local plane in metres (an equirectangular projection
at the data's mean latitude), good to well under a metre across a city.
https://docs.ogc.org/is/22-047r1/22-047r1.html#_simple_features_relation_family
"""

from __future__ import annotations

import hashlib
import math
import re
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

import numpy as np
import shapely
from rdflib import RDF, RDFS, Graph, Literal, URIRef
from rdflib.namespace import XSD
from shapely.errors import ShapelyError
from shapely.geometry.base import BaseGeometry

from kg_service.namespaces import CITY, GEO, PREFIXES, GraphNames
from kg_service.reason.spatial_inputs import SPATIAL_PREDICATES
from kg_service.store import GraphStore, RdfFormat, select

ADMINISTRATIVE_LEVELS = (CITY.Community, CITY.Subdistrict, CITY.District, CITY.City)  # smallest first
AREA_CLASSES = (CITY.AdministrativeArea, CITY.LandParcel, CITY.FunctionalZone)
FACILITY_CLASS = CITY.PublicServiceFacility
TIE_TOLERANCE_M = 0.01


@dataclass(frozen=True)
class SpatialFeature:
    """A thing with a geometry in CRS84 longitude/latitude, and its classes (asserted and implied)."""

    iri: str
    geometry: BaseGeometry
    classes: frozenset[str] = frozenset()

    def is_a(self, *classes: URIRef) -> bool:
        return any(str(c) in self.classes for c in classes)


@dataclass
class SpatialReport:
    """What was computed, what was left out and why, and how much exact geometry work it took."""

    features: int = 0
    skipped: list[str] = field(default_factory=list)
    predicate_evaluations: int = 0
    triples: dict[str, int] = field(default_factory=dict)
    disagreements: list[str] = field(default_factory=list)

    @property
    def total(self) -> int:
        return sum(self.triples.values())


class LocalPlane:
    """Longitude/latitude to metres east and north of an origin; planar relations are unchanged."""

    def __init__(self, origin_lon: float, origin_lat: float) -> None:
        phi = math.radians(origin_lat)
        self.origin = np.array([origin_lon, origin_lat])
        # metres per degree on the WGS 84 ellipsoid (the usual series)
        self.scale = np.array([111_412.84 * math.cos(phi) - 93.5 * math.cos(3 * phi),
                               111_132.92 - 559.82 * math.cos(2 * phi) + 1.175 * math.cos(4 * phi)])

    @classmethod
    def around(cls, geometries: Sequence[BaseGeometry]) -> LocalPlane:
        if not geometries:
            return cls(0.0, 0.0)
        bounds = shapely.total_bounds(np.asarray(geometries, dtype=object))
        return cls((bounds[0] + bounds[2]) / 2, (bounds[1] + bounds[3]) / 2)

    def project(self, geometries: Any) -> Any:
        return shapely.transform(geometries, lambda xy: (xy - self.origin) * self.scale)


class SpatialIndex:
    """Features in metres under an STR-tree, so a question looks only at nearby candidates."""

    def __init__(self, features: Sequence[SpatialFeature], plane: LocalPlane | None = None) -> None:
        self.features = list(features)
        raw = [f.geometry for f in self.features]
        self.plane = plane or LocalPlane.around(raw)
        self.geometries = self.plane.project(np.asarray(raw, dtype=object)) if raw else np.empty(0, dtype=object)
        self.tree = shapely.STRtree(self.geometries)

    def within_distance(self, point: BaseGeometry, metres: float) -> list[tuple[SpatialFeature, float]]:
        """Features within ``metres`` of a longitude/latitude point, nearest first, with the distance."""
        here = self.plane.project(point)
        hits = self.tree.query(here, predicate="dwithin", distance=metres)
        found = [(self.features[i], float(shapely.distance(here, self.geometries[i]))) for i in hits]
        return sorted(found, key=lambda pair: (pair[1], pair[0].iri))


def within_distance(features: Sequence[SpatialFeature] | SpatialIndex, point: BaseGeometry,
                    metres: float) -> list[tuple[SpatialFeature, float]]:
    """Features within ``metres`` of a point, nearest first; pass a ``SpatialIndex`` to ask many times."""
    index = features if isinstance(features, SpatialIndex) else SpatialIndex(features)
    return index.within_distance(point, metres)


def parse_wkt(text: str) -> BaseGeometry:
    """A geo:wktLiteral's geometry; the literal may start with its CRS IRI (CRS84 is the only one used)."""
    geometry = shapely.from_wkt(re.sub(r"^\s*<[^>]+>\s*", "", text))
    if geometry is None or geometry.is_empty:
        raise ValueError("empty geometry")
    if not geometry.is_valid:
        raise ValueError(shapely.is_valid_reason(geometry))
    return geometry


def read_spatial_features(store: GraphStore, source_prefix: str,
                          report: SpatialReport | None = None) -> list[SpatialFeature]:
    """Every feature of the committed source graphs with a WKT geometry, and its classes, in one query.

    Classes are closed upwards over the ontology's ``rdfs:subClassOf`` (when the ontology graph is in
    the store), so a ``city:Hospital`` counts as a public-service facility without the inferred graph.
    A geometry that does not parse, or is invalid, is left out with a reason.
    """
    report = report if report is not None else SpatialReport()
    rows = select(store, f"""
        SELECT ?s ?wkt ?class WHERE {{
          GRAPH ?g {{ ?s <{GEO.hasGeometry}>/<{GEO.asWKT}> ?wkt }}
          OPTIONAL {{ GRAPH ?h {{ ?s a ?class }} FILTER (STRSTARTS(STR(?h), "{source_prefix}")) }}
          FILTER (STRSTARTS(STR(?g), "{source_prefix}")) }}""").rows
    superclasses = _superclasses(store)
    texts: dict[str, set[str]] = defaultdict(set)
    classes: dict[str, set[str]] = defaultdict(set)
    for subject, literal, cls in rows:
        texts[str(subject)].add(str(literal))
        if cls is not None:
            classes[str(subject)] |= {str(cls), *superclasses.get(str(cls), ())}
    features: list[SpatialFeature] = []
    for iri in sorted(texts):
        text = sorted(texts[iri])[0]  # a thing drawn twice: the first drawing, in a stable order
        try:
            geometry = parse_wkt(text)
        except (ShapelyError, ValueError) as error:
            report.skipped.append(f"{iri}: geometry not usable ({error}): {text[:60]}")
            continue
        features.append(SpatialFeature(iri, geometry, frozenset(classes[iri])))
    report.features = len(features)
    return features


def _superclasses(store: GraphStore) -> dict[str, set[str]]:
    pairs = select(store, f"SELECT ?c ?d WHERE {{ ?c <{RDFS.subClassOf}>+ ?d FILTER (isIRI(?c) && isIRI(?d)) }}")
    closure: dict[str, set[str]] = defaultdict(set)
    for sub, sup in pairs.rows:
        closure[str(sub)].add(str(sup))
    return closure


def read_asserted(store: GraphStore, source_prefix: str) -> set[tuple[str, str, str]]:
    """The spatial statements departments made themselves, so none is repeated."""
    values = " ".join(f"<{p}>" for p in SPATIAL_PREDICATES)
    rows = select(store, f"""
        SELECT DISTINCT ?s ?p ?o WHERE {{ GRAPH ?g {{ ?s ?p ?o }} VALUES ?p {{ {values} }}
          FILTER (STRSTARTS(STR(?g), "{source_prefix}")) }}""").rows
    return {(str(s), str(p), str(o)) for s, p, o in rows}


def _matches(matrix: str, pattern: str) -> bool:
    """DE-9IM matrix against a pattern of T, F, * and dimensions."""
    return all(p == "*" or (p == "T" and m != "F") or p == m for m, p in zip(matrix, pattern, strict=True))


def _within(matrix: str) -> bool:
    return _matches(matrix, "T*F**F***")


def _contains(matrix: str) -> bool:
    return _matches(matrix, "T*****FF*")


def _covered_by(matrix: str) -> bool:
    return any(_matches(matrix, p) for p in ("T*F**F***", "*TF**F***", "**FT*F***", "**F*TF***"))


def compute_spatial(features: Sequence[SpatialFeature], base_iri: str,
                    asserted: Iterable[tuple[str, str, str]] = (), facility_kinds: Iterable[str] = (),
                    report: SpatialReport | None = None) -> Graph:
    """The spatial triples of the features that are not among ``asserted``; see the module's docstring.

    Nearest facilities are found for each of ``facility_kinds`` (class IRIs) that some feature has."""
    report = report if report is not None else SpatialReport()
    known = set(asserted)
    index = SpatialIndex(features)
    graph = Graph()
    for prefix, namespace in PREFIXES.items():
        graph.bind(prefix, namespace)

    def add(subject: str, predicate: URIRef, obj: str) -> None:
        if (subject, str(predicate), obj) not in known:
            graph.add((URIRef(subject), predicate, URIRef(obj)))

    areas = [i for i, f in enumerate(index.features) if f.is_a(*AREA_CLASSES)]
    admin = {i for i in areas if index.features[i].is_a(CITY.AdministrativeArea)}
    admin_iris = {index.features[j].iri for j in admin}
    subjects = [i for i, f in enumerate(index.features) if i not in admin]
    # one exact DE-9IM evaluation per pair whose bounding boxes meet; the tree prunes the rest
    area_tree = shapely.STRtree(index.geometries[areas]) if areas else None
    pairs = area_tree.query(index.geometries[subjects]) if area_tree is not None and subjects else np.empty((2, 0))
    left = np.asarray(subjects, dtype=int)[pairs[0].astype(int)]
    right = np.asarray(areas, dtype=int)[pairs[1].astype(int)]
    matrices = shapely.relate(index.geometries[left], index.geometries[right]) if len(left) else []
    report.predicate_evaluations += len(left)

    covering: dict[int, list[int]] = defaultdict(list)
    for i, j, matrix in zip(left.tolist(), right.tolist(), matrices, strict=True):
        if i == j:
            continue
        feature, area = index.features[i], index.features[j]
        if j in admin and _covered_by(matrix):
            covering[i].append(j)
        if _within(matrix):
            add(feature.iri, GEO.sfWithin, area.iri)
        elif _contains(matrix):
            continue  # the area lies within the feature: said the other way round, from the area's side
        elif matrix[0] != "F" or (feature.geometry.geom_type == "Point" and matrix[:3] != "FFF"):
            add(feature.iri, GEO.sfIntersects, area.iri)

    named: dict[str, set[str]] = defaultdict(set)
    for s, p, o in known:
        if p == str(CITY.locatedIn):
            named[s].add(o)
    for i in subjects:
        feature = index.features[i]
        smallest = _smallest(index.features, covering.get(i, []))
        if smallest is None:
            continue
        if feature.iri not in named:
            add(feature.iri, CITY.locatedIn, smallest.iri)
            continue
        areas_in = {index.features[j].iri for j in covering.get(i, [])}
        said = named[feature.iri] & admin_iris
        if said and not said & areas_in:
            report.disagreements.append(f"{feature.iri}: its department places it in {', '.join(sorted(said))}, "
                                        f"its geometry lies in {smallest.iri}")

    _add_nearest(index, facility_kinds, base_iri, graph)
    report.triples = {}
    for _, predicate, _ in graph:
        key = graph.namespace_manager.normalizeUri(str(predicate))
        report.triples[key] = report.triples.get(key, 0) + 1
    return graph


def _smallest(features: Sequence[SpatialFeature], covering: Sequence[int]) -> SpatialFeature | None:
    """The covering administrative area of the smallest level; more than one at that level is no answer."""
    for level in ADMINISTRATIVE_LEVELS:
        at_level = [features[j] for j in covering if features[j].is_a(level)]
        if len(at_level) == 1:
            return at_level[0]
    return None


def _add_nearest(index: SpatialIndex, facility_kinds: Iterable[str], base_iri: str, graph: Graph) -> None:
    """Per community and facility kind, the nearest facilities of that kind from the centroid (ties all kept)."""
    communities = [f for f in index.features if f.is_a(CITY.Community)]
    if not communities:
        return
    centroids = index.plane.project(shapely.centroid(np.asarray([c.geometry for c in communities], dtype=object)))
    for kind in sorted(set(facility_kinds)):
        members = [i for i, f in enumerate(index.features) if kind in f.classes]
        if not members:
            continue
        tree = shapely.STRtree(index.geometries[members])
        _, nearest = tree.query_nearest(centroids, all_matches=False, return_distance=True)
        # equally near within a centimetre, so rounding does not decide between two facilities
        which, found = tree.query(centroids, predicate="dwithin", distance=nearest + TIE_TOLERANCE_M)
        for c, m in zip(which.tolist(), found.tolist(), strict=True):
            community, facility = communities[c], index.features[members[m]]
            metres = float(shapely.distance(centroids[c], index.geometries[members[m]]))
            digest = hashlib.sha256(f"{community.iri} {kind} {facility.iri}".encode()).hexdigest()[:16]
            node = URIRef(f"{base_iri}spatial/nearest/{digest}")
            graph.add((node, RDF.type, CITY.NearestFacility))
            graph.add((node, CITY.nearestFrom, URIRef(community.iri)))
            graph.add((node, CITY.nearestTo, URIRef(facility.iri)))
            graph.add((node, CITY.facilityKind, URIRef(kind)))
            graph.add((node, CITY.distanceToNearestM, Literal(Decimal(f"{metres:.1f}"), datatype=XSD.decimal)))


def read_facility_kinds(store: GraphStore) -> list[str]:
    """The ontology's kinds of public-service facility (every subclass of ``city:PublicServiceFacility``)."""
    rows = select(store, f"SELECT DISTINCT ?k WHERE {{ ?k <{RDFS.subClassOf}>+ <{FACILITY_CLASS}> }}").rows
    return sorted(str(k) for (k,) in rows)


def spatial_graph(store: GraphStore, graphs: GraphNames, report: SpatialReport | None = None) -> Graph:
    """The spatial triples of the committed source graphs, computed but not stored."""
    report = report if report is not None else SpatialReport()
    features = read_spatial_features(store, graphs.source_prefix, report)
    return compute_spatial(features, graphs.base, read_asserted(store, graphs.source_prefix),
                           read_facility_kinds(store), report)


def spatial_relations(store: GraphStore, graphs: GraphNames) -> SpatialReport:
    """Recompute ``graph/spatial`` from the committed source graphs; the report counts its triples."""
    report = SpatialReport()
    graph = spatial_graph(store, graphs, report)
    store.replace_graph(graphs.spatial, graph.serialize(format="nt", encoding="utf-8"), RdfFormat.N_TRIPLES)
    return report
