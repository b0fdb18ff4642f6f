"""The API model: the GraphQL API's types, read from the ontology and its data shapes.

Backend-independent and free of any GraphQL library: the strawberry schema and the query compilers
are both built from it, so they agree on every name. Everything is sorted, so the model depends on
the statements of the two graphs only, never on their order or on blank-node labels.

Rules (https://www.w3.org/TR/shacl/#core-components-count for the cardinalities):

- **Object types**: one per class a data shape targets (``sh:targetClass``, or a node shape that
  is itself the class) with at least one property shape. Shapes made only of SPARQL constraints
  (the cross-department rules, the undefined-term check) say nothing about fields. Name: the class
  local name in PascalCase (``School``). Its fields come from its own shapes and its superclasses'
  shapes, since SHACL applies a class's shape to the instances of its subclasses.
- **Interfaces**: one per class of the ontology's namespace that is a proper superclass of an
  object type's class (``AnyAgent``, ``AnySpatialFeature``, ``AnyPublicServiceFacility``). Always
  named ``Any<Class>``: a class can be an object type (its own instances) and an interface (it and
  its subclasses' instances) at once, and the prefix keeps names from changing when a shape is
  added to a class. Standards' classes (geo:Feature, prov:Entity, saref4city's) are alignments, not
  what the API is about, and some share local names with the ontology's (s4city:City). An
  interface's fields are those every implementing object type has with the same type and
  cardinality, non-null only where non-null in all of them: exactly what GraphQL lets an interface
  declare over its implementers. An interface may have no property field (``AnyInternalModel``):
  the schema gives every type and interface the entity's ``id``.
- **Fields**: one per ``sh:path`` (a property, or a sequence of properties such as
  ``geo:hasGeometry/geo:asWKT``); ``rdf:type`` paths (the entity's classes are served apart) and
  other path kinds are left out, as is a path whose enforced ``sh:maxCount`` is 0 (a
  prohibition). Name: the property local name in camelCase, a sequence named after its first step
  without a leading "has" (``geometry``). Names are given over all properties at once, so a
  property has one name on every type (interfaces need it): when two properties share a name, or a
  name is reserved (``id``), the ontology's own property keeps it and the other is prefixed with
  the last word of its namespace (``sosaObserves``).
- **Cardinality**: only Violation-level constraints count: a Warning-level ``sh:minCount`` lets
  data without the value into the store, so a non-null field would fail on it. A field is a list
  unless an enforced ``sh:maxCount`` is 1, and non-null when an enforced ``sh:minCount`` >= 1.
  ``owl:FunctionalProperty`` is not checked by the gate, so it does not make a field single.
- **Scalars**, from ``sh:datatype``, else the property's ``rdfs:range`` (or a super-property's):
  strings String; xsd:int and smaller Int; xsd:integer and the other unbounded integers BigInt,
  unless the enforced bounds of the shapes keep them within 32 bits (GraphQL's Int), because a
  population or a count above 2^31 would fail to serialise; xsd:decimal Decimal; xsd:double and
  xsd:float Float; xsd:boolean Boolean; xsd:date Date; xsd:dateTime DateTime; xsd:time Time;
  geo:wktLiteral GeoJSON; any other datatype String (its lexical form). A literal field with no
  datatype, or rdf:langString, is ``language_tagged``: a String with a language argument, single
  per language only with an enforced ``sh:uniqueLang true`` or ``sh:maxCount 1``.
- **Object fields**: the value's class is the most specific of the enforced ``sh:class`` (and
  ``sh:node`` shape's class), the ``rdfs:range``, and a Warning-level ``sh:class``. Its type is the
  class's interface when it has one (the value may be of a subclass), else its object type, else
  the enum of a code list; a class with none of them gives ``type_name`` None: any entity.
- **Enums**: a class is a closed code list when it has ``owl:oneOf``, or has named individuals in
  the ontology and neither it nor a subclass has a data shape (departments refer to its members and
  publish none). An enum is made for each code list a field refers to, named like its class, and
  for an enforced ``sh:in`` the code list does not cover (``<Type><Field>``). Value names are upper
  snake case of the individual's local name (``RESIDENTIAL_LAND``, ``GRADE_3A``) or of the literal
  (a leading digit gets ``_``), each with its IRI or literal kept for compilation. Members a dataset
  adds on its own (typed with the class in the data) have no value.
- **Inverse fields**: each object field gets one on its target type (and on every implementer when
  that is an interface), from the most general class whose shape declares the path. Named after the
  declared ``owl:inverseOf`` when only one class declares the property (``servedBy``); otherwise,
  or when that name is taken on a type, ``<plural class>By<Field>`` (``enterprisesByLocatedIn``,
  ``districtsByPartOf``). Always a list of the declaring class's type.
- **Descriptions**: English label, Chinese label, definition: ``School (学校): <definition>``.

A name that is not a GraphQL name (/[_A-Za-z][_0-9A-Za-z]*/, no leading "__"), or that is not unique
among the types or within a type, is an OntologyError naming the class or property at fault.
"""

