"""The validation gate: SHACL over staged entities, and the quarantine of what it refuses."""

from __future__ import annotations

from kg_service.validate.gate import Finding, Gate, GateReport, staging_graph, validate
from kg_service.validate.quarantine import quarantine_triples

__all__ = ["Finding", "Gate", "GateReport", "quarantine_triples", "staging_graph", "validate"]
