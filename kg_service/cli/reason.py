"""``citykg reason``: recompute the inferred graph from the ontology and all committed data."""

from __future__ import annotations

import typer

from kg_service.cli._shared import RichProgress, out, state
from kg_service.store import open_store


def register(app: typer.Typer) -> None:
    app.command(name="reason", epilog="Exit codes: 0 done; 2 error.")(reason)


def reason(ctx: typer.Context) -> None:
    """Materialise what OWL 2 RL and the ontology's rules entail from the committed data into the inferred
    graph (safe to rerun), once HermiT finds the ontology consistent (checked once per ontology version)."""
    from kg_service import pipeline

    settings = state(ctx).settings()
    with open_store(settings) as store, RichProgress() as progress, progress.stage("reasoning"):
        inferred = pipeline.reason(settings, store)
    out.print(f"inferred triples: {inferred} (graph {settings.graphs.inferred})", markup=False)