from __future__ import annotations

import re
from collections import Counter, defaultdict
from collections.abc import Callable, Iterable
from dataclasses import dataclass, replace
from decimal import Decimal, InvalidOperation
from enum import Enum, StrEnum
from typing import TypeVar

from rdflib import OWL, RDF, RDFS, SH, SKOS, XSD, BNode, Graph, Literal, URIRef
from rdflib.collection import Collection
from rdflib.namespace import DCTERMS
from rdflib.term import Node

from kg_service.errors import OntologyError
from kg_service.namespaces import CITY, GEO

__all__ = ["ApiModel", "EnumType", "EnumValue", "Field", "FieldKind", "Interface", "ObjectType", "Scalar",
           "build_api_model"]

_NAME = re.compile(r"[_A-Za-z][_0-9A-Za-z]*")
_RESERVED_FIELDS = frozenset({"id"})  # the entity's IRI, added by the schema to every type
_BUILT_IN_TYPES = frozenset({"String", "Int", "Float", "Boolean", "ID", "Query", "Mutation", "Subscription"})
_INT32 = (-(2**31), 2**31 - 1)


class FieldKind(Enum):
    SCALAR = "scalar"
    ENUM = "enum"
    OBJECT = "object"


class Scalar(StrEnum):
    STRING = "String"
    INT = "Int"
    BIG_INT = "BigInt"
    FLOAT = "Float"
    DECIMAL = "Decimal"
    BOOLEAN = "Boolean"
    DATE = "Date"
    DATE_TIME = "DateTime"
    TIME = "Time"
    GEO_JSON = "GeoJSON"


_STRINGS = (XSD.string, XSD.normalizedString, XSD.token, XSD.language, XSD.anyURI, RDF.langString, RDFS.Literal)
_SCALARS: dict[URIRef, Scalar] = {
    **dict.fromkeys(_STRINGS, Scalar.STRING),
    **dict.fromkeys((XSD.int, XSD.short, XSD.byte, XSD.unsignedShort, XSD.unsignedByte), Scalar.INT),
    **dict.fromkeys((XSD.integer, XSD.long, XSD.nonNegativeInteger, XSD.positiveInteger, XSD.nonPositiveInteger,
                     XSD.negativeInteger, XSD.unsignedInt, XSD.unsignedLong), Scalar.BIG_INT),
    XSD.decimal: Scalar.DECIMAL, XSD.double: Scalar.FLOAT, XSD.float: Scalar.FLOAT, XSD.boolean: Scalar.BOOLEAN,
    XSD.date: Scalar.DATE, XSD.dateTime: Scalar.DATE_TIME, XSD.dateTimeStamp: Scalar.DATE_TIME,
    XSD.time: Scalar.TIME, GEO.wktLiteral: Scalar.GEO_JSON,
}


@dataclass(frozen=True)
class Field:
    name: str
    path: tuple[str, ...]  # property IRIs from the entity to the value (from the value, if inverse)
    kind: FieldKind
    type_name: str | None  # a Scalar value, an enum, object type or interface name; None: any entity
    many: bool
    required: bool  # at least one value is guaranteed
    description: str
    datatype: str | None = None  # the literal datatype a scalar is read from
    language_tagged: bool = False
    inverse: bool = False
    deprecation: str | None = None  # why the field is deprecated, when its property is (owl:deprecated)


@dataclass(frozen=True)
class ObjectType:
    name: str
    class_iri: str
    description: str
    interfaces: tuple[str, ...]
    fields: tuple[Field, ...]

    def field(self, name: str) -> Field:
        return next(field for field in self.fields if field.name == name)


