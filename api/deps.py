"""Dependencies as ``Annotated`` aliases: a route declares only what it needs.

They are all ``async def``: none blocks, and FastAPI would otherwise run each
plain ``def`` dependency on the thread pool, a thread hop per dependency per
request. Blocking work goes through :class:`Runner` instead.

* :data:`SettingsDep`: the app's :class:`~kg.settings.Settings`.
* :data:`RunDep`: runs blocking work (store calls, analysis) on the thread pool
  within the request's time limit, and stops the analysis at it (504).
* :data:`StoreDep`, :data:`SnapshotDep`: the process's one store and its
  current :class:`~kg.snapshot.GraphSnapshot`.
* :data:`ReadAccess`, :data:`WriteAccess`, :data:`AdminAccess` (and the plain
  ``require_*`` callables for router-level ``dependencies=[...]``): the caller's
  key, checked in constant time; 401 without a known key, 403 if its role is too low.
* :func:`limit_concurrency` (for ``dependencies=[...]`` of expensive routes): one of
  the caller's concurrent-request slots, held until the answer is sent; 429 when none is free.
"""

from __future__ import annotations

import hashlib
import hmac
import logging
import threading
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass
from functools import partial
from typing import Annotated, Any, TypeVar

import anyio
import anyio.to_thread
from fastapi import Depends, Request, Response
from fastapi.security import APIKeyHeader, HTTPAuthorizationCredentials, HTTPBearer

from api.limits import ConcurrencyLimiter, LimitReached
from api.middleware import CLIENT_WATCH, ClientWatch
from api.problems import APIProblem
from api.state import StoreHolder
from api.views import json_response
from kg.analysis.cancel import Cancelled, CancelToken
from kg.executor import Executor, InProcess
from kg.i18n import N_, _, _l
from kg.settings import Role, Settings
from kg.snapshot import GraphSnapshot
from kg.store import Store

__all__ = [
    "AdminAccess",
    "Principal",
    "ReadAccess",
    "RunDep",
    "Runner",
    "SettingsDep",
    "SnapshotDep",
    "StoreDep",
    "StoreHolderDep",
    "WriteAccess",
    "authenticate",
    "busy_message",
    "limit_concurrency",
    "principal_of",
    "require_admin",
    "require_read",
    "require_write",
    "single_valued_query",
]

T = TypeVar("T")
_log = logging.getLogger("citykg.api")


async def get_settings(request: Request) -> Settings:
    """The settings the app was created with."""
    settings: Settings = request.app.state.settings
    return settings


SettingsDep = Annotated[Settings, Depends(get_settings)]


# ---------------------------------------------------------------- time limit
GRACE_S = 1.0
"""How long past its deadline a request waits for its worker to notice the cancellation and stop."""
CLIENT_CHECK_S = 0.25
"""How often a request whose work runs checks that its client is still there."""


class _Call:
    """A call to run on a worker thread that can be dropped before it starts, and tells whether it runs."""

    def __init__(self, fn: Callable[[], Any]) -> None:
        self._fn = fn
        self._lock = threading.Lock()
        self._state = "queued"  # -> running -> ended, or queued -> dropped

    def __call__(self) -> Any:
        with self._lock:
            if self._state == "dropped":
                raise Cancelled("dropped before it started")
            self._state = "running"
        try:
            return self._fn()
        finally:
            with self._lock:
                self._state = "ended"

    def drop(self) -> bool:
        """Make sure the call never starts; True if nothing runs (it never started, or it has ended)."""
        with self._lock:
            if self._state == "queued":
                self._state = "dropped"
            return self._state != "running"


