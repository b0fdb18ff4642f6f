"""The HTML documentation: well formed, every class anchored, labels in both languages, the shapes
that apply to each class, and nothing fetched from the network."""

from __future__ import annotations

import re
import shutil
from html.parser import HTMLParser
from pathlib import Path

import pytest
from rdflib import OWL, RDF, Graph, URIRef
from rdflib.namespace import SH

from kg_service.config import project_path
from kg_service.namespaces import CITY
from kg_service.ontology import load_ontology, load_shapes
from kg_service.ontology.docs import write_docs

ONTOLOGY_DIR = project_path("ontology")
VOID_ELEMENTS = {"area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta", "source", "track", "wbr"}
RESOURCE_ATTRIBUTES = {"src", "href", "data", "poster", "srcset"}


class _Page(HTMLParser):
    """Checks nesting while parsing, and collects ids, links, fetched resources and each anchored
    element's text and links."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.open: list[tuple[str, str | None]] = []
        self.problems: list[str] = []
        self.ids: list[str] = []
        self.iris: dict[str, str] = {}
        self.links: list[str] = []
        self.resources: list[str] = []
        self.text: dict[str, list[str]] = {}
        self.links_in: dict[str, list[str]] = {}
        self.tags: list[str] = []
        self.styles: list[str] = []
        self.items: list[str | None] = []  # per open <li>, the first link in it
        self.parents: dict[str, set[str | None]] = {}  # a list item's first link -> that of the item around it

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        values = {name: value or "" for name, value in attrs}
        self.tags.append(tag)
        if tag == "li":
            self.items.append(None)
        if tag == "a" and "href" in values:
            self.links.append(values["href"])
            if self.items and self.items[-1] is None:
                self.items[-1] = values["href"]
                self.parents.setdefault(values["href"], set()).add(self.items[-2] if len(self.items) > 1 else None)
            for _, anchor in self.open:
                if anchor is not None:
                    self.links_in[anchor].append(values["href"])
        if tag != "a":
            self.resources += [value for name, value in values.items() if name in RESOURCE_ATTRIBUTES]
        anchor = values.get("id")
        if anchor is not None:
            self.ids.append(anchor)
            self.text.setdefault(anchor, [])
            self.links_in.setdefault(anchor, [])
            if "data-iri" in values:
                self.iris[values["data-iri"]] = anchor
        if tag not in VOID_ELEMENTS:
            self.open.append((tag, anchor))

    def handle_endtag(self, tag: str) -> None:
        if not self.open or self.open[-1][0] != tag:
            self.problems.append(f"</{tag}> closes <{self.open[-1][0] if self.open else 'nothing'}>")
            return
        self.open.pop()
        if tag == "li":
            self.items.pop()

    def handle_data(self, data: str) -> None:
        if self.open and self.open[-1][0] == "style":
            self.styles.append(data)
        for _, anchor in self.open:
            if anchor is not None:
                self.text[anchor].append(data)

    def text_of(self, anchor: str) -> str:
        return " ".join("".join(self.text[anchor]).split())


def _parse(index: Path) -> _Page:
    page = _Page()
    page.feed(index.read_text(encoding="utf-8"))
    page.close()
    return page


@pytest.fixture(scope="module")
def index(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return write_docs(ONTOLOGY_DIR, tmp_path_factory.mktemp("docs") / "site")


@pytest.fixture(scope="module")
def page(index: Path) -> _Page:
    return _parse(index)


@pytest.fixture(scope="module")
def ontology() -> Graph:
    return load_ontology(ONTOLOGY_DIR)


def test_the_index_is_written_where_asked(index: Path) -> None:
    assert index.name == "index.html" and index.is_file()
    assert index.read_text(encoding="utf-8").startswith("<!DOCTYPE html>")


def test_the_page_is_well_formed(page: _Page) -> None:
    assert page.problems == []
    assert page.open == []
    assert len(page.ids) == len(set(page.ids)), sorted({i for i in page.ids if page.ids.count(i) > 1})


def test_every_internal_link_leads_to_an_anchor(page: _Page) -> None:
    internal = [link for link in page.links if link.startswith("#")]
    assert len(internal) > 100
    assert sorted({link for link in internal if link[1:] not in page.ids}) == []


def test_every_class_has_an_anchor_named_after_its_local_name(page: _Page, ontology: Graph) -> None:
    classes = {c for c in ontology.subjects(RDF.type, OWL.Class) if isinstance(c, URIRef)}
    assert len(classes) >= 60
    assert sorted(str(c) for c in classes if str(c) not in page.iris) == []
    own = [c for c in classes if c.startswith(str(CITY))]
    assert sorted(str(c) for c in own if page.iris[str(c)] != c[len(str(CITY)):]) == []


def test_a_class_shows_its_labels_in_both_languages_and_its_definition(page: _Page, ontology: Graph) -> None:
    text = page.text_of("LandParcel")
    assert "地块" in text and "land parcel" in text
    definition = str(ontology.value(CITY.LandParcel, URIRef("http://www.w3.org/2004/02/skos/core#definition")))
    assert definition in text


def test_the_class_tree_groups_classes_by_subsystem(page: _Page) -> None:
    planning = [anchor for anchor in page.ids if anchor.startswith("subsystem-") and "Planning" in anchor]
    assert planning == ["subsystem-PlanningSubsystem"]
    assert "规划子系统" in page.text_of("subsystem-PlanningSubsystem")
    assert page.parents["#Hospital"] == {"#HealthFacility"}
    assert page.parents["#HealthFacility"] == {"#PublicServiceFacility"}
    assert "#LandParcel" in page.links_in["subsystem-PlanningSubsystem"]
    assert "#Hospital" not in page.links_in["subsystem-PlanningSubsystem"]


def test_a_class_lists_the_shapes_that_target_it_or_a_superclass(page: _Page) -> None:
    shapes = load_shapes(ONTOLOGY_DIR)
    hospital_shape = URIRef("https://w3id.org/citykg/shapes#HospitalShape")
    assert (hospital_shape, SH.targetClass, CITY.Hospital) in shapes
    text = page.text_of("Hospital")
    assert "citysh:HospitalShape" in text
    assert "city:hospitalGrade" in text and "city:beds" in text
    assert "citysh:PublicServiceFacilityShape" in text and "via city:PublicServiceFacility" in text
    assert "geo:hasGeometry / geo:asWKT" in text


def test_a_class_lists_the_properties_whose_domain_it_is(page: _Page) -> None:
    assert "#hospitalGrade" in page.links_in["Hospital"]
    assert "city:hospitalGrade" in page.text_of("Hospital")


def test_a_property_shows_domain_range_characteristics_and_inverse(page: _Page) -> None:
    serves = page.text_of("serves")
    assert "city:PublicServiceFacility" in serves and "city:SpatialFeature" in serves
    assert "#servedBy" in page.links_in["serves"]
    assert "#serves" in page.links_in["servedBy"]  # stated on one side, shown on both
    assert "Functional" in page.text_of("hospitalGrade")
    assert "Transitive" in page.text_of("locatedIn")


def test_the_page_fetches_nothing_from_the_network(page: _Page) -> None:
    assert "script" not in page.tags
    assert page.styles, "the style sheet is inline"
    remote = re.compile(r"^\s*(https?:)?//", re.IGNORECASE)
    assert [r for r in page.resources if remote.match(r)] == []
    assert not re.search(r"url\(|@import", "".join(page.styles))


def test_deprecated_terms_are_marked_with_their_replacement_and_text_is_escaped(tmp_path: Path) -> None:
    ontology_dir = Path(shutil.copytree(ONTOLOGY_DIR, tmp_path / "ontology",
                                        ignore=shutil.ignore_patterns("examples", "queries")))
    with (ontology_dir / "public-services.ttl").open("a", encoding="utf-8") as module:
        module.write('city:Park owl:deprecated true ; rdfs:comment "<b>parks</b> & <script>gardens</script>"@en ;\n'
                     "    <http://purl.org/dc/terms/isReplacedBy> city:PublicServiceFacility .\n")
    page = _parse(write_docs(ontology_dir, tmp_path / "site"))
    text = page.text_of("Park")
    assert "deprecated" in text
    assert "<b>parks</b> & <script>gardens</script>" in text
    assert "b" not in page.tags and "script" not in page.tags
    assert "#PublicServiceFacility" in page.links_in["Park"]
    assert page.problems == []
