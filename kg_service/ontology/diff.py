"""The semantic diff of two ontology versions: which terms were added, removed or changed, and how.

Two versions are compared as graphs, not as text: reordering, reformatting or moving a term to
another module is no change. A blank-node structure (a restriction, a union, a list of disjoint
classes) has no identity of its own, so each is rendered to a canonical Manchester-like text and
compared by that text, under the named term that refers to it. A blank node nothing refers to (an
``owl:AllDisjointClasses`` axiom) is a general axiom of the ontology.

A version is a folder holding ``city.ttl``, one Turtle file, or a git revision of the project.
"""

from __future__ import annotations

import io
import json
import re
import subprocess
import tarfile
import tempfile
from collections import defaultdict
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from rdflib import OWL, RDF, RDFS, BNode, Graph, Literal, URIRef
from rdflib.namespace import DCTERMS, SKOS, XSD
from rdflib.term import Node

from kg_service.errors import OntologyError
from kg_service.namespaces import PREFIXES
from kg_service.ontology.loader import ENTRY_FILE, load_ontology

ONTOLOGY_FOLDER = "ontology"
GIT_TIMEOUT_S = 60

# Kinds in report order; a term takes the first kind one of its types names.
_PROPERTY_CHARACTERISTICS = {OWL.TransitiveProperty, OWL.SymmetricProperty, OWL.AsymmetricProperty,
                             OWL.ReflexiveProperty, OWL.IrreflexiveProperty, OWL.InverseFunctionalProperty}
_KINDS: tuple[tuple[str, frozenset[Node]], ...] = (
    ("classes", frozenset({OWL.Class, RDFS.Class})),
    ("object properties", frozenset({OWL.ObjectProperty, *_PROPERTY_CHARACTERISTICS})),
    ("datatype properties", frozenset({OWL.DatatypeProperty})),
    ("annotation properties", frozenset({OWL.AnnotationProperty})),
    ("other properties", frozenset({RDF.Property, OWL.FunctionalProperty})),
    ("individuals", frozenset({OWL.NamedIndividual})),
)
INDIVIDUALS, OTHER_TERMS = "individuals", "other terms"
KIND_ORDER = (*(kind for kind, _ in _KINDS), OTHER_TERMS)
_VOCABULARY_NAMESPACES = (str(RDF), str(RDFS), str(OWL), str(XSD))

# Free text compared per language; everything else a term states is an axiom.
TEXT_PROPERTIES = frozenset({RDFS.label, RDFS.comment, SKOS.prefLabel, SKOS.altLabel, SKOS.definition,
                             SKOS.scopeNote, SKOS.example, SKOS.note, SKOS.editorialNote, OWL.versionInfo,
                             DCTERMS.title, DCTERMS.description})

# Lists whose order carries no meaning: reordering their members is no change.
_SET_LISTS = frozenset({OWL.unionOf, OWL.intersectionOf, OWL.oneOf, OWL.members, OWL.distinctMembers,
                        OWL.disjointUnionOf, OWL.hasKey})
_QUANTIFIERS = {OWL.someValuesFrom: "some", OWL.allValuesFrom: "only", OWL.hasValue: "value"}
_CARDINALITIES = {OWL.minCardinality: "min", OWL.maxCardinality: "max", OWL.cardinality: "exactly"}
_QUALIFIED = {OWL.minQualifiedCardinality: "min", OWL.maxQualifiedCardinality: "max",
              OWL.qualifiedCardinality: "exactly"}
_CONNECTIVES = {OWL.unionOf: " or ", OWL.intersectionOf: " and "}
_GROUP_AXIOMS: dict[Node | None, str] = {OWL.AllDisjointClasses: "DisjointClasses",
                                         OWL.AllDifferent: "DifferentIndividuals",
                                         OWL.AllDisjointProperties: "DisjointProperties"}
_BARE_DATATYPES = {XSD.integer, XSD.boolean}  # their lexical forms cannot be mistaken for each other
_LOCAL_NAME = re.compile(r"^\w([\w.-]*[\w-])?$")


