"""Streaming RDF writers: N-Triples, Turtle, JSON-LD and RDF/XML, one :class:`Block` at a time.

No writer holds more than one block: a million-asset export runs in constant
memory. Each writes UTF-8 text to a text stream.

Literals are escaped by :func:`quote_literal` (backslash, double quote, line
feed and carriage return become ``\\\\ \\" \\n \\r``), the one form that is valid in
both N-Triples and Turtle. rdflib's ``Literal.n3()`` is not used for this: for a
value containing a line break it switches to a triple-quoted string, which
N-Triples does not allow (and which, for a value ending in ``\\"``, a strict
Turtle parser rejects).

Examples
--------
>>> import io
>>> out = io.StringIO()
>>> w = NTriplesWriter(out)
>>> w.start(); w.block(Block("urn:a", ["urn:T"], [("urn:p", Lit('say "hi"\\n'))])); w.finish()
>>> print(out.getvalue(), end="")
<urn:a> <http://www.w3.org/1999/02/22-rdf-syntax-ns#type> <urn:T> .
<urn:a> <urn:p> "say \\"hi\\"\\n" .
"""

from __future__ import annotations

import json
import re
from collections.abc import Sequence
from functools import lru_cache
from pathlib import PurePath
from typing import Any, Protocol, TextIO

from kg.errors import Problem, ValidationError
from kg.namespaces import RDF
from kg.rdf.mapping import Block
from kg.rdf.terms import XSD_STRING, Lit, Obj

__all__ = [
    "FORMATS",
    "FORMAT_NAMES",
    "MEDIA_TYPES",
    "SUFFIXES",
    "XML_FORBIDDEN",
    "JsonLdWriter",
    "NTriplesWriter",
    "RdfXmlWriter",
    "TripleWriter",
    "TurtleWriter",
    "format_for_path",
    "quote_literal",
    "split_qname",
]

_TYPE = str(RDF.type)
_ESCAPES = str.maketrans({"\\": "\\\\", '"': '\\"', "\n": "\\n", "\r": "\\r"})
# A conservative PN_LOCAL: what may follow "prefix:" in Turtle without any escaping.
_LOCAL = re.compile(r"[A-Za-z0-9_](?:[A-Za-z0-9_.-]*[A-Za-z0-9_-])?\Z")


def quote_literal(text: str) -> str:
    """``text`` as a double-quoted N-Triples/Turtle string."""
    return '"' + text.translate(_ESCAPES) + '"'


class TripleWriter(Protocol):
    """What the exporter needs of a writer."""

    triples: int

    def start(self) -> None:
        """Write whatever comes before the first block."""

    def block(self, block: Block) -> None:
        """Write one block."""

    def finish(self) -> None:
        """Write whatever comes after the last block."""


class NTriplesWriter:
    """Writes N-Triples: one line per triple, absolute IRIs."""

    def __init__(self, out: TextIO) -> None:
        self.out = out
        self.triples = 0

    def start(self) -> None:
        """N-Triples has no header."""

    def _object(self, obj: Obj) -> str:
        if isinstance(obj, str):
            return f"<{obj}>"
        text = quote_literal(obj.lexical)
        if obj.lang:
            return f"{text}@{obj.lang}"
        if obj.datatype and obj.datatype != XSD_STRING:
            return f"{text}^^<{obj.datatype}>"
        return text

    def block(self, block: Block) -> None:
        subject = f"<{block.subject}> "
        lines = [f"{subject}<{_TYPE}> <{t}> .\n" for t in block.types]
        obj = self._object
        lines.extend(f"{subject}<{p}> {obj(o)} .\n" for p, o in block.pairs)
        self.out.write("".join(lines))
        self.triples += len(lines)

    def finish(self) -> None:
        """N-Triples has no footer."""


