"""Pure ASGI middleware: request body size limits, a watch on the client, and the unfinished-load header.

A body whose ``Content-Length`` is over the limit is answered 413 at once; a
streamed (chunked) body is counted as it arrives and stopped at the limit. Loads
(``POST /v1/loads``) have their own, larger limit.

Every ``/v1`` answer given while the store holds a load that has not finished
carries :data:`UNFINISHED_LOAD_HEADER`, so a client is told that the answer
may miss part of the graph without any JSON shape changing.

A request's :class:`ClientWatch` tells the runner of its work whether the client
went away, without taking a message the route still has to read.
"""

from __future__ import annotations

import anyio
from starlette.datastructures import Headers, MutableHeaders
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from api.problems import APIProblem, PayloadTooLarge
from api.state import StoreHolder
from kg.i18n import accept_language, language

__all__ = ["CLIENT_WATCH", "UNFINISHED_LOAD_HEADER", "BodyLimitMiddleware", "ClientWatch", "ClientWatchMiddleware",
           "LanguageMiddleware", "UnfinishedLoadMiddleware"]

CLIENT_WATCH = "citykg.client_watch"
"""Scope key of the request's :class:`ClientWatch`."""

UNFINISHED_LOAD_HEADER = "CityKG-Unfinished-Load"
"""``running`` or ``stalled``, with ``started``, ``written`` and ``rows`` parameters (an RFC 8941 item):
``CityKG-Unfinished-Load: stalled;started="2025-06-01T08:00:00Z";written=120000;rows=420000``."""


class LanguageMiddleware:
    """Pure ASGI middleware: the request's language (``Accept-Language``: zh or en) for problem titles and details.

    Set in a context variable (:mod:`kg.i18n`) for the request's task and what it starts, so requests served
    at once each keep their own. Answers without the header are in English.
    """

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        with language(accept_language(Headers(scope=scope).get("accept-language"))):
            await self.app(scope, receive, send)


class BodyLimitMiddleware:
    """Pure ASGI middleware: ``default`` bytes per request body, ``per_path`` overrides by exact path."""

    def __init__(self, app: ASGIApp, *, default: int, per_path: dict[str, int] | None = None) -> None:
        self.app = app
        self.default = default
        self.per_path = per_path or {}

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        limit = self.per_path.get(scope["path"].rstrip("/") or "/", self.default)
        length = Headers(scope=scope).get("content-length")
        if length is not None and length.isdigit() and int(length) > limit:
            response = APIProblem(413, PayloadTooLarge(limit).detail).response()
            await response(scope, receive, send)
            return
        received = 0

        async def limited_receive() -> Message:
            nonlocal received
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > limit:
                    # An HTTPException: FastAPI re-raises it from body parsing and the
                    # problem handler renders it, wherever the body is read.
                    raise PayloadTooLarge(limit)
            return message

        await self.app(scope, limited_receive, send)



class ClientWatch:
    """Whether the client has gone, asked without taking a message from the route.

    The only way to learn that an HTTP client went away is to read its next ASGI message; the route
    may still need that message (its body, or the empty body of a GET it reads). So the watch keeps
    what it reads and hands it to the route first: it is the route's ``receive`` too. It holds at
    most one message, so a watched upload is never buffered beyond one chunk.
    """

    def __init__(self, receive: Receive) -> None:
        self._receive = receive
        self._kept: Message | None = None
        self._gone = False

    async def receive(self) -> Message:
        """The route's ``receive``: a message the watch read first, else the next one."""
        if self._kept is not None:
            message, self._kept = self._kept, None
            return message
        message = await self._receive()
        if message["type"] == "http.disconnect":
            self._gone = True
        return message

    async def gone(self) -> bool:
        """True once the client has disconnected; never waits for a message."""
        if self._gone or self._kept is not None:
            return self._gone
        with anyio.CancelScope() as scope:
            scope.cancel()  # take a message only if one is ready: the receive returns before its first wait
            self._kept = await self._receive()
        if self._kept is not None and self._kept["type"] == "http.disconnect":
            self._gone = True
        return self._gone


class ClientWatchMiddleware:
    """Pure ASGI middleware: a :class:`ClientWatch` per HTTP request, in the scope as :data:`CLIENT_WATCH`."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        watch = ClientWatch(receive)
        scope[CLIENT_WATCH] = watch
        await self.app(scope, watch.receive, send)


class UnfinishedLoadMiddleware:
    """Add :data:`UNFINISHED_LOAD_HEADER` to ``/v1`` answers while the holder's last status shows an unfinished load.

    The status is the one read at the holder's last version check, that is the
    one the answer's snapshot was taken with.
    """

    def __init__(self, app: ASGIApp, *, holder: StoreHolder) -> None:
        self.app = app
        self.holder = holder

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or not scope["path"].startswith("/v1/"):
            await self.app(scope, receive, send)
            return

        async def send_with_header(message: Message) -> None:
            status = self.holder.status
            if message["type"] == "http.response.start" and status is not None and status.unfinished_load:
                load = status.unfinished_load
                MutableHeaders(scope=message).append(
                    UNFINISHED_LOAD_HEADER, f'{load.state};started="{load.started}";written={load.written};'
                                            f"rows={load.rows}")
            await send(message)

        await self.app(scope, receive, send_with_header)
