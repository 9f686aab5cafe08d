"""A compact in-memory triple index: subject -> predicate -> objects, plus where each subject starts.

Terms are plain Python values, not rdflib objects: an IRI is a ``str``, a blank
node is a ``str`` starting with ``_:`` (an absolute IRI never does), a literal
is a :class:`~kg.rdf.terms.Lit`. That keeps a few million triples in a few
hundred megabytes and makes look-ups dictionary operations. rdflib terms are
made only for the few nodes handed to pyshacl (:func:`to_rdflib`).

Examples
--------
>>> index = Index("x.ttl")
>>> index.add("urn:s", "urn:p", Lit("1"), 3)
>>> index.objects("urn:s", "urn:p"), index.where("urn:s")
([Lit(lexical='1', datatype=None, lang=None)], 'x.ttl:3 <urn:s>')
"""

from __future__ import annotations

from collections.abc import Iterator

from rdflib import BNode, Literal, URIRef
from rdflib.term import Identifier

from kg.namespaces import RDF
from kg.rdf.terms import XSD_STRING, Lit, Obj

__all__ = ["Index", "from_rdflib", "is_bnode", "to_rdflib"]

_TYPE = str(RDF.type)


def is_bnode(term: Obj) -> bool:
    """True for a blank node label (``_:x``)."""
    return isinstance(term, str) and term.startswith("_:")


def to_rdflib(term: Obj) -> Identifier:
    """The rdflib term for an index term."""
    if isinstance(term, Lit):
        datatype = URIRef(term.datatype) if term.datatype and term.datatype != XSD_STRING else None
        return Literal(term.lexical, lang=term.lang, datatype=None if term.lang else datatype)
    if term.startswith("_:"):
        return BNode(term[2:])
    return URIRef(term)


def from_rdflib(term: object) -> Obj:
    """The index term for an rdflib term."""
    if isinstance(term, Literal):
        return Lit(str(term), str(term.datatype) if term.datatype else None, term.language)
    if isinstance(term, BNode):
        return "_:" + str(term)
    return str(term)


class Index:
    """Triples grouped by subject, with the source line where each subject first appears.

    Parameters
    ----------
    source
        The file the triples come from (used in :meth:`where`).
    """

    def __init__(self, source: str) -> None:
        self.source = source
        self.nodes: dict[str, dict[str, list[Obj]]] = {}
        self.lines: dict[str, int] = {}
        self.count = 0
        self.strings: dict[str, str] = {}
        """One shared string per distinct IRI (the same provider appears thousands of times): see :meth:`intern`."""

    def intern(self, iri: str) -> str:
        """The shared string equal to ``iri``."""
        return self.strings.setdefault(iri, iri)

    def add(self, s: str, p: str, o: Obj, line: int = 0) -> None:
        """Add one triple; ``line`` is where it was read (0 when unknown)."""
        node = self.nodes.get(s)
        if node is None:
            s = self.strings.setdefault(s, s)
            node = self.nodes[s] = {}
            if line:
                self.lines[s] = line
        values = node.get(p)
        if values is None:
            node[self.strings.setdefault(p, p)] = [o]
        elif o not in values:
            values.append(o)
        else:
            return
        self.count += 1

    def objects(self, s: Obj, p: str) -> list[Obj]:
        """Objects of ``(s, p, ?)`` (an empty list when there are none)."""
        if not isinstance(s, str):
            return []
        node = self.nodes.get(s)
        return node.get(p, []) if node is not None else []

    def types(self, s: Obj) -> list[Obj]:
        """The rdf:type objects of ``s``."""
        return self.objects(s, _TYPE)

    def triples(self, s: str) -> Iterator[tuple[str, str, Obj]]:
        """Every triple whose subject is ``s``."""
        for p, values in self.nodes.get(s, {}).items():
            for o in values:
                yield s, p, o

    def where(self, node: Obj) -> str:
        """``FILE:LINE <node>`` (the line of the node's first statement, when known)."""
        shown = node if isinstance(node, str) else node.lexical
        text = f"<{shown}>" if isinstance(node, str) and not shown.startswith("_:") else shown
        line = self.lines.get(shown) if isinstance(node, str) else None
        return f"{self.source}:{line} {text}" if line else f"{self.source} {text}"
