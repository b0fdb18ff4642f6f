"""Competency questions: every question under ``ontology/queries/competency`` is asked of the fixture
city (``ontology/examples/fixture-city.ttl``) after reasoning as the pipeline does it (OWL 2 RL and the
rules of ``ontology/rules``), and must return the answer in the expected CSV beside it. A question the
ontology cannot answer is a bug in the ontology.

The store holds three named graphs, as the service does: the ontology, the fixture as one source
graph, and the inferred graph. A second store without the inferred graph checks each question's
``needs:`` line: a question that needs reasoning must answer differently without it, and one that
needs only asserted facts must not.
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterator
from dataclasses import dataclass

import pytest
from rdflib import RDF, Graph, URIRef

from kg_service.config import Settings, load_settings, project_path
from kg_service.namespaces import CITY
from kg_service.ontology import load_ontology, load_shapes
from kg_service.ontology.competency import (
    HEADER_KEYS,
    Answer,
    Question,
    ask,
    comparable_rows,
    expected,
    read_questions,
    same_answer,
    without_comments,
)
from kg_service.reason import infer_with_rules, load_rules
from kg_service.store import GraphStore, RdfFormat, open_store
from kg_service.validate import validate

ONTOLOGY_DIR = project_path("ontology")
QUESTIONS_DIR = ONTOLOGY_DIR / "queries" / "competency"
FIXTURE = ONTOLOGY_DIR / "examples" / "fixture-city.ttl"
FIXTURE_DATASET = "examples/fixture-city"
SUBSYSTEMS = {"planning", "industry", "public-services", "infrastructure"}
NEEDS = {"asserted", "reasoning"}

MIN_QUESTIONS = 25
MIN_CROSS_SUBSYSTEM = 12
MIN_NEEDING_REASONING = 8

QUESTIONS = read_questions(ONTOLOGY_DIR)


def _ids(questions: list[Question]) -> list[str]:
    return [question.id for question in questions]


# ---- the stores --------------------------------------------------------------------------------


@dataclass(frozen=True)
class City:
    ontology: Graph
    fixture: Graph
    inferred: Graph


@pytest.fixture(scope="module")
def city() -> City:
    ontology = load_ontology(ONTOLOGY_DIR)
    fixture = Graph().parse(FIXTURE, format="turtle")
    return City(ontology, fixture, infer_with_rules(ontology, fixture, load_rules(ONTOLOGY_DIR)))


@pytest.fixture(scope="module")
def settings(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Settings]:
    # The autouse hermetic fixture of conftest is function-scoped; module-scoped stores need their own.
    workdir = tmp_path_factory.mktemp("competency")
    with pytest.MonkeyPatch.context() as patch:
        for name in [name for name in os.environ if name.startswith("CITYKG_")]:
            patch.delenv(name)
        patch.chdir(workdir)
        yield load_settings(data_dir=workdir / "data", in_memory=True)


def _store(settings: Settings, graphs: dict[str, Graph]) -> GraphStore:
    store = open_store(settings)
    for name, graph in graphs.items():
        store.load(graph.serialize(format="nt", encoding="utf-8"), RdfFormat.N_TRIPLES, graph=name)
    return store


@pytest.fixture(scope="module")
def reasoned_store(settings: Settings, city: City) -> Iterator[GraphStore]:
    names = settings.graphs
    with _store(settings, {names.ontology: city.ontology, names.source(FIXTURE_DATASET): city.fixture,
                           names.inferred: city.inferred}) as store:
        assert store.named_graphs() == sorted([names.ontology, names.source(FIXTURE_DATASET), names.inferred])
        yield store


@pytest.fixture(scope="module")
def asserted_store(settings: Settings, city: City) -> Iterator[GraphStore]:
    names = settings.graphs
    with _store(settings, {names.ontology: city.ontology, names.source(FIXTURE_DATASET): city.fixture}) as store:
        yield store


# ---- answers -----------------------------------------------------------------------------------


def _rows(answer: Answer, ordered: bool) -> list[tuple[str, ...]]:
    return comparable_rows(answer, ordered)


def _same(actual: Answer, wanted: Answer, ordered: bool) -> bool:
    return same_answer(actual, wanted, ordered)


def _ask(store: GraphStore, question: Question) -> Answer:
    return ask(store, question)


def _expected(question: Question) -> Answer:
    return expected(question)


# ---- the folder --------------------------------------------------------------------------------


def test_the_folder_holds_enough_questions_of_enough_kinds() -> None:
    assert len(QUESTIONS) >= MIN_QUESTIONS, f"{len(QUESTIONS)} questions in {QUESTIONS_DIR}"
    cross = [q.id for q in QUESTIONS if len(set(q.subsystems)) >= 2]
    assert len(cross) >= MIN_CROSS_SUBSYSTEM, f"only {len(cross)} questions cross two or more subsystems"
    reasoning = [q.id for q in QUESTIONS if q.needs == "reasoning"]
    assert len(reasoning) >= MIN_NEEDING_REASONING, f"only {len(reasoning)} questions need reasoning"


def test_every_question_has_its_expected_answer_and_every_answer_its_question() -> None:
    missing = [q.path.name for q in QUESTIONS if not q.expected_path.is_file()]
    assert not missing, f"questions without an expected answer: {missing}"
    questions = {q.expected_path.name for q in QUESTIONS}
    orphans = sorted(p.name for p in QUESTIONS_DIR.glob("*.expected.csv") if p.name not in questions)
    assert not orphans, f"expected answers without a question: {orphans}"


def test_question_numbers_are_unique() -> None:
    numbers = [q.id.split("-", 1)[0] for q in QUESTIONS]
    assert all(re.fullmatch(r"[0-9]{2}", n) for n in numbers), numbers
    assert len(numbers) == len(set(numbers)), numbers


@pytest.mark.parametrize("question", QUESTIONS, ids=_ids(QUESTIONS))
def test_question_header(question: Question) -> None:
    missing = [key for key in HEADER_KEYS if not question.header.get(key)]
    assert not missing, f"{question.path.name}: no '# {missing[0]}: ...' line at the top"
    assert question.subsystems, "the subsystems line names no subsystem"
    unknown = set(question.subsystems) - SUBSYSTEMS
    assert not unknown, f"unknown subsystems {sorted(unknown)}; known: {sorted(SUBSYSTEMS)}"
    assert question.needs in NEEDS, f"needs must be one of {sorted(NEEDS)}, not {question.needs!r}"
    assert re.search(r"^\s*SELECT\b", without_comments(question.sparql), re.IGNORECASE | re.MULTILINE), \
        "a competency question is a SELECT query"


# ---- the answers -------------------------------------------------------------------------------


@pytest.mark.parametrize("question", QUESTIONS, ids=_ids(QUESTIONS))
def test_competency_question(question: Question, reasoned_store: GraphStore) -> None:
    expected = _expected(question)
    actual = _ask(reasoned_store, question)
    assert actual.variables == expected.variables, "the CSV header must be the SELECT variables, in order"
    assert _rows(actual, question.ordered) == _rows(expected, question.ordered)


@pytest.mark.parametrize("question", QUESTIONS, ids=_ids(QUESTIONS))
def test_the_needs_line_is_true(question: Question, asserted_store: GraphStore) -> None:
    """Without the inferred graph, a question that needs reasoning answers differently; one that
    needs only asserted facts answers the same."""
    same = _same(_ask(asserted_store, question), _expected(question), question.ordered)
    if question.needs == "reasoning":
        assert not same, "answered correctly without the inferred graph: its needs line should say 'asserted'"
    else:
        assert same, "answered differently without the inferred graph: its needs line should say 'reasoning'"


def test_reasoning_matters(asserted_store: GraphStore) -> None:
    changed = [q.id for q in QUESTIONS if q.needs == "reasoning"
               and not _same(_ask(asserted_store, q), _expected(q), q.ordered)]
    assert len(changed) >= MIN_NEEDING_REASONING, changed


# ---- the fixture -------------------------------------------------------------------------------


@pytest.mark.slow
def test_the_fixture_city_passes_the_data_shapes(city: City) -> None:
    report = validate(city.fixture, load_shapes(ONTOLOGY_DIR), city.ontology)
    violations = [f"{f.focus_node}: {f.describe()}" for f in report.findings if f.severity == "Violation"]
    assert not violations, "\n".join(violations)


def test_the_fixture_places_facilities_at_community_level_only(city: City) -> None:
    """Districts, subdistricts and the city are for reasoning to reach, not for the data to state."""
    fixture = city.fixture
    levels = {CITY.City, CITY.District, CITY.Subdistrict}
    stated = sorted(f"{thing} locatedIn {area}" for thing, area in fixture.subject_objects(CITY.locatedIn)
                    if any((area, RDF.type, level) in fixture for level in levels))
    assert not stated, stated


def test_the_reasoner_places_a_facility_in_its_district_through_the_property_chain(city: City) -> None:
    """The OWL 2 RL library lacks rule prp-spo2; kg_service.reason applies it (locatedIn o partOf)."""
    hospital = URIRef("https://w3id.org/citykg/id/hospital/qinghe-peoples")
    district = URIRef("https://w3id.org/citykg/id/district/990101")
    assert (hospital, CITY.locatedIn, district) in city.inferred

