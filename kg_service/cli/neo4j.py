"""``citykg neo4j``: project the graph into Neo4j and compare the two sides.

Not built yet: each command says so and exits 2.
"""

from __future__ import annotations

import typer

from kg_service.cli._shared import not_built

app = typer.Typer(help="Project the graph into Neo4j (not built yet).", no_args_is_help=True,
                  epilog="Exit codes: 2 for every command until the Neo4j backend is built.")


@app.command()
def sync() -> None:
    """Not built yet: full and incremental projection of datasets into Neo4j."""
    raise not_built("'citykg neo4j sync' (projecting datasets into a Neo4j server over Bolt)")


@app.command()
def status() -> None:
    """Not built yet: counts per class and relationship type, Neo4j against the RDF store."""
    raise not_built("'citykg neo4j status' (comparing Neo4j with the RDF store)")
