"""Rules for the ontology's internal models (conditions, thresholds, derived statuses), applied to a fixpoint.

OWL 2 RL cannot compare a reading with a threshold or pick the latest reading: those internal models
are SPARQL CONSTRUCT queries, one per file under ``ontology/rules/`` (``NN-name.rq``, applied in name
order). Each round applies every rule to the graph as it stands, the triples derived earlier in the
round included; rounds go on until one adds nothing. A rule that mints a new node each time it fires
(a blank node in its template, or an IRI built from a node derived before) never stops, so the
rounds are bounded and the rules still deriving at the bound are named.
https://www.w3.org/TR/sparql11-query/#construct

Oxigraph runs them (``run_rules_in``): a rule joining a whole city's readings is a query over
millions of triples. ``entailment`` alternates them with OWL 2 RL.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

import pyoxigraph as ox
from rdflib import RDF, Graph, URIRef, Variable
from rdflib.paths import Path as PropertyPath
from rdflib.plugins.sparql import prepareQuery
from rdflib.plugins.sparql.parserutils import CompValue
from rdflib.plugins.sparql.sparql import Query
from rdflib.term import Node

from kg_service.errors import OntologyError, ReasoningError
from kg_service.reason.chaining import Statement

RULES_FOLDER = "rules"
MAX_ROUNDS = 25


@dataclass(frozen=True)
class Rule:
    """One rule file, its query parsed once."""

    name: str
    path: Path
    query: Query
    text: str

    @property
    def predicates(self) -> frozenset[str] | None:
        """The predicates (N-Triples form) the rule reads or concludes; None when one is a variable,
        so that the rule may read any triple. A rule is run over the triples with these only."""
        found: set[str] = set()
        for pattern in _triple_patterns(self.query.algebra):
            predicate = pattern[1]
            if isinstance(predicate, Variable):
                return None
            found |= {f"<{iri}>" for iri in _iris_of(predicate)}
        return frozenset(found)


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
    (``?asset a ?class . ?class city:maxLoadShare ?share``: the classes with a load share)."""
    found: set[str] = set()
    for rule in rules:
        patterns = list(_triple_patterns(rule.query.algebra))
        for _, predicate, obj in patterns:
            if predicate != RDF.type:
                continue
            if isinstance(obj, URIRef):
                found.add(f"<{obj}>")
                continue
            asked = sorted(str(p) for s, p, _ in patterns if s == obj and isinstance(p, URIRef))
            if not asked:
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
        query = prepareQuery(text)
    except Exception as error:  # the SPARQL parser raises pyparsing's and its own unrelated types
        line = getattr(error, "lineno", None)
        raise OntologyError(f"not a valid SPARQL query: {str(error).splitlines()[0]}",
                            where=f"{path}:{line}" if line else str(path),
                            hint="a rule is one SPARQL CONSTRUCT query with its own PREFIX lines") from error
    if query.algebra.name != "ConstructQuery":
        raise OntologyError("a rule must be a SPARQL CONSTRUCT query", where=str(path),
                            hint="write the triples the rule derives in a CONSTRUCT template")
    return Rule(path.stem, path, query, text)


def _triple_patterns(node: object) -> Iterator[tuple[Node, ...]]:
    """Every triple pattern of a parsed query (its template's included), wherever it is nested."""
    if isinstance(node, CompValue | dict):
        for key, value in node.items():
            if key in ("triples", "template") and isinstance(value, list):
                yield from (triple for triple in value if isinstance(triple, tuple) and len(triple) == 3)
            else:
                yield from _triple_patterns(value)
    elif isinstance(node, list | tuple):
        for item in node:
            yield from _triple_patterns(item)


def _iris_of(predicate: object) -> Iterator[URIRef]:
    """The IRIs of a predicate or of a property path (a/b, a|b, ^a, a*, !a...)."""
    if isinstance(predicate, URIRef):
        yield predicate
    elif isinstance(predicate, PropertyPath):
        parts = (*getattr(predicate, "args", ()), getattr(predicate, "path", None), getattr(predicate, "arg", None))
        for part in parts:
            if part is not None:
                yield from _iris_of(part)


def run_rules(rules: Sequence[Rule], graph: Graph, max_rounds: int = MAX_ROUNDS) -> Graph:
    """The triples the rules derive from ``graph`` (left as it is) once no rule adds anything.

    Raises ``ReasoningError`` naming the rules still deriving new triples after ``max_rounds`` rounds."""
    working = ox.Store()
    working.load(graph.serialize(format="nt", encoding="utf-8"), format=ox.RdfFormat.N_TRIPLES)
    derived = run_rules_in(rules, working, max_rounds)
    return Graph().parse(data="".join(f"{s} {p} {o} .\n" for s, p, o in derived), format="nt")


def run_rules_in(rules: Sequence[Rule], working: ox.Store, max_rounds: int = MAX_ROUNDS) -> list[Statement]:
    """``run_rules`` over an Oxigraph store's default graph, which gains the derived triples.

    Oxigraph rather than rdflib runs the rules: a rule joining the readings of a whole city is a
    query over millions of triples."""
    derived: list[Statement] = []
    for round_number in range(1, max_rounds + 1):
        still_deriving: dict[Rule, str] = {}
        for rule in rules:
            constructed = working.query(rule.text)
            assert isinstance(constructed, ox.QueryTriples)  # load_rules let only CONSTRUCT queries in
            new = {ox.Quad(t.subject, t.predicate, t.object, ox.DefaultGraph()) for t in constructed}
            new = {quad for quad in new if quad not in working}
            if new and round_number == max_rounds:  # about to fail: say which rules bring nodes never seen
                minted = any(not _known(working, node) for quad in new for node in (quad.subject, quad.object)
                             if not isinstance(node, ox.Literal))
                still_deriving[rule] = f"{rule.name} ({len(new)} new{', minting new nodes' if minted else ''})"
            elif new:
                still_deriving[rule] = rule.name
            working.extend(new)
            derived.extend((str(q.subject), str(q.predicate), str(q.object)) for q in new)
        if not still_deriving:
            return derived
    raise ReasoningError(
        f"the rules reach no fixpoint in {max_rounds} rounds; still deriving in the last: "
        f"{', '.join(still_deriving.values())}",
        where=", ".join(str(rule.path) for rule in still_deriving),
        hint="a rule that mints a new node each time it fires (a blank node in its template, or an IRI built "
             "from a derived node) never stops; mint nodes from asserted terms only, or guard the rule with "
             "FILTER NOT EXISTS")


def _known(store: ox.Store, node: ox.NamedNode | ox.BlankNode | ox.Literal | ox.Triple) -> bool:
    if isinstance(node, ox.Literal | ox.Triple):
        return True
    return (next(store.quads_for_pattern(node, None, None), None) is not None
            or next(store.quads_for_pattern(None, None, node), None) is not None)
