"""Assembles the GraphQL schema: root query fields resolved through the compiler and the store."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import strawberry
from rdflib import Literal
from rdflib.term import Node
from strawberry.types import Info

from kg_service.api.compiler import compile_list
from kg_service.api.types import ENTERPRISE_QUERY, Enterprise, NamedGraph
from kg_service.config import Settings
from kg_service.store import GraphStore, select

MAX_PAGE = 1000


@dataclass
class Context:
    """What every resolver gets: the store and the settings (no module-level state)."""

    store: GraphStore
    settings: Settings


def _value(node: Node | None) -> Any:
    if node is None:
        return None
    return node.toPython() if isinstance(node, Literal) else str(node)


def _selected_names(info: Info[Context, None]) -> list[str]:
    return [selection.name for selection in info.selected_fields[0].selections
            if hasattr(selection, "name")]


@strawberry.type
class Query:
    @strawberry.field(description="Enterprises in the market-regulation register, ordered by IRI.")
    def enterprises(self, info: Info[Context, None], first: int = 20, offset: int = 0,
                    district: strawberry.ID | None = None) -> list[Enterprise]:
        if not 0 <= first <= MAX_PAGE or offset < 0:
            raise ValueError(f"'first' must be between 0 and {MAX_PAGE} and 'offset' not negative")
        compiled = compile_list(ENTERPRISE_QUERY, _selected_names(info), limit=first, offset=offset,
                                located_in=str(district) if district else None)
        result = select(info.context.store, compiled.sparql, **compiled.bindings)
        enterprises = []
        for row in result.dicts():
            values = {name: _value(row.get(name)) for name in ENTERPRISE_QUERY.fields}
            classes = str(row.get("classes") or "").split()
            enterprises.append(Enterprise(
                id=strawberry.ID(str(row["entity"])), name=values["name"], credit_code=values["creditCode"],
                industry_code=values["industryCode"], registered_capital=values["registeredCapital"],
                employees=values["employees"], established_on=values["establishedOn"],
                district=values["district"] or _value(row.get("area")), classes=sorted(classes),
            ))
        return enterprises

    @strawberry.field(description="The store's named graphs: ontology, one per dataset, quarantine, inferred.")
    def graphs(self, info: Info[Context, None]) -> list[NamedGraph]:
        store = info.context.store
        return [NamedGraph(iri=strawberry.ID(iri), triples=store.count(iri)) for iri in store.named_graphs()]


def build_schema() -> strawberry.Schema:
    return strawberry.Schema(query=Query)
