"""Assembles the GraphQL schema from the API model: no type is written by hand.

Every object type and interface of the model becomes a strawberry type with its fields, each type
implements ``Entity`` (id, classes, which datasets asserted it, whether it is inferred), and each
gets a root field returning a page (``<Type>Connection``) with ``filter``, ``orderBy``, ``first``
and ``after``. Root resolvers hand the whole selection to the executor (``execution``), which reads
the store a level at a time; nested fields then only read what it prepared.
"""

from __future__ import annotations

import base64
import datetime
import inspect
import keyword
import logging
import re
from collections.abc import Callable
from dataclasses import dataclass
from decimal import Decimal
from enum import Enum
from typing import Any, NewType

import strawberry
from graphql import GraphQLError
from rdflib import XSD, Literal, URIRef
from rdflib.term import Identifier
from strawberry.schema.config import StrawberryConfig
from strawberry.types import ExecutionContext, Info
from strawberry.types.nodes import FragmentSpread, InlineFragment, SelectedField

from kg_service.api.compiler import AggregateQuery, Condition, GroupKey, Operator, PageQuery, Step
from kg_service.api.execution import EntityValues, Executor, Plan
from kg_service.api.model import ApiModel, EnumType, Field, FieldKind, Interface, ObjectType, Scalar, build_api_model
from kg_service.api.spatial import geojson_of, near
from kg_service.config import Settings
from kg_service.errors import CityKGError
from kg_service.namespaces import CITY
from kg_service.ontology import load_vocabulary
from kg_service.provenance import dataset_iri
from kg_service.store import GraphStore, Term
from kg_service.validate import Gate

MAX_PAGE = 1000
_LOG = logging.getLogger(__name__)
DEFAULT_PAGE = 20

BigInt = NewType("BigInt", int)
GeoJSON = NewType("GeoJSON", object)
_SCALAR_MAP: dict[object, Any] = {
    BigInt: strawberry.scalar(name="BigInt", description="An integer of any size (counts, populations).",
                              serialize=int, parse_value=int),
    GeoJSON: strawberry.scalar(name="GeoJSON", description="A GeoJSON geometry (from the stored WKT).",
                               serialize=lambda value: value, parse_value=lambda value: value),
}
_PYTHON_SCALARS: dict[str, Any] = {
    Scalar.STRING: str, Scalar.INT: int, Scalar.BIG_INT: BigInt, Scalar.FLOAT: float, Scalar.DECIMAL: Decimal,
    Scalar.BOOLEAN: bool, Scalar.DATE: datetime.date, Scalar.DATE_TIME: datetime.datetime,
    Scalar.TIME: datetime.time, Scalar.GEO_JSON: GeoJSON,
}


@dataclass
class Context:
    """What every resolver gets: the store, the settings and the executor over them, and who asks.

    ``write_check`` is called with a department before a mutation writes to one of its datasets and
    raises when the caller may not; without one (the command line, in-process use) writes are allowed."""

    store: GraphStore
    settings: Settings
    executor: Executor
    principal: Any = None  # who is asking, as the transport's authentication found them
    write_check: Callable[[str], None] | None = None
    after_write: Callable[[str], None] | None = None  # told the dataset a mutation changed
    answered_directly: bool = False  # set when ``direct`` answered, without a resolver per field

    def authorize_write(self, department: str) -> None:
        if self.write_check is not None:
            self.write_check(department)


@strawberry.input(description="A text in one language.")
class LangString:
    value: str
    lang: str = "zh"


class ApiError(CityKGError):
    """A request the API refuses (a page too large, a cursor not its own)."""


@strawberry.enum(description="Sort direction.")
class SortDirection(Enum):
    ASC = "asc"
    DESC = "desc"


@strawberry.type(description="Where a page ends and whether another follows.")
class PageInfo:
    has_next_page: bool
    end_cursor: str | None


@strawberry.input(description="Within a distance of a point (WGS 84).")
class Near:
    longitude: float
    latitude: float
    meters: float


@strawberry.interface(description="Anything in the city graph, with where it came from.")
class Entity:
    id: strawberry.ID = strawberry.field(description="The entity's IRI.")
    classes: list[str] = strawberry.field(default_factory=list,
                                          description="Every class it belongs to, asserted or inferred.")
    inferred_classes: list[str] = strawberry.field(default_factory=list,
                                                   description="The classes only reasoning gave it.")
    asserted_by: list[str] = strawberry.field(default_factory=list,
                                              description="The datasets (department/dataset) that state it.")
    inferred: bool = strawberry.field(default=False, description="No dataset states it: reasoning made it.")


@strawberry.type(description="An entity of a class the API has no type for.")
class Thing(Entity):
    pass


