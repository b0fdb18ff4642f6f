"""What reasoning keeps beside the store about the rules: their part of the inferred graph (trusted
only under the inferred graph's stamp) and the classes whose types they read."""

from __future__ import annotations

from pathlib import Path

import pyoxigraph as ox
from rdflib import Graph

from kg_service.config import project_path
from kg_service.namespaces import CITY
from kg_service.ontology import load_ontology
from kg_service.reason import load_rules, rule_part
from kg_service.reason.entailment import insert_facts
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


def _contents(store: ox.Store) -> set[str]:
    return {f"{q.subject} {q.predicate} {q.object}" for q in store}


def test_the_kept_working_store_comes_back_as_sealed_through_patches_and_a_fold(tmp_path: Path) -> None:
    """A run that changed a few statements appends them to a patch; the next run reopens the file and
    the patch into the store the last run sealed, until the patch outgrows its share and is folded."""
    facts = [(f"<https://example.org/o{i}>", f"<{CITY.observedValue}>", f'"{i}"') for i in range(200)]
    kept = rule_part.KeptWorkingStore(tmp_path, "", "s0")
    store = kept.fresh()
    insert_facts(store, facts)
    kept.seal(store, "selection")
    for run in range(1, 8):
        kept = rule_part.KeptWorkingStore(tmp_path, f"s{run - 1}", f"s{run}")
        assert kept.reopen("other selection") is None  # filled with other statements: not trusted
        kept = rule_part.KeptWorkingStore(tmp_path, f"s{run - 1}", f"s{run}")
        reopened = kept.reopen("selection")
        assert reopened is not None and _contents(reopened) == _contents(store)
        gone, coming = facts[run], (f"<https://example.org/n{run}>", f"<{CITY.observedValue}>", f'"{run}"')
        for each in (store, reopened):
            each.remove(next(each.quads_for_pattern(ox.NamedNode(gone[0][1:-1]), None, None)))
            insert_facts(each, [coming, facts[run + 1]])  # one new, one already there
        kept.seal(reopened, "selection", [gone, coming, facts[run + 1]])
        patch = tmp_path / rule_part.WORKING_FOLDER / "statements.patch"
        if run == 1:
            assert patch.read_text(encoding="utf-8").count("\n") == 3
    assert not patch.exists()  # folded into the statements file once it outgrew a tenth of it
    final = rule_part.KeptWorkingStore(tmp_path, "s7", "s8").reopen("selection")
    assert final is not None and _contents(final) == _contents(store)
    assert rule_part.KeptWorkingStore(tmp_path, "s6", "s8").reopen("selection") is None  # sealed under s7


def test_what_each_rule_concluded_is_kept_with_the_store_and_carried_over(tmp_path: Path) -> None:
    """Sealed with the store, carried over to the stamp of a change the rules do not read, and
    gone with a store sealed without it."""
    conclusions = rule_part.KeptConclusions({"04-above-load-margin-status": frozenset(FACTS)}, frozenset())
    kept = rule_part.KeptWorkingStore(tmp_path, "", "s0")
    store = kept.fresh()
    insert_facts(store, FACTS)
    kept.seal(store, "selection", conclusions=conclusions)
    rule_part.KeptWorkingStore(tmp_path, "s0", "s1").carry_over()
    kept = rule_part.KeptWorkingStore(tmp_path, "s1", "s2")
    assert kept.reopen("selection") is not None and kept.conclusions == conclusions
    kept.seal(store, "selection")  # the rules ran in a way that did not tell what each concluded
    kept = rule_part.KeptWorkingStore(tmp_path, "s2", "s3")
    assert kept.reopen("selection") is not None and kept.conclusions is None
