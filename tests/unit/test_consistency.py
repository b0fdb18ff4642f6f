"""consistency.inconsistencies: one readable reason per clash, nothing for consistent data."""

from __future__ import annotations

import pytest
from rdflib import Graph

from kg_service.reason.abox import closure
from kg_service.reason.consistency import inconsistencies

PREFIXES = """@prefix : <http://example.org/> .
@prefix owl: <http://www.w3.org/2002/07/owl#> .
@prefix rdf: <http://www.w3.org/1999/02/22-rdf-syntax-ns#> .
@prefix rdfs: <http://www.w3.org/2000/01/rdf-schema#> .
@prefix xsd: <http://www.w3.org/2001/XMLSchema#> .
"""


def clashes(turtle: str) -> list[str]:
    return inconsistencies(closure(Graph(), Graph().parse(data=PREFIXES + turtle, format="turtle")))


@pytest.mark.parametrize(("turtle", "rule", "node"), [
    (":a owl:sameAs :b . :a owl:differentFrom :b .", "eq-diff1", ":a"),
    (":a owl:differentFrom :a .", "eq-diff1", ":a"),
    ("[] a owl:AllDifferent ; owl:members (:a :b :c) . :c owl:sameAs :a .", "eq-diff2/3", ":c"),
    (":p a owl:IrreflexiveProperty . :a :p :a .", "prp-irp", ":p"),
    (":p a owl:AsymmetricProperty . :a :p :b . :b :p :a .", "prp-asyp", ":p"),
    (":p owl:propertyDisjointWith :q . :a :p :b ; :q :b .", "prp-pdw", ":q"),
    ("[] a owl:AllDisjointProperties ; owl:members (:p :q :r) . :a :p :b ; :r :b .", "prp-adp", ":r"),
    ("[] owl:sourceIndividual :a ; owl:assertionProperty :p ; owl:targetIndividual :b . :a :p :b .",
     "prp-npa1", ":a"),
    ("[] owl:sourceIndividual :a ; owl:assertionProperty :p ; owl:targetValue 7 . :a :p 7 .", "prp-npa2", ":a"),
    (":a a owl:Nothing .", "cls-nothing2", ":a"),
    (":C owl:complementOf :D . :a a :C , :D .", "cls-com", ":a"),
    (":R owl:maxCardinality 0 ; owl:onProperty :p . :a a :R ; :p :b .", "cls-maxc1", ":a"),
    (":R owl:maxQualifiedCardinality 0 ; owl:onProperty :p ; owl:onClass :C . :a a :R ; :p :b . :b a :C .",
     "cls-maxqc1/2", ":b"),
    (":C owl:disjointWith :D . :E rdfs:subClassOf :D . :a a :C , :E .", "cax-dw", ":a"),
    ("[] a owl:AllDisjointClasses ; owl:members (:C :D :E) . :a a :C , :E .", "cax-adc", ":a"),
    (':a :height "tall"^^xsd:int .', "dt-not-type", "tall"),
    (':a :count "300"^^xsd:byte .', "dt-not-type", "300"),
    (':a a xsd:integer ; owl:sameAs "false"^^xsd:boolean .', "dt-not-type", ":a"),
    (':a a xsd:int ; owl:sameAs "5000000000"^^xsd:integer .', "dt-not-type", ":a"),
])
def test_each_rule_reports_its_clash_by_name_and_nodes(turtle: str, rule: str, node: str) -> None:
    found = clashes(turtle)
    shown = f"<http://example.org/{node[1:]}>" if node.startswith(":") else node
    assert any(reason.startswith(f"{rule}: ") and shown in reason for reason in found), found


@pytest.mark.parametrize("turtle", [
    ":a owl:differentFrom :b . :c owl:sameAs :a .",
    "[] a owl:AllDifferent ; owl:members (:a :b) .",
    ":p a owl:AsymmetricProperty . :a :p :b .",
    ":p owl:propertyDisjointWith :q . :a :p :b ; :q :c .",
    ":C owl:disjointWith :D . :a a :C . :b a :D .",
    "[] a owl:AllDisjointClasses ; owl:members (:C :D) . :a a :C .",
    ":R owl:maxQualifiedCardinality 0 ; owl:onProperty :p ; owl:onClass :C . :a a :R ; :p :b .",
    ':a :height "12"^^xsd:int ; :born "2001-02-03T04:05:06Z"^^xsd:dateTime ; :name "x"@zh .',
    ':a a xsd:integer ; owl:sameAs "7"^^xsd:byte .',
    ':a a xsd:decimal ; owl:sameAs 42 .',
])
def test_consistent_data_has_no_clash(turtle: str) -> None:
    assert clashes(turtle) == []


def test_each_clash_is_reported_once_and_the_order_is_stable() -> None:
    found = clashes(":C owl:disjointWith :D . :a a :C , :D . :b a :C , :D .")
    assert found == sorted(set(found))
    assert [r for r in found if "<http://example.org/b>" in r] == [
        "cax-dw: <http://example.org/b> is an instance of both <http://example.org/C> and <http://example.org/D>, "
        "which are disjoint classes"]
