"""The alternative ``bench/api.py`` measures CityKG's API against: a hand-written strawberry schema
over the same store, resolved one field at a time, the way a Python GraphQL server is commonly
written.

It serves the five documents of ``bench/api.py`` with the same names, types and answers as CityKG's
generated schema, on the same store and the same graphs (the union of the committed graphs, as
CityKG's API reads them). What differs is how a
request reaches the store:

- a root field runs one SPARQL query for its page, filter or groups, and one more for ``totalCount``
  when that is asked;
- every scalar field of every entity runs its own query (``store.query`` with the entity bound);
- every object field runs one query per parent entity, which returns the linked entities together
  with their classes, so that an interface's concrete type is known without a further query.

Nothing is cached between fields or batched across entities (no data loader): that is the point of
comparison. "Within a distance of a point" reads the class's geometries in one query and measures
distances with the same STR-tree CityKG uses (``kg_service.reason.spatial``), so the two agree on
which entities are near; only the resolution of the fields around it differs.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal
from enum import Enum
from typing import Any, NewType

import shapely
import strawberry
from rdflib import Literal, URIRef
from rdflib.term import Identifier, Node
from strawberry.schema.config import StrawberryConfig
from strawberry.types import Info

from kg_service.config import Settings
from kg_service.reason.spatial import SpatialFeature, SpatialIndex, parse_wkt
from kg_service.store import GraphStore, SelectResult

CITY = "https://w3id.org/citykg/ontology#"
RDF_TYPE = "http://www.w3.org/1999/02/22-rdf-syntax-ns#type"
GEOMETRY_WKT = "<http://www.opengis.net/ont/geosparql#hasGeometry>/<http://www.opengis.net/ont/geosparql#asWKT>"
DEFAULT_PAGE, MAX_PAGE = 20, 1000

BigInt = NewType("BigInt", int)
_SCALARS: dict[object, Any] = {
    BigInt: strawberry.scalar(name="BigInt", description="An integer of any size.", serialize=int, parse_value=int),
}


@dataclass
class NaiveContext:
    store: GraphStore


def naive_context(settings: Settings, store: GraphStore) -> NaiveContext:
    return NaiveContext(store)


def _select(info: Info[NaiveContext, Any], sparql: str, **bindings: Identifier) -> list[tuple[Node | None, ...]]:
    result = info.context.store.query(sparql, bindings=bindings or None)
    assert isinstance(result, SelectResult)
    return result.rows


def _python(node: Node | None) -> Any:
    """A literal as the Python value its GraphQL scalar serializes (ill-typed: its lexical form)."""
    if not isinstance(node, Literal):
        return None if node is None else str(node)
    value = node.toPython()
    return str(value) if isinstance(value, Literal) else value


def _single(info: Info[NaiveContext, Any], iri: str, prop: str) -> Any:
    """One scalar field of one entity: its own query."""
    rows = _select(info, f"SELECT ?entity ?value WHERE {{ ?entity <{CITY}{prop}> ?value }}", entity=URIRef(iri))
    return _python(rows[0][1]) if rows else None


def _names(info: Info[NaiveContext, Any], iri: str, lang: str | None) -> list[str]:
    if lang is None:
        rows = _select(info, f"SELECT ?entity ?value WHERE {{ ?entity <{CITY}name> ?value }}", entity=URIRef(iri))
    else:
        rows = _select(info, f"SELECT ?entity ?lang ?value WHERE {{ ?entity <{CITY}name> ?value "
                             "FILTER(LANG(?value) = ?lang) }", entity=URIRef(iri), lang=Literal(lang))
    return [str(row[-1]) for row in rows]


def _linked(info: Info[NaiveContext, Any], iri: str, prop: str, allowed: Sequence[type[Feature]],
            promised: str | None = None) -> list[Any]:
    """An object field of one entity: the linked entities and their classes in one query; each becomes
    the most specific of ``allowed`` it is an instance of, and is left out when it is none of them,
    or (as CityKG's API does) when it lacks the ``promised`` property its type's non-null field reads."""
    having = f" FILTER EXISTS {{ ?value <{CITY}{promised}> ?promised }}" if promised else ""
    rows = _select(info, f"SELECT ?entity ?value ?class WHERE {{ ?entity <{CITY}{prop}> ?value . "
                         f"?value <{RDF_TYPE}> ?class{having} }}", entity=URIRef(iri))
    classes: dict[str, set[str]] = {}
    for _, value, cls in rows:
        classes.setdefault(str(value), set()).add(str(cls))
    linked = []
    for target, its in classes.items():
        kind = next((k for k in allowed if f"{CITY}{k.__name__}" in its), None)
        if kind is not None:
            linked.append(kind(iri=target))
    return linked


@strawberry.interface(name="AnySpatialFeature")
class Feature:
    iri: strawberry.Private[str]

    @strawberry.field
    def id(self) -> strawberry.ID:
        return strawberry.ID(self.iri)

    @strawberry.field
    def name(self, info: Info[NaiveContext, Any], lang: str | None = None) -> list[str]:
        return _names(info, self.iri, lang)


@strawberry.type
class District(Feature):
    @strawberry.field
    def population(self, info: Info[NaiveContext, Any]) -> BigInt | None:
        return _single(info, self.iri, "population")  # type: ignore[no-any-return]

    @strawberry.field
    def part_of(self, info: Info[NaiveContext, Any]) -> list[Feature]:
        return _linked(info, self.iri, "partOf", AREAS)


@strawberry.type
class Subdistrict(District):
    pass


@strawberry.type
class Community(District):
    pass


@strawberry.type
class LandParcel(Feature):
    @strawberry.field
    def parcel_code(self, info: Info[NaiveContext, Any]) -> str:
        return _single(info, self.iri, "parcelCode")  # type: ignore[no-any-return]

    @strawberry.field
    def area_km2(self, info: Info[NaiveContext, Any]) -> Decimal | None:
        return _single(info, self.iri, "areaKm2")  # type: ignore[no-any-return]


@strawberry.type
class LandUseZone(Feature):
    pass


@strawberry.type
class FloodRiskZone(Feature):
    pass


@strawberry.type
class IndustrialPark(Feature):
    pass


# What a located-in or part-of may be here: an entity of none of them (the city itself, which the
# API has no type for) is left out, as CityKG's schema leaves it out.
AREAS: tuple[type[Feature], ...] = (Community, Subdistrict, District, LandParcel, LandUseZone, FloodRiskZone,
                                    IndustrialPark)


@strawberry.type
class School(Feature):
    @strawberry.field
    def capacity(self, info: Info[NaiveContext, Any]) -> BigInt | None:
        return _single(info, self.iri, "capacity")  # type: ignore[no-any-return]

    @strawberry.field
    def located_in(self, info: Info[NaiveContext, Any]) -> list[Feature]:
        return _linked(info, self.iri, "locatedIn", AREAS)


@strawberry.type
class Enterprise:
    iri: strawberry.Private[str]

    @strawberry.field
    def id(self) -> strawberry.ID:
        return strawberry.ID(self.iri)

    @strawberry.field
    def name(self, info: Info[NaiveContext, Any], lang: str | None = None) -> list[str]:
        return _names(info, self.iri, lang)

    @strawberry.field
    def credit_code(self, info: Info[NaiveContext, Any]) -> str:
        return _single(info, self.iri, "creditCode")  # type: ignore[no-any-return]

    @strawberry.field
    def registered_capital(self, info: Info[NaiveContext, Any]) -> Decimal | None:
        return _single(info, self.iri, "registeredCapital")  # type: ignore[no-any-return]

    @strawberry.field
    def employees(self, info: Info[NaiveContext, Any]) -> BigInt | None:
        return _single(info, self.iri, "employees")  # type: ignore[no-any-return]

    @strawberry.field
    def located_in(self, info: Info[NaiveContext, Any]) -> list[Feature]:
        return _linked(info, self.iri, "locatedIn", AREAS)

    @strawberry.field
    def on_parcel(self, info: Info[NaiveContext, Any]) -> list[LandParcel]:
        return _linked(info, self.iri, "onParcel", (LandParcel,), promised="parcelCode")


@strawberry.type
class PageInfo:
    has_next_page: bool
    end_cursor: str | None


@dataclass
class _Count:
    """``totalCount``, asked of the store only when the request selects it."""

    where: str
    bindings: dict[str, Identifier]


def _total(info: Info[NaiveContext, Any], count: _Count) -> int:
    bound = " ".join(f"?{name}" for name in count.bindings)  # a bound variable must be projected
    grouped = f" GROUP BY {bound}" if bound else ""
    rows = _select(info, f"SELECT (COUNT(DISTINCT ?entity) AS ?count) {bound} WHERE {{ {count.where} }}{grouped}",
                   **count.bindings)
    return int(_python(rows[0][0])) if rows else 0


@strawberry.type
class SchoolConnection:
    nodes: list[School]
    page_info: PageInfo
    counting: strawberry.Private[_Count]

    @strawberry.field
    def total_count(self, info: Info[NaiveContext, Any]) -> int | None:
        return _total(info, self.counting)


@strawberry.type
class EnterpriseConnection:
    nodes: list[Enterprise]
    page_info: PageInfo
    counting: strawberry.Private[_Count]

    @strawberry.field
    def total_count(self, info: Info[NaiveContext, Any]) -> int | None:
        return _total(info, self.counting)


@strawberry.input
class Near:
    longitude: float
    latitude: float
    meters: float


@strawberry.input
class SchoolFilter:
    near: Near | None = None


@strawberry.input
class DecimalFilter:
    gt: Decimal | None = None


@strawberry.input
class EnterpriseFilter:
    registered_capital: DecimalFilter | None = None


@strawberry.enum
class EnterpriseOrderField(Enum):
    REGISTERED_CAPITAL = "registeredCapital"


@strawberry.enum
class SortDirection(Enum):
    ASC = "asc"
    DESC = "desc"


@strawberry.input
class EnterpriseOrder:
    field: EnterpriseOrderField
    direction: SortDirection = SortDirection.ASC


@strawberry.enum
class EnterpriseGroupBy(Enum):
    DISTRICT = "DISTRICT"


@strawberry.enum
class EnterpriseNumericField(Enum):
    REGISTERED_CAPITAL = "registeredCapital"


@strawberry.type
class EnterpriseGroup:
    """A district's enterprises: the group's key comes from the root query, every other field asks."""

    key: str | None

    @strawberry.field
    def label(self, info: Info[NaiveContext, Any]) -> str | None:
        names = _names(info, self.key or "", "zh")
        return names[0] if names else None

    @strawberry.field
    def count(self, info: Info[NaiveContext, Any]) -> int:
        rows = _select(info, f"SELECT ?key (COUNT(DISTINCT ?entity) AS ?count) WHERE {{ {_IN_DISTRICT} }} "
                             "GROUP BY ?key", key=URIRef(self.key or ""))
        return int(_python(rows[0][1])) if rows else 0

    @strawberry.field
    def sum(self, info: Info[NaiveContext, Any], field: EnterpriseNumericField) -> float | None:
        rows = _select(info, f"SELECT ?key (SUM(?value) AS ?sum) (COUNT(?value) AS ?having) WHERE {{ "
                             f"{{ SELECT DISTINCT ?key ?entity WHERE {{ {_IN_DISTRICT} }} }} "
                             f"?entity <{CITY}{field.value}> ?value }} GROUP BY ?key", key=URIRef(self.key or ""))
        if not rows or not _python(rows[0][2]):
            return None
        return float(_python(rows[0][1]))


_IN_DISTRICT = (f"?entity a <{CITY}Enterprise> ; <{CITY}locatedIn>|<{CITY}partOf> ?key . "
                f"?key a <{CITY}District> .")


def _page_info(found: list[str], first: int) -> PageInfo:
    return PageInfo(has_next_page=len(found) > first, end_cursor=None)


@strawberry.type
class Query:
    @strawberry.field
    def schools(self, info: Info[NaiveContext, Any], filter: SchoolFilter | None = None,
                first: int = DEFAULT_PAGE) -> SchoolConnection:
        if not 0 <= first <= MAX_PAGE:
            raise ValueError(f"'first' must be between 0 and {MAX_PAGE}")
        where = f"?entity a <{CITY}School> ."
        if filter is not None and filter.near is not None:
            chosen = _near(info, f"{CITY}School", filter.near)
            where += f" VALUES ?entity {{ {' '.join(URIRef(iri).n3() for iri in chosen) or '<urn:none>'} }}"
        rows = _select(info, f"SELECT DISTINCT ?entity WHERE {{ {where} }} ORDER BY ?entity LIMIT {first + 1}")
        found = [str(row[0]) for row in rows]
        return SchoolConnection(nodes=[School(iri=iri) for iri in found[:first]], page_info=_page_info(found, first),
                                counting=_Count(where, {}))

    @strawberry.field
    def enterprises(self, info: Info[NaiveContext, Any], filter: EnterpriseFilter | None = None,
                    first: int = DEFAULT_PAGE, order_by: list[EnterpriseOrder] | None = None) -> EnterpriseConnection:
        if not 0 <= first <= MAX_PAGE:
            raise ValueError(f"'first' must be between 0 and {MAX_PAGE}")
        where, bindings = f"?entity a <{CITY}Enterprise> .", dict[str, Identifier]()
        if filter is not None and filter.registered_capital is not None and filter.registered_capital.gt is not None:
            where += f" ?entity <{CITY}registeredCapital> ?capital FILTER(?capital > ?minimum)"
            bindings["minimum"] = Literal(filter.registered_capital.gt,
                                          datatype=URIRef("http://www.w3.org/2001/XMLSchema#decimal"))
        ordered, keys = where, []
        for index, key in enumerate(order_by or []):
            ordered += f" OPTIONAL {{ ?entity <{CITY}{key.field.value}> ?order{index} }}"
            keys.append(f"{key.direction.name}(?order{index})")
        bound = " ".join(f"?{name}" for name in bindings)
        rows = _select(info, f"SELECT DISTINCT ?entity {bound} WHERE {{ {ordered} }} ORDER BY {' '.join(keys)} ?entity "
                             f"LIMIT {first + 1}", **bindings)
        found = [str(row[0]) for row in rows]
        return EnterpriseConnection(nodes=[Enterprise(iri=iri) for iri in found[:first]],
                                    page_info=_page_info(found, first), counting=_Count(where, bindings))

    @strawberry.field
    def enterprises_aggregate(self, info: Info[NaiveContext, Any],
                              group_by: EnterpriseGroupBy | None = None) -> list[EnterpriseGroup]:
        if group_by is not EnterpriseGroupBy.DISTRICT:
            raise ValueError("this schema groups by DISTRICT only")
        rows = _select(info, f"SELECT DISTINCT ?key WHERE {{ {_IN_DISTRICT} }} ORDER BY ?key")
        return [EnterpriseGroup(key=str(row[0])) for row in rows]


def _near(info: Info[NaiveContext, Any], class_iri: str, point: Near) -> list[str]:
    rows = _select(info, f"SELECT ?entity ?wkt WHERE {{ ?entity a <{class_iri}> ; {GEOMETRY_WKT} ?wkt }}")
    features = []
    for entity, wkt in rows:
        try:
            features.append(SpatialFeature(str(entity), parse_wkt(str(wkt))))
        except (ValueError, shapely.errors.ShapelyError):
            continue
    index = SpatialIndex(features)
    return sorted({feature.iri for feature, _ in index.within_distance(shapely.Point(point.longitude, point.latitude),
                                                                       point.meters)})


def naive_schema() -> strawberry.Schema:
    return strawberry.Schema(query=Query, types=[*AREAS, School],
                             config=StrawberryConfig(scalar_map=_SCALARS))


__all__ = ["NaiveContext", "naive_context", "naive_schema"]
