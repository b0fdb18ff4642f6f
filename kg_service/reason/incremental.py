"""Reasoning after a small change: the inferred graph corrected where the change reaches, not
recomputed over the whole city.

A change is the statements that left and entered the asserted graphs (``AssertedChange``). The
correction is delete-and-rederive (DRed) specialised to what the city's rules look like:

- A rule with one premise (cax-sco, prp-dom, prp-rng, prp-spo1, prp-inv, prp-symp, cls-hv) draws
  from ``s p o`` only conclusions about ``s`` or ``o``.
- A transitive property or a property chain (prp-trp, prp-spo2) joins ``x p y`` with what ``y``
  leads to. When nothing leads to ``x`` (a school is located in a community, nothing is located
  in the school), every such conclusion is about ``x``, and what ``y`` leads to is already closed
  in the store, so it is read from there.
- A functional or inverse-functional property joins two values for one key into an
  ``owl:sameAs``: the store is asked whether another value exists.

So, when no changed node has an equal and these hold:

- everything that followed from a removed statement is among what it concludes, with what its
  value leads to (D);
- the facts about the nodes that D and the added statements' conclusions are about (X) are
  derived again from what remains about X: the asserted statements mentioning X, the inferred
  ones outside D, and what their values lead to (a fact that still holds some other way follows
  from one of them, since its first premise mentions its subject);
- no fact about another node changes.

The inferred graph's statements about X are then replaced, in one transaction. The ontology's
rules compare, count and negate, so a change cannot be followed through them fact by fact: when
it touches what they read (for types, only the classes a rule asks for count), they run again
over their working store, each rule whose conclusions are about one node of its solutions for the
nodes the change reaches (``keyed``) and the others over all they read, and the part of the
inferred graph they brought (kept apart, ``rule_part``) is replaced where it changed. Outside
these conditions, and when the change touches what the spatial relations read,
``NeedsFullReasoning`` says why and the caller reasons over everything.
https://www.w3.org/TR/owl2-profiles/#Reasoning_in_OWL_2_RL_and_RDF_Graphs_using_Rules
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass

import pyoxigraph as ox
from rdflib import Graph

from kg_service.delta import statements_about
from kg_service.namespaces import GEO
from kg_service.reason.chaining import SAME_AS, TYPE, Chaining, SchemaInData, Statement, TBox, compile_tbox, unsupported
from kg_service.reason.entailment import alternate, insert_facts, keep, ontology_terms, remove_facts, statements_of
from kg_service.reason.keyed import Rerun, rerun, stratified
from kg_service.reason.rule_part import KeptConclusions, KeptWorkingStore
from kg_service.reason.rules import MAX_ROUNDS, Rule, classes_read, read_by
from kg_service.reason.spatial_inputs import GEOMETRY_PREDICATES, PLACE_PREDICATES
from kg_service.store import GraphStore

_LOOKUP_BATCH = 400  # nodes per VALUES block


class NeedsFullReasoning(Exception):
    """The change reaches beyond what the correction covers; the message says how."""


@dataclass(frozen=True)
class AssertedChange:
    """Statements that left (``removed``) and entered (``added``) a dataset's asserted graph."""

    removed: frozenset[Statement] = frozenset()
    added: frozenset[Statement] = frozenset()

    def then(self, later: AssertedChange) -> AssertedChange:
        """This change followed by ``later``: a statement removed and put back is no change."""
        return AssertedChange((self.removed - later.added) | later.removed, (self.added - later.removed) | later.added)

    def __bool__(self) -> bool:
        return bool(self.removed or self.added)

    @property
    def statements(self) -> frozenset[Statement]:
        return self.removed | self.added


@dataclass(frozen=True)
class InferredCorrection:
    """The inferred graph's statements about ``subjects`` (``before``), to be replaced by ``after``;
    and the rules' part of the inferred graph when the rules ran again (None: it stays as it was)."""

    subjects: frozenset[str]
    before: frozenset[Statement]
    after: frozenset[Statement]
    rule_conclusions: frozenset[Statement] | None = None


