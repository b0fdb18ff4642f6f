"""Reasoning: OWL 2 RL over ontology + data (``reasonable``); HermiT and rules come later."""

from __future__ import annotations

from kg_service.reason.abox import infer

__all__ = ["infer"]
