"""The ontology: loading its modules and shapes offline (``loader``), checking (``checks``,
``competency``), editing (``edits`` on ``modules``, carried through by ``changes`` with the
``impact`` report), the semantic ``diff`` and the HTML ``docs``."""

from __future__ import annotations

from kg_service.ontology.loader import (
    ONTOLOGY_IRI,
    content_hash,
    load_ontology,
    load_shapes,
    load_vocabulary,
    ontology_version,
)

__all__ = ["ONTOLOGY_IRI", "content_hash", "load_ontology", "load_shapes", "load_vocabulary", "ontology_version"]
