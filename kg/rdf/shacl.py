"""SHACL validation of instance data against ``shapes.ttl``, practical at 100k+ elements.

pyshacl evaluates every constraint of every focus node through rdflib graph
look-ups: on a 100k-asset city (half a million focus nodes: assets,
geometries, dependencies, exposures) it needs 270 CPU seconds and 5 GB, where
the fast engine below needs 16 s. The shapes stay the one contract; what
changes is who runs them:

* **fast engine** (the default): the shapes that use only the SHACL core
  features listed in :data:`SUPPORTED` are compiled from ``shapes.ttl`` and
  evaluated here, in one pass over a plain-dict index of the data
  (:class:`~kg.rdf.index.Index`) plus the ontology;
* every other shape (today: the SPARQL-based ``ckgsh:RegionNestingShape``) is
  run by **pyshacl, in focus-node batches**: each batch graph holds the
  ontology, the focus nodes' triples and the triples of the nodes they point
  to. ``shapes.ttl`` promises that such shapes look no further.

Both report :class:`Violation` records with the focus node and the shape's
``sh:message``. ``engine="pyshacl"`` runs pyshacl alone over the whole graph
(the reference; tests check that both engines agree). docs/rdf.md has the
measurements.
"""

from __future__ import annotations

import math
import re
from collections import defaultdict
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from functools import cache, partial
from typing import Any

import pyshacl
from rdflib import Graph, URIRef
from rdflib.term import Node

from kg.i18n import N_, Message, _l
from kg.namespaces import RDF, RDFS, SH, XSD
from kg.ontology import load_ontology
from kg.rdf.index import Index, from_rdflib, is_bnode, to_rdflib
from kg.rdf.shapes import SUPPORTED, CompiledShape, ShapePath, lexical, load_shapes, shape_plan, to_int
from kg.rdf.terms import XSD_STRING, Lit, Obj

__all__ = ["ENGINES", "SUPPORTED", "Violation", "load_shapes", "validate_index"]

ENGINES = ("fast", "pyshacl")

_TYPE, _SUBCLASS = str(RDF.type), str(RDFS.subClassOf)
_LANG_STRING = str(RDF.langString)
_NUMERIC: dict[str, Callable[[str], Any]] = {
    str(XSD.integer): int, str(XSD.int): int, str(XSD.long): int, str(XSD.short): int,
    str(XSD.nonNegativeInteger): int, str(XSD.positiveInteger): int, str(XSD.decimal): Decimal,
    str(XSD.double): float, str(XSD.float): float,
}
_PY_TYPES: dict[str, type] = {str(XSD.integer): int, str(XSD.decimal): Decimal, str(XSD.boolean): bool}
_BATCH = 2000
_BNODE_HOPS = 3
"""How far :func:`_batch_graph` follows blank nodes from a focus node (the slow shapes look one hop away)."""
_TICK_EVERY = 4096
"""Focus nodes between two calls of validate_index's ``tick``."""
_NONE: list[Obj] = []  # shared empty result: never mutated
_NO_MESSAGE = N_("violates a SHACL constraint")
"""What a violation says when its shape gives no ``sh:message``."""


@dataclass(frozen=True, slots=True)
class Violation:
    """One SHACL result: the focus node, the shape's message, and the value at fault (if any)."""

    focus: Obj
    message: str
    shape: str
    value: Obj | None = None
    path: str | None = None

    def text(self) -> str | Message:
        """The message, with the offending value when there is one.

        The shape's own message (``sh:message`` of the shapes file) is data, said as written; the words CityKG
        adds are translated.
        """
        said = _l(_NO_MESSAGE) if self.message == _NO_MESSAGE else self.message
        if self.value is None:
            return said
        shown = repr(self.value.lexical) if isinstance(self.value, Lit) else f"<{self.value}>"
        return _l("{message}; got {value}", message=said, value=shown)