class Runner:
    """Runs blocking calls on worker threads, all within one request deadline, and stops them at it.

    ``cancel`` is the request's :class:`~kg.analysis.cancel.CancelToken`: routes pass it to the
    analysis they run, which checks it as it goes. At the deadline the token expires, so the work
    stops itself (raising :class:`~kg.analysis.cancel.Cancelled`) within a fraction of a second; the
    request waits up to :data:`GRACE_S` for that, then answers 504. The token is cancelled too when
    the client goes away (checked every :data:`CLIENT_CHECK_S` while work runs) or the request ends
    for another reason (the server shuts down). Work that does not take the token (a store call,
    building a snapshot shared by every later request) finishes in the background. Loads are the
    exception: they run to the end (see ``routes/loads.py``).
    """

    def __init__(self, timeout_s: float, request: Request | None = None, executor: Executor | None = None) -> None:
        self.timeout_s = timeout_s
        self.executor = executor or InProcess()
        """Where batch work runs (``KG_CLUSTER``): routes hand it to Monte Carlo, criticality, robustness, plans."""
        self.cancel = CancelToken.after(timeout_s)
        self.deadline = self.cancel.deadline
        self._request = request

    async def __call__(self, fn: Callable[..., T], /, *args: Any, **kwargs: Any) -> T:
        call = _Call(partial(fn, *args, **kwargs))
        outcome: list[tuple[bool, Any]] = []  # (True, result) or (False, exception); empty past the deadline
        try:
            async with anyio.create_task_group() as watching:
                if self._request is not None:
                    watching.start_soon(self._watch_client, self._request)
                with anyio.move_on_after(max(self.deadline - time.monotonic(), 0)):
                    try:
                        outcome.append((True, await anyio.to_thread.run_sync(call, abandon_on_cancel=True)))
                    except Exception as exc:  # kept for after the task group, which would wrap it in a group
                        outcome.append((False, exc))
                watching.cancel_scope.cancel()
        finally:
            if not call.drop():
                self.cancel.cancel("the request ended")
        if outcome:
            finished, value = outcome[0]
            if finished:
                result: T = value
                return result
            if not isinstance(value, Cancelled):
                raise value
        await self._wait(call, fn)
        raise APIProblem(504, _l("the request took longer than its time limit of {seconds} s and was stopped; "
                                 "narrow it (smaller depth, top or samples) or ask for a higher KG_REQUEST_TIMEOUT_S",
                                 seconds=f"{self.timeout_s:g}"))

    async def _watch_client(self, request: Request) -> None:
        """Cancel the token once the client has gone: nobody would read the answer.

        The request's :class:`~api.middleware.ClientWatch` asks without losing a message the route
        still needs (a chunk of its body); without one (an app built without the middleware) the
        request is not watched.
        """
        watch: ClientWatch | None = request.scope.get(CLIENT_WATCH)
        if watch is None:
            return
        while not await watch.gone():
            await anyio.sleep(CLIENT_CHECK_S)
        self.cancel.cancel("the client went away")

    async def _wait(self, call: _Call, fn: Callable[..., Any]) -> None:
        """Give the cancelled worker a moment to stop, so that a 504 means the work is over."""
        until = time.monotonic() + GRACE_S
        while not call.drop() and time.monotonic() < until:
            await anyio.sleep(0.01)
        if not call.drop():
            _log.warning("%s still runs %g s after its request's deadline (it does not check a cancel token)",
                         getattr(fn, "__qualname__", fn), GRACE_S)

    async def json(self, fn: Callable[..., Any], /, *args: Any, **kwargs: Any) -> Response:
        """``fn(*args, **kwargs)`` encoded as a JSON response, both on the worker thread.

        The answer is not validated again against the route's response model:
        it is the JSON of a kg function, and validating tens of thousands of
        items per request would cost more than computing them. The models
        still document it, and the tests (Schemathesis included) check it.
        """
        def encoded() -> Response:
            answer = fn(*args, **kwargs)
            self.cancel.check()  # encoding a large answer takes a while: not past the deadline
            return json_response(answer)

        return await self(encoded)


async def get_runner(request: Request, settings: SettingsDep) -> Runner:
    """A runner whose deadline starts now (dependencies are solved as the request starts)."""
    return Runner(settings.request_timeout_s, request, getattr(request.app.state, "executor", None))


RunDep = Annotated[Runner, Depends(get_runner)]


# ---------------------------------------------------------------- store
async def get_store_holder(request: Request) -> StoreHolder:
    """The holder of the process's one store."""
    holder: StoreHolder = request.app.state.store_holder
    return holder


StoreHolderDep = Annotated[StoreHolder, Depends(get_store_holder)]


async def get_store(holder: StoreHolderDep, run: RunDep) -> Store:
    """The store, opened on first use (a blocking connect, so off the event loop)."""
    store = holder.opened
    return store if store is not None else await run(holder.get)


StoreDep = Annotated[Store, Depends(get_store)]


async def get_snapshot(holder: StoreHolderDep, run: RunDep) -> GraphSnapshot:
    """The snapshot of the store's current version (built once per version, then cached; see
    :class:`~api.state.StoreHolder` for how often the version is checked)."""
    recent = holder.recent_snapshot()
    return recent if recent is not None else await run(holder.snapshot)


SnapshotDep = Annotated[GraphSnapshot, Depends(get_snapshot)]


# ---------------------------------------------------------------- query strings
REPEATABLE_QUERY = frozenset({"kind", "layer", "fail", "hazard"})
"""Query parameters that may be given more than once (``?kind=power&kind=water``, ``?layer=assets&layer=regions``)."""

OWN_QUERY_RULES = frozenset({"/v1/sparql"})
"""Paths that follow another protocol's parameter rules (SPARQL 1.1 Protocol: repeated dataset
parameters, and clients such as SPARQLWrapper repeat their own ``format``); they check their own."""


