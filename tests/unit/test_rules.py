"""reason/rules.py: rule files load (or fail by name), rules run to a fixpoint and stop, a rule that
never stops is named; OWL 2 RL and the rules alternate; each shipped rule derives what its header
says on a small hand-written graph."""

from __future__ import annotations

import re
from pathlib import Path

import pyoxigraph as ox
import pytest
from rdflib import RDF, Graph, Literal, URIRef

from kg_service.config import project_path
from kg_service.errors import OntologyError, ReasoningError
from kg_service.namespaces import CITY
from kg_service.ontology import load_ontology
from kg_service.reason.entailment import infer_with_rules
from kg_service.reason.rules import Rule, Schedule, classes_read, load_rules, run_rules, run_rules_in

DECIMAL = URIRef("http://www.w3.org/2001/XMLSchema#decimal")  # not XSD: pytest probes module globals, and it warns

ONTOLOGY_DIR = project_path("ontology")
EX = "http://example.org/"
ID = "https://w3id.org/citykg/id/"
SHIPPED = ["01-condition-in-force", "02-threshold-exceedance", "03-threshold-exceeded-status",
           "04-above-load-margin-status", "05-at-risk-from-alerted-supplier"]
TURTLE_PREFIXES = f"""@prefix : <{EX}> .
@prefix city: <{CITY}> .
@prefix id: <{ID}> .
@prefix sosa: <http://www.w3.org/ns/sosa/> .
@prefix rdfs: <http://www.w3.org/2000/01/rdf-schema#> .
@prefix xsd: <http://www.w3.org/2001/XMLSchema#> .
"""


def _rules(tmp_path: Path, files: dict[str, str]) -> list[Rule]:
    folder = tmp_path / "rules"
    folder.mkdir(exist_ok=True)
    for name, text in files.items():
        (folder / name).write_text(f"PREFIX : <{EX}>\n{text}", encoding="utf-8")
    return load_rules(tmp_path)


def _graph(turtle: str) -> Graph:
    return Graph().parse(data=TURTLE_PREFIXES + turtle, format="turtle")


def _pairs(graph: Graph, predicate: URIRef) -> set[tuple[str, str]]:
    return {(str(s).removeprefix(ID), str(o).removeprefix(ID).removeprefix(str(CITY)))
            for s, o in graph.subject_objects(predicate)}


# ---- loading -----------------------------------------------------------------------------------


def test_rules_load_in_name_order_and_a_missing_folder_has_none(tmp_path: Path) -> None:
    assert load_rules(tmp_path) == []
    rules = _rules(tmp_path, {"02-b.rq": "CONSTRUCT { ?s :b ?o } WHERE { ?s :a ?o }",
                              "01-a.rq": "CONSTRUCT { ?s :a ?o } WHERE { ?s :b ?o }"})
    assert [rule.name for rule in rules] == ["01-a", "02-b"]


@pytest.mark.parametrize(("text", "words"), [
    ("CONSTRUCT { ?s :b ?o } WHERE { ?s :a ?o ", "not a valid SPARQL query"),
    ("CONSTRUCT { ?s :b ?o }\nWHERE { ?s :a ?o . FILTER(?o >) }", "not a valid SPARQL query"),
    ("SELECT ?s WHERE { ?s :a ?o }", "must be a SPARQL CONSTRUCT query"),
    ("CONSTRUCT { ?s undeclared:b ?o } WHERE { ?s :a ?o }", "not a valid SPARQL query"),
])
def test_a_malformed_rule_is_reported_with_its_file(tmp_path: Path, text: str, words: str) -> None:
    with pytest.raises(OntologyError) as raised:
        _rules(tmp_path, {"01-fine.rq": "CONSTRUCT { ?s :b ?o } WHERE { ?s :a ?o }", "07-broken.rq": text})
    assert words in str(raised.value)
    assert str(tmp_path / "rules" / "07-broken.rq") in str(raised.value)
    assert "01-fine" not in str(raised.value)


def test_a_rule_file_that_is_not_utf8_is_reported_with_its_file(tmp_path: Path) -> None:
    (tmp_path / "rules").mkdir()
    (tmp_path / "rules" / "01-latin1.rq").write_bytes("# règle\nCONSTRUCT {} WHERE {}".encode("latin-1"))
    with pytest.raises(OntologyError, match=r"01-latin1\.rq"):
        load_rules(tmp_path)