@cache
def _ontology_index() -> Index:
    index = Index("ontology")
    for s, p, o in load_ontology().graph:
        index.add(str(from_rdflib(s)), str(p), from_rdflib(o))
    return index


# ---------------------------------------------------------------------- evaluation


def _number(value: Obj) -> Any:
    if not isinstance(value, Lit) or value.lang:
        return None
    convert = _NUMERIC.get(value.datatype or "")
    if convert is None:
        return None
    try:
        return convert(value.lexical)
    except (ValueError, InvalidOperation):
        return None


def _well_typed(value: Lit, datatype: str) -> bool:
    if datatype in (XSD_STRING, _LANG_STRING):
        return True
    convert = _NUMERIC.get(datatype)
    if convert is not None:
        try:
            converted = convert(value.lexical)
        except (ValueError, InvalidOperation):
            return False
        expected = _PY_TYPES.get(datatype)
        return expected is None or isinstance(converted, expected)
    if datatype == str(XSD.boolean):
        return value.lexical in ("true", "false", "1", "0")
    return True


class _Evaluator:
    """Evaluates compiled shapes over the data index and the ontology."""

    def __init__(self, data: Index) -> None:
        self.data = data
        self.onto = _ontology_index()
        self.memo: dict[tuple[int, Obj], bool] = {}
        self.compiled: dict[int, list[Callable[[Obj], bool]]] = {}
        self.subclass_cache: dict[str, frozenset[str]] = {}
        self.inverse: dict[str, dict[Obj, list[str]]] = {}
        self._types: dict[Obj, list[str]] | None = None
        self._data_nodes = data.nodes
        self._onto_nodes = self.onto.nodes
        self._below: dict[str, list[str]] | None = None

    def objects(self, s: Obj, p: str) -> list[Obj]:
        """Objects of ``(s, p, ?)`` in the data and the ontology together."""
        node = self._data_nodes.get(s)  # type: ignore[arg-type]  # a literal is simply not found
        a: list[Obj] = node.get(p, _NONE) if node is not None else _NONE
        if s not in self._onto_nodes:  # nearly always: the ontology describes few nodes
            return a
        b = self.onto.objects(s, p)
        if not a:
            return b
        return a + [x for x in b if x not in a]

    def subclasses(self, cls: str) -> frozenset[str]:
        """``cls`` and every class below it (from the ontology and the data)."""
        found = self.subclass_cache.get(cls)
        if found is None:
            if self._below is None:
                self._below = defaultdict(list)
                for index in (self.onto, self.data):
                    for s, node in index.nodes.items():
                        for sup in node.get(_SUBCLASS, ()):
                            if isinstance(sup, str):
                                self._below[sup].append(s)
            below = self._below
            seen, stack = {cls}, [cls]
            while stack:
                for sub in below[stack.pop()]:
                    if sub not in seen:
                        seen.add(sub)
                        stack.append(sub)
            found = self.subclass_cache[cls] = frozenset(seen)
        return found

    def is_instance(self, node: Obj, cls: str) -> bool:
        classes = self.subclasses(cls)
        return any(t in classes for t in self.objects(node, _TYPE))

    def values(self, focus: Obj, path: ShapePath) -> list[Obj]:
        if path.mode == "one":
            return self.objects(focus, path.predicate)
        if path.mode == "inverse":
            inverse = self.inverse.get(path.predicate)
            if inverse is None:
                inverse = self.inverse[path.predicate] = defaultdict(list)
                for index in (self.data, self.onto):
                    for s, node in index.nodes.items():
                        for o in node.get(path.predicate, ()):
                            inverse[o].append(s)
            return list(dict.fromkeys(inverse.get(focus, [])))
        seen: dict[Obj, None] = {focus: None} if path.mode == "star" else {}
        stack = [focus]
        while stack:
            for nxt in self.objects(stack.pop(), path.predicate):
                if nxt not in seen:
                    seen[nxt] = None
                    stack.append(nxt)
        return list(seen)

    # ---- one focus node against one shape: the violations (value node or None, message shape)
    def check(self, focus: Obj, shape: CompiledShape) -> Iterator[tuple[Obj | None, CompiledShape]]:
        if shape.deactivated:
            return
        values = self.values(focus, shape.path) if shape.path is not None else [focus]
        if shape.min_count is not None and len(values) < shape.min_count:
            yield None, shape
        if shape.max_count is not None and len(values) > shape.max_count:
            yield None, shape
        for value in values:
            if not self._value_ok(value, shape):
                yield value, shape
        for other in shape.disjoint:
            theirs = set(self.objects(focus, other))
            for value in values:
                if value in theirs:
                    yield value, shape
        for target in shape.has_value:
            if target not in values:
                yield None, shape
        for sub in shape.subshapes.get("qualifiedValueShape", ()):
            matching = sum(1 for v in values if self.conforms(v, sub))
            low, high = shape.qualified
            if (low is not None and matching < low) or (high is not None and matching > high):
                yield None, shape
        for prop in shape.properties:
            for value in values:
                for bad, source in self.check(value, prop):
                    yield (bad, source) if shape.path is None else (value, shape)

    def _value_ok(self, value: Obj, shape: CompiledShape) -> bool:
        checks = self.compiled.get(id(shape))
        if checks is None:
            checks = self.compiled[id(shape)] = self._compile(shape)
        return all(test(value) for test in checks)

    def _compile(self, shape: CompiledShape) -> list[Callable[[Obj], bool]]:
        """The value-node tests of a shape, one closure per constraint it declares."""
        params, subs = shape.params, shape.subshapes
        tests: list[Callable[[Obj], bool]] = []
        for datatype in map(str, params.get("datatype", [])):
            def has_datatype(value: Obj, datatype: str = datatype) -> bool:
                if not isinstance(value, Lit):
                    return False
                actual = _LANG_STRING if value.lang else (value.datatype or XSD_STRING)
                return actual == datatype and _well_typed(value, datatype)
            tests.append(has_datatype)
        for cls in map(str, params.get("class", [])):
            def is_instance(value: Obj, cls: str = cls) -> bool:
                return not isinstance(value, Lit) and self.is_instance(value, cls)
            tests.append(is_instance)
        for kind in map(str, params.get("nodeKind", [])):
            tests.append(partial(_node_kind_ok, kind=kind))
        for name, compare in _RANGES.items():
            for bound in params.get(name, []):
                tests.append(partial(_in_range, limit=_number(bound), compare=compare))
        for name in ("minLength", "maxLength"):
            for bound in params.get(name, []):
                tests.append(partial(_length_ok, size=to_int(bound), longest=name == "maxLength"))
        for pattern in params.get("pattern", []):
            flags = params.get("flags", [])
            tests.append(partial(_pattern_ok, compiled=_regex(lexical(pattern), lexical(flags[0]) if flags else "")))
        if "in" in shape.lists:
            tests.append(partial(_member, allowed=shape.lists["in"]))
        for sub in subs.get("node", []):
            tests.append(partial(self.conforms, shape=sub))
        for sub in subs.get("not", []):
            tests.append(partial(self._logic, kind="not", shapes=[sub]))
        for kind in ("and", "or", "xone"):
            if kind in subs:
                tests.append(partial(self._logic, kind=kind, shapes=subs[kind]))
        return tests

    def _logic(self, value: Obj, *, kind: str, shapes: list[CompiledShape]) -> bool:
        passed = sum(1 for sub in shapes if self.conforms(value, sub))
        if kind == "and":
            return passed == len(shapes)
        if kind == "or":
            return passed > 0
        if kind == "xone":
            return passed == 1
        return passed == 0  # not

    def conforms(self, node: Obj, shape: CompiledShape) -> bool:
        key = (id(shape), node)
        found = self.memo.get(key)
        if found is None:
            found = self.memo[key] = next(iter(self.check(node, shape)), None) is None
        return found

    # ---- targets
    def _by_type(self) -> dict[Obj, list[str]]:
        if self._types is None:
            self._types = defaultdict(list)
            for index in (self.data, self.onto):
                for s, node in index.nodes.items():
                    for t in node.get(_TYPE, ()):
                        self._types[t].append(s)
        return self._types

    def targets(self, spec: list[tuple[str, str]]) -> list[Obj]:
        """The focus nodes of a shape's target declarations, in a stable order."""
        found: dict[Obj, None] = {}
        for kind, value in spec:
            if kind == "targetNode":
                found[value] = None
            elif kind == "targetClass":
                by_type = self._by_type()
                for cls in sorted(self.subclasses(value)):
                    found.update(dict.fromkeys(by_type.get(cls, ())))
            else:
                for index in (self.data, self.onto):
                    for s, node in index.nodes.items():
                        objs = node.get(value)
                        if objs:
                            if kind == "targetSubjectsOf":
                                found[s] = None
                            else:
                                found.update(dict.fromkeys(objs))
        return list(found)


