"""``citykg ingest``: run data-integration jobs (lift -> gate -> commit -> reason)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer
from rich.console import Console
from rich.table import Table

from kg_service.cli._shared import RichProgress, err, out, state
from kg_service.errors import CityKGError
from kg_service.store import open_store

if TYPE_CHECKING:  # the pipeline's imports are heavy; commands that do not ingest should not pay for them
    from kg_service.pipeline import IngestReport


def register(app: typer.Typer) -> None:
    app.command(name="ingest", epilog="Exit codes: 0 done (quarantined records are reported, not failures); "
                                      "2 bad input or settings.")(ingest)


def ingest(
    ctx: typer.Context,
    datasets: Annotated[list[str] | None, typer.Argument(
        help="Departments (market-regulation) or datasets (market-regulation/enterprise-register).")] = None,
    all_datasets: Annotated[bool, typer.Option("--all", help="Ingest every dataset under the mappings dir.")] = False,
    report_file: Annotated[Path | None, typer.Option("--report", help="Write the JSON report here.")] = None,
) -> None:
    """Lift datasets into the store: bad records are quarantined with reasons, the good ones committed."""
    from kg_service import pipeline

    if not datasets and not all_datasets:
        raise CityKGError("name a department or dataset to ingest, or pass --all",
                          hint="'citykg ingest --help' lists the options")
    settings = state(ctx).settings()
    with open_store(settings) as store, RichProgress() as progress:
        report = pipeline.ingest(settings, store, None if all_datasets else datasets, progress)
    print_report(report)
    if report_file is not None:
        report_file.write_text(json.dumps(report.to_json(), ensure_ascii=False, indent=2), encoding="utf-8")
        err.print(f"report written to {report_file}")


def print_report(report: IngestReport) -> None:
    table = Table(title="ingest summary")
    counts = ("read", "committed", "quarantined", "skipped", "triples")
    table.add_column("dataset", no_wrap=True)
    for column in (*counts, "changed", "validated"):
        table.add_column(column, justify="right", no_wrap=True)
    for row in report.datasets:
        # changed: entities lifted differently from the last job; validated: focus nodes the gate checked
        table.add_row(row.dataset, *(str(getattr(row, key)) for key in counts),
                      str(row.entities_changed), str(row.focus_nodes_validated))
    totals = report.totals()
    table.add_row("total", *(str(totals[key]) for key in counts),
                  str(sum(r.entities_changed for r in report.datasets)),
                  str(sum(r.focus_nodes_validated for r in report.datasets)))
    # wide enough that no dataset name or header is cut, also when the output is not a terminal
    Console(file=out.file, width=max(out.width, 120), soft_wrap=True).print(table)
    for row in report.datasets:
        _print_some("quarantined", row.dataset, row.quarantine_reasons)
        _print_some("skipped", row.dataset, row.skip_reasons)
        _print_some("warning", row.dataset, row.warnings)
    out.print(f"inferred triples: {report.inferred_triples} (reasoning: {report.reasoning})", markup=False)
    out.print("took " + ", ".join(f"{stage} {seconds:.2f} s" for stage, seconds in report.seconds.items()),
              markup=False)
    if report.projection is not None:
        done = report.projection
        out.print(f"projected into Neo4j: {done.written} entities written ({done.relationships} relationships), "
                  f"{done.unchanged} unchanged, {done.retired} removed", markup=False)


SHOWN_PER_KIND = 20  # lines of each kind per dataset; the JSON report holds every one


def _print_some(kind: str, dataset: str, lines: list[str]) -> None:
    """The first lines of a kind, then how many more: a 100k-row dataset quarantines and skips some
    thousands of records on every run, and a summary that lists them all is not read."""
    for line in lines[:SHOWN_PER_KIND]:
        out.print(f"{kind} {dataset}: {line}", markup=False, highlight=False)
    if len(lines) > SHOWN_PER_KIND:
        out.print(f"{kind} {dataset}: ... and {len(lines) - SHOWN_PER_KIND:,} more ({len(lines):,} in all; "
                  "the JSON report, --report FILE, lists every one)", markup=False, highlight=False)