# ---- the fixpoint ------------------------------------------------------------------------------


def test_a_chain_needing_two_rounds_reaches_the_fixpoint(tmp_path: Path) -> None:
    # In name order, the rule reading :b runs before the rule making it: :c only appears in round two.
    # After it nothing either rule reads has changed, so no third round is needed to see the fixpoint.
    rules = _rules(tmp_path, {"01-c-from-b.rq": "CONSTRUCT { ?s :c ?o } WHERE { ?s :b ?o }",
                              "02-b-from-a.rq": "CONSTRUCT { ?s :b ?o } WHERE { ?s :a ?o }"})
    graph = _graph(":x :a :y .")
    derived = run_rules(rules, graph, max_rounds=2)
    assert set(derived) == {(URIRef(f"{EX}x"), URIRef(f"{EX}b"), URIRef(f"{EX}y")),
                            (URIRef(f"{EX}x"), URIRef(f"{EX}c"), URIRef(f"{EX}y"))}
    assert len(graph) == 1, "the graph given is left as it was"
    with pytest.raises(ReasoningError, match="02-b-from-a"):
        run_rules(rules, graph, max_rounds=1)  # :b is new in round one, and 01 reads it


def test_a_round_runs_only_the_rules_whose_premises_changed(tmp_path: Path) -> None:
    # 01 reads :a only; 02 makes :b from 01's :c. Once 01 has run, nothing it reads changes, so it is
    # not run again: a rule counting its runs through a statement it mints would show a second run.
    rules = _rules(tmp_path, {"01-c-from-a.rq": "CONSTRUCT { ?s :c ?o } WHERE { ?s :a ?o }",
                              "02-b-from-c.rq": "CONSTRUCT { ?s :b ?o } WHERE { ?s :c ?o }"})
    store = ox.Store()
    store.load(f"<{EX}x> <{EX}a> <{EX}y> .\n".encode(), format=ox.RdfFormat.N_TRIPLES)
    schedule = _CountingSchedule(rules, store)
    derived = run_rules_in(rules, store, max_rounds=5, schedule=schedule)
    assert {p for _, p, _ in derived} == {f"<{EX}c>", f"<{EX}b>"}
    assert schedule.runs == ["01-c-from-a", "02-b-from-c"], "each rule ran once: the second round had nothing due"
    # a statement one of them reads makes it due again, and only it
    store.load(f"<{EX}z> <{EX}c> <{EX}w> .\n".encode(), format=ox.RdfFormat.N_TRIPLES)
    schedule.note([(f"<{EX}z>", f"<{EX}c>", f"<{EX}w>")])
    assert run_rules_in(rules, store, max_rounds=5, schedule=schedule) == [(f"<{EX}z>", f"<{EX}b>", f"<{EX}w>")]
    assert schedule.runs[2:] == ["02-b-from-c"]


@pytest.mark.parametrize(("reading", "concluded"), [
    ("CONSTRUCT { ?c :seen true } WHERE { ?x a ?c }", ":K"),  # the class's property only in the template
    ("CONSTRUCT { ?c :seen true } WHERE { ?x a ?c OPTIONAL { ?c :label ?l } }", ":K"),
    ("CONSTRUCT { ?c :seen true } WHERE { ?x a ?c FILTER NOT EXISTS { ?c :abstract true } }", ":K"),
    ("CONSTRUCT { ?c :seen true } WHERE { ?x a ?c . ?c :sub* ?v }", ":K"),  # zero steps: every class
    ("CONSTRUCT { ?x :seen true } WHERE { ?x a+ :K }", ":a"),
    ("CONSTRUCT { ?x :seen true } WHERE { ?x a <K> }", ":a"),  # a class relative to BASE
], ids=["template", "optional", "negated", "zero-length path", "type path", "base"])
def test_a_rule_runs_again_when_a_statement_it_reads_arrives(tmp_path: Path, reading: str, concluded: str) -> None:
    # 01 runs first and finds nothing; 02 then types :a, and 01 must run again over that type
    rules = _rules(tmp_path, {"01-reads.rq": f"BASE <{EX}> {reading}",
                              "02-types.rq": "CONSTRUCT { ?s a :K } WHERE { ?s :p ?o }"})
    derived = run_rules(rules, _graph(":a :p :b ."))
    assert (URIRef(concluded.replace(":", EX)), URIRef(f"{EX}seen"), Literal(True)) in derived


