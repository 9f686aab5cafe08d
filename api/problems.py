"""Errors as RFC 9457 ``application/problem+json`` bodies.

Every error answer has ``type``, ``title``, ``status`` and ``detail``; when one
request field is at fault it is named in ``field`` (``depth``, ``fail[0].time``,
``assets.csv:12``) and ``errors`` lists every field problem found. Bad input is
always a 4xx: an unexpected exception is the only way to a 500, and its body
says nothing about the server beyond the request id.

Status codes: 400 malformed request (unparseable JSON, an operation the store
does not offer), 401 no or unknown key, 403 role too low, 404 unknown id or
route, 413 body too large, 422 well-formed but invalid values (or an answer
larger than the server describes), 429 too many expensive requests running
(``limit`` names the setting, ``Retry-After`` says when to try again), 503 store
unavailable (the detail says why, without hosts or paths: :data:`STORE_PROBLEMS`),
504 request time limit (the work was stopped), 507 the store's disk is full.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from pydantic import BaseModel, Field
from starlette.exceptions import HTTPException as StarletteHTTPException

from kg.analysis.cancel import Cancelled
from kg.errors import (
    CypherRefused,
    ElementNotFound,
    FieldPath,
    KGError,
    ResultTooLarge,
    StoreUnavailable,
    UnsupportedOperation,
    ValidationError,
    not_found,
)
from kg.executor import ClusterError
from kg.i18n import N_, Message, _, _l, language

__all__ = [
    "PROBLEM_JSON",
    "PROBLEM_TYPE_BASE",
    "STORE_PROBLEMS",
    "APIProblem",
    "FieldError",
    "PayloadTooLarge",
    "ProblemDetail",
    "at_most",
    "field_problem",
    "install_problem_handlers",
    "json_path",
    "problem_responses",
]

PROBLEM_JSON = "application/problem+json"
PROBLEM_TYPE_BASE = "https://w3id.org/citykg/problems/"
"""Problem ``type`` URIs are this base plus a slug; docs/api.md lists them."""

_log = logging.getLogger("citykg.api")

_TITLES = {
    400: N_("Bad request"),
    401: N_("Unauthorized"),
    403: N_("Forbidden"),
    404: N_("Not found"),
    405: N_("Method not allowed"),
    406: N_("Not acceptable"),
    409: N_("Conflict"),
    413: N_("Content too large"),
    415: N_("Unsupported media type"),
    422: N_("Invalid request"),
    429: N_("Too many requests"),
    500: N_("Internal server error"),
    503: N_("Service unavailable"),
    504: N_("Request timed out"),
    507: N_("Insufficient storage"),
}
_SLUGS = {
    400: "bad-request",
    401: "unauthorized",
    403: "forbidden",
    404: "not-found",
    405: "method-not-allowed",
    406: "not-acceptable",
    409: "conflict",
    413: "content-too-large",
    415: "unsupported-media-type",
    422: "invalid-request",
    429: "too-many-requests",
    500: "internal-error",
    503: "store-unavailable",
    504: "timeout",
    507: "store-full",
}

STORE_PROBLEMS: dict[str, tuple[int, str]] = {
    "unreachable": (503, N_("the store cannot be reached; try again later")),
    "timeout": (503, N_("the store did not answer in time; try again later")),
    "busy": (503, N_("the store is busy with another writer; try again later")),
    "missing": (503, N_("this server's store does not exist yet; load data to create it")),
    "corrupt": (503, N_("this server's store is damaged; an operator must restore it")),
    "misconfigured": (503, N_("this server's store is misconfigured; an operator must correct its settings")),
    "read-only": (503, N_("this server's store can only be read; loads are not possible")),
    "full": (507, N_("the store's disk is full; nothing was written")),
}
""":class:`~kg.errors.StoreUnavailable` ``reason`` -> (status, public detail). The full message, which may
name hosts and paths, goes to the server's log only."""


class FieldError(BaseModel):
    """One problem with one request field (or one file line of a load)."""

    field: str = Field(description="The field: a query/path parameter, a body path like fail[0].time, or FILE:LINE.")
    message: str