@dataclass(frozen=True)
class Interface:
    name: str
    class_iri: str
    description: str
    interfaces: tuple[str, ...]
    fields: tuple[Field, ...]
    implementations: tuple[str, ...]  # object type names

    def field(self, name: str) -> Field:
        return next(field for field in self.fields if field.name == name)


@dataclass(frozen=True)
class EnumValue:
    name: str
    iri: str | None
    literal: str | None  # lexical form, for an sh:in of literals
    datatype: str | None
    description: str


@dataclass(frozen=True)
class EnumType:
    name: str
    class_iri: str | None  # the code list; None for an sh:in list
    description: str
    values: tuple[EnumValue, ...]


@dataclass(frozen=True)
class ApiModel:
    object_types: tuple[ObjectType, ...]
    interfaces: tuple[Interface, ...]
    enums: tuple[EnumType, ...]

    def object_type(self, class_iri: str) -> ObjectType:
        return next(kind for kind in self.object_types if kind.class_iri == class_iri)

    def interface(self, class_iri: str) -> Interface:
        return next(kind for kind in self.interfaces if kind.class_iri == class_iri)

    def enum(self, name: str) -> EnumType:
        return next(kind for kind in self.enums if kind.name == name)

    @property
    def custom_scalars(self) -> tuple[str, ...]:
        """Scalars the schema must define beyond GraphQL's own."""
        kinds: list[ObjectType | Interface] = [*self.object_types, *self.interfaces]
        used = {field.type_name for kind in kinds for field in kind.fields if field.kind is FieldKind.SCALAR}
        return tuple(sorted(str(name) for name in used if name not in _BUILT_IN_TYPES))


# ---- names ----------------------------------------------------------------------------------------

def _local(iri: str) -> str:
    return re.split(r"[#/]", iri)[-1]


def _namespace_word(iri: str) -> str:
    words = re.findall(r"[A-Za-z][0-9A-Za-z]*", iri[: len(iri) - len(_local(iri))])
    return words[-1] if words else ""


def _pascal(text: str) -> str:
    return "".join(part[:1].upper() + part[1:] for part in re.split(r"[^0-9A-Za-z]+", text) if part)


def _camel(text: str) -> str:
    pascal = _pascal(text)
    capitals = len(pascal) - len(pascal.lstrip("ABCDEFGHIJKLMNOPQRSTUVWXYZ"))
    # an acronym at the start stays one word: "WKTValue" -> "wktValue", "URL" -> "url"
    cut = capitals - 1 if 1 < capitals < len(pascal) and pascal[capitals].islower() else max(capitals, 1)
    return pascal[:cut].lower() + pascal[cut:]


def _upper_snake(text: str) -> str:
    spaced = re.sub(r"(?<=[a-z])(?=[A-Z])|(?<=[A-Z])(?=[A-Z][a-z])|(?<=[A-Za-z])(?=[0-9])", "_", text)
    name = re.sub(r"[^0-9A-Za-z]+", "_", spaced).strip("_").upper()
    return f"_{name}" if name[:1].isdigit() else name


def _plural(word: str) -> str:
    if re.search(r"[^aeiou]y$", word):
        return word[:-1] + "ies"
    return word + ("es" if re.search(r"(s|x|z|ch|sh)$", word) else "s")


def _checked(name: str, what: str, where: str) -> str:
    if not _NAME.fullmatch(name) or name.startswith("__"):
        raise OntologyError(f"cannot make a GraphQL name for {what} (got {name!r})", where=where,
                            hint="give the term a local name of ASCII letters and digits starting with a letter")
    return name


# ---- the builder ----------------------------------------------------------------------------------

_Path = tuple[URIRef, ...]