class TurtleWriter:
    """Writes Turtle: an ``@prefix`` header, then one ``subject a ...; p o .`` block per subject.

    Parameters
    ----------
    out
        The text stream.
    prefixes
        ``(prefix, namespace IRI)`` pairs to declare and use.
    """

    def __init__(self, out: TextIO, prefixes: Sequence[tuple[str, str]]) -> None:
        self.out = out
        self.triples = 0
        self.prefixes = sorted(prefixes)
        self._by_namespace = {ns: prefix for prefix, ns in prefixes}
        self._cache: dict[str, str] = {}

    def start(self) -> None:
        self.out.write("".join(f"@prefix {p}: <{ns}> .\n" for p, ns in self.prefixes) + "\n")

    def _compact(self, iri: str) -> str:
        # Every namespace ends with '/' or '#', and a percent-encoded id holds neither,
        # so the namespace of an IRI is everything up to its last '/' or '#'.
        cut = max(iri.rfind("/"), iri.rfind("#")) + 1
        prefix = self._by_namespace.get(iri[:cut])
        if prefix is not None and _LOCAL.match(iri, cut):
            return f"{prefix}:{iri[cut:]}"
        return f"<{iri}>"

    def _term(self, iri: str) -> str:
        # Classes, predicates and datatypes repeat endlessly: remember their short form.
        found = self._cache.get(iri)
        if found is None:
            found = self._cache[iri] = self._compact(iri)
        return found

    def _object(self, obj: Obj) -> str:
        if isinstance(obj, str):
            return self._compact(obj)
        text = '"' + obj.lexical.translate(_ESCAPES) + '"'
        if obj.lang:
            return f"{text}@{obj.lang}"
        if obj.datatype and obj.datatype != XSD_STRING:
            return f"{text}^^{self._term(obj.datatype)}"
        return text

    def block(self, block: Block) -> None:
        if not block.types and not block.pairs:
            return
        term, obj = self._term, self._object
        statements: list[str] = []
        if block.types:
            statements.append("a " + ", ".join([term(t) for t in block.types]))
        previous: str | None = None
        for predicate, value in block.pairs:
            if predicate == previous:
                statements[-1] += ", " + obj(value)
            else:
                statements.append(term(predicate) + " " + obj(value))
                previous = predicate
        self.out.write(self._compact(block.subject) + " " + " ;\n    ".join(statements) + " .\n\n")
        self.triples += len(block.types) + len(block.pairs)

    def finish(self) -> None:
        """Turtle needs no footer."""


class JsonLdWriter:
    """Writes one JSON-LD document ``{"@context": ..., "@graph": [...]}``, one node object at a time.

    Values are written in the compact form the context's term definitions
    coerce (``"lat": "29.5"`` for an ``xsd:double`` term); anything the context
    does not cover is written as an explicit value object, so the output always
    means exactly the triples it was given. Typed values are written as strings
    (their lexical form), never as JSON numbers, so that no digit is lost.

    Parameters
    ----------
    out
        The text stream.
    context
        The ``@context`` value to embed.
    """

    def __init__(self, out: TextIO, context: dict[str, Any]) -> None:
        self.out = out
        self.triples = 0
        self.context = context
        self._first = True
        self.vocab: str = context.get("@vocab", "")
        self.prefixes: list[tuple[str, str]] = []
        self.terms: dict[str, tuple[str, str | None]] = {}
        """Predicate IRI -> (term, coercion: '@id', a datatype IRI or None)."""
        self.class_terms: dict[str, str] = {}
        for term, definition in context.items():
            if term.startswith("@"):
                continue
            if isinstance(definition, str) and definition.endswith(("#", "/")):
                self.prefixes.append((term, definition))
        self.prefixes.sort(key=lambda item: -len(item[1]))
        for term, definition in context.items():
            if term.startswith("@") or (isinstance(definition, str) and definition.endswith(("#", "/"))):
                continue
            if isinstance(definition, str):
                self.terms.setdefault(self.expand(definition), (term, None))
                self.class_terms.setdefault(self.expand(definition), term)
            elif isinstance(definition, dict) and "@id" in definition:
                coercion = definition.get("@type")
                if coercion is not None and coercion != "@id":
                    coercion = self.expand(coercion)
                self.terms.setdefault(self.expand(definition["@id"]), (term, coercion))

    def expand(self, value: str) -> str:
        """Expand a compact IRI (``ckg:lat``) with the context's prefixes."""
        prefix, sep, rest = value.partition(":")
        if sep and not rest.startswith("//"):
            for name, ns in self.prefixes:
                if name == prefix:
                    return ns + rest
        return value

    def _compact_iri(self, iri: str) -> str:
        for name, ns in self.prefixes:
            if iri.startswith(ns) and _LOCAL.match(iri, len(ns)):
                return f"{name}:{iri[len(ns):]}"
        return iri

    def _type(self, iri: str) -> str:
        if iri in self.class_terms:
            return self.class_terms[iri]
        if self.vocab and iri.startswith(self.vocab) and _LOCAL.match(iri, len(self.vocab)) \
                and iri[len(self.vocab):] not in self.context:
            return iri[len(self.vocab):]
        return self._compact_iri(iri)

    def _pair(self, predicate: str, obj: Obj) -> tuple[str, Any]:
        term, coercion = self.terms.get(predicate, (None, None))
        if term is not None:
            if isinstance(obj, str) and coercion == "@id":
                return term, self._compact_iri(obj)
            if isinstance(obj, Lit) and not obj.lang:
                datatype = obj.datatype if obj.datatype != XSD_STRING else None
                if datatype == coercion:
                    return term, obj.lexical
        key = term if term is not None else self._key(predicate)
        if isinstance(obj, str):
            return key, {"@id": obj}
        value: dict[str, str] = {"@value": obj.lexical}
        if obj.lang:
            value["@language"] = obj.lang
        elif obj.datatype and obj.datatype != XSD_STRING:
            value["@type"] = obj.datatype
        return key, value

    def _key(self, predicate: str) -> str:
        if self.vocab and predicate.startswith(self.vocab) and _LOCAL.match(predicate, len(self.vocab)) \
                and predicate[len(self.vocab):] not in self.context:
            return predicate[len(self.vocab):]
        return self._compact_iri(predicate)

    def start(self) -> None:
        self.out.write('{\n"@context": ' + json.dumps(self.context, ensure_ascii=False) + ',\n"@graph": [\n')

    def block(self, block: Block) -> None:
        if not block.types and not block.pairs:
            return
        node: dict[str, Any] = {"@id": self._compact_iri(block.subject)}
        if block.types:
            node["@type"] = [self._type(t) for t in block.types]
        for predicate, obj in block.pairs:
            key, value = self._pair(predicate, obj)
            if key in node:
                current = node[key]
                node[key] = [*current, value] if isinstance(current, list) else [current, value]
            else:
                node[key] = value
        self.out.write(("" if self._first else ",\n") + json.dumps(node, ensure_ascii=False))
        self._first = False
        self.triples += block.triples

    def finish(self) -> None:
        self.out.write("\n]\n}\n")


