"""JSON-LD into an :class:`~kg.rdf.index.Index`: a fast path for the flat shape, pyoxigraph for the rest.

The fast path expands documents of the shape ``kg export`` writes: a
``@context`` of prefixes, ``@vocab`` and term definitions with ``@id`` and
``@type`` (terms may be written with other terms), and a ``@graph`` of node
objects whose values are strings, value objects with string ``@value``, node
references or embedded node objects. Anything else (``@base``, ``@language``,
``@list``, ``@reverse``, containers, native JSON numbers, nesting deeper than
Python's ``json`` goes, ...) is handed to pyoxigraph's JSON-LD 1.1 parser.
The fast path stays because it reads the export in half the memory and a
little less time (docs/performance.md).

**No context is ever fetched.** A ``@context`` (or ``@import``) given by URL,
``http:``, ``file:`` or any other, is refused with its line, whether or not
anything is there: pyoxigraph is given no document loader, and the fast path
only reads contexts written in the document. ``kg export`` embeds the
ontology's context (``ontology/context.jsonld``) for this reason.
"""

from __future__ import annotations

import json
import re
from typing import Any

import pyoxigraph as ox

from kg.errors import Problem, ValidationError
from kg.i18n import N_, _l
from kg.namespaces import RDF
from kg.rdf.index import Index
from kg.rdf.terms import XSD_STRING, Lit, Obj, resolve_iri

__all__ = ["parse_jsonld"]

_TYPE = str(RDF.type)
_REMOTE = re.compile(rb'"@(?:context|import)"\s*:\s*(?:\[\s*)?"([^"\\]*)"')
"""A context or import given by reference: ``"@context": "URL"`` or ``"@context": ["URL", ...]``."""
_NOT_FETCHED = N_("contexts are never fetched; write the context into the document (kg export embeds "
                   "ontology/context.jsonld)")


class _Unsupported(Exception):
    """The JSON-LD document uses a feature the fast path does not implement."""


_JSONLD_TERM_KEYS = {"@id", "@type"}


class _JsonLd:
    """Expands the flat JSON-LD shape (see the module docs) into an :class:`Index`."""

    def __init__(self, index: Index, base: str) -> None:
        self.index = index
        self.base = base
        self.vocab: str | None = None
        self.terms: dict[str, tuple[str, str | None]] = {}
        self.bnodes = 0
        self.cache: dict[tuple[str, bool], str] = {}

    def context(self, ctx: Any) -> None:
        for item in ctx if isinstance(ctx, list) else [ctx]:
            if not isinstance(item, dict):
                raise _Unsupported("remote or null context")
            for key, definition in item.items():
                if key == "@vocab":
                    self.vocab = str(definition)
                elif key == "@version":
                    continue
                elif key.startswith("@"):
                    raise _Unsupported(key)
                elif isinstance(definition, str):
                    self.terms[key] = (definition, None)
                elif isinstance(definition, dict) and set(definition) <= _JSONLD_TERM_KEYS and "@id" in definition:
                    self.terms[key] = (str(definition["@id"]), definition.get("@type"))
                else:
                    raise _Unsupported(f"term definition of {key!r}")
        raw, self.terms = self.terms, {}
        self.cache.clear()
        for key in raw:
            self.resolve_iri(key, raw, set())

    def resolve_iri(self, key: str, raw: dict[str, tuple[str, str | None]], seen: set[str]) -> None:
        """Resolve one term definition, first resolving the terms it is written with."""
        if key in self.terms:
            return
        if key in seen:
            raise _Unsupported(f"cyclic term definition {key!r}")
        seen.add(key)
        iri, coercion = raw[key]
        for name in (iri.partition(":")[0] if ":" in iri else iri,
                     str(coercion).partition(":")[0] if coercion else ""):
            if name in raw and name != key:
                self.resolve_iri(name, raw, seen)
        expanded = self._expand(iri, vocab=True) if iri != key else iri
        if coercion not in (None, "@id", "@vocab"):
            coercion = self._expand(str(coercion), vocab=True)
        self.terms[key] = (expanded, coercion)

    def iri(self, value: str, *, vocab: bool) -> str:
        key = (value, vocab)
        found = self.cache.get(key)
        if found is None:
            found = self.cache[key] = self.index.intern(self._expand(value, vocab=vocab))
        return found

    def _expand(self, value: str, *, vocab: bool) -> str:
        if vocab and value in self.terms:
            return self.terms[value][0]
        prefix, sep, rest = value.partition(":")
        if sep:
            if prefix == "_":
                return "_:d" + rest
            if not rest.startswith("//") and prefix in self.terms:
                return self.terms[prefix][0] + rest
            return value
        if vocab and self.vocab is not None:
            return self.vocab + value
        return resolve_iri(self.base, value)

    def node(self, obj: dict[str, Any]) -> str:
        subject: str
        if "@id" in obj:
            subject = self.iri(str(obj["@id"]), vocab=False)
        else:
            self.bnodes += 1
            subject = f"_:j{self.bnodes}"
        types = obj.get("@type", [])
        for t in types if isinstance(types, list) else [types]:
            self.index.add(subject, _TYPE, self.iri(str(t), vocab=True))
        for key, value in obj.items():
            if key in ("@id", "@type"):
                continue
            if key.startswith("@"):
                raise _Unsupported(key)
            predicate, coercion = self.terms.get(key, (self.iri(key, vocab=True), None))
            if predicate.startswith("@") or ":" not in predicate:
                raise _Unsupported(f"key {key!r}")
            for item in value if isinstance(value, list) else [value]:
                obj_term = self.value(item, coercion)
                if obj_term is not None:
                    self.index.add(subject, predicate, obj_term)
        return subject

    def value(self, item: Any, coercion: str | None) -> Obj | None:
        if item is None:
            return None
        if isinstance(item, dict):
            if "@value" in item:
                if not set(item) <= {"@value", "@type", "@language"}:
                    raise _Unsupported("value object")
                lexical = item["@value"]
                if not isinstance(lexical, str):
                    raise _Unsupported("native value in a value object")
                if "@language" in item:
                    return Lit(lexical, None, str(item["@language"]))
                datatype = self.iri(str(item["@type"]), vocab=True) if "@type" in item else None
                return Lit(lexical, None if datatype == XSD_STRING else datatype)
            if "@list" in item or "@set" in item:
                raise _Unsupported("@list/@set")
            return self.node(item)
        if isinstance(item, (bool, int, float)):
            raise _Unsupported("native JSON value")
        if isinstance(item, list):
            raise _Unsupported("nested array")
        text = str(item)
        if coercion == "@id":
            return self.iri(text, vocab=False)
        if coercion == "@vocab":
            return self.iri(text, vocab=True)
        return Lit(text, None if coercion in (None, XSD_STRING) else coercion)


