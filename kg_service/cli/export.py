"""``citykg export``: write the store, or some of its named graphs, as N-Quads or TriG."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Annotated

import typer

from kg_service.cli._shared import err, state
from kg_service.errors import CityKGError
from kg_service.store import RdfFormat, open_store


def register(app: typer.Typer) -> None:
    app.command(name="export", epilog="Exit codes: 0 written; 2 bad format, graph or output path.")(export)


def export(
    ctx: typer.Context,
    output: Annotated[Path | None, typer.Option("--output", "-o", help="File to write; stdout when omitted.")] = None,
    format: Annotated[str, typer.Option("--format", help="nquads or trig.")] = "nquads",
    graphs: Annotated[list[str] | None, typer.Option("--graph", help="Only this named graph (repeatable).")] = None,
) -> None:
    """Export named graphs with their names, for backup or another triple store."""
    try:
        rdf_format = RdfFormat.from_name(format)
    except ValueError as error:
        raise CityKGError(str(error), where="--format") from error
    if not rdf_format.has_graphs:
        raise CityKGError("export keeps graph names, so the format must be nquads or trig", where="--format")
    settings = state(ctx).settings()
    with open_store(settings) as store:
        unknown = sorted(set(graphs or []) - set(store.named_graphs()))
        if unknown:
            raise CityKGError(f"no such graph: {', '.join(unknown)}", where="--graph",
                              hint="'citykg sparql \"SELECT DISTINCT ?g { GRAPH ?g {} }\"' lists them")
        if output is None:
            store.export(sys.stdout.buffer, rdf_format, graphs=graphs)
            return
        try:
            with output.open("wb") as handle:
                store.export(handle, rdf_format, graphs=graphs)
        except OSError as error:
            raise CityKGError(f"cannot write: {error.strerror}", where=str(output)) from error
        err.print(f"wrote {output}", markup=False)
