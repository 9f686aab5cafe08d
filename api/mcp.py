"""``/mcp``: CityKG's MCP server (``kg.assistants``) over Streamable HTTP, behind the API's keys and limits.

The tools, resources and prompts are those of ``kg mcp``; what this module adds
is what the REST API does for a request, done for each tool call:

* **keys and roles**: every HTTP request to ``/mcp`` must carry an API key
  (``Authorization: Bearer KEY`` or ``X-API-Key``), checked by
  :func:`api.deps.principal_of` like any route (401 without one); a tool that
  changes the store needs the write role (a read key gets a tool error);
* **limits**: an expensive tool holds one of the key's concurrency slots
  (:mod:`api.limits`; a tool error when none is free, as a route answers 429),
  runs with the API's :class:`~api.deps.Runner` (the request time limit, its
  analysis stopped by the cancel token), and gets the API's depth, top, page,
  failure, Cypher and SPARQL limits;
* **logs**: one line per tool call on the access log (request id, tool, key
  digest, arguments digest, duration, outcome) beside the request's own line.

The transport is stateless and answers JSON (no session to keep: any replica
behind a load balancer can answer any call). In insecure dev mode (no keys,
loopback only) the SDK's DNS-rebinding protection is on too: a request with an
``Origin`` other than a loopback one is refused, so a web page elsewhere cannot
drive the local server.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from datetime import datetime
from typing import Any

from fastapi import FastAPI
from mcp.server.mcpserver.exceptions import ToolError
from mcp.server.streamable_http_manager import StreamableHTTPSessionManager
from mcp.server.transport_security import TransportSecuritySettings
from mcp.types import CallToolResult
from starlette.datastructures import Headers
from starlette.routing import Route
from starlette.types import Receive, Scope, Send

from api.deps import Principal, Runner, busy_message, principal_of
from api.limits import ConcurrencyLimiter, LimitReached
from api.live import LiveHub
from api.logging import ACCESS_LOGGER
from api.problems import APIProblem
from api.routes.criticality import ranking_answer
from api.routes.sparql import SparqlHolder
from api.state import StoreHolder
from kg.analysis.cancel import CancelToken
from kg.assistants.answers import Limits
from kg.assistants.gate import Gate, Refused, ToolSpec, Work, result
from kg.assistants.server import build_server
from kg.errors import KGError
from kg.executor import Executor
from kg.settings import Role, Settings
from kg.snapshot import GraphSnapshot
from kg.sparql.engine import SparqlService
from kg.store import Store

__all__ = ["MCP_PATH", "HttpGate", "HttpServices", "mount_mcp"]

MCP_PATH = "/mcp"
_PRINCIPAL = "citykg_principal"
_LOOPBACK_HOSTS = ["127.0.0.1:*", "localhost:*", "[::1]:*"]
_LOOPBACK_ORIGINS = ["http://127.0.0.1:*", "http://localhost:*", "http://[::1]:*"]


class HttpServices:
    """The API's one store, its snapshots (with the same freshness window as the routes) and SPARQL service."""

    def __init__(self, holder: StoreHolder, sparql: SparqlHolder, live: LiveHub, limits: Limits,
                 max_top: int, executor: Executor | None = None) -> None:
        self._holder = holder
        self._executor = executor
        self._sparql = sparql
        self._live = live
        self._max_top = max_top
        self.limits = limits

    def store(self) -> Store:
        return self._holder.get()

    def snapshot(self) -> GraphSnapshot:
        recent = self._holder.recent_snapshot()
        return recent if recent is not None else self._holder.snapshot()

    def sparql(self) -> SparqlService:
        return self._sparql.get()

    def live(self, as_of: datetime | None, cancel: CancelToken | None) -> dict[str, Any]:
        return self._live.picture(as_of, cancel=cancel)

    def record(self, items: Sequence[tuple[str, Any]]) -> dict[str, Any]:
        return self._live.record(items).to_dict()

    def ranking(self, snap: GraphSnapshot, by: str | None, top: int, cancel: CancelToken | None) -> dict[str, Any]:
        assert cancel is not None  # the gate's runner always gives one
        return ranking_answer(snap, by, top, self._max_top, cancel, self._executor)


