"""What reasoning keeps beside the store about the rules: their part of the inferred graph (trusted
only under the inferred graph's stamp) and the classes whose types they read."""

from __future__ import annotations

from pathlib import Path

from rdflib import Graph

from kg_service.config import project_path
from kg_service.namespaces import CITY
from kg_service.ontology import load_ontology
from kg_service.reason import load_rules, rule_part
from kg_service.reason.rules import classes_read

FACTS = {("<https://example.org/a>", f"<{CITY.alertStatus}>", f"<{CITY.AboveLoadMargin}>"),
         ("<https://example.org/o>", f"<{CITY.observedValue}>", '"1.5"^^<http://www.w3.org/2001/XMLSchema#decimal>')}


def test_the_rules_part_comes_back_only_under_its_stamp(tmp_path: Path) -> None:
    rule_part.save(tmp_path, "stamp-1", FACTS)
    assert rule_part.load(tmp_path, "stamp-1") == FACTS
    assert rule_part.load(tmp_path, "stamp-2") is None  # another state of the data: not trusted
    rule_part.save(tmp_path, "stamp-2", set())
    assert rule_part.load(tmp_path, "stamp-2") == frozenset()
    rule_part.save(tmp_path, "stamp-3", None)  # not known (the general reasoner ran): nothing kept
    assert rule_part.load(tmp_path, "stamp-3") is None
    assert not (tmp_path / rule_part.FILE_NAME).exists()


def test_a_missing_or_unreadable_file_is_not_known(tmp_path: Path) -> None:
    assert rule_part.load(tmp_path, "stamp") is None
    (tmp_path / rule_part.FILE_NAME).write_bytes(b"\xff\xfe not text")
    assert rule_part.load(tmp_path, "stamp") is None


def test_the_rules_read_the_types_of_the_classes_they_ask_for() -> None:
    ontology: Graph = load_ontology(project_path("ontology"))
    rules = load_rules(project_path("ontology"))

    def having(predicate: str) -> set[str]:
        return {f"<{subject}>" for subject, p, _ in ontology if f"<{p}>" == predicate}

    classes = classes_read(rules, having)
    assert classes is not None
    # named in the rules, and the classes a load share is stated for (?asset a ?class . ?class city:maxLoadShare)
    assert {f"<{CITY.Observation}>", f"<{CITY.Condition}>", f"<{CITY.PumpStation}>"} <= classes
    assert f"<{CITY.School}>" not in classes
