"""reason/keyed.py: which rules can be run again for a few keys, and that doing so concludes what
running them over everything concludes, for random changes of a small city of pumps and readings."""

from __future__ import annotations

import random
from pathlib import Path

import pyoxigraph as ox
import pytest

from kg_service.config import project_path
from kg_service.reason import keyed as keyed_module
from kg_service.reason.keyed import keyed, rerun, stratified
from kg_service.reason.rules import Rule, load_rules

EX = "http://example.org/"
CITY = "https://w3id.org/citykg/ontology#"
SOSA = "http://www.w3.org/ns/sosa/"
TYPE = "http://www.w3.org/1999/02/22-rdf-syntax-ns#type"
XSD = "http://www.w3.org/2001/XMLSchema#"
Statement = tuple[str, str, str]


@pytest.fixture(scope="module")
def shipped() -> dict[str, Rule]:
    return {rule.name[:2]: rule for rule in load_rules(project_path("ontology"))}


def _rules(tmp_path: Path, *texts: str) -> list[Rule]:
    folder = tmp_path / "rules"
    folder.mkdir(parents=True, exist_ok=True)
    for number, text in enumerate(texts):
        (folder / f"{number:02}-r.rq").write_text(f"PREFIX : <{EX}>\n{text}", encoding="utf-8")
    return load_rules(tmp_path)


def test_the_shipped_rules_without_negation_are_keyed_by_their_templates_subject(shipped: dict[str, Rule]) -> None:
    assert {number: (plan.key if (plan := keyed(rule)) else None) for number, rule in shipped.items()} == {
        "01": None, "02": None,  # FILTER NOT EXISTS
        "03": "asset", "04": "asset", "05": "agent"}


@pytest.mark.parametrize("where", [
    "?s :a ?o OPTIONAL { ?o :b ?x }",
    "{ ?s :a ?o } UNION { ?s :b ?o }",
    "?s :a ?o FILTER NOT EXISTS { ?o :b ?x }",
    "?s :a ?o BIND(1 AS ?one)",
    "?s :a ?o VALUES ?o { :x }",
    "?s :a ?o { SELECT ?o WHERE { ?o :b ?x } LIMIT 1 }",
    "?s :a ?o { SELECT (COUNT(?x) AS ?o) WHERE { ?y :b ?x } GROUP BY ?y }",  # groups the rows do not name
    "?s :a ?o . ?x :b ?y",  # a pattern no walk from ?s reaches
    "?s :a* ?o",
    "?s ?p ?o",
])
def test_a_rule_whose_patterns_a_solution_may_not_use_is_not_keyed(tmp_path: Path, where: str) -> None:
    (rule,) = _rules(tmp_path, f"CONSTRUCT {{ ?s :c ?o }} WHERE {{ {where} }}")
    assert keyed(rule) is None


@pytest.mark.parametrize("query", [
    "CONSTRUCT { ?s :c ?o . ?o :d ?s } WHERE { ?s :a ?o }",  # about two nodes
    "CONSTRUCT { ?s :c ?o } WHERE { ?s :a ?o } GROUP BY ?s ?o",  # its own solutions grouped
])
def test_a_rule_of_another_shape_is_not_keyed(tmp_path: Path, query: str) -> None:
    (rule,) = _rules(tmp_path, query)
    assert keyed(rule) is None


def test_rules_reading_what_they_or_later_ones_conclude_are_not_stratified(tmp_path: Path) -> None:
    assert stratified(_rules(tmp_path / "a", "CONSTRUCT { ?s :b ?o } WHERE { ?s :a ?o }",
                             "CONSTRUCT { ?s :c ?o } WHERE { ?s :b ?o }"))
    assert not stratified(_rules(tmp_path / "b", "CONSTRUCT { ?s :c ?o } WHERE { ?s :b ?o }",
                                 "CONSTRUCT { ?s :b ?o } WHERE { ?s :a ?o }"))
    assert not stratified(_rules(tmp_path / "c", "CONSTRUCT { ?s :a ?o } WHERE { ?s :a/:a ?o }"))


# ---- a small city, changed at random --------------------------------------------------------------


def _city(rng: random.Random) -> set[Statement]:
    """Pump stations (a load share for their class, a capacity and unit, thresholds), their
    readings (of the station itself or of a sensor monitoring it) and hospitals depending on them."""
    facts: set[Statement] = {(f"<{EX}Pump>", f"<{CITY}maxLoadShare>", f'"0.8"^^<{XSD}decimal>')}
    for station in range(6):
        asset, capacity = f"<{EX}station{station}>", f'"{100 + station}"^^<{XSD}integer>'
        facts |= {(asset, f"<{TYPE}>", f"<{EX}Pump>"), (asset, f"<{CITY}designCapacity>", capacity),
                  (asset, f"<{CITY}unit>", '"m3/h"'), (f"<{EX}sensor{station}>", f"<{CITY}monitors>", asset),
                  (f"<{EX}hospital{station % 3}>", f"<{CITY}dependsOn>", asset),
                  (asset, f"<{CITY}governedBy>", f"<{EX}threshold{station % 2}>")}
    for threshold in range(2):
        facts |= {(f"<{EX}threshold{threshold}>", f"<{CITY}thresholdFor>", f"<{CITY}FlowRate>")}
    for number in range(40):
        facts |= _reading(rng, number)
    return facts


