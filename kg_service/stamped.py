"""Files a job keeps beside the store (the row memo, the last job's digests), each holding one
value that counts only under the stamp it was written with: whatever cannot be read, or was written
under another stamp, is as if it were not there."""

from __future__ import annotations

import os
import pickle
from pathlib import Path
from typing import Any

from kg_service.heap import collector_paused


def load_stamped(path: Path, stamp: str) -> Any | None:
    """The value kept in ``path`` under ``stamp``; None when there is none."""
    try:
        # a container per row, each collection on the way freeing nothing: 0.26 s instead of 0.08 s
        # for a 60k-row memo
        with path.open("rb") as handle, collector_paused():
            kept_stamp, value = pickle.load(handle)
    except (OSError, pickle.UnpicklingError, EOFError, ValueError, TypeError):
        return None
    return value if kept_stamp == stamp else None


def save_stamped(path: Path, stamp: str, value: Any) -> None:
    """Keep ``value`` under ``stamp``: written beside, then moved over the old file (whole or not at all)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    temporary = path.with_name(f".{path.name}.{os.getpid()}.writing")  # two processes never share one
    with temporary.open("wb") as handle:
        pickle.dump((stamp, value), handle, protocol=pickle.HIGHEST_PROTOCOL)
    temporary.replace(path)
