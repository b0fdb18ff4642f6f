"""The gate: the same findings pyshacl gives on its own, the caller's graph untouched, and each
SPARQL constraint one Oxigraph query however many focus nodes it runs on (the cost that grew with
the data when pyshacl ran it once per node)."""

from __future__ import annotations

from functools import cache
from pathlib import Path
from typing import Any

import pyoxigraph as ox
from pyshacl import validate as shacl_validate
from rdflib import Graph

from kg_service.config import load_settings, project_path
from kg_service.lift import find_datasets, lift, load_mapping
from kg_service.pipeline import Vocabulary
from kg_service.validate import gate, sparql_constraints

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


def _key(finding: gate.Finding) -> tuple[str, ...]:
    return (finding.focus_node, finding.path or "", finding.message, finding.value or "", finding.shape or "")


def _pyshacl_alone(data: Graph, vocabulary: Vocabulary) -> list[gate.Finding]:
    _, results, _ = shacl_validate(data, shacl_graph=vocabulary.shapes, ont_graph=vocabulary.ontology,
                                   inference="none", allow_warnings=True, allow_infos=True)
    return sorted(set(gate._findings(results)), key=_key)


def test_findings_are_pyshacls_and_the_callers_graph_is_untouched() -> None:
    vocabulary = _vocabulary()
    data = _located_records(12)
    before = len(data)
    report = gate.validate(data, vocabulary.shapes, vocabulary.ontology)
    assert len(data) == before
    assert report.findings == _pyshacl_alone(data, vocabulary)
    refused = report.by_focus_node("Violation")  # the bare divisions are refused too: no codes, no names
    assert {f"{ID}enterprise/{n}" for n in range(12) if n % 2 or n % 3 == 0} == {
        node for node in refused if "/enterprise/" in node}
    assert any("part of district" in f.message for f in refused[f"{ID}enterprise/1"])


def _sample_city() -> Graph:
    """Every department's sample lifted into one graph, so that the cross-department shapes fire."""
    settings = load_settings()
    lines = [line for dataset in find_datasets(settings.mappings_dir, None)
             for record in lift(load_mapping(dataset.mapping_path), settings.base_iri) for line in record.triples]
    return gate.staging_graph("\n".join(lines))


def _data_with_findings() -> list[tuple[str, Graph]]:
    """The sample city, the fixture city and every shape's examples: data the SPARQL shapes fire on."""
    examples = sorted((Path(project_path("ontology")) / "shapes" / "examples").glob("*.ttl"))
    fixture = Path(project_path("ontology")) / "examples" / "fixture-city.ttl"
    return [("sample city", _sample_city()), ("fixture city", Graph().parse(fixture)),
            *((path.name, Graph().parse(path)) for path in examples)]


def test_oxigraph_and_pyshacl_find_the_same() -> None:
    vocabulary = _vocabulary()
    prepared = gate.Gate(vocabulary.shapes, vocabulary.ontology)
    constraint_shapes = {c.shape for c in prepared.sparql_constraints}
    assert len(constraint_shapes) >= 8, "the ontology's SPARQL constraints are evaluated by Oxigraph"
    fired: set[str] = set()
    for name, data in _data_with_findings():
        expected = _pyshacl_alone(data, vocabulary)
        assert prepared.validate(data).findings == expected, name
        fired |= {f.shape for f in expected if f.shape in constraint_shapes}
        # a few focus nodes: each constraint runs pre-bound, once per node; the same findings for them
        some = sorted({f"<{f.focus_node}>" for f in expected})[::2][: sparql_constraints.PRE_BIND_BELOW - 1]
        assert prepared.validate(data, focus=some).findings == [f for f in expected
                                                                 if f"<{f.focus_node}>" in some], name
    assert fired == constraint_shapes, f"never fired: {constraint_shapes - fired}"


class _CountingStore:
    def __init__(self, store: ox.Store) -> None:
        self.store, self.queries = store, 0

    def query(self, *args: Any, **kwargs: Any) -> Any:
        self.queries += 1
        return self.store.query(*args, **kwargs)


def test_a_sparql_constraint_is_one_query_however_many_focus_nodes() -> None:
    vocabulary = _vocabulary()
    prepared = gate.Gate(vocabulary.shapes, vocabulary.ontology)
    queries = []
    for count in (100, 1000):
        store = ox.Store()
        store.load(_located_records(count).serialize(format="nt", encoding="utf-8"), ox.RdfFormat.N_TRIPLES)
        counting = _CountingStore(store)
        findings = sparql_constraints.evaluate(prepared.sparql_constraints, counting, None)  # type: ignore[arg-type]
        assert len({f.focus_node for f in findings if "part of district" in f.message}) == count // 2
        queries.append(counting.queries)
    assert queries[0] == queries[1] <= 2 * len(prepared.sparql_constraints)
