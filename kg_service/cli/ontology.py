"""``citykg ontology``: check, edit, diff and document the ontology.

``check`` works; the editing commands are not built yet: each says so and exits 2, so no script
mistakes it for a working one.
"""

from __future__ import annotations

import typer
from rich.text import Text

from kg_service.cli._shared import EXIT_CHECK_FAILED, not_built, out, state

app = typer.Typer(help="Check, edit, diff and document the ontology (editing is not built yet).",
                  no_args_is_help=True,
                  epilog="Exit codes: 0 passed; 1 a check failed; 2 error or a command not built yet.")


@app.command()
def check(ctx: typer.Context) -> None:
    """Check the ontology: Turtle round trip, HermiT consistency and satisfiability, meta-shapes."""
    from kg_service.ontology.checks import run_checks

    settings = state(ctx).settings()
    results = run_checks(settings.ontology_dir)
    for result in results:
        mark = ("passed", "green") if result.passed else ("FAILED", "bold red")
        out.print(Text.assemble((f"{mark[0]:>6} ", mark[1]), result.name,
                                f" ({result.summary})" if result.summary else ""))
        for problem in result.problems:
            out.print(f"       {problem}", markup=False, highlight=False)
    if not all(result.passed for result in results):
        raise typer.Exit(EXIT_CHECK_FAILED)


_PLANNED = {
    "add-class": "adding a class with its parent, subsystem, labels and definition",
    "add-property": "adding a property with domain, range, characteristics and inverse",
    "label": "adding or changing labels and definitions",
    "deprecate": "deprecating a term with its replacement",
    "rename": "renaming a term and migrating stored data",
    "move": "moving a class under another parent",
    "impact": "the impact report of an edit on the API, mappings, shapes and stored data",
    "diff": "the semantic diff of two ontology versions",
    "docs": "the bilingual HTML documentation of the ontology",
}


def _planned_command(name: str, what: str) -> None:
    def command() -> None:
        raise not_built(f"'citykg ontology {name}' ({what})")

    command.__doc__ = f"Not built yet: {what}."
    app.command(name=name)(command)


for _name, _what in _PLANNED.items():
    _planned_command(_name, _what)