@strawberry.type(description="A named graph of the store and how many triples it holds.")
class NamedGraph:
    iri: strawberry.ID
    triples: int


def _filter_input(name: str, python: Any, operators: tuple[Operator, ...], description: str) -> Any:
    annotations: dict[str, Any] = {}
    namespace: dict[str, Any] = {}
    for operator in operators:
        attribute = f"{operator.value}_" if keyword.iskeyword(operator.value) else operator.value
        annotations[attribute] = list[python] | None if operator is Operator.IN else python | None
        namespace[attribute] = strawberry.field(default=None, name=operator.value)
    namespace["__annotations__"] = annotations
    return strawberry.input(type(name, (), namespace), description=description)


_ORDERED = (Operator.EQ, Operator.IN, Operator.LT, Operator.LTE, Operator.GT, Operator.GTE)
StringFilter = _filter_input("StringFilter", str, (Operator.EQ, Operator.IN, Operator.CONTAINS),
                             "Equal to, one of, or containing (ignoring case) a text.")
RelatedFilter = _filter_input("RelatedFilter", strawberry.ID, (Operator.EQ, Operator.IN),
                              "Related to the entity with this IRI, or to one of these.")
_SCALAR_FILTERS: dict[str, Any] = {
    Scalar.STRING: StringFilter, Scalar.BOOLEAN: _filter_input("BooleanFilter", bool, (Operator.EQ,), "Equal to."),
    **{scalar: _filter_input(f"{scalar.value}Filter", _PYTHON_SCALARS[scalar], _ORDERED,
                             "Equal to, one of, or within bounds.")
       for scalar in (Scalar.INT, Scalar.BIG_INT, Scalar.FLOAT, Scalar.DECIMAL, Scalar.DATE, Scalar.DATE_TIME,
                      Scalar.TIME)},
}


@dataclass(frozen=True)
class PageRead:
    """A root field's page as the executor read it: resolvers materialise it into the schema's objects,
    ``direct`` answers from it as it is."""

    ids: list[str]
    total: int | None
    has_next: bool
    cursor: str | None
    plan: Plan | None  # None when the page's nodes are not asked
    entities: dict[str, EntityValues]


