"""OWL 2 RL for a whole city: the rules the ontology's axioms instantiate, applied by forward chaining.

https://www.w3.org/TR/owl2-profiles/#Reasoning_in_OWL_2_RL_and_RDF_Graphs_using_Rules

``reasonable`` holds about 23 KB per input triple: a generated city of 100k source rows did not
fit in 14 GB. The city ontology uses a small part of OWL 2 RL, and with the schema fixed the
rules become lookups: each data triple fires the rules its predicate (or, for a type, its class)
instantiates, and only the triples a later join or a duplicate check needs are kept (types, and
the predicates that are transitive, functional, in a chain or derivable). Data flows through;
memory follows what is kept, not the data.

Rules applied: cax-sco, cax-eqc1/2, prp-dom, prp-rng, prp-spo1, prp-spo2, prp-eqp1/2, prp-inv1/2,
prp-symp, prp-trp, prp-fp, prp-ifp, cls-hv1/2, eq-sym, eq-trans, eq-rep-s/o. The schema rules
(scm-*) need no pass of their own: chaining through direct super-classes and super-properties
reaches what their closure would. Rules that only find inconsistencies (cax-dw, prp-irp...) infer
nothing and are the consistency check's business. ``unsupported`` names the constructs of a
schema this does not cover (existential and universal restrictions, intersections, unions, keys,
cardinalities...): such an ontology is reasoned over by ``reasonable`` instead.

Terms are N-Triples strings, as the store reads them, so nothing is parsed into objects.
"""

from __future__ import annotations

import sys
from collections import defaultdict
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field

from rdflib import OWL, RDF, RDFS, BNode, Graph, URIRef
from rdflib.collection import Collection
from rdflib.term import Node

Statement = tuple[str, str, str]  # subject, predicate, object, each in N-Triples form

TYPE, SAME_AS = f"<{RDF.type}>", f"<{OWL.sameAs}>"

# Constructs of OWL 2 RL whose rules join data in ways the lookups here do not.
_UNSUPPORTED_PREDICATES = {OWL.someValuesFrom, OWL.allValuesFrom, OWL.intersectionOf, OWL.unionOf, OWL.oneOf,
                           OWL.hasKey, OWL.maxCardinality, OWL.maxQualifiedCardinality, OWL.cardinality,
                           OWL.qualifiedCardinality, OWL.minCardinality, OWL.complementOf, OWL.disjointUnionOf,
                           OWL.onClass, OWL.onDataRange, OWL.hasSelf, OWL.datatypeComplementOf,
                           OWL.withRestrictions, OWL.onProperties, OWL.equivalentProperty}
# Schema predicates a data triple may not carry here: the schema is the ontology's, compiled once.
_SCHEMA_PREDICATES = frozenset(f"<{p}>" for p in (
    RDFS.subClassOf, RDFS.subPropertyOf, RDFS.domain, RDFS.range, OWL.equivalentClass, OWL.equivalentProperty,
    OWL.inverseOf, OWL.propertyChainAxiom, OWL.onProperty, OWL.hasValue, *_UNSUPPORTED_PREDICATES))
_SCHEMA_TYPES = frozenset(f"<{t}>" for t in (
    OWL.TransitiveProperty, OWL.SymmetricProperty, OWL.FunctionalProperty, OWL.InverseFunctionalProperty,
    OWL.Restriction))


def unsupported(schema: Graph) -> list[str]:
    """The constructs ``schema`` uses that this module does not reason with; empty when it covers them."""
    found = {predicate.n3(schema.namespace_manager) for predicate in set(schema.predicates())
             if predicate in _UNSUPPORTED_PREDICATES}
    for restriction in schema.subjects(RDF.type, OWL.Restriction):
        if (restriction, OWL.hasValue, None) not in schema:
            found.add(f"a restriction other than owl:hasValue ({restriction.n3()})")
    for predicate in (RDFS.subClassOf, OWL.equivalentClass, RDFS.domain, RDFS.range):
        for _, superclass in schema.subject_objects(predicate):
            if isinstance(superclass, BNode) and (superclass, OWL.hasValue, None) not in schema:
                found.add(f"an anonymous class as the object of {predicate.n3(schema.namespace_manager)}")
    return sorted(found)


