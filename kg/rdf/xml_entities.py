"""Bound what XML entities can do in an RDF/XML file before pyoxigraph reads it.

pyoxigraph expands the general entities an RDF/XML file declares in its
internal DTD subset, and nothing stops one entity from being written with
others: eight nested levels of ten references ("billion laughs") turn a
1 KB file into a 300 MB literal. So the file's prolog is read first, by a
small scanner of its own, and the file is refused, with its line, when the
DTD

* names an external DTD or an external entity (``SYSTEM``/``PUBLIC``): nothing is ever fetched;
* declares a parameter entity (``<!ENTITY % ...>``) or refers to one (``%name;``);
* declares an entity whose value holds a reference (``&name;``, ``&#38;``), the only way to nest them;
* holds a declaration the scanner does not read (``<!ENTITY`` inside a comment, after the DTD, ...);

or when the references to declared entities in the document would expand it
by more than :func:`expansion_limit` bytes. What is left, namespace entities
such as ``&rdf;`` in ``rdf:resource="&rdf;type"``, grows a file by a small
factor, which the bound allows for. The scan reads the file once (memory-mapped,
no copy) and only looks for references when entities are declared.
"""

from __future__ import annotations

import mmap
import re
from pathlib import Path

from kg.errors import Problem, ValidationError
from kg.i18n import Message, _l

__all__ = ["EXPANSION_FACTOR", "EXPANSION_FLOOR", "check_entities", "expansion_limit"]

EXPANSION_FACTOR = 8
"""Entity references may add at most this many times the file's size..."""
EXPANSION_FLOOR = 1 << 20
"""...or this many bytes, whichever is more (so that a small file may use namespace entities freely)."""

_SPACE = re.compile(rb"[ \t\r\n]+")
_COMMENT = re.compile(rb"<!--.*?-->", re.DOTALL)
_PI = re.compile(rb"<\?.*?\?>", re.DOTALL)
_DOCTYPE = re.compile(rb"<!DOCTYPE[ \t\r\n]+[^ \t\r\n\[>]+[ \t\r\n]*")
_EXTERNAL = re.compile(rb"(?:SYSTEM|PUBLIC)\b")
_ENTITY = re.compile(rb"<!ENTITY[ \t\r\n]+")
_NAME = re.compile(rb"([^ \t\r\n%\"'>]+)[ \t\r\n]+")
_VALUE = re.compile(rb"(?:\"([^\"]*)\"|'([^']*)')[ \t\r\n]*>")
_DECLARATION = re.compile(rb"<!(?:ELEMENT|ATTLIST|NOTATION)\b(?:[^>\"']|\"[^\"]*\"|'[^']*')*>")
_PE_REFERENCE = re.compile(rb"%[^ \t\r\n;%]+;")
_SUBSET_END = re.compile(rb"\][ \t\r\n]*>")
_DOCTYPE_END = re.compile(rb"[ \t\r\n]*>")
_ROOT = re.compile(rb"<[^!?/ \t\r\n<>]")
_REFERENCE = re.compile(rb"&([^ \t\r\n;&<>\"'#]+);")


def expansion_limit(size: int) -> int:
    """How many bytes entity references may add to a file of ``size`` bytes."""
    return max(EXPANSION_FACTOR * size, EXPANSION_FLOOR)


def _refuse(data: bytes | mmap.mmap, source: str, at: int, message: Message) -> ValidationError:
    line = data[:at].count(b"\n") + 1
    return ValidationError([Problem(f"{source}:{line}", _l("RDF/XML entity refused: {reason}", reason=message))])


def _entities(data: bytes | mmap.mmap, source: str) -> tuple[dict[bytes, int], int]:
    """The general entities the internal DTD subset declares (name -> length of the value), and where the
    document after the prolog starts. Raises :class:`ValidationError` for what the module docs refuse."""
    pos = 3 if data[:3] == b"\xef\xbb\xbf" else 0
    entities: dict[bytes, int] = {}
    seen_doctype = False
    while True:
        match = _SPACE.match(data, pos) or _COMMENT.match(data, pos) or _PI.match(data, pos)
        if match is not None:
            pos = match.end()
            continue
        doctype = None if seen_doctype else _DOCTYPE.match(data, pos)
        if doctype is None:
            return entities, pos  # the root element (or whatever pyoxigraph then finds wrong)
        seen_doctype = True
        pos = doctype.end()
        if _EXTERNAL.match(data, pos):
            raise _refuse(data, source, pos, _l("the DOCTYPE names an external DTD (SYSTEM or PUBLIC), which is "
                                                             "never read; remove it, and declare any entity the file "
                                                             "needs inside <!DOCTYPE ... [ ]>"))
        if data[pos:pos + 1] == b"[":
            pos = _subset(data, source, pos + 1, entities)
        else:
            end = _DOCTYPE_END.match(data, pos)
            if end is None:
                raise _refuse(data, source, pos, _l("cannot read the DOCTYPE declaration; expected "
                                                     "<!DOCTYPE rdf:RDF [ <!ENTITY name \"value\"> ... ]>"))
            pos = end.end()