class ProblemDetail(BaseModel):
    """An RFC 9457 problem; ``field`` names the offending request field when there is one."""

    type: str = Field(description="A URI naming the kind of problem.")
    title: str
    status: int
    detail: str
    field: str | None = None
    errors: list[FieldError] | None = None
    limit: str | None = Field(None, description="The setting whose limit was reached (429).")


class APIProblem(Exception):
    """Raise from a route to answer with a problem body."""

    def __init__(
        self,
        status: int,
        detail: str | Message,
        *,
        field: str | None = None,
        errors: Sequence[FieldError] | None = None,
        slug: str | None = None,
        title: str | None = None,
        headers: dict[str, str] | None = None,
        limit: str | None = None,
    ) -> None:
        super().__init__(str(detail))
        self.status = status
        self._detail = detail
        self.field = field
        self.errors = list(errors) if errors is not None else None
        self.slug = slug or _SLUGS.get(status, "error")
        self.title = title or _TITLES.get(status, "Error")
        self.headers = headers
        self.limit = limit

    @property
    def detail(self) -> str:
        """The detail in the current language: the request's, in a handler (Accept-Language, kg.i18n).

        Fixed details go through the catalog; details made from data are :class:`~kg.i18n.Message`
        values, said with their data (ids, file lines) as given.
        """
        return str(self._detail) if isinstance(self._detail, Message) else _(self._detail)

    def response(self) -> JSONResponse:
        """This problem as an ``application/problem+json`` response."""
        body: dict[str, Any] = {"type": PROBLEM_TYPE_BASE + self.slug, "title": _(self.title), "status": self.status,
                                "detail": self.detail}
        if self.field is not None:
            body["field"] = self.field
        if self.errors is not None:
            body["errors"] = [e.model_dump() for e in self.errors]
        if self.limit is not None:
            body["limit"] = self.limit
        return JSONResponse(body, status_code=self.status, media_type=PROBLEM_JSON, headers=self.headers)


class PayloadTooLarge(StarletteHTTPException):
    """The request body is over its limit (an HTTPException so FastAPI passes it through body parsing)."""

    def __init__(self, limit: int) -> None:
        super().__init__(413, _("the request body is larger than the limit of {limit} bytes").format(
            limit=f"{limit:,}"))
        self.limit = limit


def problem_responses(*statuses: int) -> dict[int | str, dict[str, Any]]:
    """OpenAPI ``responses`` documenting problem bodies for ``statuses`` (media type set by the app)."""
    return {status: {"model": ProblemDetail, "description": _TITLES.get(status, "Error")} for status in statuses}


def at_most(field: str, value: int | None, maximum: int) -> None:
    """422 naming ``field`` when ``value`` is over this server's configured ``maximum``."""
    if value is not None and value > maximum:
        raise APIProblem(422, _l("{field} must be at most {maximum} on this server, got {value}", field=field,
                                 maximum=maximum, value=value), field=field)


def json_path(field: FieldPath, names: Mapping[str, str] | None = None) -> str:
    """A kg field path as the JSON path of a request body: ``("fail", 2, "id")`` -> ``fail[2].id``.

    ``names`` renames kg's field names to the body's (``{"hazard": "hazard_zones"}``).
    """
    path = ""
    for part in field:
        if isinstance(part, int):
            path += f"[{part}]"
        else:
            name = (names or {}).get(part, part)
            path += f".{name}" if path else name
    return path


def field_problem(exc: KGError, names: Mapping[str, str] | None = None) -> APIProblem | None:
    """The problem answering a kg error that names its field (``None`` when it names none).

    An unknown id is 404 (``no asset with id 'x'``), an invalid value 422, anything else 400;
    ``field`` is the body's JSON path of the kg field (see :func:`json_path`).
    """
    if exc.field is None:
        return None
    path = json_path(exc.field, names)
    if isinstance(exc, ElementNotFound):
        return APIProblem(404, not_found(exc.element_id, exc.what), field=path)
    if isinstance(exc, ValidationError) and exc.problems:
        message = exc.problems[0].message
        return APIProblem(422, f"{path}: {message}", field=path, errors=[FieldError(field=path, message=message)])
    return APIProblem(400, str(exc), field=path)