@dataclass(frozen=True)
class TBox:
    """The ontology's axioms as lookup tables, keyed by N-Triples terms."""

    superclasses: dict[str, frozenset[str]]  # direct, equivalence both ways
    superproperties: dict[str, frozenset[str]]  # direct, equivalence both ways
    domains: dict[str, frozenset[str]]
    ranges: dict[str, frozenset[str]]
    inverses: dict[str, frozenset[str]]
    symmetric: frozenset[str]
    transitive: frozenset[str]
    functional: frozenset[str]
    inverse_functional: frozenset[str]
    # step predicate -> (the chain's property, its steps, the step's position)
    chains: dict[str, tuple[tuple[str, tuple[str, ...], int], ...]]
    values_of_class: dict[str, tuple[tuple[str, str], ...]]  # hasValue restriction -> (property, value)
    classes_of_value: dict[tuple[str, str], frozenset[str]]  # (property, value) -> hasValue restrictions
    schema: frozenset[Statement]  # the schema's own triples: a fact that is one of them is no new schema

    @property
    def joined(self) -> frozenset[str]:
        """Predicates whose triples a later fact joins with: they are indexed."""
        steps = set(self.chains)
        return frozenset({*self.transitive, *self.functional, *self.inverse_functional, *steps})

    @property
    def derivable(self) -> frozenset[str]:
        """Predicates a rule can conclude (besides rdf:type): their facts are kept to tell new from known."""
        targets = {chain for entries in self.chains.values() for chain, _, _ in entries}
        return frozenset({*(p for sups in self.superproperties.values() for p in sups),
                          *(p for invs in self.inverses.values() for p in invs), *self.symmetric, *self.transitive,
                          *targets, *(p for pairs in self.values_of_class.values() for p, _ in pairs), SAME_AS})


def compile_tbox(schema: Graph) -> TBox:
    """The lookup tables of ``schema``'s axioms (see ``unsupported`` for what it must not use)."""
    def nt(term: Node) -> str:
        return sys.intern(term.n3())

    def table(pairs: Iterable[tuple[Node, Node]]) -> dict[str, frozenset[str]]:
        grouped: dict[str, set[str]] = defaultdict(set)
        for key, value in pairs:
            grouped[nt(key)].add(nt(value))
        return {key: frozenset(values) for key, values in grouped.items()}

    def both_ways(predicate: URIRef) -> list[tuple[Node, Node]]:
        pairs = list(schema.subject_objects(predicate))
        return [*pairs, *((b, a) for a, b in pairs)]

    def typed(kind: URIRef) -> frozenset[str]:
        return frozenset(nt(p) for p in schema.subjects(RDF.type, kind))

    chains: dict[str, list[tuple[str, tuple[str, ...], int]]] = defaultdict(list)
    for prop, head in schema.subject_objects(OWL.propertyChainAxiom):
        steps = tuple(nt(step) for step in Collection(schema, head))
        for position, step in enumerate(steps):
            chains[step].append((nt(prop), steps, position))
    values_of_class: dict[str, list[tuple[str, str]]] = defaultdict(list)
    classes_of_value: dict[tuple[str, str], set[str]] = defaultdict(set)
    for restriction, value in schema.subject_objects(OWL.hasValue):
        for prop in schema.objects(restriction, OWL.onProperty):
            values_of_class[nt(restriction)].append((nt(prop), nt(value)))
            classes_of_value[(nt(prop), nt(value))].add(nt(restriction))
    return TBox(
        superclasses=table([*schema.subject_objects(RDFS.subClassOf), *both_ways(OWL.equivalentClass)]),
        superproperties=table([*schema.subject_objects(RDFS.subPropertyOf), *both_ways(OWL.equivalentProperty)]),
        domains=table(schema.subject_objects(RDFS.domain)),
        ranges=table(schema.subject_objects(RDFS.range)),
        inverses=table(both_ways(OWL.inverseOf)),
        symmetric=typed(OWL.SymmetricProperty), transitive=typed(OWL.TransitiveProperty),
        functional=typed(OWL.FunctionalProperty), inverse_functional=typed(OWL.InverseFunctionalProperty),
        chains={step: tuple(entries) for step, entries in chains.items()},
        values_of_class={cls: tuple(pairs) for cls, pairs in values_of_class.items()},
        classes_of_value={key: frozenset(classes) for key, classes in classes_of_value.items()},
        schema=frozenset((nt(s), nt(p), nt(o)) for s, p, o in schema),
    )