def parse_jsonld(raw: bytes, source: str, *, base: str = "") -> Index:
    """Parse a JSON-LD document (fast path, else pyoxigraph) into a new index.

    Raises :class:`~kg.errors.ValidationError` naming ``FILE:LINE:COLUMN`` for
    invalid JSON, and ``FILE:LINE`` for a context given by URL (never fetched).
    """
    try:
        text = raw.decode("utf-8").removeprefix("\ufeff")
    except UnicodeDecodeError as exc:
        line = raw.count(b"\n", 0, exc.start) + 1
        raise ValidationError([Problem(f"{source}:{line}", _l("invalid UTF-8; RDF files must be UTF-8"))]) from None
    remote = _REMOTE.search(raw)
    if remote is not None:
        line = raw.count(b"\n", 0, remote.start()) + 1
        url = remote.group(1)[:200].decode("utf-8", "replace")
        raise ValidationError([Problem(f"{source}:{line}", _l("JSON-LD error: the context {url} is given by reference; "
                                                              "{advice}", url=repr(url), advice=_l(_NOT_FETCHED)))])
    try:
        return _fast_path(text, source, base)
    except json.JSONDecodeError as exc:
        raise ValidationError([Problem(f"{source}:{exc.lineno}:{exc.colno}",
                                       _l("JSON syntax error: {detail}", detail=exc.msg))]) from None
    except (_Unsupported, RecursionError, ValueError):
        # RecursionError: nested deeper than ``json`` (or the expansion) goes; ValueError: an integer of
        # more than sys.get_int_max_str_digits() digits. pyoxigraph reads both, or says where they fail.
        return _library(raw, source, base)


def _fast_path(text: str, source: str, base: str) -> Index:
    doc = json.loads(text)
    index = Index(source)
    reader = _JsonLd(index, base)
    if isinstance(doc, dict):
        reader.context(doc.get("@context", {}))
        nodes = doc.get("@graph", None)
        if nodes is None:
            nodes = [{k: v for k, v in doc.items() if k != "@context"}]
        elif set(doc) - {"@context", "@graph"}:
            raise _Unsupported("top-level keys beside @graph")
    else:
        nodes = doc
    if not isinstance(nodes, list):
        raise _Unsupported("@graph is not a list")
    for node in nodes:
        if not isinstance(node, dict):
            raise _Unsupported("non-object in @graph")
        reader.node(node)
    return index


def _library(raw: bytes, source: str, base: str) -> Index:
    """pyoxigraph's complete JSON-LD 1.1 parser, with no document loader (nothing is fetched)."""
    index = Index(source)
    try:
        for s, p, o, _graph in ox.parse(input=raw.removeprefix(b"\xef\xbb\xbf"), format=ox.RdfFormat.JSON_LD,
                                        base_iri=base or None):
            subject = _term(s, source)
            assert isinstance(subject, str)  # an IRI or a blank node
            index.add(subject, p.value, _term(o, source))
    except SyntaxError as exc:
        detail = re.sub(r"^Parser error at line \d+ column \d+: ", "", exc.msg or str(exc))
        if exc.lineno:
            where = f"{source}:{exc.lineno}" + (f":{exc.offset}" if exc.offset else "")
            raise ValidationError([Problem(where, _l("JSON syntax error: {detail}", detail=detail))]) from None
        if "LoadDocumentCallback" in detail:  # a context by reference that the scan above did not see
            raise ValidationError([Problem(source, _l("JSON-LD error: a context is given by reference; {advice}",
                                                      advice=_l(_NOT_FETCHED)))]) from None
        raise ValidationError([Problem(source, _l("JSON-LD error: {detail}", detail=detail))]) from None
    return index


def _term(term: object, source: str) -> Obj:
    if isinstance(term, ox.Literal):
        if term.language is not None:
            return Lit(term.value, None, term.language)
        datatype = term.datatype.value
        return Lit(term.value, None if datatype == XSD_STRING else datatype)
    if isinstance(term, ox.BlankNode):
        return "_:" + term.value
    if isinstance(term, ox.NamedNode):
        return term.value
    raise ValidationError([Problem(source, _l("JSON-LD error: a triple term (JSON-LD-star) is not read"))])
