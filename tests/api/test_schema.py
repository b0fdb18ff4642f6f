"""The GraphQL schema is generated from the ontology and its shapes: a snapshot catches drift, and
every class with a data shape has its type."""

from __future__ import annotations

from pathlib import Path

from rdflib import SH

from kg_service.api import schema_for
from kg_service.api.model import build_api_model
from kg_service.config import Settings
from kg_service.ontology import load_ontology, load_shapes

SNAPSHOT = Path(__file__).parent / "schema.graphql"


def test_the_generated_schema_matches_the_committed_snapshot(memory_settings: Settings) -> None:
    generated = schema_for(memory_settings).as_str()
    assert generated + "\n" == SNAPSHOT.read_text(encoding="utf-8"), (
        "the GraphQL schema changed: if the change is meant, review it and refresh the snapshot with "
        "`citykg schema > tests/api/schema.graphql`")


def test_every_class_with_a_data_shape_has_a_type_and_a_root_field(memory_settings: Settings) -> None:
    shapes = load_shapes(memory_settings.ontology_dir)
    shaped = {str(cls) for shape in shapes.subjects(SH.property) for cls in shapes.objects(shape, SH.targetClass)}
    assert shaped
    model = build_api_model(load_ontology(memory_settings.ontology_dir), shapes)
    by_class = {kind.class_iri: kind.name for kind in model.object_types}
    assert shaped <= set(by_class), sorted(shaped - set(by_class))
    sdl = schema_for(memory_settings).as_str()
    for iri in shaped:
        name = by_class[iri]
        assert f"\ntype {name} implements" in sdl, name
        assert f"{name}Connection!" in sdl and f"{name}Group!" in sdl, name