class _CountingSchedule(Schedule):
    """A schedule that records which rules it let run."""

    def __init__(self, rules: list[Rule], working: ox.Store) -> None:
        super().__init__(rules, working)
        self.runs: list[str] = []

    def take(self, rule: Rule) -> bool:
        due = super().take(rule)
        self.runs.extend([rule.name] if due else [])
        return due


def test_a_recursive_rule_closes_a_chain(tmp_path: Path) -> None:
    rules = _rules(tmp_path, {"01-before.rq": "CONSTRUCT { ?x :before ?z } WHERE { ?x :before ?y . ?y :before ?z }"})
    derived = run_rules(rules, _graph(":a :before :b . :b :before :c . :c :before :d . :d :before :e ."))
    assert len(derived) == 6  # 10 ordered pairs of 5 nodes, 4 of them asserted


def test_a_rule_that_derives_nothing_new_stops_after_one_round(tmp_path: Path) -> None:
    rules = _rules(tmp_path, {"01-again.rq": "CONSTRUCT { ?s :a ?o } WHERE { ?s :a ?o }",
                              "02-none.rq": "CONSTRUCT { ?s :b ?o } WHERE { ?s :missing ?o }"})
    assert len(run_rules(rules, _graph(":x :a :y ."), max_rounds=1)) == 0


@pytest.mark.parametrize("minting", [
    "CONSTRUCT { ?x :next [] } WHERE { ?x a :Thing }",
    'CONSTRUCT { ?next a :Thing } WHERE { ?x a :Thing BIND(IRI(CONCAT(STR(?x), "/next")) AS ?next) }',
    "CONSTRUCT { ?x :next ?fresh } WHERE { ?x a :Thing BIND(BNODE() AS ?fresh) }",
], ids=["blank node", "IRI from a derived node", "BNODE()"])
def test_a_rule_minting_new_nodes_every_round_is_stopped_and_named(tmp_path: Path, minting: str) -> None:
    rules = _rules(tmp_path, {"01-fine.rq": "CONSTRUCT { ?x :seen true } WHERE { ?x a :Thing }",
                              "02-minting.rq": minting})
    with pytest.raises(ReasoningError) as raised:
        run_rules(rules, _graph(":x a :Thing ."), max_rounds=5)
    message = str(raised.value)
    assert "5 rounds" in message
    assert "02-minting (1 new, minting new nodes)" in message
    assert str(tmp_path / "rules" / "02-minting.rq") in message
    # the well-behaved rule keeps up with the minted nodes (named only if it still derives), but mints none
    assert "01-fine (1 new, minting" not in message


def test_owl_rl_and_the_rules_alternate_until_neither_adds(tmp_path: Path) -> None:
    # The rule types :x as :B, OWL 2 RL makes it a :C, and only then can the second rule fire.
    ontology = _graph(":B rdfs:subClassOf :C .")
    rules = _rules(tmp_path, {"01-b.rq": "CONSTRUCT { ?x a :B } WHERE { ?x a :A }",
                              "02-flag.rq": "CONSTRUCT { ?x :flagged true } WHERE { ?x a :C }"})
    inferred = infer_with_rules(ontology, _graph(":x a :A ."), rules)
    x = URIRef(f"{EX}x")
    assert {(x, RDF.type, URIRef(f"{EX}B")), (x, RDF.type, URIRef(f"{EX}C")),
            (x, URIRef(f"{EX}flagged"), Literal(True))} <= set(inferred)
    assert (x, RDF.type, URIRef(f"{EX}A")) not in inferred, "asserted triples stay out"


# ---- the shipped rules -------------------------------------------------------------------------


@pytest.fixture(scope="module")
def shipped() -> dict[str, Rule]:
    return {rule.name: rule for rule in load_rules(ONTOLOGY_DIR)}


