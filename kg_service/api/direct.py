"""Answers a query straight from the entities the executor read, without a resolver per field.

graphql-core completes a response field by field: for a page of a thousand entities that is a
resolver call, an argument coercion and a serializer for each of some fifteen thousand fields, which
costs more than reading them from the store. When every field a query selects is one the schema
generates (the root pages, the entities' fields and links, their provenance), ``DirectAnswers``
builds the response itself from the executor's entities, after strawberry has parsed and validated
the document and the limits have run, exactly as for any request; graphql-core's execution is then
skipped. Values go through the same conversion (``SchemaBuilder.value``) and the same serializers
as the resolvers' do, so both give the same answer (a test compares them on every API question).

Anything else runs the usual way: mutations, ``node``, aggregates, ``graphs``, introspection, a
directive other than ``@skip``/``@include``, and any request whose answer would hold an error (a
refused page size, a bad cursor, a value a serializer refuses), so that the error is worded,
located and logged as the usual path does it. An entity that lacks a value its type promises is
left out, as ``SchemaBuilder.materialise`` leaves it out.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterator, Sequence
from types import SimpleNamespace
from typing import TYPE_CHECKING, Any

from graphql import (
    ExecutionResult,
    FieldNode,
    FragmentDefinitionNode,
    FragmentSpreadNode,
    GraphQLError,
    GraphQLField,
    GraphQLIncludeDirective,
    GraphQLNonNull,
    GraphQLObjectType,
    GraphQLSchema,
    GraphQLSkipDirective,
    InlineFragmentNode,
    OperationDefinitionNode,
    SelectionSetNode,
    get_named_type,
    get_operation_ast,
)
from graphql.execution.values import VariableValues, get_argument_values, get_variable_values
from strawberry.extensions import SchemaExtension
from strawberry.types.arguments import convert_arguments
from strawberry.types.graphql import OperationType
from strawberry.types.nodes import convert_selections

from kg_service.api.compiler import Step
from kg_service.api.execution import EntityValues
from kg_service.api.model import FieldKind, Interface, ObjectType
from kg_service.errors import CityKGError

if TYPE_CHECKING:
    import strawberry

    from kg_service.api.schema import PageRead, SchemaBuilder

_LOG = logging.getLogger(__name__)
_SKIPPING = {GraphQLSkipDirective.name, GraphQLIncludeDirective.name}
_DEFINITION = "strawberry-definition"  # where strawberry keeps a GraphQL field's own definition


_Reader = Callable[[EntityValues, dict[str, EntityValues]], Any]  # one field of an entity, from the entities read


class _NotDirect(Exception):
    """The request needs graphql-core's execution: a field or outcome this module does not answer."""


class DirectAnswers(SchemaExtension):
    """Answers a query operation from the executor's entities when it can (see the module)."""

    def __init__(self, builder: SchemaBuilder) -> None:
        self.builder = builder

    def on_execute(self) -> Iterator[None]:
        context = self.execution_context
        if (context.result is None and context.operation_type is OperationType.QUERY
                and context.graphql_document is not None):
            answer = _Answer(self.builder, context.schema, context.graphql_document, context.operation_name,
                             context.variables or {}, context.context)
            data = answer.data()
            if data is not None:
                context.result = ExecutionResult(data=data, errors=None)
                if hasattr(context.context, "answered_directly"):
                    context.context.answered_directly = True
        yield


