"""The competency questions: SPARQL questions under ``queries/competency`` that the ontology must be
able to answer over the fixture city (``examples/fixture-city.ttl``) after reasoning, each with its
expected answer in a CSV beside it. The tests ask them of the ontology as it is; every ontology edit
asks them of the edited ontology before anything is written."""

from __future__ import annotations

import csv
import re
import tempfile
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from pathlib import Path

from rdflib import Graph
from rdflib.term import Node

from kg_service.store import GraphStore, select

QUESTIONS_FOLDER = Path("queries") / "competency"
FIXTURE = Path("examples") / "fixture-city.ttl"
HEADER_KEYS = ("question", "问题", "subsystems", "needs")

_HEADER_LINE = re.compile(r"^#\s*(?P<key>[^:：]+?)\s*[:：]\s*(?P<value>.*?)\s*$")
# ORDER BY after the last closing brace belongs to the outermost query, so row order is part of the answer.
_OUTER_ORDER_BY = re.compile(r"\bORDER\s+BY\b[^}]*$", re.IGNORECASE)


@dataclass(frozen=True)
class Question:
    path: Path
    header: dict[str, str]
    sparql: str

    @property
    def id(self) -> str:
        return self.path.stem

    @property
    def expected_path(self) -> Path:
        return self.path.with_name(f"{self.id}.expected.csv")

    @property
    def subsystems(self) -> list[str]:
        return [part.strip() for part in self.header.get("subsystems", "").split(",") if part.strip()]

    @property
    def needs(self) -> str:
        return self.header.get("needs", "")

    @property
    def ordered(self) -> bool:
        return _OUTER_ORDER_BY.search(without_comments(self.sparql)) is not None


@dataclass(frozen=True)
class Answer:
    variables: list[str]
    rows: list[tuple[str, ...]]


def without_comments(sparql: str) -> str:
    return "\n".join(line for line in sparql.splitlines() if not line.lstrip().startswith("#"))


def read_question(path: Path) -> Question:
    sparql = path.read_text(encoding="utf-8")
    header: dict[str, str] = {}
    for line in sparql.splitlines():
        if not line.startswith("#"):
            break
        match = _HEADER_LINE.match(line)
        if match and match["key"] in HEADER_KEYS and match["key"] not in header:
            header[match["key"]] = match["value"]
    return Question(path, header, sparql)


def read_questions(ontology_dir: Path) -> list[Question]:
    return [read_question(path) for path in sorted((ontology_dir / QUESTIONS_FOLDER).glob("*.rq"))]


def _cell(term: Node | None) -> str:
    """An IRI as itself, a literal as its lexical form, unbound as the empty string."""
    return "" if term is None else str(term)


def ask(store: GraphStore, question: Question) -> Answer:
    result = select(store, question.sparql)
    return Answer(result.variables, [tuple(_cell(term) for term in row) for row in result.rows])


def expected(question: Question) -> Answer:
    with question.expected_path.open(encoding="utf-8", newline="") as handle:
        header, *rows = list(csv.reader(handle))
    return Answer(header, [tuple(row) for row in rows])


def _comparable(cell: str) -> str:
    """Numbers compare by value ("7.5" = "7.50", "3800" = "3800.0"); everything else as written."""
    try:
        number = Decimal(cell)
    except InvalidOperation:
        return cell
    return f"{number.normalize():f}" if number.is_finite() else cell


def comparable_rows(answer: Answer, ordered: bool) -> list[tuple[str, ...]]:
    rows = [tuple(_comparable(cell) for cell in row) for row in answer.rows]
    return rows if ordered else sorted(rows)


def same_answer(actual: Answer, wanted: Answer, ordered: bool) -> bool:
    return actual.variables == wanted.variables and comparable_rows(actual, ordered) == comparable_rows(wanted, ordered)


def wrong_answers(ontology_dir: Path, ontology: Graph) -> list[str]:
    """The questions the ontology in ``ontology_dir`` answers wrongly over the reasoned fixture city,
    each with what went wrong; an empty list when all answer as expected."""
    from kg_service.config import load_settings
    from kg_service.reason import infer_with_rules, load_rules
    from kg_service.store import RdfFormat, open_store

    fixture = Graph().parse(ontology_dir / FIXTURE, format="turtle")
    inferred = infer_with_rules(ontology, fixture, load_rules(ontology_dir))
    problems = []
    with tempfile.TemporaryDirectory(prefix="citykg-competency-") as workdir:
        settings = load_settings(data_dir=Path(workdir), in_memory=True)
        with open_store(settings) as store:
            for name, graph in ((settings.graphs.ontology, ontology),
                                (settings.graphs.source("examples/fixture"), fixture),
                                (settings.graphs.inferred, inferred)):
                store.load(graph.serialize(format="nt", encoding="utf-8"), RdfFormat.N_TRIPLES, graph=name)
            for question in read_questions(ontology_dir):
                try:
                    actual = ask(store, question)
                except Exception as error:  # a question made invalid by the edit is a failed check, not a crash
                    problems.append(f"{question.id}: cannot be asked: {error}")
                    continue
                if not same_answer(actual, expected(question), question.ordered):
                    problems.append(f"{question.id}: answers differently ({len(actual.rows)} rows)")
    return problems
