"""Golden tests: each department's mapping lifts its sample to exactly the expected output."""

from __future__ import annotations

from pathlib import Path

import pytest
from rdflib import Graph
from rdflib.compare import graph_diff, isomorphic, to_isomorphic

from kg_service.config import project_path
from kg_service.lift import Dataset, find_datasets, lift, load_mapping

BASE_IRI = "https://w3id.org/citykg/id/"
DATASETS = find_datasets(project_path("mappings"))


def test_there_are_datasets_to_check() -> None:
    assert DATASETS, "no mapping found under mappings/: the golden tests below would check nothing"


@pytest.mark.parametrize("dataset", DATASETS, ids=lambda d: d.id)
def test_mapping_lifts_its_sample_to_the_expected_output(dataset: Dataset) -> None:
    expected_file = dataset.mapping_path.parent / "expected" / f"{dataset.name}.nt"
    assert expected_file.is_file(), f"{dataset.id} has no expected output at {expected_file}"
    lifted = Graph().parse(data="\n".join(t for r in lift(load_mapping(dataset.mapping_path), BASE_IRI)
                                          for t in r.triples), format="nt")
    expected = Graph().parse(expected_file, format="nt")
    if not isomorphic(lifted, expected):
        _, only_lifted, only_expected = graph_diff(to_isomorphic(lifted), to_isomorphic(expected))
        pytest.fail(f"only lifted:\n{only_lifted.serialize(format='nt')}\n"
                    f"only expected:\n{only_expected.serialize(format='nt')}")


def test_every_department_folder_describes_its_sources() -> None:
    for department in {d.department for d in DATASETS}:
        assert (Path(project_path("mappings")) / department / "README.md").is_file(), department
