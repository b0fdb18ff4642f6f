"""Graph stores: the GraphStore protocol, its backends, and the registry that picks one by name."""

from __future__ import annotations

from kg_service.store.base import (
    GraphStore,
    GraphWrites,
    QueryResult,
    RdfFormat,
    RdfInput,
    SelectResult,
    Term,
    TermRows,
    select,
    statements,
)
from kg_service.store.registry import backend_names, open_store, register_backend

__all__ = [
    "GraphStore",
    "GraphWrites",
    "QueryResult",
    "RdfFormat",
    "RdfInput",
    "SelectResult",
    "Term",
    "TermRows",
    "backend_names",
    "open_store",
    "register_backend",
    "select",
    "statements",
]
