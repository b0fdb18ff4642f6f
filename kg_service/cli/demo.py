"""``citykg demo``: ingest the bundled sample city and serve GraphQL over it."""

from __future__ import annotations

import typer

from kg_service.cli._shared import RichProgress, err, state
from kg_service.cli.ingest import print_report
from kg_service.cli.serve import HostOption, PortOption, run_server
from kg_service.store import open_store

SAMPLE_QUERY = ("{ enterprises(first: 5) { totalCount nodes { name creditCode registeredCapital "
                "locatedIn { id } classes assertedBy } } }")


def register(app: typer.Typer) -> None:
    app.command(name="demo", epilog="Exit codes: 0 stopped cleanly; 2 bad settings or store in use.")(demo)


def demo(ctx: typer.Context, host: HostOption = None, port: PortOption = None) -> None:
    """Ingest every bundled sample dataset, then serve GraphQL on http://HOST:PORT/graphql, readable
    without an API key (anonymous read-only access is on)."""
    from kg_service import pipeline

    # A demo is for trying CityKG on a laptop: anyone who can reach it may read (never write).
    settings = state(ctx).settings(host=host, port=port, anonymous="read")
    with open_store(settings) as store, RichProgress() as progress:
        report = pipeline.ingest(settings, store, None, progress)
    print_report(report)
    err.print("try:\n  curl -s -X POST http://{host}:{port}/graphql -H 'content-type: application/json' "
              "-d '{{\"query\":\"{query}\"}}'".format(host=settings.host, port=settings.port,
                                                    query=SAMPLE_QUERY.replace('"', '\\"')),
              markup=False, highlight=False)
    err.print("citykg demo serves with anonymous read-only access on (no API key needed to read); "
              "'citykg serve' asks for a key unless anonymous = \"read\" is configured", markup=False, highlight=False)
    run_server(settings)
