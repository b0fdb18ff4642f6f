"""The ``citykg`` command: one module per command group, documented exit codes.

Exit codes: 0 success; 1 the data did not pass (violations, GraphQL errors); 2 bad input, bad
settings or a capability not built yet; 3 internal error (rerun with --debug); 130 interrupted.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Annotated

import typer
from rich.text import Text

from kg_service.cli import (
    apikey,
    demo,
    export,
    generate,
    ingest,
    lift,
    neo4j,
    ontology,
    query,
    reason,
    serve,
    sparql,
    validate,
)
from kg_service.cli._shared import EXIT_INTERNAL, EXIT_USAGE, CliState, err
from kg_service.errors import CityKGError

EXIT_CODES = ("Exit codes: 0 success; 1 the data did not pass (violations, GraphQL errors); "
              "2 bad input, bad settings or a capability not built yet; 3 internal error "
              "(rerun with --debug); 130 interrupted.")

app = typer.Typer(
    name="citykg",
    help="CityKG: lift departments' data into one city knowledge graph, validate, reason, serve GraphQL.",
    epilog=EXIT_CODES,
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    context_settings={"help_option_names": ["-h", "--help"]},
    rich_markup_mode=None,
)


def _version(value: bool) -> None:
    if value:
        from kg_service import __version__

        typer.echo(f"citykg {__version__}")
        raise typer.Exit()


@app.callback()
def global_options(
    ctx: typer.Context,
    config: Annotated[Path | None, typer.Option("--config", help="TOML settings file (default ./citykg.toml).",
                                                envvar="CITYKG_CONFIG")] = None,
    data_dir: Annotated[Path | None, typer.Option("--data-dir", help="Data directory [CITYKG_DATA_DIR].")] = None,
    store: Annotated[str | None, typer.Option("--store", help="Store backend [CITYKG_STORE].")] = None,
    in_memory: Annotated[bool | None, typer.Option("--in-memory/--on-disk",
                                                   help="Keep the store in memory [CITYKG_IN_MEMORY].")] = None,
    debug: Annotated[bool, typer.Option("--debug", help="Show tracebacks.")] = False,
    version: Annotated[bool, typer.Option("--version", callback=_version, is_eager=True,
                                          help="Print the version.")] = False,
) -> None:
    ctx.obj = CliState(config_file=config, debug=debug,
                       overrides={"data_dir": data_dir, "store": store, "in_memory": in_memory})


for group in (lift, ingest, validate, reason, serve, query, sparql, export, demo, generate, apikey):
    group.register(app)
app.add_typer(ontology.app, name="ontology")
app.add_typer(neo4j.app, name="neo4j")


def main() -> None:
    """Console entry point: a CityKGError is one line on stderr, never a traceback (unless --debug)."""
    debug = "--debug" in sys.argv[1:]
    try:
        app(prog_name="citykg")
    except CityKGError as error:
        if debug:
            raise
        err.print(Text.assemble(("error: ", "bold red"), str(error)), highlight=False)
        sys.exit(EXIT_USAGE)
    except KeyboardInterrupt:
        err.print("interrupted")
        sys.exit(130)
    except Exception as error:
        if debug:
            raise
        err.print(f"internal error: {type(error).__name__}: {error} (rerun with --debug for the traceback)",
                  markup=False, highlight=False)
        sys.exit(EXIT_INTERNAL)
