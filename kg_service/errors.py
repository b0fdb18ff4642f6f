"""One exception hierarchy for the whole service.

Every error says what went wrong, where (file, line, record, graph) and what to do about it, so
the command line can print it as one line without a traceback.
"""

from __future__ import annotations


class CityKGError(Exception):
    """Base of every error CityKG raises on purpose.

    ``where`` names the file (with ``:line``), record, graph or setting at fault; ``hint`` says
    what the user can do. ``str(error)`` is the one line the command line prints.
    """

    def __init__(self, problem: str, *, where: str | None = None, hint: str | None = None) -> None:
        super().__init__(problem)
        self.problem = problem
        self.where = where
        self.hint = hint

    def __str__(self) -> str:
        text = f"{self.where}: {self.problem}" if self.where else self.problem
        return f"{text} ({self.hint})" if self.hint else text


class ConfigError(CityKGError):
    """A setting is missing, malformed or points at something unusable."""


class DataDirError(ConfigError):
    """The data directory cannot be created or written."""


class UnknownBackendError(ConfigError):
    """The configured store backend is not registered."""


class StoreError(CityKGError):
    """The graph store failed to open, read or write."""


class StoreLockedError(StoreError):
    """Another process holds the on-disk store open for writing."""


class QuerySyntaxError(CityKGError):
    """A SPARQL or GraphQL request could not be parsed."""


class MappingError(CityKGError):
    """A mapping file is malformed: names the file, the triples map and the term."""


class SourceError(CityKGError):
    """A source file is missing, unreadable or not in the declared format."""


class DatasetNotFoundError(CityKGError):
    """No mapping under the mappings directory defines the requested dataset."""


class OntologyError(CityKGError):
    """The ontology, its shapes or its rules cannot be loaded, or the ontology is inconsistent."""


class ReasoningError(CityKGError):
    """Reasoning cannot finish: the rules (with OWL 2 RL) keep deriving new triples without end."""


class NotBuiltError(CityKGError):
    """A command whose capability does not exist yet; it says what is missing instead of pretending."""


class RecordError(CityKGError):
    """One source record cannot be lifted (bad value, unusable IRI); the others go on."""
