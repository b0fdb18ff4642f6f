"""What every command group shares: the settings built once from the global options, the store,
the console, and the way a missing capability is reported."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import typer
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, SpinnerColumn, TextColumn, TimeElapsedColumn

from kg_service.config import Settings, load_settings
from kg_service.errors import CityKGError

# Exit codes, the same for every command (documented in README.md and `citykg --help`).
EXIT_OK = 0
EXIT_CHECK_FAILED = 1  # the data did not pass: violations, GraphQL errors
EXIT_USAGE = 2  # bad input, bad settings, or a capability that is not built yet
EXIT_INTERNAL = 3  # a bug: rerun with --debug for the traceback

out = Console(soft_wrap=True)
err = Console(stderr=True, soft_wrap=True)


@dataclass
class CliState:
    """Global options, turned into Settings once, when a command first asks."""

    config_file: Path | None = None
    debug: bool = False
    overrides: dict[str, Any] = field(default_factory=dict)
    _settings: Settings | None = None

    def settings(self, **overrides: Any) -> Settings:
        if self._settings is None:
            self._settings = load_settings(self.config_file, **{**self.overrides, **overrides})
            logging.basicConfig(level=self._settings.log_level, format="%(levelname)s %(name)s: %(message)s")
        return self._settings


def state(ctx: typer.Context) -> CliState:
    found = ctx.find_object(CliState)
    return found if found is not None else ctx.ensure_object(CliState)


class RichProgress:
    """The pipeline's progress, as one bar per stage on stderr."""

    def __init__(self) -> None:
        self._progress = Progress(SpinnerColumn(), TextColumn("{task.description}"), BarColumn(),
                                  MofNCompleteColumn(), TimeElapsedColumn(), console=err, transient=False)

    def __enter__(self) -> RichProgress:
        self._progress.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._progress.stop()

    @contextmanager
    def stage(self, description: str, total: int | None = None) -> Iterator[Any]:
        task = self._progress.add_task(description, total=total)

        def advance(steps: int) -> None:
            self._progress.advance(task, steps)

        yield advance
        # A stage of unknown length is shown as complete once it ends (not when it fails).
        done = self._progress.tasks[task].completed
        final = max(done, 1) if total is None else total
        self._progress.update(task, total=final, completed=final)


def read_document(document: str | None, file: Path | None) -> str:
    """A query given inline or in a file (for ``query`` and ``sparql``)."""
    if file is not None:
        try:
            return file.read_text(encoding="utf-8")
        except OSError as error:
            raise CityKGError(f"cannot read the query: {error.strerror}", where=str(file)) from error
    if not document:
        raise CityKGError("give the query as an argument or with --file")
    return document
