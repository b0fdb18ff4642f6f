"""The reach of shapes, and the focus nodes a change can affect.

The property that matters: after any change, every focus node left out of re-validation has the
same findings as before the change, and every focus node re-validated on the partial graph has the
findings a validation of the whole new graph gives it. Random graphs and random edits check it.
"""

from __future__ import annotations

import random
from pathlib import Path

import pytest
from rdflib import Graph

from kg_service.config import Settings
from kg_service.delta import Change, Previous, Staged, StagedNeighbours, focus_and_data, whole_in_chunks
from kg_service.store import RdfFormat, open_store
from kg_service.validate import staging_graph, validate
from kg_service.validate.gate import Finding
from kg_service.validate.scope import ANY, REACH_FILE, cached_shape_reach, shape_reach

EX = "http://city.example/"
SHAPES = f"""
@prefix sh: <http://www.w3.org/ns/shacl#> .
@prefix ex: <{EX}> .
ex:shapes sh:declare [ sh:prefix "ex" ; sh:namespace "{EX}" ] .
ex:AShape a sh:NodeShape ; sh:targetClass ex:A ;
    sh:property [ sh:path ex:p ; sh:class ex:B ] ,          # the value's type: a step forward, then rdf:type
                [ sh:path [ sh:inversePath ex:q ] ; sh:maxCount 2 ] .   # who points here: a step backward
ex:BShape a sh:NodeShape ; sh:targetClass ex:B ;
    sh:sparql [ sh:prefixes ex:shapes ; sh:message "reaches a flagged node" ;
        sh:select "SELECT $this ?value WHERE {{ $this ex:r+ ?value . ?value ex:flag true }}" ] .
"""


def _random_graph(pick: random.Random, nodes: int) -> dict[str, list[str]]:
    statements: dict[str, list[str]] = {}
    for index in range(nodes):
        statements[f"<{EX}n{index}>"] = _random_statements(pick, index, nodes)
    return statements


def _random_statements(pick: random.Random, index: int, nodes: int) -> list[str]:
    subject = f"<{EX}n{index}>"
    lines = [f"{subject} <http://www.w3.org/1999/02/22-rdf-syntax-ns#type> <{EX}{pick.choice('AB')}> ."]
    for predicate in ("p", "q", "r"):  # sparse, so that a change does not reach every node
        if pick.random() < 0.3:
            lines.append(f"{subject} <{EX}{predicate}> <{EX}n{pick.randrange(nodes)}> .")
    if pick.random() < 0.2:
        lines.append(f'{subject} <{EX}flag> "true"^^<http://www.w3.org/2001/XMLSchema#boolean> .')
    return sorted(set(lines))


def _graph(statements: dict[str, list[str]]) -> Graph:
    return Graph().parse(data="\n".join(line for lines in statements.values() for line in lines), format="nt")


def _by_node(findings: list[Finding]) -> dict[str, list[tuple[str, str | None, str | None]]]:
    grouped: dict[str, list[tuple[str, str | None, str | None]]] = {}
    for f in findings:
        grouped.setdefault(f"<{f.focus_node}>", []).append((f.message, f.path, f.value))
    return {node: sorted(found, key=str) for node, found in grouped.items()}


def test_the_reach_of_paths_and_sparql_constraints() -> None:
    reach = shape_reach(Graph().parse(data=SHAPES, format="turtle"))
    assert {f"<{EX}p>", f"<{EX}r>", "<http://www.w3.org/1999/02/22-rdf-syntax-ns#type>"} <= reach.forward
    assert reach.backward == {f"<{EX}q>"}
    assert not reach.whole_graph and ANY not in reach.forward


def test_a_pattern_not_joined_to_the_focus_node_means_the_whole_graph() -> None:
    unjoined = SHAPES.replace("?value ex:flag true", "?value ex:flag true . ?other ex:flag false")
    assert shape_reach(Graph().parse(data=unjoined, format="turtle")).whole_graph


def test_a_variable_predicate_reaches_any_predicate_forward() -> None:
    anything = SHAPES.replace("$this ex:r+ ?value", "$this ?any ?value")
    reach = shape_reach(Graph().parse(data=anything, format="turtle"))
    assert ANY in reach.forward and ANY not in reach.backward


@pytest.mark.parametrize("seed", range(12))
def test_nodes_left_out_keep_their_findings_and_the_rest_match_a_full_validation(
        memory_settings: Settings, seed: int) -> None:
    pick = random.Random(seed)
    shapes, ontology = Graph().parse(data=SHAPES, format="turtle"), Graph()
    nodes = 120
    before = _random_graph(pick, nodes)
    after = dict(before)
    for index in pick.sample(range(nodes), 3):  # three entities lifted differently
        after[f"<{EX}n{index}>"] = _random_statements(pick, index, nodes)
    del after[f"<{EX}n{pick.randrange(nodes)}>"]  # one gone

    graph = f"{EX}graph"
    with open_store(memory_settings) as store:
        store.replace_graph(graph, "\n".join(line for lines in before.values() for line in lines).encode(),
                            RdfFormat.N_TRIPLES)
        old_staged, staged = Staged(before), Staged(after)
        previous = Previous(old_staged.digests(), {}, "hash")
        change = Change.between(previous, staged.digests())
        scope = focus_and_data(shape_reach(shapes), staged, change, previous,
                               StagedNeighbours(store, graph, staged, change, set()))
    focus, data = scope.focus, staging_graph(scope.text)
    assert focus is not None

    full_before = _by_node(validate(_graph(before), shapes, ontology).findings)
    full_after = _by_node(validate(_graph(after), shapes, ontology).findings)
    partial = _by_node(validate(data, shapes, ontology, focus).findings)
    assert len(focus) < len(after), "everything was validated again"
    for node in after:
        if node in focus:
            assert partial.get(node) == full_after.get(node), node
        else:
            assert full_before.get(node) == full_after.get(node), f"{node} changed but was left out"


@pytest.mark.parametrize("seed", range(4))
def test_validating_in_chunks_finds_what_validating_everything_finds(seed: int) -> None:
    pick = random.Random(seed)
    shapes, ontology = Graph().parse(data=SHAPES, format="turtle"), Graph()
    statements = _random_graph(pick, 120)
    chunks = list(whole_in_chunks(shape_reach(shapes), Staged(statements), 25))
    assert len(chunks) == 5 and all(chunk.focus for chunk in chunks)
    found = {finding for chunk in chunks
             for finding in validate(staging_graph(chunk.text), shapes, ontology, chunk.focus).findings}
    assert sorted(found, key=str) == sorted(set(validate(_graph(statements), shapes, ontology).findings), key=str)


def test_the_reach_is_kept_per_content_hash_and_read_back_equal(tmp_path: Path) -> None:
    shapes = Graph().parse(data=SHAPES, format="turtle")
    made = cached_shape_reach(shapes, "hash-1", tmp_path)
    assert (tmp_path / REACH_FILE).is_file()
    assert cached_shape_reach(Graph(), "hash-1", tmp_path) == made  # read back, not recomputed from no shapes
    assert cached_shape_reach(Graph(), "hash-2", tmp_path) == shape_reach(Graph())  # another hash: recomputed