class Renderer:
    """Renders nodes as prefixed names and blank-node structures as canonical Manchester-like text.

    Both versions of a diff share one prefix table, so equal structures render to equal text.
    """

    def __init__(self, graph: Graph, prefixes: dict[str, str]) -> None:
        self.graph = graph
        self._namespaces = sorted(((ns, prefix) for prefix, ns in prefixes.items()), key=lambda p: -len(p[0]))

    def name(self, iri: URIRef) -> str:
        for namespace, prefix in self._namespaces:
            if iri.startswith(namespace) and _LOCAL_NAME.match(iri[len(namespace):]):
                return f"{prefix}:{iri[len(namespace):]}"
        return f"<{iri}>"

    def node(self, node: Node, *, unordered: bool = False) -> str:
        return self._node(node, unordered, ())

    def literal(self, literal: Literal) -> str:
        if literal.datatype in _BARE_DATATYPES:
            return str(literal)
        text = json.dumps(str(literal), ensure_ascii=False)
        if literal.language:
            return f"{text}@{literal.language}"
        if literal.datatype is not None and literal.datatype != XSD.string:
            return f"{text}^^{self.name(literal.datatype)}"
        return text

    def _node(self, node: Node, unordered: bool, path: tuple[BNode, ...]) -> str:
        if isinstance(node, URIRef):
            return self.name(node)
        if isinstance(node, Literal):
            return self.literal(node)
        if not isinstance(node, BNode):
            return str(node)
        if node in path:
            return "[cycle]"  # only malformed graphs have one; the text still terminates
        path = (*path, node)
        items = self._list(node)
        if items is not None:
            rendered = [self._node(item, False, path) for item in items]
            return "( " + " ".join(sorted(rendered) if unordered else rendered) + " )" if rendered else "()"
        pairs = [(p, o) for p, o in self.graph.predicate_objects(node) if isinstance(p, URIRef)]
        return self._expression(pairs, path) or self._generic(pairs, path)

    def _list(self, node: BNode) -> list[Node] | None:
        """The members of a well-formed RDF list starting at ``node``, else None."""
        items: list[Node] = []
        seen: set[Node] = set()
        current: Node = node
        while current != RDF.nil:
            if not isinstance(current, BNode) or current in seen:
                return None
            seen.add(current)
            pairs = {(p, o) for p, o in self.graph.predicate_objects(current) if (p, o) != (RDF.type, RDF.List)}
            first = [o for p, o in pairs if p == RDF.first]
            rest = [o for p, o in pairs if p == RDF.rest]
            if len(first) != 1 or len(rest) != 1 or len(pairs) != 2:
                return None
            items.append(first[0])
            current = rest[0]
        return items

    def _expression(self, pairs: list[tuple[URIRef, Node]], path: tuple[BNode, ...]) -> str | None:
        """The Manchester-like text of a restriction, class expression or group axiom, if it is one."""
        types = {o for p, o in pairs if p == RDF.type}
        rest = {p: o for p, o in pairs if p != RDF.type}
        if len(rest) != len([p for p, _ in pairs if p != RDF.type]) or len(types) > 1:
            return None  # a predicate given twice: no single expression, render it as it stands

        def sub(node: Node) -> str:
            return self._node(node, False, path)

        def count(node: Node) -> str:
            # OWL reads cardinalities as numbers whatever their datatype: "1"^^xsd:nonNegativeInteger is 1.
            return str(node) if isinstance(node, Literal) else sub(node)

        def members(node: Node) -> list[str] | None:
            items = self._list(node) if isinstance(node, BNode) else None
            return None if items is None else sorted(sub(item) for item in items)

        kind = next(iter(types), None)
        if kind == OWL.Restriction and OWL.onProperty in rest:
            on = sub(rest.pop(OWL.onProperty))
            filler = rest.pop(OWL.onClass, None) or rest.pop(OWL.onDataRange, None)
            if len(rest) != 1:
                return None
            ((predicate, value),) = rest.items()
            if filler is None and predicate in _QUANTIFIERS:
                return f"({on} {_QUANTIFIERS[predicate]} {sub(value)})"
            if filler is None and predicate in _CARDINALITIES:
                return f"({on} {_CARDINALITIES[predicate]} {count(value)})"
            if filler is not None and predicate in _QUALIFIED:
                return f"({on} {_QUALIFIED[predicate]} {count(value)} {sub(filler)})"
            if filler is None and predicate == OWL.hasSelf:
                return f"({on} Self)"
            return None
        if kind in _GROUP_AXIOMS and len(rest) == 1:
            ((predicate, value),) = rest.items()
            listed = members(value) if predicate in (OWL.members, OWL.distinctMembers) else None
            return None if listed is None else f"{_GROUP_AXIOMS[kind]}({', '.join(listed)})"
        if kind in (None, OWL.Class, RDFS.Datatype) and len(rest) == 1:
            ((predicate, value),) = rest.items()
            if predicate in _CONNECTIVES and (listed := members(value)) is not None:
                return "(" + _CONNECTIVES[predicate].join(listed) + ")"
            if predicate == OWL.oneOf and (listed := members(value)) is not None:
                return "{" + ", ".join(listed) + "}"
            if predicate == OWL.complementOf:
                return f"(not {sub(value)})"
        if kind is None and len(rest) == 1 and OWL.inverseOf in rest:
            return f"(inverse {sub(rest[OWL.inverseOf])})"
        return None

    def _generic(self, pairs: list[tuple[URIRef, Node]], path: tuple[BNode, ...]) -> str:
        rendered = sorted(f"{'a' if p == RDF.type else self.name(p)} {self._node(o, p in _SET_LISTS, path)}"
                          for p, o in pairs)
        return "[ " + " ; ".join(rendered) + " ]" if rendered else "[]"


