"""Which focus nodes a change can affect, and which part of the graph validating them needs.

A shape validates a focus node by walking from it along predicates: forward (subject to object) for
``sh:path p`` and ``$this p ?x``, backward for ``sh:inversePath p`` and ``?x p $this``. Reading every
shape once gives the set of steps the shapes can take (``Reach``). A changed statement ``s p o`` can
then only alter the result of a focus node from which ``s`` is reachable by those steps (when ``p``
is walked forward) or ``o`` is (when ``p`` is walked backward); walking the steps in reverse from
the changed nodes finds every such focus node, and walking them forward from the focus nodes finds
every statement their validation reads. Both walks are over-approximations: a step any shape takes
is allowed anywhere, and paths of any length are followed, so nothing a shape could see is missed.

A constraint that reads a node no walk from the focus node reaches (a SPARQL pattern not joined to
``$this``, a SPARQL-based target) makes the reach ``whole_graph``: the caller then validates
everything, as before.
"""

from __future__ import annotations

import json
import os
import pathlib
from collections.abc import Callable, Iterable, Iterator
from dataclasses import asdict, dataclass
from typing import Any

from rdflib import RDF, Graph, URIRef, Variable
from rdflib.collection import Collection
from rdflib.namespace import SH
from rdflib.paths import AlternativePath, InvPath, MulPath, NegatedPath, Path, SequencePath
from rdflib.plugins.sparql import prepareQuery
from rdflib.term import Node

from kg_service.errors import OntologyError

ANY = "*"  # a step along any predicate (a variable predicate, a negated property set)
Step = tuple[str, bool]  # (predicate IRI or ANY, forward?)


@dataclass(frozen=True)
class Reach:
    """The steps the shapes take from a focus node, in N-Triples form (``<iri>``)."""

    forward: frozenset[str]  # predicates walked from subject to object (may hold ANY)
    backward: frozenset[str]  # predicates walked from object to subject (may hold ANY)
    target_objects_of: frozenset[str]  # sh:targetObjectsOf: a changed statement's object may be a focus node
    target_nodes: frozenset[str]  # sh:targetNode
    whole_graph: bool = False

    def walks_forward(self, predicate: str) -> bool:
        return ANY in self.forward or predicate in self.forward

    def walks_backward(self, predicate: str) -> bool:
        return ANY in self.backward or predicate in self.backward


REACH_FILE = "shape-reach.json"


def cached_shape_reach(shapes: Graph, content_hash: str, cache_dir: pathlib.Path) -> Reach:
    """``shape_reach`` of these shapes, from ``cache_dir`` when shapes of the same content hash were
    read before: parsing their SPARQL constraints costs a job about half a second."""
    path = cache_dir / REACH_FILE
    try:
        stored = json.loads(path.read_text(encoding="utf-8"))
        if stored.get("content_hash") == content_hash:
            fields = stored["reach"]
            return Reach(forward=frozenset(fields["forward"]), backward=frozenset(fields["backward"]),
                         target_objects_of=frozenset(fields["target_objects_of"]),
                         target_nodes=frozenset(fields["target_nodes"]), whole_graph=bool(fields["whole_graph"]))
    except (OSError, ValueError, KeyError, TypeError, AttributeError):
        pass  # no usable cache: read the shapes
    reach = shape_reach(shapes)
    fields = {name: sorted(value) if isinstance(value, frozenset) else value for name, value in asdict(reach).items()}
    partial = path.with_name(f".{path.name}.{os.getpid()}")
    try:
        cache_dir.mkdir(parents=True, exist_ok=True)
        partial.write_text(json.dumps({"content_hash": content_hash, "reach": fields}), encoding="utf-8")
        os.replace(partial, path)
    except OSError:
        pass  # a cache that cannot be written costs the next job the same half second, nothing more
    return reach


def shape_reach(shapes: Graph) -> Reach:
    steps: set[Step] = set()
    whole_graph = False
    for path in shapes.objects(None, SH.path):
        steps |= _shacl_path_steps(shapes, path, forward=True)
    if any(shapes.triples((None, SH["class"], None))) or any(shapes.triples((None, SH.targetClass, None))):
        steps.add((RDF.type.n3(), True))  # sh:class reads the value node's types
    namespaces = _declared_prefixes(shapes)
    for constraint in shapes.objects(None, SH.sparql):
        text = shapes.value(constraint, SH.select) or shapes.value(constraint, SH.ask)
        if text is None:
            continue
        try:
            query = prepareQuery(str(text).replace("$PATH", "?__path"), initNs=namespaces)
        except Exception as error:  # the parser raises its own exception types
            raise OntologyError(f"a SPARQL constraint cannot be parsed: {error}", where="ontology/shapes") from error
        joined, sparql_steps = _sparql_steps(query.algebra)
        steps |= sparql_steps
        whole_graph = whole_graph or not joined
    whole_graph = whole_graph or any(shapes.triples((None, SH.target, None)))
    return Reach(
        forward=frozenset(p for p, forward in steps if forward),
        backward=frozenset(p for p, forward in steps if not forward),
        target_objects_of=frozenset(p.n3() for p in shapes.objects(None, SH.targetObjectsOf)),
        target_nodes=frozenset(n.n3() for n in shapes.objects(None, SH.targetNode) if isinstance(n, URIRef)),
        whole_graph=whole_graph,
    )


# -- walks -----------------------------------------------------------------------------------

Statements = Callable[[set[str]], Iterable[tuple[str, str, str]]]  # nodes -> their statements (s, p, o)
# nodes, predicates (None: any) -> statements with one of the nodes as object and one of the predicates
Pointing = Callable[[set[str], frozenset[str] | None], Iterable[tuple[str, str, str]]]