class SchemaBuilder:
    """The strawberry schema of one API model; ``materialise`` turns executed entities into its objects."""

    def __init__(self, model: ApiModel, base_iri: str) -> None:
        self.model = model
        self.dataset_prefix = str(dataset_iri(base_iri, ""))
        every: list[Interface | ObjectType] = [*model.interfaces, *model.object_types]
        self.kinds: dict[str, Interface | ObjectType] = {k.name: k for k in every}
        self.fields: dict[str, dict[str, Field]] = {name: {f.name: f for f in kind.fields}
                                                    for name, kind in self.kinds.items()}
        self.enums: dict[str, type[Enum]] = {}
        self.enum_values: dict[str, dict[str, Enum]] = {}  # enum name -> IRI or lexical form -> member
        self.enum_filters: dict[str, Any] = {}
        self.classes: dict[str, type] = {"Thing": Thing}
        self._class_of_iri = {kind.class_iri: kind.name for kind in model.object_types}
        self._ancestry = {kind.name: len(kind.interfaces) for kind in model.object_types}
        self.root_kinds: dict[str, Interface | ObjectType] = {}  # root list field -> the kind it pages
        for enum in model.enums:
            self._enum(enum)
        self._types()

    # ---- types -------------------------------------------------------------------------------

    def _enum(self, enum: EnumType) -> None:
        members = {value.name: value.name for value in enum.values}
        python = _enum_type(enum.name, members, enum.description)
        descriptions = {value.name: value.description for value in enum.values}
        self.enums[enum.name] = python
        for member in python:
            member.__doc__ = descriptions[member.name]
        self.enum_values[enum.name] = {(value.iri or value.literal or ""): python[value.name]
                                       for value in enum.values}

    def _types(self) -> None:
        interfaces = sorted(self.model.interfaces, key=lambda k: len(k.interfaces))
        kinds: list[Interface | ObjectType] = [*interfaces, *self.model.object_types]
        for kind in kinds:
            bases = sorted((self.classes[name] for name in kind.interfaces),
                           key=lambda cls: -len(getattr(cls, "__mro__", ())))
            self.classes[kind.name] = type(kind.name, (*_minimal(bases), Entity) if bases else (Entity,), {})
        for kind in kinds:
            cls = self.classes[kind.name]
            annotations: dict[str, Any] = {}
            for f in kind.fields:
                python_name = attribute(f.name)
                annotations[python_name] = self._annotation(f)
                if f.language_tagged:
                    setattr(cls, python_name, strawberry.field(resolver=_language_resolver(python_name, f.many),
                                                               name=f.name, description=f.description,
                                                               deprecation_reason=f.deprecation))
                else:
                    setattr(cls, python_name, strawberry.field(default_factory=list, name=f.name,
                                                             description=f.description,
                                                             deprecation_reason=f.deprecation) if f.many
                            else strawberry.field(default=None, name=f.name, description=f.description,
                                                  deprecation_reason=f.deprecation))
            cls.__annotations__ = {name: a for name, a in annotations.items()
                                   if not any(f.language_tagged and attribute(f.name) == name for f in kind.fields)}
            decorate = strawberry.interface if isinstance(kind, Interface) else strawberry.type
            self.classes[kind.name] = decorate(cls, name=kind.name, description=kind.description)

    def python_scalar(self, f: Field) -> Any:
        return _PYTHON_SCALARS[Scalar(f.type_name)] if f.type_name else str

    def _annotation(self, f: Field) -> Any:
        if f.kind is FieldKind.SCALAR:
            python: Any = self.python_scalar(f)
        elif f.kind is FieldKind.ENUM:
            python = self.enums[f.type_name or ""]
        else:
            python = self.classes.get(f.type_name or "Thing", Thing)
        if f.many:
            return list[python]
        return python if f.required else python | None

    # ---- filters, ordering, pages ------------------------------------------------------------

    def filter_input(self, kind: Interface | ObjectType) -> Any:
        annotations: dict[str, Any] = {"inside": strawberry.ID | None, "near": Near | None}
        namespace: dict[str, Any] = {
            "inside": strawberry.field(default=None, description="Located in, or within, this area (its IRI)."),
            "near": strawberry.field(default=None, description="Its geometry within a distance of a point."),
        }
        for f in kind.fields:
            if f.kind is FieldKind.SCALAR and f.type_name == Scalar.GEO_JSON:
                continue
            if f.kind is FieldKind.ENUM:
                name = f"{f.type_name}Filter"
                if name not in self.enum_filters:  # one input type per enum, shared by every type's filter
                    self.enum_filters[name] = _filter_input(name, self.enums[f.type_name or ""],
                                                            (Operator.EQ, Operator.IN), "Equal to, or one of.")
                entry: Any = self.enum_filters[name]
            elif f.kind is FieldKind.OBJECT:
                entry = RelatedFilter
            else:
                entry = _SCALAR_FILTERS[Scalar(f.type_name or Scalar.STRING)]
            annotations[attribute(f.name)] = entry | None
            namespace[attribute(f.name)] = strawberry.field(default=None, name=f.name)
        namespace["__annotations__"] = annotations
        return strawberry.input(type(f"{kind.name}Filter", (), namespace),
                                description=f"Which {kind.name} entities: every condition given must hold.")

    def order_input(self, kind: Interface | ObjectType) -> Any | None:
        sortable = [f for f in kind.fields if f.kind is not FieldKind.OBJECT and not f.many
                    and f.type_name != Scalar.GEO_JSON]
        if not sortable:
            return None
        fields = _enum_type(f"{kind.name}OrderField", {_upper(f.name): f.name for f in sortable},
                            f"The fields {kind.name} entities can be sorted by.")
        namespace = {"__annotations__": {"field": fields, "direction": SortDirection},
                     "direction": strawberry.field(default=SortDirection.ASC)}
        return strawberry.input(type(f"{kind.name}Order", (), namespace), description="One sort key.")

    def connection(self, kind: Interface | ObjectType) -> Any:
        namespace = {"__annotations__": {"total_count": int | None, "nodes": list_of(self.classes[kind.name]),
                                         "page_info": PageInfo},
                     "total_count": strawberry.field(default=None, description="How many match, over all pages."),
                     "nodes": strawberry.field(default_factory=list),
                     "page_info": strawberry.field(default=None)}
        return strawberry.type(type(f"{kind.name}Connection", (), namespace), description=f"A page of {kind.name}.")

    def root_fields(self) -> dict[str, Any]:
        fields: dict[str, Any] = {}
        kinds: list[Interface | ObjectType] = [*self.model.object_types, *self.model.interfaces]
        for kind in kinds:
            name = _root_name(kind.name)
            self.root_kinds[name] = kind
            fields[name] = strawberry.field(resolver=self._list_resolver(kind), name=name,
                                            description=f"{kind.description}")
            fields[f"{name}Aggregate"] = strawberry.field(
                resolver=self._aggregate_resolver(kind), name=f"{name}Aggregate",
                description=f"{kind.name} entities counted (and their numbers summed, averaged...) per group.")
        return fields

    # ---- aggregations ------------------------------------------------------------------------

    def _aggregate_resolver(self, kind: Interface | ObjectType) -> Any:
        filter_type = self.filter_input(kind)
        keys = {_upper(f.name): f.name for f in kind.fields
                if not f.many or f.kind is not FieldKind.SCALAR if f.type_name != Scalar.GEO_JSON}
        keys |= {level: level for level in _LEVELS}
        group_by = _enum_type(f"{kind.name}GroupBy", keys,
                              "A field, or an aggregation level (the area each is located in).")
        numeric = [f for f in kind.fields if f.kind is FieldKind.SCALAR and f.type_name in _NUMERIC]
        group = self._group_type(kind, numeric)

        def resolve(info: Info[Context, None], **arguments: Any) -> Any:
            return self.aggregate(kind, group, info, arguments, numeric)

        parameters = [inspect.Parameter("info", inspect.Parameter.KEYWORD_ONLY, annotation=Info[Context, None]),
                      inspect.Parameter("filter", inspect.Parameter.KEYWORD_ONLY, default=None,
                                        annotation=filter_type | None),
                      inspect.Parameter("group_by", inspect.Parameter.KEYWORD_ONLY, default=None,
                                        annotation=group_by | None)]
        resolve.__signature__ = inspect.Signature(parameters, return_annotation=list_of(group))  # type: ignore[attr-defined]
        resolve.__annotations__ = {p.name: p.annotation for p in parameters} | {"return": list_of(group)}
        return resolve

    def _group_type(self, kind: Interface | ObjectType, numeric: list[Field]) -> Any:
        annotations: dict[str, Any] = {"key": str | None, "label": str | None, "count": int}
        namespace: dict[str, Any] = {
            "key": strawberry.field(default=None, description="The group's value: an IRI, a code or a number."),
            "label": strawberry.field(default=None, description="The Chinese name of the group's entity, if any."),
            "count": strawberry.field(default=0, description="How many entities are in the group."),
        }
        if numeric:
            fields = _enum_type(f"{kind.name}NumericField", {_upper(f.name): f.name for f in numeric},
                                f"The numeric fields of {kind.name}.")
            for function in _MEASURES:
                namespace[function] = strawberry.field(resolver=_measure_resolver(function, fields),
                                                       description=f"The {function} of a numeric field over the group.")
        namespace["__annotations__"] = annotations
        return strawberry.type(type(f"{kind.name}Group", (), namespace), description=f"A group of {kind.name}.")

    def aggregate(self, kind: Interface | ObjectType, group: Any, info: Info[Context, None],
                  arguments: dict[str, Any], numeric: list[Field]) -> list[Any]:
        executor = info.context.executor
        page = self.page_query(kind, arguments.get("filter"), None, 0, 0, executor)
        chosen = arguments.get("group_by")
        key: GroupKey | None = None
        if chosen is not None and chosen.value in _LEVELS:
            key = GroupKey(level_class=str(_LEVELS[chosen.value]))
        elif chosen is not None:
            f = self.fields[kind.name][chosen.value]
            key = GroupKey(step=Step(f.path, f.inverse))
        by_name = {f.name: f for f in numeric}
        measures: list[tuple[str, str]] = []  # (function, field name)
        for selected in _flatten(info.selected_fields[0].selections):
            if selected.name in _MEASURES and "field" in selected.arguments:
                wanted = selected.arguments["field"]
                name = wanted.value if isinstance(wanted, Enum) else by_name.get(str(wanted)) and str(wanted)
                name = name if name in by_name else next((f.name for f in numeric if _upper(f.name) == wanted), None)
                if name and (selected.name, name) not in measures:
                    measures.append((selected.name, name))
        query = AggregateQuery(page, key, tuple((function, Step(by_name[name].path, by_name[name].inverse))
                                                for function, name in measures))
        groups = []
        for row in executor.aggregate(query):
            item = group(key=_plain(row.get("key")), label=_plain(row.get("label")),
                         count=int(_plain(row.get("count")) or 0))
            item._measures = {(function, name): _measure(function, row.get(f"m{index}"), row.get(f"n{index}"))
                              for index, (function, name) in enumerate(measures)}
            groups.append(item)
        return groups

    def _list_resolver(self, kind: Interface | ObjectType) -> Any:
        filter_type, order_type, connection = self.filter_input(kind), self.order_input(kind), self.connection(kind)

        def resolve(info: Info[Context, None], **arguments: Any) -> Any:
            return self.page(kind, connection, info, arguments)

        parameters = [inspect.Parameter("info", inspect.Parameter.KEYWORD_ONLY, annotation=Info[Context, None]),
                      inspect.Parameter("filter", inspect.Parameter.KEYWORD_ONLY, default=None,
                                        annotation=filter_type | None),
                      inspect.Parameter("first", inspect.Parameter.KEYWORD_ONLY, default=DEFAULT_PAGE, annotation=int),
                      inspect.Parameter("after", inspect.Parameter.KEYWORD_ONLY, default=None,
                                        annotation=str | None)]
        if order_type is not None:
            parameters.append(inspect.Parameter("order_by", inspect.Parameter.KEYWORD_ONLY, default=None,
                                                annotation=list_of(order_type) | None))
        resolve.__signature__ = inspect.Signature(parameters, return_annotation=connection)  # type: ignore[attr-defined]
        resolve.__annotations__ = {p.name: p.annotation for p in parameters} | {"return": connection}
        return resolve

    # ---- execution ---------------------------------------------------------------------------

    def page(self, kind: Interface | ObjectType, connection: Any, info: Info[Context, None],
             arguments: dict[str, Any]) -> Any:
        # every field node of the response key: `schools { totalCount } schools { nodes { id } }` is one field
        selections = [child for selected in info.selected_fields for child in selected.selections]
        asked = {s.name for s in _flatten(selections)}
        nodes = [child for s in _flatten(selections) if s.name == "nodes" for child in s.selections]
        read = self.read_page(kind, arguments, asked, nodes, info.context.executor)
        found = [self.materialise(kind.name, read.entities[iri], read.plan, read.entities)
                 for iri in read.ids if iri in read.entities] if read.plan is not None else []
        items = [item for item in found if item is not None]  # see ``materialise``
        return connection(total_count=read.total, nodes=items,
                          page_info=PageInfo(has_next_page=read.has_next, end_cursor=read.cursor))

    def read_page(self, kind: Interface | ObjectType, arguments: dict[str, Any], asked: set[str],
                  node_selections: list[Any], executor: Executor) -> PageRead:
        """What a root field's page needs from the store: its entities (when ``nodes`` is asked, with
        the values ``node_selections`` ask), the total and where the next page starts."""
        first, after = arguments.get("first", DEFAULT_PAGE), arguments.get("after")
        if not 0 <= first <= MAX_PAGE:
            raise ApiError(f"'first' must be between 0 and {MAX_PAGE}", where=_root_name(kind.name),
                           hint="ask for the next page with 'after: pageInfo.endCursor'")
        offset = _offset(after) if after else 0
        query = self.page_query(kind, arguments.get("filter"), arguments.get("order_by"), first + 1, offset, executor)
        total: int | None
        if "nodes" in asked or "pageInfo" in asked:
            page = executor.page(query)
            ids, total = page.ids, page.total
        else:
            ids, total = [], executor.count(query) if "totalCount" in asked else None
        has_next = len(ids) > first
        ids = ids[:first]
        plan, entities = None, {}
        if "nodes" in asked:
            plan = self.plan(kind.name, node_selections)
            entities = executor.load(ids, plan, roots_class=kind.class_iri)
        return PageRead(ids, total, has_next, _cursor(offset + len(ids)) if ids else after, plan, entities)

    def page_query(self, kind: Interface | ObjectType, given: Any, order: Any, limit: int, offset: int,
                   executor: Executor) -> PageQuery:
        conditions: list[Condition] = []
        inside, among = None, None
        if given is not None:
            inside = str(iri_of(str(given.inside))) if given.inside else None
            if given.near is not None:
                among = tuple(near(executor, kind.class_iri, given.near.longitude, given.near.latitude,
                                   given.near.meters))
            for f in kind.fields:
                entry = getattr(given, attribute(f.name), None)
                if entry is not None:
                    conditions += self._conditions(f, entry)
        keys = tuple((Step(self.fields[kind.name][key.field.value].path,
                           self.fields[kind.name][key.field.value].inverse), key.direction is SortDirection.DESC)
                     for key in order or ())
        return PageQuery(kind.class_iri, tuple(conditions), inside, among, keys, limit, offset)

    def _conditions(self, f: Field, entry: Any) -> list[Condition]:
        step, found = Step(f.path, f.inverse), []
        text = f.kind is FieldKind.SCALAR and f.type_name == Scalar.STRING
        for operator in Operator:
            given = getattr(entry, f"{operator.value}_" if keyword.iskeyword(operator.value) else operator.value, None)
            if given is None:
                continue
            values = given if operator is Operator.IN else [given]
            found.append(Condition(step, operator, tuple(self._term(f, value) for value in values), text))
        return found

    def _term(self, f: Field, value: Any) -> Identifier:
        if f.kind is FieldKind.OBJECT:
            return iri_of(str(value))
        if f.kind is FieldKind.ENUM:
            enum = self.model.enum(f.type_name or "")
            member = next(v for v in enum.values if v.name == value.name)
            return URIRef(member.iri) if member.iri else Literal(member.literal, datatype=member.datatype)
        if f.type_name == Scalar.STRING:
            return Literal(str(value))
        return Literal(value, datatype=URIRef(f.datatype) if f.datatype else None)

    def plan(self, type_name: str, selections: list[Any]) -> Plan:
        """What a selection of ``type_name`` (with its fragments) asks of each entity."""
        plan = Plan(classes=self._classes_deciding(type_name), inferred_classes=False, asserted=False)
        for selected, on in _flatten_typed(selections, type_name):
            if selected.name in _PROVENANCE_FIELDS:
                plan.asserted = True
            elif selected.name == "inferredClasses":
                plan.inferred_classes = True
            elif selected.name == "classes":
                plan.classes = None
            f = self.fields.get(on, {}).get(selected.name) or self.fields.get(type_name, {}).get(selected.name)
            if f is None:
                continue
            if f.kind is FieldKind.OBJECT:
                child = self.plan(f.type_name or "Thing", selected.selections)
                if f.name in plan.links:
                    plan.links[f.name][1].merge(child)
                else:
                    plan.links[f.name] = (f, child)
            else:
                plan.scalars[f.name] = f
        return plan

    def _classes_deciding(self, type_name: str) -> set[str]:
        """The classes whose membership decides how an entity is served where ``type_name`` is expected
        (see ``concrete``): the type's own class, or its implementations' for an interface."""
        kind = self.kinds.get(type_name)
        if type_name == "Thing" or kind is None:
            return set()
        if type_name in self._ancestry:
            return {kind.class_iri}
        if isinstance(kind, Interface):
            return {self.kinds[name].class_iri for name in kind.implementations if name in self.kinds}
        return set()

    def materialise(self, type_name: str, entity: EntityValues, plan: Plan, entities: dict[str, EntityValues]) -> Any:
        """The entity as an object of its type; None when it is not one, or lacks a value the type
        promises (a non-null field) that the selection asks for. Such an entity, say a parcel a
        reasoner typed from an enterprise's link while its own record was quarantined, is left out
        of pages and links: a null there would void the whole page."""
        concrete = self.concrete(type_name, entity)
        if concrete is None:
            return None
        cls, fields = self.classes[concrete], self.fields.get(concrete, {})
        values: dict[str, Any] = {}
        raw: dict[str, list[tuple[str, str | None]]] = {}
        for name, f in plan.scalars.items():
            if name not in fields:
                continue
            nodes = entity.values.get(Step(f.path, f.inverse), [])
            if f.language_tagged:
                raw[name] = [(term.value, term.language) for term in nodes]
                continue
            converted = [v for v in (self.value(f, n) for n in nodes) if v is not None]
            if not converted and f.required and not f.many:
                return None
            values[attribute(name)] = converted if f.many else (converted[0] if converted else None)
        for name, (f, child) in plan.links.items():
            if name not in fields:
                continue
            linked = [self.materialise(f.type_name or "Thing", entities[term.value], child, entities)
                      for term in entity.values.get(Step(f.path, f.inverse), []) if term.value in entities]
            linked = [item for item in linked if item is not None]
            if not linked and f.required and not f.many:
                return None
            values[attribute(name)] = linked if f.many else (linked[0] if linked else None)
        values["id"] = strawberry.ID(entity.iri)
        if plan.classes is None:
            values["classes"] = entity.types
        if plan.inferred_classes:
            values["inferred_classes"] = sorted(entity.inferred_types)
        if plan.asserted:
            values["asserted_by"] = [iri.removeprefix(self.dataset_prefix) for iri in entity.asserted_by]
            values["inferred"] = not values["asserted_by"]
        instance = cls(**values)
        instance._raw = raw  # the language-tagged values, filtered by their resolvers
        return instance

    def concrete(self, type_name: str, entity: EntityValues) -> str | None:
        """The object type an entity is served as where ``type_name`` is expected; None if it is not one
        (an inverse field's subjects are of any class: only those of the field's type are its values)."""
        if type_name == "Thing":
            return type_name
        if type_name in self._ancestry:
            return type_name if self.kinds[type_name].class_iri in entity.classes else None
        kind = self.kinds.get(type_name)
        if not isinstance(kind, Interface):
            return "Thing"
        candidates = [self._class_of_iri[iri] for iri in entity.classes if self._class_of_iri.get(iri)
                      in kind.implementations]
        return max(candidates, key=lambda name: (self._ancestry[name], name)) if candidates else None

    def value(self, f: Field, term: Term) -> Any:
        """A stored value as its field's GraphQL value; an ill-typed literal as its lexical form."""
        if f.kind is FieldKind.ENUM:
            return self.enum_values.get(f.type_name or "", {}).get(term.value)
        if term.datatype is None or f.type_name == Scalar.STRING:
            return term.value
        if f.type_name == Scalar.GEO_JSON:
            return geojson_of(term.value)
        try:  # the common numbers directly: making an rdflib literal costs more than the rest of the row
            if f.type_name in (Scalar.INT, Scalar.BIG_INT):
                return int(Decimal(term.value)) if "." in term.value or "e" in term.value.lower() \
                    else int(term.value)
            if f.type_name == Scalar.FLOAT:
                return float(term.value)
            if f.type_name == Scalar.DECIMAL and term.datatype in _DECIMAL_TYPES:
                return int(term.value) if term.datatype == _XSD_INTEGER else Decimal(term.value)
        except (ValueError, ArithmeticError):
            return term.value
        value = Literal(term.value, datatype=URIRef(term.datatype)).toPython()
        return str(value) if isinstance(value, Literal) else value