def prefix_table(*graphs: Graph) -> dict[str, str]:
    """The project's prefixes, then those the graphs bind, each prefix and namespace used once."""
    table = dict(PREFIXES)
    table.setdefault("dcterms", str(DCTERMS))
    for graph in graphs:
        for prefix, namespace in sorted(graph.namespaces()):
            if prefix and prefix not in table and str(namespace) not in table.values():
                table[prefix] = str(namespace)
    return table


@dataclass(frozen=True, order=True)
class Axiom:
    """One statement a term makes, its object rendered: ``rdfs:subClassOf city:Agent``."""

    property: str
    value: str

    def __str__(self) -> str:
        return f"{self.property} {self.value}"


@dataclass(frozen=True, order=True)
class TextChange:
    """The values of one text property in one language ("" for none), before and after."""

    property: str
    language: str
    old: tuple[str, ...]
    new: tuple[str, ...]

    def __str__(self) -> str:
        def values(texts: tuple[str, ...]) -> str:
            return " | ".join(json.dumps(text, ensure_ascii=False) for text in texts) or "(none)"

        where = f"{self.property}@{self.language}" if self.language else self.property
        return f"{where}: {values(self.old)} -> {values(self.new)}"


@dataclass(frozen=True)
class TermChange:
    """A named term added, removed or changed; an added term has all it states as added."""

    iri: str
    name: str
    kind: str
    texts: tuple[TextChange, ...] = ()
    axioms_added: tuple[Axiom, ...] = ()
    axioms_removed: tuple[Axiom, ...] = ()

    def text(self, property: str, language: str = "") -> TextChange | None:
        return next((t for t in self.texts if t.property == property and t.language == language), None)

    def to_json(self) -> dict[str, Any]:
        return {
            "iri": self.iri,
            "name": self.name,
            "kind": self.kind,
            "texts": [{"property": t.property, "language": t.language, "old": list(t.old), "new": list(t.new)}
                      for t in self.texts],
            "axioms_added": [str(a) for a in self.axioms_added],
            "axioms_removed": [str(a) for a in self.axioms_removed],
        }

    def detail_lines(self) -> list[str]:
        return ([str(t) for t in self.texts] + [f"+ {a}" for a in self.axioms_added]
                + [f"- {a}" for a in self.axioms_removed])


@dataclass(frozen=True)
class OntologyDiff:
    """What changed from one ontology version to another; terms are sorted by kind, then IRI."""

    added: tuple[TermChange, ...] = ()
    removed: tuple[TermChange, ...] = ()
    changed: tuple[TermChange, ...] = ()
    headers: tuple[TermChange, ...] = field(default=())  # owl:Ontology headers: version, imports, labels
    axioms_added: tuple[str, ...] = ()  # general axioms, about no single named term
    axioms_removed: tuple[str, ...] = ()

    @property
    def is_empty(self) -> bool:
        return not (self.added or self.removed or self.changed or self.headers or self.axioms_added
                    or self.axioms_removed)

    def term(self, iri: str) -> TermChange | None:
        """The change to one term, wherever it is reported."""
        return next((t for t in (*self.added, *self.removed, *self.changed) if t.iri == iri), None)

    def to_json(self) -> dict[str, Any]:
        def by_kind(terms: tuple[TermChange, ...]) -> dict[str, list[dict[str, Any]]]:
            return {kind: [t.to_json() for t in group] for kind, group in _grouped(terms)}

        return {
            "empty": self.is_empty,
            "headers": [h.to_json() for h in self.headers],
            "added": by_kind(self.added),
            "removed": by_kind(self.removed),
            "changed": by_kind(self.changed),
            "axioms_added": list(self.axioms_added),
            "axioms_removed": list(self.axioms_removed),
        }

    def lines(self) -> list[str]:
        """A summary for people: a count line, then headers, each kind and the general axioms; none
        when nothing changed, so the caller words that case."""
        if self.is_empty:
            return []
        lines = [f"terms: {len(self.added)} added, {len(self.removed)} removed, {len(self.changed)} changed; "
                 f"general axioms: {len(self.axioms_added)} added, {len(self.axioms_removed)} removed"]
        for header in self.headers:
            lines.append(f"ontology {header.name}")
            lines += [f"    {line}" for line in header.detail_lines()]
        changes = [("+", t) for t in self.added] + [("-", t) for t in self.removed] + [("~", t) for t in self.changed]
        for kind in KIND_ORDER:
            of_kind = [(mark, t) for mark, t in changes if t.kind == kind]
            if of_kind:
                lines.append(kind)
            for mark, term in of_kind:
                lines.append(f"  {mark} {term.name}{_label_suffix(term) if mark != '~' else ''}")
                if mark == "~":
                    lines += [f"      {line}" for line in term.detail_lines()]
        if self.axioms_added or self.axioms_removed:
            lines.append("general axioms")
            lines += [f"  + {a}" for a in self.axioms_added] + [f"  - {a}" for a in self.axioms_removed]
        return lines


