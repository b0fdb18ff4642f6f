"""``citykg ontology``: check, edit, diff and document the ontology.

Every edit is planned on a copy, checked (Turtle round trip, HermiT, meta-shapes, competency
questions) and its impact reported before anything is written; ``--dry-run`` stops there, and
``citykg ontology impact <edit> ...`` is the same as the edit with ``--dry-run``.
"""

from __future__ import annotations

import functools
import inspect
import json
import typing
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.text import Text

from kg_service.cli._shared import EXIT_CHECK_FAILED, err, out, state
from kg_service.config import Settings, project_path
from kg_service.errors import StoreLockedError
from kg_service.ontology.checks import CheckResult
from kg_service.ontology.edits import (
    CHARACTERISTICS,
    PROPERTY_KINDS,
    SUBSYSTEM_NAMES,
    AddClass,
    AddProperty,
    Deprecate,
    Edit,
    Move,
    Rename,
    SetLabels,
)
from kg_service.store import GraphStore

EXITS = "Exit codes: 0 passed (and applied); 1 a check failed, the edit refused, nothing changed; 2 error."
app = typer.Typer(help="Check, edit, diff and document the ontology.", no_args_is_help=True, epilog=EXITS)
impact_app = typer.Typer(help="The impact of an edit, without making it (the edit with --dry-run).",
                         no_args_is_help=True, epilog=EXITS)
app.add_typer(impact_app, name="impact")

DryRun = Annotated[bool, typer.Option("--dry-run", help="Check and report the impact; change nothing.")]
AsJson = Annotated[bool, typer.Option("--json", help="Print the outcome as JSON.")]
Zh = Annotated[str | None, typer.Option("--zh", help="The Chinese label.")]
En = Annotated[str | None, typer.Option("--en", help="The English label.")]
Definition = Annotated[str | None, typer.Option("--definition", help="The definition, in English.")]
ModuleOption = Annotated[str | None, typer.Option("--module", help="The module file, e.g. planning.ttl.")]
Subsystem = Annotated[str | None, typer.Option("--subsystem", help=f"One of {', '.join(SUBSYSTEM_NAMES)}.")]


def _print_checks(checks: list[CheckResult]) -> None:
    for result in checks:
        mark = ("passed", "green") if result.passed else ("FAILED", "bold red")
        out.print(Text.assemble((f"{mark[0]:>6} ", mark[1]), result.name,
                                f" ({result.summary})" if result.summary else ""))
        for problem in result.problems:
            out.print(f"       {problem}", markup=False, highlight=False)


@app.command()
def check(ctx: typer.Context) -> None:
    """Check the ontology: Turtle round trip, HermiT consistency and satisfiability, meta-shapes,
    competency questions."""
    from kg_service.ontology.checks import run_checks

    results = run_checks(state(ctx).settings().ontology_dir)
    _print_checks(results)
    if not all(result.passed for result in results):
        raise typer.Exit(EXIT_CHECK_FAILED)


# ---- edits ---------------------------------------------------------------------------------------


@contextmanager
def _store_if_free(settings: Settings) -> Iterator[GraphStore | None]:
    """The store, unless it does not exist yet or the running service holds it."""
    from kg_service.store import open_store

    if not settings.in_memory and settings.store == "oxigraph" and not settings.store_dir.exists():
        yield None
        return
    try:
        store = open_store(settings)
    except StoreLockedError:
        err.print("the store is in use (is the service running?): stored data not counted or migrated",
                  highlight=False)
        yield None
        return
    with store:
        yield store


