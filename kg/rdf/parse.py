"""Read Turtle, N-Triples and JSON-LD files into an :class:`~kg.rdf.index.Index`.

rdflib's parsers are correct but slow (about 10,000 triples/s for Turtle on the
CI machine, 3.3 million triples for a 100k-asset city), so this module reads
Turtle and N-Triples (a subset of Turtle) with its own scanner: one compiled
regular expression finds the next token, a small recursive-descent parser
follows the Turtle 1.1 grammar (prefixes, base, ``a``, ``;`` and ``,`` lists,
blank node property lists, collections, long strings, numbers, booleans).
A syntax error names the file, line and column.

JSON-LD is read with :mod:`json` and expanded here when the document is the
common flat shape (a ``@context`` of prefixes, ``@vocab`` and term definitions
with ``@id``/``@type``, and a ``@graph`` of node objects, as ``kg export``
writes). Anything else (remote contexts, ``@list``, ``@reverse``, containers,
...) is handed to rdflib's JSON-LD parser, which implements the whole spec.
"""

from __future__ import annotations

import bisect
import json
import re
import warnings
from collections.abc import Callable
from pathlib import Path
from typing import Any
from urllib.parse import urljoin

from rdflib import Graph

from kg.errors import Problem, ValidationError
from kg.load.sources import RDF_SUFFIXES
from kg.namespaces import RDF, XSD
from kg.rdf.index import Index, from_rdflib
from kg.rdf.terms import XSD_STRING, Lit, Obj

__all__ = ["RDF_FORMATS", "parse_file", "parse_jsonld", "parse_turtle", "rdf_format"]

RDF_FORMATS = {suffix: {".nt": "nt", ".jsonld": "json-ld"}.get(suffix, "turtle") for suffix in RDF_SUFFIXES}
"""File suffix (:data:`kg.load.sources.RDF_SUFFIXES`) -> RDF syntax read by :func:`parse_file`."""

_TYPE, _FIRST, _REST, _NIL = str(RDF.type), str(RDF.first), str(RDF.rest), str(RDF.nil)
_XSD = str(XSD)

_PN_CHARS_BASE = r"A-Za-z\u00C0-\u00D6\u00D8-\u00F6\u00F8-\u02FF\u0370-\u037D\u037F-\u1FFF\u200C-\u200D" \
    r"\u2070-\u218F\u2C00-\u2FEF\u3001-\uD7FF\uF900-\uFDCF\uFDF0-\uFFFD\U00010000-\U000EFFFF"
_PN_CHARS_U = _PN_CHARS_BASE + "_"
_PN_CHARS = _PN_CHARS_U + r"\-0-9\u00B7\u0300-\u036F\u203F-\u2040"
_PLX = r"%[0-9A-Fa-f]{2}|\\[_~.\-!$&'()*+,;=/?#@%]"
_PN_PREFIX = rf"[{_PN_CHARS_BASE}](?:[{_PN_CHARS}.]*[{_PN_CHARS}])?"
_PN_LOCAL = rf"(?:[{_PN_CHARS_U}:0-9]|{_PLX})(?:(?:[{_PN_CHARS}.:]+|{_PLX})*(?:[{_PN_CHARS}:]|{_PLX}))?"
_ECHAR = r"\\[tbnrf\"'\\]|\\u[0-9A-Fa-f]{4}|\\U[0-9A-Fa-f]{8}"

