"""Candidate links: records of different departments that may describe the same thing.

Departments give the same school or hospital codes and names of their own. Shared keys and
crosswalk tables link what they can; for the rest, two records placed at points that lie close
together and carry similar names are proposed as ``skos:closeMatch`` with a score, in a graph of
their own, for a person to confirm. Nothing is merged: no ``owl:sameAs``, and a wrong proposal
costs one triple in a graph that is recomputed from scratch each time.
https://www.w3.org/TR/skos-reference/#mapping
"""

from __future__ import annotations

import hashlib
import math
import re
import unicodedata
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from decimal import Decimal
from difflib import SequenceMatcher
from typing import TYPE_CHECKING

from rdflib import RDF, Graph, Literal, URIRef
from rdflib.namespace import SKOS, XSD

from kg_service.namespaces import CITY, GEO
from kg_service.store import GraphStore, select

if TYPE_CHECKING:  # shapely is imported where points are made: a job that changes none does not need it
    from shapely.geometry import Point

MAX_DISTANCE_M = 200.0
MIN_NAME_SIMILARITY = 0.5
MIN_SCORE = 0.6
_EARTH_RADIUS_M = 6_371_008.8
_READ_PREDICATES = frozenset(f"<{p}>" for p in (CITY.name, GEO.hasGeometry, GEO.asWKT))
_TYPE = f"<{RDF.type}>"
_LINK_BATCH = 200  # candidate pairs per query
_POINT_FILTER = 'REGEX(STR(?wkt), "^\\\\s*(<[^>]+>\\\\s*)?POINT", "i")'  # a WKT point, maybe after its CRS
# Brackets hold qualifiers one department adds and another leaves out (（总院）, (本部)).
_QUALIFIER = re.compile(r"[(（【\[][^)）】\]]*[)）】\]]")
_NOISE = re.compile(r"[\s\W_]+")


@dataclass(frozen=True)
class Feature:
    """A named record placed at a point, with the graph (department dataset) that asserts it."""

    iri: str
    name: str
    point: Point
    graph: str


@dataclass(frozen=True)
class Candidate:
    """A proposed near-match: ``left`` and ``right`` come from different graphs."""

    left: Feature
    right: Feature
    name_similarity: float
    distance_m: float
    score: float


def normalise_name(name: str) -> str:
    """Full-width to ASCII, qualifiers in brackets and punctuation dropped, lower case."""
    text = unicodedata.normalize("NFKC", name)
    return _NOISE.sub("", _QUALIFIER.sub("", text)).lower()


def name_similarity(a: str, b: str) -> float:
    """0..1; one name contained in the other (an abbreviation kept whole) counts as similar as the
    shorter name is long relative to the longer."""
    left, right = normalise_name(a), normalise_name(b)
    if not left or not right:
        return 0.0
    ratio = SequenceMatcher(None, left, right, autojunk=False).ratio()
    if left in right or right in left:
        ratio = max(ratio, 0.5 + 0.5 * min(len(left), len(right)) / max(len(left), len(right)))
    return ratio


def distance_m(a: Point, b: Point) -> float:
    """Great-circle distance in metres between two longitude/latitude points (CRS84)."""
    lon1, lat1, lon2, lat2 = map(math.radians, (a.x, a.y, b.x, b.y))
    h = math.sin((lat2 - lat1) / 2) ** 2 + math.cos(lat1) * math.cos(lat2) * math.sin((lon2 - lon1) / 2) ** 2
    return 2 * _EARTH_RADIUS_M * math.asin(math.sqrt(h))