def affected(reach: Reach, seeds: set[str], statements: Statements, pointing_at: Pointing) -> set[str]:
    """``seeds`` and every node from which the shapes' steps reach one of them."""
    found, frontier = set(seeds), set(seeds)
    while frontier:
        step: set[str] = set()
        # a node with a forward step to the frontier, or one the frontier's statements lead back to
        step.update(s for s, p, _ in pointing_at(frontier, reach.forward) if reach.walks_forward(p))
        step.update(o for _, p, o in statements(frontier) if reach.walks_backward(p) and _is_node(o))
        frontier = step - found
        found |= frontier
    return found


def neighbourhood(reach: Reach, focus: set[str], statements: Statements, pointing_at: Pointing) -> set[str]:
    """``focus`` and every node the shapes' steps reach from it: whose statements validation reads."""
    found, frontier = set(focus), set(focus)
    while frontier:
        step: set[str] = set()
        step.update(o for _, p, o in statements(frontier) if reach.walks_forward(p) and _is_node(o))
        if reach.backward:
            step.update(s for s, p, _ in pointing_at(frontier, reach.backward) if reach.walks_backward(p))
        frontier = step - found
        found |= frontier
    return found


def seeds_of_change(reach: Reach, changed: Iterable[tuple[str, str, str]]) -> tuple[set[str], set[str]]:
    """The nodes a set of changed statements makes worth walking back from, and the focus nodes
    they may add by their targets (``sh:targetObjectsOf``, ``sh:targetNode``)."""
    seeds: set[str] = set()
    targets: set[str] = set(reach.target_nodes)
    for s, p, o in changed:
        seeds.add(s)
        if _is_node(o) and reach.walks_backward(p):
            seeds.add(o)
        if p in reach.target_objects_of and _is_node(o):
            targets.add(o)
    return seeds, targets


def _is_node(term: str) -> bool:
    return term.startswith(("<", "_:"))


# -- reading the shapes ----------------------------------------------------------------------

def _shacl_path_steps(shapes: Graph, path: Node, forward: bool) -> set[Step]:
    """https://www.w3.org/TR/shacl/#property-paths"""
    if isinstance(path, URIRef):
        return {(path.n3(), forward)}
    if (path, RDF.first, None) in shapes:  # a sequence path
        return {step for element in Collection(shapes, path) for step in _shacl_path_steps(shapes, element, forward)}
    inverse = shapes.value(path, SH.inversePath)
    if inverse is not None:
        return _shacl_path_steps(shapes, inverse, not forward)
    alternatives = shapes.value(path, SH.alternativePath)
    if alternatives is not None:
        return {step for element in Collection(shapes, alternatives)
                for step in _shacl_path_steps(shapes, element, forward)}
    for repeat in (SH.zeroOrMorePath, SH.oneOrMorePath, SH.zeroOrOnePath):
        inner = shapes.value(path, repeat)
        if inner is not None:
            return _shacl_path_steps(shapes, inner, forward)
    return {(ANY, forward)}  # not a path SHACL defines; assume the worst


def _sparql_path_steps(path: Node | Path, forward: bool) -> set[Step]:
    if isinstance(path, URIRef):
        return {(path.n3(), forward)}
    if isinstance(path, InvPath):
        return _sparql_path_steps(path.arg, not forward)
    if isinstance(path, SequencePath | AlternativePath):
        return {step for element in path.args for step in _sparql_path_steps(element, forward)}
    if isinstance(path, MulPath):
        return _sparql_path_steps(path.path, forward)
    if isinstance(path, NegatedPath):  # !(p|^q): any predicate but p forward, any but q backward
        return {(ANY, forward if not isinstance(member, InvPath) else not forward) for member in path.args}
    return {(ANY, forward)}  # a variable predicate


def _sparql_steps(algebra: Any) -> tuple[bool, set[Step]]:
    """The steps a SPARQL constraint takes from ``$this``, and whether every pattern is joined to it."""
    patterns = list(_triple_patterns(algebra))
    reached: set[Node] = {Variable("this")}
    steps: set[Step] = set()
    pending = list(patterns)
    while pending:
        # Walk forward whenever a pattern's subject is reached: a pattern joining two reached nodes
        # reads a statement of a node the walk already takes in. Backward only where it must.
        pattern = (next((p for p in pending if p[0] in reached), None)
                   or next((p for p in pending if p[2] in reached), None))
        if pattern is None:
            break
        subject, path, obj = pattern
        steps |= _sparql_path_steps(path, forward=subject in reached)
        reached |= {subject, obj}
        pending.remove(pattern)
    # A pattern left over reads statements no walk from $this reaches.
    return not pending, steps


def _triple_patterns(node: Any) -> Iterator[tuple[Node, Node | Path, Node]]:
    """Every triple pattern of a query's algebra, inside FILTER (NOT) EXISTS too."""
    if isinstance(node, dict):
        for key, value in node.items():
            if key == "triples" and isinstance(value, list):
                for group in value:
                    flat = list(group)
                    for start in range(0, len(flat) - 2, 3):
                        yield flat[start], flat[start + 1], flat[start + 2]
            else:
                yield from _triple_patterns(value)
    elif isinstance(node, list | tuple):
        for item in node:
            yield from _triple_patterns(item)
    elif hasattr(node, "__dict__") and not isinstance(node, Node | Path):
        yield from _triple_patterns(vars(node))


def _declared_prefixes(shapes: Graph) -> dict[str, str]:
    return {str(shapes.value(declaration, SH.prefix)): str(shapes.value(declaration, SH.namespace))
            for declaration in shapes.objects(None, SH.declare)}