@pytest.fixture(scope="module")
def ontology() -> Graph:
    return load_ontology(ONTOLOGY_DIR)


def test_the_shipped_rules_are_there_with_their_headers(shipped: dict[str, Rule]) -> None:
    assert list(shipped) == SHIPPED
    for rule in shipped.values():
        header = [line for line in rule.path.read_text(encoding="utf-8").splitlines() if line.startswith("#")]
        keys = [match[1] for line in header if (match := re.match(r"#\s*([^:：]+?)\s*[:：]", line))]
        assert {"rule", "规则", "derives", "why"} <= set(keys), (rule.name, keys)


def test_the_shipped_rules_derive_only_terms_the_ontology_declares(shipped: dict[str, Rule],
                                                                   ontology: Graph) -> None:
    for rule in shipped.values():
        terms = {term for triple in rule.query.algebra["template"] for term in triple
                 if isinstance(term, URIRef) and term.startswith(str(CITY))}
        assert terms, rule.name
        undeclared = {term for term in terms if (term, RDF.type, None) not in ontology}
        assert not undeclared, (rule.name, undeclared)
    assert ontology.value(CITY.PumpStation, CITY.maxLoadShare) == Literal("0.8", datatype=DECIMAL)


def test_01_the_condition_in_force_is_the_strictest_the_rainfall_reaches(shipped: dict[str, Rule]) -> None:
    graph = _graph("""
        id:normal a city:Condition ; city:minRainfallMmPerHour 0.0 .
        id:storm a city:Condition ; city:minRainfallMmPerHour 30.0 .
        id:rain-1 a city:Observation ; sosa:observedProperty city:Rainfall ; city:unit "mm/h" ;
            sosa:resultTime "2024-07-15T01:00:00+08:00"^^xsd:dateTime ; city:observedValue 18.0 .
        id:rain-2 a city:Observation ; sosa:observedProperty city:Rainfall ; city:unit "mm/h" ;
            sosa:resultTime "2024-07-15T02:00:00+08:00"^^xsd:dateTime ; city:observedValue 45.0 .
        id:rain-3 a city:Observation ; sosa:observedProperty city:Rainfall ; city:unit "mm/d" ;
            sosa:resultTime "2024-07-15T03:00:00+08:00"^^xsd:dateTime ; city:observedValue 120.0 .
        id:level-1 a city:Observation ; sosa:observedProperty city:WaterLevel ;
            sosa:resultTime "2024-07-15T01:00:00+08:00"^^xsd:dateTime ; city:observedValue 1.1 .
        id:level-2 a city:Observation ; sosa:observedProperty city:WaterLevel ;
            sosa:resultTime "2024-07-15T02:00:00+08:00"^^xsd:dateTime ; city:observedValue 1.6 .
        id:level-3 a city:Observation ; sosa:observedProperty city:WaterLevel ;
            sosa:resultTime "2024-07-15T03:00:00+08:00"^^xsd:dateTime ; city:observedValue 1.9 .
    """)
    derived = run_rules([shipped["01-condition-in-force"]], graph)
    # level-3 has only a rainfall in mm/d beside it, which is not compared with mm/h minimums
    assert _pairs(derived, CITY.madeUnder) == {("rain-1", "normal"), ("level-1", "normal"),
                                               ("rain-2", "storm"), ("level-2", "storm")}
    assert set(derived.predicates()) == {CITY.madeUnder}


