"""``citykg sparql``: run a read-only SPARQL query against the store."""

from __future__ import annotations

import csv
import json
import sys
from enum import StrEnum
from pathlib import Path
from typing import Annotated

import typer
from rdflib import Graph, Literal
from rdflib.term import Node
from rich.table import Table

from kg_service.cli._shared import out, read_document, state
from kg_service.store import SelectResult, open_store


class OutputFormat(StrEnum):
    table = "table"
    json = "json"
    csv = "csv"
    tsv = "tsv"


def register(app: typer.Typer) -> None:
    app.command(name="sparql", epilog="Exit codes: 0 answered; 2 invalid query or an update.")(sparql)


def sparql(
    ctx: typer.Context,
    text: Annotated[str | None, typer.Argument(help="SELECT, ASK, CONSTRUCT or DESCRIBE query.")] = None,
    file: Annotated[Path | None, typer.Option("--file", "-f", help="Read the query from a file.")] = None,
    format: Annotated[OutputFormat, typer.Option("--format", help="How to print SELECT results.")] = (
        OutputFormat.table),
) -> None:
    """Query the store (all graphs as the default graph); updates are refused."""
    query_text = read_document(text, file)
    settings = state(ctx).settings()
    with open_store(settings) as store:
        result = store.query(query_text)
    if isinstance(result, bool):
        typer.echo("true" if result else "false")
    elif isinstance(result, Graph):
        typer.echo(result.serialize(format="turtle"))
    else:
        _print_rows(result, format)


def _cell(node: Node | None) -> str:
    return "" if node is None else str(node)


def _print_rows(result: SelectResult, format: OutputFormat) -> None:
    if format is OutputFormat.json:
        bindings = [{name: _json_term(node) for name, node in row.items() if node is not None}
                    for row in result.dicts()]
        typer.echo(json.dumps({"head": {"vars": result.variables}, "results": {"bindings": bindings}},
                              ensure_ascii=False, indent=2))
    elif format in (OutputFormat.csv, OutputFormat.tsv):
        writer = csv.writer(sys.stdout, delimiter="," if format is OutputFormat.csv else "\t")
        writer.writerow(result.variables)
        writer.writerows([_cell(node) for node in row] for row in result.rows)
    else:
        table = Table(*result.variables)
        for row in result.rows:
            table.add_row(*(_cell(node) for node in row))
        out.print(table)
        out.print(f"{len(result)} row(s)")


def _json_term(node: Node) -> dict[str, str]:
    """https://www.w3.org/TR/sparql11-results-json/#select-encode-terms"""
    if isinstance(node, Literal):
        term = {"type": "literal", "value": str(node)}
        if node.language:
            term["xml:lang"] = node.language
        elif node.datatype:
            term["datatype"] = str(node.datatype)
        return term
    kind = "uri" if str(type(node).__name__) == "URIRef" else "bnode"
    return {"type": kind, "value": str(node)}
