"""The edits an ontology editor makes, each applied to a working copy of the ontology's modules.

An edit changes the graphs of the modules it touches; :mod:`kg_service.ontology.modules` writes them
back. A rename also changes every other file that names the term (shapes, rules, questions, the
fixture city, mappings) and the stored data, which :mod:`kg_service.ontology.changes` does.

The edits work on the modules' own graphs rather than on an owlready2 world: only the module graphs
keep each file's blank nodes, which is what lets an edit leave the rest of a file as written.
owlready2 (with HermiT) checks the edited ontology before anything is written.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path

from rdflib import OWL, RDF, RDFS, XSD, BNode, Graph, Literal, URIRef
from rdflib.namespace import DCTERMS, SH, SKOS
from rdflib.term import Node

from kg_service.errors import OntologyError
from kg_service.namespaces import CITY
from kg_service.ontology.loader import ONTOLOGY_IRI
from kg_service.ontology.modules import KNOWN_PREFIXES, Module, Triple, read_modules

SUBSYSTEM_MODULES = {CITY.PlanningSubsystem: "planning.ttl", CITY.IndustrySubsystem: "industry.ttl",
                     CITY.PublicServicesSubsystem: "public-services.ttl",
                     CITY.InfrastructureSubsystem: "infrastructure.ttl"}
SUBSYSTEM_NAMES = {"planning": CITY.PlanningSubsystem, "industry": CITY.IndustrySubsystem,
                   "public-services": CITY.PublicServicesSubsystem,
                   "infrastructure": CITY.InfrastructureSubsystem}
CHARACTERISTICS = {"functional": OWL.FunctionalProperty, "inverse-functional": OWL.InverseFunctionalProperty,
                   "transitive": OWL.TransitiveProperty, "symmetric": OWL.SymmetricProperty,
                   "asymmetric": OWL.AsymmetricProperty, "reflexive": OWL.ReflexiveProperty,
                   "irreflexive": OWL.IrreflexiveProperty}
PROPERTY_KINDS = {"object": OWL.ObjectProperty, "datatype": OWL.DatatypeProperty,
                  "annotation": OWL.AnnotationProperty}
_DECLARED = (OWL.Class, *PROPERTY_KINDS.values(), OWL.NamedIndividual)
_CLASS_NAME = re.compile(r"^[A-Z][A-Za-z0-9]*$")
_PROPERTY_NAME = re.compile(r"^[a-z][A-Za-z0-9]*$")


class WorkingCopy:
    """The ontology's modules being edited: each module's graph, and the renames to carry to the
    other files and to the stored data."""

    def __init__(self, ontology_dir: Path) -> None:
        self.ontology_dir = ontology_dir
        self.modules: dict[str, Module] = read_modules(ontology_dir)
        self.graphs: dict[str, Graph] = {name: module.graph() for name, module in self.modules.items()}
        self.shape_modules: dict[str, Module] = {}  # data shapes an edit changes, by "shapes/<file name>"
        self.shape_graphs: dict[str, Graph] = {}
        self.renames: list[tuple[URIRef, URIRef]] = []
        self.moved: list[str] = []  # modules a term left or entered, for the changelog

    def whole(self) -> Graph:
        graph = Graph()
        for module in self.graphs.values():
            graph += module
        return graph

    def term(self, name: str) -> URIRef:
        """A term of the ontology by local name, prefixed name or IRI; it must be declared."""
        iri = resolve(name)
        if not any((iri, RDF.type, kind) in graph for graph in self.graphs.values() for kind in _DECLARED):
            raise OntologyError(f"{name} is not a class, property or individual of the ontology",
                                hint="name a declared term, e.g. city:LandParcel")
        return iri

    def new_term(self, name: str, pattern: re.Pattern[str], kind: str) -> URIRef:
        if not pattern.match(name):
            example = "LandParcel" if kind == "class" else "parcelCode"
            raise OntologyError(f"{name!r} is not a {kind} name of the house style",
                                hint=f"a {kind} name is a local name in camel case, e.g. {example}")
        iri = CITY[name]
        module = self.module_of(iri)
        if module is not None:
            raise OntologyError(f"city:{name} already exists", where=module, hint="choose another name")
        return iri

    def module_of(self, iri: URIRef) -> str | None:
        """The module that declares a term, or failing that the first that says anything of it."""
        for name, graph in self.graphs.items():
            if any((iri, RDF.type, kind) in graph for kind in _DECLARED):
                return name
        return next((name for name, graph in self.graphs.items() if (iri, None, None) in graph), None)

    def module_iri(self, module: str) -> URIRef:
        if module not in self.graphs:
            raise OntologyError(f"no module {module!r}", where=str(self.ontology_dir),
                                hint=f"one of {', '.join(sorted(self.graphs))}")
        return URIRef(f"{ONTOLOGY_IRI}/{module.removesuffix('.ttl')}")

    def graph_of(self, iri: URIRef) -> tuple[str, Graph]:
        name = self.module_of(iri)
        if name is None:
            raise OntologyError(f"{iri} is in no module of the ontology")
        return name, self.graphs[name]

    def shape_of(self, class_iri: URIRef) -> tuple[str, URIRef]:
        """The shapes file and the node shape that targets ``class_iri``."""
        found: list[tuple[bool, str, URIRef, Module, Graph]] = []
        for path in sorted((self.ontology_dir / "shapes").glob("*.ttl")):
            name = f"shapes/{path.name}"  # apart from the ontology module of the same name
            module = self.shape_modules.get(name) or Module.read(path)
            graph = self.shape_graphs.get(name) or module.graph()
            found += [((shape, SH.property, None) not in graph, name, shape, module, graph)
                      for shape in graph.subjects(SH.targetClass, class_iri) if isinstance(shape, URIRef)]
        if found:  # the class's own shape: one with property shapes before one of SPARQL constraints only
            _, name, shape, module, graph = min(found, key=lambda item: (item[0], item[1], str(item[2])))
            self.shape_modules[name], self.shape_graphs[name] = module, graph
            return name, shape
        raise OntologyError(f"no data shape targets {class_iri}",
                            hint="add a node shape for the class under shapes/ first, or leave out --shape-of")

    def changed_modules(self) -> dict[str, Module]:
        """The modules whose graphs changed, rewritten."""
        changed = {name: module.rewritten(self.shape_graphs[name]) for name, module in self.shape_modules.items()
                   if set(self.shape_graphs[name]) != set(module.graph())}
        for name, module in self.modules.items():
            if self.renames:
                for old, new in self.renames:
                    module = module.renamed(old, new)
            before = set(module.graph())
            if set(self.graphs[name]) != before:
                module = module.rewritten(self.graphs[name])
            if module.text() != self.modules[name].text():
                changed[name] = module
        return changed


def resolve(name: str) -> URIRef:
    """``LandParcel``, ``city:LandParcel``, ``xsd:decimal`` or a full IRI, as an IRI."""
    if name.startswith(("http://", "https://")):
        return URIRef(name)
    prefix, _, local = name.rpartition(":")
    namespace = KNOWN_PREFIXES.get(prefix or "city")
    if namespace is None:
        raise OntologyError(f"unknown prefix in {name!r}", hint=f"use one of {', '.join(sorted(KNOWN_PREFIXES))} "
                                                               "or a full IRI")
    return URIRef(namespace + local)


def _labels(graph: Graph, iri: URIRef, labels: dict[str, str]) -> None:
    for language, text in labels.items():
        for old in [o for o in graph.objects(iri, RDFS.label) if isinstance(o, Literal) and o.language == language]:
            graph.remove((iri, RDFS.label, old))
        graph.add((iri, RDFS.label, Literal(text, lang=language)))


def _definition(graph: Graph, iri: URIRef, definition: str | None) -> None:
    if definition is None:
        return
    for old in [o for o in graph.objects(iri, SKOS.definition) if isinstance(o, Literal) and o.language == "en"]:
        graph.remove((iri, SKOS.definition, old))
    graph.add((iri, SKOS.definition, Literal(definition, lang="en")))


def _declared_class(copy: WorkingCopy, name: str) -> URIRef:
    iri = resolve(name)
    if iri.startswith(str(CITY)) and not any((iri, RDF.type, OWL.Class) in g for g in copy.graphs.values()):
        raise OntologyError(f"{name} is not a class of the ontology", hint="name a declared class")
    return iri


def _subsystem(name: str | None) -> URIRef | None:
    if name is None:
        return None
    if name in SUBSYSTEM_NAMES:
        return SUBSYSTEM_NAMES[name]
    iri = resolve(name)
    if iri not in SUBSYSTEM_MODULES:
        raise OntologyError(f"unknown subsystem {name!r}", hint=f"one of {', '.join(SUBSYSTEM_NAMES)}")
    return iri


# ---- the edits -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class AddClass:
    name: str
    parent: str
    labels: dict[str, str]
    definition: str
    subsystem: str | None = None
    module: str | None = None
    shape: bool = False  # also a data shape of its own, so the API serves it as a type

    kind = "add-class"

    def describe(self) -> str:
        return f"added class city:{self.name} under {self.parent}"

    def apply(self, copy: WorkingCopy) -> set[URIRef]:
        iri = copy.new_term(self.name, _CLASS_NAME, "class")
        parent = _declared_class(copy, self.parent)
        whole = copy.whole()
        subsystem = _subsystem(self.subsystem) or whole.value(parent, CITY.belongsToSubsystem)
        module = (self.module or (SUBSYSTEM_MODULES.get(subsystem) if isinstance(subsystem, URIRef) else None)
                  or copy.module_of(parent))
        if module is None:
            raise OntologyError(f"no module to put city:{self.name} in", hint="give --module")
        graph = copy.graphs.get(module)
        module_iri = copy.module_iri(module)
        assert graph is not None
        graph.add((iri, RDF.type, OWL.Class))
        _labels(graph, iri, self.labels)
        _definition(graph, iri, self.definition)
        if subsystem is not None:
            graph.add((iri, CITY.belongsToSubsystem, subsystem))
        graph.add((iri, RDFS.isDefinedBy, module_iri))
        graph.add((iri, RDFS.subClassOf, parent))
        if self.shape:
            self._shape(copy, iri, parent)
        return {iri}

    def _shape(self, copy: WorkingCopy, iri: URIRef, parent: URIRef) -> None:
        """A node shape for the new class beside its parent's, naming one of the parent's paths and
        constraining nothing: the API serves a class as a type of its own once a shape with a property
        shape targets it, with the fields of its own and its superclasses' shapes (the parent's
        constraints still apply to it, as SHACL applies a class's shapes to its subclasses)."""
        try:
            name, parent_shape = copy.shape_of(parent)
        except OntologyError as error:
            raise OntologyError(f"{self.parent} has no data shape for the new class's to extend",
                                hint="leave out --shape, or give the parent a data shape first") from error
        graph = copy.shape_graphs[name]
        paths = sorted((path != CITY.name, str(path)) for node in graph.objects(parent_shape, SH.property)
                       for path in graph.objects(node, SH.path) if isinstance(path, URIRef) and path != RDF.type)
        if not paths:
            raise OntologyError(f"the data shape of {self.parent} has no property shape to extend",
                                hint="leave out --shape")
        shape, node = URIRef(f"{str(parent_shape).rsplit('#', 1)[0]}#{self.name}Shape"), BNode()
        if (shape, None, None) in graph:
            raise OntologyError(f"the shape {shape} already exists", hint="choose another class name")
        graph.add((shape, RDF.type, SH.NodeShape))
        graph.add((shape, RDFS.label, Literal(self.labels.get("en", self.name), lang="en")))
        graph.add((shape, SH.targetClass, iri))
        graph.add((shape, SH.property, node))
        graph.add((node, SH.path, URIRef(paths[0][1])))  # the name, when the parent's shape has one


