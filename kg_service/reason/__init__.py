"""Reasoning: OWL 2 RL over ontology + data (forward chaining, or ``reasonable``), the ontology's rules
to a fixpoint, and HermiT over the ontology itself (cached by the ontology's content hash)."""

from __future__ import annotations

from kg_service.reason.abox import closure, infer
from kg_service.reason.consistency import inconsistencies
from kg_service.reason.entailment import entail, infer_with_rules
from kg_service.reason.rules import Rule, load_rules, run_rules
from kg_service.reason.tbox import TBoxReport, check_ontology, checked_ontology

__all__ = ["Rule", "TBoxReport", "check_ontology", "checked_ontology", "closure", "entail", "inconsistencies", "infer",
           "infer_with_rules", "load_rules", "run_rules"]
