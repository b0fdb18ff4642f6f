"""The ontology's Turtle modules as their authors wrote them, so that an edit changes only what it must.

A module is read as a sequence of pieces: text kept verbatim (prefixes, comments, blank lines) and
statements (one Turtle statement each, ending in ``.``), each with its own triples. Writing an edited
graph back keeps every statement whose triples did not change as it was written, rewrites in the
house layout only the statements that changed, and places new statements beside their kind (a new
term after the last term, a new axiom after the last axiom). A one-term edit is thus a small diff
that keeps the authors' comments and layout, which no serialiser of a whole graph can do.

Every write is checked: the new text must parse to exactly the edited graph, or nothing is written.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

from rdflib import OWL, RDF, RDFS, XSD, BNode, Graph, Literal, URIRef
from rdflib.compare import isomorphic
from rdflib.namespace import DCTERMS, SH, SKOS, NamespaceManager
from rdflib.term import Node

from kg_service.errors import OntologyError
from kg_service.namespaces import CITY, PREFIXES

Triple = tuple[Node, Node, Node]

# Prefixes a new statement may need that a module might not declare yet.
KNOWN_PREFIXES = {**PREFIXES, "dcterms": str(DCTERMS), "time": "http://www.w3.org/2006/time#"}

# The house layout: the declaration first, then labels and definition, what a term is about, and
# which module defines it last.
_FIRST: list[Node] = [RDF.type, SH.path, RDFS.label, SKOS.prefLabel, SKOS.altLabel, SKOS.definition, RDFS.comment]
_LAST: list[Node] = [SH.message, OWL.deprecated, DCTERMS.isReplacedBy, CITY.belongsToSubsystem, RDFS.isDefinedBy]
_DECLARATIONS: list[Node] = [OWL.Class, OWL.ObjectProperty, OWL.DatatypeProperty, OWL.AnnotationProperty,
                             OWL.NamedIndividual]
_LANGUAGES = ["zh", "en"]
_WRITTEN_WITHOUT_PREFIX = {RDF.type, RDF.first, RDF.rest, RDF.nil}  # 'a' and ( ... )
_AXIOM_PREDICATES = {RDFS.subClassOf, RDFS.subPropertyOf, RDFS.domain, RDFS.range, OWL.inverseOf,
                     OWL.equivalentClass, OWL.equivalentProperty, OWL.disjointWith, OWL.propertyChainAxiom}
_PREFIX_LINE = re.compile(r"^\s*(@prefix|@base|PREFIX|BASE)\b", re.IGNORECASE)
_TURTLE_NUMBER = {XSD.integer: re.compile(r"^[+-]?[0-9]+$"),
                  XSD.decimal: re.compile(r"^[+-]?[0-9]*\.[0-9]+$"),
                  XSD.boolean: re.compile(r"^(true|false)$")}


@dataclass
class Statement:
    """One statement of a module: its text as written and its triples."""

    text: str
    triples: set[Triple]

    @property
    def subject(self) -> Node | None:
        subjects = {s for s, _, _ in self.triples if not isinstance(s, BNode)}
        return next(iter(subjects)) if len(subjects) == 1 else None

    @property
    def is_term(self) -> bool:
        """A term's block: the statement that says which module defines it."""
        return any(p == RDFS.isDefinedBy for _, p, _ in self.triples)

    @property
    def is_axiom(self) -> bool:
        return not self.is_term and any(p in _AXIOM_PREDICATES for _, p, _ in self.triples)


Piece = str | Statement