@dataclass(frozen=True)
class ReasonedGraphs:
    """The graphs reasoning reads and writes."""

    asserted: Sequence[str]  # the datasets' graphs and the spatial relations
    inferred: str
    rule_conclusions: frozenset[Statement] | None  # the rules' part of the inferred graph (None: not known)
    kept_working: KeptWorkingStore | None = None  # the rules' working store of the last run, if kept


def correct_inferred(store: GraphStore, graphs: ReasonedGraphs, ontology: Graph, rules: Sequence[Rule],
                     change: AssertedChange, max_rounds: int = MAX_ROUNDS) -> InferredCorrection:
    """What the inferred graph must hold about the nodes ``change`` reaches, read after the change
    was committed to the asserted graphs; raises ``NeedsFullReasoning`` where it cannot say.

    OWL 2 RL is followed from the change as the module says, over the inferred graph without the
    rules' part. When what changed is something a rule reads, the rules run again over what they
    read (``_rules_again``) and their part is replaced whole."""
    if unsupported(ontology):
        raise NeedsFullReasoning("the ontology uses constructs only the general reasoner covers")
    tbox = compile_tbox(ontology)
    schema = statements_of(ontology)
    terms = ontology_terms(schema)
    if any(term.startswith("_:") for fact in change.statements for term in fact):
        raise NeedsFullReasoning("the change has blank nodes, which get a new identity on every job")
    lookup = _Lookup(store, [*graphs.asserted, graphs.inferred], graphs.inferred)
    if any(p in GEOMETRY_PREDICATES for _, p, _ in change.statements) or lookup.have_geometry(
            {s for s, p, _ in change.statements if p == TYPE or p in PLACE_PREDICATES}, change.removed):
        raise NeedsFullReasoning("the change touches what the spatial relations read (geometries, stated "
                                 "places, the types of things with a geometry)")
    removed = change.removed - lookup.asserted(change.removed)  # asserted in no graph any more
    # D, what may no longer hold (a keyed fact's joins made an owl:sameAs, which the next check finds)
    gone, _ = _following(tbox, lookup, removed)
    gone |= removed
    arriving, keyed = _following(tbox, lookup, change.added)
    arriving |= change.added
    nodes = {term for fact in gone | arriving for term in (fact[0], fact[2]) if term.startswith("<")}
    if lookup.have_equals(nodes):
        raise NeedsFullReasoning("a changed node is owl:sameAs another")
    if lookup.share_a_key(keyed, tbox.inverse_functional):
        raise NeedsFullReasoning("an added statement makes two nodes equal (a functional or inverse-functional "
                                 "property)")
    by_rules = graphs.rule_conclusions or frozenset()
    subjects = frozenset(fact[0] for fact in gone | arriving)
    mentioning = lookup.mentioning(subjects)  # graph -> facts with a subject or object among them
    inferred = mentioning.get(graphs.inferred, set())
    from_data = inferred - by_rules  # what OWL 2 RL drew from the data alone
    asserted = {fact for graph, facts in mentioning.items() if graph != graphs.inferred for fact in facts}
    remaining = asserted | (from_data - gone) | arriving
    joining = [fact for fact in remaining if fact[0] in subjects and _joins(tbox, fact)]
    derived = _closure(tbox, remaining | lookup.onward(tbox, joining, subjects))
    before = frozenset(fact for fact in inferred if fact[0] in subjects)
    before_from_data = {fact for fact in from_data if fact[0] in subjects}
    after_from_data = {fact for fact in derived if fact[0] in subjects and fact not in asserted and keep(fact, terms)}
    read = _read_by_rules(lookup, rules, {*change.statements, *(before_from_data ^ after_from_data)})
    if not rules or not read:  # the rules read nothing that changed: their part stays as it is
        if graphs.kept_working is not None:
            graphs.kept_working.carry_over()
        return InferredCorrection(subjects, before,
                                  frozenset(after_from_data | {fact for fact in by_rules if fact[0] in subjects}))
    if graphs.rule_conclusions is None:
        raise NeedsFullReasoning(f"the change reaches what the ontology's rules read ({', '.join(sorted(read)[:3])}) "
                                 "and the rules' part of the inferred graph is not known")
    correction = _Corrected(lookup, by_rules, subjects, frozenset(before_from_data), frozenset(after_from_data),
                            removed, change.added)
    concluded = _rules_again(lookup, tbox, schema, rules, correction, max_rounds, graphs.kept_working)
    fresh = frozenset(fact for fact in concluded if keep(fact, terms)) - correction.known(concluded)
    # the nodes whose statements change: those the change reached, and those the rules' conclusions
    # about came or went (the others' stay as they are)
    reached = subjects | {fact[0] for fact in by_rules ^ fresh}
    held = set(statements_about(store, graphs.inferred, reached))
    kept = {fact for fact in held - by_rules if fact[0] not in subjects}
    return InferredCorrection(frozenset(reached), frozenset(held), frozenset(kept | after_from_data | fresh), fresh)


