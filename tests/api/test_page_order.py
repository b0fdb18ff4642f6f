"""The executor orders pages itself (the store returns the selected entities in any order): by the
order keys as SPARQL would, then by IRI, the same whatever the backend."""

from __future__ import annotations

from kg_service.api.compiler import Step
from kg_service.api.execution import _ordered
from kg_service.store import Term

XSD = "http://www.w3.org/2001/XMLSchema#"
CAPITAL, NAME = Step(("capital",)), Step(("name",))


def _number(text: str, datatype: str = "decimal") -> Term:
    return Term(text, f"{XSD}{datatype}")


def test_numbers_sort_by_value_and_ties_by_iri() -> None:
    rows = [(Term("e:c"), _number("9.5")), (Term("e:a"), _number("10")), (Term("e:b"), _number("10")),
            (Term("e:d"), _number("1e2", "double"))]
    assert _ordered(rows, [(CAPITAL, False)]) == ["e:c", "e:a", "e:b", "e:d"]
    assert _ordered(rows, [(CAPITAL, True)]) == ["e:d", "e:a", "e:b", "e:c"]  # ties stay by IRI going down


def test_unbound_first_going_up_last_going_down_and_several_values_by_min_or_max() -> None:
    rows = [(Term("e:none"), None), (Term("e:two"), _number("1")), (Term("e:two"), _number("50")),
            (Term("e:one"), _number("20")), (Term("e:one"), _number("20"))]
    assert _ordered(rows, [(CAPITAL, False)]) == ["e:none", "e:two", "e:one"]  # two by its 1
    assert _ordered(rows, [(CAPITAL, True)]) == ["e:two", "e:one", "e:none"]  # two by its 50


def test_a_second_key_breaks_ties_of_the_first_and_no_key_means_by_iri() -> None:
    rows = [(Term("e:1"), _number("5"), Term("b", f"{XSD}string")),
            (Term("e:2"), _number("5"), Term("a", f"{XSD}string")),
            (Term("e:3"), _number("7"), Term("c", f"{XSD}string"))]
    assert _ordered(rows, [(CAPITAL, True), (NAME, False)]) == ["e:3", "e:2", "e:1"]
    assert _ordered([(row[0],) for row in reversed(rows)], []) == ["e:1", "e:2", "e:3"]


def test_ill_typed_numbers_sort_as_text_after_numbers() -> None:
    rows = [(Term("e:x"), _number("n/a")), (Term("e:y"), _number("3")), (Term("e:z"), _number("NaN"))]
    assert _ordered(rows, [(CAPITAL, False)]) == ["e:y", "e:z", "e:x"]