XML_FORBIDDEN = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff\ud800-\udfff]")
"""Characters XML 1.0 cannot hold at all, not even as character references (RDF/XML cannot write them)."""
_XML_TEXT = str.maketrans({"&": "&amp;", "<": "&lt;", ">": "&gt;", "\r": "&#13;"})
_XML_ATTR = str.maketrans({"&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "\t": "&#9;", "\n": "&#10;",
                           "\r": "&#13;"})
_NC_START = ("A-Z_a-z\xc0-\xd6\xd8-\xf6\xf8-\u02ff\u0370-\u037d\u037f-\u1fff\u200c\u200d\u2070-\u218f"
             "\u2c00-\u2fef\u3001-\ud7ff\uf900-\ufdcf\ufdf0-\ufffd\U00010000-\U000effff")
_NC_NAME_SUFFIX = re.compile(f"[{_NC_START}][{_NC_START}\\-.0-9\xb7\u0300-\u036f\u203f\u2040]*\\Z")


@lru_cache(maxsize=4096)
def split_qname(iri: str) -> tuple[str, str] | None:
    """``(namespace, local name)`` with the longest local name that is an XML NCName, or None."""
    found = _NC_NAME_SUFFIX.search(iri)
    return (iri[:found.start()], found.group()) if found else None


def _xml(text: str, table: dict[int, str], where: str) -> str:
    bad = XML_FORBIDDEN.search(text)
    if bad:
        raise ValidationError([Problem(where, f"character U+{ord(bad.group()):04X} cannot be written in RDF/XML "
                                              "(XML 1.0 forbids it); export as ttl, nt or jsonld")])
    return text.translate(table)


