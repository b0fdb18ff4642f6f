"""Load a mapping file (RML Turtle, or YARRRML translated by ``yatter``) into the engine's model.

Errors name the mapping file, the triples map and the term at fault.
"""

from __future__ import annotations

import logging
import re
from pathlib import Path

from rdflib import RDF, BNode, Graph, Literal, URIRef
from rdflib.term import Node

from kg_service.errors import MappingError
from kg_service.lift import vocabulary as v
from kg_service.lift.model import (
    LogicalSource,
    Mapping,
    PredicateObjectMap,
    TermMap,
    TermType,
    TriplesMap,
    ValueKind,
)

YARRRML_SUFFIXES = (".yml", ".yaml")
RML_SUFFIXES = (".rml.ttl", ".ttl")
_TEMPLATE_REFERENCE = re.compile(r"(?<!\\)\{([^{}]*)\}")


def is_mapping_file(path: Path) -> bool:
    return path.name.endswith(YARRRML_SUFFIXES + RML_SUFFIXES)


def load_mapping(path: Path) -> Mapping:
    """Read one mapping file; relative source paths resolve against the file's folder."""
    graph = _read_rml(path)
    maps = [node for cls in v.TRIPLES_MAP_CLASSES for node in graph.subjects(RDF.type, cls)]
    # A triples map need not be typed: anything with a logical source and a subject map is one.
    for source_property in (v.RML.logicalSource, v.RML_LEGACY.logicalSource):
        maps.extend(node for node in graph.subjects(source_property, None) if node not in maps)
    if not maps:
        raise MappingError("no triples map found", where=str(path),
                           hint="a triples map needs a logical source and a subject map")
    reader = _Reader(graph, path)
    return Mapping(path=path, triples_maps=tuple(reader.triples_map(node) for node in sorted(set(maps), key=str)))


def _read_rml(path: Path) -> Graph:
    if not path.is_file():
        raise MappingError("mapping file not found", where=str(path))
    text = path.read_text(encoding="utf-8")
    if path.name.endswith(YARRRML_SUFFIXES):
        text = _translate_yarrrml(text, path)
    graph = Graph()
    try:
        graph.parse(data=text, format="turtle")
    except Exception as error:  # rdflib raises several unrelated types for bad Turtle
        raise MappingError(f"not valid Turtle: {error}", where=str(path)) from error
    return graph


def _translate_yarrrml(text: str, path: Path) -> str:
    from ruamel.yaml import YAML
    from ruamel.yaml.error import YAMLError

    try:
        document = YAML(typ="safe").load(text)
    except YAMLError as error:
        raise MappingError(f"not valid YAML: {error}".replace("\n", " "), where=str(path)) from error
    import yatter

    logging.getLogger("yatter.constants").setLevel(logging.ERROR)
    try:
        translated = yatter.translate(document)
    except Exception as error:  # yatter reports malformed YARRRML with assorted exception types
        raise MappingError(f"cannot translate YARRRML: {error}", where=str(path)) from error
    if not isinstance(translated, str) or not translated.strip():
        raise MappingError("YARRRML translated to nothing", where=str(path))
    return translated