class _Builder:
    def __init__(self, ontology: Graph, shapes: Graph) -> None:
        self.onto, self.shapes = ontology, shapes
        self._ancestors: dict[URIRef, frozenset[URIRef]] = {}
        self._parents: dict[URIRef, set[URIRef]] = defaultdict(set)
        for child, parent in ontology.subject_objects(RDFS.subClassOf):
            if isinstance(child, URIRef) and isinstance(parent, URIRef) and parent not in (child, OWL.Thing):
                self._parents[child].add(parent)
        self.own_shapes = self._shaped_classes()
        self.shaped = sorted(self.own_shapes)
        self.above_shaped = {c for cls in self.shaped for c in self.ancestors(cls) | {cls}}
        self.interfaces = sorted({c for cls in self.shaped for c in self.ancestors(cls) if c.startswith(str(CITY))})
        self.members: dict[URIRef, set[URIRef]] = defaultdict(set)
        for individual in ontology.subjects(RDF.type, OWL.NamedIndividual):
            for kind in ontology.objects(individual, RDF.type):
                if isinstance(individual, URIRef) and isinstance(kind, URIRef) and kind != OWL.NamedIndividual:
                    for cls in self.ancestors(kind) | {kind}:
                        self.members[cls].add(individual)
        self.type_names = self._class_names()
        self.enums: dict[str, EnumType] = {}
        self.list_enums: dict[tuple[_Path, tuple[Node, ...]], str] = {}

    # -- the ontology

    def ancestors(self, cls: URIRef) -> frozenset[URIRef]:
        if cls not in self._ancestors:
            seen: set[URIRef] = set()
            pending = list(self._parents.get(cls, ()))
            while pending:
                parent = pending.pop()
                if parent not in seen:
                    seen.add(parent)
                    pending.extend(self._parents.get(parent, ()))
            self._ancestors[cls] = frozenset(seen - {cls})
        return self._ancestors[cls]

    def _range(self, prop: URIRef) -> URIRef | None:
        """The nearest rdfs:range along rdfs:subPropertyOf: a sub-property has its parent's range."""
        level, seen = [prop], set()
        while level:
            ranges = sorted(r for p in level for r in self.onto.objects(p, RDFS.range) if isinstance(r, URIRef))
            if ranges:
                return ranges[0]
            seen.update(level)
            level = sorted({q for p in level for q in self.onto.objects(p, RDFS.subPropertyOf)
                            if isinstance(q, URIRef) and q not in seen})
        return None

    def _is_datatype(self, term: URIRef) -> bool:
        return term in _SCALARS or term.startswith(str(XSD)) or (term, RDF.type, RDFS.Datatype) in self.onto

    def _label(self, term: URIRef, language: str) -> str | None:
        labels = sorted(str(label) for label in self.onto.objects(term, RDFS.label)
                        if isinstance(label, Literal) and (label.language or "") == language)
        return labels[0] if labels else None

    def _english(self, term: URIRef) -> str:
        return self._label(term, "en") or self._label(term, "") or _local(term)

    def deprecation(self, path: _Path) -> str | None:
        """Why a field is deprecated: a property on its path is ``owl:deprecated``, maybe with the
        property that replaces it (``dcterms:isReplacedBy``)."""
        for step in path:
            if any(isinstance(v, Literal) and v.toPython() is True for v in self.onto.objects(step, OWL.deprecated)):
                replacement = self.onto.value(step, DCTERMS.isReplacedBy)
                return f"{_local(step)} is deprecated in the ontology" + (
                    f"; use {_local(replacement)}" if isinstance(replacement, URIRef) else "")
        return None

    def describe(self, term: URIRef) -> str:
        english, chinese = self._english(term), self._label(term, "zh")
        definitions = sorted(str(text) for text in self.onto.objects(term, SKOS.definition))
        head = english[:1].upper() + english[1:] + (f" ({chinese})" if chinese else "")
        return f"{head}: {definitions[0]}" if definitions else head

    # -- the shapes

    def _property_shapes(self, shape: Node) -> list[Node]:
        found = [*self.shapes.objects(shape, SH.property), *([shape] if (shape, SH.path, None) in self.shapes else [])]
        return [ps for ps in found if not self._true(ps, SH.deactivated)]

    def _true(self, node: Node, predicate: URIRef) -> bool:
        return any(isinstance(v, Literal) and v.toPython() is True for v in self.shapes.objects(node, predicate))

    def _shaped_classes(self) -> dict[URIRef, list[Node]]:
        """Class -> the property shapes of the data shapes that target it."""
        targets: dict[Node, set[URIRef]] = defaultdict(set)
        for shape, cls in self.shapes.subject_objects(SH.targetClass):
            if isinstance(cls, URIRef):
                targets[shape].add(cls)
        for kind in (SH.NodeShape, SH.PropertyShape):
            for shape in self.shapes.subjects(RDF.type, kind):
                if isinstance(shape, URIRef) and any((shape, RDF.type, c) in g for g in (self.onto, self.shapes)
                                                     for c in (OWL.Class, RDFS.Class)):
                    targets[shape].add(shape)  # an implicit class target
        owned: dict[URIRef, list[Node]] = defaultdict(list)
        for shape, classes in targets.items():
            if not self._true(shape, SH.deactivated) and (found := self._property_shapes(shape)):
                for cls in classes:
                    owned[cls].extend(found)
        return dict(owned)

    def _path(self, ps: Node) -> _Path | None:
        path = self.shapes.value(ps, SH.path)
        if isinstance(path, URIRef):
            return None if path == RDF.type else (path,)
        if isinstance(path, BNode) and (path, RDF.first, None) in self.shapes:
            steps = tuple(step for step in Collection(self.shapes, path) if isinstance(step, URIRef))
            if steps and len(steps) == len(Collection(self.shapes, path)):
                return steps
        return None  # inverse, alternative and repeated paths name no single field

    def _enforced(self, ps: Node) -> bool:
        return self.shapes.value(ps, SH.severity) in (None, SH.Violation)

    def groups(self, cls: URIRef) -> dict[_Path, list[Node]]:
        grouped: dict[_Path, list[Node]] = defaultdict(list)
        for owner in sorted({cls} | self.ancestors(cls)):
            for ps in self.own_shapes.get(owner, []):
                if (path := self._path(ps)) is not None:
                    grouped[path].append(ps)
        return grouped

    # -- names of types and fields

    def _class_names(self) -> dict[URIRef, str]:
        """Pascal-case names for every class that may need one; the ontology's own class keeps a
        contested name, another namespace's is prefixed with its namespace's last word."""
        classes = set(self.shaped) | set(self.interfaces) | {c for c in self.members if c not in self.above_shaped}
        classes |= {c for c in self.onto.subjects(OWL.oneOf, None) if isinstance(c, URIRef)}
        return _disambiguate({c: _pascal(_local(c)) for c in classes}, _pascal, str)

    def field_names(self, paths: Iterable[_Path]) -> dict[_Path, str]:
        def candidate(path: _Path) -> str:
            local = _local(path[0])
            return _camel(re.sub(r"^has(?=[A-Z])", "", local) if len(path) > 1 else local)

        return _disambiguate({path: candidate(path) for path in paths}, _camel, lambda path: str(path[0]),
                             _RESERVED_FIELDS)

    # -- enums

    def code_list(self, cls: URIRef) -> list[URIRef] | None:
        one_of = self.onto.value(cls, OWL.oneOf)
        if one_of is not None:
            return [member for member in Collection(self.onto, one_of) if isinstance(member, URIRef)]
        if cls in self.above_shaped or not self.members.get(cls):
            return None
        return sorted(self.members[cls], key=_upper_snake)

    def enum_for_class(self, cls: URIRef) -> str:
        name = self.type_names[cls]
        if name not in self.enums:
            values = [self._enum_value(m, str(cls)) for m in self.code_list(cls) or []]
            self.enums[name] = EnumType(name, str(cls), self.describe(cls), tuple(values))
        return name

    def _enum_value(self, term: Node, where: str) -> EnumValue:
        if isinstance(term, URIRef):
            name = _checked(_upper_snake(_local(term)), f"the code <{term}>", where)
            return EnumValue(name, str(term), None, None, self.describe(term))
        if not isinstance(term, Literal):
            raise OntologyError("an sh:in list holds a blank node", where=where, hint="list IRIs or literals")
        literal = term
        name = _checked(_upper_snake(str(literal)), f"the value {str(literal)!r} of an sh:in list", where)
        datatype = str(literal.datatype) if literal.datatype else None
        return EnumValue(name, None, str(literal), datatype, str(literal))

    def enum_for_list(self, name: str, values: list[Node], where: str, description: str) -> str:
        if name not in self.enums:
            self.enums[name] = EnumType(name, None, description, tuple(self._enum_value(v, where) for v in values))
        return name

    # -- fields

    def target_class(self, group: list[Node], last: URIRef) -> URIRef | None:
        def classes(shapes: list[Node]) -> list[URIRef]:
            found = {c for ps in shapes for c in self.shapes.objects(ps, SH["class"]) if isinstance(c, URIRef)}
            for node_shape in (n for ps in shapes for n in self.shapes.objects(ps, SH.node)):
                found |= {c for c in self.shapes.objects(node_shape, SH.targetClass) if isinstance(c, URIRef)}
            return sorted(found)

        enforced = [ps for ps in group if self._enforced(ps)]
        declared = self._range(last)
        ranged = [declared] if declared is not None and not self._is_datatype(declared) else []
        candidates = list(dict.fromkeys([*classes(enforced), *ranged,
                                         *classes([ps for ps in group if not self._enforced(ps)])]))
        for cls in candidates:  # the most specific, when they form a chain
            if all(other == cls or other in self.ancestors(cls) for other in candidates):
                return cls
        return candidates[0] if candidates else None

    def type_of_class(self, cls: URIRef) -> tuple[FieldKind, str] | None:
        if cls in self.interfaces:
            return FieldKind.OBJECT, "Any" + self.type_names[cls]
        if cls in self.own_shapes:
            return FieldKind.OBJECT, self.type_names[cls]
        if self.code_list(cls):
            return FieldKind.ENUM, self.enum_for_class(cls)
        return None

    def _integer_scalar(self, enforced: list[Node]) -> Scalar:
        def bounds(predicate: URIRef, shift: int) -> list[Decimal]:
            found = []
            for value in (v for ps in enforced for v in self.shapes.objects(ps, predicate)):
                try:
                    found.append(Decimal(str(value)) + shift)
                except InvalidOperation:
                    continue  # a bound that is not a number says nothing about the range
            return found

        low = bounds(SH.minInclusive, 0) + bounds(SH.minExclusive, 1)
        high = bounds(SH.maxInclusive, 0) + bounds(SH.maxExclusive, -1)
        within = bool(low and high) and max(low) >= _INT32[0] and min(high) <= _INT32[1]
        return Scalar.INT if within else Scalar.BIG_INT

    def field(self, cls: URIRef, path: _Path, group: list[Node], name: str) -> Field | None:
        enforced = [ps for ps in group if self._enforced(ps)]
        counts = {p: [int(v) for ps in enforced for v in self.shapes.objects(ps, p) if isinstance(v, Literal)]
                  for p in (SH.minCount, SH.maxCount)}
        max_count = min(counts[SH.maxCount], default=None)
        if max_count == 0:
            return None
        many, required = max_count is None or max_count > 1, max(counts[SH.minCount], default=0) >= 1
        where = f"<{cls}>, property <{'/'.join(path)}>"
        base = Field(name, tuple(str(step) for step in path), FieldKind.SCALAR, Scalar.STRING.value, many, required,
                     " / ".join([self.describe(path[0]), *(self._english(step) for step in path[1:])]),
                     deprecation=self.deprecation(path))
        last = path[-1]
        target = self.target_class(group, last)

        in_lists = [list(Collection(self.shapes, v)) for ps in enforced for v in self.shapes.objects(ps, SH["in"])]
        if in_lists:
            allowed = [v for v in in_lists[0] if all(v in other for other in in_lists[1:])]
            if target is not None and (codes := self.code_list(target)) and all(v in codes for v in allowed):
                return replace(base, kind=FieldKind.ENUM, type_name=self.enum_for_class(target))
            key = (path, tuple(allowed))  # a subclass inheriting the list shares its superclass's enum
            if key not in self.list_enums:
                self.list_enums[key] = self.enum_for_list(self.type_names[cls] + _pascal(name), allowed, where,
                                                          f"The values {self.type_names[cls]}.{name} may take.")
            return replace(base, kind=FieldKind.ENUM, type_name=self.list_enums[key])

        def datatypes(shapes: list[Node]) -> list[URIRef]:
            return sorted({d for ps in shapes for d in self.shapes.objects(ps, SH.datatype) if isinstance(d, URIRef)})

        declared = self._range(last)
        datatype = next(iter(datatypes(enforced) + datatypes(group)), None)
        if datatype is None and declared is not None and self._is_datatype(declared):
            datatype = declared
        unique_lang = any(self._true(ps, SH.uniqueLang) for ps in enforced)
        tagged = any((ps, SH.languageIn, None) in self.shapes for ps in group)
        if datatype is not None:
            scalar = _SCALARS.get(datatype, Scalar.STRING)
            if scalar is Scalar.BIG_INT:
                scalar = self._integer_scalar(enforced)
            tagged = tagged or datatype == RDF.langString
            return replace(base, type_name=scalar.value, datatype=str(datatype), language_tagged=tagged,
                           many=many and not (tagged and unique_lang))
        if target is not None:
            typed = self.type_of_class(target)
            kind, type_name = typed if typed is not None else (FieldKind.OBJECT, None)
            return replace(base, kind=kind, type_name=type_name)

        node_kinds = set(n for ps in group for n in self.shapes.objects(ps, SH.nodeKind))
        if (last, RDF.type, OWL.ObjectProperty) in self.onto or node_kinds & {SH.IRI, SH.BlankNode, SH.BlankNodeOrIRI}:
            return replace(base, kind=FieldKind.OBJECT, type_name=None)
        if (last, RDF.type, OWL.DatatypeProperty) in self.onto or SH.Literal in node_kinds:
            # no datatype: the values may carry a language tag (names in Chinese and in English)
            return replace(base, language_tagged=True, many=many and not unique_lang)
        raise OntologyError("cannot tell whether the property holds literals or entities", where=where,
                            hint="declare it an owl:ObjectProperty or owl:DatatypeProperty, or give its "
                                 "property shape sh:datatype or sh:class")

    # -- the model

    def _declared_inverse(self, prop: URIRef) -> URIRef | None:
        found = {*self.onto.objects(prop, OWL.inverseOf), *self.onto.subjects(OWL.inverseOf, prop)}
        return min((q for q in found if isinstance(q, URIRef) and q != prop), default=None)

    def _type_name(self, cls: URIRef) -> str:
        return "Any" + self.type_names[cls] if cls in self.interfaces else self.type_names[cls]

    def build(self) -> ApiModel:
        groups = {cls: self.groups(cls) for cls in self.shaped}
        names = self.field_names({path for grouped in groups.values() for path in grouped})
        forward: dict[URIRef, list[Field]] = {}
        for cls in sorted(self.shaped, key=lambda c: (len(self.ancestors(c)), c)):  # superclasses first
            made = (self.field(cls, path, group, names[path]) for path, group in sorted(groups[cls].items()))
            forward[cls] = [field for field in made if field is not None]

        implementers = {i: [c for c in self.shaped if c == i or i in self.ancestors(c)] for i in self.interfaces}
        class_of = {self._type_name(c): c for c in {*self.shaped, *self.interfaces}}
        # an inverse field comes from the most general class whose shape declares the path
        specs: list[tuple[Field, URIRef]] = []
        for cls in self.shaped:
            inherited = {field.path for a in self.ancestors(cls) if a in forward for field in forward[a]}
            specs += [(field, cls) for field in forward[cls]
                      if field.kind is FieldKind.OBJECT and field.type_name and field.path not in inherited]
        declarers = Counter(field.path for field, _ in specs)

        def inverse(index: int, by_rule: bool) -> Field:
            field, owner = specs[index]
            declared = self._declared_inverse(URIRef(field.path[0])) if len(field.path) == 1 else None
            if declared is not None and declarers[field.path] == 1 and not by_rule:
                name, description = _camel(_local(declared)), self.describe(declared)
            else:
                name = _camel(_plural(self.type_names[owner])) + "By" + field.name[:1].upper() + field.name[1:]
                description = (f"Inverse of {self.type_names[owner]}.{field.name}: the "
                               f"{_plural(self._english(owner))} whose {field.name} is this one.")
            return Field(name, field.path, FieldKind.OBJECT, self._type_name(owner), True, False, description,
                         inverse=True)

        by_rule: set[int] = set()
        while True:  # a declared inverse's name taken on some type falls back to the rule, everywhere
            extra: dict[URIRef, list[tuple[int, Field]]] = defaultdict(list)
            for index, (field, _) in enumerate(specs):
                target = class_of[str(field.type_name)]
                for holder in implementers.get(target, [target]):
                    extra[holder].append((index, inverse(index, index in by_rule)))
            taken = {holder: [f.name for f in forward[holder]] + [f.name for _, f in made]
                     for holder, made in extra.items()}
            clashes = {index for holder, made in extra.items() for index, f in made
                       if index not in by_rule and taken[holder].count(f.name) > 1}
            if not clashes:
                break
            by_rule |= clashes

        object_types = tuple(
            ObjectType(self.type_names[cls], str(cls), self.describe(cls),
                       tuple(sorted(self._type_name(i) for i in {cls} | self.ancestors(cls) if i in self.interfaces)),
                       _fields(forward[cls] + [f for _, f in extra.get(cls, [])], str(cls)))
            for cls in self.shaped)
        by_class = {kind.class_iri: kind for kind in object_types}
        interfaces = tuple(
            Interface(self._type_name(i), str(i), self.describe(i),
                      tuple(sorted(self._type_name(a) for a in self.ancestors(i) if a in self.interfaces)),
                      _common([by_class[str(c)] for c in implementers[i]]),
                      tuple(sorted(self.type_names[c] for c in implementers[i])))
            for i in self.interfaces)
        model = ApiModel(tuple(sorted(object_types, key=lambda kind: kind.name)),
                         tuple(sorted(interfaces, key=lambda kind: kind.name)),
                         tuple(sorted(self.enums.values(), key=lambda kind: kind.name)))
        _check_types(model)
        return model