@dataclass(frozen=True)
class _Corrected:
    """The inferred graph's part from the data alone, as corrected: the store's, with what it said
    about ``subjects`` replaced."""

    lookup: _Lookup
    by_rules: frozenset[Statement]  # the rules' part before the change, left out
    subjects: frozenset[str]
    before: frozenset[Statement]
    after: frozenset[Statement]
    removed: frozenset[Statement]  # asserted before the change, and now in no graph
    added: frozenset[Statement]

    def known(self, facts: Iterable[Statement]) -> set[Statement]:
        """Those of ``facts`` asserted, or drawn from the data alone."""
        facts = set(facts)
        inferred = self.lookup.inferred(facts) - self.by_rules - self.before
        return self.lookup.asserted(facts) | inferred | (facts & self.after)

    def read(self, predicates: frozenset[str], classes: frozenset[str] | None) -> Iterator[Statement]:
        """The asserted facts and those drawn from the data alone with one of ``predicates`` (types:
        of one of ``classes``; any when None)."""
        for graph, fact in self.lookup.with_predicates(predicates, classes):
            if graph != self.lookup.inferred_graph or (fact not in self.by_rules and fact not in self.before):
                yield fact
        for fact in self.after:
            if fact[1] in predicates and (fact[1] != TYPE or classes is None or fact[2] in classes):
                yield fact


