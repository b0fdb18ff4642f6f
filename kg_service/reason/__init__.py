"""Reasoning: OWL 2 RL over ontology + data (``reasonable``) and HermiT over the ontology itself (cached by
the ontology's content hash)."""

from __future__ import annotations

from kg_service.reason.abox import closure, infer
from kg_service.reason.consistency import inconsistencies
from kg_service.reason.tbox import TBoxReport, check_ontology, checked_ontology

__all__ = ["TBoxReport", "check_ontology", "checked_ontology", "closure", "inconsistencies", "infer"]
