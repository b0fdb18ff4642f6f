"""``citykg generate``: write a fictional city's six departments' sources at any size.

The output folder is a mappings directory (each department's mappings beside generated sources of
the sample's shape), ready for ``CITYKG_MAPPINGS_DIR=DIR citykg ingest --all``.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from kg_service.cli._shared import err, state
from kg_service.errors import CityKGError


def register(app: typer.Typer) -> None:
    app.command(name="generate", epilog="Exit codes: 0 written; 2 bad option or the output folder "
                                        "cannot be written.")(generate_command)


def generate_command(
    ctx: typer.Context,
    scale: Annotated[int, typer.Option("--scale", "-n", min=1, help="About how many source rows, all "
                                                                   "departments together (1000 to 10000000).")],
    seed: Annotated[int, typer.Option("--seed", "-s", help="Same scale and seed, same bytes.")] = 1,
    out: Annotated[Path, typer.Option("--out", "-o", help="The folder to write (a mappings directory).")]
    = Path("generated-city"),
    force: Annotated[bool, typer.Option("--force", help="Write into a folder that is not empty.")] = False,
) -> None:
    """Write a fictional city's departmental sources (same shapes and mess as the samples) at any size."""
    from kg_service.generate import generate_city

    settings = state(ctx).settings()
    if out.exists() and any(out.iterdir()) and not force:
        raise CityKGError("the output folder is not empty", where=str(out),
                          hint="choose another --out, or add --force to write over it")
    try:
        out.mkdir(parents=True, exist_ok=True)
        written = generate_city(settings.mappings_dir, out, scale, seed)
    except OSError as error:
        raise CityKGError(f"cannot write the city: {error.strerror}", where=str(error.filename or out)) from error
    width = max(len(name) for name in written)
    for name, rows in written.items():
        err.print(f"{name:<{width}}  {rows:>10,} rows", markup=False, highlight=False)
    err.print(f"{sum(written.values()):,} rows in {out}; ingest with: CITYKG_MAPPINGS_DIR={out} citykg ingest --all",
              markup=False, highlight=False)