def _rules_again(lookup: _Lookup, tbox: TBox, schema: list[Statement], rules: Sequence[Rule],
                 corrected: _Corrected, max_rounds: int, kept: KeptWorkingStore | None) -> set[Statement]:
    """The rules' part of the inferred graph: the rules over the statements with the predicates
    they read (types: of the classes they ask for), alternating with OWL 2 RL over what they
    conclude, which must stay within what this module follows. Their working store is the one the
    last run kept, brought up to date, when there is one; with what each rule concluded into it
    kept too, and the rules stratified (none reads what it or a later one concludes), each runs
    again only where the change reaches (``_rules_for_keys``)."""
    predicates = read_by(rules)
    if predicates is None:
        raise NeedsFullReasoning("a rule reads triples of any predicate")
    classes = classes_read(rules, lookup.subjects_of)
    # what the kept store was filled with: kept under another selection, it lacks statements
    read_key = hashlib.sha256(" ".join([*sorted(predicates), "|", *sorted(classes or ["any"])]).encode()).hexdigest()

    def is_read(fact: Statement) -> bool:
        return fact[1] in predicates and (fact[1] != TYPE or classes is None or fact[2] in classes)

    working = kept.reopen(read_key) if kept is not None else None
    touched: list[Statement] = []  # what the kept store's patch must say
    if working is not None:
        # what changed among the statements the rules read: removals first, since an added statement
        # may be one that was inferred before
        leaving = [fact for fact in (*corrected.removed, *(corrected.before - corrected.after)) if is_read(fact)]
        coming = [fact for fact in (*corrected.added, *(corrected.after - corrected.before)) if is_read(fact)]
        previous = kept.conclusions if kept is not None else None
        if previous is not None and stratified(rules) and not any(is_read(fact) for fact in previous.drawn):
            again = _rules_for_keys(lookup, tbox, schema, rules, corrected, working, previous, leaving, coming,
                                    is_read)
            if not isinstance(again, list):
                outcome, drawn_again = again
                if kept is not None:
                    kept.seal(working, read_key, [*leaving, *coming, *outcome.touched],
                              KeptConclusions(outcome.by_rule, drawn_again))
                return {fact for facts in outcome.by_rule.values() for fact in facts} | drawn_again
            touched += again  # what the rules concluded left the store again
        leaving += corrected.by_rules  # what the rules concluded last time goes: all of them run over it
        remove_facts(working, leaving)
        insert_facts(working, coming)
        touched += [*leaving, *coming]
    else:
        working = kept.fresh() if kept is not None else ox.Store()
        insert_facts(working, (fact for fact in _closure(tbox, set(schema)) if is_read(fact)))
        insert_facts(working, corrected.read(predicates, classes))
    drawn: set[Statement] = set()

    def owl_rl_after(added: list[Statement], concluded: list[Statement]) -> list[Statement]:
        consequences, keyed = _following(tbox, lookup, frozenset(added))
        if lookup.share_a_key(keyed, tbox.inverse_functional):
            raise NeedsFullReasoning("a rule's conclusion makes two nodes equal")
        new = consequences - drawn - set(concluded) - corrected.known(consequences)
        drawn.update(new)
        return [fact for fact in new if is_read(fact)]

    by_rule: dict[str, frozenset[Statement]] = {}
    concluded = {*alternate(rules, working, max_rounds, owl_rl_after, by_rule), *drawn}
    if kept is not None:
        kept.seal(working, read_key, [*touched, *concluded], KeptConclusions(by_rule, frozenset(drawn)))
    return concluded


def _rules_for_keys(lookup: _Lookup, tbox: TBox, schema: list[Statement], rules: Sequence[Rule],
                    corrected: _Corrected, working: ox.Store, previous: KeptConclusions, leaving: list[Statement],
                    coming: list[Statement], is_read: Callable[[Statement], bool]
                    ) -> tuple[Rerun, frozenset[Statement]] | list[Statement]:
    """The rules again over the kept working store, each for the keys the change reaches where it
    can be (``keyed.rerun``), when what OWL 2 RL draws from their conclusions (and the data does
    not say) is nothing a rule reads: their conclusions, and what it draws. Otherwise the store is
    left with none of their conclusions in it, for all of them to run over everything, and the
    statements taken out are returned."""
    held = {fact for facts in previous.by_rule.values() for fact in facts}
    remove_facts(working, [fact for fact in leaving if fact not in held])
    insert_facts(working, coming)
    schema_read: set[Statement] | None = None

    def in_base(facts: set[Statement]) -> set[Statement]:
        nonlocal schema_read
        if schema_read is None:
            schema_read = {fact for fact in _closure(tbox, set(schema)) if is_read(fact)}
        return corrected.known(facts) | (facts & schema_read)

    outcome = rerun(working, rules, previous.by_rule, [*leaving, *coming], in_base)
    if outcome is not None:
        concluded = frozenset(fact for facts in outcome.by_rule.values() for fact in facts)
        consequences, keyed_facts = _following(tbox, lookup, concluded)
        if lookup.share_a_key(keyed_facts, tbox.inverse_functional):
            raise NeedsFullReasoning("a rule's conclusion makes two nodes equal")
        drawn = consequences - concluded
        drawn -= corrected.known(drawn)
        if not any(is_read(fact) for fact in drawn):
            return outcome, frozenset(drawn)
    held_now = {fact for facts in (outcome or previous).by_rule.values() for fact in facts}
    taken_out = sorted(held_now - in_base(held_now))
    remove_facts(working, taken_out)
    return taken_out


