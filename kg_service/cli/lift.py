"""``citykg lift``: run one mapping and write what it makes, without the gate or the store.

For writing and debugging mappings, and for bulk runs: output streams as N-Triples (N-Quads when
the mapping has graph maps) to a file or stdout, so memory stays bounded whatever the source size.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import IO, Annotated

import typer

from kg_service.cli._shared import EXIT_CHECK_FAILED, err, state
from kg_service.errors import CityKGError
from kg_service.lift import LiftedRecord, find_datasets, load_mapping
from kg_service.lift.output import write_statements


def register(app: typer.Typer) -> None:
    app.command(name="lift", epilog="Exit codes: 0 every record lifted (or skipped with a reason); "
                                    "1 some records failed (each is listed); 2 bad mapping or source.")(lift_command)


def lift_command(
    ctx: typer.Context,
    mapping: Annotated[str, typer.Argument(
        help="A mapping file (RML Turtle or YARRRML), or a dataset id such as market-regulation/enterprise-register.")],
    output: Annotated[Path | None, typer.Option("--output", "-o", help="Write here instead of stdout.")] = None,
    base_iri: Annotated[str | None, typer.Option("--base-iri",
                                                help="Base for relative IRIs [CITYKG_BASE_IRI].")] = None,
    quiet: Annotated[bool, typer.Option("--quiet", "-q", help="Do not list failed or skipped records.")] = False,
) -> None:
    """Lift a mapping's sources to RDF, listing every record that failed with its place and reason."""
    settings = state(ctx).settings()
    loaded = load_mapping(_mapping_path(mapping, settings.mappings_dir))

    def report(record: LiftedRecord) -> None:
        if not quiet:
            reason = f"failed: {record.error}" if record.error else f"skipped: {record.skip_reason}"
            err.print(f"{record.source}:{record.line}: {reason}", markup=False, highlight=False)

    base = base_iri or settings.base_iri
    if output is None:
        counts = write_statements(loaded, base, sys.stdout.buffer, report)
        sys.stdout.flush()
    else:
        sink: IO[bytes]
        try:
            sink = output.open("wb")
        except OSError as error:
            raise CityKGError(f"cannot write the output: {error.strerror}", where=str(output)) from error
        with sink:
            counts = write_statements(loaded, base, sink, report)
    err.print(f"{counts.read} records read: {counts.lifted} lifted, {counts.failed} failed, "
              f"{counts.skipped} skipped; {counts.statements} statements", markup=False, highlight=False)
    if counts.failed:
        raise typer.Exit(EXIT_CHECK_FAILED)


def _mapping_path(name: str, mappings_dir: Path) -> Path:
    path = Path(name)
    if path.is_file():
        return path
    if "/" in name and not path.suffix:
        return find_datasets(mappings_dir, [name])[0].mapping_path
    raise CityKGError("no such mapping file", where=name, hint="give a mapping file or a dataset id "
                      "(department/dataset, as 'citykg ingest' takes)")