def _enum_type(name: str, members: dict[str, str], description: str) -> Any:
    return strawberry.enum(Enum(name, members), description=description)  # type: ignore[call-overload]


def list_of(item: Any) -> Any:
    """``list[item]`` for a type made at run time (which a static checker cannot follow)."""
    return list[item]
_MEASURES = ("sum", "avg", "min", "max")
_PROVENANCE_FIELDS = ("assertedBy", "inferred")  # both read which datasets state the entity
_XSD_INTEGER = str(XSD.integer)
_DECIMAL_TYPES = {str(XSD.decimal), _XSD_INTEGER}
_NUMERIC = (Scalar.INT, Scalar.BIG_INT, Scalar.FLOAT, Scalar.DECIMAL)
_LEVELS = {"DISTRICT": CITY.District, "SUBDISTRICT": CITY.Subdistrict, "COMMUNITY": CITY.Community}


def _measure_resolver(function: str, fields: Any) -> Any:
    def resolve(root: Any, field: Any) -> float | None:
        measures: dict[tuple[str, str], float | None] = getattr(root, "_measures", {})
        return measures.get((function, field.value))

    resolve.__annotations__ = {"root": Any, "field": fields, "return": float | None}
    resolve.__name__ = function
    return resolve


def _plain(term: Term | None) -> Any:
    return None if term is None else term.value


