"""``GET/POST /v1/sparql``: a read-only SPARQL 1.1 Protocol endpoint over the graph.

Requests as the protocol has them: ``GET ?query=``, ``POST`` with
``Content-Type: application/sparql-query`` (the query is the body) or a form
(``query=``); ``default-graph-uri`` and ``named-graph-uri`` (repeatable) make
the dataset. Answers by ``Accept``: SPARQL JSON, XML, CSV or TSV for SELECT and
ASK, Turtle, N-Triples, RDF/XML or JSON-LD for CONSTRUCT and DESCRIBE.

The graph is queried as it is at the snapshot this request sees (the same
freshness window as every other route): the dataset of that version is built
once, off the event loop, and shared. A query runs in a worker process that is
killed at its deadline (504), so a runaway query stops using CPU.
"""

from __future__ import annotations

import threading
import time
from pathlib import Path
from typing import Annotated, Any
from urllib.parse import parse_qsl

from fastapi import APIRouter, Depends, Query, Request, Response

from api.deps import RunDep, SettingsDep, SnapshotDep, StoreDep, limit_concurrency, require_read
from api.problems import APIProblem, problem_responses
from kg.i18n import N_, _l
from kg.settings import Settings
from kg.sparql import (
    DatasetNotReady,
    NotAcceptable,
    QuerySyntaxError,
    QueryTimeout,
    ResultTooLarge,
    SparqlError,
    UpdateRefused,
    WorkersBusy,
)
from kg.sparql.engine import SparqlAnswer, SparqlRequest, SparqlService
from kg.store import Store

__all__ = ["SparqlHolder", "router"]

_MARGIN_S = 0.2
"""Our own deadline comes this much before the request's, so that our 504 (and the kill) come first."""

_SPARQL_QUERY = "application/sparql-query"
_SPARQL_UPDATE = "application/sparql-update"
_FORM = "application/x-www-form-urlencoded"

router = APIRouter(prefix="/v1/sparql", tags=["sparql"],
                   dependencies=[Depends(require_read), Depends(limit_concurrency)],
                   responses=problem_responses(400, 401, 403, 406, 413, 415, 422, 429, 503, 504))

_ANSWERS: dict[int | str, dict[str, Any]] = {
    200: {
        "description": "The answer, in the format the Accept header prefers.",
        "content": {
            "application/sparql-results+json": {"schema": {"type": "object"}},
            "application/sparql-results+xml": {"schema": {"type": "string"}},
            "text/csv": {"schema": {"type": "string"}},
            "text/tab-separated-values": {"schema": {"type": "string"}},
            "text/turtle": {"schema": {"type": "string"}},
            "application/n-triples": {"schema": {"type": "string"}},
            "application/rdf+xml": {"schema": {"type": "string"}},
            "application/ld+json": {"schema": {"type": "object"}},
        },
    }
}
_POST_BODY = {
    "requestBody": {
        "required": True,
        "content": {
            _SPARQL_QUERY: {"schema": {"type": "string", "minLength": 1}},
            _FORM: {"schema": {"type": "object", "required": ["query"], "properties": {
                "query": {"type": "string", "minLength": 1},
                "default-graph-uri": {"type": "array", "items": {"type": "string"}},
                "named-graph-uri": {"type": "array", "items": {"type": "string"}},
            }}},
        },
    }
}


class SparqlHolder:
    """The app's one :class:`~kg.sparql.engine.SparqlService`, made on first use (no process or folder before)."""

    def __init__(self, settings: Settings) -> None:
        self._settings = settings
        self._lock = threading.Lock()
        self._service: SparqlService | None = None

    def get(self) -> SparqlService:
        with self._lock:
            if self._service is None:
                root = self._settings.sparql_dir
                self._service = SparqlService(workers=self._settings.sparql_workers,
                                              root=None if root is None else Path(root))
            return self._service

    def close(self) -> None:
        with self._lock:
            if self._service is not None:
                self._service.close()
                self._service = None


def _problem(exc: SparqlError) -> APIProblem:
    if isinstance(exc, QuerySyntaxError):
        return APIProblem(400, str(exc), field="query", slug="sparql-syntax", title=N_("Not a SPARQL query"))
    if isinstance(exc, UpdateRefused):
        return APIProblem(422, str(exc), field="query", slug="sparql-update-refused", title=N_("SPARQL Update refused"))
    if isinstance(exc, ResultTooLarge):
        return APIProblem(422, _l("{reason}; the limit is this server's KG_SPARQL_MAX_ROWS", reason=exc),
                          field="query", slug="sparql-result-too-large", title=N_("SPARQL result too large"))
    if isinstance(exc, QueryTimeout):
        return APIProblem(504, str(exc), field="query")
    if isinstance(exc, NotAcceptable):
        return APIProblem(406, str(exc), field="Accept")
    retry = "5" if isinstance(exc, DatasetNotReady) else "1"
    slug = "sparql-dataset-building" if isinstance(exc, DatasetNotReady) else \
        "sparql-busy" if isinstance(exc, WorkersBusy) else "sparql-unavailable"
    return APIProblem(503, str(exc), slug=slug, title=N_("SPARQL unavailable"), headers={"Retry-After": retry})