K = TypeVar("K", URIRef, tuple[URIRef, ...])


def _disambiguate(candidates: dict[K, str], style: Callable[[str], str], iri: Callable[[K], str],
                  reserved: frozenset[str] = frozenset()) -> dict[K, str]:
    """A shared or reserved name stays with the ontology's own term; the others are prefixed with
    the last word of their namespace. Uniqueness is checked where it matters, per type."""
    groups: dict[str, list[K]] = defaultdict(list)
    for key, name in candidates.items():
        groups[name].append(key)
    names: dict[K, str] = {}
    for name, keys in groups.items():
        own = [key for key in keys if iri(key).startswith(str(CITY))]
        for key in keys:
            keep = name not in reserved and (len(keys) == 1 or own == [key])
            names[key] = name if keep else style(f"{_namespace_word(iri(key))} {name}")
    return names


def _fields(fields: list[Field], where: str) -> tuple[Field, ...]:
    seen: dict[str, Field] = {}
    for field in sorted(fields, key=lambda f: (f.name, f.inverse, f.path)):
        _checked(field.name, f"the property <{'/'.join(field.path)}>", where)
        if field.name in seen:
            other = seen[field.name]
            raise OntologyError(f"two fields are named {field.name!r}: <{'/'.join(other.path)}>"
                                f"{' (inverse)' if other.inverse else ''} and <{'/'.join(field.path)}>"
                                f"{' (inverse)' if field.inverse else ''}", where=where,
                                hint="rename one of the properties, or declare an owl:inverseOf with another name")
        seen[field.name] = field
    return tuple(seen.values())


