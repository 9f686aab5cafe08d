"""The FastAPI application.

``create_app(settings)`` builds an app; ``api.main:app`` is one built from the
``KG_*`` environment on first access (so importing this module reads nothing),
for uvicorn, gunicorn or any ASGI server::

    KG_API_KEYS=... uvicorn api.main:app
"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager, nullcontext
from typing import Any

from fastapi import Depends, FastAPI

from api.deps import GRACE_S, single_valued_query
from api.limits import ConcurrencyLimiter
from api.live import LiveHub
from api.logging import AccessLogMiddleware, configure_logging
from api.loopback import LoopbackOnlyMiddleware
from api.middleware import BodyLimitMiddleware, ClientWatchMiddleware, LanguageMiddleware, UnfinishedLoadMiddleware
from api.problems import PROBLEM_JSON, install_problem_handlers
from api.routes import api_router
from api.routes.sparql import SparqlHolder
from api.state import StoreHolder
from kg import __version__
from kg.executor import Lazy
from kg.pages import prefer_ordinary_pages
from kg.settings import Settings, load_settings
from kg.store import Store

__all__ = ["create_app"]

_log = logging.getLogger("citykg.api")

_LIMITED_PARAMETERS = {"depth": "max_depth", "top": "max_top", "limit": "max_page", "k": "max_paths"}
_LIMITED_BODY_FIELDS = {"samples": "max_samples", "time_limit": "request_timeout_s", "steps": "max_steps"}
# A body field whose limit is not its name's: a curve's orders each cost a whole curve, so fewer than
# a Monte Carlo's samples (each one cascade).
_LIMITED_SCHEMA_FIELDS = {("RobustnessRequest", "samples"): "max_curve_samples"}


def create_app(settings: Settings | None = None, *, store: Store | None = None) -> FastAPI:
    """An app serving the store of ``settings`` (or ``store``, already open, which the app will not close).

    ``settings`` defaults to :func:`~kg.settings.load_settings` (the environment).
    """
    settings = settings or load_settings()
    configure_logging()
    prefer_ordinary_pages()  # a follow's new arrays must not wait for the kernel to compact memory
    holder = StoreHolder(settings.store, store, recheck_s=settings.snapshot_recheck_ms / 1000)
    sparql = SparqlHolder(settings)

    live = LiveHub(holder, max_failures=settings.max_failures)
    executor = Lazy(settings.cluster)  # connects at the first batch request: the API starts before its cluster

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        if settings.auth_disabled:
            _log.warning("INSECURE DEV MODE: no API keys, every caller is admin; requests from anywhere but "
                         "loopback are refused")
        subscriber = live.subscribe(settings.mqtt_url, client_id=settings.mqtt_client_id) if settings.mqtt_url \
            else None
        mcp = app.state.mcp
        try:
            async with mcp.run() if mcp is not None else nullcontext():
                yield
        finally:
            if subscriber is not None:
                subscriber.stop()
        sparql.close()
        executor.close()
        holder.close()

    app = FastAPI(
        title="CityKG",
        version=__version__,
        summary="A knowledge graph of a megacity's infrastructure: what depends on what, and how failures cascade.",
        description="Send `Authorization: Bearer KEY` (or `X-API-Key: KEY`). Errors are RFC 9457 "
                    "`application/problem+json`. See docs/api.md.",
        lifespan=lifespan,
        dependencies=[Depends(single_valued_query)],
        docs_url=None, redoc_url=None,  # served by api.routes.page from the package's own files, not a CDN
    )
    app.state.settings = settings
    app.state.store_holder = holder
    app.state.sparql = sparql
    app.state.live = live
    app.state.executor = executor
    app.state.key_digests = settings.key_digests()
    app.state.limiter = ConcurrencyLimiter(per_key=settings.max_concurrent_per_key, total=settings.max_concurrent,
                                           hold_s=settings.request_timeout_s + GRACE_S)
    install_problem_handlers(app)
    app.include_router(api_router)
    app.add_middleware(ClientWatchMiddleware)  # inside the body limit: what it reads is counted once
    app.state.mcp = None
    if settings.mcp:
        from api.mcp import mount_mcp  # the MCP SDK is imported only by servers that serve it

        app.state.mcp = mount_mcp(app, settings, holder, sparql, live, app.state.limiter)
    app.add_middleware(BodyLimitMiddleware, default=settings.max_body_bytes,
                       per_path={"/v1/loads": settings.max_load_bytes, "/v1/events": settings.max_events_bytes})
    app.add_middleware(UnfinishedLoadMiddleware, holder=holder)
    app.add_middleware(LanguageMiddleware)  # outside the body limit, so its 413 speaks the request's language
    if settings.auth_disabled:
        app.add_middleware(LoopbackOnlyMiddleware)  # outside the body limit: nothing from elsewhere is read
    app.add_middleware(AccessLogMiddleware)  # added last: outermost, so it times and logs everything
    _document_settings(app, settings)
    return app


def _document_settings(app: FastAPI, settings: Settings) -> None:
    """Make the OpenAPI schema state this server's configured limits and problem media type.

    Routes are declared once at import time, but maxima such as ``depth`` come
    from the settings; writing them into the schema keeps it exact, so a client
    (or Schemathesis) knows every value the server accepts.
    """
    base_openapi = app.openapi

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is not None:
            return app.openapi_schema
        schema = base_openapi()
        for path in schema.get("paths", {}).values():
            for operation in path.values():
                for parameter in operation.get("parameters", []):
                    limit = _LIMITED_PARAMETERS.get(parameter.get("name"))
                    if limit is not None and parameter.get("in") == "query":
                        _set_maximum(parameter.get("schema", {}), getattr(settings, limit))
                for response in operation.get("responses", {}).values():
                    content = response.get("content", {})
                    if _is_problem(content.get("application/json")):
                        content[PROBLEM_JSON] = content.pop("application/json")
        for component_name, component in schema.get("components", {}).get("schemas", {}).items():
            for name, field in component.get("properties", {}).items():
                limit = _LIMITED_SCHEMA_FIELDS.get((component_name, name), _LIMITED_BODY_FIELDS.get(name))
                if limit is not None:
                    _set_maximum(field, getattr(settings, limit))
        app.openapi_schema = schema
        return schema

    app.openapi = openapi  # type: ignore[method-assign]


def _is_problem(media: dict[str, Any] | None) -> bool:
    return media is not None and str(media.get("schema", {}).get("$ref", "")).endswith("/ProblemDetail")


def _set_maximum(schema: dict[str, Any], maximum: float) -> None:
    """Set ``maximum`` on a numeric schema, or on the numeric branch of ``anyOf`` (optional values),
    unless the route already declares a lower one."""
    for branch in schema.get("anyOf", [schema]):
        if branch.get("type") in ("integer", "number"):
            branch["maximum"] = min(maximum, branch.get("maximum", maximum))


_app: FastAPI | None = None


def __getattr__(name: str) -> Any:
    # ``api.main:app`` for ASGI servers, built from the environment on first access.
    global _app
    if name == "app":
        if _app is None:
            _app = create_app()
        return _app
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
