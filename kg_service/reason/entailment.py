"""What OWL 2 RL and the ontology's rules entail together from the data, to a fixpoint.

Each can feed the other: a rule reads the ``city:dependsOn`` chains OWL 2 RL closed, and OWL 2 RL
types what a rule concludes by the ontology's domains and ranges. So OWL 2 RL runs first, then the
rules to their fixpoint, then OWL 2 RL over what the rules added, and so on until neither adds.

OWL 2 RL is forward chaining over the ontology's axioms (``chaining``) when the ontology stays
within what that covers and the data states no schema of its own; otherwise ``reasonable``
(``abox``), which holds every triple in memory several times over. The rules run in Oxigraph, over
the ontology and the triples with the predicates they read (``Rule.predicates``), not the whole city.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass

import pyoxigraph as ox
from rdflib import OWL, RDF, RDFS, XSD, Graph

from kg_service.errors import ReasoningError
from kg_service.reason.abox import infer
from kg_service.reason.chaining import TYPE, SchemaInData, Statement, chain, compile_tbox, unsupported
from kg_service.reason.rules import MAX_ROUNDS, Rule, Schedule, read_by, run_rules_in

Facts = Callable[[], Iterable[Statement]]  # the data, readable more than once
_BUILT_IN = tuple(f"<{namespace}" for namespace in (RDF, RDFS, OWL, XSD))
_THING = f"<{OWL.Thing}>"
_INSERT_BATCH = 50_000


@dataclass(frozen=True)
class Entailment:
    """What reasoning entails, and the part of it the rules brought: their conclusions and what OWL 2
    RL draws from these and not from the data alone (None when the general reasoner ran: not told)."""

    facts: set[Statement]
    by_rules: set[Statement] | None


def entail(ontology: Graph, facts: Facts, rules: Sequence[Rule], max_rounds: int = MAX_ROUNDS) -> set[Statement]:
    """The triples about data entities that OWL 2 RL and ``rules`` entail from ``ontology`` and
    ``facts()`` and neither states (see ``keep`` for what else stays out)."""
    return entail_layers(ontology, facts, rules, max_rounds).facts


def entail_layers(ontology: Graph, facts: Facts, rules: Sequence[Rule], max_rounds: int = MAX_ROUNDS
                  ) -> Entailment:
    """``entail``, telling which facts the rules brought."""
    schema = statements_of(ontology)
    terms = ontology_terms(schema)
    if not unsupported(ontology):
        try:
            found, by_rules = _by_chaining(ontology, schema, facts, rules, max_rounds)
            return Entailment({f for f in found if keep(f, terms)}, {f for f in by_rules if keep(f, terms)})
        except SchemaInData:
            pass  # the data extends the schema: the general reasoner reads schema wherever it is
    return Entailment({fact for fact in _by_reasonable(ontology, facts, rules, max_rounds) if keep(fact, terms)},
                      None)


def infer_with_rules(ontology: Graph, data: Graph, rules: Sequence[Rule], max_rounds: int = MAX_ROUNDS) -> Graph:
    """``entail`` over an in-memory data graph, as a graph."""
    data_facts = statements_of(data)
    return _graph(entail(ontology, lambda: data_facts, rules, max_rounds))


def keep(fact: Statement, ontology_terms: set[str]) -> bool:
    """Only facts about data entities: none about the ontology's own terms, no trivial ``rdf:type
    owl:Thing`` or ``x owl:sameAs x``, no type that is an anonymous restriction class."""
    subject, predicate, obj = fact
    if subject in ontology_terms or subject.startswith(_BUILT_IN) or subject.startswith('"'):
        return False
    if predicate == TYPE and (obj == _THING or obj.startswith("_:")):
        return False
    return not (predicate == f"<{OWL.sameAs}>" and subject == obj)


def ontology_terms(schema: Iterable[Statement]) -> set[str]:
    """What the ontology names, declared or only referred to (a class only the object of an axiom)."""
    return {term for s, _, o in schema for term in (s, o) if term.startswith("<")}


def statements_of(graph: Graph) -> list[Statement]:
    """A graph's triples in the N-Triples form the store reads them in (Oxigraph's, one spelling per term)."""
    parsed = ox.parse(graph.serialize(format="nt", encoding="utf-8"), format=ox.RdfFormat.N_TRIPLES)
    return [(str(t.subject), str(t.predicate), str(t.object)) for t in parsed]


def _by_chaining(ontology: Graph, schema: list[Statement], facts: Facts, rules: Sequence[Rule],
                 max_rounds: int) -> tuple[set[Statement], set[Statement]]:
    """Everything entailed, and what of it the rules brought."""
    def every_fact() -> Iterable[Statement]:
        return itertools.chain(schema, facts())

    chaining = chain(compile_tbox(ontology), every_fact)
    from_data = set(chaining.derived())
    if not rules:
        return from_data, set()
    reads = read_by(rules)
    working = ox.Store()
    insert_facts(working, (f for f in every_fact() if reads is None or f[1] in reads))
    insert_facts(working, (f for f in chaining.known_facts() if reads is None or f[1] in reads))

    def owl_rl_after(added: list[Statement], concluded: list[Statement]) -> list[Statement]:
        fresh = chaining.add_derived(added)
        if chaining.equalities():
            chaining.replay(every_fact())
        return [f for f in fresh if reads is None or f[1] in reads]

    concluded = alternate(rules, working, max_rounds, owl_rl_after)
    found = {*chaining.derived(), *concluded}
    return found, found - from_data


def _by_reasonable(ontology: Graph, facts: Facts, rules: Sequence[Rule], max_rounds: int) -> Iterator[Statement]:
    data = _graph(facts())
    inferred = statements_of(infer(ontology, data))
    if not rules:
        yield from inferred
        return
    working = ox.Store()
    insert_facts(working, itertools.chain(statements_of(ontology), statements_of(data), inferred))

    def owl_rl_after(added: list[Statement], concluded: list[Statement]) -> list[Statement]:
        nonlocal inferred
        inferred = statements_of(infer(ontology, data + _graph(concluded)))
        return [f for f, quad in zip(inferred, quads_of(inferred), strict=True) if quad not in working]

    concluded = alternate(rules, working, max_rounds, owl_rl_after)
    yield from inferred
    yield from concluded


def alternate(rules: Sequence[Rule], working: ox.Store, max_rounds: int,
               owl_rl_after: Callable[[list[Statement], list[Statement]], list[Statement]],
               by_rule: dict[str, frozenset[Statement]] | None = None) -> list[Statement]:
    """The rules to their fixpoint over ``working``, then OWL 2 RL over what they added (given the
    round's additions and all of the rules' conclusions, it returns the new facts the rules read),
    and again until neither adds; returns everything the rules concluded. ``by_rule`` is given each
    rule's conclusions when it last ran."""
    concluded: list[Statement] = []
    schedule = Schedule(rules, working)  # after the first time, a rule runs again only for what it reads
    for _ in range(max_rounds):
        added = run_rules_in(rules, working, max_rounds, schedule, by_rule)
        if not added:
            return concluded
        concluded += added
        fresh = owl_rl_after(added, concluded)
        if not fresh:
            return concluded
        insert_facts(working, fresh)
        schedule.note(fresh)
    raise _no_fixpoint(rules, max_rounds)