class RdfXmlWriter:
    """Writes RDF/XML: one ``rdf:Description`` per block inside one ``rdf:RDF`` element.

    A property element needs a qualified name, so a predicate IRI is cut into a
    namespace and the longest local part that is an XML name
    (``ckg:prop_return%20period`` becomes ``period`` in the namespace
    ``...#prop_return%20``, declared on the element when no prefix covers it).
    A predicate ending in no XML name (``ckg:prop_floor%202``) cannot be written
    in RDF/XML at all; that, and a character XML 1.0 forbids, is an error naming
    the subject.

    Parameters
    ----------
    out
        The text stream.
    prefixes
        ``(prefix, namespace IRI)`` pairs to declare on ``rdf:RDF``.
    """

    def __init__(self, out: TextIO, prefixes: Sequence[tuple[str, str]]) -> None:
        self.out = out
        self.triples = 0
        self.prefixes = sorted({*prefixes, ("rdf", str(RDF))})
        self._by_namespace = {ns: prefix for prefix, ns in self.prefixes}
        self._tags: dict[str, tuple[str, str]] = {}
        """Predicate IRI -> (start tag without '>', end tag)."""

    def start(self) -> None:
        declarations = "".join(f'\n    xmlns:{p}="{_xml(ns, _XML_ATTR, "prefixes")}"' for p, ns in self.prefixes)
        self.out.write(f'<?xml version="1.0" encoding="utf-8"?>\n<rdf:RDF{declarations}>\n')

    def _tag(self, predicate: str, subject: str) -> tuple[str, str]:
        tag = self._tags.get(predicate)
        if tag is None:
            split = split_qname(predicate)
            if split is None:
                raise ValidationError([Problem(f"<{subject}>", f"the property <{predicate}> cannot be written in "
                                               "RDF/XML (its IRI does not end in an XML name); export as ttl, nt "
                                               "or jsonld, or rename the column")])
            namespace, local = split
            prefix = self._by_namespace.get(namespace)
            if prefix is not None:
                tag = (f"<{prefix}:{local}", f"</{prefix}:{local}>")
            else:
                tag = (f'<ns0:{local} xmlns:ns0="{_xml(namespace, _XML_ATTR, predicate)}"', f"</ns0:{local}>")
            self._tags[predicate] = tag
        return tag

    def block(self, block: Block) -> None:
        if not block.types and not block.pairs:
            return
        where = f"<{block.subject}>"
        lines = [f'<rdf:Description rdf:about="{_xml(block.subject, _XML_ATTR, where)}">']
        lines.extend(f'  <rdf:type rdf:resource="{_xml(t, _XML_ATTR, where)}"/>' for t in block.types)
        for predicate, obj in block.pairs:
            start, end = self._tag(predicate, block.subject)
            if isinstance(obj, str):
                lines.append(f'  {start} rdf:resource="{_xml(obj, _XML_ATTR, where)}"/>')
                continue
            if obj.lang:
                start += f' xml:lang="{_xml(obj.lang, _XML_ATTR, where)}"'
            elif obj.datatype and obj.datatype != XSD_STRING:
                start += f' rdf:datatype="{_xml(obj.datatype, _XML_ATTR, where)}"'
            lines.append(f"  {start}>{_xml(obj.lexical, _XML_TEXT, where)}{end}")
        lines.append("</rdf:Description>\n")
        self.out.write("\n".join(lines))
        self.triples += block.triples

    def finish(self) -> None:
        self.out.write("</rdf:RDF>\n")


FORMATS = ("ttl", "jsonld", "nt", "rdfxml")
"""Export formats: Turtle, JSON-LD, N-Triples, RDF/XML."""

FORMAT_NAMES = {"ttl": "Turtle", "jsonld": "JSON-LD", "nt": "N-Triples", "rdfxml": "RDF/XML"}

MEDIA_TYPES = {"ttl": "text/turtle", "jsonld": "application/ld+json", "nt": "application/n-triples",
               "rdfxml": "application/rdf+xml"}
"""The media type of each export format."""

SUFFIXES = {".ttl": "ttl", ".turtle": "ttl", ".nt": "nt", ".jsonld": "jsonld", ".rdf": "rdfxml", ".xml": "rdfxml",
            ".owl": "rdfxml"}
"""File suffixes that name an export format (compared without regard to case)."""


def format_for_path(path: str | PurePath | None, fmt: str | None, *, option: str = "--rdf") -> str:
    """The export format for writing to ``path``: ``fmt`` when given, else the one its suffix names.

    Without a path (stdout) the default is Turtle.

    Raises
    ------
    kg.errors.ValidationError
        ``fmt`` and the suffix name different formats, or neither says which format.

    Examples
    --------
    >>> format_for_path("s163.nt", None), format_for_path("city.OWL", None), format_for_path(None, None)
    ('nt', 'rdfxml', 'ttl')
    >>> try:
    ...     format_for_path("x.nt", "ttl")
    ... except ValidationError as exc:
    ...     print(exc.problems[0].message)
    --rdf ttl (Turtle) conflicts with the suffix of x.nt, which means N-Triples; drop --rdf or name the file x.ttl
    """
    if fmt is not None and fmt not in FORMATS:
        raise ValidationError([Problem(option, f"unknown RDF format {fmt!r}; expected one of {', '.join(FORMATS)}")])
    if path is None:
        return fmt or "ttl"
    path = PurePath(path)
    implied = SUFFIXES.get(path.suffix.lower())
    if fmt is None:
        if implied is None:
            known = " ".join(SUFFIXES)
            raise ValidationError([Problem(option, f"cannot tell the RDF format from the name {path.name}; give "
                                                   f"{option} ({', '.join(FORMATS)}) or use a suffix: {known}")])
        return implied
    if implied is not None and implied != fmt:
        wanted = next(suffix for suffix, f in SUFFIXES.items() if f == fmt)
        raise ValidationError([Problem(option, f"{option} {fmt} ({FORMAT_NAMES[fmt]}) conflicts with the suffix of "
                                               f"{path.name}, which means {FORMAT_NAMES[implied]}; drop {option} or "
                                               f"name the file {path.stem}{wanted}")])
    return fmt
