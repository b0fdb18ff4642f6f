"""``citykg neo4j``: project the graph into Neo4j and compare the two sides."""

from __future__ import annotations

import json
from typing import Annotated

import typer
from rich.table import Table

from kg_service.cli._shared import EXIT_CHECK_FAILED, RichProgress, out, state
from kg_service.store import open_store

app = typer.Typer(help="Project the graph into a Neo4j server as a property graph "
                       "(the rules: kg_service/project/rules.py).", no_args_is_help=True)


@app.command(epilog="Exit codes: 0 done; 2 error (server down, wrong credentials, unknown dataset).")
def sync(ctx: typer.Context,
         dataset: Annotated[list[str] | None, typer.Option(
             "--dataset", "-d", help="A department or department/dataset; repeat for more. Default: everything.")
         ] = None,
         as_json: Annotated[bool, typer.Option("--json", help="Print the counts as JSON.")] = False) -> None:
    """Write what changed since the last sync into Neo4j (nodes, labels, properties, relationships),
    remove what is gone. Idempotent; an interrupted sync is finished by running it again."""
    from kg_service.lift import find_datasets
    from kg_service.project import sync as project

    settings = state(ctx).settings()
    chosen = [found.id for found in find_datasets(settings.mappings_dir, dataset)] if dataset else None
    with open_store(settings) as store, RichProgress() as progress, progress.stage("projecting into Neo4j") as advance:
        report = project(settings, store, chosen, on_batch=advance)
    counts = {"entities": report.entities, "written": report.written, "unchanged": report.unchanged,
              "retired": report.retired, "relationships": report.relationships,
              "seconds": round(report.seconds, 3), "items_per_second": round(report.items_per_second)}
    if as_json:
        out.print_json(json.dumps(counts))
        return
    out.print(f"{report.entities} entities: {report.written} written ({report.relationships} relationships), "
              f"{report.unchanged} unchanged, {report.retired} removed, in {report.seconds:.1f} s "
              f"({report.items_per_second:,.0f} items/s) into {settings.neo4j_uri}", markup=False)


@app.command(epilog="Exit codes: 0 the counts agree; 1 they differ (run 'citykg neo4j sync'); 2 error.")
def status(ctx: typer.Context,
           show_all: Annotated[bool, typer.Option("--all", help="List every label and type, not only differences.")
                               ] = False) -> None:
    """Compare node counts per label and relationship counts per type: the projection of the RDF
    store against what Neo4j holds."""
    from kg_service.project import status as compare

    settings = state(ctx).settings()
    with open_store(settings) as store:
        report = compare(settings, store)
    differing = {(kind, name) for kind, name, _, _ in report.differences()}
    table = Table("", "label or relationship type", "RDF side", "Neo4j")
    for kind, expected, found in (("label", report.expected_labels, report.found_labels),
                                  ("relationship", report.expected_relationships, report.found_relationships)):
        for name in sorted({*expected, *found}):
            if show_all or (kind, name) in differing:
                mark = "≠" if (kind, name) in differing else ""
                table.add_row(mark, f"{name}" if kind == "label" else f"[{name}]", str(expected[name]),
                              str(found[name]))
    if table.row_count:
        out.print(table)
    if report.in_sync:
        out.print(f"in sync: {sum(report.expected_labels.values())} labels on nodes, "
                  f"{sum(report.expected_relationships.values())} relationships", markup=False)
        return
    out.print(f"{len(differing)} labels or relationship types differ: run 'citykg neo4j sync'", markup=False)
    raise typer.Exit(EXIT_CHECK_FAILED)
