"""Load a mapping file (RML Turtle, R2RML, or YARRRML translated by ``yatter``) into the engine's model.

Database sources: a legacy RML logical source whose ``rml:source`` is a ``d2rq:Database`` (a
PostgreSQL JDBC URL, user and password) with ``rr:tableName``, ``rml:query`` or ``rr:sqlQuery``; or an
R2RML ``rr:logicalTable`` (https://www.w3.org/TR/r2rml/#logical-tables), whose database R2RML leaves
to the processor, so the caller names it. Errors name the mapping file, the triples map and the term
at fault.
"""

from __future__ import annotations

import logging
import re
from pathlib import Path

from rdflib import RDF, BNode, Graph, Literal, Namespace, URIRef
from rdflib.term import Node

from kg_service.errors import MappingError
from kg_service.lift import vocabulary as v
from kg_service.lift.databases import database_label, postgres_dsn
from kg_service.lift.functions import FUNCTIONS
from kg_service.lift.model import (
    FunctionExecution,
    JoinCondition,
    LogicalSource,
    Mapping,
    PredicateObjectMap,
    RefObjectMap,
    TermMap,
    TermType,
    TriplesMap,
    ValueKind,
)
from kg_service.lift.terms import LANGUAGE_TAG

YARRRML_SUFFIXES = (".yml", ".yaml")
RML_SUFFIXES = (".rml.ttl", ".ttl")
_TEMPLATE_REFERENCE = re.compile(r"(?<!\\)\{((?:[^{}\\]|\\.)*)\}")
D2RQ = Namespace("http://www.wiwiss.fu-berlin.de/suhl/bizer/D2RQ/0.1#")  # how legacy RML names a database
# rr:SQL2008 (https://www.w3.org/TR/r2rml/#dfn-sql-version-identifier) and the identifiers the
# RDB2RDF working group listed for other SQL dialects; any other is a mapping error.
SQL_VERSIONS = {v.RR[name] for name in (
    "SQL2008", "Oracle", "MySQL", "MSSQLServer", "HSQLDB", "PostgreSQL", "DB2", "Informix", "Ingres", "Progress",
    "SybaseASE", "SybaseSQLAnywhere", "Virtuoso", "Firebird")}


def is_mapping_file(path: Path) -> bool:
    return path.name.endswith(YARRRML_SUFFIXES + RML_SUFFIXES)