def _run(ctx: typer.Context, edit: Edit, dry_run: bool, as_json: bool) -> None:
    from kg_service.ontology.changes import apply, propose

    settings = state(ctx).settings()
    with _store_if_free(settings) as store:
        if dry_run:
            outcome = propose(settings, edit, store)
        else:
            outcome = apply(settings, edit, store, on_step=lambda step: err.print(f"… {step}", highlight=False))
    if as_json:
        out.print_json(json.dumps(outcome.to_json(), ensure_ascii=False))
    else:
        out.print(Text(edit.describe(), style="bold"))
        _print_checks(outcome.checks)
        out.print("impact:")
        for line in outcome.impact.lines():
            out.print(f"  {line}", markup=False, highlight=False)
        before, after = outcome.plan.version
        files = ", ".join(sorted(_relative(path) for path in outcome.plan.files))
        if outcome.refused:
            out.print(Text("refused: a check failed; nothing was changed", style="bold red"))
        elif outcome.applied:
            out.print(f"applied: version {before} -> {after}; wrote {files}"
                      + (f"; renamed {outcome.migrated} stored statements" if outcome.plan.renames else ""),
                      highlight=False)
        else:
            out.print(f"dry run: would write {files} and bump the version {before} -> {after}", highlight=False)
    if outcome.refused:
        raise typer.Exit(EXIT_CHECK_FAILED)


def _relative(path: Path) -> str:
    try:
        return str(path.relative_to(Path.cwd()))
    except ValueError:
        return str(path)


def _labels(zh: str | None, en: str | None) -> dict[str, str]:
    return {language: text for language, text in (("zh", zh), ("en", en)) if text}


def _edit_command(name: str) -> Callable[[Callable[..., Edit]], Callable[..., Edit]]:
    """Register an edit as ``citykg ontology <name>`` and as ``citykg ontology impact <name>``; the
    decorated function turns the options into the edit."""

    def register(build: Callable[..., Edit]) -> Callable[..., Edit]:
        hints = typing.get_type_hints(build, include_extras=True)  # the options' help lives in Annotated
        signature = inspect.signature(build)
        signature = signature.replace(parameters=[parameter.replace(annotation=hints[parameter.name])
                                                  for parameter in signature.parameters.values()])

        @functools.wraps(build)
        def command(ctx: typer.Context, dry_run: DryRun = False, as_json: AsJson = False, **options: Any) -> None:
            _run(ctx, build(**options), dry_run, as_json)

        command.__signature__ = signature.replace(parameters=[  # type: ignore[attr-defined]
            inspect.Parameter("ctx", inspect.Parameter.POSITIONAL_OR_KEYWORD, annotation=typer.Context),
            *signature.parameters.values(),
            inspect.Parameter("dry_run", inspect.Parameter.KEYWORD_ONLY, default=False, annotation=DryRun),
            inspect.Parameter("as_json", inspect.Parameter.KEYWORD_ONLY, default=False, annotation=AsJson)])
        app.command(name=name)(command)

        @functools.wraps(build)
        def impact(ctx: typer.Context, as_json: AsJson = False, **options: Any) -> None:
            _run(ctx, build(**options), True, as_json)

        impact.__signature__ = signature.replace(parameters=[  # type: ignore[attr-defined]
            inspect.Parameter("ctx", inspect.Parameter.POSITIONAL_OR_KEYWORD, annotation=typer.Context),
            *signature.parameters.values(),
            inspect.Parameter("as_json", inspect.Parameter.KEYWORD_ONLY, default=False, annotation=AsJson)])
        impact_app.command(name=name)(impact)
        return build

    return register


@_edit_command("add-class")
def add_class(name: Annotated[str, typer.Argument(help="The class's local name, e.g. Kindergarten.")],
              parent: Annotated[str, typer.Option("--parent", help="Its superclass, e.g. city:School.")],
              zh: Zh = None, en: En = None, definition: Definition = None, subsystem: Subsystem = None,
              module: ModuleOption = None,
              shape: Annotated[bool, typer.Option("--shape", help="Also write a data shape for it beside its "
                                                                  "parent's, so the GraphQL API serves it as a "
                                                                  "type with its parent's fields.")] = False
              ) -> Edit:
    """Add a class with its parent, subsystem, labels and definition."""
    return AddClass(name, parent, _labels(zh, en), definition or "", subsystem, module, shape)