# Whitespace and comments, then one token; finditer() walks the text in C.
_TOKEN = re.compile(
    rf"""
    (?:[ \t\r\n]+|\#[^\r\n]*)*
    (?:
    (?P<iri><(?:[^\x00-\x20<>"{{}}|^`\\]+|\\u[0-9A-Fa-f]{{4}}|\\U[0-9A-Fa-f]{{8}})*>)
  | (?P<pname>(?:{_PN_PREFIX})?:(?:{_PN_LOCAL})?)
  | (?P<bnode>_:[{_PN_CHARS_U}0-9](?:[{_PN_CHARS}.]*[{_PN_CHARS}])?)
  | (?P<long2>\"\"\"(?:[^"\\]+|{_ECHAR}|"(?!""))*\"\"\")
  | (?P<long1>'''(?:[^'\\]+|{_ECHAR}|'(?!''))*''')
  | (?P<str2>"(?:[^"\\\n\r]+|{_ECHAR})*")
  | (?P<str1>'(?:[^'\\\n\r]+|{_ECHAR})*')
  | (?P<directive>@prefix\b|@base\b)
  | (?P<lang>@[a-zA-Z]+(?:-[a-zA-Z0-9]+)*)
  | (?P<caret>\^\^)
  | (?P<double>[+-]?(?:[0-9]+\.[0-9]*[eE][+-]?[0-9]+|\.[0-9]+[eE][+-]?[0-9]+|[0-9]+[eE][+-]?[0-9]+))
  | (?P<decimal>[+-]?[0-9]*\.[0-9]+)
  | (?P<integer>[+-]?[0-9]+)
  | (?P<word>[A-Za-z]+)
  | (?P<punct>[.;,\[\]()])
  | (?P<eof>\Z)
  | (?P<error>.)
    )
    """,
    re.VERBOSE,
)
_ESCAPE = re.compile(_ECHAR)
_SIMPLE_ESCAPES = {"t": "\t", "b": "\b", "n": "\n", "r": "\r", "f": "\f", '"': '"', "'": "'", "\\": "\\"}
_LOCAL_ESCAPE = re.compile(r"\\([_~.\-!$&'()*+,;=/?#@%])")


_SCHEME = re.compile(r"[A-Za-z][A-Za-z0-9+.-]*:")


def _resolve(base: str, iri: str) -> str:
    """``iri`` made absolute against ``base`` (an absolute IRI is kept exactly, empty fragment and all)."""
    if _SCHEME.match(iri) or not base:
        return iri
    joined = urljoin(base, iri)
    return joined + "#" if iri.endswith("#") and not joined.endswith("#") else joined


def _unescape(text: str) -> str:
    if "\\" not in text:
        return text

    def one(m: re.Match[str]) -> str:
        code = m.group(0)
        if code[1] in "uU":
            return chr(int(code[2:], 16))
        return _SIMPLE_ESCAPES[code[1]]

    return _ESCAPE.sub(one, text)


class TurtleSyntaxError(Exception):
    """A syntax error at a character offset."""

    def __init__(self, pos: int, message: str) -> None:
        super().__init__(message)
        self.pos = pos
        self.message = message