class _Reader:
    """Reads triples maps from an RML graph, accepting both vocabularies."""

    def __init__(self, graph: Graph, path: Path) -> None:
        self.graph = graph
        self.path = path

    def _value(self, node: Node, local_name: str) -> Node | None:
        for predicate in v.candidates(local_name):
            found = self.graph.value(node, predicate)
            if found is not None:
                return found
        return None

    def _values(self, node: Node, local_name: str) -> list[Node]:
        return [found for predicate in v.candidates(local_name)
                for found in self.graph.objects(node, predicate)]

    def _fail(self, problem: str, triples_map: str) -> MappingError:
        return MappingError(problem, where=f"{self.path}: triples map {triples_map}")

    def triples_map(self, node: Node) -> TriplesMap:
        name = _label(node)
        source = self._logical_source(node, name)
        subject_node = self._value(node, "subjectMap")
        constant_subject = self._value(node, "subject")
        if subject_node is None and constant_subject is None:
            raise self._fail("no subject map", name)
        subject = (self._term_map(subject_node, name, TermType.IRI, "subject map") if subject_node is not None
                   else _constant(constant_subject, name, self.path))  # type: ignore[arg-type]
        classes = tuple(str(cls) for cls in self._values(subject_node, "class")) if subject_node else ()
        return TriplesMap(name=name, source=source, subject=subject, classes=classes,
                          predicate_objects=tuple(self._predicate_object_map(pom, name)
                                                  for pom in self._values(node, "predicateObjectMap")))

    def _logical_source(self, node: Node, name: str) -> LogicalSource:
        source_node = self._value(node, "logicalSource")
        if source_node is None:
            raise self._fail("no logical source", name)
        formulation = self._value(source_node, "referenceFormulation")
        if formulation is not None and formulation not in v.CSV_FORMULATIONS:
            raise self._fail(f"reference formulation {formulation} is not supported yet (CSV only)", name)
        source = self._value(source_node, "source")
        delimiter, encoding = ",", "utf-8-sig"
        if isinstance(source, BNode | URIRef):  # a csvw:Table with its dialect
            dialect = self.graph.value(source, v.CSVW.dialect)
            if dialect is not None:
                delimiter = str(self.graph.value(dialect, v.CSVW.delimiter) or delimiter)
                encoding = str(self.graph.value(dialect, v.CSVW.encoding) or encoding)
            source = self.graph.value(source, v.CSVW.url) or self._value(source, "path")
        if not isinstance(source, Literal):
            raise self._fail("the logical source names no file", name)
        path = Path(str(source))
        return LogicalSource(path=path if path.is_absolute() else self.path.parent / path,
                             formulation="csv", delimiter=delimiter, encoding=encoding)

    def _predicate_object_map(self, node: Node, name: str) -> PredicateObjectMap:
        predicates = [self._term_map(p, name, TermType.IRI, "predicate map")
                      for p in self._values(node, "predicateMap")]
        predicates += [_constant(p, name, self.path) for p in self._values(node, "predicate")]
        objects = [self._term_map(o, name, TermType.LITERAL, "object map") for o in self._values(node, "objectMap")]
        objects += [_constant(o, name, self.path) for o in self._values(node, "object")]
        if not predicates or not objects:
            raise self._fail("a predicate-object map needs at least one predicate and one object", name)
        return PredicateObjectMap(predicates=tuple(predicates), objects=tuple(objects))

    def _term_map(self, node: Node, name: str, default_type: TermType, role: str) -> TermMap:
        language = self._value(node, "language")
        datatype = self._value(node, "datatype")
        term_type = _term_type(self._value(node, "termType"))
        constant = self._value(node, "constant")
        if constant is not None:
            return _constant(constant, name, self.path)
        reference, template = self._value(node, "reference"), self._value(node, "template")
        if reference is not None:
            kind, text, references = ValueKind.REFERENCE, str(reference), (str(reference),)
            # A referenced value is a literal unless said otherwise (R2RML 7.4).
            implied = TermType.LITERAL if role == "object map" else default_type
        elif template is not None:
            kind, text = ValueKind.TEMPLATE, str(template)
            references = tuple(_TEMPLATE_REFERENCE.findall(text))
            implied = TermType.IRI
        else:
            raise self._fail(f"the {role} has no constant, reference or template", name)
        if language is not None or datatype is not None:
            implied = TermType.LITERAL
        return TermMap(kind=kind, value=text, term_type=term_type or implied,
                       language=str(language) if language else None,
                       datatype=str(datatype) if datatype else None, references=references)


def _term_type(node: Node | None) -> TermType | None:
    if node is None:
        return None
    if node in v.IRI_TERM_TYPES:
        return TermType.IRI
    if node in v.BLANK_NODE_TERM_TYPES:
        return TermType.BLANK_NODE
    return TermType.LITERAL


def _constant(node: Node, name: str, path: Path) -> TermMap:
    if isinstance(node, URIRef):
        return TermMap(ValueKind.CONSTANT, f"<{node}>", TermType.IRI)
    if isinstance(node, Literal):
        return TermMap(ValueKind.CONSTANT, node.n3(), TermType.LITERAL)
    raise MappingError(f"a constant must be an IRI or a literal, not {node!r}", where=f"{path}: triples map {name}")


def _label(node: Node) -> str:
    return f"<{node}>" if isinstance(node, URIRef) else f"_:{node}"