def test_02_an_observation_exceeds_the_thresholds_that_apply_under_its_condition(shipped: dict[str, Rule],
                                                                                  ontology: Graph) -> None:
    graph = _graph("""
        id:manhole city:governedBy id:dry , id:wet , id:always .
        id:dry city:thresholdFor city:WaterLevel ; city:appliesUnder id:normal ; city:thresholdValue 1.2 ;
            city:unit "m" .
        id:wet city:thresholdFor city:WaterLevel ; city:appliesUnder id:storm ; city:thresholdValue 1.8 ;
            city:unit "m" .
        id:always city:thresholdFor city:WaterLevel ; city:thresholdValue 3.0 .
        id:gauge city:monitors id:manhole .
        id:o1 sosa:hasFeatureOfInterest id:manhole ; sosa:observedProperty city:WaterLevel ;
            city:observedValue 1.5 ; city:unit "m" ; city:madeUnder id:normal .
        id:o2 sosa:hasFeatureOfInterest id:manhole ; sosa:observedProperty city:WaterLevel ;
            city:observedValue 1.5 ; city:unit "m" ; city:madeUnder id:storm .
        id:o3 sosa:hasFeatureOfInterest id:manhole ; sosa:observedProperty city:WaterLevel ;
            city:observedValue 3.2 ; city:madeUnder id:storm .
        id:o4 sosa:madeBySensor id:gauge ; sosa:observedProperty city:WaterLevel ;
            city:observedValue 2.0 ; city:unit "m" ; city:madeUnder id:storm .
        id:o5 sosa:hasFeatureOfInterest id:manhole ; sosa:observedProperty city:WaterLevel ;
            city:observedValue 150 ; city:unit "cm" ; city:madeUnder id:normal .
        id:o6 sosa:hasFeatureOfInterest id:manhole ; sosa:observedProperty city:PipePressure ;
            city:observedValue 5.0 .
        id:o7 sosa:hasFeatureOfInterest id:manhole ; sosa:observedProperty city:WaterLevel ; city:observedValue 2.5 .
    """)
    derived = run_rules([shipped["02-threshold-exceedance"]], graph)
    # o2 is under the storm limit; o5 (cm) is compared only with the limit that states no unit; o6 is of
    # another property; o7, made under no known condition, is held only to the unconditional limit, and is under it
    expected = {("o1", "dry"), ("o3", "wet"), ("o3", "always"), ("o4", "wet"), ("o5", "always")}
    assert _pairs(derived, CITY.exceeds) == expected
    # Reasoning runs a rule over the statements with the predicates it reads only: those of its nested
    # FILTER NOT EXISTS (city:appliesUnder, city:madeUnder) must be among them, or every threshold applies
    assert _pairs(infer_with_rules(ontology, graph, [shipped["02-threshold-exceedance"]]), CITY.exceeds) == expected


def test_a_rule_reads_the_predicates_of_every_nested_pattern(tmp_path: Path) -> None:
    (rule,) = _rules(tmp_path, {"01-nested.rq": """
        CONSTRUCT { ?s :out [ :made ?o ] }
        WHERE {
          ?s :a|:b/^:c ?o ; a :Kind .
          { SELECT ?s WHERE { ?s :inSub ?x } }
          OPTIONAL { ?s :optional ?y }
          FILTER NOT EXISTS { ?s :negated ?z . FILTER NOT EXISTS { ?z :doubly ?s } }
        }"""})
    read = {f"<{EX}{name}>" for name in ("a", "b", "c", "inSub", "optional", "negated", "doubly")}
    assert rule.predicates == read | {f"<{RDF.type}>", f"<{EX}out>", f"<{EX}made>"}
    # its template mints a blank node, so what it concludes calls it again
    assert rule.premises == rule.predicates
    assert classes_read([rule], lambda _: set()) == {f"<{EX}Kind>"}
    for name, pattern in {"variable": "?s ?p ?o", "negated": "?s !(:a|:b) ?o", "typed": "?s a/:sub* :Kind"}.items():
        (tmp_path / name).mkdir()
        (rule,) = _rules(tmp_path / name, {"01-any.rq": f"CONSTRUCT {{ ?s :out ?o }} WHERE {{ {pattern} }}"})
        if name == "typed":  # any class's types, the path read in full
            assert classes_read([rule], lambda _: set()) is None
            assert rule.predicates == {f"<{RDF.type}>", f"<{EX}sub>", f"<{EX}out>"}
        else:  # a rule that may read any statement
            assert rule.predicates is None and rule.premises is None, name