class _Turtle:
    """Recursive-descent Turtle parser feeding an :class:`Index`."""

    def __init__(self, text: str, index: Index, base: str) -> None:
        self.text = text
        self.index = index
        self.base = base
        self.prefixes: dict[str, str] = {}
        self.newlines = [m.start() for m in re.finditer("\n", text)]
        self.tokens = _TOKEN.finditer(text)
        self.kind = ""
        self.value = ""
        self.match: re.Match[str] | None = None
        self.iris: dict[str, str] = {}
        self.bnodes = 0
        self.line = 0
        self._advance()

    # ------------------------------------------------------------------ tokens
    def line_of(self, pos: int) -> int:
        """1-based line number of a character offset."""
        return bisect.bisect_right(self.newlines, pos - 1) + 1

    def _advance(self) -> None:
        m = next(self.tokens, None)
        if m is None:
            self.kind, self.value = "eof", ""
            return
        self.match = m
        kind = self.kind = m.lastgroup or "eof"
        self.value = m.group(kind)
        if kind == "error":
            snippet = self.text[self.start:self.start + 20].split("\n")[0]
            raise TurtleSyntaxError(self.start, f"unexpected text {snippet!r}")

    @property
    def start(self) -> int:
        """Offset of the current token."""
        if self.match is None or self.kind == "eof":
            return len(self.text)
        return self.match.start(self.kind)

    def _fail(self, expected: str) -> TurtleSyntaxError:
        found = "the end of the file" if self.kind == "eof" else repr(self.value[:40])
        return TurtleSyntaxError(self.start, f"expected {expected}, found {found}")

    def _punct(self, char: str) -> bool:
        if self.kind == "punct" and self.value == char:
            self._advance()
            return True
        return False

    def _expect(self, char: str, what: str) -> None:
        if not self._punct(char):
            raise self._fail(what)

    # ------------------------------------------------------------------ terms
    def _iri(self) -> str | None:
        kind, value = self.kind, self.value
        if kind != "iri" and kind != "pname":
            return None
        # The same names come back endlessly: resolve each token text once.
        known = self.iris.get(value)
        if known is not None:
            self._advance()
            return known
        if kind == "iri":
            iri = _resolve(self.base, _unescape(value[1:-1]))
        elif kind == "pname":
            prefix, _, local = value.partition(":")
            if prefix not in self.prefixes:
                raise TurtleSyntaxError(self.start, f"undeclared prefix {prefix + ':'!r}; declare it with "
                                        f"@prefix {prefix}: <...> .")
            iri = self.prefixes[prefix] + (_LOCAL_ESCAPE.sub(r"\1", local) if "\\" in local else local)
        iri = self.iris[value] = self.index.intern(iri)
        self._advance()
        return iri

    def _new_bnode(self) -> str:
        self.bnodes += 1
        return f"_:b{self.bnodes}"

    def _subject(self) -> str:
        iri = self._iri()
        if iri is not None:
            return iri
        if self.kind == "bnode":
            label = "_:x" + self.value[2:]
            self._advance()
            return label
        if self._punct("["):
            node = self._new_bnode()
            if not self._punct("]"):
                self._predicate_objects(node)
                self._expect("]", "']' closing the blank node")
            return node
        if self._punct("("):
            return self._collection()
        raise self._fail("a subject (an IRI, a prefixed name or a blank node)")

    def _collection(self) -> str:
        items: list[Obj] = []
        while not self._punct(")"):
            if self.kind == "eof":
                raise self._fail("')' closing the collection")
            items.append(self._object())
        head = _NIL
        for item in reversed(items):
            node = self._new_bnode()
            self.index.add(node, _FIRST, item, self.line)
            self.index.add(node, _REST, head, self.line)
            head = node
        return head

    def _literal(self) -> Lit | None:
        kind, value = self.kind, self.value
        if kind in ("str2", "str1"):
            lexical = _unescape(value[1:-1])
        elif kind in ("long2", "long1"):
            lexical = _unescape(value[3:-3])
        elif kind in ("integer", "decimal", "double"):
            self._advance()
            return Lit(value, _XSD + kind)
        elif kind == "word" and value in ("true", "false"):
            self._advance()
            return Lit(value, _XSD + "boolean")
        else:
            return None
        self._advance()
        if self.kind == "lang":
            lang = self.value[1:]
            self._advance()
            return Lit(lexical, None, lang)
        if self.kind == "caret":
            self._advance()
            datatype = self._iri()
            if datatype is None:
                raise self._fail("a datatype IRI after '^^'")
            return Lit(lexical, None if datatype == XSD_STRING else datatype)
        return Lit(lexical)

    def _object(self) -> Obj:
        literal = self._literal()
        if literal is not None:
            return literal
        return self._subject()

    def _predicate_objects(self, subject: str) -> None:
        while True:
            if self.kind == "word" and self.value == "a":
                self._advance()
                predicate = _TYPE
            else:
                found = self._iri()
                if found is None:
                    raise self._fail("a predicate (an IRI, a prefixed name or 'a')")
                predicate = found
            while True:
                obj = self._object()
                self.index.add(subject, predicate, obj, self.line)
                if not self._punct(","):
                    break
            if not self._punct(";"):
                return
            while self._punct(";"):
                pass
            if self.kind == "punct" and self.value in ".]":
                return

    # ------------------------------------------------------------------ statements
    def _directive(self, sparql: bool) -> None:
        keyword = self.value.lower().lstrip("@")
        self.iris.clear()  # a new prefix or base changes what names mean from here on
        self._advance()
        if keyword == "prefix":
            if self.kind != "pname" or not self.value.endswith(":"):
                raise self._fail("a prefix name such as 'ckg:'")
            name = self.value[:-1]
            self._advance()
            if self.kind != "iri":
                raise self._fail("the namespace IRI in <...>")
            iri = _unescape(self.value[1:-1])
            self.prefixes[name] = _resolve(self.base, iri)
            self._advance()
        else:
            if self.kind != "iri":
                raise self._fail("the base IRI in <...>")
            self.base = _resolve(self.base, _unescape(self.value[1:-1]))
            self._advance()
        if not sparql:
            self._expect(".", "'.' after the directive")

    def parse(self) -> None:
        while self.kind != "eof":
            if self.kind == "directive":
                self._directive(sparql=False)
                continue
            if self.kind == "word" and self.value.lower() in ("prefix", "base"):
                self._directive(sparql=True)
                continue
            self.line = self.line_of(self.start)
            bnode_list = self.kind == "punct" and self.value == "["
            subject = self._subject()
            if bnode_list and self.kind == "punct" and self.value == ".":
                self._advance()
                continue
            self._predicate_objects(subject)
            self._expect(".", "'.' at the end of the statement (or ';' / ',' to continue it)")