@dataclass(frozen=True)
class AddProperty:
    name: str
    kind_of: str  # object, datatype or annotation
    labels: dict[str, str]
    definition: str
    domain: str | None = None
    range: str | None = None
    characteristics: tuple[str, ...] = ()
    inverse: str | None = None
    parent: str | None = None
    module: str | None = None
    shape_of: str | None = None  # a class whose data shape gets a property shape for it (a GraphQL field)

    kind = "add-property"

    def describe(self) -> str:
        return f"added {self.kind_of} property city:{self.name}"

    def apply(self, copy: WorkingCopy) -> set[URIRef]:
        if self.kind_of not in PROPERTY_KINDS:
            raise OntologyError(f"unknown property kind {self.kind_of!r}", hint=f"one of {', '.join(PROPERTY_KINDS)}")
        unknown = [c for c in self.characteristics if c not in CHARACTERISTICS]
        if unknown:
            raise OntologyError(f"unknown characteristic {unknown[0]!r}", hint=f"one of {', '.join(CHARACTERISTICS)}")
        if self.kind_of == "datatype" and set(self.characteristics) - {"functional"}:
            raise OntologyError("a datatype property can only be functional", hint="drop the other characteristics")
        iri = copy.new_term(self.name, _PROPERTY_NAME, "property")
        domain = _declared_class(copy, self.domain) if self.domain else None
        value_range = resolve(self.range) if self.range else None
        if value_range is not None and self.kind_of == "object":
            value_range = _declared_class(copy, self.range or "")
        if value_range is not None and self.kind_of == "datatype" and not value_range.startswith(str(XSD)):
            raise OntologyError(f"the range of a datatype property is a datatype, not {self.range}",
                                hint="e.g. xsd:string, xsd:decimal, xsd:date")
        inverse = copy.term(self.inverse) if self.inverse else None
        parent = copy.term(self.parent) if self.parent else None
        module = self.module or (copy.module_of(domain) if domain is not None else None)
        if module is None:
            raise OntologyError(f"no module to put city:{self.name} in", hint="give --module or --domain")
        module_iri = copy.module_iri(module)
        graph = copy.graphs[module]
        graph.add((iri, RDF.type, PROPERTY_KINDS[self.kind_of]))
        for characteristic in self.characteristics:
            graph.add((iri, RDF.type, CHARACTERISTICS[characteristic]))
        _labels(graph, iri, self.labels)
        _definition(graph, iri, self.definition)
        graph.add((iri, RDFS.isDefinedBy, module_iri))
        for predicate, value in ((RDFS.domain, domain), (RDFS.range, value_range), (OWL.inverseOf, inverse),
                                 (RDFS.subPropertyOf, parent)):
            if value is not None:
                graph.add((iri, predicate, value))
        if self.shape_of:
            self._shape(copy, iri, _declared_class(copy, self.shape_of), value_range)
        return {iri}

    def _shape(self, copy: WorkingCopy, iri: URIRef, shaped: URIRef, value_range: URIRef | None) -> None:
        """A property shape for the new property in the data shape of ``shaped``: the API serves a
        property as a field of the types whose shapes have it."""
        name, shape = copy.shape_of(shaped)
        graph, node = copy.shape_graphs[name], BNode()
        graph.add((shape, SH.property, node))
        graph.add((node, SH.path, iri))
        if "functional" in self.characteristics:
            graph.add((node, SH.maxCount, Literal(1)))
        if self.kind_of == "datatype" and value_range is not None:
            graph.add((node, SH.datatype, value_range))
        elif self.kind_of == "object":
            graph.add((node, SH.nodeKind, SH.IRI))
        label = self.labels.get("en", self.name)
        graph.add((node, SH.message, Literal(f"{label}: not a value of the kind the ontology declares")))


