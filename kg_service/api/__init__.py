"""GraphQL API: model (from ontology and shapes), schema building, query compiling, execution and
transport, one module each."""

from __future__ import annotations

from kg_service.api.app import create_app
from kg_service.api.schema import Context, build_schema, context_for, schema_for

__all__ = ["Context", "build_schema", "context_for", "create_app", "schema_for"]