class _Answer:
    """One operation's response, built from the executor's entities; ``data`` is None when it needs
    the usual execution."""

    def __init__(self, builder: SchemaBuilder, schema: strawberry.Schema, document: Any, operation_name: str | None,
                 inputs: dict[str, Any], context: Any) -> None:
        self.builder, self.strawberry_schema, self.context = builder, schema, context
        self.schema: GraphQLSchema = schema._schema
        self.document, self.operation_name, self.inputs = document, operation_name, inputs
        self.fragments: dict[str, FragmentDefinitionNode] = {
            d.name.value: d for d in document.definitions if isinstance(d, FragmentDefinitionNode)}
        self.variables: VariableValues | None = None
        self._collected: dict[tuple[str, tuple[int, ...]], list[tuple[str, list[FieldNode]]]] = {}
        self._arguments: dict[int, dict[str, Any]] = {}
        self._reader_memo: dict[tuple[str, int], tuple[list[tuple[str, _Reader]], list[str], object]] = {}

    def data(self) -> dict[str, Any] | None:
        operation = get_operation_ast(self.document, self.operation_name)
        if not isinstance(operation, OperationDefinitionNode):
            return None
        variables = get_variable_values(self.schema, operation.variable_definitions or (), self.inputs)
        if isinstance(variables, list):  # variables the usual execution reports as errors
            return None
        self.variables = variables
        query = self.schema.query_type
        assert query is not None
        try:
            roots = self._collect(query, [operation.selection_set])
            if any(nodes[0].name.value not in self.builder.root_kinds and nodes[0].name.value != "__typename"
                   for _, nodes in roots):
                return None  # known before reading anything: a mixed request is not read twice
            answer: dict[str, Any] = {}
            for key, nodes in roots:
                name = nodes[0].name.value
                if name == "__typename":
                    answer[key] = query.name
                elif name in self.builder.root_kinds:
                    answer[key] = self._page(self.builder.root_kinds[name], query.fields[name], nodes)
                else:
                    raise _NotDirect(name)
            return answer
        except (_NotDirect, CityKGError, GraphQLError):
            # the usual execution answers it, or words and places the error
            return None
        except Exception as error:
            # A value a serializer refuses, a driver's error: the usual execution places it on its
            # field and keeps the rest of the answer.
            _LOG.debug("answered the usual way after %s: %s", type(error).__name__, error)
            return None

    # ---- selections ---------------------------------------------------------------------------

    def _collect(self, runtime: GraphQLObjectType, selection_sets: Sequence[SelectionSetNode | None]
                 ) -> list[tuple[str, list[FieldNode]]]:
        """The fields ``selection_sets`` select on an object of ``runtime``, by response key, in the
        order GraphQL answers them (the same for every entity of a page: worked out once)."""
        memo = (runtime.name, tuple(id(s) for s in selection_sets))
        if memo not in self._collected:
            fields: dict[str, list[FieldNode]] = {}
            for selection_set in selection_sets:
                if selection_set is not None:
                    self._collect_into(runtime, selection_set, fields, set())
            self._collected[memo] = list(fields.items())
        return self._collected[memo]

    def _collect_into(self, runtime: GraphQLObjectType, selection_set: SelectionSetNode,
                      fields: dict[str, list[FieldNode]], spread: set[str]) -> None:
        for selection in selection_set.selections:
            if not self._included(selection):
                continue
            if isinstance(selection, FieldNode):
                key = selection.alias.value if selection.alias else selection.name.value
                fields.setdefault(key, []).append(selection)
            elif isinstance(selection, InlineFragmentNode):
                condition = selection.type_condition
                if condition is None or self._applies(condition.name.value, runtime):
                    self._collect_into(runtime, selection.selection_set, fields, spread)
            elif isinstance(selection, FragmentSpreadNode):
                name = selection.name.value
                fragment = self.fragments.get(name)
                if name in spread or fragment is None:
                    continue
                spread.add(name)
                if self._applies(fragment.type_condition.name.value, runtime):
                    self._collect_into(runtime, fragment.selection_set, fields, spread)

    def _included(self, node: Any) -> bool:
        included = True
        for directive in node.directives or ():
            if directive.name.value not in _SKIPPING:
                raise _NotDirect(f"@{directive.name.value}")
            skipping = directive.name.value == GraphQLSkipDirective.name
            definition = GraphQLSkipDirective if skipping else GraphQLIncludeDirective
            condition = get_argument_values(definition, directive, self.variables)["if"]
            included = included and (not condition if skipping else bool(condition))
        return included

    def _applies(self, condition: str, runtime: GraphQLObjectType) -> bool:
        conditional = self.schema.get_type(condition)
        if conditional is runtime:
            return True
        return conditional is not None and self.schema.is_sub_type(conditional, runtime)  # type: ignore[arg-type]

    def _argument_values(self, definition: GraphQLField, node: FieldNode) -> dict[str, Any]:
        if id(node) not in self._arguments:
            self._arguments[id(node)] = get_argument_values(definition, node, self.variables)
        return self._arguments[id(node)]

    # ---- pages ----------------------------------------------------------------------------------

    def _page(self, kind: Interface | ObjectType, definition: GraphQLField, nodes: list[FieldNode]) -> Any:
        if len(nodes) > 1 and any(self._argument_values(definition, n) != self._argument_values(definition, nodes[0])
                                  for n in nodes[1:]):
            raise _NotDirect("one response key with different arguments")
        resolver_field = definition.extensions.get(_DEFINITION)
        if resolver_field is None:
            raise _NotDirect(kind.name)
        arguments = convert_arguments(self._argument_values(definition, nodes[0]), resolver_field.arguments,
                                      scalar_registry=self.strawberry_schema.schema_converter.scalar_registry,
                                      config=self.strawberry_schema.config)
        connection = get_named_type(definition.type)
        assert isinstance(connection, GraphQLObjectType)
        selected = self._collect(connection, [n.selection_set for n in nodes])
        asked = {field_nodes[0].name.value for _, field_nodes in selected}
        node_fields = [f for _, field_nodes in selected for f in field_nodes if f.name.value == "nodes"]
        # the selections as strawberry hands them to resolvers: what ``SchemaBuilder.plan`` reads
        info: Any = SimpleNamespace(fragments=self.fragments,
                                    variable_values=self.variables.coerced if self.variables is not None else {})
        node_selections = [s for f in node_fields if f.selection_set is not None
                           for s in convert_selections(info, f.selection_set.selections)]  # type: ignore[arg-type]
        read = self.builder.read_page(kind, arguments, asked, node_selections, self.context.executor)
        answer: dict[str, Any] = {}
        for key, field_nodes in selected:
            name = field_nodes[0].name.value
            if name == "__typename":
                answer[key] = connection.name
            elif name == "totalCount":
                answer[key] = read.total
            elif name == "pageInfo":
                answer[key] = self._page_info(connection.fields[name], field_nodes, read)
            elif name == "nodes":
                answer[key] = self._nodes(kind, field_nodes, read)
            else:
                raise _NotDirect(name)
        return answer

    def _page_info(self, definition: GraphQLField, nodes: list[FieldNode], read: PageRead) -> dict[str, Any]:
        page_info = get_named_type(definition.type)
        assert isinstance(page_info, GraphQLObjectType)
        answer: dict[str, Any] = {}
        for key, field_nodes in self._collect(page_info, [n.selection_set for n in nodes]):
            name = field_nodes[0].name.value
            values = {"__typename": page_info.name, "hasNextPage": read.has_next, "endCursor": read.cursor}
            if name not in values:
                raise _NotDirect(name)
            answer[key] = values[name]
        return answer

    def _nodes(self, kind: Interface | ObjectType, nodes: list[FieldNode], read: PageRead) -> list[Any]:
        selection_sets = [n.selection_set for n in nodes]
        items = [self._entity(kind.name, read.entities[iri], selection_sets, read.entities)
                 for iri in read.ids if iri in read.entities]
        return [item for item in items if item is not None]

    # ---- entities -------------------------------------------------------------------------------

    def _entity(self, type_name: str, entity: EntityValues, selection_sets: Sequence[SelectionSetNode | None],
                entities: dict[str, EntityValues]) -> dict[str, Any] | None:
        concrete = self.builder.concrete(type_name, entity)
        if concrete is None:
            return None
        readers, required = self._readers(concrete, selection_sets)
        answer = {key: read(entity, entities) for key, read in readers}
        for key in required:
            if answer[key] is None:
                return None  # as ``SchemaBuilder.materialise``: not served, rather than a null the type forbids
        return answer

    def _readers(self, concrete: str, selection_sets: Sequence[SelectionSetNode | None]
                 ) -> tuple[list[tuple[str, _Reader]], list[str]]:
        """How to answer each field a selection asks of an entity of type ``concrete``, worked out once
        per type and selection (a page's thousand entities share them), and the keys that must not
        be null. ``selection_sets`` live as long as the request (they are kept here or in a
        reader), so their identity names them."""
        memo = (concrete, id(selection_sets))
        if memo not in self._reader_memo:
            runtime = self.schema.get_type(concrete)
            assert isinstance(runtime, GraphQLObjectType)
            readers, required = [], []
            for key, field_nodes in self._collect(runtime, selection_sets):
                name = field_nodes[0].name.value
                readers.append((key, self._reader(concrete, runtime, name, field_nodes)))
                if name != "__typename" and isinstance(runtime.fields[name].type, GraphQLNonNull):
                    required.append(key)
            self._reader_memo[memo] = (readers, required, selection_sets)
        readers, required, _ = self._reader_memo[memo]
        return readers, required

    def _reader(self, concrete: str, runtime: GraphQLObjectType, name: str, field_nodes: list[FieldNode]
                ) -> _Reader:
        """What answers field ``name`` of an entity, as the resolvers and graphql-core would."""
        dataset_prefix = self.builder.dataset_prefix
        provenance: dict[str, _Reader] = {
            "__typename": lambda entity, _: concrete,
            "id": lambda entity, _: entity.iri,
            "classes": lambda entity, _: entity.types,
            "inferredClasses": lambda entity, _: sorted(entity.inferred_types),
            "assertedBy": lambda entity, _: [iri.removeprefix(dataset_prefix) for iri in entity.asserted_by],
            "inferred": lambda entity, _: not entity.asserted_by,
        }
        if name in provenance:
            return provenance[name]
        f = self.builder.fields.get(concrete, {}).get(name)
        definition = runtime.fields.get(name)
        if f is None or definition is None:
            raise _NotDirect(f"{concrete}.{name}")
        step, many = Step(f.path, f.inverse), f.many
        if f.language_tagged:
            languages = {self._argument_values(definition, n).get("lang") for n in field_nodes}
            if len(languages) > 1:
                raise _NotDirect("one response key with different arguments")
            lang = languages.pop()

            def texts(entity: EntityValues, _: dict[str, EntityValues]) -> Any:
                found = [term.value for term in entity.values.get(step, ()) if lang is None or term.language == lang]
                return found if many else (found[0] if found else None)
            return texts
        if f.kind is FieldKind.OBJECT:
            child_type, child_sets = f.type_name or "Thing", [n.selection_set for n in field_nodes]

            def linked(entity: EntityValues, entities: dict[str, EntityValues]) -> Any:
                found = [self._entity(child_type, entities[term.value], child_sets, entities)
                         for term in entity.values.get(step, ()) if term.value in entities]
                present = [item for item in found if item is not None]
                return present if many else (present[0] if present else None)
            return linked
        serialize = getattr(get_named_type(definition.type), "serialize")  # noqa: B009 (a scalar's or an enum's)
        convert = self.builder.value

        def leaf(entity: EntityValues, _: dict[str, EntityValues]) -> Any:
            found = [serialize(v) for v in (convert(f, term) for term in entity.values.get(step, ())) if v is not None]
            return found if many else (found[0] if found else None)
        return leaf
