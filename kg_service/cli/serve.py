"""``citykg serve``: serve GraphQL over the store (GraphiQL at /graphql in a browser)."""

from __future__ import annotations

import sys
from typing import Annotated

import typer

from kg_service.cli._shared import err, state
from kg_service.config import Settings
from kg_service.store import open_store

HostOption = Annotated[str | None, typer.Option("--host", help="Bind address [CITYKG_HOST, 127.0.0.1].")]
PortOption = Annotated[int | None, typer.Option("--port", help="Port [CITYKG_PORT, 8000].")]


def register(app: typer.Typer) -> None:
    app.command(name="serve", epilog="Exit codes: 0 stopped cleanly; 2 bad settings or store in use.")(serve)


def serve(ctx: typer.Context, host: HostOption = None, port: PortOption = None) -> None:
    """Serve GraphQL at http://HOST:PORT/graphql and health at /healthz until interrupted."""
    settings = state(ctx).settings(host=host, port=port)
    run_server(settings)


def run_server(settings: Settings) -> None:
    import uvicorn

    from kg_service.api import create_app
    from kg_service.api.app import access_log_to, settle_start_up_objects

    with open_store(settings) as store:
        err.print(f"GraphQL at http://{settings.host}:{settings.port}/graphql (GraphiQL in a browser); "
                  f"store: {store.backend_name}", markup=False, highlight=False)
        err.print(access_summary(settings), markup=False, highlight=False)
        app = create_app(settings, store)
        settle_start_up_objects()
        # One JSON line per request on stderr (citykg.access) replaces uvicorn's access log.
        with access_log_to(sys.stderr):
            uvicorn.run(app, host=settings.host, port=settings.port, log_level=settings.log_level.lower(),
                        access_log=False)


def access_summary(settings: Settings) -> str:
    """Who the server lets in, said at startup."""
    keys = len(settings.api_keys)
    anonymous = ("anonymous requests may read" if settings.anonymous == "read"
                 else "requests without a key are refused (401)")
    said = f"access: {keys} API key{'s' if keys != 1 else ''} configured; {anonymous}"
    if not keys and settings.anonymous != "read":
        said += ("; configure api_keys (make one with 'citykg api-key reader') or anonymous = \"read\": see "
                 "'Configuration' in README.md")
    return said