_RANGES: dict[str, Callable[[Any, Any], bool]] = {
    "minInclusive": lambda a, b: a >= b,
    "maxInclusive": lambda a, b: a <= b,
    "minExclusive": lambda a, b: a > b,
    "maxExclusive": lambda a, b: a < b,
}


def _text(value: Obj) -> str | None:
    """The string a length or pattern constraint looks at (None for a blank node)."""
    if isinstance(value, Lit):
        return value.lexical
    return None if is_bnode(value) else value


@cache
def _regex(pattern: str, flags: str) -> re.Pattern[str]:
    bits = 0
    for flag, bit in (("i", re.IGNORECASE), ("m", re.MULTILINE), ("s", re.DOTALL), ("x", re.VERBOSE)):
        if flag in flags:
            bits |= bit
    return re.compile(pattern, bits)


def _in_range(value: Obj, *, limit: Any, compare: Callable[[Any, Any], bool]) -> bool:
    number = _number(value)
    if number is None or limit is None or (isinstance(number, float) and math.isnan(number)):
        return False
    return compare(number, limit)


def _length_ok(value: Obj, *, size: int, longest: bool) -> bool:
    text = _text(value)
    return text is not None and (len(text) <= size if longest else len(text) >= size)


def _pattern_ok(value: Obj, *, compiled: re.Pattern[str]) -> bool:
    text = _text(value)
    return text is not None and compiled.search(text) is not None


