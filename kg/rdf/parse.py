"""Read RDF files into an :class:`~kg.rdf.index.Index`, with the line where each subject is described.

Turtle, N-Triples, N-Quads and TriG are parsed by pyoxigraph (Oxigraph's Rust
parsers): linear in the size of the input, with no regular-expression
backtracking and no recursion (50,000 nested blank nodes parse in
milliseconds), and strict about what they accept (IRIs, escapes, relative
IRIs in N-Triples; the W3C test suites pass). A syntax error comes back with
its line and column and becomes ``FILE:LINE:COLUMN: Turtle syntax error: ...``.

pyoxigraph does not say where a parsed triple was, so the file is handed to it
one line at a time (:class:`_LineReader`): the parser gives each triple as soon
as it has read it, so the line being read at that moment is the line of the
triple, and a subject is located at its first triple (the line of its first
statement). That costs about a fifth of the parse and never holds more than
one line of the file.

Named graphs (N-Quads, TriG) are merged into one graph. JSON-LD is read by
:mod:`kg.rdf.jsonld`. RDF/XML (``.rdf``, ``.xml``, ``.owl``) is read by
pyoxigraph too, once :func:`~kg.rdf.xml_entities.check_entities` has bounded
what its XML entities can expand to (pyoxigraph expands them, nested ones
included). pyoxigraph's RDF/XML errors carry no position: they are placed at
the line being read when the parser stopped.

Examples
--------
>>> index = parse_turtle('<urn:s> <urn:p> "o" ;\\n    <urn:q> 1 .\\n<urn:t> <urn:p> "x"@en .', "x.ttl")
>>> index.count, index.where("urn:t")
(3, 'x.ttl:3 <urn:t>')
>>> parse_turtle('<urn:s> <urn:p> "a\\nb" .', "x.ttl")  # doctest: +ELLIPSIS
Traceback (most recent call last):
...
kg.errors.ValidationError: x.ttl:1:19: Turtle syntax error: line jumps are not allowed in string literals...
"""

from __future__ import annotations

import io
import re
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO, NoReturn, cast

import pyoxigraph as ox

from kg.errors import Problem, ValidationError
from kg.i18n import N_, Message, _l
from kg.namespaces import XSD
from kg.rdf.index import Index
from kg.rdf.jsonld import parse_jsonld
from kg.rdf.suffixes import RDF_SUFFIXES
from kg.rdf.terms import Lit, Obj
from kg.rdf.xml_entities import check_entities

__all__ = ["RDF_FORMATS", "Syntax", "parse_file", "parse_turtle", "rdf_format"]

Tick = Callable[[int], None]
"""Called now and then during a parse with the number of bytes read since the last call."""


@dataclass(frozen=True)
class Syntax:
    """An RDF syntax read by :func:`parse_file`: its name, pyoxigraph's format, what to tell people."""

    name: str
    format: ox.RdfFormat | None
    """None for JSON-LD, which :mod:`kg.rdf.jsonld` reads."""
    expected: str
    """What a file of this syntax must hold, for error messages (marked for translation where shown)."""
    family: str = "Turtle"
    """The word before "syntax error" (N-Triples, N-Quads and TriG are the Turtle family)."""


_TURTLE = Syntax("Turtle", ox.RdfFormat.TURTLE, "Turtle 1.1")
_RDF_XML = Syntax("RDF/XML", ox.RdfFormat.RDF_XML, N_("RDF/XML 1.1 (one rdf:RDF element, entities declared in "
                                                      "<!DOCTYPE ... [ ]> only)"), family="RDF/XML")
