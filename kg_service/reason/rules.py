"""Rules for the ontology's internal models (conditions, thresholds, derived statuses), applied to a fixpoint.

OWL 2 RL cannot compare a reading with a threshold or pick the latest reading: those internal models
are SPARQL CONSTRUCT queries, one per file under ``ontology/rules/`` (``NN-name.rq``, applied in name
order). Each round applies the rules to the graph as it stands, the triples derived earlier in the
round included. A rule runs again only once a statement it reads has been added since its last run
(``Schedule``), and the rounds go on until no rule is due. A rule that mints a new node each time it fires
(a blank node in its template, or an IRI built from a node derived before) never stops, so the
rounds are bounded and the rules still deriving at the bound are named.
https://www.w3.org/TR/sparql11-query/#construct

Oxigraph runs them (``run_rules_in``): a rule joining a whole city's readings is a query over
millions of triples. ``entailment`` alternates them with OWL 2 RL.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path
from typing import NamedTuple, cast

import pyoxigraph as ox
from pyparsing import ParseResults
from rdflib import RDF, BNode, Graph, URIRef, Variable
from rdflib.plugins.sparql.algebra import translatePrologue, translateQuery
from rdflib.plugins.sparql.parser import parseQuery
from rdflib.plugins.sparql.parserutils import CompValue
from rdflib.plugins.sparql.sparql import Query
from rdflib.term import Node

from kg_service.errors import OntologyError, ReasoningError
from kg_service.reason.chaining import TYPE, Statement

RULES_FOLDER = "rules"
MAX_ROUNDS = 25


@dataclass(frozen=True)
class Rule:
    """One rule file, its query parsed once."""

    name: str
    path: Path
    query: Query
    text: str
    patterns: tuple[Pattern, ...]  # every triple pattern of the query, the template's included
    volatile: bool  # makes a new term each time it runs (BNODE(), UUID(), STRUUID(), RAND(), NOW())

    @property
    def predicates(self) -> frozenset[str] | None:
        """The predicates (N-Triples form) the rule reads or concludes; None when one is a variable,
        so that the rule may read any triple. A rule is run over the triples with these only."""
        return _predicates_of(self.patterns)

    @cached_property
    def premises(self) -> frozenset[str] | None:
        """The predicates its pattern reads (None: any), and, when it mints terms (blank nodes in its
        template, BNODE(), UUID(), RAND(), NOW()), those it concludes: run again, such a rule concludes
        new terms, so what it adds calls it again."""
        mints = self.volatile or any(isinstance(term, BNode) for pattern in self.patterns
                                             if pattern.in_template for term in (pattern.subject, pattern.object))
        return _predicates_of(pattern for pattern in self.patterns if mints or not pattern.in_template)


def rules_hash(ontology_dir: Path) -> str:
    """One hash of the rule files' names and contents: what reasoning concluded with other rules is
    stale (the ontology's content hash covers its Turtle files only)."""
    digest = hashlib.sha256()
    for path in sorted((ontology_dir / RULES_FOLDER).glob("*.rq")):
        digest.update(path.name.encode() + b"\0" + path.read_bytes() + b"\0")
    return digest.hexdigest()


def read_by(rules: Sequence[Rule]) -> frozenset[str] | None:
    """The predicates any rule reads or concludes; None when a rule may read any triple."""
    predicates: set[str] = set()
    for rule in rules:
        if (read := rule.predicates) is None:
            return None
        predicates |= read
    return frozenset(predicates)


def classes_read(rules: Sequence[Rule], having: Callable[[str], set[str]]) -> frozenset[str] | None:
    """The classes (N-Triples form) whose ``rdf:type`` statements a rule reads; None when it may read
    any. For a class that is a variable, the classes ``having`` a property the rule asks of it
    (``?asset a ?class . ?class city:maxLoadShare ?share``: the classes with a load share), when
    both patterns are required ones of the rule's own group (not optional, negated, in a union or a
    subquery, nor in the template) and the property is one IRI; otherwise any class."""
    found: set[str] = set()
    for rule in rules:
        for pattern in rule.patterns:
            if pattern.predicate is None or RDF.type not in pattern.predicate or pattern.in_template:
                continue
            if pattern.path:  # a path through rdf:type (a+, ^a, a/rdfs:subClassOf*): any class
                return None
            if isinstance(pattern.object, URIRef):
                found.add(f"<{pattern.object}>")
                continue
            asked = sorted(str(other.predicate[0]) for other in rule.patterns
                           if other.subject == pattern.object and other.required and not other.path
                           and other.predicate is not None and other.predicate != (RDF.type,))
            if not pattern.required or not asked:
                return None
            found |= having(f"<{asked[0]}>")
    return frozenset(found)


def load_rules(ontology_dir: Path) -> list[Rule]:
    """Every ``*.rq`` under ``ontology_dir/rules``, in name order; none when the folder is missing.

    Raises ``OntologyError`` naming the file (and the line, when the parser knows it) of a rule that
    cannot be read, does not parse, or is not a CONSTRUCT query."""
    folder = ontology_dir / RULES_FOLDER
    if not folder.is_dir():
        return []
    return [_load_rule(path) for path in sorted(folder.glob("*.rq"))]


def _load_rule(path: Path) -> Rule:
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as error:
        raise OntologyError(f"cannot read the rule: {error}", where=str(path)) from error
    try:
        parsed = parseQuery(text)
        # read before the algebra is made from the same parse tree (parsed once: three parses per
        # rule took 0.29 s of every ingest run)
        patterns, volatile = tuple(_patterns_of(parsed)), _volatile(parsed)
        query = translateQuery(parsed)
    except Exception as error:  # the SPARQL parser raises pyparsing's and its own unrelated types
        line = getattr(error, "lineno", None)
        raise OntologyError(f"not a valid SPARQL query: {str(error).splitlines()[0]}",
                            where=f"{path}:{line}" if line else str(path),
                            hint="a rule is one SPARQL CONSTRUCT query with its own PREFIX lines") from error
    if query.algebra.name != "ConstructQuery":
        raise OntologyError("a rule must be a SPARQL CONSTRUCT query", where=str(path),
                            hint="write the triples the rule derives in a CONSTRUCT template")
    return Rule(path.stem, path, query, text, patterns, volatile)


class Pattern(NamedTuple):
    """A triple pattern of a rule: its predicate is the IRIs of a property or property path (None:
    a variable, or a path that may take any property)."""

    subject: Node
    predicate: tuple[URIRef, ...] | None
    object: Node
    in_template: bool
    path: bool  # a property path, not one property
    required: bool  # in the query's own group, outside OPTIONAL, MINUS, UNION, FILTER and subqueries


def _patterns_of(parsed: ParseResults) -> Iterator[Pattern]:
    """Every triple pattern of a query, wherever it is nested (subqueries, FILTER NOT EXISTS, the
    template), read from the parse tree: the algebra rdflib translates it to drops a FILTER nested in
    a FILTER NOT EXISTS (rule 02's "every condition the threshold names"), and with it what it reads."""
    prologue = translatePrologue(parsed[0], None)

    def resolved(node: object) -> object:  # prefixed names and IRIs relative to BASE
        return prologue.absolutize(node) if isinstance(node, CompValue | URIRef) else node

    def iris(node: object) -> Iterator[URIRef]:
        node = resolved(node)
        if isinstance(node, URIRef):
            yield node
        elif isinstance(node, CompValue | ParseResults | list | tuple):
            for part in (node.values() if isinstance(node, CompValue) else node):
                yield from iris(part)

    def walk(node: object, required: bool) -> Iterator[Pattern]:
        if isinstance(node, CompValue):
            # only a plain group keeps its patterns required; the query's own group is ``where``
            inner = required and node.name in ("ConstructQuery", "GroupGraphPatternSub", "TriplesBlock")
            for key, value in node.items():
                if key not in ("triples", "template"):
                    yield from walk(value, inner and key in ("where", "part", "triples"))
                    continue
                for block in value:  # subject, predicate, object, subject, ... (a ; or , list spelled out)
                    terms = [resolved(term) for term in block]
                    if len(terms) % 3:  # a shape not foreseen: read as a pattern that may read anything
                        yield Pattern(Variable("unknown"), None, Variable("unknown"), key == "template", True, False)
                        continue
                    for subject, predicate, obj in zip(terms[::3], terms[1::3], terms[2::3], strict=True):
                        # a variable, or a path through a negated set (!:a: every other property), reads any
                        anything = isinstance(predicate, Variable) or _negates(predicate)
                        path = not isinstance(predicate, URIRef | Variable) and not _one_property(predicate)
                        yield Pattern(cast(Node, subject), None if anything else tuple(iris(predicate)),
                                      cast(Node, obj), key == "template", path, inner and key == "triples")
        elif isinstance(node, ParseResults | list | tuple):
            for item in node:
                yield from walk(item, required)

    yield from walk(parsed[1], True)


def _one_property(path: object) -> bool:
    """Whether a parsed property path is one property, no inverse, sequence, alternative or repetition."""
    while isinstance(path, CompValue) and path.name in ("PathAlternative", "PathSequence", "PathElt"):
        parts = path["part"]  # CompValue.get answers a missing key with the key itself
        if path.name == "PathElt":
            if "mod" in path:
                return False
            path = parts
            continue
        if not isinstance(parts, list | ParseResults) or len(parts) != 1:
            return False
        path = parts[0]
    return isinstance(path, URIRef) or (isinstance(path, CompValue) and path.name == "pname")


def _volatile(parsed: ParseResults) -> bool:
    """Whether a query makes a new term each time it runs (BNODE(), UUID(), STRUUID(), RAND(), NOW())."""
    def found(node: object) -> bool:
        if isinstance(node, CompValue):
            return node.name in _VOLATILE or any(found(value) for value in node.values())
        return isinstance(node, ParseResults | list | tuple) and any(found(item) for item in node)
    return found(parsed[1])


_VOLATILE = {"Builtin_BNODE", "Builtin_UUID", "Builtin_STRUUID", "Builtin_RAND", "Builtin_NOW"}


def _negates(path: object) -> bool:
    if isinstance(path, CompValue):
        return path.name == "PathNegatedPropertySet" or any(_negates(part) for part in path.values())
    return isinstance(path, ParseResults | list | tuple) and any(_negates(part) for part in path)


def _predicates_of(patterns: Iterable[Pattern]) -> frozenset[str] | None:
    found: set[str] = set()
    for pattern in patterns:
        if pattern.predicate is None:
            return None
        found |= {f"<{iri}>" for iri in pattern.predicate}
    return frozenset(found)


def run_rules(rules: Sequence[Rule], graph: Graph, max_rounds: int = MAX_ROUNDS) -> Graph:
    """The triples the rules derive from ``graph`` (left as it is) once no rule adds anything.

    Raises ``ReasoningError`` naming the rules still deriving new triples after ``max_rounds`` rounds."""
    working = ox.Store()
    working.load(graph.serialize(format="nt", encoding="utf-8"), format=ox.RdfFormat.N_TRIPLES)
    derived = run_rules_in(rules, working, max_rounds)
    return Graph().parse(data="".join(f"{s} {p} {o} .\n" for s, p, o in derived), format="nt")


def run_rules_in(rules: Sequence[Rule], working: ox.Store, max_rounds: int = MAX_ROUNDS,
                 schedule: Schedule | None = None, by_rule: dict[str, frozenset[Statement]] | None = None
                 ) -> list[Statement]:
    """``run_rules`` over an Oxigraph store's default graph, which gains the derived triples.

    Oxigraph rather than rdflib runs the rules: a rule joining the readings of a whole city is a
    query over millions of triples. A round runs only the rules ``schedule`` says are due (all of
    them, without one); the fixpoint is reached when none is. ``by_rule`` is given each rule's
    conclusions when it last ran, those the store held already included."""
    schedule = schedule or Schedule(rules, working)
    derived: list[Statement] = []
    for round_number in range(1, max_rounds + 1):
        still_deriving: dict[Rule, str] = {}
        for rule in rules:
            if not schedule.take(rule):
                continue
            constructed = working.query(rule.text)
            assert isinstance(constructed, ox.QueryTriples)  # load_rules let only CONSTRUCT queries in
            new = {ox.Quad(t.subject, t.predicate, t.object, ox.DefaultGraph()) for t in constructed}
            if by_rule is not None:
                by_rule[rule.name] = frozenset((str(q.subject), str(q.predicate), str(q.object)) for q in new)
            new = {quad for quad in new if quad not in working}
            if new and round_number == max_rounds:  # about to fail: say which rules bring nodes never seen
                minted = any(not _known(working, node) for quad in new for node in (quad.subject, quad.object)
                             if not isinstance(node, ox.Literal))
                still_deriving[rule] = f"{rule.name} ({len(new)} new{', minting new nodes' if minted else ''})"
            elif new:
                still_deriving[rule] = rule.name
            working.extend(new)
            added = [(str(q.subject), str(q.predicate), str(q.object)) for q in new]
            schedule.note(added)
            derived.extend(added)
        if not schedule.any_due():
            return derived
    raise ReasoningError(
        f"the rules reach no fixpoint in {max_rounds} rounds; still deriving in the last: "
        f"{', '.join(still_deriving.values())}",
        where=", ".join(str(rule.path) for rule in still_deriving),
        hint="a rule that mints a new node each time it fires (a blank node in its template, or an IRI built "
             "from a derived node) never stops; mint nodes from asserted terms only, or guard the rule with "
             "FILTER NOT EXISTS")


class Schedule:
    """Which rules are due to run: each at first, then again only once a statement it reads
    (``Rule.premises``; types: of the classes it asks for) has entered the working store since it
    last ran. The store only grows while the rules run, and a rule's conclusions depend only on the
    statements it reads, so running it again over the same ones concludes nothing new: a round
    that would only confirm the fixpoint, often most of a run's time, is not run."""

    def __init__(self, rules: Sequence[Rule], working: ox.Store) -> None:
        self._rules, self._working = list(rules), working
        self._due = set(range(len(self._rules)))

    def take(self, rule: Rule) -> bool:
        """Whether ``rule`` is due; it is not any more, until ``note`` says otherwise."""
        index = self._rules.index(rule)
        due = index in self._due
        self._due.discard(index)
        return due

    def any_due(self) -> bool:
        return bool(self._due)

    def note(self, added: Iterable[Statement]) -> None:
        """``added`` has entered the working store: the rules reading one of them are due."""
        predicates: set[str] = set()
        classes: set[str] = set()
        for _, predicate, obj in added:
            if predicate == TYPE:
                classes.add(obj)
            else:
                predicates.add(predicate)
        if not predicates and not classes:
            return
        for index, rule in enumerate(self._rules):
            if index in self._due:
                continue
            read = rule.premises
            if read is None or predicates & read:
                self._due.add(index)
            elif classes and TYPE in read:
                asked = classes_read([rule], self._having)
                if asked is None or classes & asked:
                    self._due.add(index)

    def _having(self, predicate: str) -> set[str]:
        return {str(quad.subject)
                for quad in self._working.quads_for_pattern(None, ox.NamedNode(predicate[1:-1]), None)}


def _known(store: ox.Store, node: ox.NamedNode | ox.BlankNode | ox.Literal | ox.Triple) -> bool:
    if isinstance(node, ox.Literal | ox.Triple):
        return True
    return (next(store.quads_for_pattern(node, None, None), None) is not None
            or next(store.quads_for_pattern(None, None, node), None) is not None)
