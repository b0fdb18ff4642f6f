"""The executor orders pages itself (the store returns the selected entities in any order): by the
order keys as SPARQL would, then by IRI, the same whatever the backend. A class's members, sorted,
are kept until the store's next write."""

from __future__ import annotations

from kg_service.api import context_for, schema_for
from kg_service.api.compiler import Step
from kg_service.api.execution import _ordered
from kg_service.config import Settings
from kg_service.store import GraphWrites, Term, open_store

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


def test_a_page_of_kept_members_shows_what_was_written_since(memory_settings: Settings) -> None:
    schema, school = schema_for(memory_settings), "https://w3id.org/citykg/ontology#School"
    page = "{ schools(first: 1000) { totalCount nodes { id } } }"
    with open_store(memory_settings) as store:
        def ids() -> list[str]:
            context = context_for(memory_settings, store)
            result = schema.execute_sync(page, context_value=context)
            assert result.errors is None and result.data is not None
            return [node["id"] for node in result.data["schools"]["nodes"]]

        store.commit(GraphWrites(add={"https://example.org/g": f"<https://example.org/b> a <{school}> .".encode()}))
        assert ids() == ids() == ["https://example.org/b"]  # the second from the kept members
        trips = context_for(memory_settings, store)
        schema.execute_sync(page, context_value=trips)
        assert trips.executor.round_trips.count == 0  # members kept, and the ids are all the nodes ask
        store.commit(GraphWrites(add={"https://example.org/g": f"<https://example.org/a> a <{school}> .".encode()}))
        assert ids() == ["https://example.org/a", "https://example.org/b"]
        store.commit(GraphWrites(retract=[("https://example.org/g", "https://example.org/b", None, None)]))
        assert ids() == ["https://example.org/a"]


def test_an_entity_lacking_a_promised_value_is_left_out_not_an_error(memory_settings: Settings) -> None:
    """A parcel only a reasoner typed (an enterprise's link, its own record quarantined) has no
    parcel code, which the type promises: pages and links leave it out, both ways of answering."""
    city, enterprise = "https://w3id.org/citykg/ontology#", "https://example.org/enterprise/1"
    data = (f'<{enterprise}> a <{city}Enterprise> ; <{city}creditCode> "91990101MA00000001" ; '
            f'<{city}onParcel> <https://example.org/parcel/whole>, <https://example.org/parcel/bare> .\n'
            f'<https://example.org/parcel/whole> a <{city}LandParcel> ; <{city}parcelCode> "P-1" .\n'
            f'<https://example.org/parcel/bare> a <{city}LandParcel> .\n')
    document = ("{ enterprises { nodes { id onParcel { id parcelCode } } } "
                "landParcels { totalCount nodes { id parcelCode } } }")
    with open_store(memory_settings) as store:
        store.commit(GraphWrites(add={"https://example.org/g": data.encode()}))
        answers = []
        for schema in (schema_for(memory_settings), schema_for(memory_settings, answer_directly=False)):
            context = context_for(memory_settings, store)
            result = schema.execute_sync(document, context_value=context)
            assert result.errors is None, result.errors
            answers.append(result.data)
        assert answers[0] == answers[1]
        whole = {"id": "https://example.org/parcel/whole", "parcelCode": "P-1"}
        assert answers[0] == {"enterprises": {"nodes": [{"id": enterprise, "onParcel": [whole]}]},
                              "landParcels": {"totalCount": 2, "nodes": [whole]}}