def _measure(function: str, value: Term | None, having: Term | None) -> float | None:
    """A measure's value from the aggregate query: None when no entity of the group has the field."""
    count, number = _number(having), _number(value)
    if not count or number is None:
        return None
    return number / count if function == "avg" else number


def _number(term: Term | None) -> float | None:
    if term is None or term.datatype is None:
        return None
    try:
        return float(term.value)
    except ValueError:
        return None


def schema_for(settings: Settings, *, answer_directly: bool = True) -> strawberry.Schema:
    """The schema of the ontology and shapes under ``settings.ontology_dir``, as they are now."""
    # parsed, not kept: a dry run ("ontology impact") builds a schema and must leave the data as it was
    ontology, shapes = load_vocabulary(settings.ontology_dir)
    return build_schema(build_api_model(ontology, shapes), settings.base_iri, Gate(shapes, ontology),
                        answer_directly=answer_directly)


def context_for(settings: Settings, store: GraphStore) -> Context:
    """Requests compiled to SPARQL over ``store``; with the neo4j backend, to Cypher over the
    projection, which each mutation then brings up to date for its dataset."""
    if settings.store != "neo4j":
        return Context(store=store, settings=settings, executor=Executor(store, settings))
    from kg_service.api.cypher import CypherCompiler, DeadlineRunner, runner_for
    from kg_service.project import sync

    def project(dataset: str) -> None:
        sync(settings, store, [dataset])

    runner: Any = runner_for(settings)
    deadline, check = getattr(store, "deadline", None), getattr(store, "check", None)
    if deadline is not None and check is not None:  # a served request's store: its time limit holds in Neo4j too
        runner = DeadlineRunner(runner, deadline, check)
    return Context(store=store, settings=settings,
                   executor=Executor(runner, settings, compiler=CypherCompiler()), after_write=project)