def _member(value: Obj, *, allowed: list[Obj]) -> bool:
    return value in allowed


def _node_kind_ok(value: Obj, kind: str) -> bool:
    name = kind[len(str(SH)):]
    actual = "Literal" if isinstance(value, Lit) else ("BlankNode" if is_bnode(value) else "IRI")
    return actual in name or (name == "BlankNodeOrIRI" and actual != "Literal")


# ---------------------------------------------------------------------- pyshacl


def _batch_graph(index: Index, focus: Iterable[Obj]) -> Graph:
    """The ontology, the focus nodes' triples and those of every node they point to.

    Blank nodes are followed a few hops further (a geometry, a list), never down
    a whole chain: 50,000 nested blank nodes would otherwise all go to pyshacl.
    """
    graph = Graph()
    for triple in load_ontology().graph:
        graph.add(triple)
    todo: list[str] = [f for f in focus if isinstance(f, str)]
    done: set[str] = set()
    hops = {f: 0 for f in todo}
    while todo:
        node = todo.pop()
        if node in done:
            continue
        done.add(node)
        for s, p, o in index.triples(node):
            graph.add((to_rdflib(s), to_rdflib(p), to_rdflib(o)))
            if isinstance(o, str) and o not in done and (hops[node] == 0 or (is_bnode(o) and hops[node] < _BNODE_HOPS)):
                hops.setdefault(o, hops[node] + 1)
                todo.append(o)
    return graph