def parse_turtle(text: str, source: str, *, base: str = "") -> Index:
    """Parse Turtle (or N-Triples) ``text`` into a new index.

    Raises :class:`~kg.errors.ValidationError` naming ``FILE:LINE:COLUMN`` on a syntax error.
    """
    index = Index(source)
    parser = _Turtle(text, index, base)
    try:
        parser.parse()
    except TurtleSyntaxError as exc:
        line = parser.line_of(exc.pos)
        column = exc.pos - (parser.newlines[line - 2] + 1 if line > 1 else 0) + 1
        raise ValidationError([Problem(f"{source}:{line}:{column}",
                                       f"Turtle syntax error: {exc.message}")]) from None
    return index


# ---------------------------------------------------------------------- JSON-LD


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
            self._resolve(key, raw, set())

    def _resolve(self, key: str, raw: dict[str, tuple[str, str | None]], seen: set[str]) -> None:
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
                self._resolve(name, raw, seen)
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
        return _resolve(self.base, value)

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


def parse_jsonld(text: str, source: str, *, base: str = "") -> Index:
    """Parse JSON-LD ``text`` (fast path, else rdflib's full processor) into a new index.

    Raises :class:`~kg.errors.ValidationError` naming ``FILE:LINE:COLUMN`` for invalid JSON.
    """
    try:
        doc = json.loads(text)
    except json.JSONDecodeError as exc:
        raise ValidationError([Problem(f"{source}:{exc.lineno}:{exc.colno}",
                                       f"JSON syntax error: {exc.msg}")]) from None
    index = Index(source)
    try:
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
    except _Unsupported:
        index = Index(source)
        graph = Graph()
        try:
            with warnings.catch_warnings():  # rdflib's JSON-LD parser uses its own deprecated ConjunctiveGraph
                warnings.simplefilter("ignore", DeprecationWarning)
                graph.parse(data=text, format="json-ld", publicID=base or None)
        except Exception as exc:  # rdflib raises many kinds; all mean the same to the user
            raise ValidationError([Problem(source, f"JSON-LD error: {exc}")]) from None
        for s, p, o in graph:
            index.add(str(from_rdflib(s)), str(p), from_rdflib(o))
    return index


def rdf_format(path: Path) -> str | None:
    """The RDF syntax of a file from its suffix (``turtle``, ``nt``, ``json-ld``), or None."""
    return RDF_FORMATS.get(path.suffix.lower())


def parse_file(path: Path, *, progress: Callable[[int], None] | None = None) -> Index:
    """Parse an RDF file (its syntax chosen by suffix) into a new index.

    Raises :class:`~kg.errors.ValidationError` for an unknown suffix, a file that
    is not UTF-8, or a syntax error (naming the file and line).
    """
    fmt = rdf_format(path)
    if fmt is None:
        raise ValidationError([Problem(str(path), "not an RDF file; expected a .ttl, .nt or .jsonld suffix")])
    raw = path.read_bytes()
    if progress is not None:
        progress(len(raw))
    try:
        text = raw.decode("utf-8").removeprefix("\ufeff")
    except UnicodeDecodeError as exc:
        line = raw.count(b"\n", 0, exc.start) + 1
        raise ValidationError([Problem(f"{path}:{line}", "invalid UTF-8; RDF files must be UTF-8")]) from None
    del raw
    base = path.resolve().as_uri()
    if fmt == "json-ld":
        return parse_jsonld(text, str(path), base=base)
    return parse_turtle(text, str(path), base=base)