def _subset(data: bytes | mmap.mmap, source: str, pos: int, entities: dict[bytes, int]) -> int:
    """Read the internal subset from ``pos`` (after ``[``) into ``entities``; return where the DOCTYPE ends."""
    while True:
        match = _SPACE.match(data, pos) or _COMMENT.match(data, pos) or _PI.match(data, pos)
        if match is not None:
            if b"<!ENTITY" in match.group() or b"&" in match.group():
                raise _refuse(data, source, pos, _l("an entity declaration or reference inside a comment or "
                                                     "processing instruction of the DTD; remove it"))
            pos = match.end()
            continue
        end = _SUBSET_END.match(data, pos)
        if end is not None:
            return end.end()
        if _PE_REFERENCE.match(data, pos):
            raise _refuse(data, source, pos, _l("a parameter entity reference (%name;) in the DTD; write the "
                                                 "declarations it stands for instead"))
        declaration = _DECLARATION.match(data, pos)
        if declaration is not None:
            if b"&" in declaration.group() or b"%" in declaration.group():
                raise _refuse(data, source, pos, _l("a reference (&name; or %name;) inside a DTD declaration; "
                                                     "write the value out in full"))
            pos = declaration.end()
            continue
        entity = _ENTITY.match(data, pos)
        if entity is None:
            raise _refuse(data, source, pos, _l("cannot read the DTD at this point; expected only <!ENTITY name "
                                                 "\"value\"> declarations (and comments) inside <!DOCTYPE ... [ ]>"))
        start, pos = pos, entity.end()
        if data[pos:pos + 1] == b"%":
            raise _refuse(data, source, start, _l("a parameter entity (<!ENTITY % ...>) is not read; declare "
                                                   "general entities only, <!ENTITY name \"value\">"))
        name = _NAME.match(data, pos)
        if name is None:
            raise _refuse(data, source, start, _l("cannot read the entity declaration; expected "
                                                   "<!ENTITY name \"value\">"))
        pos = name.end()
        if _EXTERNAL.match(data, pos):
            raise _refuse(data, source, start, _l("the entity {name} is external (SYSTEM or PUBLIC) and is never "
                                                   "fetched; give its value in quotes, <!ENTITY name \"value\">",
                                                   name=repr(name.group(1).decode(errors="replace"))))
        value = _VALUE.match(data, pos)
        if value is None:
            raise _refuse(data, source, start, _l("cannot read the entity declaration; expected "
                                                   "<!ENTITY name \"value\">"))
        text = value.group(1) if value.group(1) is not None else value.group(2)
        if b"&" in text or b"%" in text:
            raise _refuse(data, source, start, _l("the value of the entity {name} holds a reference (&...; or "
                                                   "%...;), and entities written with entities can expand without "
                                                   "bound; write the value out in full",
                                                   name=repr(name.group(1).decode(errors="replace"))))
        entities.setdefault(name.group(1), len(text))  # XML: the first declaration of a name is binding
        pos = value.end()


def check_entities(path: Path) -> None:
    """Refuse an RDF/XML file whose DTD or entity references could expand it without bound.

    Raises :class:`~kg.errors.ValidationError` naming ``FILE:LINE`` and what to
    change (see the module docs); returns quietly for a file it lets through.
    """
    source = str(path)
    with path.open("rb") as stream:
        size = stream.seek(0, 2)
        if size == 0:
            return
        with mmap.mmap(stream.fileno(), 0, access=mmap.ACCESS_READ) as data:
            entities, body = _entities(data, source)
            declared = data.find(b"<!ENTITY", body)
            if declared >= 0:
                raise _refuse(data, source, declared, _l("an entity declaration outside the DTD's internal subset; "
                                                          "move it into <!DOCTYPE ... [ ]> before the root element"))
            if not entities:
                return
            limit, total = expansion_limit(size), 0
            for reference in _REFERENCE.finditer(data, body):
                total += entities.get(reference.group(1), 0)
                if total > limit:
                    raise _refuse(data, source, reference.start(), _l(
                        "its entity references expand the file by more than {limit} bytes ({factor} times its size, "
                        "at least {floor}); write the text out instead of repeating entities",
                        limit=f"{limit:,}", factor=EXPANSION_FACTOR, floor=f"{EXPANSION_FLOOR:,}"))
