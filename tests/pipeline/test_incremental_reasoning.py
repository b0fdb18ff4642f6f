"""After a small change, reasoning corrects the inferred graph where the change reaches, and ends
exactly where reasoning over the whole city from scratch ends; where the change reaches what the
correction cannot follow (geometries, the ontology's rules, equalities), it says so and reasons
over everything."""

from __future__ import annotations

import csv
import io
import shutil
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from rdflib import OWL, RDF, RDFS, Graph, Namespace

from kg_service import pipeline
from kg_service.config import Settings, load_settings, project_path
from kg_service.generate import generate_city
from kg_service.reason import keyed, rule_part
from kg_service.reason.incremental import AssertedChange, NeedsFullReasoning, ReasonedGraphs, correct_inferred
from kg_service.store import GraphStore, GraphWrites, open_store

ENTERPRISES = "market-regulation/enterprise-register"
READINGS = "water/flow-readings"
SCHOOLS = "education/schools"
Edit = Callable[[Path], None]


@pytest.fixture(scope="module")
def reasoned_city(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A generated city of 3,000 rows, ingested and reasoned once into a store on disk."""
    root = tmp_path_factory.mktemp("city")
    generate_city(project_path("mappings"), root / "mappings", 3000, 7)
    settings = load_settings(data_dir=root / "data", in_memory=False, mappings_dir=root / "mappings")
    with open_store(settings) as store:
        pipeline.ingest(settings, store)
    return root


@pytest.fixture
def city(reasoned_city: Path, tmp_path: Path) -> Iterator[tuple[Settings, GraphStore]]:
    shutil.copytree(reasoned_city, tmp_path, dirs_exist_ok=True)
    settings = load_settings(data_dir=tmp_path / "data", in_memory=False, mappings_dir=tmp_path / "mappings")
    with open_store(settings) as store:
        yield settings, store


def _graph(store: GraphStore, iri: str) -> set[tuple[str, ...]]:
    result = store.query(f"CONSTRUCT {{ ?s ?p ?o }} WHERE {{ GRAPH <{iri}> {{ ?s ?p ?o }} }}")
    assert isinstance(result, Graph)
    return {tuple(term.n3() for term in triple) for triple in result}


def _rule_part(settings: Settings) -> str:
    return (settings.data_dir / rule_part.FILE_NAME).read_text(encoding="utf-8")


def _edit_csv(path: Path, encoding: str, change: Callable[[list[list[str]]], None]) -> None:
    rows = list(csv.reader(io.StringIO(path.read_bytes().decode(encoding))))
    change(rows)
    out = io.StringIO()
    csv.writer(out, lineterminator="\n").writerows(rows)
    path.write_bytes(out.getvalue().encode(encoding))


def _reingest_and_compare(settings: Settings, store: GraphStore, dataset: str, edit: Edit) -> str:
    """Edit the source, re-ingest the dataset; the inferred and candidate graphs must equal those
    reasoning over everything makes from the same data. Returns how reasoning was done."""
    edit(settings.mappings_dir)
    report = pipeline.ingest(settings, store, [dataset])
    (job,) = report.datasets
    assert job.entities_changed > 0 and job.reconciles
    graphs = (settings.graphs.inferred, settings.graphs.candidates)
    incremental = [_graph(store, graph) for graph in graphs]
    assert report.inferred_triples == len(incremental[0])
    kept = _rule_part(settings)
    pipeline.reason(settings, store)
    full = [_graph(store, graph) for graph in graphs]
    assert incremental[0] == full[0], (sorted(full[0] - incremental[0])[:5], sorted(incremental[0] - full[0])[:5])
    assert incremental[1] == full[1]
    assert kept == _rule_part(settings)  # the same inputs' stamp, the same rules' part
    return report.reasoning


def _edit_enterprises(mappings: Path) -> None:
    def change(rows: list[list[str]]) -> None:
        header = rows[0]
        capital, code, name = (header.index(h) for h in ("注册资本（万元）", "统一社会信用代码", "企业名称"))
        rows[5][capital] = "4321.0"  # one enterprise's capital (the store writes it "4321")
        gone = rows.pop(9)  # one deregistered
        added = list(rows[20])  # one newly registered, like another
        added[code], added[name] = gone[code][:-4] + "ZZ9X", added[name] + "分公司"
        rows.append(added)
    _edit_csv(mappings / "market-regulation" / "sample" / "enterprise-register.csv", "gb18030", change)


def _counting_candidate_runs(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    runs: list[int] = []
    recompute = pipeline.link_candidates
    monkeypatch.setattr(pipeline, "link_candidates", lambda *args: runs.append(1) or recompute(*args))
    return runs


def test_a_few_changed_enterprises_are_reasoned_incrementally(city: tuple[Settings, GraphStore],
                                                              monkeypatch: pytest.MonkeyPatch) -> None:
    runs = _counting_candidate_runs(monkeypatch)
    assert _reingest_and_compare(*city, ENTERPRISES, _edit_enterprises) == "incremental"
    # enterprises are placed at no point: their names cannot make candidates (the comparison ran once, in full)
    assert len(runs) == 1


def test_a_re_run_lifts_only_the_rows_that_changed(city: tuple[Settings, GraphStore]) -> None:
    settings, store = city
    _edit_enterprises(settings.mappings_dir)  # one row changed, one removed, one added
    (job,) = pipeline.ingest(settings, store, [ENTERPRISES]).datasets
    assert job.read > 100 and job.rows_remembered == job.read - 2


def test_a_renamed_school_recomputes_the_candidates(city: tuple[Settings, GraphStore],
                                                    monkeypatch: pytest.MonkeyPatch) -> None:
    """A school is placed at a point, so its new name may pair it with another department's record."""
    def rename(mappings: Path) -> None:
        path = mappings / "education" / "sample" / "schools.json"
        text = path.read_text(encoding="utf-8")
        first = text.index('"name": "') + len('"name": "')
        path.write_text(text[:first] + "新" + text[first:], encoding="utf-8")

    runs = _counting_candidate_runs(monkeypatch)
    assert _reingest_and_compare(*city, "education/schools", rename) == "incremental"
    assert len(runs) == 2  # after the correction, and in the full run it is compared with


def test_changed_readings_run_the_rules_again(city: tuple[Settings, GraphStore]) -> None:
    def change(rows: list[list[str]]) -> None:
        # the three pump stations, in alert above their load margin, read a low flow last: the alerts
        # end, and with them the risk to whom they supply
        value, taken, unit = (rows[0].index(h) for h in ("读数", "采集时间", "单位"))
        for row in rows[1:4]:
            row[value], row[taken], row[unit] = "1", "2031-01-01T00:00:00+08:00", "m3/d"
    settings, store = city
    concluded_before = _rule_part(settings).splitlines()[1:]
    how = _reingest_and_compare(settings, store, READINGS,
                                lambda m: _edit_csv(m / "water" / "sample" / "flow-readings.csv", "utf-8", change))
    assert how == "incremental"
    assert _rule_part(settings).splitlines()[1:] != concluded_before  # the rules concluded otherwise


def test_the_rules_working_store_is_kept_and_brought_up_to_date(city: tuple[Settings, GraphStore],
                                                                 monkeypatch: pytest.MonkeyPatch) -> None:
    """Built on the first change the rules read, read again (while the job runs) and patched on
    the next ones; a change between them that the rules do not read (an enterprise's capital)
    carries it over to the new state of the inferred graph instead of making the next one build it."""
    settings, store = city
    built: list[int] = []
    fresh = rule_part.KeptWorkingStore.fresh
    monkeypatch.setattr(rule_part.KeptWorkingStore, "fresh", lambda self: built.append(1) or fresh(self))
    read_while_the_jobs_ran: list[int] = []
    result = rule_part.WorkingStoreLoad.result
    monkeypatch.setattr(rule_part.WorkingStoreLoad, "result",
                        lambda self: read_while_the_jobs_ran.append(1) or result(self))
    walked: list[tuple[int, str]] = []  # (round, rule) run for the keys a change reached
    walk = keyed.KeyedRule.neighbourhood
    monkeypatch.setattr(keyed.KeyedRule, "neighbourhood",
                        lambda self, *args: walked.append((round_number, self.rule.name)) or walk(self, *args))
    for round_number in range(3):
        if round_number == 1:
            assert _reingest_and_compare(settings, store, ENTERPRISES, _edit_enterprises) == "incremental"
        def change(rows: list[list[str]], shift: int = round_number) -> None:
            value, taken, unit = (rows[0].index(h) for h in ("读数", "采集时间", "单位"))
            for row in rows[1 + shift:4 + shift]:  # other stations' latest flows, each round
                row[value], row[taken], row[unit] = "1", f"203{shift}-01-01T00:00:00+08:00", "m3/d"
        how = _reingest_and_compare(settings, store, READINGS,
                                    lambda m, change=change: _edit_csv(m / "water" / "sample" / "flow-readings.csv",
                                                                        "utf-8", change))
        assert how == "incremental"
    assert built == [1]  # built on the first change, brought up to date on the next two
    assert read_while_the_jobs_ran == [1, 1]
    # the first change ran the rules over everything; the next two ran the one reading the latest flows
    # again only for the stations whose readings changed (the comparison above: to the same end)
    assert {(1, "04-above-load-margin-status"), (2, "04-above-load-margin-status")} <= set(walked)
    assert not [rule for number, rule in walked if number == 0]


def test_without_the_rules_part_a_change_they_read_is_reasoned_over_everything(
        city: tuple[Settings, GraphStore]) -> None:
    settings, store = city
    path = settings.data_dir / rule_part.FILE_NAME
    path.write_text(path.read_text(encoding="utf-8").replace("# inferred from ", "# inferred from x"), encoding="utf-8")

    def change(rows: list[list[str]]) -> None:
        rows[1][rows[0].index("读数")] = "1"
    how = _reingest_and_compare(settings, store, READINGS,
                                lambda m: _edit_csv(m / "water" / "sample" / "flow-readings.csv", "utf-8", change))
    assert how.startswith("full: ") and "not known" in how


def test_a_moved_school_is_reasoned_over_everything_because_spatial_relations_read_it(
        city: tuple[Settings, GraphStore]) -> None:
    def move(mappings: Path) -> None:
        path = mappings / "education" / "sample" / "schools.json"
        text = path.read_text(encoding="utf-8")
        path.write_text(text.replace('"lng": 117.', '"lng": 117.0001', 1), encoding="utf-8")
    how = _reingest_and_compare(*city, SCHOOLS, move)
    assert how.startswith("full: ") and "spatial" in how


def test_a_run_after_a_failed_reasoning_reasons_over_everything(city: tuple[Settings, GraphStore]) -> None:
    settings, store = city
    store.commit(GraphWrites(retract=[(settings.graphs.provenance, settings.graphs.inferred, None, None)]))
    how = _reingest_and_compare(settings, store, ENTERPRISES, _edit_enterprises)
    assert how.startswith("full: ")


def test_a_changed_rule_makes_reasoning_run_again(reasoned_city: Path, tmp_path: Path) -> None:
    shutil.copytree(reasoned_city, tmp_path, dirs_exist_ok=True)
    shutil.copytree(project_path("ontology"), tmp_path / "ontology")
    settings = load_settings(data_dir=tmp_path / "data", in_memory=False, mappings_dir=tmp_path / "mappings",
                             ontology_dir=tmp_path / "ontology")
    with open_store(settings) as store:
        assert pipeline.ingest(settings, store, [ENTERPRISES]).reasoning == "unchanged"
        rule = next((tmp_path / "ontology" / "rules").glob("04-*.rq"))  # no station is ever above 1000x
        rule.write_text(rule.read_text(encoding="utf-8").replace("?share * ?capacity", "1000 * ?capacity"),
                        encoding="utf-8")
        assert "1000 * ?capacity" in rule.read_text(encoding="utf-8")
        before = _graph(store, settings.graphs.inferred)
        report = pipeline.ingest(settings, store, [ENTERPRISES])
        assert report.reasoning.startswith("full: ")  # no data changed, but the rules did
        assert _graph(store, settings.graphs.inferred) != before


# The correction itself, on a small ontology: what a removal takes away and what still holds.
EX = Namespace("https://example.org/")
DATA, INFERRED = f"{EX}graph/data", f"{EX}graph/inferred"


def _ontology() -> Graph:
    graph = Graph()
    graph.add((EX.School, RDFS.subClassOf, EX.Facility))
    graph.add((EX.Facility, RDFS.subClassOf, EX.Place))
    graph.add((EX.servedBy, RDFS.domain, EX.Facility))
    graph.add((EX.servedBy, RDFS.range, EX.Station))
    graph.add((EX.servedBy, OWL.inverseOf, EX.serves))
    graph.add((EX.partOf, RDF.type, OWL.TransitiveProperty))
    return graph


def _nt(*terms: str) -> tuple[str, str, str]:
    s, p, o = (f"<{EX}{t}>" if not t.startswith("<") else t for t in terms)
    return s, p, o


TYPE = f"<{RDF.type}>"


def _store_with(data: set[tuple[str, str, str]], inferred: set[tuple[str, str, str]]) -> GraphStore:
    store = open_store(load_settings(in_memory=True))
    store.commit(GraphWrites(add={DATA: "".join(f"{s} {p} {o} .\n" for s, p, o in data).encode() or b"",
                                  INFERRED: "".join(f"{s} {p} {o} .\n" for s, p, o in inferred).encode() or b""}))
    return store


def _apply(store: GraphStore, change: AssertedChange) -> set[tuple[str, str, str]]:
    store.commit(GraphWrites(retract=[(DATA, s[1:-1], p[1:-1], o[1:-1]) for s, p, o in change.removed],
                             add={DATA: "".join(f"{s} {p} {o} .\n" for s, p, o in change.added).encode()}))
    correction = correct_inferred(store, ReasonedGraphs([DATA], INFERRED, frozenset()), _ontology(), [], change)
    inferred = {tuple(t) for t in store.select_text(f"SELECT ?s ?p ?o WHERE {{ GRAPH <{INFERRED}> {{ ?s ?p ?o }} }}")}
    return {fact for fact in inferred if fact[0] not in correction.subjects} | set(correction.after)


def test_a_removed_link_takes_away_what_followed_from_it_alone() -> None:
    link = _nt("school1", "servedBy", "station1")
    store = _store_with({link, _nt("school1", TYPE, "School")},
                        {_nt("school1", TYPE, "Facility"), _nt("school1", TYPE, "Place"),
                         _nt("station1", TYPE, "Station"), _nt("station1", "serves", "school1")})
    inferred = _apply(store, AssertedChange(removed=frozenset({link})))
    # the school is still a facility by its asserted class; the station is no longer known as one
    assert inferred == {_nt("school1", TYPE, "Facility"), _nt("school1", TYPE, "Place")}


def test_a_removed_asserted_type_that_still_follows_becomes_inferred() -> None:
    stated = _nt("school1", TYPE, "Facility")
    store = _store_with({stated, _nt("school1", "servedBy", "station1")},
                        {_nt("school1", TYPE, "Place"), _nt("station1", TYPE, "Station"),
                         _nt("station1", "serves", "school1")})
    inferred = _apply(store, AssertedChange(removed=frozenset({stated})))
    assert stated in inferred and _nt("school1", TYPE, "Place") in inferred


def test_an_added_link_brings_its_consequences_and_nothing_asserted() -> None:
    store = _store_with({_nt("school2", TYPE, "School"), _nt("station2", TYPE, "Station")},
                        {_nt("school2", TYPE, "Facility"), _nt("school2", TYPE, "Place")})
    link = _nt("school2", "servedBy", "station2")
    inferred = _apply(store, AssertedChange(added=frozenset({link})))
    assert _nt("station2", "serves", "school2") in inferred
    assert _nt("station2", TYPE, "Station") not in inferred  # asserted: the inferred graph does not repeat it


def test_a_transitive_link_from_a_node_nothing_leads_to_is_followed() -> None:
    store = _store_with({_nt("room", "partOf", "floor"), _nt("floor", "partOf", "building")},
                        {_nt("room", "partOf", "building")})
    inferred = _apply(store, AssertedChange(added=frozenset({_nt("desk", "partOf", "room")})))
    assert {_nt("desk", "partOf", "building"), _nt("desk", "partOf", "floor")} <= inferred
    store = _store_with({_nt("room", "partOf", "floor"), _nt("desk", "partOf", "room")},
                        {_nt("desk", "partOf", "floor")})
    inferred = _apply(store, AssertedChange(removed=frozenset({_nt("desk", "partOf", "room")})))
    assert not any(fact[0] == f"<{EX}desk>" for fact in inferred)


def test_a_transitive_link_from_a_node_others_lead_to_needs_everything() -> None:
    store = _store_with({_nt("a", "partOf", "b")}, set())
    with pytest.raises(NeedsFullReasoning, match="transitive"):
        _apply(store, AssertedChange(added=frozenset({_nt("b", "partOf", "c")})))
