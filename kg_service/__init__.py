"""CityKG: a knowledge-graph city ontology and reasoning service for digital-twin cities.

Departmental data is lifted by mappings into one shared graph described by an OWL ontology,
guarded by SHACL, enriched by reasoning, and queried through GraphQL. The stages are wired
together in :mod:`kg_service.pipeline`; everything else is one stage or one concern.
"""

from __future__ import annotations

from kg_service.config import Settings, load_settings
from kg_service.errors import CityKGError

__all__ = ["CityKGError", "Settings", "load_settings"]
__version__ = "0.1.0"
