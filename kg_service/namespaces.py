"""The ontology's namespaces and the named-graph IRIs, in one place.

Named graphs live under the configured base IRI (see ``Settings.base_iri``):
``graph/ontology``, ``graph/source/<dept>/<dataset>``, ``graph/quarantine/<dept>/<dataset>``,
``graph/inferred``, ``graph/candidates`` (proposed near-matches for a person to confirm),
``graph/spatial`` (relations computed from geometries), ``graph/provenance`` and
``graph/digest/<dept>/<dataset>`` (what each entity's last job lifted, to find what changed).
``graph/staging/<token>`` holds a graph while it is being loaded, before it atomically replaces
its target.
"""

from __future__ import annotations

from dataclasses import dataclass

from rdflib import Namespace

CITY = Namespace("https://w3id.org/citykg/ontology#")
GEO = Namespace("http://www.opengis.net/ont/geosparql#")
PROV = Namespace("http://www.w3.org/ns/prov#")

PREFIXES: dict[str, str] = {
    "city": str(CITY),
    "geo": str(GEO),
    "prov": str(PROV),
    "rdf": "http://www.w3.org/1999/02/22-rdf-syntax-ns#",
    "rdfs": "http://www.w3.org/2000/01/rdf-schema#",
    "owl": "http://www.w3.org/2002/07/owl#",
    "xsd": "http://www.w3.org/2001/XMLSchema#",
    "skos": "http://www.w3.org/2004/02/skos/core#",
    "sh": "http://www.w3.org/ns/shacl#",
}


@dataclass(frozen=True)
class GraphNames:
    """Named-graph IRIs derived from one base IRI."""

    base: str

    def _graph(self, path: str) -> str:
        return f"{self.base}graph/{path}"

    @property
    def ontology(self) -> str:
        return self._graph("ontology")

    @property
    def inferred(self) -> str:
        return self._graph("inferred")

    @property
    def candidates(self) -> str:
        """Near-matches across departments (``skos:closeMatch`` with a score), recomputed by reasoning."""
        return self._graph("candidates")

    @property
    def spatial(self) -> str:
        """Relations computed from geometries (within, intersects, located in, nearest facility)."""
        return self._graph("spatial")

    @property
    def provenance(self) -> str:
        return self._graph("provenance")

    @property
    def staging_prefix(self) -> str:
        return self._graph("staging/")

    def source(self, dataset_id: str) -> str:
        """The graph holding a dataset's committed data; ``dataset_id`` is ``<dept>/<dataset>``."""
        return self._graph(f"source/{dataset_id}")

    def quarantine(self, dataset_id: str) -> str:
        """The graph holding a dataset's rejected records and the reasons they were rejected."""
        return self._graph(f"quarantine/{dataset_id}")

    def digests(self, dataset_id: str) -> str:
        """Per entity of a dataset, a digest of what its last job lifted: the next job compares."""
        return self._graph(f"digest/{dataset_id}")

    @property
    def source_prefix(self) -> str:
        return self._graph("source/")