def _results(report: Graph, shape_of: Callable[[Node], str]) -> Iterator[Violation]:
    for result in report.subjects(RDF.type, SH.ValidationResult):
        focus = report.value(result, SH.focusNode)
        message = report.value(result, SH.resultMessage)
        value = report.value(result, SH.value)
        path = report.value(result, SH.resultPath)
        source = report.value(result, SH.sourceShape)
        yield Violation(
            focus=from_rdflib(focus),
            message=str(message) if message is not None else _NO_MESSAGE,
            shape=shape_of(source) if source is not None else "",
            value=from_rdflib(value) if value is not None and value != focus else None,
            path=str(path) if isinstance(path, URIRef) else None,
        )


def _pyshacl(data: Graph, *, shapes: Sequence[URIRef] | None = None,
             focus: Sequence[Obj] | None = None) -> list[Violation]:
    conforms, report, _ = pyshacl.validate(
        data, shacl_graph=load_shapes(), inference="none", inplace=True,
        use_shapes=list(shapes) if shapes is not None else None,
        focus_nodes=[to_rdflib(f) for f in focus] if focus is not None else None,
    )
    if conforms:
        return []
    shapes_graph = load_shapes()

    def shape_of(source: Node) -> str:
        # Results name the property shape (often a blank node); report its node shape.
        for parent in shapes_graph.subjects(SH.property, source):
            return str(parent)
        return str(source)

    return list(_results(report, shape_of))


# ---------------------------------------------------------------------- entry point


def validate_index(index: Index, *, engine: str = "fast", batch_size: int = _BATCH,
                   tick: Callable[[], None] | None = None) -> list[Violation]:
    """Validate the data in ``index`` against ``shapes.ttl``; an empty list means it conforms.

    Parameters
    ----------
    index
        The parsed data.
    engine
        ``fast`` (compiled core shapes + pyshacl batches for the rest) or
        ``pyshacl`` (pyshacl over the whole graph, the slow reference).
    batch_size
        Focus nodes per pyshacl batch (fast engine).
    tick
        Called every few thousand focus nodes and between pyshacl batches (fast engine), so that a
        caller can stop a validation past its deadline by raising.
    """
    if engine not in ENGINES:
        raise ValueError(f"unknown SHACL engine {engine!r}; expected one of {', '.join(ENGINES)}")
    if engine == "pyshacl":
        graph = Graph()
        for triple in load_ontology().graph:
            graph.add(triple)
        for s in index.nodes:
            for s_, p, o in index.triples(s):
                graph.add((to_rdflib(s_), to_rdflib(p), to_rdflib(o)))
        return _dedupe(_pyshacl(graph))
    plan = shape_plan()
    evaluator = _Evaluator(index)
    found: list[Violation] = []
    checked = 0
    for shape in plan.fast:
        for focus in evaluator.targets(plan.targets[shape.node]):
            checked += 1
            if tick is not None and checked % _TICK_EVERY == 0:
                tick()
            for value, source in evaluator.check(focus, shape):
                found.append(Violation(focus, source.message or shape.message or _NO_MESSAGE,
                                       str(shape.node), value,
                                       source.path.predicate if source.path is not None else None))
    for name in plan.slow:
        targets = [f for f in evaluator.targets(plan.targets[name]) if isinstance(f, str)]
        for start in range(0, len(targets), batch_size):
            if tick is not None:
                tick()
            batch = targets[start:start + batch_size]
            found.extend(_pyshacl(_batch_graph(index, batch), shapes=[name], focus=batch))
    return _dedupe(found)


def _dedupe(violations: Iterable[Violation]) -> list[Violation]:
    return list(dict.fromkeys(violations))