def _no_fixpoint(rules: Sequence[Rule], max_rounds: int) -> ReasoningError:
    return ReasoningError(f"OWL 2 RL and the rules reach no fixpoint in {max_rounds} alternations: each keeps "
                          "deriving from what the other derived", where=", ".join(str(rule.path) for rule in rules),
                          hint="look for a rule that mints nodes the ontology's axioms then extend")


def insert_facts(store: ox.Store, facts: Iterable[Statement]) -> None:
    lines = (f"{s} {p} {o} .\n" for s, p, o in facts)
    while batch := "".join(itertools.islice(lines, _INSERT_BATCH)):
        store.load(batch.encode(), format=ox.RdfFormat.N_TRIPLES)


def remove_facts(store: ox.Store, facts: Iterable[Statement]) -> None:
    for quad in quads_of(facts):
        store.remove(quad)


def quads_of(facts: Iterable[Statement]) -> list[ox.Quad]:
    """``facts`` as quads of a store's default graph, parsed at once."""
    text = "".join(f"{s} {p} {o} .\n" for s, p, o in facts)
    return [ox.Quad(t.subject, t.predicate, t.object, ox.DefaultGraph())
            for t in ox.parse(text.encode(), format=ox.RdfFormat.N_TRIPLES)] if text else []


def _graph(facts: Iterable[Statement]) -> Graph:
    return Graph().parse(data="".join(f"{s} {p} {o} .\n" for s, p, o in facts), format="nt")