def load_mapping(path: Path, *, database: str | None = None) -> Mapping:
    """Read one mapping file; relative source paths resolve against the file's folder.

    ``database`` is the PostgreSQL connection string (``host=... dbname=...`` or a ``postgresql://``
    URL) that R2RML logical tables read."""
    graph = _read_rml(path)
    maps = [node for cls in v.TRIPLES_MAP_CLASSES for node in graph.subjects(RDF.type, cls)]
    # A triples map need not be typed: anything with a logical source and a subject map is one.
    for source_property in (v.RML.logicalSource, v.RML_LEGACY.logicalSource, v.RR.logicalTable):
        maps.extend(node for node in graph.subjects(source_property, None) if node not in maps)
    if not maps:
        raise MappingError("no triples map found", where=str(path),
                           hint="a triples map needs a logical source and a subject map")
    reader = _Reader(graph, path, database)
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

    def __init__(self, graph: Graph, path: Path, database: str | None) -> None:
        self.graph = graph
        self.path = path
        self.database = database
        # SQL values carry their types, so the current triples map's references make natural RDF
        # literals (R2RML 10.2) even in the legacy vocabulary, whose file sources give plain strings.
        self.typed_values = False
        # In an R2RML logical table, column names in rr:column, templates and joins are SQL identifiers.
        self.sql_identifiers = False

    def _value(self, node: Node, local_name: str) -> Node | None:
        for predicate in v.candidates(local_name):
            found = self.graph.value(node, predicate)
            if found is not None:
                return found
        return None

    def _values(self, node: Node, local_name: str) -> list[Node]:
        return [found for predicate in v.candidates(local_name)
                for found in self.graph.objects(node, predicate)]

    def _fail(self, problem: str, triples_map: str, hint: str | None = None) -> MappingError:
        return MappingError(problem, where=f"{self.path}: triples map {triples_map}", hint=hint)

    def triples_map(self, node: Node) -> TriplesMap:
        name = _label(node)
        source = self._logical_source(node, name)
        self.typed_values = source.formulation == "sql"
        self.sql_identifiers = self.graph.value(node, v.RR.logicalTable) is not None
        if len(self._values(node, "subjectMap")) + len(self._values(node, "subject")) > 1:
            raise self._fail("more than one subject map", name)
        subject_node = self._value(node, "subjectMap")
        constant_subject = self._value(node, "subject")
        if subject_node is None and constant_subject is None:
            raise self._fail("no subject map", name)
        if subject_node is not None:
            subject = self._term_map(subject_node, name, TermType.IRI, "subject map")
            classes = tuple(str(cls) for cls in self._values(subject_node, "class"))
            graphs = self._graph_maps(subject_node, name)
        else:
            subject, classes, graphs = self._constant(constant_subject, name), (), ()  # type: ignore[arg-type]
        if subject.term_type is TermType.LITERAL:
            raise self._fail("a subject cannot be a literal", name)
        base = self._value(node, "baseIRI")
        return TriplesMap(name=name, source=source, subject=subject, classes=classes, graphs=graphs,
                          predicate_objects=tuple(self._predicate_object_map(pom, name)
                                                  for pom in self._values(node, "predicateObjectMap")),
                          base_iri=str(base) if base is not None else None)

    def _logical_source(self, node: Node, name: str) -> LogicalSource:
        source_node = self._value(node, "logicalSource")
        if source_node is None:
            logical_table = self.graph.value(node, v.RR.logicalTable)
            if logical_table is None:
                raise self._fail("no logical source", name)
            return self._logical_table(logical_table, name)
        formulation = self._value(source_node, "referenceFormulation")
        namespaces: tuple[tuple[str, str], ...] = ()
        if isinstance(formulation, BNode):  # a described formulation, e.g. XPath with namespaces
            namespaces = tuple((str(self._value(ns, "namespacePrefix")), str(self._value(ns, "namespaceURL")))
                               for ns in self._values(formulation, "namespace"))
            formulation = v.RML.XPath if (formulation, RDF.type, v.RML.XPathReferenceFormulation) in self.graph \
                else formulation
        table, query = self._value(source_node, "tableName"), self._value(source_node, "query")
        query = query if query is not None else self._value(source_node, "sqlQuery")
        if table is not None or query is not None:
            kind = "sql"
        elif formulation is None or formulation in v.CSV_FORMULATIONS:
            kind = "csv"
        elif formulation in v.JSON_FORMULATIONS:
            kind = "json"
        elif formulation in v.XML_FORMULATIONS:
            kind = "xml"
        else:
            raise self._fail(f"reference formulation {formulation} is not supported yet "
                             "(CSV, JSONPath and XPath are)", name)
        iterator = self._value(source_node, "iterator")
        source = self._value(source_node, "source")
        delimiter, encoding, compression = ",", "utf-8-sig", None
        nulls: frozenset[str] | None = None
        if isinstance(source, BNode | URIRef) and (source, RDF.type, D2RQ.Database) in self.graph:
            return self._database_source(source, source_node, name)
        if isinstance(source, BNode | URIRef):  # a csvw:Table with its dialect, or an RML-IO source
            dialect = self.graph.value(source, v.CSVW.dialect)
            if dialect is not None:
                delimiter = str(self.graph.value(dialect, v.CSVW.delimiter) or delimiter)
                encoding = str(self.graph.value(dialect, v.CSVW.encoding) or encoding)
            declared_encoding = self.graph.value(source, v.RML.encoding)
            if declared_encoding is not None:
                encoding = v.ENCODINGS.get(URIRef(str(declared_encoding)), str(declared_encoding).rsplit("/", 1)[-1])
            declared_compression = self.graph.value(source, v.RML.compression)
            if declared_compression is not None:
                if URIRef(str(declared_compression)) not in v.COMPRESSIONS:
                    raise self._fail(f"unknown compression {declared_compression}", name)
                compression = v.COMPRESSIONS[URIRef(str(declared_compression))]
            if any(str(p).startswith(str(v.RML)) for p in self.graph.predicates(source)):
                # RML-IO: only the declared rml:null values are NULL (an empty cell is a value)
                nulls = frozenset(str(n) for n in self.graph.objects(source, v.RML.null))
            source = self.graph.value(source, v.CSVW.url) or self._value(source, "path")
        if kind == "sql" and not isinstance(source, Literal):
            raise self._fail("an SQL source is an SQLite database file or a d2rq:Database", name)
        if not isinstance(source, Literal):
            raise self._fail("the logical source names no file", name)
        path = Path(str(source))
        return LogicalSource(path=path if path.is_absolute() else self.path.parent / path, formulation=kind,
                             iterator=str(iterator) if iterator is not None else None, delimiter=delimiter,
                             encoding=encoding, compression=compression, nulls=nulls, namespaces=namespaces,
                             table=str(table) if table is not None else None,
                             query=str(query) if query is not None else None,
                             declared_in=f"{self.path}: triples map {name}")

    def _database_source(self, database: Node, source_node: Node, name: str) -> LogicalSource:
        url = self.graph.value(database, D2RQ.jdbcDSN)
        user, password = self.graph.value(database, D2RQ.username), self.graph.value(database, D2RQ.password)
        try:
            dsn = postgres_dsn(str(url or ""), str(user) if user else None, str(password) if password else None)
        except ValueError:
            raise self._fail(f"d2rq:jdbcDSN '{url}' is not a PostgreSQL database", name,
                             hint="give jdbc:postgresql://host:port/database (PostgreSQL servers and SQLite "
                                  "files are the databases the engine reads)") from None
        return self._sql_source(dsn, source_node, name)

    def _logical_table(self, node: Node, name: str) -> LogicalSource:
        if self.database is not None:
            return self._sql_source(self.database, node, name)
        # A legacy RML mapping that declares one database may read logical tables from it too.
        declared = list(self.graph.subjects(RDF.type, D2RQ.Database))
        if len(declared) != 1:
            raise self._fail("an R2RML logical table reads a database the mapping does not name", name,
                             hint="give the PostgreSQL database to read when loading the mapping")
        return self._database_source(declared[0], node, name)

    def _sql_source(self, dsn: str, source_node: Node, name: str) -> LogicalSource:
        """A table or query of a PostgreSQL database (https://www.w3.org/TR/r2rml/#logical-tables)."""
        table = self._value(source_node, "tableName")
        query = self._value(source_node, "query") or self._value(source_node, "sqlQuery")
        if table is None and query is None:
            raise self._fail("a database source needs rr:tableName, or a query (rr:sqlQuery, rml:query)", name)
        unknown = [str(version) for version in self._values(source_node, "sqlVersion") if version not in SQL_VERSIONS]
        if unknown:
            raise self._fail(f"unknown SQL version identifier <{unknown[0]}>", name,
                             hint="R2RML defines rr:SQL2008; leave rr:sqlVersion out if unsure")
        return LogicalSource(path=Path(database_label(dsn)), formulation="sql", dsn=dsn,
                             table=str(table) if table is not None else None,
                             query=str(query) if query is not None else None,
                             declared_in=f"{self.path}: triples map {name}")

    def _graph_maps(self, node: Node, name: str) -> tuple[TermMap, ...]:
        graphs = [self._term_map(g, name, TermType.IRI, "graph map") for g in self._values(node, "graphMap")]
        graphs += [self._constant(g, name) for g in self._values(node, "graph")]
        for graph in graphs:
            if graph.term_type is TermType.LITERAL:
                raise self._fail("a graph map must make IRIs, not literals", name)
        return tuple(graphs)

    def _predicate_object_map(self, node: Node, name: str) -> PredicateObjectMap:
        predicates = [self._term_map(p, name, TermType.IRI, "predicate map")
                      for p in self._values(node, "predicateMap")]
        predicates += [self._constant(p, name) for p in self._values(node, "predicate")]
        objects: list[TermMap | RefObjectMap] = [self._object_map(o, name) for o in self._values(node, "objectMap")]
        objects += [self._constant(o, name) for o in self._values(node, "object")]
        if not predicates or not objects:
            raise self._fail("a predicate-object map needs at least one predicate and one object", name)
        if any(p.term_type not in (TermType.IRI, TermType.URI, TermType.UNSAFE_IRI) for p in predicates):
            raise self._fail("a predicate must be an IRI", name)
        return PredicateObjectMap(predicates=tuple(predicates), objects=tuple(objects),
                                  graphs=self._graph_maps(node, name))

    def _object_map(self, node: Node, name: str) -> TermMap | RefObjectMap:
        parent = self._value(node, "parentTriplesMap")
        if parent is None:
            return self._term_map(node, name, TermType.LITERAL, "object map")
        joins = []
        for condition in self._values(node, "joinCondition"):
            child = self._join_side(condition, "child", name)
            parent_side = self._join_side(condition, "parent", name)
            joins.append(JoinCondition(child=child, parent=parent_side))
        return RefObjectMap(parent=_label(parent), joins=tuple(joins))

    def _function_execution(self, node: Node, name: str) -> FunctionExecution:
        function = self._value(node, "function") or self.graph.value(node, v.FNML.function)
        if function is None:
            raise self._fail("a function execution names no function", name)
        if str(function) not in FUNCTIONS:
            raise self._fail(f"unknown function <{function}>", name,
                             hint=f"known functions: {', '.join(sorted(FUNCTIONS))}")
        inputs = []
        for given in [*self._values(node, "input"), *self.graph.objects(node, v.FNML.input)]:
            parameter = self._value(given, "parameter") or self.graph.value(given, v.FNML.parameter)
            value_map = self._value(given, "inputValueMap") or self.graph.value(given, v.FNML.valueMap)
            if parameter is None or value_map is None:
                raise self._fail(f"an input of <{function}> lacks its parameter or value map", name)
            value = (self._constant(value_map, name) if isinstance(value_map, Literal)
                     else self._term_map(value_map, name, TermType.LITERAL, "input value map"))
            inputs.append((str(parameter), value))
        return FunctionExecution(function=str(function), inputs=tuple(inputs))

    def _join_side(self, condition: Node, side: str, name: str) -> TermMap:
        reference = self._value(condition, side)
        if reference is not None:
            column = self._column(str(reference))
            return TermMap(ValueKind.REFERENCE, column, TermType.LITERAL, references=(column,))
        term_map = self._value(condition, f"{side}Map")
        if term_map is None:
            raise self._fail(f"a join condition has no {side}", name)
        return self._term_map(term_map, name, TermType.LITERAL, f"{side} map")

    def _constant(self, node: Node, name: str) -> TermMap:
        if isinstance(node, URIRef):
            return TermMap(ValueKind.CONSTANT, f"<{node}>", TermType.IRI)
        if isinstance(node, Literal):
            return TermMap(ValueKind.CONSTANT, node.n3(), TermType.LITERAL)
        raise self._fail(f"a constant must be an IRI or a literal, not {node!r}", name)

    def _term_map(self, node: Node, name: str, default_type: TermType, role: str) -> TermMap:
        if not isinstance(node, URIRef | BNode):
            raise self._fail(f"the {role} is not a term map", name)
        language = self._value(node, "language")
        datatype = self._value(node, "datatype")
        language_map = self._value(node, "languageMap")
        datatype_map = self._value(node, "datatypeMap")
        term_type = _term_type(self._value(node, "termType"))
        execution = self._value(node, "functionExecution") or self.graph.value(node, v.FNML.execution)
        if execution is not None:
            implied = TermType.LITERAL if role == "object map" or language or datatype else default_type
            return TermMap(kind=ValueKind.FUNCTION, value="", term_type=term_type or implied,
                           language=str(language) if language else None,
                           datatype=str(datatype) if datatype else None,
                           execution=self._function_execution(execution, name))
        constant = self._value(node, "constant")
        if constant is not None:
            made = self._constant(constant, name)
            if term_type is not None and term_type is not made.term_type and not (
                    made.term_type is TermType.IRI and term_type in (TermType.URI, TermType.UNSAFE_IRI)):
                raise self._fail(f"the {role}'s constant {constant.n3()} is not of its term type", name)
            return made
        reference = self._value(node, "reference") or self._value(node, "column")
        template = self._value(node, "template")
        if reference is not None:
            column = self._column(str(reference))
            kind, text, references = ValueKind.REFERENCE, column, (column,)
            # A referenced value is a literal unless said otherwise (R2RML 7.4).
            implied = TermType.LITERAL if role == "object map" else default_type
        elif template is not None:
            kind, text = ValueKind.TEMPLATE, str(template)
            if not _balanced(text):
                raise self._fail(f"the {role}'s template '{text}' has unbalanced braces", name)
            text = _TEMPLATE_REFERENCE.sub(lambda found: "{" + self._column(found.group(1)) + "}", text)
            references = tuple(_TEMPLATE_REFERENCE.findall(text))
            implied = TermType.LITERAL if role in ("child map", "parent map", "language map", "input value map") \
                else TermType.IRI
        elif term_type is TermType.BLANK_NODE:
            return TermMap(kind=ValueKind.GENERATED, value="", term_type=TermType.BLANK_NODE)
        else:
            raise self._fail(f"the {role} has no constant, reference or template", name)
        if any(x is not None for x in (language, datatype, language_map, datatype_map)):
            if term_type not in (None, TermType.LITERAL):
                raise self._fail(f"the {role} has a language or datatype but is not a literal", name)
            implied = TermType.LITERAL
        if language is not None and not LANGUAGE_TAG.match(str(language)):
            raise self._fail(f"'{language}' is not a valid language tag", name)
        return TermMap(kind=kind, value=text, term_type=term_type or implied,
                       # RML-Core term maps keep JSON's types; legacy ones make plain literals (but SQL's)
                       natural_datatypes=self.typed_values
                       or any(str(p).startswith(str(v.RML)) for p in self.graph.predicates(node)),
                       language=str(language) if language else None,
                       datatype=str(datatype) if datatype else None, references=references,
                       language_map=self._term_map(language_map, name, TermType.LITERAL, "language map")
                       if language_map is not None else None,
                       datatype_map=self._term_map(datatype_map, name, TermType.IRI, "datatype map")
                       if datatype_map is not None else None)


    def _column(self, reference: str) -> str:
        """An R2RML SQL identifier (https://www.w3.org/TR/r2rml/#dfn-sql-identifier) as the delimited
        identifier of the column it names: a regular one is folded to lower case, as PostgreSQL
        does, so that it matches that column only. Other references are left to the source."""
        if not self.sql_identifiers or (len(reference) > 1 and reference.startswith('"') and reference.endswith('"')):
            return reference
        return '"' + reference.lower().replace('"', '""') + '"'



def _balanced(template: str) -> bool:
    depth, escaped = 0, False
    for char in template:
        if escaped:
            escaped = False
        elif char == "\\":
            escaped = True
        elif char == "{":
            depth += 1
            if depth > 1:
                return False
        elif char == "}":
            depth -= 1
            if depth < 0:
                return False
    return depth == 0


def _term_type(node: Node | None) -> TermType | None:
    if node is None:
        return None
    if node in v.IRI_TERM_TYPES:
        return TermType.IRI
    if node in v.URI_TERM_TYPES:
        return TermType.URI
    if node in v.UNSAFE_IRI_TERM_TYPES:
        return TermType.UNSAFE_IRI
    if node in v.BLANK_NODE_TERM_TYPES:
        return TermType.BLANK_NODE
    return TermType.LITERAL


def _label(node: Node) -> str:
    return f"<{node}>" if isinstance(node, URIRef) else f"_:{node}"
