"""Mutations: create, update and delete an entity in a department's own dataset, through the gate.

Per object type ``create<Type>``, ``update<Type>`` and ``delete<Type>`` take the dataset
(``<department>/<dataset>``) the change belongs to. The entity's new statements are validated by the
same SHACL gate an ingest job uses (the entity as focus node, with what its dataset says of the
entities it refers to); on a Violation nothing is written and the response's error lists every
violation (focus node, path, message, severity) in its ``extensions``. Otherwise its statements in
the dataset's graph and who asserted it are replaced in one transaction.

What a mutation does not do: it leaves the inferred graph as it was (the next ``citykg reason`` or
ingest brings it up to date), and a later ingest whose source changed the same entity wins, as the
department's file is its record.
"""

from __future__ import annotations

import datetime
import inspect
import uuid
from decimal import Decimal
from enum import Enum
from typing import Any

import strawberry
from graphql import GraphQLError
from rdflib import RDF, Literal, URIRef
from strawberry.types import Info

from kg_service.api.execution import Plan
from kg_service.api.model import Field, FieldKind, ObjectType, Scalar
from kg_service.api.schema import Context, LangString, SchemaBuilder, attribute, iri_of, list_of
from kg_service.lift import find_datasets
from kg_service.namespaces import CITY
from kg_service.provenance import attribution_lines, dataset_iri
from kg_service.store import GraphWrites
from kg_service.validate import Gate, staging_graph


