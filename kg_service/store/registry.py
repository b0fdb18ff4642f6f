"""Store backends by name.

A backend is a class with ``open(settings) -> GraphStore``. Built-in backends are named here by
import path so that choosing one never imports another's driver; other packages may add theirs
with :func:`register_backend`.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable
from typing import TYPE_CHECKING

from kg_service.errors import UnknownBackendError

if TYPE_CHECKING:
    from kg_service.config import Settings
    from kg_service.store.base import GraphStore

StoreOpener = Callable[["Settings"], "GraphStore"]

_BUILT_IN: dict[str, str] = {
    "oxigraph": "kg_service.store.oxigraph:OxigraphStore",
    "neo4j": "kg_service.store.neo4j:Neo4jStore",
}
_registered: dict[str, StoreOpener] = {}


def register_backend(name: str, opener: StoreOpener) -> None:
    """Make a backend available under ``name`` (the value of ``CITYKG_STORE``)."""
    _registered[name] = opener


def backend_names() -> list[str]:
    return sorted({*_BUILT_IN, *_registered})


def _opener(name: str) -> StoreOpener:
    if name in _registered:
        return _registered[name]
    if name not in _BUILT_IN:
        raise UnknownBackendError(
            f"unknown store backend '{name}'", where="store setting (CITYKG_STORE or --store)",
            hint=f"known backends: {', '.join(backend_names())}",
        )
    module_name, class_name = _BUILT_IN[name].split(":")
    opener: StoreOpener = getattr(importlib.import_module(module_name), class_name).open
    _registered[name] = opener
    return opener


def open_store(settings: Settings) -> GraphStore:
    """Open the configured backend; the caller closes it (it is a context manager)."""
    return _opener(settings.store)(settings)
