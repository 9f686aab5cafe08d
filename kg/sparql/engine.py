"""SPARQL 1.1 queries over a store's graph: the one runner behind ``kg sparql`` and ``/v1/sparql``.

:class:`SparqlService` joins a :class:`~kg.sparql.dataset.DatasetCache` (the
graph as an Oxigraph store, rebuilt per version) and a
:class:`~kg.sparql.pool.WorkerPool` (processes that run the queries and are
killed at the deadline). The faces only parse their input into a
:class:`SparqlRequest` and render the :class:`SparqlAnswer` or the error.

Examples
--------
>>> from kg.store.sqlite import SQLiteStore
>>> service = SparqlService(workers=1)
>>> answer = service.query(SQLiteStore(":memory:"), SparqlRequest("ASK { ?s ?p ?o }"), timeout_s=30)
>>> answer.media_type, answer.body
('application/sparql-results+json', b'{"head":{},"boolean":true}')
>>> service.close()
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from kg.rdf.export import export_prefixes
from kg.rdf.terms import scheme
from kg.sparql.dataset import DatasetCache, NamedGraphSource
from kg.sparql.errors import (
    DatasetNotReady,
    NotAcceptable,
    QuerySyntaxError,
    ResultTooLarge,
    SparqlError,
    UpdateRefused,
)
from kg.sparql.formats import GRAPH_FORMATS, MEDIA_TYPES, RESULT_FORMATS, negotiate
from kg.sparql.pool import WorkerPool
from kg.store.base import Store

__all__ = ["SparqlAnswer", "SparqlRequest", "SparqlService"]


@dataclass(frozen=True)
class SparqlRequest:
    """One query, as the SPARQL 1.1 Protocol states it.

    ``default_graphs`` and ``named_graphs`` are the protocol's
    ``default-graph-uri`` and ``named-graph-uri``: when either is given they
    make the dataset (replacing the query's own FROM / FROM NAMED); when both
    are None the query's dataset, or the whole dataset, is used.
    """

    query: str
    default_graphs: tuple[str, ...] | None = None
    named_graphs: tuple[str, ...] | None = None
    accept: str | None = None
    """The HTTP ``Accept`` header (None: JSON results, Turtle graphs)."""


@dataclass(frozen=True)
class SparqlAnswer:
    """A query's answer, serialized."""

    body: bytes
    media_type: str
    kind: str
    """``solutions`` (SELECT), ``boolean`` (ASK) or ``graph`` (CONSTRUCT, DESCRIBE)."""
    format: str
    """The short name of the format (:mod:`kg.sparql.formats`)."""
    rows: int
    """Solutions or triples in the answer."""
    version: int
    """The store version the answer was computed on."""


class SparqlService:
    """Answers SPARQL queries over stores' graphs; thread-safe; :meth:`close` it when done.

    Parameters
    ----------
    workers
        How many queries may run at once (one process each).
    root
        Folder for the datasets (default: a temporary folder, removed on close).
    sources
        Named graphs beside the export (the hook for live status events).
    """

    def __init__(self, *, workers: int = 2, root: Path | None = None,
                 sources: Sequence[NamedGraphSource] = ()) -> None:
        self.datasets = DatasetCache(root, sources=sources)
        self.pool = WorkerPool(workers)

    def query(
        self,
        store: Store,
        request: SparqlRequest,
        *,
        timeout_s: float,
        max_rows: int = 10_000,
        min_version: int | None = None,
        build_timeout_s: float | None = None,
        deadline: float | None = None,
    ) -> SparqlAnswer:
        """Answer ``request`` over the graph of ``store``.

        Parameters
        ----------
        store
            The store; its dataset is built first if need be.
        request
            The query, its dataset and the accepted formats.
        timeout_s
            Time limit of the query itself: past it the worker is killed.
        max_rows
            Most solutions (SELECT) or triples (CONSTRUCT, DESCRIBE) an answer may have.
        min_version
            The oldest store version the answer may be computed on (default: the store's
            version now); the API passes the version its snapshot window vouches for.
        build_timeout_s
            How long to wait for the dataset to be built (default: as long as it takes).
        deadline
            A :func:`time.monotonic` time by which the query must be over, whatever waiting for
            the dataset took (the API passes its request's deadline); the query is stopped at
            ``timeout_s`` or at the deadline, whichever comes first.

        Raises
        ------
        kg.sparql.errors.SparqlError
            :class:`~kg.sparql.errors.QuerySyntaxError`, :class:`~kg.sparql.errors.UpdateRefused`,
            :class:`~kg.sparql.errors.QueryTimeout`, :class:`~kg.sparql.errors.ResultTooLarge`,
            :class:`~kg.sparql.errors.NotAcceptable`, :class:`~kg.sparql.errors.DatasetNotReady`,
            :class:`~kg.sparql.errors.WorkersBusy` or :class:`~kg.sparql.errors.WorkerFailed`.
        """
        results = negotiate(request.accept, RESULT_FORMATS)
        graph = negotiate(request.accept, GRAPH_FORMATS)
        if results is None and graph is None:
            raise NotAcceptable(_not_acceptable(request.accept))
        version = store.version() if min_version is None else min_version
        dataset = self.datasets.acquire(store, min_version=version, timeout_s=build_timeout_s)
        if deadline is not None:
            left = deadline - time.monotonic()
            if left <= 0:
                self.datasets.release(dataset)
                raise DatasetNotReady("the SPARQL dataset was built too late for this request; try again")
            timeout_s = min(timeout_s, left)
        try:
            header, body = self.pool.run({
                "path": str(dataset.path),
                "query": request.query,
                "default_graphs": None if request.default_graphs is None else list(request.default_graphs),
                "named_graphs": None if request.named_graphs is None else list(request.named_graphs),
                "results": results,
                "graph": graph,
                "max_rows": max_rows,
                "prefixes": dict(export_prefixes(scheme())),
            }, timeout_s=timeout_s)
        finally:
            self.datasets.release(dataset)
        if not header["ok"]:
            raise _error(header, max_rows, request.accept)
        return SparqlAnswer(body, MEDIA_TYPES[header["format"]], header["kind"], header["format"], header["rows"],
                            dataset.version)

    def close(self) -> None:
        """Stop the workers and delete the datasets."""
        self.pool.close()
        self.datasets.close()


def _not_acceptable(accept: str | None) -> str:
    offered = ", ".join(dict.fromkeys(MEDIA_TYPES[name].split(";")[0] for name in (*RESULT_FORMATS, *GRAPH_FORMATS)))
    return f"none of the accepted media types ({accept}) is offered; this endpoint writes {offered}"


def _error(header: dict[str, str], max_rows: int, accept: str | None) -> SparqlError:
    kind, message = header["error"], header["message"]
    if kind == "syntax":
        return QuerySyntaxError(message)
    if kind == "update":
        return UpdateRefused()
    if kind == "too-large":
        return ResultTooLarge(max_rows, message)
    if kind == "not-acceptable":
        return NotAcceptable(f"{message}; the Accept header ({accept}) allows none of them")
    return SparqlError(message)
