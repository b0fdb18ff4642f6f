"""An ontology edit from proposal to effect: plan it on a copy, check the copy, report its impact,
and apply it (files, version, changelog, stored data) or refuse it with nothing changed.

The order keeps a refused or failed edit from leaving anything behind: every check runs on a
temporary copy of the ontology; applying writes the new files beside the old ones, commits the data
migration in one store transaction, and only then moves the files into place.
"""

from __future__ import annotations

import datetime as dt
import re
import shutil
import tempfile
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

from rdflib import OWL, Literal, URIRef
from rdflib.term import Node

from kg_service.config import Settings
from kg_service.errors import OntologyError
from kg_service.namespaces import CITY
from kg_service.ontology.checks import Baseline, CheckResult, run_checks
from kg_service.ontology.edits import Edit, Move, WorkingCopy
from kg_service.ontology.impact import Impact, assess, code_list_cell
from kg_service.ontology.loader import ENTRY_FILE, ONTOLOGY_IRI
from kg_service.ontology.modules import prefixed_name
from kg_service.store import GraphStore, GraphWrites, select

CHANGELOG = "CHANGELOG.md"
# Files outside the modules that may name a term: a rename carries to them.
RENAMED_ELSEWHERE = ("*.ttl", "*.rq", "*.nt", "*.csv", "*.md")


@dataclass
class Plan:
    """An edit worked out on a copy: the files it writes (path -> new text) and what it touches."""

    edit: Edit
    copy: WorkingCopy
    touched: set[URIRef]
    files: dict[Path, str] = field(default_factory=dict)
    version: tuple[str, str] = ("", "")  # before, after

    @property
    def renames(self) -> list[tuple[URIRef, URIRef]]:
        return self.copy.renames

    @property
    def migrates_data(self) -> bool:
        return bool(self.renames)

    def work_out_files(self, settings: Settings) -> None:
        self.files = {module.path: module.text() for module in self.copy.changed_modules().values()}
        for old, new in self.renames:
            self.files.update(_renamed_elsewhere(settings.ontology_dir, old, new, skip=set(self.copy.modules)))
            self.files.update(_renamed_elsewhere(settings.mappings_dir, old, new, skip=set(), code_lists=True))


@dataclass
class Outcome:
    plan: Plan
    checks: list[CheckResult]
    impact: Impact
    applied: bool = False
    migrated: int = 0  # stored statements rewritten

    @property
    def refused(self) -> bool:
        return not all(check.passed for check in self.checks)

    def to_json(self) -> dict[str, object]:
        before, after = self.plan.version
        return {"edit": self.plan.edit.kind, "description": self.plan.edit.describe(),
                "version": {"before": before, "after": after},
                "checks": [{"name": c.name, "passed": c.passed, "problems": c.problems} for c in self.checks],
                "refused": self.refused, "applied": self.applied, "migrated_statements": self.migrated,
                "files": sorted(str(path) for path in self.plan.files), "impact": self.impact.to_json()}


def plan(settings: Settings, edit: Edit) -> Plan:
    """Work the edit out on the modules' graphs; raises OntologyError for an edit that makes no sense
    (an unknown term, a name taken, a bad name)."""
    copy = WorkingCopy(settings.ontology_dir)
    planned = Plan(edit, copy, edit.apply(copy))
    planned.work_out_files(settings)
    if not planned.files:
        raise OntologyError(f"the edit changes nothing: {edit.describe()}", hint="the ontology already says this")
    return planned


def _checked(settings: Settings, planned: Plan, store: GraphStore | None) -> Outcome:
    """Run every ontology check on a copy holding the edit, report its impact, and work out the
    version it makes (which depends on whether the impact breaks the API)."""
    with _edited_copy(settings, planned.files) as edited_dir:
        checks = run_checks(edited_dir, Baseline(settings.ontology_dir, settings.data_dir))
        impact = assess(settings, edited_dir, planned.touched, planned.renames, store)
    _version(settings, planned, impact.breaking)
    return Outcome(planned, checks, impact)


