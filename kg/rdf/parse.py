"""Read Turtle, N-Triples and JSON-LD files into an :class:`~kg.rdf.index.Index`.

rdflib's parsers are correct but slow (127 CPU seconds and 4 GB to read the
3.3 million Turtle triples of a 100k-asset city into a ``Graph``), so this module reads
Turtle and N-Triples (a subset of Turtle) with its own scanner: one compiled
regular expression finds the next token, a small recursive-descent parser
follows the Turtle 1.1 grammar (prefixes, base, ``a``, ``;`` and ``,`` lists,
blank node property lists, collections, long strings, numbers, booleans).
A syntax error names the file, line and column. N-Triples files are read a
chunk of whole lines at a time, so their text is never held at once.

JSON-LD is read by :mod:`kg.rdf.jsonld`.
"""

from __future__ import annotations

import bisect
import re
from collections.abc import Callable
from pathlib import Path

from kg.errors import Problem, ValidationError
from kg.load.sources import RDF_SUFFIXES
from kg.namespaces import RDF, XSD
from kg.rdf.index import Index
from kg.rdf.jsonld import parse_jsonld
from kg.rdf.terms import XSD_STRING, Lit, Obj, resolve_iri

__all__ = ["RDF_FORMATS", "parse_file", "parse_turtle", "rdf_format"]

RDF_FORMATS = {suffix: {".nt": "nt", ".jsonld": "json-ld"}.get(suffix, "turtle") for suffix in RDF_SUFFIXES}
"""File suffix (:data:`kg.load.sources.RDF_SUFFIXES`) -> RDF syntax read by :func:`parse_file`."""

_NT_CHUNK = 8 << 20  # bytes of N-Triples parsed at a time
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

    def __init__(self, text: str, index: Index, base: str, first_line: int = 1) -> None:
        self.text = text
        self.index = index
        self.base = base
        self.first_line = first_line
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
        """Line number (in the file) of a character offset of the text."""
        return bisect.bisect_right(self.newlines, pos - 1) + self.first_line

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
            iri = resolve_iri(self.base, _unescape(value[1:-1]))
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
            self.prefixes[name] = resolve_iri(self.base, iri)
            self._advance()
        else:
            if self.kind != "iri":
                raise self._fail("the base IRI in <...>")
            self.base = resolve_iri(self.base, _unescape(self.value[1:-1]))
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
    _parse_into(text, index, base)
    return index


def _parse_into(text: str, index: Index, base: str, first_line: int = 1) -> None:
    parser = _Turtle(text, index, base, first_line)
    try:
        parser.parse()
    except TurtleSyntaxError as exc:
        local = parser.line_of(exc.pos) - first_line  # 0-based line within this text
        column = exc.pos - (parser.newlines[local - 1] + 1 if local > 0 else 0) + 1
        raise ValidationError([Problem(f"{index.source}:{local + first_line}:{column}",
                                       f"Turtle syntax error: {exc.message}")]) from None


def _parse_ntriples(path: Path, base: str, progress: Callable[[int], None] | None) -> Index:
    """N-Triples, a chunk of whole lines at a time: a statement never spans lines, so the
    text of a 100k-asset city (470 MB) is never held at once."""
    index = Index(str(path))
    first_line = 1
    with path.open("rb") as stream:
        while True:
            lines = stream.readlines(_NT_CHUNK)
            if not lines:
                return index
            raw = b"".join(lines)
            if progress is not None:
                progress(len(raw))
            _parse_into(_decode(raw, path, first_line), index, base, first_line)
            first_line += len(lines)


def _decode(raw: bytes, path: Path, first_line: int = 1) -> str:
    try:
        return raw.decode("utf-8").removeprefix("\ufeff")
    except UnicodeDecodeError as exc:
        line = raw.count(b"\n", 0, exc.start) + first_line
        raise ValidationError([Problem(f"{path}:{line}", "invalid UTF-8; RDF files must be UTF-8")]) from None


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
    base = path.resolve().as_uri()
    if fmt == "nt":
        return _parse_ntriples(path, base, progress)
    raw = path.read_bytes()
    if progress is not None:
        progress(len(raw))
    text = _decode(raw, path)
    del raw
    if fmt == "json-ld":
        return parse_jsonld(text, str(path), base=base)
    return parse_turtle(text, str(path), base=base)