def _read_by_rules(lookup: _Lookup, rules: Sequence[Rule], facts: set[Statement]) -> set[str]:
    """The predicates (or, for types, the classes) of ``facts`` a rule reads."""
    predicates = read_by(rules)
    classes = classes_read(rules, lookup.subjects_of) if predicates is None or TYPE in predicates else frozenset()
    return {o if p == TYPE else p for _, p, o in facts
            if predicates is None or (p in predicates and (p != TYPE or classes is None or o in classes))}


def _following(tbox: TBox, lookup: _Lookup, facts: frozenset[Statement]) -> tuple[set[Statement], list[Statement]]:
    """What the rules conclude from ``facts`` and not without them, and which of these and ``facts``
    are keyed by a functional or inverse-functional property (they join only with another value
    for the same key, which the caller looks for).

    A fact of a transitive property or a property chain's step joins with what its value leads
    to: those facts are read from the store (closed already). That is followed only from a node
    nothing leads to by such a property (a school located in a community, not the community):
    everything the join concludes is then about that node. Otherwise, and for ``owl:sameAs``,
    ``NeedsFullReasoning``."""
    alone = set(_chaining(tbox, facts).derived())
    starts = {fact[0] for fact in (*facts, *alone) if _joins(tbox, fact)}
    if lookup.led_to(starts, tbox):
        raise NeedsFullReasoning("a changed statement joins facts beyond its own subject (a transitive "
                                 "property or a property chain through a node other nodes lead to)")
    joining = [fact for fact in (*facts, *alone) if _joins(tbox, fact)]
    premises = lookup.onward(tbox, joining, starts)
    derived = set(_chaining(tbox, [*premises, *facts]).derived()) - set(_chaining(tbox, premises).derived())
    keyed: list[Statement] = []
    for fact in (*facts, *derived):
        subject, predicate, obj = fact
        if predicate == SAME_AS or (_joins(tbox, fact) and subject not in starts):
            raise NeedsFullReasoning(f"a changed statement feeds a rule joining facts ({predicate})")
        if predicate in tbox.inverse_functional or (not obj.startswith('"') and predicate in tbox.functional):
            keyed.append(fact)
    return derived, keyed


def _joined_onward(tbox: TBox, predicates: set[str]) -> set[str]:
    """The properties whose statements a fact of one of ``predicates`` joins with at its value: a
    transitive property itself, a chain's later steps, and so on for what the chain concludes."""
    found: set[str] = set()
    todo, visited = list(predicates), set(predicates)
    while todo:
        predicate = todo.pop()
        if predicate in tbox.transitive:
            found.add(predicate)
        for chain, steps, position in tbox.chains.get(predicate, ()):
            found.update(steps[position + 1:])
            for later in (*steps[position + 1:], chain):
                if later not in visited:
                    visited.add(later)
                    todo.append(later)
    return found


def _joins(tbox: TBox, fact: Statement) -> bool:
    """Whether ``fact`` is a premise of prp-trp or prp-spo2, which join it with what its value leads to."""
    _, predicate, obj = fact
    return not obj.startswith('"') and (predicate in tbox.transitive or predicate in tbox.chains)


def _closure(tbox: TBox, facts: set[Statement]) -> set[Statement]:
    """``facts`` and everything the rules conclude from them alone."""
    return facts | set(_chaining(tbox, facts).derived())


def _chaining(tbox: TBox, facts: Iterable[Statement]) -> Chaining:
    chaining = Chaining(tbox)
    try:
        chaining.add(facts)
    except SchemaInData as error:
        raise NeedsFullReasoning(f"the data states schema: {error}") from None
    return chaining