class HttpGate(Gate):
    """The gate of MCP over HTTP: the caller's key and role, the API's slots and runner."""

    def __init__(self, services: HttpServices, settings: Settings, limiter: ConcurrencyLimiter) -> None:
        super().__init__(services, timeout_s=settings.request_timeout_s, logger=logging.getLogger(ACCESS_LOGGER))
        self._limiter = limiter

    def caller(self, request: object | None) -> tuple[str, str]:
        principal = _principal(request)
        if principal is None:  # every request passes McpEndpoint first; never without a principal
            raise Refused("no API key was checked for this call")
        return principal.key, principal.role.name

    @contextmanager
    def admit(self, key: str, spec: ToolSpec) -> Iterator[None]:
        if not spec.expensive:
            yield
            return
        try:
            slot = self._limiter.acquire(key)
        except LimitReached as exc:
            raise Refused(busy_message(exc)) from None
        try:
            yield
        finally:
            self._limiter.release(slot)

    async def run(self, work: Work) -> CallToolResult:
        runner = Runner(self.timeout_s)
        try:
            answer = await runner(work, self.services, runner.cancel)
        except APIProblem as exc:  # 504: past the request time limit, the work stopped
            raise ToolError(exc.detail) from None
        except KGError as exc:
            raise ToolError(str(exc)) from None
        return result(answer)

    def log_fields(self, request: object | None) -> dict[str, Any]:
        scope = getattr(request, "scope", None) or {}
        return {"request_id": scope.get("state", {}).get("request_id")}


def _principal(request: object | None) -> Principal | None:
    scope = getattr(request, "scope", None) or {}
    found = scope.get("state", {}).get(_PRINCIPAL)
    return found if isinstance(found, Principal) else None


class McpEndpoint:
    """ASGI endpoint of ``/mcp``: checks the API key of every request, then hands it to the MCP transport."""

    def __init__(self, manager: StreamableHTTPSessionManager, settings: Settings,
                 key_digests: dict[bytes, Role]) -> None:
        self._manager = manager
        self._settings = settings
        self._key_digests = key_digests
        self.path = MCP_PATH  # what the access log names the route by

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        scope["route"] = self  # FastAPI's routes set this; the access log reads its path
        headers = Headers(scope=scope)
        scheme, _, credentials = headers.get("authorization", "").partition(" ")
        presented = credentials.strip() if scheme.lower() == "bearer" else headers.get("x-api-key")
        try:
            principal = principal_of(presented, self._settings, self._key_digests)
        except APIProblem as exc:
            await exc.response()(scope, receive, send)
            return
        scope.setdefault("state", {})[_PRINCIPAL] = principal
        await self._manager.handle_request(scope, receive, send)


def mount_mcp(app: FastAPI, settings: Settings, holder: StoreHolder, sparql: SparqlHolder, live: LiveHub,
              limiter: ConcurrencyLimiter) -> StreamableHTTPSessionManager:
    """Serve MCP at :data:`MCP_PATH` on ``app``; the returned manager must run in the app's lifespan."""
    limits = Limits(max_depth=settings.max_depth, max_top=settings.max_top, max_page=settings.max_page,
                    max_failures=settings.max_failures, max_samples=settings.max_samples,
                    max_paths=settings.max_paths,
                    cypher_timeout_s=settings.cypher_timeout_s,
                    cypher_row_limit=settings.cypher_row_limit, sparql_timeout_s=settings.sparql_timeout_s,
                    sparql_max_rows=settings.sparql_max_rows)
    server = build_server(HttpGate(HttpServices(holder, sparql, live, limits, settings.max_top,
                                                  getattr(app.state, "executor", None)), settings, limiter))
    security = TransportSecuritySettings(enable_dns_rebinding_protection=settings.auth_disabled,
                                         allowed_hosts=_LOOPBACK_HOSTS, allowed_origins=_LOOPBACK_ORIGINS)
    # The SDK's own Starlette app is not used: only its session manager, behind our endpoint and middleware.
    server.streamable_http_app(stateless_http=True, json_response=True, transport_security=security,
                               max_request_body_size=settings.max_body_bytes)
    manager = server.session_manager
    app.router.routes.append(Route(MCP_PATH, McpEndpoint(manager, settings, app.state.key_digests),
                                   methods=["GET", "POST", "DELETE"], include_in_schema=False))
    return manager
