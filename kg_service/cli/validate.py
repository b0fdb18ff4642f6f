"""``citykg validate``: run the validation gate over committed datasets on demand."""

from __future__ import annotations

from typing import Annotated

import typer

from kg_service.cli._shared import EXIT_CHECK_FAILED, out, state
from kg_service.store import open_store


def register(app: typer.Typer) -> None:
    app.command(name="validate", epilog="Exit codes: 0 conforms; 1 violations; 2 error.")(validate)


def validate(
    ctx: typer.Context,
    datasets: Annotated[list[str] | None, typer.Argument(help="Departments or datasets; all when omitted.")] = None,
) -> None:
    """Check committed data against the ontology's data shapes and list every finding."""
    from kg_service import pipeline

    settings = state(ctx).settings()
    with open_store(settings) as store:
        reports = pipeline.validate_committed(settings, store, datasets or None)
    violations = 0
    for dataset, report in reports.items():
        count = report.count("Violation")
        violations += count
        verdict = "conforms" if report.conforms else f"{count} violation(s)"
        out.print(f"{dataset}: {verdict}, {report.count('Warning')} warning(s)", markup=False)
        for finding in report.findings:
            out.print(f"  {finding.focus_node}: {finding.describe()}", markup=False, highlight=False)
    if violations:
        raise typer.Exit(EXIT_CHECK_FAILED)