async def single_valued_query(request: Request) -> None:
    """422 when a single-valued query parameter is given twice (instead of silently keeping one)."""
    if request.url.path.rstrip("/") in OWN_QUERY_RULES:
        return
    seen: set[str] = set()
    for name, _value in request.query_params.multi_items():
        if name in seen and name not in REPEATABLE_QUERY:
            raise APIProblem(422, _l("query parameter {name} is given more than once; give it once", name=repr(name)),
                             field=name)
        seen.add(name)


# ---------------------------------------------------------------- auth
@dataclass(frozen=True, slots=True)
class Principal:
    """Who is calling: the role of their key and a name for it (the key itself is not kept)."""

    role: Role
    key: str
    """A short digest of the key (what concurrency limits count by), or ``insecure-dev``."""
    insecure_dev: bool = False


_bearer = HTTPBearer(auto_error=False, scheme_name="BearerKey",
                     description="Authorization: Bearer KEY, a key from KG_API_KEYS.")
_api_key_header = APIKeyHeader(name="X-API-Key", auto_error=False, scheme_name="HeaderKey",
                               description="X-API-Key: KEY, a key from KG_API_KEYS.")
_UNAUTHORIZED = {"WWW-Authenticate": 'Bearer realm="citykg"'}


async def authenticate(
    request: Request,
    settings: SettingsDep,
    bearer: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)],
    header_key: Annotated[str | None, Depends(_api_key_header)],
) -> Principal:
    """The caller's principal; 401 when no key or an unknown key is sent."""
    presented = bearer.credentials if bearer is not None else header_key
    return principal_of(presented, settings, request.app.state.key_digests)


def principal_of(presented: str | None, settings: Settings, key_digests: dict[bytes, Role]) -> Principal:
    """The principal of the key ``presented`` (None: none sent); :class:`APIProblem` 401 when it is missing
    or unknown. Every face that takes API keys (the routes, MCP over HTTP) checks them here."""
    if settings.auth_disabled:
        return Principal(Role.admin, "insecure-dev", insecure_dev=True)
    if not presented:
        raise APIProblem(401, N_("missing API key: send Authorization: Bearer KEY or X-API-Key: KEY"),
                         headers=_UNAUTHORIZED)
    digest = hashlib.sha256(presented.encode("utf-8", "surrogateescape")).digest()
    role: Role | None = None
    # Compare with every key, without stopping early: the time taken says nothing about which matched.
    for known, known_role in key_digests.items():
        if hmac.compare_digest(known, digest):
            role = known_role
    if role is None:
        raise APIProblem(401, N_("unknown API key"), headers=_UNAUTHORIZED)
    return Principal(role, digest[:6].hex())


def _require(needed: Role) -> Callable[[Principal], Awaitable[Principal]]:
    async def check(principal: Annotated[Principal, Depends(authenticate)]) -> Principal:
        if principal.role < needed:
            raise APIProblem(403, _l("this needs a key with the {needed} role; yours has {role}", needed=needed.name,
                                     role=principal.role.name))
        return principal

    check.__name__ = f"require_{needed.name}"
    check.__doc__ = f"The caller, if their key has at least the {needed.name} role (else 401/403)."
    return check


require_read = _require(Role.read)
require_write = _require(Role.write)
require_admin = _require(Role.admin)

# ---------------------------------------------------------------- concurrency
def busy_message(exc: LimitReached) -> str:
    """What a caller is told when no slot is free (429 from a route, a tool error over MCP)."""
    template = (N_("this key has {n} expensive requests running already, the most allowed ({setting}={n}); retry "
                   "when one has finished") if exc.setting.endswith("_PER_KEY") else
                N_("this server has {n} expensive requests running already, the most allowed ({setting}={n}); retry "
                   "when one has finished"))
    return _(template).format(n=exc.limit, setting=exc.setting)


async def limit_concurrency(
    request: Request, principal: Annotated[Principal, Depends(authenticate)]
) -> AsyncIterator[None]:
    """Hold one of the caller's expensive-request slots until the answer is sent; 429 when none is free.

    For ``dependencies=[...]`` of expensive routes, after the role check. The limits are
    ``KG_MAX_CONCURRENT_PER_KEY`` and ``KG_MAX_CONCURRENT`` (see :mod:`api.limits`).
    """
    limiter: ConcurrencyLimiter = request.app.state.limiter
    try:
        slot = limiter.acquire(principal.key)
    except LimitReached as exc:
        raise APIProblem(429, busy_message(exc), limit=exc.setting,
                         headers={"Retry-After": str(exc.retry_after)}) from None
    try:
        yield
    finally:
        limiter.release(slot)


ReadAccess = Annotated[Principal, Depends(require_read)]
WriteAccess = Annotated[Principal, Depends(require_write)]
AdminAccess = Annotated[Principal, Depends(require_admin)]
