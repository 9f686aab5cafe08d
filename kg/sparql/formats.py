"""What a SPARQL answer can be written as, chosen from an HTTP ``Accept`` header.

SELECT and ASK results go out as SPARQL JSON, XML, CSV or TSV; CONSTRUCT and
DESCRIBE graphs as Turtle, N-Triples, RDF/XML or JSON-LD. A format is named
here by a short name (``json``, ``ttl``, ...) that the worker process turns
into pyoxigraph's format. Standard library only: the worker imports this.

Examples
--------
>>> negotiate("application/sparql-results+xml;q=0.9, text/csv", RESULT_FORMATS)
'csv'
>>> negotiate(None, RESULT_FORMATS), negotiate("*/*", GRAPH_FORMATS)
('json', 'ttl')
>>> negotiate("text/html", GRAPH_FORMATS) is None
True
>>> is_update("PREFIX ckg: <https://w3id.org/citykg#> # note\\nINSERT DATA { ckg:a ckg:b ckg:c }")
True
"""

from __future__ import annotations

import re

__all__ = ["GRAPH_FORMATS", "MEDIA_TYPES", "RESULT_FORMATS", "UPDATE_KEYWORDS", "is_update", "negotiate"]

RESULT_FORMATS: dict[str, tuple[str, ...]] = {
    "json": ("application/sparql-results+json", "application/json"),
    "xml": ("application/sparql-results+xml", "application/xml", "text/xml"),
    "csv": ("text/csv",),
    "tsv": ("text/tab-separated-values",),
}
"""SELECT/ASK result formats, in the server's order of preference, with the media types that ask for each."""

GRAPH_FORMATS: dict[str, tuple[str, ...]] = {
    "ttl": ("text/turtle", "application/x-turtle"),
    "nt": ("application/n-triples", "text/plain"),
    "rdfxml": ("application/rdf+xml", "application/xml", "text/xml"),
    "jsonld": ("application/ld+json", "application/json"),
}
"""CONSTRUCT/DESCRIBE graph formats, in the server's order of preference."""

MEDIA_TYPES = {
    "json": "application/sparql-results+json",
    "xml": "application/sparql-results+xml",
    "csv": "text/csv; charset=utf-8",
    "tsv": "text/tab-separated-values; charset=utf-8",
    "ttl": "text/turtle",
    "nt": "application/n-triples",
    "rdfxml": "application/rdf+xml",
    "jsonld": "application/ld+json",
}
"""The ``Content-Type`` of an answer in each format."""

UPDATE_KEYWORDS = frozenset({"INSERT", "DELETE", "LOAD", "CLEAR", "DROP", "CREATE", "ADD", "MOVE", "COPY", "WITH"})
"""Words that open a SPARQL 1.1 Update operation (after the prologue)."""

_PROLOGUE = re.compile(r"\s+|#[^\n]*|(?i:PREFIX)\s*[^\s:]*:\s*<[^>]*>|(?i:BASE)\s*<[^>]*>")
_WORD = re.compile(r"[A-Za-z]+")


def is_update(text: str) -> bool:
    """True when ``text`` is shaped like a SPARQL Update (its first word after the prologue opens one).

    Used only to explain why a text is not a query; it does not validate anything.
    """
    pos = 0
    while (found := _PROLOGUE.match(text, pos)) is not None:
        pos = found.end()
    word = _WORD.match(text, pos)
    return word is not None and word.group().upper() in UPDATE_KEYWORDS


def _accepted(accept: str) -> list[tuple[float, int, str]]:
    """``(q, -specificity, media range)`` of each entry of an Accept header, best first."""
    entries: list[tuple[float, int, str]] = []
    for part in accept.split(","):
        media, *params = (p.strip() for p in part.split(";"))
        if not media:
            continue
        q = 1.0
        for param in params:
            name, _, value = param.partition("=")
            if name.strip().lower() == "q":
                try:
                    q = float(value)
                except ValueError:
                    q = 0.0
        specificity = 0 if media == "*/*" else 1 if media.endswith("/*") else 2
        entries.append((q, -specificity, media.lower()))
    return sorted(entries, key=lambda e: (-e[0], e[1]))


def negotiate(accept: str | None, formats: dict[str, tuple[str, ...]]) -> str | None:
    """The format of ``formats`` the ``Accept`` header prefers (the first one when it says nothing), or None.

    The highest quality wins; among equals, the more specific media range, then
    the server's order. A format whose media type is explicitly given ``q=0`` is
    never chosen.
    """
    if not accept or not accept.strip():
        return next(iter(formats))
    entries = _accepted(accept)
    refused = {media for q, _, media in entries if q <= 0}
    for q, _, media in entries:
        if q <= 0:
            break
        for name, types in formats.items():
            if any(t in refused for t in types):
                continue
            if media == "*/*" or media in types or (media.endswith("/*") and
                                                    any(t.startswith(media[:-1]) for t in types)):
                return name
    return None