def find_candidates(features: Sequence[Feature], linked: Iterable[tuple[str, str]] = (),
                    max_distance_m: float = MAX_DISTANCE_M, min_name_similarity: float = MIN_NAME_SIMILARITY,
                    min_score: float = MIN_SCORE) -> list[Candidate]:
    """Pairs from different graphs within ``max_distance_m`` whose names are similar enough.

    The score weighs the name 0.7 and the nearness 0.3 (1 at the same point, 0 at the limit):
    departments place a facility at its gate or its centre, so distance says less than the name.
    Pairs already ``linked`` (by a shared key or a crosswalk) are not proposed again.
    """
    known = {frozenset(pair) for pair in linked}
    found: list[Candidate] = []
    ordered = sorted(features, key=lambda f: f.iri)
    for i, j in _pairs_within(ordered, max_distance_m):
        left, right = ordered[i], ordered[j]
        if left.graph == right.graph or left.iri == right.iri or frozenset((left.iri, right.iri)) in known:
            continue
        distance = distance_m(left.point, right.point)
        if distance > max_distance_m:
            continue
        similarity = name_similarity(left.name, right.name)
        score = 0.7 * similarity + 0.3 * (1 - distance / max_distance_m)
        if similarity >= min_name_similarity and score >= min_score:
            found.append(Candidate(left, right, round(similarity, 3), round(distance, 1), round(score, 3)))
    return sorted(found, key=lambda c: (-c.score, c.left.iri, c.right.iri))


def _pairs_within(ordered: Sequence[Feature], max_distance_m: float) -> list[tuple[int, int]]:
    """The index pairs ``i < j`` whose points may lie within ``max_distance_m``: an STR-tree of the
    points, asked with a box around each that holds every point that near (a pair further apart in
    latitude or longitude than the box is further apart on the sphere too, by the haversine
    formula); the caller measures the exact distance. Every pair against every other would grow
    with the square of the city."""
    from shapely import STRtree, box

    if len(ordered) < 2:
        return []
    angle = max_distance_m / _EARTH_RADIUS_M  # radians of arc
    boxes = []
    for feature in ordered:
        x, y = feature.point.x, feature.point.y
        highest = min(math.radians(abs(y)) + angle, math.pi / 2 - 1e-9)
        lon = 2 * math.asin(min(1.0, math.sin(angle / 2) / math.cos(highest)))
        d_lat, d_lon = math.degrees(angle) * 1.000001, math.degrees(lon) * 1.000001
        boxes.append(box(x - d_lon, y - d_lat, x + d_lon, y + d_lat))
    asked, found = STRtree([feature.point for feature in ordered]).query(boxes)
    return sorted((int(i), int(j)) for i, j in zip(asked, found, strict=True) if i < j)


def candidate_graph(candidates: Iterable[Candidate], base_iri: str) -> Graph:
    """``left skos:closeMatch right``, and a ``city:CandidateLink`` node with the score and why."""
    graph = Graph()
    for candidate in candidates:
        left, right = URIRef(candidate.left.iri), URIRef(candidate.right.iri)
        digest = hashlib.sha256(f"{left} {right}".encode()).hexdigest()[:16]
        link = URIRef(f"{base_iri}candidate/{digest}")
        graph.add((left, SKOS.closeMatch, right))
        graph.add((link, RDF.type, CITY.CandidateLink))
        graph.add((link, CITY.linkFrom, left))
        graph.add((link, CITY.linkTo, right))
        for predicate, value in ((CITY.matchScore, candidate.score), (CITY.nameSimilarity, candidate.name_similarity),
                                 (CITY.distanceM, candidate.distance_m)):
            graph.add((link, predicate, Literal(Decimal(str(value)), datatype=XSD.decimal)))
    return graph


def reads_candidates(statements: Iterable[tuple[str, str, str]]) -> bool:
    """Whether the candidates are computed from one of ``statements`` (N-Triples terms): a name, a
    geometry, or a link between records (``read_features``, ``read_links``)."""
    return any(p in _READ_PREDICATES or (o.startswith("<") and p != _TYPE) for _, p, o in statements)