@dataclass
class Module:
    """A Turtle module as pieces of verbatim text and statements."""

    path: Path
    pieces: list[Piece]
    prefixes: dict[str, str] = field(default_factory=dict)

    @classmethod
    def read(cls, path: Path) -> Module:
        text = path.read_text(encoding="utf-8")
        pieces: list[Piece] = []
        prefixes: dict[str, str] = {}
        prefix_text = ""
        pending: list[str] = []
        started = 0
        for number, line in enumerate(text.splitlines(keepends=True), start=1):
            if not pending and (not line.strip() or line.lstrip().startswith("#") or _PREFIX_LINE.match(line)):
                if _PREFIX_LINE.match(line):
                    prefix_text += line
                    declared = Graph(bind_namespaces="none").parse(data=prefix_text, format="turtle")
                    prefixes = {prefix: str(namespace) for prefix, namespace in declared.namespaces()}
                pieces.append(line)
                continue
            if not pending:
                started = number
            pending.append(line)
            if not line.rstrip().endswith("."):
                continue
            triples = _parsed(prefix_text + "".join(pending))
            if triples is not None:
                pieces.append(Statement("".join(pending), triples))
                pending = []
        if pending:
            raise OntologyError("a statement does not end with '.' or is not valid Turtle",
                                where=f"{path}:{started}", hint="fix the Turtle by hand first")
        return cls(path, pieces, prefixes)

    @property
    def statements(self) -> list[Statement]:
        return [piece for piece in self.pieces if isinstance(piece, Statement)]

    def graph(self) -> Graph:
        graph = Graph(bind_namespaces="none")
        for prefix, namespace in self.prefixes.items():
            graph.bind(prefix, namespace)
        for statement in self.statements:
            for triple in statement.triples:
                graph.add(triple)
        return graph

    def text(self) -> str:
        return "".join(piece if isinstance(piece, str) else piece.text for piece in self.pieces)

    def rewritten(self, edited: Graph) -> Module:
        """This module holding the edited graph's triples, changed only where the triples changed.

        The edited graph must keep the blank nodes of :meth:`graph` for the structures it leaves alone."""
        wanted = set(edited)
        added = wanted - {t for statement in self.statements for t in statement.triples}
        pieces: list[Piece] = []
        for piece in self.pieces:
            if isinstance(piece, str) or piece.triples <= wanted:
                pieces.append(piece)
                continue
            remaining = piece.triples & wanted
            replacing = _replacements(piece.triples - remaining, added)
            if replacing:
                patched = self._patched(piece, remaining | set(replacing.values()), replacing)
                if patched is not None:
                    added -= set(replacing.values())
                    pieces.append(patched)
                    continue
            if remaining:
                pieces.append(Statement(self._layout(remaining, one_line=piece.text.count("\n") <= 1), remaining))
            else:
                _drop_blank_line_before(pieces)
        module = Module(self.path, pieces, dict(self.prefixes))
        module._add(added)
        module._check(edited)
        return module

    def _patched(self, statement: Statement, triples: set[Triple], replacing: dict[Triple, Triple]) -> Statement | None:
        """The statement with each replaced value changed in its text as written, if that gives the
        wanted triples: a changed label or version is then a one-word diff."""
        manager = self._namespace_manager()
        graph = _graph_of(statement.triples)
        text = statement.text
        for old, new in replacing.items():
            before, after = _object(old[2], graph, manager), _object(new[2], graph, manager)
            if text.count(before) != 1:
                return None
            text = text.replace(before, after)
        parsed = _parsed(self._prefix_text() + text)
        if parsed is None or parsed != triples:
            return None
        return Statement(text, triples)

    def renamed(self, old: URIRef, new: URIRef) -> Module:
        """This module with every mention of ``old`` replaced by ``new``, statement by statement, in the
        text as written; a statement the text replacement cannot handle is laid out again."""
        pieces: list[Piece] = []
        for piece in self.pieces:
            if isinstance(piece, str) or not any(old in triple for triple in piece.triples):
                pieces.append(piece)
                continue
            triples = {_swap(triple, old, new) for triple in piece.triples}
            text = self._replace_name(piece.text, old, new)
            parsed = _parsed(self._prefix_text() + text)
            if parsed is None or not isomorphic(_graph_of(parsed), _graph_of(triples)):
                text = self._layout(triples, one_line=piece.text.count("\n") <= 1)
            pieces.append(Statement(text, triples))
        module = Module(self.path, pieces, dict(self.prefixes))
        expected = Graph(bind_namespaces="none")
        for triple in self.graph():
            expected.add(_swap(triple, old, new))
        module._check(expected)
        return module

    def write(self) -> None:
        temporary = self.path.with_name(f".{self.path.name}.editing")
        temporary.write_text(self.text(), encoding="utf-8")
        temporary.replace(self.path)

    # ---- placing new statements ------------------------------------------------------------------

    def _add(self, triples: set[Triple]) -> None:
        by_subject: dict[Node, set[Triple]] = {}
        for triple in triples:
            if isinstance(triple[0], BNode) and any(triple[0] == o for _, _, o in triples):
                continue  # a blank node's own statements travel inside the statement that refers to it
            by_subject.setdefault(triple[0], set()).add(triple)
        for subject, own in sorted(by_subject.items(), key=lambda item: str(item[0])):
            axioms = {t for t in own if t[1] in _AXIOM_PREDICATES}
            term_part = (own - axioms) | _reachable(own - axioms, triples)
            axiom_part = axioms | _reachable(axioms, triples)
            if term_part:
                self._add_term_part(subject, term_part)
            if axiom_part:
                self._add_axiom_part(subject, axiom_part)

    def _add_term_part(self, subject: Node, triples: set[Triple]) -> None:
        block = next((s for s in self.statements if s.is_term and s.subject == subject), None)
        if block is not None:
            self._replace(block, block.triples | triples)
        else:
            self._insert_after(lambda s: s.is_term, Statement(self._layout(triples, one_line=False), triples),
                               blank_line=True)

    def _add_axiom_part(self, subject: Node, triples: set[Triple]) -> None:
        line = next((s for s in self.statements if s.is_axiom and s.subject == subject
                     and s.text.count("\n") <= 1), None)
        if line is not None:
            self._replace(line, line.triples | triples)
            return
        kind = {p for _, p, _ in triples}
        self._insert_after(lambda s: s.is_axiom and bool(kind & {p for _, p, _ in s.triples}),
                           Statement(self._layout(triples, one_line=True), triples), blank_line=False)

    def _replace(self, statement: Statement, triples: set[Triple]) -> None:
        index = next(i for i, piece in enumerate(self.pieces) if piece is statement)
        self.pieces[index] = Statement(self._layout(triples, one_line=statement.text.count("\n") <= 1), triples)

    def _insert_after(self, like: object, statement: Statement, *, blank_line: bool) -> None:
        matches = [i for i, piece in enumerate(self.pieces) if isinstance(piece, Statement) and like(piece)]  # type: ignore[operator]
        if not matches:
            if self.pieces and self.pieces[-1] != "\n":
                self.pieces.append("\n")
            self.pieces.append(statement)
            return
        index = matches[-1] + 1
        self.pieces[index:index] = ["\n", statement] if blank_line else [statement]

    # ---- writing statements in the house layout --------------------------------------------------

    def _layout(self, triples: set[Triple], *, one_line: bool) -> str:
        graph = _graph_of(triples)
        manager = self._namespace_manager()
        referenced = {o for _, _, o in triples if isinstance(o, BNode)}
        subjects = sorted({s for s, _, _ in triples if s not in referenced}, key=str)
        texts = []
        for subject in subjects:
            name = "[]" if isinstance(subject, BNode) else _name(subject, manager)
            groups = _groups(subject, graph, manager)
            separator = " ; " if one_line else " ;\n    "
            texts.append(f"{name} {separator.join(groups)} .\n")
        self._declare_prefixes(self._used_namespaces(triples))
        return "".join(texts)

    def _namespace_manager(self) -> NamespaceManager:
        manager = NamespaceManager(Graph(bind_namespaces="none"), bind_namespaces="none")
        for prefix, namespace in {**KNOWN_PREFIXES, **self.prefixes}.items():
            manager.bind(prefix, namespace, override=True, replace=True)
        return manager

    def _used_namespaces(self, triples: Iterable[Triple] | None = None) -> set[str]:
        if triples is None:
            triples = (t for s in self.statements for t in s.triples)
        used = set()
        for triple in triples:
            for term in triple:
                if term in _WRITTEN_WITHOUT_PREFIX:
                    continue
                iri = term.datatype if isinstance(term, Literal) else term
                if isinstance(iri, URIRef):
                    used |= {prefix for prefix, namespace in KNOWN_PREFIXES.items()
                             if str(iri).startswith(namespace) and len(str(iri)) > len(namespace)}
        return used

    def _declare_prefixes(self, prefixes: set[str]) -> None:
        missing = sorted(p for p in prefixes if p not in self.prefixes
                         and KNOWN_PREFIXES[p] not in self.prefixes.values())
        if not missing:
            return
        last = max((i for i, piece in enumerate(self.pieces) if isinstance(piece, str) and _PREFIX_LINE.match(piece)),
                   default=-1)
        lines = [f"@prefix {p}: <{KNOWN_PREFIXES[p]}> .\n" for p in missing]
        self.pieces[last + 1:last + 1] = lines
        self.prefixes.update({p: KNOWN_PREFIXES[p] for p in missing})

    def _prefix_text(self) -> str:
        return "".join(f"@prefix {prefix}: <{namespace}> .\n" for prefix, namespace in self.prefixes.items())

    def _replace_name(self, text: str, old: URIRef, new: URIRef) -> str:
        text = text.replace(f"<{old}>", f"<{new}>")
        for prefix, namespace in self.prefixes.items():
            if str(old).startswith(namespace) and str(new).startswith(namespace):
                old_local, new_local = str(old)[len(namespace):], str(new)[len(namespace):]
                text = prefixed_name(re.escape(prefix), old_local).sub(f"{prefix}:{new_local}", text)
        return text

    def _check(self, expected: Graph) -> None:
        written = _parsed(self.text())
        if written is None or not isomorphic(_graph_of(written), _graph_of(set(expected))):
            raise OntologyError("writing the edit back would not give the edited graph; nothing was written",
                                where=str(self.path), hint="this is a bug in the module writer; report the edit")