_SETTINGS_OF_LIMITS = {"max_failures": "KG_MAX_FAILURES"}
"""The setting behind each kg keyword limit the API passes (the others are fixed in the API's code)."""


_PYDANTIC = {
    "int_parsing": N_("Input should be a valid integer, unable to parse string as an integer"),
    "float_parsing": N_("Input should be a valid number, unable to parse string as a number"),
    "bool_parsing": N_("Input should be a valid boolean, unable to interpret input"),
    "int_type": N_("Input should be a valid integer"),
    "float_type": N_("Input should be a valid number"),
    "string_type": N_("Input should be a valid string"),
    "list_type": N_("Input should be a valid list"),
    "dict_type": N_("Input should be a valid dictionary"),
    "model_type": N_("Input should be an object"),
}
_PYDANTIC_BOUNDS = {
    "greater_than_equal": N_("Input should be greater than or equal to {bound}"),
    "greater_than": N_("Input should be greater than {bound}"),
    "less_than_equal": N_("Input should be less than or equal to {bound}"),
    "less_than": N_("Input should be less than {bound}"),
}
"""pydantic's own messages, said in the request's language when they are exactly these (others stay pydantic's)."""


def _pydantic_message(err: Mapping[str, Any]) -> str:
    """pydantic's message for one error; the fixed ones of :data:`_PYDANTIC` in the request's language."""
    message = str(err.get("msg", "invalid value")).removeprefix("Value error, ")
    known = _PYDANTIC.get(str(err.get("type", "")))
    if known is not None and message == known:
        return _(known)
    kind = str(err.get("type", ""))
    ctx = err.get("ctx") or {}
    if kind in _PYDANTIC_BOUNDS and ctx:
        bound = next(iter(ctx.values()))
        if message == _PYDANTIC_BOUNDS[kind].format(bound=bound):
            return _(_PYDANTIC_BOUNDS[kind]).format(bound=bound)
    return message


def _field_path(loc: Sequence[int | str]) -> tuple[str, str]:
    """(where, path): ``("body", "fail", 0, "time")`` -> ``("body", "fail[0].time")``."""
    where = str(loc[0]) if loc else "body"
    path = ""
    for part in loc[1:]:
        if isinstance(part, int):
            path += f"[{part}]"
        else:
            path += f".{part}" if path else str(part)
    return where, path or where


def _validation_errors(exc: RequestValidationError) -> tuple[int, list[FieldError]]:
    status = 422
    errors = []
    for err in exc.errors():
        kind = err.get("type", "")
        loc = tuple(err.get("loc", ()))
        if kind == "json_invalid":
            status = 400
            ctx = err.get("ctx") or {}
            reason = ctx.get("error", "decode error")
            message = (_("invalid JSON at character {position}: {reason}").format(position=loc[1], reason=reason)
                       if len(loc) > 1 else _("invalid JSON: {reason}").format(reason=reason))
            errors.append(FieldError(field="body", message=message))
            continue
        where, path = _field_path(loc if loc[:1] != ("query",) else loc[:2])  # ?kind=a&kind=b: just "kind"
        named = (err.get("ctx") or {}).get("name")
        if kind == "scenario" and isinstance(named, str):
            path = f"{path}.{named}" if path != where else named
        error = (err.get("ctx") or {}).get("error")
        said = error.args[0] if isinstance(error, ValueError) and error.args else None
        message = str(said) if isinstance(said, Message) else _pydantic_message(err)
        if kind == "missing":
            message = (_("missing required field") if where == "body"
                       else _("missing required {where} parameter").format(where=where))
        elif kind == "extra_forbidden":
            message = _("is not a known field")
        errors.append(FieldError(field=path, message=message))
    return status, errors