def _reading(rng: random.Random, number: int) -> set[Statement]:
    reading, station = f"<{EX}reading{number}>", rng.randrange(6)
    reached = ((reading, f"<{SOSA}hasFeatureOfInterest>", f"<{EX}station{station}>") if rng.random() < 0.6
               else (reading, f"<{SOSA}madeBySensor>", f"<{EX}sensor{station}>"))
    facts = {reached, (reading, f"<{SOSA}observedProperty>", f"<{CITY}FlowRate>"),
             (reading, f"<{SOSA}resultTime>", f'"2030-01-01T{rng.randrange(24):02}:00:00Z"^^<{XSD}dateTime>'),
             (reading, f"<{CITY}observedValue>", f'"{rng.randrange(60, 120)}"^^<{XSD}integer>'),
             (reading, f"<{CITY}unit>", '"m3/h"' if rng.random() < 0.9 else '"m3/d"')}
    if rng.random() < 0.3:
        facts.add((reading, f"<{CITY}exceeds>", f"<{EX}threshold{rng.randrange(2)}>"))
    return facts


def _store(facts: set[Statement]) -> ox.Store:
    store = ox.Store()
    store.load("".join(f"{s} {p} {o} .\n" for s, p, o in facts).encode(), format=ox.RdfFormat.N_TRIPLES)
    return store


def _run(rule: Rule, store: ox.Store) -> frozenset[Statement]:
    result = store.query(rule.text)
    assert isinstance(result, ox.QueryTriples)
    return frozenset((str(t.subject), str(t.predicate), str(t.object)) for t in result)


def _change(rng: random.Random, facts: set[Statement]) -> set[Statement]:
    """Some readings rewritten, dropped or added; a station moved to another class or capacity."""
    changed = set(facts)
    for _ in range(rng.randrange(1, 4)):
        number = rng.randrange(50)
        changed = {fact for fact in changed if fact[0] != f"<{EX}reading{number}>"}
        if rng.random() < 0.7:
            changed |= _reading(rng, number)
    if rng.random() < 0.2:
        asset = f"<{EX}station{rng.randrange(6)}>"
        changed = {fact for fact in changed if not (fact[0] == asset and fact[1] == f"<{CITY}designCapacity>")}
        changed.add((asset, f"<{CITY}designCapacity>", f'"{rng.randrange(60, 160)}"^^<{XSD}integer>'))
    return changed


@pytest.mark.parametrize("seed", range(25))
def test_a_keyed_rule_for_the_keys_a_change_reaches_concludes_what_it_concludes_over_everything(
        shipped: dict[str, Rule], seed: int) -> None:
    rng = random.Random(seed)
    before = _city(rng)
    after = _change(rng, before)
    store = _store(after)
    changed = list(ox.parse("".join(f"{s} {p} {o} .\n" for s, p, o in before ^ after).encode(),
                            format=ox.RdfFormat.N_TRIPLES))
    for number in ("03", "04", "05"):
        plan = keyed(shipped[number])
        assert plan is not None
        keys = plan.keys_reached(store, changed, limit=1000)
        assert keys is not None
        selected = plan.neighbourhood(store, keys, budget=100_000)
        assert selected is not None and len(selected) <= len(after)
        then, now = _run(shipped[number], _store(before)), _run(shipped[number], store)
        result = {c for c in then if c[0] not in {str(key) for key in keys}}
        result |= {c for c in _run(shipped[number], selected) if c[0] in {str(key) for key in keys}}
        assert result == now, (number, sorted(result ^ now))
        assert {c[0] for c in then ^ now} <= {str(key) for key in keys}  # what changed is about keys reached


@pytest.mark.parametrize("limit", [None, "KEYS_LIMIT", "NEIGHBOURHOOD_BUDGET", "CHANGED_LIMIT"])
def test_rerun_brings_each_rules_conclusions_and_the_store_up_to_date(shipped: dict[str, Rule], limit: str | None,
                                                                     monkeypatch: pytest.MonkeyPatch) -> None:
    """For the keys the change reaches, or over everything when a limit is passed."""
    if limit is not None:
        monkeypatch.setattr(keyed_module, limit, 0)
    rng = random.Random(99)
    rules = [shipped[number] for number in ("03", "04", "05")]
    before = _city(rng)
    after = _change(rng, before)
    working = _store(before)
    previous = {}
    for rule in rules:  # the first run, over everything
        previous[rule.name] = _run(rule, working)
        working.extend(ox.Quad(t.subject, t.predicate, t.object, ox.DefaultGraph())
                       for t in ox.parse("".join(f"{s} {p} {o} .\n" for s, p, o in previous[rule.name]).encode(),
                                         format=ox.RdfFormat.N_TRIPLES))
    for fact in before - after:
        (triple,) = ox.parse(f"{fact[0]} {fact[1]} {fact[2]} .\n".encode(), format=ox.RdfFormat.N_TRIPLES)
        working.remove(ox.Quad(triple.subject, triple.predicate, triple.object, ox.DefaultGraph()))
    working.extend(ox.Quad(t.subject, t.predicate, t.object, ox.DefaultGraph())
                   for t in ox.parse("".join(f"{s} {p} {o} .\n" for s, p, o in after - before).encode(),
                                     format=ox.RdfFormat.N_TRIPLES))
    outcome = rerun(working, rules, previous, before ^ after, lambda facts: facts & after)
    assert outcome is not None
    expected = _store(after)
    for rule in rules:  # from scratch, in order
        concluded = _run(rule, expected)
        assert outcome.by_rule[rule.name] == concluded
        expected.extend(ox.Quad(t.subject, t.predicate, t.object, ox.DefaultGraph())
                        for t in ox.parse("".join(f"{s} {p} {o} .\n" for s, p, o in concluded).encode(),
                                          format=ox.RdfFormat.N_TRIPLES))
    assert set(working) == set(expected)
