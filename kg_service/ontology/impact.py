"""What an ontology edit does to everything that depends on the ontology: the GraphQL schema
(breaking or not), the files that name the changed terms (mappings, shapes, rules, competency
questions) and the stored data that uses them."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path

from graphql import (
    GraphQLEnumType,
    GraphQLInputObjectType,
    GraphQLInterfaceType,
    GraphQLObjectType,
    GraphQLSchema,
    find_breaking_changes,
    find_dangerous_changes,
)
from rdflib import URIRef

from kg_service.config import Settings
from kg_service.namespaces import CITY
from kg_service.ontology.loader import load_shapes
from kg_service.ontology.modules import prefixed_name
from kg_service.store import GraphStore, select

# Where the files that use the ontology's terms live, and which of them to look at.
MENTIONING = {"shapes": "shapes", "rules": "rules", "competency questions": "queries", "examples": "examples"}
SOURCE_SUFFIXES = (".ttl", ".rq", ".yml", ".yaml", ".csv", ".nt", ".json")


@dataclass(frozen=True)
class Mention:
    path: Path
    line: int
    text: str
    term: str


@dataclass
class Impact:
    schema_breaking: list[str] = field(default_factory=list)
    schema_dangerous: list[str] = field(default_factory=list)
    schema_added: list[str] = field(default_factory=list)
    schema_described: list[str] = field(default_factory=list)  # descriptions and deprecations changed
    notes: list[str] = field(default_factory=list)  # what the editor may want to do next
    mentions: dict[str, list[Mention]] = field(default_factory=dict)  # kind of file -> where
    stored_statements: int = 0
    stored_entities: int = 0
    by_term: dict[str, tuple[int, int]] = field(default_factory=dict)  # term -> (statements, entities)
    store_checked: bool = False

    @property
    def breaking(self) -> bool:
        return bool(self.schema_breaking)

    def to_json(self) -> dict[str, object]:
        return {"graphql": {"breaking": self.schema_breaking, "dangerous": self.schema_dangerous,
                            "added": self.schema_added, "described": self.schema_described},
                "files": {kind: [{"path": str(m.path), "line": m.line, "term": m.term, "text": m.text}
                                 for m in mentions] for kind, mentions in self.mentions.items()},
                "notes": self.notes,
                "stored": ({"statements": self.stored_statements, "entities": self.stored_entities,
                            "by_term": {term: {"statements": s, "entities": e}
                                        for term, (s, e) in sorted(self.by_term.items())}}
                           if self.store_checked else None)}

    def lines(self) -> list[str]:
        lines = []
        for label, items in (("breaking GraphQL change", self.schema_breaking),
                             ("dangerous GraphQL change", self.schema_dangerous),
                             ("added to GraphQL", self.schema_added),
                             ("GraphQL description or deprecation changed", self.schema_described)):
            lines += [f"{label}: {item}" for item in items]
        if not (self.schema_breaking or self.schema_dangerous or self.schema_added or self.schema_described):
            lines.append("GraphQL schema: unchanged")
        for kind, mentions in self.mentions.items():
            by_file: dict[tuple[Path, str], list[int]] = {}
            for m in mentions:
                by_file.setdefault((m.path, m.term), []).append(m.line)
            lines += [f"{kind}: {path} names {term} on line{'s' if len(numbers) > 1 else ''} "
                      f"{', '.join(map(str, numbers[:8]))}{' …' if len(numbers) > 8 else ''}"
                      for (path, term), numbers in by_file.items()]
        lines += [f"note: {note}" for note in self.notes]
        if self.store_checked:
            lines.append(f"stored data: {self.stored_statements} statements about {self.stored_entities} "
                         "entities use the changed terms")
        else:
            lines.append("stored data: not checked (no store open)")
        return lines


def assess(settings: Settings, edited_dir: Path, touched: set[URIRef], renames: list[tuple[URIRef, URIRef]],
           store: GraphStore | None) -> Impact:
    """The impact of the ontology in ``edited_dir`` replacing the one in ``settings.ontology_dir``,
    for an edit that touched ``touched`` (old names of renamed terms included)."""
    impact = Impact()
    before, after = _graphql_schema(settings, settings.ontology_dir), _graphql_schema(settings, edited_dir)
    impact.schema_breaking = sorted(change.description for change in find_breaking_changes(before, after))
    impact.schema_dangerous = sorted(change.description for change in find_dangerous_changes(before, after))
    impact.schema_added = _additions(before, after)
    impact.schema_described = _descriptions(before, after)
    if not (impact.schema_breaking or impact.schema_dangerous or impact.schema_added or impact.schema_described):
        shapes = load_shapes(edited_dir)
        impact.notes = [f"{_short(term)} is in no data shape, so the GraphQL API does not show it: add a node or "
                        "property shape for it under shapes/ to serve it" for term in sorted(touched)
                        if (None, None, term) not in shapes]
    old_terms = sorted({str(term) for term in touched if term.startswith(str(CITY))}
                       | {str(old) for old, _ in renames})
    old_terms = [term for term in old_terms if term not in {str(new) for _, new in renames}]
    folders = {kind: settings.ontology_dir / folder for kind, folder in MENTIONING.items()}
    folders["mappings"] = settings.mappings_dir
    for kind, folder in folders.items():
        found = _mentions(folder, old_terms, code_lists=kind == "mappings")
        if found:
            impact.mentions[kind] = found
    if store is not None:
        _stored(settings, store, old_terms, impact)
    return impact


def _short(term: URIRef) -> str:
    return f"city:{term.removeprefix(str(CITY))}" if term.startswith(str(CITY)) else str(term)


def _graphql_schema(settings: Settings, ontology_dir: Path) -> GraphQLSchema:
    from kg_service.api.schema import schema_for

    return schema_for(settings.model_copy(update={"ontology_dir": ontology_dir}))._schema


def _additions(before: GraphQLSchema, after: GraphQLSchema) -> list[str]:
    added = []
    for name, kind in sorted(after.type_map.items()):
        if name.startswith("__"):
            continue
        old = before.type_map.get(name)
        if old is None:
            added.append(f"type {name}")
            continue
        if isinstance(kind, GraphQLObjectType | GraphQLInterfaceType | GraphQLInputObjectType) \
                and isinstance(old, GraphQLObjectType | GraphQLInterfaceType | GraphQLInputObjectType):
            added += [f"field {name}.{field_name}" for field_name in sorted(set(kind.fields) - set(old.fields))]
        if isinstance(kind, GraphQLEnumType) and isinstance(old, GraphQLEnumType):
            added += [f"enum value {name}.{value}" for value in sorted(set(kind.values) - set(old.values))]
    return added


def _descriptions(before: GraphQLSchema, after: GraphQLSchema) -> list[str]:
    """Types and fields in both schemas whose description or deprecation changed."""
    changed = []
    for name, kind in sorted(after.type_map.items()):
        old = before.type_map.get(name)
        if name.startswith("__") or old is None or type(old) is not type(kind):
            continue
        if getattr(kind, "description", None) != getattr(old, "description", None):
            changed.append(f"type {name}")
        if isinstance(kind, GraphQLObjectType | GraphQLInterfaceType) \
                and isinstance(old, GraphQLObjectType | GraphQLInterfaceType):
            for field_name in sorted(set(kind.fields) & set(old.fields)):
                new_field, old_field = kind.fields[field_name], old.fields[field_name]
                if new_field.deprecation_reason != old_field.deprecation_reason:
                    changed.append(f"field {name}.{field_name} deprecated: {new_field.deprecation_reason}"
                                   if new_field.deprecation_reason else f"field {name}.{field_name} undeprecated")
                elif new_field.description != old_field.description:
                    changed.append(f"field {name}.{field_name}")
    return changed


def _mentions(folder: Path, terms: list[str], code_lists: bool) -> list[Mention]:
    if not folder.is_dir() or not terms:
        return []
    full = {term: re.compile(rf"{re.escape(term)}(?![\w-])") for term in terms}
    prefixed = {term: prefixed_name(r"\w+", term.removeprefix(str(CITY))) for term in terms}
    cells = {term: code_list_cell(term.removeprefix(str(CITY))) for term in terms}
    found = []
    for path in sorted(folder.rglob("*")):
        if not path.is_file() or path.suffix not in SOURCE_SUFFIXES:
            continue
        for number, line in enumerate(path.read_text(encoding="utf-8", errors="replace").splitlines(), start=1):
            for term in terms:
                in_code_list = code_lists and path.suffix == ".csv" and cells[term].search(line)
                if full[term].search(line) or prefixed[term].search(line) or in_code_list:
                    found.append(Mention(path, number, line.strip()[:160], f"city:{term.removeprefix(str(CITY))}"))
    return found


def code_list_cell(local_name: str) -> re.Pattern[str]:
    """A CSV cell holding just a term's local name: code lists map a department's codes to the
    ontology's terms that way, for mappings that build the IRI from the namespace and the cell."""
    return re.compile(rf"(?<=^)(?:{re.escape(local_name)})(?=,|$)|(?<=,)(?:{re.escape(local_name)})(?=,|$)",
                      re.MULTILINE)


def _stored(settings: Settings, store: GraphStore, terms: list[str], impact: Impact) -> None:
    """Statements in the stored graphs (the ontology's own graph aside) that name each term, and the
    entities they are about."""
    ontology = URIRef(settings.graphs.ontology).n3()
    entities: set[str] = set()
    for term in terms:
        iri = URIRef(term).n3()
        rows = select(store, f"""SELECT ?s WHERE {{
            {{ GRAPH ?g {{ ?s ?p {iri} }} }} UNION {{ GRAPH ?g {{ ?s {iri} ?o }} }}
            UNION {{ GRAPH ?g {{ {iri} ?p ?o }} BIND({iri} AS ?s) }}
            FILTER(?g != {ontology}) }}""").rows
        subjects = {str(row[0]) for row in rows}
        impact.by_term[f"city:{term.removeprefix(str(CITY))}"] = (len(rows), len(subjects))
        impact.stored_statements += len(rows)
        entities |= subjects
    impact.stored_entities = len(entities)
    impact.store_checked = True