@dataclass(frozen=True)
class SetLabels:
    term: str
    labels: dict[str, str] = field(default_factory=dict)
    definition: str | None = None

    kind = "label"

    def describe(self) -> str:
        what = [f"label@{language}" for language in sorted(self.labels)] + (["definition"] if self.definition else [])
        return f"changed the {', '.join(what)} of {self.term}"

    def apply(self, copy: WorkingCopy) -> set[URIRef]:
        if not self.labels and self.definition is None:
            raise OntologyError("nothing to change", hint="give --zh, --en or --definition")
        iri = copy.term(self.term)
        _, graph = copy.graph_of(iri)
        _labels(graph, iri, self.labels)
        _definition(graph, iri, self.definition)
        return {iri}


@dataclass(frozen=True)
class Deprecate:
    term: str
    replaced_by: str | None = None

    kind = "deprecate"

    def describe(self) -> str:
        return f"deprecated {self.term}" + (f" in favour of {self.replaced_by}" if self.replaced_by else "")

    def apply(self, copy: WorkingCopy) -> set[URIRef]:
        iri = copy.term(self.term)
        replacement = copy.term(self.replaced_by) if self.replaced_by else None
        if replacement == iri:
            raise OntologyError(f"{self.term} cannot replace itself")
        _, graph = copy.graph_of(iri)
        graph.set((iri, OWL.deprecated, Literal(True)))
        if replacement is not None:
            graph.set((iri, DCTERMS.isReplacedBy, replacement))
        return {iri}


