"""Static, bilingual HTML documentation of the ontology: one self-contained ``index.html``.

The page reads offline (inline CSS, no script, font or image), shows each term's Chinese and English
labels side by side, and groups classes by the subsystem they belong to, else by the module that
defines them. Each term has an anchor named after its local name (``#LandParcel``); a term outside
the ontology's namespace is anchored by its prefixed name (``#sosa:Sensor``), since local names of
different standards clash.

A class lists the data shapes that apply to it: those whose ``sh:targetClass`` is the class or one
of its superclasses (https://www.w3.org/TR/shacl/#targetClass), with their property paths
(https://www.w3.org/TR/shacl/#property-paths).
"""

from __future__ import annotations

import html
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from rdflib import OWL, RDF, RDFS, BNode, Graph, Literal, URIRef
from rdflib.namespace import DCTERMS, SH, SKOS
from rdflib.term import Node

from kg_service.namespaces import CITY
from kg_service.ontology.diff import Renderer, prefix_table
from kg_service.ontology.loader import ONTOLOGY_IRI, load_ontology, load_shapes, ontology_version

INDEX = "index.html"
CLASS_TYPES = (OWL.Class, RDFS.Class)
PROPERTY_KINDS = ((OWL.ObjectProperty, "Object properties", "对象属性"),
                  (OWL.DatatypeProperty, "Datatype properties", "数据属性"),
                  (OWL.AnnotationProperty, "Annotation properties", "注释属性"))
CHARACTERISTICS: dict[Node, str] = {
    OWL.FunctionalProperty: "Functional", OWL.InverseFunctionalProperty: "InverseFunctional",
    OWL.TransitiveProperty: "Transitive", OWL.SymmetricProperty: "Symmetric", OWL.AsymmetricProperty: "Asymmetric",
    OWL.ReflexiveProperty: "Reflexive", OWL.IrreflexiveProperty: "Irreflexive"}
_RESERVED_IDS = frozenset({"top", "class-tree", "classes", "properties", "individuals"})

_CSS = """
body { font-family: sans-serif; max-width: 72rem; margin: 0 auto; padding: 1rem 2rem; line-height: 1.45; color: #222; }
code { background: #f3f3f3; padding: 0 .2em; }
nav ul, .tree ul { list-style: none; padding-left: 1.2em; }
.tree > ul { padding-left: 0; }
.term { border-top: 1px solid #ddd; padding: .6rem 0; }
.term h4 { margin: .2rem 0; }
.zh { margin-right: .6em; }
.en { color: #555; }
dl { display: grid; grid-template-columns: 11rem 1fr; gap: .2rem .8rem; margin: .4rem 0; }
dt { font-weight: bold; color: #444; }
dd { margin: 0; }
.deprecated, .deprecated a { text-decoration: line-through; color: #999; }
.badge { font-size: .8em; background: #b33; color: #fff; padding: 0 .4em; border-radius: .2em; text-decoration: none; }
"""


def _e(text: str) -> str:
    return html.escape(text, quote=True)


def _is_true(value: Node | None) -> bool:
    return isinstance(value, Literal) and str(value).strip().lower() in ("true", "1")


@dataclass(frozen=True)
class _Group:
    key: str
    zh: str
    en: str
    classes: tuple[URIRef, ...]