def _label_suffix(term: TermChange) -> str:
    labels = [change.new or change.old for language in ("zh", "en", "")
              if (change := term.text("rdfs:label", language)) is not None]
    return "  " + " / ".join(value for texts in labels for value in texts) if labels else ""


def _grouped(terms: Iterable[TermChange]) -> Iterator[tuple[str, tuple[TermChange, ...]]]:
    for kind in KIND_ORDER:
        group = tuple(t for t in terms if t.kind == kind)
        if group:
            yield kind, group


@dataclass
class _Description:
    """What one version states about a named term, rendered so two versions compare as text."""

    kind: str = OTHER_TERMS
    texts: dict[tuple[str, str], set[str]] = field(default_factory=lambda: defaultdict(set))
    axioms: set[Axiom] = field(default_factory=set)


@dataclass
class _Version:
    terms: dict[URIRef, _Description]
    headers: dict[URIRef, _Description]
    general_axioms: set[str]


def _kind(types: set[Node]) -> str:
    for kind, markers in _KINDS:
        if types & markers:
            return kind
    if any(isinstance(t, URIRef) and not str(t).startswith(_VOCABULARY_NAMESPACES) for t in types):
        return INDIVIDUALS
    return OTHER_TERMS


def _describe(graph: Graph, renderer: Renderer) -> _Version:
    headers = {s for s in graph.subjects(RDF.type, OWL.Ontology) if isinstance(s, URIRef)}
    terms: dict[URIRef, _Description] = defaultdict(_Description)
    for subject, predicate, value in graph:
        if not isinstance(subject, URIRef) or not isinstance(predicate, URIRef):
            continue
        description = terms[subject]
        if predicate in TEXT_PROPERTIES and isinstance(value, Literal):
            description.texts[(renderer.name(predicate), value.language or "")].add(str(value))
        else:
            unordered = predicate in _SET_LISTS
            description.axioms.add(Axiom(renderer.name(predicate), renderer.node(value, unordered=unordered)))
    for subject, description in terms.items():
        description.kind = _kind(set(graph.objects(subject, RDF.type)))
    general = {renderer.node(b) for b in set(graph.subjects()) if isinstance(b, BNode) and (None, None, b) not in graph}
    return _Version({s: d for s, d in terms.items() if s not in headers},
                    {s: terms[s] for s in headers}, general)


def _compare(iri: URIRef, name: str, kind: str, old: _Description, new: _Description) -> TermChange:
    languages = sorted(old.texts.keys() | new.texts.keys())
    texts = tuple(TextChange(p, lang, tuple(sorted(old.texts.get((p, lang), ()))),
                             tuple(sorted(new.texts.get((p, lang), ()))))
                  for p, lang in languages if old.texts.get((p, lang), set()) != new.texts.get((p, lang), set()))
    return TermChange(str(iri), name, kind, texts, tuple(sorted(new.axioms - old.axioms)),
                      tuple(sorted(old.axioms - new.axioms)))


def _sort_key(change: TermChange) -> tuple[int, str]:
    return KIND_ORDER.index(change.kind), change.iri


