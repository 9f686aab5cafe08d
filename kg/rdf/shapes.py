"""``shapes.ttl`` compiled for the fast SHACL engine of :mod:`kg.rdf.shacl`.

:func:`shape_plan` reads every node shape that has a target and sorts it: a
shape that uses only the predicates in :data:`SUPPORTED` is compiled into a
:class:`CompiledShape` tree (its constraints pulled out into plain fields);
any other shape is left to pyshacl, by its IRI.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import cache

from rdflib import Graph, Literal, URIRef
from rdflib.collection import Collection
from rdflib.term import Node

from kg.namespaces import RDF, SH
from kg.ontology import shapes_path
from kg.rdf.index import from_rdflib
from kg.rdf.terms import Lit, Obj

__all__ = ["SUPPORTED", "CompiledShape", "ShapePath", "ShapePlan", "lexical", "load_shapes", "shape_plan", "to_int"]

SUPPORTED = frozenset(str(SH[name]) for name in (
    "targetClass", "targetSubjectsOf", "targetObjectsOf", "targetNode", "property", "path", "message",
    "minCount", "maxCount", "datatype", "class", "nodeKind", "minInclusive", "maxInclusive", "minExclusive",
    "maxExclusive", "minLength", "maxLength", "pattern", "flags", "in", "hasValue", "disjoint", "node",
    "qualifiedValueShape", "qualifiedMinCount", "qualifiedMaxCount", "and", "or", "not", "xone",
    "deactivated", "name", "description", "order", "group",
))
"""SHACL predicates the fast engine evaluates; a shape using any other ``sh:`` term goes to pyshacl."""


def to_int(value: Obj) -> int:
    """The integer a literal (or IRI text) stands for."""
    return int(value.lexical) if isinstance(value, Lit) else int(value)


def lexical(value: Obj) -> str:
    """The lexical form of a literal, or the IRI itself."""
    return value.lexical if isinstance(value, Lit) else value


@cache
def load_shapes() -> Graph:
    """The shipped shapes graph (parsed once per process)."""
    return Graph().parse(shapes_path(), format="turtle")


@dataclass
class ShapePath:
    """A property path the fast engine follows: a predicate, its inverse, or its ``*`` / ``+`` closure."""

    predicate: str
    mode: str = "one"  # one | inverse | star | plus


@dataclass
class CompiledShape:
    """One node or property shape, with the constraints it declares."""

    node: Node
    path: ShapePath | None = None
    message: str = ""
    params: dict[str, list[Obj]] = field(default_factory=dict)
    lists: dict[str, list[Obj]] = field(default_factory=dict)
    properties: list[CompiledShape] = field(default_factory=list)
    subshapes: dict[str, list[CompiledShape]] = field(default_factory=dict)
    deactivated: bool = False
    min_count: int | None = None
    max_count: int | None = None
    qualified: tuple[int | None, int | None] = (None, None)
    disjoint: list[str] = field(default_factory=list)
    has_value: list[Obj] = field(default_factory=list)

    def finish(self) -> None:
        """Pull the parameters :meth:`_Evaluator.check` reads on every call out of ``params``."""
        def first(name: str) -> int | None:
            return to_int(self.params[name][0]) if name in self.params else None

        self.min_count, self.max_count = first("minCount"), first("maxCount")
        self.qualified = (first("qualifiedMinCount"), first("qualifiedMaxCount"))
        self.disjoint = [lexical(o) for o in self.params.get("disjoint", [])]
        self.has_value = list(self.params.get("hasValue", []))


class _Unsupported(Exception):
    """The shape uses a SHACL feature outside :data:`SUPPORTED`."""


class _Compiler:
    """Reads shapes from the shapes graph into :class:`CompiledShape` trees (fast subset only)."""

    def __init__(self, graph: Graph) -> None:
        self.graph = graph
        self.done: dict[Node, CompiledShape] = {}

    def shape(self, node: Node) -> CompiledShape:
        if node in self.done:
            return self.done[node]
        g = self.graph
        result = self.done[node] = CompiledShape(node)
        for p, o in g.predicate_objects(node):
            if not str(p).startswith(str(SH)):
                continue
            if str(p) not in SUPPORTED:
                raise _Unsupported(str(p))
            name = str(p)[len(str(SH)):]
            if name == "path":
                result.path = self.path(o)
            elif name == "message":
                if not result.message or (isinstance(o, Literal) and o.language == "en"):
                    result.message = str(o)
            elif name == "property":
                result.properties.append(self.shape(o))
            elif name in ("node", "not", "qualifiedValueShape"):
                result.subshapes.setdefault(name, []).append(self.shape(o))
            elif name in ("and", "or", "xone"):
                result.subshapes[name] = [self.shape(item) for item in Collection(g, o)]
            elif name == "in":
                result.lists["in"] = [from_rdflib(item) for item in Collection(g, o)]
            elif name == "deactivated":
                result.deactivated = bool(isinstance(o, Literal) and o.value is True)
            else:
                result.params.setdefault(name, []).append(from_rdflib(o))
        result.finish()
        return result

    def path(self, node: Node) -> ShapePath:
        if isinstance(node, URIRef):
            return ShapePath(str(node))
        g = self.graph
        for mode, pred in (("inverse", SH.inversePath), ("star", SH.zeroOrMorePath), ("plus", SH.oneOrMorePath)):
            inner = g.value(node, pred)
            if isinstance(inner, URIRef):
                return ShapePath(str(inner), mode)
        raise _Unsupported("path")


@dataclass
class ShapePlan:
    """The targeted shapes, split between the fast engine and pyshacl, with their target declarations."""

    fast: list[CompiledShape]
    slow: list[URIRef]
    targets: dict[Node, list[tuple[str, str]]]


@cache
def shape_plan() -> ShapePlan:
    """The plan for the shipped shapes (compiled once per process)."""
    graph = load_shapes()
    compiler = _Compiler(graph)
    fast: list[CompiledShape] = []
    slow: list[URIRef] = []
    targets: dict[Node, list[tuple[str, str]]] = {}
    for node in sorted(set(graph.subjects(RDF.type, SH.NodeShape)), key=str):
        found = [(str(p)[len(str(SH)):], str(o)) for p, o in graph.predicate_objects(node)
                 if p in (SH.targetClass, SH.targetSubjectsOf, SH.targetObjectsOf, SH.targetNode)]
        if not found:
            continue  # a helper shape, used from other shapes only
        targets[node] = found
        compiled = dict(compiler.done)
        try:
            fast.append(compiler.shape(node))
        except _Unsupported:
            compiler.done = compiled  # forget the half-compiled parts: another shape may reach them
            if not isinstance(node, URIRef):
                raise ValueError(f"shape {node.n3()} needs pyshacl and must be named by an IRI") from None
            slow.append(node)
    return ShapePlan(fast, slow, targets)
