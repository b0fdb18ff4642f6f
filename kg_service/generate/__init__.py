"""``citykg generate``: the six departments' sources for one fictional city, at any size.

The output is a mappings directory: each department's folder with its mapping files copied from
``mappings/`` and its sample files replaced by generated ones of the same shape, so
``CITYKG_MAPPINGS_DIR=<out> citykg ingest --all`` lifts the generated city with the real mappings.
Same (rows, seed), same bytes.
"""

from __future__ import annotations

import shutil
from pathlib import Path

from kg_service.errors import CityKGError
from kg_service.generate.city import City
from kg_service.generate.departments import SOURCES, Source

__all__ = ["SOURCES", "generate_city", "generate_source"]


def generate_city(mappings_dir: Path, out_dir: Path, rows: int, seed: int) -> dict[str, int]:
    """Write every department's sources, about ``rows`` rows in all; returns the rows of each source."""
    if rows < 1:
        raise CityKGError(f"a city needs at least one row, not {rows}", hint="give --scale 1000 or more")
    city = City(rows, seed)
    for department in sorted({source.department for source in SOURCES}):
        if not (mappings_dir / department).is_dir():
            raise CityKGError(f"no mappings for the department '{department}'", where=str(mappings_dir),
                              hint="point --mappings at a checkout's mappings/ folder")
        shutil.copytree(mappings_dir / department, out_dir / department, dirs_exist_ok=True,
                        ignore=shutil.ignore_patterns("sample", "expected", "__pycache__"))
    written: dict[str, int] = {}
    for source in SOURCES:
        # Sources sized by the city come first; the flow readings take the rows that are left.
        wanted = round(rows * source.share) if source.share is not None else max(1, rows - sum(written.values()))
        written[source.name] = _write(source, city, out_dir / source.department / source.file, wanted, seed)
    return written


def generate_source(name: str, folder: Path, rows: int, seed: int) -> Path:
    """One source file alone (``department/file``, e.g. ``water/flow-readings``), in ``folder``: the
    rows it would have in a city of ``rows`` rows, but ``rows`` of them when it is sized by rows."""
    source = next((s for s in SOURCES if s.name == name), None)
    if source is None:
        raise CityKGError(f"the generator has no source '{name}'", hint=f"known: {', '.join(s.name for s in SOURCES)}")
    path = folder / Path(source.file).name
    _write(source, City(rows, seed), path, rows, seed)
    return path


def _write(source: Source, city: City, path: Path, rows: int, seed: int) -> int:
    path.parent.mkdir(parents=True, exist_ok=True)
    return source.write(city, path, rows, seed)