def changes_candidates(store: GraphStore, source_prefix: str, statements: Iterable[tuple[str, str, str]]) -> bool:
    """Whether ``statements`` (N-Triples terms, changed while every geometry stayed as it was) can
    change the candidates: the name of a record placed at a point, or a link between two such
    records. An enterprise register whose records have no point then leaves the candidates alone,
    without every feature of the city being read again."""
    named: set[str] = set()
    links: list[tuple[str, str]] = []
    for s, p, o in statements:
        if p in _READ_PREDICATES:
            named.add(s)
        elif o.startswith("<") and p != _TYPE:
            links.append((s, o))
    placed = _placed(store, source_prefix, named | {node for link in links for node in link})
    return bool(named & placed) or any(s in placed and o in placed for s, o in links)


def _placed(store: GraphStore, source_prefix: str, nodes: set[str]) -> set[str]:
    """Those of ``nodes`` a committed source graph places at a point (what ``read_features`` reads)."""
    iris = sorted(node for node in nodes if node.startswith("<"))
    found: set[str] = set()
    for start in range(0, len(iris), _LINK_BATCH):
        values = " ".join(iris[start:start + _LINK_BATCH])
        rows = store.select_text(f"""
            SELECT DISTINCT ?n WHERE {{ VALUES ?n {{ {values} }}
              GRAPH ?g {{ ?n <{GEO.hasGeometry}>/<{GEO.asWKT}> ?wkt }}
              FILTER (STRSTARTS(STR(?g), "{source_prefix}") && {_POINT_FILTER}) }}""")
        found |= {n for (n,) in rows if n}
    return found


def read_features(store: GraphStore, source_prefix: str) -> list[Feature]:
    """Named records of the committed source graphs whose geometry is a point.

    Areas and parcels are left out: their names repeat in the facilities inside them (东门社区,
    东门社区卫生服务中心), and a polygon's centre says little about where a facility stands.
    """
    from shapely import wkt
    from shapely.errors import ShapelyError
    from shapely.geometry import Point

    rows = select(store, f"""
        SELECT ?g ?s ?name ?wkt WHERE {{ GRAPH ?g {{
            ?s <{CITY.name}> ?name ; <{GEO.hasGeometry}>/<{GEO.asWKT}> ?wkt }}
          FILTER (STRSTARTS(STR(?g), "{source_prefix}") && {_POINT_FILTER})
        }}""")
    features: dict[tuple[str, str], Feature] = {}
    for graph, subject, name, text in rows.rows:
        try:
            point = wkt.loads(_strip_crs(str(text)))
        except ShapelyError:
            continue  # a malformed geometry is the gate's to report, not a reason to stop here
        key = (str(graph), str(subject))
        if isinstance(point, Point) and key not in features:  # the first name, in a stable order
            features[key] = Feature(str(subject), str(name), point, str(graph))
    return sorted(features.values(), key=lambda f: (f.iri, f.graph))


def read_links(store: GraphStore, source_prefix: str, among: Sequence[tuple[str, str]]) -> list[tuple[str, str]]:
    """Those of the pairs ``among`` that a committed graph already links, either way, by any
    statement (a crosswalk, say): asked of the candidate pairs only, not of every link in the city."""
    found: list[tuple[str, str]] = []
    for start in range(0, len(among), _LINK_BATCH):
        values = " ".join(f"(<{a}> <{b}>) (<{b}> <{a}>)" for a, b in among[start:start + _LINK_BATCH])
        rows = select(store, f"""
            SELECT DISTINCT ?a ?b WHERE {{ VALUES (?a ?b) {{ {values} }} GRAPH ?g {{ ?a ?p ?b }}
              FILTER (STRSTARTS(STR(?g), "{source_prefix}") && ?p != <{RDF.type}>) }}""")
        found += [(str(a), str(b)) for a, b in rows.rows]
    return found


def _strip_crs(text: str) -> str:
    """WKT of a geo:wktLiteral may start with its CRS IRI; CRS84 is the only one used here."""
    return re.sub(r"^\s*<[^>]+>\s*", "", text)
