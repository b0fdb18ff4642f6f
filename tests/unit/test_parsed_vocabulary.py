"""The ontology and shapes kept parsed beside the store: the same graphs as parsing the Turtle,
read from the kept file while the Turtle is unchanged, parsed again once it changes."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from rdflib import Graph
from rdflib.compare import isomorphic

from kg_service.config import project_path
from kg_service.ontology import load_ontology, load_shapes, load_vocabulary


def _copy(tmp_path: Path) -> Path:
    folder = tmp_path / "ontology"
    shutil.copytree(project_path("ontology"), folder)
    return folder


def _same(a: Graph, b: Graph) -> bool:
    return len(a) > 100 and isomorphic(a, b)  # blank nodes differ from one parse to the next


def test_kept_graphs_are_the_parsed_ones_and_are_read_back_without_parsing(tmp_path: Path,
                                                                          monkeypatch: pytest.MonkeyPatch) -> None:
    folder, kept = _copy(tmp_path), tmp_path / "data" / "parsed.pickle"
    ontology, shapes = load_vocabulary(folder, kept)
    assert kept.is_file()
    assert _same(ontology, load_ontology(folder)) and _same(shapes, load_shapes(folder))

    def parse_again(_: Path) -> Graph:
        raise AssertionError("parsed again although the Turtle did not change")

    monkeypatch.setattr("kg_service.ontology.loader.load_ontology", parse_again)
    monkeypatch.setattr("kg_service.ontology.loader.load_shapes", parse_again)
    again_ontology, again_shapes = load_vocabulary(folder, kept)
    assert _same(again_ontology, ontology) and _same(again_shapes, shapes)


def test_a_changed_module_is_parsed_again(tmp_path: Path) -> None:
    folder, kept = _copy(tmp_path), tmp_path / "parsed.pickle"
    load_vocabulary(folder, kept)
    module = folder / "city.ttl"
    module.write_text(module.read_text(encoding="utf-8")
                      + '\n<https://example.org/NewClass> a <http://www.w3.org/2002/07/owl#Class> .\n',
                      encoding="utf-8")
    ontology, _ = load_vocabulary(folder, kept)
    assert any("NewClass" in str(s) for s in ontology.subjects())


def test_an_unreadable_kept_file_only_means_parsing(tmp_path: Path) -> None:
    folder, kept = _copy(tmp_path), tmp_path / "parsed.pickle"
    kept.write_bytes(b"not a pickle")
    ontology, shapes = load_vocabulary(folder, kept)
    assert _same(ontology, load_ontology(folder)) and _same(shapes, load_shapes(folder))
