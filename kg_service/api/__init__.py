"""GraphQL API: schema building, query compiling, execution and transport, one module each."""

from __future__ import annotations

from kg_service.api.app import create_app
from kg_service.api.schema import Context, build_schema

__all__ = ["Context", "build_schema", "create_app"]