def build_schema(model: ApiModel, base_iri: str, gate: Gate | None = None, *,
                 answer_directly: bool = True) -> strawberry.Schema:
    """The schema of ``model``; with a ``gate``, mutations too (validated by it before they write).
    ``answer_directly`` lets queries of generated fields skip a resolver per field (``direct``); without
    it every field is resolved (the tests compare the two)."""
    builder = SchemaBuilder(model, base_iri)
    namespace: dict[str, Any] = {"__annotations__": {}}
    namespace |= builder.root_fields()

    def node(info: Info[Context, None], id: strawberry.ID) -> Entity | None:
        executor = info.context.executor
        iri = str(iri_of(str(id)))
        selection = info.selected_fields[0]
        plan = Plan()
        for kind_name in builder.kinds:
            plan.merge(builder.plan(kind_name, [s for s in selection.selections
                                                  if isinstance(s, InlineFragment | FragmentSpread)
                                                  and s.type_condition == kind_name]))
        entities = executor.load([iri], plan)
        entity = entities.get(iri)
        if entity is None or not entity.types:
            return None
        best = [builder._class_of_iri[t] for t in entity.types if t in builder._class_of_iri]
        concrete = max(best, key=lambda name: (builder._ancestry[name], name)) if best else "Thing"
        return builder.materialise(concrete, entity, plan, entities)  # type: ignore[no-any-return]

    def graphs(info: Info[Context, None]) -> list[NamedGraph]:
        store = info.context.store
        return [NamedGraph(iri=strawberry.ID(iri), triples=store.count(iri)) for iri in store.named_graphs()]

    namespace["node"] = strawberry.field(resolver=node, description="Any entity by its IRI.")
    namespace["graphs"] = strawberry.field(resolver=graphs, description="The store's named graphs and their sizes.")
    query = strawberry.type(type("Query", (), namespace))
    mutation = None
    if gate is not None:
        from kg_service.api.mutations import Mutations  # it builds on this module's types

        fields = Mutations(builder, gate).fields()
        mutation = strawberry.type(type("Mutation", (), {"__annotations__": {}, **fields})) if fields else None
    types = [cls for cls in builder.classes.values()]
    from kg_service.api.direct import DirectAnswers  # it reads this module's pages

    return CitySchema(query=query, mutation=mutation, types=types, config=StrawberryConfig(scalar_map=_SCALAR_MAP),
                      extensions=[lambda: DirectAnswers(builder)] if answer_directly else [])