def propose(settings: Settings, edit: Edit, store: GraphStore | None) -> Outcome:
    """Plan an edit, check it and assess its impact, without changing anything."""
    return _checked(settings, plan(settings, edit), store)


def apply(settings: Settings, edit: Edit, store: GraphStore | None,
          on_step: Callable[[str], None] = lambda _: None) -> Outcome:
    """Propose the edit and, when every check passes, apply it: the data migration in one store
    transaction, then the files (with the version bumped and the changelog appended). A refused edit
    changes nothing and comes back with ``refused`` set."""
    planned = plan(settings, edit)
    if store is None and planned.migrates_data:
        raise OntologyError("this edit renames stored data, but the store is not open",
                            hint="stop the service and run the command again, or send the edit to the "
                                 "service's /ontology/edits endpoint")
    on_step("checking the edited ontology")
    outcome = _checked(settings, planned, store)
    if outcome.refused:
        return outcome
    planned.files[settings.ontology_dir / CHANGELOG] = _changelog(settings.ontology_dir, outcome)
    staged = _stage(planned.files)
    try:
        if store is not None and planned.renames:
            on_step("migrating stored data")
            outcome.migrated = _migrate(settings, store, planned.renames)
        on_step("writing the ontology files")
        for temporary, path in staged:
            temporary.replace(path)
    finally:
        for temporary, _ in staged:
            temporary.unlink(missing_ok=True)
    outcome.applied = True
    if store is not None:
        on_step("publishing the ontology to the store")
        publish(settings, store)
        if isinstance(edit, Move) and any(g.startswith(settings.graphs.source("")) for g in store.named_graphs()):
            on_step("reasoning again, so inferred classes follow the moved class")
            from kg_service.pipeline import reason

            reason(settings, store)
    return outcome


# ---- the copy ------------------------------------------------------------------------------------


@contextmanager
def _edited_copy(settings: Settings, files: dict[Path, str]) -> Iterator[Path]:
    with tempfile.TemporaryDirectory(prefix="citykg-edit-") as workdir:
        edited = Path(workdir) / "ontology"
        shutil.copytree(settings.ontology_dir, edited)
        for path, text in files.items():
            if path.is_relative_to(settings.ontology_dir):
                target = edited / path.relative_to(settings.ontology_dir)
                target.parent.mkdir(parents=True, exist_ok=True)
                target.write_text(text, encoding="utf-8", errors="surrogateescape")
        yield edited


def _stage(files: dict[Path, str]) -> list[tuple[Path, Path]]:
    staged = []
    for path, text in files.items():
        temporary = path.with_name(f".{path.name}.edit")
        temporary.write_text(text, encoding="utf-8", errors="surrogateescape")
        staged.append((temporary, path))
    return staged


def _renamed_elsewhere(root: Path, old: URIRef, new: URIRef, skip: set[str], code_lists: bool = False
                       ) -> dict[Path, str]:
    """Every other file under ``root`` that names the term, with the name replaced: prefixed names
    under any prefix the file binds to the city namespace, full IRIs, and (in the mappings' code
    lists) CSV cells holding just the local name."""
    local_old, local_new = old.removeprefix(str(CITY)), new.removeprefix(str(CITY))
    full = re.compile(rf"{re.escape(str(old))}(?![\w-])")
    changed = {}
    for pattern in RENAMED_ELSEWHERE:
        for path in sorted(root.rglob(pattern)):
            if (path.parent == root and path.name in skip) or path.name == CHANGELOG:
                continue
            text = path.read_text(encoding="utf-8", errors="surrogateescape")  # a source in another encoding
            prefixes = {"city", *re.findall(rf"(\w+)\s*:\s*<?[\"']?{re.escape(str(CITY))}[>\"']", text)}
            new_text = full.sub(str(new), text)
            if code_lists and path.suffix == ".csv":
                new_text = code_list_cell(local_old).sub(local_new, new_text)
            for prefix in prefixes:
                new_text = prefixed_name(re.escape(prefix), local_old).sub(f"{prefix}:{local_new}", new_text)
            if new_text != text:
                changed[path] = new_text
    return changed


