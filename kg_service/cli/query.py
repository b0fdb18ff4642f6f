"""``citykg query``: answer a GraphQL query from the command line, without a server."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

import typer

from kg_service.cli._shared import EXIT_CHECK_FAILED, err, read_document, state
from kg_service.errors import QuerySyntaxError
from kg_service.store import open_store


def register(app: typer.Typer) -> None:
    app.command(name="query", epilog="Exit codes: 0 answered; 1 the response has errors; 2 bad input.")(query)


def query(
    ctx: typer.Context,
    document: Annotated[str | None, typer.Argument(help="The GraphQL query text.")] = None,
    file: Annotated[Path | None, typer.Option("--file", "-f", help="Read the query from a file.")] = None,
    variables: Annotated[str | None, typer.Option("--variables", help="Variables as a JSON object.")] = None,
) -> None:
    """Run a GraphQL query against the store and print the JSON response."""
    from kg_service.api import Context, build_schema

    text = read_document(document, file)
    try:
        values = json.loads(variables) if variables else None
    except json.JSONDecodeError as error:
        raise QuerySyntaxError(f"--variables is not JSON: {error}") from error
    settings = state(ctx).settings()
    with open_store(settings) as store:
        result = build_schema().execute_sync(text, variable_values=values,
                                             context_value=Context(store=store, settings=settings))
    response: dict[str, object] = {"data": result.data}
    if result.errors:
        response["errors"] = [error.formatted for error in result.errors]
    typer.echo(json.dumps(response, ensure_ascii=False, indent=2, default=str))
    if result.errors:
        err.print(f"{len(result.errors)} error(s) in the response", markup=False)
        raise typer.Exit(EXIT_CHECK_FAILED)