class CitySchema(strawberry.Schema):
    """Errors the API gives on purpose (a refused page size, a violation, a bad cursor, a limit) are
    answers, not faults: logged as one line, without the traceback kept for real faults."""

    def process_errors(self, errors: list[GraphQLError], execution_context: ExecutionContext | None = None) -> None:
        unexpected = []
        for error in errors:
            if isinstance(error.original_error, CityKGError) or (error.original_error is None or isinstance(
                    error.original_error, GraphQLError)):
                _LOG.info("refused: %s", error.message)
            else:
                unexpected.append(error)
        super().process_errors(unexpected, execution_context)


# ---- helpers ---------------------------------------------------------------------------------------

def _language_resolver(attribute: str, many: bool) -> Any:
    def resolve(root: Any, lang: str | None = None) -> Any:
        values = [text for text, language in getattr(root, "_raw", {}).get(attribute, [])
                  if lang is None or language == lang]
        return values if many else (values[0] if values else None)

    resolve.__annotations__ = {"root": Any, "lang": str | None, "return": list[str] if many else str | None}
    return resolve


def _flatten(selections: list[Any]) -> list[SelectedField]:
    found: list[SelectedField] = []
    for selection in selections:
        if isinstance(selection, SelectedField):
            found.append(selection)
        else:
            found += _flatten(selection.selections)
    return found