def _version(settings: Settings, planned: Plan, breaking: bool) -> None:
    """Bump ``owl:versionInfo`` of the whole ontology: the minor number for a change that breaks
    the API, the patch number otherwise; the entry module changes by that one word."""
    graph = planned.copy.graphs[ENTRY_FILE]
    ontology = URIRef(ONTOLOGY_IRI)
    before = str(graph.value(ontology, OWL.versionInfo) or "0.0.0")
    numbers = [int(part) if part.isdigit() else 0 for part in ([*before.split("."), "0", "0"])[:3]]
    after = f"{numbers[0]}.{numbers[1] + 1}.0" if breaking else f"{numbers[0]}.{numbers[1]}.{numbers[2] + 1}"
    graph.set((ontology, OWL.versionInfo, Literal(after)))
    planned.work_out_files(settings)
    planned.version = (before, after)


def _changelog(ontology_dir: Path, outcome: Outcome) -> str:
    path = ontology_dir / CHANGELOG
    text = path.read_text(encoding="utf-8") if path.is_file() else (
        "# Ontology changelog\n\nEvery edit made with `citykg ontology` (or the service's /ontology/edits), "
        "newest last.\n")
    before, after = outcome.plan.version
    impact = outcome.impact
    described = outcome.plan.edit.describe()
    lines = [f"\n## {after} ({dt.date.today().isoformat()})\n",
             f"- {described[:1].upper()}{described[1:]} (was {before}).\n"]
    if impact.breaking:
        lines.append(f"- Breaking for the GraphQL API: {'; '.join(impact.schema_breaking)}.\n")
    if impact.schema_added:
        lines.append(f"- Added to the GraphQL API: {'; '.join(impact.schema_added)}.\n")
    if outcome.plan.renames and impact.stored_statements:
        lines.append(f"- Stored data migrated: {impact.stored_statements} statements.\n")
    return text + "".join(lines)


# ---- the data ------------------------------------------------------------------------------------


def _migrate(settings: Settings, store: GraphStore, renames: list[tuple[URIRef, URIRef]]) -> int:
    """Rename the terms in every stored graph but the ontology's, in one transaction."""
    retract: list[tuple[str, str | None, str | None, str | None]] = []
    add: dict[str, list[str]] = {}
    count = 0
    graphs = [g for g in store.named_graphs() if g != settings.graphs.ontology]
    for old, new in renames:
        for position in range(3):
            pattern = ["?s", "?p", "?o"]
            pattern[position] = old.n3()
            for graph, *triple in select(store, f"SELECT ?g {' '.join(v for v in pattern if v.startswith('?'))} "
                                                f"WHERE {{ GRAPH ?g {{ {' '.join(pattern)} }} }}").rows:
                if graph is None or str(graph) == settings.graphs.ontology:
                    continue
                terms = [*triple]
                terms.insert(position, new)
                add.setdefault(str(graph), []).append(" ".join(_n3(t) for t in terms) + " .\n")
                count += 1
            retract += [(g, *(str(old) if i == position else None for i in range(3))) for g in graphs]  # type: ignore[misc]
    store.commit(GraphWrites(retract=retract, add={g: "".join(lines).encode() for g, lines in add.items()}))
    return count


def _n3(term: Node | None) -> str:
    assert term is not None
    return term.n3()


def publish(settings: Settings, store: GraphStore) -> None:
    """The store's ontology graph follows the files (as every ingest does)."""
    from kg_service.pipeline import Vocabulary, publish_ontology

    publish_ontology(settings, store, Vocabulary.load(settings))