@dataclass(frozen=True)
class Rename:
    term: str
    new_name: str

    kind = "rename"

    def describe(self) -> str:
        return f"renamed {self.term} to city:{self.new_name}"

    def apply(self, copy: WorkingCopy) -> set[URIRef]:
        old = copy.term(self.term)
        if not old.startswith(str(CITY)):
            raise OntologyError(f"{self.term} is not a term of the city namespace; only the city's own terms "
                                "can be renamed")
        is_class = any((old, RDF.type, OWL.Class) in graph for graph in copy.graphs.values())
        new = copy.new_term(self.new_name, _CLASS_NAME if is_class else _PROPERTY_NAME,
                            "class" if is_class else "property")
        for graph in copy.graphs.values():
            for s, p, o in list(graph.triples((None, None, None))):
                if old in (s, p, o):
                    graph.remove((s, p, o))
                    graph.add((new if s == old else s, new if p == old else p, new if o == old else o))
        copy.renames.append((old, new))
        return {old, new}


@dataclass(frozen=True)
class Move:
    term: str
    parent: str | None = None
    subsystem: str | None = None
    module: str | None = None

    kind = "move"

    def describe(self) -> str:
        where = [f"under {self.parent}"] if self.parent else []
        where += [f"to the {self.subsystem} subsystem"] if self.subsystem else []
        where += [f"to {self.module}"] if self.module else []
        return f"moved {self.term} {' and '.join(where)}"

    def apply(self, copy: WorkingCopy) -> set[URIRef]:
        if not (self.parent or self.subsystem or self.module):
            raise OntologyError("nowhere to move to", hint="give --parent, --subsystem or --module")
        iri = copy.term(self.term)
        if not any((iri, RDF.type, OWL.Class) in graph for graph in copy.graphs.values()):
            raise OntologyError(f"{self.term} is not a class; only classes move")
        touched = {iri}
        if self.parent:
            parent = _declared_class(copy, self.parent)
            if parent == iri:
                raise OntologyError(f"{self.term} cannot be its own parent")
            for graph in copy.graphs.values():
                for old in [o for o in graph.objects(iri, RDFS.subClassOf) if isinstance(o, URIRef)]:
                    graph.remove((iri, RDFS.subClassOf, old))
            copy.graph_of(iri)[1].add((iri, RDFS.subClassOf, parent))
        subsystem = _subsystem(self.subsystem)
        if subsystem is not None:
            for graph in copy.graphs.values():
                if (iri, CITY.belongsToSubsystem, None) in graph:
                    graph.set((iri, CITY.belongsToSubsystem, subsystem))
        if self.module:
            self._to_module(copy, iri, self.module)
        return touched

    @staticmethod
    def _to_module(copy: WorkingCopy, iri: URIRef, module: str) -> None:
        target_iri = copy.module_iri(module)
        target = copy.graphs[module]
        for name, graph in copy.graphs.items():
            if name == module:
                continue
            own = list(graph.triples((iri, None, None)))
            for triple in own:
                graph.remove(triple)
                if triple[1] == RDFS.isDefinedBy:
                    continue
                target.add(triple)
                for reached in _blank_structure(graph, triple[2]):
                    graph.remove(reached)
                    target.add(reached)
            if own:
                copy.moved.append(name)
        target.set((iri, RDFS.isDefinedBy, target_iri))
        copy.moved.append(module)