def _replacements(removed: set[Triple], added: set[Triple]) -> dict[Triple, Triple]:
    """Removed statements paired with the added statement that takes their place: the same subject
    and predicate, one value for another (and for a literal, the same language)."""
    pairs: dict[Triple, Triple] = {}
    for old in sorted(removed, key=str):
        if isinstance(old[0], BNode) or isinstance(old[2], BNode):
            return {}
        language = old[2].language if isinstance(old[2], Literal) else None
        new = next((t for t in sorted(added, key=str) if t[:2] == old[:2] and t not in pairs.values()
                    and not isinstance(t[2], BNode)
                    and (t[2].language if isinstance(t[2], Literal) else None) == language), None)
        if new is None:
            return {}
        pairs[old] = new
    return pairs


def prefixed_name(prefix_pattern: str, local: str) -> re.Pattern[str]:
    """A prefixed name as a whole token (``city:School``, not ``city:SchoolDistrict`` nor
    ``?city:School``), whichever prefix ``prefix_pattern`` matches; a full stop may follow it."""
    return re.compile(rf"(?<![\w:.-]){prefix_pattern}:{re.escape(local)}(?![\w-]|\.[\w-])")


def _drop_blank_line_before(pieces: list[Piece]) -> None:
    """A statement removed whole takes its blank line with it, so no double blank lines remain."""
    if pieces and pieces[-1] == "\n" and (len(pieces) < 2 or pieces[-2] == "\n" or isinstance(pieces[-2], Statement)):
        pieces.pop()