def test_03_an_asset_is_in_alert_when_its_latest_reading_of_a_property_exceeds(shipped: dict[str, Rule]) -> None:
    graph = _graph("""
        id:recovered city:governedBy id:limit-a .
        id:a1 sosa:hasFeatureOfInterest id:recovered ; sosa:observedProperty city:WaterLevel ;
            sosa:resultTime "2024-07-15T01:00:00+08:00"^^xsd:dateTime ; city:exceeds id:limit-a .
        id:a2 sosa:hasFeatureOfInterest id:recovered ; sosa:observedProperty city:WaterLevel ;
            sosa:resultTime "2024-07-15T02:00:00+08:00"^^xsd:dateTime .
        id:rising city:governedBy id:limit-b .
        id:b1 sosa:hasFeatureOfInterest id:rising ; sosa:observedProperty city:WaterLevel ;
            sosa:resultTime "2024-07-15T01:00:00+08:00"^^xsd:dateTime .
        id:b2 sosa:hasFeatureOfInterest id:rising ; sosa:observedProperty city:WaterLevel ;
            sosa:resultTime "2024-07-15T02:00:00+08:00"^^xsd:dateTime ; city:exceeds id:limit-b .
        id:b3 sosa:hasFeatureOfInterest id:rising ; sosa:observedProperty city:Rainfall ;
            sosa:resultTime "2024-07-15T03:00:00+08:00"^^xsd:dateTime .
    """)
    derived = run_rules([shipped["03-threshold-exceeded-status"]], graph)
    # a later reading of another property (b3) does not clear the level's exceedance
    assert _pairs(derived, CITY.alertStatus) == {("rising", "ThresholdExceeded")}


def test_04_a_pump_station_above_80_percent_of_its_design_flow_is_in_alert(shipped: dict[str, Rule],
                                                                           ontology: Graph) -> None:
    data = _graph("""
        id:busy a city:PumpStation ; city:designCapacity 50000 ; city:unit "m3/d" .
        id:busy-1 sosa:hasFeatureOfInterest id:busy ; sosa:observedProperty city:FlowRate ; city:unit "m3/d" ;
            sosa:resultTime "2024-05-02T08:00:00+08:00"^^xsd:dateTime ; city:observedValue 40500 .
        id:eased a city:PumpStation ; city:designCapacity 30000 ; city:unit "m3/d" .
        id:eased-1 sosa:hasFeatureOfInterest id:eased ; sosa:observedProperty city:FlowRate ; city:unit "m3/d" ;
            sosa:resultTime "2024-05-01T08:00:00+08:00"^^xsd:dateTime ; city:observedValue 29000 .
        id:eased-2 sosa:hasFeatureOfInterest id:eased ; sosa:observedProperty city:FlowRate ; city:unit "m3/d" ;
            sosa:resultTime "2024-05-02T08:00:00+08:00"^^xsd:dateTime ; city:observedValue 20000 .
        id:hourly a city:PumpStation ; city:designCapacity 2000 ; city:unit "m3/h" .
        id:hourly-1 sosa:hasFeatureOfInterest id:hourly ; sosa:observedProperty city:FlowRate ; city:unit "m3/d" ;
            sosa:resultTime "2024-05-02T08:00:00+08:00"^^xsd:dateTime ; city:observedValue 30000 .
        id:main a city:WaterSupplyPipe ; city:designCapacity 1000 ; city:unit "m3/d" .
        id:main-1 sosa:hasFeatureOfInterest id:main ; sosa:observedProperty city:FlowRate ; city:unit "m3/d" ;
            sosa:resultTime "2024-05-02T08:00:00+08:00"^^xsd:dateTime ; city:observedValue 990 .
    """)
    graph = Graph()
    graph += ontology
    graph += data
    derived = run_rules([shipped["04-above-load-margin-status"]], graph)
    # eased's latest is 67%; hourly's flow is per day against a capacity per hour; pipes state no load share
    assert _pairs(derived, CITY.alertStatus) == {("busy", "AboveLoadMargin")}


def test_05_whoever_depends_on_an_asset_in_alert_is_at_risk_from_it(shipped: dict[str, Rule]) -> None:
    graph = _graph("""
        id:station city:alertStatus city:AboveLoadMargin .
        id:hospital city:dependsOn id:station , id:calm-station .
        id:school city:dependsOn id:calm-station .
    """)
    derived = run_rules([shipped["05-at-risk-from-alerted-supplier"]], graph)
    assert _pairs(derived, CITY.atRiskFrom) == {("hospital", "station")}
