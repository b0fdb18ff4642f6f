"""Rules for the ontology's internal models (conditions, thresholds, derived statuses), applied to a fixpoint.

OWL 2 RL cannot compare a reading with a threshold or pick the latest reading: those internal models
are SPARQL CONSTRUCT queries, one per file under ``ontology/rules/`` (``NN-name.rq``, applied in name
order). Each round applies every rule to the graph as it stands, the triples derived earlier in the
round included; rounds go on until one adds nothing. A rule that mints a new node each time it fires
(a blank node in its template, or an IRI built from a node derived before) never stops, so the
rounds are bounded and the rules still deriving at the bound are named.
https://www.w3.org/TR/sparql11-query/#construct

``infer_with_rules`` alternates OWL 2 RL (``abox.infer``) with the rules until neither adds anything,
since each can feed the other: a rule reads ``city:dependsOn`` chains the reasoner closed, and the
reasoner types what a rule says by the ontology's domains and ranges.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from rdflib import Graph, Literal
from rdflib.plugins.sparql import prepareQuery
from rdflib.plugins.sparql.sparql import Query
from rdflib.term import Node

from kg_service.errors import OntologyError, ReasoningError
from kg_service.reason.abox import infer

RULES_FOLDER = "rules"
MAX_ROUNDS = 25


@dataclass(frozen=True)
class Rule:
    """One rule file, its query parsed once."""

    name: str
    path: Path
    query: Query


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
    return Rule(path.stem, path, query)


def run_rules(rules: Sequence[Rule], graph: Graph, max_rounds: int = MAX_ROUNDS) -> Graph:
    """The triples the rules derive from ``graph`` (left as it is) once no rule adds anything.

    Raises ``ReasoningError`` naming the rules still deriving new triples after ``max_rounds`` rounds."""
    working = Graph()
    working += graph
    return _run_in_place(rules, working, max_rounds)


def _run_in_place(rules: Sequence[Rule], working: Graph, max_rounds: int) -> Graph:
    """``run_rules`` adding to ``working`` itself, for callers that built it for the purpose."""
    derived = Graph()
    for round_number in range(1, max_rounds + 1):
        still_deriving: dict[Rule, str] = {}
        for rule in rules:
            constructed = working.query(rule.query).graph
            assert constructed is not None  # a CONSTRUCT query's result is a graph
            new = [triple for triple in constructed if triple not in working]
            if new and round_number == max_rounds:  # about to fail: say which rules bring nodes never seen
                minted = any(not _known(working, node) for s, _, o in new for node in (s, o) if not isinstance(
                    node, Literal))
                still_deriving[rule] = f"{rule.name} ({len(new)} new{', minting new nodes' if minted else ''})"
            elif new:
                still_deriving[rule] = rule.name
            for triple in new:
                working.add(triple)
                derived.add(triple)
        if not still_deriving:
            return derived
    raise ReasoningError(
        f"the rules reach no fixpoint in {max_rounds} rounds; still deriving in the last: "
        f"{', '.join(still_deriving.values())}",
        where=", ".join(str(rule.path) for rule in still_deriving),
        hint="a rule that mints a new node each time it fires (a blank node in its template, or an IRI built "
             "from a derived node) never stops; mint nodes from asserted terms only, or guard the rule with "
             "FILTER NOT EXISTS")


def _known(graph: Graph, node: Node) -> bool:
    return (node, None, None) in graph or (None, None, node) in graph


def infer_with_rules(ontology: Graph, data: Graph, rules: Sequence[Rule], max_rounds: int = MAX_ROUNDS) -> Graph:
    """What OWL 2 RL and the rules entail together from ``ontology`` and ``data`` that neither asserts.

    OWL 2 RL first; then the rules over the ontology, the data and what was inferred, to their
    fixpoint; then OWL 2 RL again over the data and the rules' triples if the rules added any, and
    the rules again if it inferred anything new; and so on until neither adds anything (at most
    ``max_rounds`` alternations)."""
    inferred = infer(ontology, data)
    if not rules:
        return inferred
    working = Graph()  # the rules' input, grown in place by both sides rather than copied each time
    working += ontology
    working += data
    working += inferred
    derived = Graph()  # everything the rules added, over all alternations
    for _ in range(max_rounds):
        added = _run_in_place(rules, working, max_rounds)
        if not len(added):
            break
        derived += added
        given = Graph()
        given += data
        given += derived
        inferred = infer(ontology, given)
        fresh = [triple for triple in inferred if triple not in working]
        if not fresh:
            break
        for triple in fresh:
            working.add(triple)
    else:
        raise ReasoningError(f"OWL 2 RL and the rules reach no fixpoint in {max_rounds} alternations: each keeps "
                             "deriving from what the other derived",
                             where=", ".join(str(rule.path) for rule in rules),
                             hint="look for a rule that mints nodes the ontology's axioms then extend")
    inferred += derived
    return inferred