def _parsed(text: str) -> set[Triple] | None:
    try:
        return set(Graph(bind_namespaces="none").parse(data=text, format="turtle"))
    except Exception:  # rdflib raises several unrelated types for bad Turtle
        return None


def _graph_of(triples: Iterable[Triple]) -> Graph:
    graph = Graph(bind_namespaces="none")
    for triple in triples:
        graph.add(triple)
    return graph


def _swap(triple: Triple, old: URIRef, new: URIRef) -> Triple:
    s, p, o = (new if term == old else term for term in triple)
    return s, p, o


def _reachable(start: set[Triple], triples: set[Triple]) -> set[Triple]:
    """The statements of the blank nodes some statements refer to, transitively."""
    found: set[Triple] = set()
    frontier = [o for _, _, o in start if isinstance(o, BNode)]
    while frontier:
        node = frontier.pop()
        own = {t for t in triples if t[0] == node} - found
        found |= own
        frontier += [o for _, _, o in own if isinstance(o, BNode)]
    return found


def _ordered_predicates(predicates: Iterator[Node]) -> list[Node]:
    def rank(predicate: Node) -> tuple[int, str]:
        if predicate in _FIRST:
            return (_FIRST.index(predicate), "")
        if predicate in _LAST:
            return (100 + _LAST.index(predicate), "")
        return (50, str(predicate))

    return sorted(predicates, key=rank)


def _ordered_objects(predicate: Node, objects: Iterator[Node]) -> list[Node]:
    def rank(term: Node) -> tuple[int, str]:
        if predicate == RDF.type and term in _DECLARATIONS:
            return (_DECLARATIONS.index(term), "")
        if isinstance(term, Literal) and term.language in _LANGUAGES:
            return (_LANGUAGES.index(term.language), str(term))
        return (10, str(term))

    return sorted(objects, key=rank)


def _name(iri: Node, manager: NamespaceManager) -> str:
    assert isinstance(iri, URIRef)
    return iri.n3(manager)


def _object(term: Node, graph: Graph, manager: NamespaceManager) -> str:
    if isinstance(term, Literal):
        pattern = _TURTLE_NUMBER.get(term.datatype) if term.datatype is not None else None
        if pattern is not None and pattern.match(str(term)):
            return str(term)
        return term.n3(manager)
    if isinstance(term, BNode):
        items = _list_items(term, graph)
        if items is not None:
            return f"( {' '.join(_object(item, graph, manager) for item in items)} )"
        return f"[ {' ; '.join(_groups(term, graph, manager))} ]"
    return _name(term, manager)


def _groups(subject: Node, graph: Graph, manager: NamespaceManager) -> list[str]:
    """``predicate object , object`` for each predicate of a subject, in the house order."""
    return [f"{'a' if p == RDF.type else _name(p, manager)} "
            f"{' , '.join(_object(o, graph, manager) for o in _ordered_objects(p, graph.objects(subject, p)))}"
            for p in _ordered_predicates(graph.predicates(subject, unique=True))]


def _list_items(node: BNode, graph: Graph) -> list[Node] | None:
    if graph.value(node, RDF.first) is None:
        return None
    return list(graph.items(node))


def read_modules(ontology_dir: Path) -> dict[str, Module]:
    """The ontology's own modules (not the standards under ``imports/``), by file name."""
    return {path.name: Module.read(path) for path in sorted(ontology_dir.glob("*.ttl"))}
