"""The validation gate: SHACL over staged entities, and the quarantine of what it refuses."""

from __future__ import annotations

from kg_service.validate.gate import Finding, GateReport, validate
from kg_service.validate.quarantine import quarantine_triples

__all__ = ["Finding", "GateReport", "quarantine_triples", "validate"]
