"""``citykg query``: answer a GraphQL query from the command line, without a server; ``citykg schema``:
print the GraphQL schema generated from the ontology and its shapes."""

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
    app.command(name="schema", epilog="Exit codes: 0 printed; 2 the ontology or shapes cannot be read.")(schema)


def schema(ctx: typer.Context) -> None:
    """Print the GraphQL schema (SDL) generated from the ontology and its data shapes."""
    from kg_service.api import schema_for

    typer.echo(schema_for(state(ctx).settings()).as_str())


def query(
    ctx: typer.Context,
    document: Annotated[str | None, typer.Argument(help="The GraphQL query text.")] = None,
    file: Annotated[Path | None, typer.Option("--file", "-f", help="Read the query from a file.")] = None,
    variables: Annotated[str | None, typer.Option("--variables", help="Variables as a JSON object.")] = None,
) -> None:
    """Run a GraphQL query against the store and print the JSON response."""
    from kg_service.api import context_for, schema_for

    text = read_document(document, file)
    try:
        values = json.loads(variables) if variables else None
    except json.JSONDecodeError as error:
        raise QuerySyntaxError(f"--variables is not JSON: {error}") from error
    settings = state(ctx).settings()
    with open_store(settings) as store:
        result = schema_for(settings).execute_sync(text, variable_values=values,
                                                   context_value=context_for(settings, store))
    response: dict[str, object] = {"data": result.data}
    if result.errors:
        response["errors"] = [error.formatted for error in result.errors]
    typer.echo(json.dumps(response, ensure_ascii=False, indent=2, default=str))
    if result.errors:
        err.print(f"{len(result.errors)} error(s) in the response", markup=False)
        raise typer.Exit(EXIT_CHECK_FAILED)
