"""OWL 2 RL by forward chaining: each rule on a small case, always against ``reasonable`` on the same input."""

from __future__ import annotations

import pytest
from rdflib import Graph

from kg_service import pipeline
from kg_service.config import Settings
from kg_service.reason import entail, load_rules
from kg_service.reason.chaining import Chaining, chain, compile_tbox, unsupported
from kg_service.reason.entailment import keep, ontology_terms, statements_of
from kg_service.reason.rules import MAX_ROUNDS
from kg_service.store import open_store, statements

PREFIXES = """@prefix : <http://example.org/> . @prefix owl: <http://www.w3.org/2002/07/owl#> .
@prefix rdfs: <http://www.w3.org/2000/01/rdf-schema#> . @prefix xsd: <http://www.w3.org/2001/XMLSchema#> .
"""


def _graph(turtle: str) -> Graph:
    return Graph().parse(data=PREFIXES + turtle, format="turtle")


def _by_reasonable(ontology: Graph, data: Graph) -> set[tuple[str, str, str]]:
    from kg_service.reason.entailment import _by_reasonable as general

    facts = statements_of(data)
    terms = ontology_terms(statements_of(ontology))
    return {f for f in general(ontology, lambda: facts, [], MAX_ROUNDS) if keep(f, terms)}


def _ex(name: str) -> str:
    return f"<http://example.org/{name}>"


TYPE, SAME = "<http://www.w3.org/1999/02/22-rdf-syntax-ns#type>", "<http://www.w3.org/2002/07/owl#sameAs>"

CASES = {
    "cax-sco through two levels": (":A rdfs:subClassOf :B . :B rdfs:subClassOf :C .", ":x a :A .",
                                   (_ex("x"), TYPE, _ex("C"))),
    "cax-eqc both ways": (":A owl:equivalentClass :B .", ":x a :B .", (_ex("x"), TYPE, _ex("A"))),
    "prp-dom of a datatype property": (":p rdfs:domain :D .", ':x :p "v" .', (_ex("x"), TYPE, _ex("D"))),
    "prp-rng of an object property": (":p rdfs:range :R .", ":x :p :y .", (_ex("y"), TYPE, _ex("R"))),
    "prp-spo1 then its domain": (":p rdfs:subPropertyOf :q . :q rdfs:domain :D .", ":x :p :y .",
                                 (_ex("x"), TYPE, _ex("D"))),
    "prp-inv": (":p owl:inverseOf :q .", ":x :q :y .", (_ex("y"), _ex("p"), _ex("x"))),
    "prp-symp": (":p a owl:SymmetricProperty .", ":x :p :y .", (_ex("y"), _ex("p"), _ex("x"))),
    "prp-trp, facts out of order": (":p a owl:TransitiveProperty .", ":c :p :d . :a :p :b . :b :p :c .",
                                    (_ex("a"), _ex("p"), _ex("d"))),
    "prp-spo2, a chain of three": (":p owl:propertyChainAxiom ( :a :b :c ) .", ":x :a :y . :z :c :w . :y :b :z .",
                                   (_ex("x"), _ex("p"), _ex("w"))),
    "cls-hv1 and cls-hv2": (":Red owl:equivalentClass [ a owl:Restriction ; owl:onProperty :colour ; "
                            "owl:hasValue :red ] .", ":x a :Red . :y :colour :red .", (_ex("y"), TYPE, _ex("Red"))),
    "prp-fp makes equals, eq-rep carries their facts": (
        ":hasMayor a owl:FunctionalProperty .", ":city :hasMayor :m1 . :m1 :age 50 . :city :hasMayor :m2 .",
        (_ex("m2"), "<http://example.org/age>", '"50"^^<http://www.w3.org/2001/XMLSchema#integer>')),
    "prp-ifp": (":code a owl:InverseFunctionalProperty .", ':a :code "7" . :b :code "7" . :b :p :q .',
                (_ex("a"), _ex("p"), _ex("q"))),
    "eq-trans and the type of an equal": (":A rdfs:subClassOf :B .", ":x owl:sameAs :y . :y owl:sameAs :z . :z a :A .",
                                          (_ex("x"), TYPE, _ex("B"))),
}


@pytest.mark.parametrize("case", list(CASES))
def test_each_rule_concludes_what_reasonable_concludes(case: str) -> None:
    schema, data, expected = CASES[case]
    ontology, facts = _graph(schema), _graph(data)
    assert not unsupported(ontology)
    chained = entail(ontology, lambda: statements_of(facts), [])
    assert expected in chained
    assert chained == _by_reasonable(ontology, facts)


def test_a_construct_beyond_chaining_goes_to_reasonable() -> None:
    ontology = _graph(":Parent owl:equivalentClass [ a owl:Restriction ; owl:onProperty :hasChild ; "
                      "owl:someValuesFrom :Person ] .")
    assert "owl:someValuesFrom" in unsupported(ontology)
    facts = _graph(":x :hasChild :y . :y a :Person .")
    assert (_ex("x"), TYPE, _ex("Parent")) in entail(ontology, lambda: statements_of(facts), [])


def test_schema_stated_in_the_data_goes_to_reasonable() -> None:
    ontology, facts = _graph(":A rdfs:subClassOf :B ."), _graph(":B rdfs:subClassOf :C . :x a :A .")
    assert (_ex("x"), TYPE, _ex("C")) in entail(ontology, lambda: statements_of(facts), [])


def test_facts_no_axiom_joins_on_flow_through_without_being_kept() -> None:
    tbox = compile_tbox(_graph(":value rdfs:domain :Reading . :p a owl:TransitiveProperty ."))
    readings = [(_ex(f"r{i}"), _ex("value"), f'"{i}"') for i in range(1000)]
    chaining = Chaining(tbox)
    chaining.add(readings)
    assert sum(1 for _ in chaining.known_facts()) == 1000, "one type per reading is all that is kept"
    assert {fact for fact in chaining.derived()} == {(_ex(f"r{i}"), TYPE, _ex("Reading")) for i in range(1000)}


def test_facts_about_equals_are_read_again_when_equality_comes_late() -> None:
    tbox = compile_tbox(_graph(":id a owl:InverseFunctionalProperty ."))
    # :a's label flows through before :a and :b are known to be equal: only a second reading finds it
    facts = [(_ex("a"), _ex("label"), '"A"'), (_ex("a"), _ex("id"), '"1"'), (_ex("b"), _ex("id"), '"1"')]
    reads = 0

    def source() -> list[tuple[str, str, str]]:
        nonlocal reads
        reads += 1
        return facts

    derived = set(chain(tbox, source).derived())
    assert (_ex("b"), _ex("label"), '"A"') in derived
    assert reads == 2


def test_on_the_sample_city_chaining_and_reasonable_agree(memory_settings: Settings) -> None:
    with open_store(memory_settings) as store:
        pipeline.ingest(memory_settings, store)
        graphs = [g for g in store.named_graphs() if g.startswith(memory_settings.graphs.source_prefix)]
        facts = list(statements(store, [*graphs, memory_settings.graphs.spatial]))
    vocabulary = pipeline.Vocabulary.load(memory_settings)
    assert not unsupported(vocabulary.ontology), "the city ontology is reasoned over by chaining"
    rules = load_rules(memory_settings.ontology_dir)
    from kg_service.reason.entailment import _by_reasonable as general

    terms = ontology_terms(statements_of(vocabulary.ontology))
    chained = entail(vocabulary.ontology, lambda: facts, rules)
    assert len(chained) > 500
    assert chained == {f for f in general(vocabulary.ontology, lambda: facts, rules, MAX_ROUNDS) if keep(f, terms)}