def install_problem_handlers(app: FastAPI) -> None:
    """Render every error the API can meet as problem+json."""

    @app.exception_handler(APIProblem)
    async def _api_problem(request: Request, exc: APIProblem) -> JSONResponse:
        return exc.response()

    @app.exception_handler(RequestValidationError)
    async def _request_invalid(request: Request, exc: RequestValidationError) -> JSONResponse:
        status, errors = _validation_errors(exc)
        detail = "; ".join(f"{e.field}: {e.message}" for e in errors) or N_("the request is invalid")
        return APIProblem(status, detail, field=errors[0].field if errors else None, errors=errors).response()

    @app.exception_handler(StarletteHTTPException)
    async def _http(request: Request, exc: StarletteHTTPException) -> JSONResponse:
        detail = exc.detail if isinstance(exc.detail, str) else _TITLES.get(exc.status_code, "error")
        if exc.status_code == 404 and detail == "Not Found":
            detail = _("no route {path}; see /docs for the endpoints").format(path=request.url.path)
        return APIProblem(exc.status_code, detail, headers=getattr(exc, "headers", None)).response()

    @app.exception_handler(ElementNotFound)
    async def _not_found(request: Request, exc: ElementNotFound) -> JSONResponse:
        return APIProblem(404, str(exc)).response()

    @app.exception_handler(ValidationError)
    async def _invalid_data(request: Request, exc: ValidationError) -> JSONResponse:
        errors = [FieldError(field=p.where or "body", message=p.message) for p in exc.problems]
        detail = str(exc.problems[0]) if exc.problems else _("the request is invalid")
        if len(errors) > 1:
            detail += _(" (and {n} more)").format(n=f"{len(errors) - 1}{'+' if exc.truncated else ''}")
        return APIProblem(422, detail, field=errors[0].field if errors else None, errors=errors).response()

    @app.exception_handler(CypherRefused)
    async def _cypher_refused(request: Request, exc: CypherRefused) -> JSONResponse:
        return APIProblem(422, str(exc), field="query", slug="cypher-refused", title=N_("Cypher refused")).response()

    @app.exception_handler(UnsupportedOperation)
    async def _unsupported(request: Request, exc: UnsupportedOperation) -> JSONResponse:
        return APIProblem(400, str(exc), slug="unsupported-operation", title=N_("Unsupported operation")).response()

    @app.exception_handler(StoreUnavailable)
    async def _unavailable(request: Request, exc: StoreUnavailable) -> JSONResponse:
        with language("en"):  # the log is the operator's: the code's own words, whatever the caller reads
            _log.error("store unavailable (%s): %s", exc.reason, exc)
        status, detail = STORE_PROBLEMS.get(exc.reason, STORE_PROBLEMS["unreachable"])
        return APIProblem(status, detail).response()

    @app.exception_handler(ClusterError)
    async def _cluster(request: Request, exc: ClusterError) -> JSONResponse:
        # The message names the scheduler's address: logged for the operator, not told to callers.
        with language("en"):
            _log.error("cluster unavailable: %s", exc)
        return APIProblem(503, _("the analysis cluster is unavailable; try again later")).response()

    @app.exception_handler(Cancelled)
    async def _cancelled(request: Request, exc: Cancelled) -> JSONResponse:
        return APIProblem(504, _("the request was stopped: {reason}").format(reason=exc)).response()

    @app.exception_handler(ResultTooLarge)
    async def _too_large(request: Request, exc: ResultTooLarge) -> JSONResponse:
        setting = _SETTINGS_OF_LIMITS.get(exc.parameter)
        detail = f"{exc} ({setting}={exc.limit})" if setting else str(exc)
        return APIProblem(422, detail, slug="result-too-large", title=N_("Result too large"), limit=setting).response()

    @app.exception_handler(KGError)
    async def _kg_error(request: Request, exc: KGError) -> JSONResponse:
        return APIProblem(400, str(exc)).response()

    @app.exception_handler(Exception)
    async def _unexpected(request: Request, exc: Exception) -> JSONResponse:
        request_id = request.scope.get("state", {}).get("request_id", "-")
        _log.exception("unhandled error in request %s", request_id)
        detail = _("an unexpected error occurred; quote request id {request_id} when reporting it").format(
            request_id=request_id)
        return APIProblem(500, detail).response()