def _blank_structure(graph: Graph, node: Node) -> list[Triple]:
    """The statements of a blank-node structure (a restriction, a list), which move with their owner."""
    found: list[Triple] = []
    frontier = [node] if isinstance(node, BNode) else []
    while frontier:
        current = frontier.pop()
        for triple in graph.triples((current, None, None)):
            found.append(triple)
            if isinstance(triple[2], BNode):
                frontier.append(triple[2])
    return found


Edit = AddClass | AddProperty | SetLabels | Deprecate | Rename | Move

EDIT_KINDS: dict[str, type[Edit]] = {kind.kind: kind for kind in (AddClass, AddProperty, SetLabels, Deprecate, Rename,
                                                                  Move)}


def edit_from_json(body: dict[str, object]) -> Edit:
    """An edit from its JSON form: ``{"kind": "rename", "term": "city:Hospital", "new_name": ...}``,
    the other keys being the edit's fields (``labels`` a language -> text object)."""
    kind = EDIT_KINDS.get(str(body.get("kind")))
    if kind is None:
        raise OntologyError(f"unknown edit kind {body.get('kind')!r}", hint=f"one of {', '.join(EDIT_KINDS)}")
    fields = {name: value for name, value in body.items() if name not in ("kind", "dry_run")}
    if "characteristics" in fields and isinstance(fields["characteristics"], list):
        fields["characteristics"] = tuple(fields["characteristics"])
    try:
        return kind(**fields)  # type: ignore[arg-type]
    except TypeError as error:
        raise OntologyError(f"a {kind.kind} edit does not take these fields: {error}",
                            hint=f"its fields: {', '.join(kind.__dataclass_fields__)}") from error