def semantic_diff(old: Graph, new: Graph) -> OntologyDiff:
    """What changed from ``old`` to ``new``, comparing blank-node structures by their content."""
    prefixes = prefix_table(new, old)
    old_renderer, new_renderer = Renderer(old, prefixes), Renderer(new, prefixes)
    before, after = _describe(old, old_renderer), _describe(new, new_renderer)
    empty = _Description()
    added, removed, changed = [], [], []
    for iri in before.terms.keys() | after.terms.keys():
        was, now = before.terms.get(iri), after.terms.get(iri)
        name = new_renderer.name(iri)
        if was is None and now is not None:
            added.append(_compare(iri, name, now.kind, empty, now))
        elif now is None and was is not None:
            removed.append(_compare(iri, name, was.kind, was, empty))
        elif was is not None and now is not None and (was.texts != now.texts or was.axioms != now.axioms):
            # A term that lost its declaration is still reported under the kind it had.
            kind = was.kind if now.kind == OTHER_TERMS else now.kind
            changed.append(_compare(iri, name, kind, was, now))
    headers = []
    for iri in sorted(before.headers.keys() | after.headers.keys()):
        was, now = before.headers.get(iri, empty), after.headers.get(iri, empty)
        if was.texts != now.texts or was.axioms != now.axioms:
            headers.append(_compare(iri, new_renderer.name(iri), "ontology", was, now))
    return OntologyDiff(tuple(sorted(added, key=_sort_key)), tuple(sorted(removed, key=_sort_key)),
                        tuple(sorted(changed, key=_sort_key)), tuple(headers),
                        tuple(sorted(after.general_axioms - before.general_axioms)),
                        tuple(sorted(before.general_axioms - after.general_axioms)))


# ---- versions -------------------------------------------------------------------------------------

def _git(project_root: Path, *args: str) -> subprocess.CompletedProcess[bytes]:
    try:
        return subprocess.run(["git", "-C", str(project_root), *args], capture_output=True, check=False,
                              timeout=GIT_TIMEOUT_S)
    except (OSError, subprocess.TimeoutExpired) as error:
        raise OntologyError(f"cannot run git: {error}", where=str(project_root),
                            hint="install git, or give a folder or Turtle file instead of a revision") from error


def _is_revision(spec: str, project_root: Path) -> bool:
    # A leading '-' would be read as an option by git.
    return not spec.startswith("-") and _git(project_root, "rev-parse", "--verify", "--quiet",
                                             f"{spec}^{{commit}}").returncode == 0


def _load_revision(spec: str, project_root: Path) -> Graph:
    # "<rev>:./ontology" names the folder relative to project_root, which need not be the repository's top.
    archived = _git(project_root, "archive", "--format=tar", f"{spec}:./{ONTOLOGY_FOLDER}")
    if archived.returncode != 0:
        raise OntologyError(f"cannot export {ONTOLOGY_FOLDER}/ at revision {spec!r}: "
                            f"{archived.stderr.decode(errors='replace').strip()}", where=str(project_root),
                            hint=f"check that the revision has an {ONTOLOGY_FOLDER}/ folder")
    with tempfile.TemporaryDirectory(prefix="citykg-ontology-") as workdir:
        with tarfile.open(fileobj=io.BytesIO(archived.stdout)) as archive:
            archive.extractall(workdir, filter="data")
        try:
            return load_ontology(Path(workdir))
        except OntologyError as error:
            raise OntologyError(f"at revision {spec!r}: {error.problem}", where=error.where,
                                hint=error.hint) from error


def _existing_path(spec: str, project_root: Path) -> Path | None:
    for candidate in (Path(spec), project_root / spec):
        if candidate.exists():
            return candidate
    return None


def load_version(spec: str, project_root: Path) -> Graph:
    """One version of the ontology: a folder holding ``city.ttl`` (with its imports), a single Turtle
    file, or a git revision of ``project_root`` (its ``ontology/`` folder at that revision).

    A relative path is looked up from the working directory, then from ``project_root``.
    """
    if not spec.strip():
        raise OntologyError("no ontology version given", hint="give a folder, a .ttl file or a git revision")
    path = _existing_path(spec, project_root)
    if path is not None and path.is_dir():
        if not (path / ENTRY_FILE).is_file():
            raise OntologyError(f"the folder holds no {ENTRY_FILE}", where=str(path),
                                hint=f"give the folder holding {ENTRY_FILE}, such as {ONTOLOGY_FOLDER}/")
        return load_ontology(path)
    if path is not None and path.suffix == ".ttl":
        try:
            return Graph().parse(path, format="turtle")
        except Exception as error:  # rdflib raises several unrelated types for bad Turtle
            raise OntologyError(f"not valid Turtle: {error}", where=str(path)) from error
    if path is None and _is_revision(spec, project_root):
        return _load_revision(spec, project_root)
    raise OntologyError(f"{spec!r} is neither an ontology folder, a Turtle file nor a git revision",
                        where=str(project_root),
                        hint=f"give a folder holding {ENTRY_FILE}, a .ttl file, or a revision such as HEAD~1 or a tag")
