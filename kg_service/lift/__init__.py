"""Lift: the RML engine that turns department source files into RDF.

It reads RML (RML-Core and the legacy ``rr:``/``ql:`` vocabulary), R2RML and YARRRML (translated to
RML by ``yatter``); sources are CSV, JSON (RFC 9535 JSONPath), XML, Excel, and SQL tables and queries
of SQLite files and PostgreSQL servers (``databases``); it yields each source record with the
statements made from it, so a bad record is quarantined and never stops the others.
"""

from __future__ import annotations

from kg_service.lift.catalog import Dataset, find_datasets
from kg_service.lift.engine import LiftedRecord, lift
from kg_service.lift.loader import load_mapping

__all__ = ["Dataset", "LiftedRecord", "find_datasets", "lift", "load_mapping"]