class _Page:
    """The ontology and its shapes, with what every part of the page needs to look terms up."""

    def __init__(self, ontology: Graph, shapes: Graph) -> None:
        self.graph = ontology
        self.shapes = shapes
        prefixes = prefix_table(ontology, shapes)
        self.render = Renderer(ontology, prefixes)
        self.shape_names = Renderer(shapes, prefixes)
        self.classes = sorted({c for t in CLASS_TYPES for c in ontology.subjects(RDF.type, t)
                               if isinstance(c, URIRef)}, key=self.render.name)
        self.properties = {kind: sorted({p for p in ontology.subjects(RDF.type, kind) if isinstance(p, URIRef)},
                                        key=self.render.name) for kind, _, _ in PROPERTY_KINDS}
        self.individuals = sorted({i for i in ontology.subjects(RDF.type, OWL.NamedIndividual)
                                   if isinstance(i, URIRef)}, key=self.render.name)
        self.anchors = self._anchors([*self.classes, *(p for ps in self.properties.values() for p in ps),
                                      *self.individuals])
        self.disjoint = self._disjoint_classes()

    # ---- naming ------------------------------------------------------------------------------------

    def _anchors(self, terms: Iterable[URIRef]) -> dict[URIRef, str]:
        anchors: dict[URIRef, str] = {}
        taken = set(_RESERVED_IDS)
        # The ontology's own terms first, so they keep their bare local names.
        for term in sorted(set(terms), key=lambda t: (not t.startswith(str(CITY)), str(t))):
            base = term[len(str(CITY)):] if term.startswith(str(CITY)) else self.render.name(term).strip("<>")
            anchor, n = base, 1
            while anchor in taken or not anchor:
                n += 1
                anchor = f"{base}-{n}"
            taken.add(anchor)
            anchors[term] = anchor
        return anchors

    def label(self, term: Node, language: str) -> str | None:
        labels = sorted(str(o) for o in self.graph.objects(term, RDFS.label)
                        if isinstance(o, Literal) and (o.language or "") == language)
        return labels[0] if labels else None

    def labels(self, term: Node) -> str:
        zh, en = self.label(term, "zh"), self.label(term, "en") or self.label(term, "")
        parts = ([f'<span class="zh" lang="zh">{_e(zh)}</span>'] if zh else []) + (
            [f'<span class="en" lang="en">{_e(en)}</span>'] if en else [])
        return " ".join(parts)

    def ref(self, node: Node) -> str:
        """A link to the term's anchor, or its text when the page does not document it."""
        if isinstance(node, URIRef) and node in self.anchors:
            title = self.label(node, "en") or self.label(node, "zh") or ""
            css = ' class="deprecated"' if self.deprecated(node) else ""
            return (f'<a href="#{_e(self.anchors[node])}" title="{_e(title)}"{css}>'
                    f"{_e(self.render.name(node))}</a>")
        return f"<code>{_e(self.render.node(node))}</code>"

    def refs(self, nodes: Iterable[Node]) -> str:
        return ", ".join(self.ref(n) for n in sorted(set(nodes), key=self.render.node))

    def deprecated(self, term: Node) -> bool:
        return any(_is_true(v) for v in self.graph.objects(term, OWL.deprecated))

    # ---- the class hierarchy -----------------------------------------------------------------------

    def superclasses(self, cls: URIRef) -> list[URIRef]:
        return sorted((s for s in self.graph.objects(cls, RDFS.subClassOf) if isinstance(s, URIRef) and s != cls),
                      key=self.render.name)

    def ancestors(self, cls: URIRef) -> list[URIRef]:
        """The class and its named superclasses, nearest first."""
        found, pending = [cls], [cls]
        while pending:
            for parent in self.superclasses(pending.pop(0)):
                if parent not in found:
                    found.append(parent)
                    pending.append(parent)
        return found

    def _disjoint_classes(self) -> dict[Node, set[Node]]:
        disjoint: dict[Node, set[Node]] = defaultdict(set)
        for a, b in self.graph.subject_objects(OWL.disjointWith):
            disjoint[a].add(b)
            disjoint[b].add(a)
        for axiom in self.graph.subjects(RDF.type, OWL.AllDisjointClasses):
            for members in self.graph.objects(axiom, OWL.members):
                listed = list(self.graph.items(members))
                for member in listed:
                    disjoint[member].update(m for m in listed if m != member)
        return disjoint

    def groups(self) -> list[_Group]:
        """Classes by subsystem, then by defining module, then the rest (the aligned standards)."""
        by_subsystem: dict[Node, list[URIRef]] = defaultdict(list)
        by_module: dict[Node, list[URIRef]] = defaultdict(list)
        other: list[URIRef] = []
        for cls in self.classes:
            subsystem = self.graph.value(cls, CITY.belongsToSubsystem)
            module = self.graph.value(cls, RDFS.isDefinedBy)
            if subsystem is not None:
                by_subsystem[subsystem].append(cls)
            elif module is not None:
                by_module[module].append(cls)
            else:
                other.append(cls)
        groups = []
        for kind, grouped in (("subsystem", by_subsystem), ("module", by_module)):
            for key in sorted(grouped, key=lambda k: (self.label(k, "en") or "", str(k))):
                name = self.render.name(key) if isinstance(key, URIRef) else str(key)
                slug = name.strip("<>").rsplit("/", 1)[-1].rsplit(":", 1)[-1].rsplit("#", 1)[-1]
                groups.append(_Group(f"{kind}-{slug}", self.label(key, "zh") or "",
                                     self.label(key, "en") or name, tuple(grouped[key])))
        if other:
            groups.append(_Group("other", "其他（对齐的标准）", "other (aligned standards)", tuple(other)))
        return groups

    def tree(self, classes: tuple[URIRef, ...]) -> str:
        members = set(classes)
        children: dict[URIRef, list[URIRef]] = defaultdict(list)
        roots = []
        for cls in classes:
            parents = [p for p in self.superclasses(cls) if p in members]
            for parent in parents:
                children[parent].append(cls)
            if not parents:
                roots.append(cls)

        def branch(nodes: list[URIRef], path: tuple[URIRef, ...]) -> str:
            items = []
            for node in nodes:
                below = [c for c in children[node] if c not in path]  # a cycle of subclasses ends here
                sub = branch(below, (*path, node)) if below else ""
                items.append(f"<li>{self.ref(node)} {self.labels(node)}{sub}</li>")
            return f"<ul>{''.join(items)}</ul>"

        # A class whose superclasses all sit in a cycle has no root above it: show it as a root.
        reached: set[URIRef] = set()
        pending = list(roots)
        while pending:
            node = pending.pop()
            if node not in reached:
                reached.add(node)
                pending.extend(children[node])
        return branch(roots + [c for c in classes if c not in reached], ())

    # ---- shapes ------------------------------------------------------------------------------------

    def path(self, path: Node) -> str:
        """A SHACL property path as text: ``a / b``, ``^a``, ``a | b``, ``a*``, ``a+``, ``a?``."""
        if isinstance(path, URIRef):
            return self.shape_names.name(path)
        items = list(self.shapes.items(path)) if self.shapes.value(path, RDF.first) is not None else None
        if items is not None:
            return " / ".join(self.path(i) for i in items)
        for predicate, template in ((SH.inversePath, "^{}"), (SH.zeroOrMorePath, "({})*"),
                                    (SH.oneOrMorePath, "({})+"), (SH.zeroOrOnePath, "({})?")):
            inner = self.shapes.value(path, predicate)
            if inner is not None:
                return template.format(self.path(inner))
        alternatives = self.shapes.value(path, SH.alternativePath)
        if alternatives is not None:
            return "(" + " | ".join(self.path(i) for i in self.shapes.items(alternatives)) + ")"
        return self.shape_names.node(path)

    def shapes_for(self, cls: URIRef) -> list[tuple[Node, URIRef, list[str], bool]]:
        """(shape, the class it targets, its property paths, whether it has SPARQL constraints)."""
        found = []
        for target in self.ancestors(cls):
            for shape in sorted(self.shapes.subjects(SH.targetClass, target), key=self.shape_names.node):
                paths = sorted({self.path(p) for ps in self.shapes.objects(shape, SH.property)
                                for p in self.shapes.objects(ps, SH.path)})
                found.append((shape, target, paths, (shape, SH.sparql, None) in self.shapes))
        return found

    # ---- terms -------------------------------------------------------------------------------------

    def _heading(self, term: URIRef, level: str = "h4") -> str:
        badge = ' <span class="badge">已弃用 deprecated</span>' if self.deprecated(term) else ""
        css = ' class="deprecated"' if self.deprecated(term) else ""
        return (f"<{level}><span{css}>{self.labels(term) or _e(self.render.name(term))}</span> "
                f"<code>{_e(self.render.name(term))}</code>{badge}</{level}>")

    def _common(self, term: URIRef) -> list[tuple[str, str]]:
        rows = [("IRI", f"<code>{_e(str(term))}</code>")]
        for definition in sorted(self.graph.objects(term, SKOS.definition), key=str):
            language = definition.language if isinstance(definition, Literal) else None
            lang = f' lang="{_e(language)}"' if language else ""
            rows.append(("定义 definition", f"<span{lang}>{_e(str(definition))}</span>"))
        for comment in sorted(self.graph.objects(term, RDFS.comment), key=str):
            rows.append(("注释 comment", _e(str(comment))))
        if self.deprecated(term):
            replacements = list(self.graph.objects(term, DCTERMS.isReplacedBy))
            rows.append(("已弃用 deprecated", "replaced by " + self.refs(replacements) if replacements else "yes"))
        module = self.graph.value(term, RDFS.isDefinedBy)
        if module is not None:
            rows.append(("模块 module", f"{self.labels(module)} <code>{_e(self.render.node(module))}</code>"))
        return rows

    def _section(self, term: URIRef, rows: list[tuple[str, str]]) -> str:
        body = "".join(f"<dt>{_e(name)}</dt><dd>{value}</dd>" for name, value in rows if value)
        return (f'<section class="term" id="{_e(self.anchors[term])}" data-iri="{_e(str(term))}">'
                f"{self._heading(term)}<dl>{body}</dl></section>")

    def class_section(self, cls: URIRef) -> str:
        graph = self.graph
        rows = self._common(cls)
        rows.append(("父类 superclasses", self.refs(graph.objects(cls, RDFS.subClassOf))))
        rows.append(("子类 subclasses", self.refs(s for s in graph.subjects(RDFS.subClassOf, cls)
                                                if isinstance(s, URIRef))))
        equivalent = set(graph.objects(cls, OWL.equivalentClass)) | set(graph.subjects(OWL.equivalentClass, cls))
        rows.append(("等价类 equivalent", self.refs(equivalent - {cls})))
        rows.append(("不相交 disjoint with", self.refs(self.disjoint.get(cls, set()))))
        rows.append(("属性 properties (domain)", self._domain_properties(cls)))
        rows.append(("约束形状 shapes", self._shapes_html(cls)))
        return self._section(cls, rows)

    def _domain_properties(self, cls: URIRef) -> str:
        items = []
        all_properties = (p for ps in self.properties.values() for p in ps)
        for prop in sorted({p for p in all_properties if self._has_domain(p, cls)}, key=self.render.name):
            ranges = self.refs(self.graph.objects(prop, RDFS.range))
            items.append(f"<li>{self.ref(prop)} {self.labels(prop)}{' → ' + ranges if ranges else ''}</li>")
        return f"<ul>{''.join(items)}</ul>" if items else ""

    def _has_domain(self, prop: URIRef, cls: URIRef) -> bool:
        for domain in self.graph.objects(prop, RDFS.domain):
            union = self.graph.value(domain, OWL.unionOf) if isinstance(domain, BNode) else None
            if domain == cls or (union is not None and cls in set(self.graph.items(union))):
                return True
        return False

    def _shapes_html(self, cls: URIRef) -> str:
        items = []
        for shape, target, paths, sparql in self.shapes_for(cls):
            label = next((str(o) for o in self.shapes.objects(shape, RDFS.label)), "")
            via = f" (via {self.ref(target)})" if target != cls else ""
            listed = [f"<code>{_e(p)}</code>" for p in paths] + (["SPARQL constraint"] if sparql else [])
            items.append(f"<li><code>{_e(self.shape_names.node(shape))}</code>"
                         f"{' ' + _e(label) if label else ''}{via}: {', '.join(listed) or 'node constraints'}</li>")
        return f'<ul class="shapes">{"".join(items)}</ul>' if items else ""

    def property_section(self, prop: URIRef) -> str:
        graph = self.graph
        rows = self._common(prop)
        rows.append(("定义域 domain", self.refs(graph.objects(prop, RDFS.domain))))
        rows.append(("值域 range", self.refs(graph.objects(prop, RDFS.range))))
        characteristics = sorted(CHARACTERISTICS[t] for t in graph.objects(prop, RDF.type) if t in CHARACTERISTICS)
        rows.append(("特性 characteristics", _e(", ".join(characteristics))))
        inverse = set(graph.objects(prop, OWL.inverseOf)) | set(graph.subjects(OWL.inverseOf, prop))
        rows.append(("逆属性 inverse", self.refs(inverse)))
        rows.append(("父属性 superproperties", self.refs(graph.objects(prop, RDFS.subPropertyOf))))
        return self._section(prop, rows)

    def individual_section(self, individual: URIRef) -> str:
        rows = self._common(individual)
        rows.append(("类型 types", self.refs(t for t in self.graph.objects(individual, RDF.type)
                                            if t != OWL.NamedIndividual)))
        return self._section(individual, rows)

    # ---- the page ----------------------------------------------------------------------------------

    def html(self) -> str:
        ontology = URIRef(ONTOLOGY_IRI)
        title = " · ".join(t for t in (self.label(ontology, "zh"), self.label(ontology, "en")) if t) or "ontology"
        definition = next((str(d) for d in self.graph.objects(ontology, SKOS.definition)), "")
        groups = self.groups()
        nav = "".join(f'<li><a href="#{_e(g.key)}">{_e(g.zh)} {_e(g.en)}</a> ({len(g.classes)})</li>' for g in groups)
        trees = "".join(f'<section id="{_e(g.key)}"><h3><span class="zh" lang="zh">{_e(g.zh)}</span> '
                        f'<span class="en">{_e(g.en)}</span></h3><div class="tree">{self.tree(g.classes)}</div>'
                        "</section>" for g in groups)
        classes = "".join(f'<h3>{_e(g.zh)} {_e(g.en)}</h3>{"".join(self.class_section(c) for c in g.classes)}'
                          for g in groups)
        properties = "".join(
            f"<h3>{_e(zh)} {_e(en)}</h3>{''.join(self.property_section(p) for p in self.properties[kind])}"
            for kind, en, zh in PROPERTY_KINDS if self.properties[kind])
        individuals = "".join(self.individual_section(i) for i in self.individuals)
        return f"""<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{_e(title)}</title>
<style>{_CSS}</style>
</head>
<body>
<header id="top">
<h1>{_e(title)}</h1>
<p>version {_e(ontology_version(self.graph))} · <code>{_e(ONTOLOGY_IRI)}</code></p>
<p>{_e(definition)}</p>
<nav><ul>
<li><a href="#class-tree">类层次 class tree</a><ul>{nav}</ul></li>
<li><a href="#classes">类 classes</a> ({len(self.classes)})</li>
<li><a href="#properties">属性 properties</a> ({sum(len(p) for p in self.properties.values())})</li>
<li><a href="#individuals">个体 individuals</a> ({len(self.individuals)})</li>
</ul></nav>
</header>
<main>
<section id="class-tree"><h2>类层次 class tree</h2>{trees}</section>
<section id="classes"><h2>类 classes</h2>{classes}</section>
<section id="properties"><h2>属性 properties</h2>{properties}</section>
<section id="individuals"><h2>个体 individuals</h2>{individuals}</section>
</main>
</body>
</html>
"""


def write_docs(ontology_dir: Path, out_dir: Path) -> Path:
    """Write the documentation of the ontology under ``ontology_dir`` into ``out_dir``; the path of
    its ``index.html``."""
    page = _Page(load_ontology(ontology_dir), load_shapes(ontology_dir))
    out_dir.mkdir(parents=True, exist_ok=True)
    index = out_dir / INDEX
    index.write_text(page.html(), encoding="utf-8")
    return index
