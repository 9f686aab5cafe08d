"""The process that runs SPARQL: ``python -m kg.sparql.worker serve FD`` or ``... build DIR``.

pyoxigraph cannot stop a query once it runs, and a thread cannot be stopped
from outside either; a process can. So every query runs in a worker process
(:mod:`kg.sparql.pool` keeps a few, and kills one whose query passes its
deadline) on a **read-only** on-disk Oxigraph store that a ``build`` process
wrote before. A killed worker leaves nothing half-written behind.

``serve FD``
    Answers requests on the socket ``FD`` until it closes. A request is one
    JSON message (``path``, ``query``, ``default_graphs``, ``named_graphs``,
    ``results``, ``graph``, ``max_rows``, ``prefixes``: declared for the query
    unless it declares them itself, and used in Turtle answers); the answer is a JSON
    header (``ok``, ``kind``, ``format``, ``rows`` or ``error``, ``message``)
    followed by the body bytes.
``build DIR ONTOLOGY_FILE ONTOLOGY_GRAPH``
    Creates the store in ``DIR`` from N-Quads on standard input, then adds the
    ontology (Turtle) to the default graph and to the named graph
    ``ONTOLOGY_GRAPH``.

It imports only the standard library, pyoxigraph and :mod:`kg.sparql.formats`,
so that a new worker starts in a few tens of milliseconds.
"""

from __future__ import annotations

import io
import itertools
import json
import re
import sys
from multiprocessing.connection import Connection
from typing import Any

import pyoxigraph as ox

from kg.sparql.formats import is_update

__all__ = ["answer", "build", "serve"]

_RESULTS = {"json": ox.QueryResultsFormat.JSON, "xml": ox.QueryResultsFormat.XML,
            "csv": ox.QueryResultsFormat.CSV, "tsv": ox.QueryResultsFormat.TSV}
_GRAPHS = {"ttl": ox.RdfFormat.TURTLE, "nt": ox.RdfFormat.N_TRIPLES, "rdfxml": ox.RdfFormat.RDF_XML,
           "jsonld": ox.RdfFormat.JSON_LD}


class _TooMany(Exception):
    """Raised from inside pyoxigraph's serializer to stop it at the row limit."""


class _RowCounter(io.BytesIO):
    """A buffer for TSV results that stops the query after ``limit`` rows (one line per row)."""

    def __init__(self, limit: int) -> None:
        super().__init__()
        self.limit = limit
        self.lines = 0

    def write(self, data: Any) -> int:
        self.lines += bytes(data).count(b"\n")
        if self.lines > self.limit + 1:  # the header line, then one line per row
            raise _TooMany
        return super().write(data)


def _failure(error: str, message: str) -> tuple[dict[str, Any], bytes]:
    return {"ok": False, "error": error, "message": message}, b""


# pyoxigraph names every character class it expected; people need the position and the gist.
_CHAR_CLASS = re.compile(r"\[(?:'(?:[^'\\]|\\.)*'|[^\]'])*\]")


def _tidy(message: str) -> str:
    """A syntax error with pyoxigraph's character classes shortened (``['%']`` -> ``'%'``)."""
    def short(found: re.Match[str]) -> str:
        text = found.group()
        return "a name character" if "..=" in text else text[1:-1].replace(" | ", " or ")
    text = re.sub(r"\s+", " ", _CHAR_CLASS.sub(short, message)).strip()
    where, _, expected = text.partition(": expected one of ")
    if "Prefix not found" in expected:
        return f"{where}: an undeclared prefix; declare it with PREFIX (the export's prefixes are declared already)"
    if expected:
        return f"{where}: expected one of {', '.join(dict.fromkeys(expected.split(', ')))}"
    return text


def _dataset(request: dict[str, Any]) -> dict[str, Any]:
    """pyoxigraph's dataset arguments: the request's graphs replace the query's FROM / FROM NAMED (SPARQL Protocol)."""
    default, named = request.get("default_graphs"), request.get("named_graphs")
    if default is None and named is None:
        return {}
    return {"default_graph": [ox.NamedNode(iri) for iri in default or ()],
            "named_graphs": [ox.NamedNode(iri) for iri in named or ()]}


