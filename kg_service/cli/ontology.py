"""``citykg ontology``: check, edit, diff and document the ontology.

Not built yet: each command says so and exits 2, so no script mistakes it for a working one.
"""

from __future__ import annotations

import typer

from kg_service.cli._shared import not_built

app = typer.Typer(help="Check, edit, diff and document the ontology (not built yet).", no_args_is_help=True,
                  epilog="Exit codes: 2 for every command until ontology editing is built.")

_PLANNED = {
    "check": "HermiT consistency, meta-shapes and competency questions over the ontology",
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