class SchemaInData(Exception):
    """A data triple states schema (a sub-class, a domain, a transitive property...) the TBox does not hold."""


@dataclass
class _Index:
    forward: dict[str, set[str]] = field(default_factory=lambda: defaultdict(set))
    backward: dict[str, set[str]] = field(default_factory=lambda: defaultdict(set))


class Chaining:
    """Forward chaining of the TBox's rules over facts given once each (a stream), plus equality.

    ``add`` takes asserted facts, ``add_derived`` facts another reasoner concluded; ``derived``
    is everything concluded that no asserted fact states."""

    def __init__(self, tbox: TBox) -> None:
        self._tbox = tbox
        self._kept = tbox.derivable | tbox.joined
        self._joined = tbox.joined
        self._known: set[Statement] = set()  # facts with a kept predicate
        self._types: dict[str, set[str]] = defaultdict(set)  # node -> every class known
        self._asserted: set[Statement] = set()  # kept facts and types some input states
        self._index: dict[str, _Index] = defaultdict(_Index)
        self._equal: dict[str, set[str]] = {}  # node -> its equality class (shared set), IRIs only
        self._pending: list[Statement] = []
        self._fresh: list[Statement] | None = None  # what ``add_derived`` adds, while it runs

    def add(self, facts: Iterable[Statement]) -> None:
        for fact in facts:
            subject, predicate, obj = fact
            schema = predicate in _SCHEMA_PREDICATES or (predicate == TYPE and obj in _SCHEMA_TYPES)
            if schema and fact not in self._tbox.schema:
                raise SchemaInData(f"{subject} {predicate} {obj}")
            self._take(fact, asserted=True)
            self._drain()

    def add_derived(self, facts: Iterable[Statement]) -> list[Statement]:
        """Facts another reasoner concluded; returns those they and the rules they fire add."""
        self._fresh = []
        for fact in facts:
            self._take(fact, asserted=False)
            self._drain()
        fresh, self._fresh = self._fresh, None
        return fresh

    def equalities(self) -> set[str]:
        """Nodes that have an equal other than themselves: the facts about them need replaying."""
        return set(self._equal)

    def replay(self, facts: Iterable[Statement]) -> None:
        """eq-rep-s/o for facts given before their nodes were found equal (asserted ones, again)."""
        for fact in facts:
            if fact[0] in self._equal or fact[2] in self._equal:
                self._take(fact, asserted=True)  # kept now, so known as asserted, and rewritten if new
                self._drain()

    def derived(self) -> Iterator[Statement]:
        for fact in self._known:
            if fact not in self._asserted:
                yield fact
        for node, classes in self._types.items():
            for cls in classes:
                if (node, TYPE, cls) not in self._asserted:
                    yield node, TYPE, cls

    def known_facts(self) -> Iterator[Statement]:
        """Every fact kept (asserted or derived) and every type: what equality must rewrite."""
        yield from self._known
        for node, classes in self._types.items():
            for cls in classes:
                yield node, TYPE, cls

    def _take(self, fact: Statement, *, asserted: bool) -> None:
        subject, predicate, obj = fact
        if predicate == TYPE:
            if asserted:
                self._asserted.add(fact)
            if obj in self._types[subject]:
                return
            self._types[subject].add(sys.intern(obj))
        elif predicate in self._kept or (self._equal and (subject in self._equal or obj in self._equal)):
            # a fact about an equal node is kept too: rewriting it for each equal must come to an end
            if asserted:
                self._asserted.add(fact)
            if fact in self._known:
                return
            self._known.add(fact)
        if self._fresh is not None and not asserted:
            self._fresh.append(fact)
        self._pending.append(fact)

    def _drain(self) -> None:
        while self._pending:
            self._fire(*self._pending.pop())

    def _emit(self, subject: str, predicate: str, obj: str) -> None:
        self._take((subject, predicate, obj), asserted=False)

    def _fire(self, s: str, p: str, o: str) -> None:
        tbox = self._tbox
        if self._equal and (s in self._equal or o in self._equal):
            self._rewrite(s, p, o)
        if p == TYPE:
            for superclass in tbox.superclasses.get(o, ()):  # cax-sco, cax-eqc
                self._emit(s, TYPE, superclass)
            for prop, value in tbox.values_of_class.get(o, ()):  # cls-hv1
                self._emit(s, prop, value)
            return
        node = not o.startswith('"')  # an IRI or blank node: it can be a subject
        for superproperty in tbox.superproperties.get(p, ()):  # prp-spo1, prp-eqp
            self._emit(s, superproperty, o)
        for domain in tbox.domains.get(p, ()):  # prp-dom
            self._emit(s, TYPE, domain)
        for restriction in tbox.classes_of_value.get((p, o), ()):  # cls-hv2
            self._emit(s, TYPE, restriction)
        if node:
            for range_ in tbox.ranges.get(p, ()):  # prp-rng
                self._emit(o, TYPE, range_)
            for inverse in tbox.inverses.get(p, ()):  # prp-inv1/2
                self._emit(o, inverse, s)
            if p in tbox.symmetric:  # prp-symp
                self._emit(o, p, s)
        if p == SAME_AS:
            if node and s != o:
                self._merge(s, o)
            return
        if p not in self._joined:
            return
        index = self._index[p]
        if p in tbox.functional and node:  # prp-fp
            for other in list(index.forward.get(s, ())):
                if other != o and not other.startswith('"'):
                    self._emit(o, SAME_AS, other)
        if p in tbox.inverse_functional:  # prp-ifp
            for other in list(index.backward.get(o, ())):
                if other != s:
                    self._emit(s, SAME_AS, other)
        index.forward[s].add(o)
        index.backward[o].add(s)
        if p in tbox.transitive and node:  # prp-trp
            for z in list(index.forward.get(o, ())):
                self._emit(s, p, z)
            for x in list(index.backward.get(s, ())):
                self._emit(x, p, o)
        for chain, steps, position in tbox.chains.get(p, ()):  # prp-spo2
            for x in self._walk(s, steps[:position][::-1], backward=True):
                for z in self._walk(o, steps[position + 1:], backward=False):
                    self._emit(x, chain, z)

    def _walk(self, start: str, steps: Iterable[str], *, backward: bool) -> set[str]:
        frontier = {start}
        for step in steps:
            index = self._index[step]
            links = index.backward if backward else index.forward
            frontier = {n for node in frontier for n in links.get(node, ())}
        return frontier

    def _merge(self, a: str, b: str) -> None:
        """eq-sym, eq-trans: one class per set of equal nodes, every pair stated both ways."""
        left, right = self._equal.get(a, {a}), self._equal.get(b, {b})
        if left is right:
            return
        merged = left | right
        for node in merged:
            self._equal[node] = merged
        for x in merged:
            for y in merged:
                if x != y:
                    self._emit(x, SAME_AS, y)
        for x in merged:  # eq-rep for what is already known of them
            for fact in [f for f in self.known_facts() if f[0] == x or f[2] == x]:
                self._rewrite(*fact)

    def _rewrite(self, s: str, p: str, o: str) -> None:
        """eq-rep-s, eq-rep-o."""
        if p == SAME_AS:
            return
        for s2 in self._equal.get(s, {s}):
            for o2 in (self._equal.get(o, {o}) if not o.startswith('"') else (o,)):
                if (s2, o2) != (s, o):
                    self._emit(s2, p, o2)


def chain(tbox: TBox, facts: Callable[[], Iterable[Statement]]) -> Chaining:
    """Every fact of ``facts()`` through the rules; asserted facts are read again only when equalities
    were found, for the facts about the equal nodes that had already flowed through."""
    chaining = Chaining(tbox)
    chaining.add(facts())
    seen: set[str] = set()
    while (equal := chaining.equalities()) - seen:
        seen = equal
        chaining.replay(facts())
    return chaining
