"""The ontology: loading its modules and shapes offline; checking, diff and editing come later."""

from __future__ import annotations

from kg_service.ontology.loader import ONTOLOGY_IRI, content_hash, load_ontology, load_shapes, ontology_version

__all__ = ["ONTOLOGY_IRI", "content_hash", "load_ontology", "load_shapes", "ontology_version"]