RDF_FORMATS: dict[str, Syntax] = {
    ".ttl": _TURTLE,
    ".turtle": _TURTLE,
    ".nt": Syntax("N-Triples", ox.RdfFormat.N_TRIPLES,
                  N_("N-Triples (one triple per line, absolute IRIs only; the line-based subset of Turtle)")),
    ".nq": Syntax("N-Quads", ox.RdfFormat.N_QUADS, N_("N-Quads (one triple or quad per line, absolute IRIs only)")),
    ".trig": Syntax("TriG", ox.RdfFormat.TRIG, N_("TriG (Turtle with named graphs)")),
    ".jsonld": Syntax("JSON-LD", None, "JSON-LD 1.1", family="JSON-LD"),
    **dict.fromkeys((".rdf", ".xml", ".owl"), _RDF_XML),
}
"""File suffix -> the syntax :func:`parse_file` reads it as (the suffixes are :data:`~kg.rdf.suffixes.RDF_SUFFIXES`)."""
if set(RDF_FORMATS) != RDF_SUFFIXES:
    raise RuntimeError("kg.rdf.parse needs one syntax per RDF suffix the loader accepts")

_LINE_LIMIT = 1 << 20
"""Longest piece of a line handed to the parser at once (a one-line file is read in pieces)."""
_TICK_EVERY = 4096
"""Triples between two calls of the progress/deadline callback."""
_XSD_STRING = str(XSD.string)
_UNDECLARED = re.compile(r"^the prefix (\S*) has not been declared$")
_POSITION = re.compile(r"^Parser error (?:at line \d+ (?:column \d+|between columns \d+ and \d+)|"
                       r"between line \d+ column \d+ and line \d+ column \d+): ")


class _LineReader:
    """A binary stream as pyoxigraph reads it, one line per ``read()``, counting lines.

    ``line`` is the number of the line the last bytes handed out belong to; a
    byte-order mark at the start is dropped (pyoxigraph refuses it).
    """

    def __init__(self, stream: BinaryIO) -> None:
        self.stream = stream
        self.line = 0
        self._rest: bytes | memoryview = b""
        self._line_ends = True

    def read(self, size: int = -1) -> bytes:
        rest = self._rest
        if not rest:
            rest = self.stream.readline(_LINE_LIMIT)
            if not rest:
                return b""
            if self._line_ends:
                self.line += 1
                if self.line == 1 and rest.startswith(b"\xef\xbb\xbf"):
                    rest = rest[3:]
            self._line_ends = rest.endswith(b"\n")
        if 0 <= size < len(rest):
            # A line longer than asked for: hand it out in pieces, without copying the rest each time.
            self._rest = memoryview(rest)[size:]
            return bytes(rest[:size])
        self._rest = b""
        return bytes(rest) if isinstance(rest, memoryview) else rest


def _triple_term(index: Index, reader: _LineReader) -> NoReturn:
    raise ValidationError([Problem(f"{index.source}:{reader.line}", _l("a triple term (RDF 1.2 '<<( ... )>>' or "
                                                                       "'<< ... >>') is not read; state the triple "
                                                                       "itself"))])


def _lang_literal(term: ox.Literal, index: Index, reader: _LineReader) -> Lit:
    if term.direction is not None:
        raise ValidationError([Problem(f"{index.source}:{reader.line}", _l(
            "a literal with a base direction (RDF 1.2, @{language}--{direction}) is not read; drop the direction",
            language=term.language, direction=term.direction))])
    return Lit(term.value, None, term.language)


def _syntax_problem(exc: SyntaxError, source: str, syntax: Syntax, line: int) -> Problem:
    """``FILE:LINE:COLUMN: Turtle syntax error: ...`` from pyoxigraph's error.

    ``line`` is the line being read when the parser stopped, for errors that carry no position (RDF/XML's).
    """
    detail = _POSITION.sub("", exc.msg or str(exc)).strip()
    detail = re.sub(r" \(line \d+\)$", "", detail)
    if detail[:1].isupper() and detail[1:2].islower():
        detail = detail[0].lower() + detail[1:]
    where = source
    if exc.lineno:
        where = f"{source}:{exc.lineno}" + (f":{exc.offset}" if exc.offset else "")
    elif line:
        where = f"{source}:{line}"
    if detail.startswith("invalid UTF-8"):
        return Problem(where, _l("invalid UTF-8; RDF files must be UTF-8 ({detail})", detail=detail))
    undeclared = _UNDECLARED.match(detail)
    said: str | Message = detail  # the parser's own words (English) are data
    if undeclared:
        prefix = undeclared.group(1)
        said = _l("undeclared prefix {quoted}; declare it with @prefix {prefix} <...> .", quoted=repr(prefix),
                  prefix=prefix)
    return Problem(where, _l("{family} syntax error: {detail}; expected {expected}", family=syntax.family,
                             detail=said, expected=_l(syntax.expected)))