class Mutations:
    """The mutation fields of a schema: inputs from the object types' writable fields."""

    def __init__(self, builder: SchemaBuilder, gate: Gate) -> None:
        self.builder, self.gate = builder, gate

    def fields(self) -> dict[str, Any]:
        found: dict[str, Any] = {}
        for kind in self.builder.model.object_types:
            writable = [f for f in kind.fields if _writable(f)]
            if not writable:
                continue
            given = self._input(kind, writable)
            found[f"create{kind.name}"] = strawberry.field(
                resolver=self._resolver(kind, given, "create"), name=f"create{kind.name}",
                description=f"Add a {kind.name} to a dataset of the department allowed to write it.")
            found[f"update{kind.name}"] = strawberry.field(
                resolver=self._resolver(kind, given, "update"), name=f"update{kind.name}",
                description=f"Change the given fields of a {kind.name} (null clears one, absent keeps it).")
            found[f"delete{kind.name}"] = strawberry.field(
                resolver=self._delete_resolver(kind), name=f"delete{kind.name}",
                description=f"Remove a {kind.name}'s statements from a dataset; true when it had any.")
        return found

    # ---- types -------------------------------------------------------------------------------

    def _input(self, kind: ObjectType, writable: list[Field]) -> Any:
        annotations: dict[str, Any] = {}
        namespace: dict[str, Any] = {}
        for f in writable:
            if f.language_tagged:
                python: Any = LangString
            elif f.kind is FieldKind.OBJECT:
                python = strawberry.ID
            elif f.kind is FieldKind.ENUM:
                python = self.builder.enums[f.type_name or ""]
            else:
                python = self.builder.python_scalar(f)
            annotations[attribute(f.name)] = (list_of(python) if f.many else python) | None
            namespace[attribute(f.name)] = strawberry.field(default=strawberry.UNSET, name=f.name,
                                                            description=f.description)
        namespace["__annotations__"] = annotations
        return strawberry.input(type(f"{kind.name}Input", (), namespace),
                                description=f"The fields of a {kind.name} a department states.")

    def _resolver(self, kind: ObjectType, given_type: Any, action: str) -> Any:
        def resolve(info: Info[Context, None], dataset: str, input: Any, id: strawberry.ID | None = None) -> Any:
            return self.write(kind, info, dataset, input, str(id) if id else None, action)

        parameters = [inspect.Parameter("info", inspect.Parameter.KEYWORD_ONLY, annotation=Info[Context, None]),
                      inspect.Parameter("dataset", inspect.Parameter.KEYWORD_ONLY, annotation=str),
                      inspect.Parameter("input", inspect.Parameter.KEYWORD_ONLY, annotation=given_type),
                      inspect.Parameter("id", inspect.Parameter.KEYWORD_ONLY, annotation=(
                          strawberry.ID if action == "update" else strawberry.ID | None),
                          **({} if action == "update" else {"default": None}))]
        returned = self.builder.classes[kind.name]
        resolve.__signature__ = inspect.Signature(parameters, return_annotation=returned)  # type: ignore[attr-defined]
        resolve.__annotations__ = {p.name: p.annotation for p in parameters} | {"return": returned}
        return resolve

    def _delete_resolver(self, kind: ObjectType) -> Any:
        def resolve(info: Info[Context, None], dataset: str, id: strawberry.ID) -> bool:
            return self.delete(kind, info, dataset, str(id))

        return resolve

    # ---- writing -----------------------------------------------------------------------------

    def write(self, kind: ObjectType, info: Info[Context, None], dataset: str, given: Any, iri: str | None,
              action: str) -> Any:
        context = info.context
        graph = self._dataset_graph(context, dataset)
        entity = iri_of(iri) if iri else URIRef(f"{context.settings.base_iri}{_slug(kind.name)}/{uuid.uuid4()}")
        current = _statements_of(context, graph, str(entity))
        if action == "update" and not current:
            raise GraphQLError(f"{entity} is not in dataset {dataset}",
                               extensions={"code": "NOT_FOUND", "dataset": dataset, "id": str(entity)})
        if action == "create" and current:
            raise GraphQLError(f"{entity} is already in dataset {dataset}: update it instead",
                               extensions={"code": "ALREADY_EXISTS", "dataset": dataset, "id": str(entity)})
        lines = self._new_statements(kind, entity, given, current)
        self._check(context, graph, entity, lines)
        context.store.commit(GraphWrites(
            retract=[(graph, str(entity), None, None),
                     (context.settings.graphs.provenance, str(entity), str(CITY.assertedBy),
                      str(dataset_iri(context.settings.base_iri, dataset)))],
            add={graph: "".join(lines).encode(),
                 context.settings.graphs.provenance: b"".join(attribution_lines(
                     context.settings.base_iri, dataset, [entity.n3()]))}))
        if context.after_write is not None:
            context.after_write(dataset)
        plan = Plan(scalars={f.name: f for f in kind.fields if f.kind is not FieldKind.OBJECT})
        loaded = context.executor.load([str(entity)], plan)
        return self.builder.materialise(kind.name, loaded[str(entity)], plan, loaded)

    def delete(self, kind: ObjectType, info: Info[Context, None], dataset: str, iri: str) -> bool:
        context = info.context
        graph = self._dataset_graph(context, dataset)
        entity = iri_of(iri)
        if not _statements_of(context, graph, str(entity)):
            return False
        context.store.commit(GraphWrites(retract=[
            (graph, str(entity), None, None),
            (context.settings.graphs.provenance, str(entity), str(CITY.assertedBy),
             str(dataset_iri(context.settings.base_iri, dataset)))]))
        if context.after_write is not None:
            context.after_write(dataset)
        return True

    def _dataset_graph(self, context: Context, dataset: str) -> str:
        known = {d.id for d in find_datasets(context.settings.mappings_dir, None)}
        if dataset not in known:
            raise GraphQLError(f"no dataset {dataset!r}; the datasets are {', '.join(sorted(known))}",
                               extensions={"code": "UNKNOWN_DATASET", "dataset": dataset})
        context.authorize_write(dataset.split("/", 1)[0])
        return context.settings.graphs.source(dataset)

    def _new_statements(self, kind: ObjectType, entity: URIRef, given: Any, current: list[str]) -> list[str]:
        kept = {f: [] for f in kind.fields if _writable(f)}  # type: dict[Field, list[str]]
        by_predicate = {f.path[0]: f for f in kept}
        others: list[str] = []
        for line in current:
            predicate = line.split(" ", 2)[1][1:-1]
            (kept[by_predicate[predicate]] if predicate in by_predicate else others).append(line)
        if not any(line.split(" ", 2)[1] == f"<{RDF.type}>" for line in others):
            others.append(f"{entity.n3()} <{RDF.type}> <{kind.class_iri}> .\n")
        for f in kept:
            value = getattr(given, attribute(f.name), strawberry.UNSET)
            if value is strawberry.UNSET:
                continue
            values = [] if value is None else (value if isinstance(value, list) else [value])
            kept[f] = [f"{entity.n3()} <{f.path[0]}> {self._term(f, v).n3()} .\n" for v in values]
        return [*others, *(line for lines in kept.values() for line in lines)]

    def _term(self, f: Field, value: Any) -> URIRef | Literal:
        if f.language_tagged:
            return Literal(value.value, lang=value.lang)
        if f.kind is FieldKind.OBJECT:
            return iri_of(str(value))
        if f.kind is FieldKind.ENUM:
            member = next(v for v in self.builder.model.enum(f.type_name or "").values if v.name == value.name)
            return URIRef(member.iri) if member.iri else Literal(member.literal, datatype=member.datatype)
        datatype = URIRef(f.datatype) if f.datatype else None
        return Literal(_lexical(value), datatype=datatype)

    def _check(self, context: Context, graph: str, entity: URIRef, lines: list[str]) -> None:
        """The gate on the entity's new statements and what its dataset says of the nodes they name."""
        named = {term for line in lines for term in [line.split(" ", 2)[2].rsplit(" ", 1)[0].strip()]
                 if term.startswith("<") and line.split(" ", 2)[1] != f"<{RDF.type}>"}
        neighbours = [line for node in sorted(named) for line in _statements_of(context, graph, node[1:-1])]
        text = "".join([*lines, *neighbours])
        report = self.gate.validate(staging_graph(text), {entity.n3()}, text)
        violations = [f for f in report.findings if f.severity == "Violation"]
        if violations:
            raise GraphQLError(
                f"{entity} is refused by the data shapes: "
                + "; ".join(f.describe() for f in violations),
                extensions={"code": "VIOLATION", "violations": [
                    {"focusNode": f.focus_node, "path": f.path, "message": f.message, "severity": f.severity,
                     "value": f.value} for f in violations]})


def _statements_of(context: Context, graph: str, iri: str) -> list[str]:
    rows = context.store.select_text(f"SELECT ?p ?o WHERE {{ GRAPH <{graph}> {{ <{iri}> ?p ?o }} }}")
    return [f"<{iri}> {p} {o} .\n" for p, o in rows]


def _writable(f: Field) -> bool:
    """Fields a mutation can set: the entity's own single-step properties (no inverse, no geometry path)."""
    return not f.inverse and len(f.path) == 1 and f.type_name != Scalar.GEO_JSON


def _lexical(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, datetime.date | datetime.datetime | datetime.time):
        return value.isoformat()
    if isinstance(value, Decimal | int | float):
        return str(value)
    if isinstance(value, Enum):
        return str(value.value)
    return str(value)


def _slug(type_name: str) -> str:
    return "".join(f"-{c.lower()}" if c.isupper() else c for c in type_name).lstrip("-")
