"""The gate: the same findings pyshacl gives on its own, the caller's graph untouched, and each
SPARQL constraint parsed once however many focus nodes it runs on (the cost that grew with the data)."""

from __future__ import annotations

from functools import cache

from pyshacl import validate as shacl_validate
from rdflib import Graph

from kg_service.config import load_settings
from kg_service.pipeline import Vocabulary
from kg_service.validate import gate

CITY = "https://w3id.org/citykg/ontology#"
ID = "https://w3id.org/citykg/id/"


@cache
def _vocabulary() -> Vocabulary:
    return Vocabulary.load(load_settings())


def _located_records(count: int) -> Graph:
    """``count`` enterprises, every other one in a community of the wrong district (a Violation of a
    SPARQL-based cross-department shape), every third with a credit code too short (a core one)."""
    lines = [f"<{ID}community/990101001001> a <{CITY}Community> ; <{CITY}partOf> <{ID}subdistrict/990101001> .",
             f"<{ID}subdistrict/990101001> a <{CITY}Subdistrict> ; <{CITY}partOf> <{ID}district/990101> .",
             f"<{ID}district/990101> a <{CITY}District> . <{ID}district/990102> a <{CITY}District> ."]
    for number in range(count):
        code = f"91990101MA{number:08d}"[: 17 if number % 3 == 0 else 18]
        district = "990102" if number % 2 else "990101"
        lines.append(f'<{ID}enterprise/{number}> a <{CITY}Enterprise> ; <{CITY}name> "企业{number}"@zh ; '
                     f'<{CITY}creditCode> "{code}" ; <{CITY}locatedIn> <{ID}community/990101001001> , '
                     f"<{ID}district/{district}> .")
    return Graph().parse(data="\n".join(lines), format="turtle")


def test_findings_are_pyshacls_and_the_callers_graph_is_untouched() -> None:
    vocabulary = _vocabulary()
    data = _located_records(12)
    before = len(data)
    report = gate.validate(data, vocabulary.shapes, vocabulary.ontology)
    assert len(data) == before
    _, results, _ = shacl_validate(data, shacl_graph=vocabulary.shapes, ont_graph=vocabulary.ontology,
                                   inference="none", allow_warnings=True, allow_infos=True)
    assert report.findings == sorted(gate._findings(results), key=lambda f: (f.focus_node, f.path or "", f.message))
    refused = report.by_focus_node("Violation")  # the bare divisions are refused too: no codes, no names
    assert {f"{ID}enterprise/{n}" for n in range(12) if n % 2 or n % 3 == 0} == {
        node for node in refused if "/enterprise/" in node}
    assert any("part of district" in f.message for f in refused[f"{ID}enterprise/1"])


def test_each_sparql_constraint_is_parsed_once_whatever_the_number_of_focus_nodes() -> None:
    vocabulary = _vocabulary()
    parses = []
    for count in (4, 40):
        gate._prepared.cache_clear()
        report = gate.validate(_located_records(count), vocabulary.shapes, vocabulary.ontology)
        assert len([node for node in report.by_focus_node("Violation") if "/enterprise/" in node]) >= count // 2
        parses.append(gate._prepared.cache_info().misses)
    assert parses[0] == parses[1] and parses[0] > 0
