"""The datasets a CityKG instance knows: one mapping file under ``mappings/<department>/`` each.

A dataset's id is ``<department>/<file stem>``, e.g. ``market-regulation/enterprise-register``.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from kg_service.errors import DatasetNotFoundError
from kg_service.lift.loader import RML_SUFFIXES, YARRRML_SUFFIXES, is_mapping_file


@dataclass(frozen=True)
class Dataset:
    department: str
    name: str
    mapping_path: Path

    @property
    def id(self) -> str:
        return f"{self.department}/{self.name}"


def _stem(path: Path) -> str:
    for suffix in (*RML_SUFFIXES, *YARRRML_SUFFIXES):
        if path.name.endswith(suffix):
            return path.name[: -len(suffix)]
    return path.stem


def find_datasets(mappings_dir: Path, selectors: list[str] | None = None) -> list[Dataset]:
    """All datasets, or those matching the selectors (a department name or a dataset id)."""
    if not mappings_dir.is_dir():
        raise DatasetNotFoundError("the mappings directory does not exist", where=str(mappings_dir),
                                   hint="set CITYKG_MAPPINGS_DIR")
    found = [Dataset(department=path.parent.name, name=_stem(path), mapping_path=path)
             for path in sorted(mappings_dir.glob("*/*")) if path.is_file() and is_mapping_file(path)]
    if not selectors:
        return found
    chosen: list[Dataset] = []
    for selector in selectors:
        matches = [d for d in found if selector in (d.id, d.department)]
        if not matches:
            known = ", ".join(sorted({d.department for d in found} | {d.id for d in found})) or "none"
            raise DatasetNotFoundError(f"no department or dataset named '{selector}'", where=str(mappings_dir),
                                       hint=f"known: {known}")
        chosen.extend(d for d in matches if d not in chosen)
    return chosen