def _values_blocks(nodes: Iterable[str]) -> Iterator[str]:
    """The IRIs among ``nodes``, as the contents of VALUES blocks of a quick query's size."""
    ordered = sorted(node for node in nodes if node.startswith("<"))
    for start in range(0, len(ordered), _LOOKUP_BATCH):
        yield " ".join(ordered[start:start + _LOOKUP_BATCH])


class _Lookup:
    """Questions to the store about a few nodes, a VALUES block at a time."""

    def __init__(self, store: GraphStore, graphs: Sequence[str], inferred_graph: str) -> None:
        self._store, self._graphs, self.inferred_graph = store, list(graphs), inferred_graph

    def _in_graphs(self, variable: str) -> str:
        return f"FILTER ({variable} IN ({', '.join(f'<{g}>' for g in self._graphs)}))"

    def asserted(self, facts: Iterable[Statement]) -> set[Statement]:
        """Those of ``facts`` some asserted graph holds."""
        return self._held(facts, [g for g in self._graphs if g != self.inferred_graph])

    def inferred(self, facts: Iterable[Statement]) -> set[Statement]:
        """Those of ``facts`` the inferred graph holds."""
        return self._held(facts, [self.inferred_graph])

    def _held(self, facts: Iterable[Statement], graphs: list[str]) -> set[Statement]:
        found: set[Statement] = set()
        ordered = sorted(fact for fact in facts if not any(term.startswith("_:") for term in fact))
        for start in range(0, len(ordered), _LOOKUP_BATCH):
            values = " ".join(f"({s} {p} {o})" for s, p, o in ordered[start:start + _LOOKUP_BATCH])
            rows = self._store.select_text(
                f"SELECT DISTINCT ?s ?p ?o WHERE {{ VALUES (?s ?p ?o) {{ {values} }} GRAPH ?g {{ ?s ?p ?o }} "
                f"FILTER (?g IN ({', '.join(f'<{g}>' for g in graphs)})) }}")
            found |= {(s or "", p or "", o or "") for s, p, o in rows}
        return found

    def have_geometry(self, nodes: set[str], removed: Iterable[Statement]) -> bool:
        """Whether one of ``nodes`` has a geometry, now or in the ``removed`` statements."""
        if any(s in nodes and p in GEOMETRY_PREDICATES for s, p, _ in removed):
            return True
        return self._any(nodes, f"GRAPH ?g {{ ?n <{GEO.hasGeometry}> ?geometry }} {self._in_graphs('?g')}")

    def share_a_key(self, facts: Sequence[Statement], inverse_functional: frozenset[str]) -> bool:
        """Whether another statement has the subject and property of one of ``facts`` but another
        value (a functional property), or its property and value but another subject (an
        inverse-functional one): prp-fp and prp-ifp would then conclude an ``owl:sameAs``."""
        for s, p, o in facts:
            pattern = (f"{{ ?other {p} {o} FILTER (?other != {s}) }}" if p in inverse_functional
                       else f"{{ {s} {p} ?other FILTER (?other != {o} && !isLiteral(?other)) }}")
            if self._store.select_text(f"SELECT ?other WHERE {{ GRAPH ?g {pattern} {self._in_graphs('?g')} }} "
                                       "LIMIT 1"):
                return True
        return False

    def led_to(self, nodes: set[str], tbox: TBox) -> bool:
        """Whether a statement of a transitive property or a chain step has one of ``nodes`` as value."""
        values = ", ".join(sorted({*tbox.transitive, *tbox.chains}))
        return bool(values) and self._any(nodes, f"GRAPH ?g {{ ?w ?p ?n }} FILTER (?p IN ({values})) "
                                                 f"{self._in_graphs('?g')}")

    def onward(self, tbox: TBox, joining: Iterable[Statement], starts: Iterable[str]) -> set[Statement]:
        """The statements reachable from the values of ``joining`` by the properties prp-trp and
        prp-spo2 join them with (a transitive property itself, a chain's later steps), except those
        about ``starts``."""
        joining = list(joining)
        predicates = ", ".join(sorted(_joined_onward(tbox, {p for _, p, _ in joining})))
        excluded = set(starts)
        found: set[Statement] = set()
        frontier = {fact[2] for fact in joining} - excluded
        seen = set(frontier)
        while frontier and predicates:
            blocks, frontier = list(_values_blocks(frontier)), set()
            for values in blocks:
                rows = self._store.select_text(
                    f"SELECT DISTINCT ?s ?p ?o WHERE {{ VALUES ?s {{ {values} }} GRAPH ?g {{ ?s ?p ?o }} "
                    f"FILTER (?p IN ({predicates}) && !isLiteral(?o)) {self._in_graphs('?g')} }}")
                for s, p, o in rows:
                    found.add((s or "", p or "", o or ""))
                    if o and o not in seen and o not in excluded:
                        seen.add(o)
                        frontier.add(o)
        return found

    def subjects_of(self, predicate: str) -> set[str]:
        """Every subject of ``predicate`` in the store, the ontology's graph included."""
        rows = self._store.select_text(f"SELECT DISTINCT ?s WHERE {{ GRAPH ?g {{ ?s {predicate} ?o }} }}")
        return {s for (s,) in rows if s}

    def have_equals(self, nodes: set[str]) -> bool:
        return self._any(nodes, f"GRAPH ?g {{ {{ ?n {SAME_AS} ?m }} UNION {{ ?m {SAME_AS} ?n }} }} "
                                f"{self._in_graphs('?g')} FILTER (?m != ?n)")

    def _any(self, nodes: set[str], pattern: str) -> bool:
        """Whether ``pattern`` matches with ``?n`` one of ``nodes``."""
        for values in _values_blocks(nodes):
            if self._store.select_text(f"SELECT ?n WHERE {{ VALUES ?n {{ {values} }} {pattern} }} LIMIT 1"):
                return True
        return False

    def with_predicates(self, predicates: frozenset[str], classes: frozenset[str] | None
                        ) -> Iterator[tuple[str, Statement]]:
        """(graph, statement) for every statement with one of ``predicates``; types only of
        ``classes`` (any when None)."""
        others = " ".join(sorted(predicates - {TYPE}))
        queries = [f"SELECT ?g ?s ?p ?o WHERE {{ VALUES ?p {{ {others} }} GRAPH ?g {{ ?s ?p ?o }} "
                   f"{self._in_graphs('?g')} }}"] if others else []
        if TYPE in predicates:
            typed = f"VALUES ?o {{ {' '.join(sorted(classes))} }}" if classes is not None else ""
            if classes is None or classes:
                queries.append(f"SELECT ?g ?s ?p ?o WHERE {{ {typed} GRAPH ?g {{ ?s {TYPE} ?o }} BIND({TYPE} AS ?p) "
                               f"{self._in_graphs('?g')} }}")
        for query in queries:
            for graph, s, p, o in self._store.select_text(query):
                yield (graph or "").strip("<>"), (s or "", p or "", o or "")

    def mentioning(self, nodes: Iterable[str]) -> dict[str, set[Statement]]:
        """Per graph, the statements with one of ``nodes`` as subject or object."""
        found: dict[str, set[Statement]] = {}
        blocks = list(_values_blocks(nodes))
        for variable in ("?s", "?o"):
            for values in blocks:
                rows = self._store.select_text(
                    f"SELECT ?g ?s ?p ?o WHERE {{ VALUES {variable} {{ {values} }} GRAPH ?g {{ ?s ?p ?o }} "
                    f"{self._in_graphs('?g')} }}")
                for graph, s, p, o in rows:
                    found.setdefault((graph or "").strip("<>"), set()).add((s or "", p or "", o or ""))
        return found