def _flatten_typed(selections: list[Any], on: str) -> list[tuple[SelectedField, str]]:
    found: list[tuple[SelectedField, str]] = []
    for selection in selections:
        if isinstance(selection, SelectedField):
            found.append((selection, on))
        else:
            found += _flatten_typed(selection.selections, selection.type_condition or on)
    return found


def _minimal(bases: list[type]) -> list[type]:
    """The bases none of the others already derive from, so that the method resolution order holds."""
    return [base for base in bases if not any(other is not base and issubclass(other, base) for other in bases)]


def attribute(name: str) -> str:
    return f"{name}_" if keyword.iskeyword(name) else name


def _upper(name: str) -> str:
    return re.sub(r"(?<=[a-z0-9])(?=[A-Z])", "_", name).upper()


def _root_name(type_name: str) -> str:
    plural = re.sub(r"([^aeiou])y$", r"\1ies", type_name)
    plural = plural if plural != type_name else type_name + ("es" if re.search(r"(s|x|ch|sh)$", type_name) else "s")
    return plural[:1].lower() + plural[1:]


def _cursor(offset: int) -> str:
    return base64.urlsafe_b64encode(f"offset:{offset}".encode()).decode()


def _offset(cursor: str) -> int:
    try:
        kind, _, number = base64.urlsafe_b64decode(cursor.encode()).decode().partition(":")
        if kind == "offset" and number.isdigit():
            return int(number)
    except (ValueError, UnicodeDecodeError):
        pass
    raise ApiError(f"not a cursor of this API: {cursor!r}", where="after",
                   hint="pass the endCursor of the previous page's pageInfo")


def iri_of(value: str) -> URIRef:
    if not re.fullmatch(r"[A-Za-z][A-Za-z0-9+.-]*:[^\s<>\"{}|^`\\]*", value):
        raise ApiError(f"not an IRI: {value!r}", where="id", hint="pass an entity's id as the API returned it")
    return URIRef(value)