async def _answer(request: Request, parsed: SparqlRequest, store: Store, version: int, settings: Settings,
                  run: RunDep) -> Response:
    service = request.app.state.sparql.get()
    deadline = run.deadline - _MARGIN_S
    try:
        answer: SparqlAnswer = await run(service.query, store, parsed, timeout_s=settings.sparql_timeout_s,
                                         max_rows=settings.sparql_max_rows, min_version=version,
                                         build_timeout_s=max(deadline - time.monotonic(), 0.001), deadline=deadline)
    except SparqlError as exc:
        raise _problem(exc) from None
    return Response(answer.body, media_type=answer.media_type, headers={"Vary": "Accept"})


def _one(values: list[str], name: str) -> str:
    if len(values) != 1:
        raise APIProblem(400, _l("give {name} exactly once", name=name), field=name)
    if not values[0].strip():
        raise APIProblem(400, _l("{name} is empty; expected a SPARQL query", name=name), field=name)
    return values[0]


def _request(params: list[tuple[str, str]], accept: str | None, *, body_query: str | None = None) -> SparqlRequest:
    """A :class:`SparqlRequest` from the protocol's parameters (query string or form)."""
    def values(name: str) -> list[str]:
        return [v for k, v in params if k == name]

    if values("update"):
        raise _problem(UpdateRefused())
    query = body_query if body_query is not None else _one(values("query"), "query")
    default, named = values("default-graph-uri"), values("named-graph-uri")
    given = bool(default or named)
    return SparqlRequest(query, default_graphs=tuple(default) if given else None,
                         named_graphs=tuple(named) if given else None, accept=accept)


@router.get("", response_class=Response, responses=_ANSWERS, summary="SPARQL query (GET)")
async def sparql_get(
    request: Request,
    store: StoreDep,
    snapshot: SnapshotDep,
    settings: SettingsDep,
    run: RunDep,
    query: Annotated[str, Query(min_length=1, description="A SPARQL 1.1 query (SELECT, ASK, CONSTRUCT, DESCRIBE).")],
    default_graph_uri: Annotated[list[str] | None, Query(alias="default-graph-uri",
                                                         description="A graph of the default graph (repeatable).")]
    = None,
    named_graph_uri: Annotated[list[str] | None, Query(alias="named-graph-uri",
                                                       description="A named graph of the dataset (repeatable).")]
    = None,
) -> Response:
    """Answer ``query`` over the graph (the export's triples plus the ontology; see docs/api.md).

    400 when it is not a query, 422 for an update or an answer over the row limit, 406 when no
    accepted format fits, 504 past the time limit (the query is stopped), 503 while the dataset of
    a new version is still being built (Retry-After).
    """
    parsed = _request(request.query_params.multi_items(), request.headers.get("accept"))
    return await _answer(request, parsed, store, snapshot.version, settings, run)


@router.post("", response_class=Response, responses=_ANSWERS, openapi_extra=_POST_BODY, summary="SPARQL query (POST)")
async def sparql_post(request: Request, store: StoreDep, snapshot: SnapshotDep, settings: SettingsDep,
                      run: RunDep) -> Response:
    """The query as the body (``application/sparql-query``) or as a form field (``query=``); the rest as GET."""
    media = request.headers.get("content-type", "").split(";")[0].strip().lower()
    raw = await request.body()
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError:
        raise APIProblem(400, N_("the body is not UTF-8 text"), field="body") from None
    accept = request.headers.get("accept")
    if media == _SPARQL_QUERY:
        if not text.strip():
            raise APIProblem(400, N_("the body is empty; expected a SPARQL query"), field="body")
        parsed = _request(request.query_params.multi_items(), accept, body_query=text)
    elif media == _FORM:
        parsed = _request(parse_qsl(text, keep_blank_values=True), accept)
    elif media == _SPARQL_UPDATE:
        raise _problem(UpdateRefused())
    else:
        raise APIProblem(415, _l("Content-Type {media} is not read here; send the query as {query} or as a form "
                                 "({form}, query=...)", media=media or "(none)", query=_SPARQL_QUERY, form=_FORM),
                         field="Content-Type")
    return await _answer(request, parsed, store, snapshot.version, settings, run)
