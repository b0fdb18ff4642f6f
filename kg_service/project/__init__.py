"""The projection stage: the RDF graph as a Neo4j property graph (rules in ``rules.py``, kept in sync
by ``neo4j_sync.py``)."""

from __future__ import annotations

from kg_service.project.neo4j_sync import Neo4jProjection, StatusReport, SyncReport, read_projection, status, sync
from kg_service.project.rules import Projection

__all__ = ["Neo4jProjection", "Projection", "StatusReport", "SyncReport", "read_projection", "status", "sync"]