@_edit_command("add-property")
def add_property(name: Annotated[str, typer.Argument(help="The property's local name, e.g. bedCount.")],
                 kind: Annotated[str, typer.Option("--kind", help=f"One of {', '.join(PROPERTY_KINDS)}.")] = "object",
                 zh: Zh = None, en: En = None, definition: Definition = None,
                 domain: Annotated[str | None, typer.Option("--domain", help="e.g. city:Hospital")] = None,
                 range_: Annotated[str | None, typer.Option("--range", help="e.g. xsd:integer, city:District")] = None,
                 characteristic: Annotated[list[str] | None, typer.Option(
                     "--characteristic", help=f"Repeatable: {', '.join(CHARACTERISTICS)}.")] = None,
                 inverse: Annotated[str | None, typer.Option("--inverse", help="The property it inverts.")] = None,
                 parent: Annotated[str | None, typer.Option("--parent", help="Its super-property.")] = None,
                 module: ModuleOption = None,
                 shape_of: Annotated[str | None, typer.Option(
                     "--shape-of", help="Also give the data shape of this class a property shape for it, so its "
                                        "GraphQL type gets the field.")] = None) -> Edit:
    """Add a property with its domain, range, characteristics and inverse."""
    return AddProperty(name, kind, _labels(zh, en), definition or "", domain, range_, tuple(characteristic or ()),
                       inverse, parent, module, shape_of)


@_edit_command("label")
def label(term: Annotated[str, typer.Argument(help="e.g. city:LandParcel")],
          zh: Zh = None, en: En = None, definition: Definition = None) -> Edit:
    """Add or change a term's labels and definition."""
    return SetLabels(term, _labels(zh, en), definition)


@_edit_command("deprecate")
def deprecate(term: Annotated[str, typer.Argument(help="e.g. city:hospitalGrade")],
              replaced_by: Annotated[str | None, typer.Option("--replaced-by", help="The term to use instead.")] = None
              ) -> Edit:
    """Deprecate a term (owl:deprecated), with the term that replaces it."""
    return Deprecate(term, replaced_by)


@_edit_command("rename")
def rename(term: Annotated[str, typer.Argument(help="e.g. city:Hospital")],
           new_name: Annotated[str, typer.Argument(help="The new local name, e.g. GeneralHospital.")]) -> Edit:
    """Rename a term everywhere (modules, shapes, rules, questions, mappings) and in the stored data."""
    return Rename(term, new_name)


@_edit_command("move")
def move(term: Annotated[str, typer.Argument(help="The class to move, e.g. city:IndustrialPark.")],
         parent: Annotated[str | None, typer.Option("--parent", help="Its new superclass.")] = None,
         subsystem: Subsystem = None, module: ModuleOption = None) -> Edit:
    """Move a class under another parent, subsystem or module."""
    return Move(term, parent, subsystem, module)


# ---- diff and docs -------------------------------------------------------------------------------


@app.command()
def diff(old: Annotated[str, typer.Argument(help="A folder, a .ttl file or a git revision (e.g. HEAD~1).")],
         new: Annotated[str, typer.Argument(help="The same kinds; the ontology folder when left out.")] = "",
         as_json: AsJson = False) -> None:
    """The semantic diff of two ontology versions: classes, properties, axioms and labels added,
    removed and changed (not a text diff). Exits 1 when they differ."""
    from kg_service.ontology.diff import load_version, semantic_diff

    root = project_path(".")
    difference = semantic_diff(load_version(old, root), load_version(new or str(root / "ontology"), root))
    if as_json:
        out.print_json(json.dumps(difference.to_json(), ensure_ascii=False))
    else:
        for line in difference.lines() or ["no semantic difference"]:
            out.print(line, markup=False, highlight=False)
    if not difference.is_empty:
        raise typer.Exit(EXIT_CHECK_FAILED)


@app.command()
def docs(ctx: typer.Context,
         out_dir: Annotated[Path, typer.Option("--out", help="Where to write the HTML.")] = Path("ontology-docs")
         ) -> None:
    """Write bilingual HTML documentation of the ontology, usable offline."""
    from kg_service.ontology.docs import write_docs

    index = write_docs(state(ctx).settings().ontology_dir, out_dir)
    out.print(f"wrote {index}", highlight=False)
