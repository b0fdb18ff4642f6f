"""The ASGI application: GraphQL (with GraphiQL in the browser) at /graphql, health at /healthz."""

from __future__ import annotations

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route
from starlette.websockets import WebSocket
from strawberry.asgi import GraphQL

from kg_service.api.schema import Context, context_for, schema_for
from kg_service.config import Settings
from kg_service.store import GraphStore


class _GraphQLEndpoint(GraphQL[Context, None]):
    def __init__(self, context: Context) -> None:
        super().__init__(schema_for(context.settings), graphql_ide="graphiql")
        self._context = context

    async def get_context(self, request: Request | WebSocket, response: Response | WebSocket) -> Context:
        return self._context


def create_app(settings: Settings, store: GraphStore) -> Starlette:
    """The app serves one open store; the caller owns (and closes) it."""
    graphql = _GraphQLEndpoint(context_for(settings, store))

    async def healthz(request: Request) -> JSONResponse:
        return JSONResponse({"status": "ok", "store": store.backend_name, "quads": store.count()})

    return Starlette(routes=[
        Route("/healthz", healthz, methods=["GET"]),
        Route("/graphql", graphql, methods=["GET", "POST"]),
    ])