def answer(store: ox.Store, request: dict[str, Any]) -> tuple[dict[str, Any], bytes]:
    """Run one request against ``store``: the answer's header and body."""
    text, limit = request["query"], int(request["max_rows"])
    try:
        result = store.query(text, prefixes=request.get("prefixes") or None, **_dataset(request))
    except SyntaxError as exc:
        if is_update(text):
            return _failure("update", "SPARQL Update")
        return _failure("syntax", f"not a SPARQL query: {_tidy(str(exc))}")
    except ValueError as exc:  # a graph name that is not an IRI
        return _failure("syntax", str(exc))
    if isinstance(result, ox.QueryBoolean):
        name = request.get("results")
        if name is None:
            return _failure("not-acceptable", "an ASK query answers with SPARQL results (JSON, XML, CSV or TSV)")
        return {"ok": True, "kind": "boolean", "format": name, "rows": 1}, \
            result.serialize(format=_RESULTS[name]) or b""
    if isinstance(result, ox.QuerySolutions):
        name = request.get("results")
        if name is None:
            return _failure("not-acceptable", "a SELECT query answers with SPARQL results (JSON, XML, CSV or TSV)")
        # TSV writes exactly one line per solution and loses nothing (terms are written in Turtle
        # syntax), so it is the one pass that counts rows and stops the query at the limit; the
        # requested format is then written from it.
        sink = _RowCounter(limit)
        try:
            result.serialize(sink, ox.QueryResultsFormat.TSV)
        except _TooMany:
            return _failure("too-large", "rows")
        tsv = sink.getvalue()
        rows = max(tsv.count(b"\n") - 1, 0)
        if name == "tsv":
            return {"ok": True, "kind": "solutions", "format": name, "rows": rows}, tsv
        again = ox.parse_query_results(tsv, ox.QueryResultsFormat.TSV)
        return {"ok": True, "kind": "solutions", "format": name, "rows": rows}, \
            again.serialize(format=_RESULTS[name]) or b""
    name = request.get("graph")
    if name is None:
        return _failure("not-acceptable", "a CONSTRUCT or DESCRIBE query answers with a graph (Turtle, N-Triples, "
                                          "RDF/XML or JSON-LD)")
    triples = list(itertools.islice(result, limit + 1))
    if len(triples) > limit:
        return _failure("too-large", "triples")
    body = ox.serialize(triples, format=_GRAPHS[name], prefixes=request.get("prefixes") or None)
    return {"ok": True, "kind": "graph", "format": name, "rows": len(triples)}, body or b""


def serve(fd: int) -> None:
    """Answer requests on the socket ``fd`` until the parent closes it."""
    conn = Connection(fd)
    opened: tuple[str, ox.Store] | None = None
    while True:
        try:
            request = json.loads(conn.recv_bytes())
        except (EOFError, OSError):
            return
        path = request["path"]
        if opened is None or opened[0] != path:
            opened = None  # close the previous version's store first
            try:
                opened = (path, ox.Store.read_only(path))
            except OSError as exc:
                header, body = _failure("failed", f"cannot open the SPARQL dataset: {exc}")
                conn.send_bytes(json.dumps(header).encode())
                conn.send_bytes(body)
                continue
        try:
            header, body = answer(opened[1], request)
        except Exception as exc:  # an evaluation error: report it, keep serving
            header, body = _failure("failed", f"the query failed: {exc}")
        conn.send_bytes(json.dumps(header).encode())
        conn.send_bytes(body)


def build(directory: str, ontology: str, ontology_graph: str) -> None:
    """Create the store in ``directory``: N-Quads from standard input, then the ontology."""
    store = ox.Store(directory)
    # The stream is CityKG's own export (IRIs minted and checked by kg.rdf.terms): skipping
    # pyoxigraph's IRI validation saves a sixth of the load.
    store.bulk_load(sys.stdin.buffer, ox.RdfFormat.N_QUADS, lenient=True)
    store.bulk_load(path=ontology, format=ox.RdfFormat.TURTLE)
    store.bulk_load(path=ontology, format=ox.RdfFormat.TURTLE, to_graph=ox.NamedNode(ontology_graph))
    store.flush()
    del store  # closed: only then may read-only instances open it


if __name__ == "__main__":
    if sys.argv[1:2] == ["serve"] and len(sys.argv) == 3:
        serve(int(sys.argv[2]))
    elif sys.argv[1:2] == ["build"] and len(sys.argv) == 5:
        build(*sys.argv[2:5])
    else:
        sys.exit("usage: python -m kg.sparql.worker serve FD | build DIR ONTOLOGY_FILE ONTOLOGY_GRAPH")