def _common(implementers: list[ObjectType]) -> tuple[Field, ...]:
    """The fields an interface can declare: on every implementer with one type; non-null only
    where every implementer guarantees a value (GraphQL allows an implementer a stricter field)."""
    common = []
    for field in implementers[0].fields:
        same = [f for kind in implementers for f in kind.fields
                if (f.name, f.path, f.inverse, f.kind, f.type_name, f.many, f.datatype, f.language_tagged)
                == (field.name, field.path, field.inverse, field.kind, field.type_name, field.many, field.datatype,
                    field.language_tagged)]
        if len(same) == len(implementers):
            common.append(replace(field, required=all(f.required for f in same)))
    return tuple(common)


def _check_types(model: ApiModel) -> None:
    owners: dict[str, str] = {}
    named = [*((kind.name, kind.class_iri) for kind in model.object_types),
             *((kind.name, kind.class_iri) for kind in model.interfaces),
             *((kind.name, kind.class_iri or kind.description) for kind in model.enums)]
    for name, where in named:
        _checked(name, "a type", where)
        if name in owners or name in _BUILT_IN_TYPES or name in {s.value for s in Scalar}:
            raise OntologyError(f"the type name {name!r} is taken (by {owners.get(name, 'GraphQL itself')})",
                                where=where, hint="rename one of the classes")
        owners[name] = where
    for enum in model.enums:
        values = [value.name for value in enum.values]
        if len(set(values)) != len(values):
            raise OntologyError(f"the enum {enum.name} has two values of one name", where=enum.class_iri or enum.name,
                                hint="rename one of the codes")


def build_api_model(ontology: Graph, shapes: Graph) -> ApiModel:
    """The API's object types, interfaces and enums, from the ontology and its data shapes."""
    return _Builder(ontology, shapes).build()