def _parse_stream(stream: BinaryIO, index: Index, syntax: Syntax, base: str | None, tick: Tick | None) -> None:
    """Parse ``stream`` into ``index``; raise :class:`ValidationError` at the first syntax error."""
    assert syntax.format is not None
    reader = _LineReader(stream)
    add, shared = index.add, index.strings.setdefault
    named, blank, literal = ox.NamedNode, ox.BlankNode, ox.Literal
    count = 0
    reported = stream.tell()
    obj: Obj
    try:
        # The hot loop (a million triples): type() tests rather than isinstance, one shared string per IRI.
        for quad in ox.parse(input=cast(BinaryIO, reader), format=syntax.format, base_iri=base):
            s, o = quad.subject, quad.object
            kind = type(s)
            subject = s.value if kind is named else "_:" + s.value if kind is blank else _triple_term(index, reader)
            kind = type(o)
            if kind is named:
                value = o.value
                obj = shared(value, value)
            elif kind is literal:
                if o.language is None:
                    datatype = o.datatype.value
                    obj = Lit(o.value, None if datatype == _XSD_STRING else shared(datatype, datatype))
                else:
                    obj = _lang_literal(o, index, reader)
            elif kind is blank:
                obj = "_:" + o.value
            else:
                _triple_term(index, reader)
            add(subject, quad.predicate.value, obj, reader.line)
            count += 1
            if tick is not None and count % _TICK_EVERY == 0:
                now = stream.tell()
                tick(now - reported)
                reported = now
    except SyntaxError as exc:
        raise ValidationError([_syntax_problem(exc, index.source, syntax, reader.line)]) from None
    if tick is not None:
        tick(stream.tell() - reported)


def parse_turtle(text: str, source: str, *, base: str = "") -> Index:
    """Parse Turtle ``text`` into a new index (``source`` names it in messages).

    Raises :class:`~kg.errors.ValidationError` naming ``FILE:LINE:COLUMN`` on a syntax error.
    """
    index = Index(source)
    _parse_stream(io.BytesIO(text.encode("utf-8")), index, _TURTLE, base or None, None)
    return index


def rdf_format(path: Path) -> Syntax | None:
    """The RDF syntax of a file from its suffix, or None when it is not an RDF file CityKG reads."""
    return RDF_FORMATS.get(path.suffix.lower())


def parse_file(path: Path, *, progress: Tick | None = None, base: str | None = None) -> Index:
    """Parse an RDF file (its syntax chosen by its suffix) into a new index.

    ``progress`` is called now and then with the number of bytes read since
    its last call; an exception it raises (a deadline) stops the parse.
    Relative IRIs are resolved against ``base``, by default the file's own
    ``file:`` URI.
    Raises :class:`~kg.errors.ValidationError` for an unknown suffix, a file
    that is not UTF-8, or a syntax error (naming the file, line and column).
    """
    syntax = rdf_format(path)
    if syntax is None:
        suffixes = ", ".join(sorted(RDF_FORMATS))
        raise ValidationError([Problem(str(path), _l("not an RDF file CityKG reads; expected one of {suffixes}",
                                                     suffixes=suffixes))])
    base = base or path.resolve().as_uri()
    if syntax.format is None:
        raw = path.read_bytes()
        if progress is not None:
            progress(len(raw))
        return parse_jsonld(raw, str(path), base=base)
    if syntax.format is ox.RdfFormat.RDF_XML:
        check_entities(path)
    index = Index(str(path))
    with path.open("rb") as stream:
        _parse_stream(stream, index, syntax, base, progress)
    return index

