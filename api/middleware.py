"""Pure ASGI middleware: request body size limits, and the unfinished-load header.

A body whose ``Content-Length`` is over the limit is answered 413 at once; a
streamed (chunked) body is counted as it arrives and stopped at the limit. Loads
(``POST /v1/loads``) have their own, larger limit.

Every ``/v1`` answer given while the store holds a load that has not finished
carries :data:`UNFINISHED_LOAD_HEADER`, so a client is told that the answer
may miss part of the graph without any JSON shape changing.
"""

from __future__ import annotations

from starlette.datastructures import Headers, MutableHeaders
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from api.problems import APIProblem, PayloadTooLarge
from api.state import StoreHolder
from kg.i18n import accept_language, language

__all__ = ["BODY_RECEIVED", "UNFINISHED_LOAD_HEADER", "BodyLimitMiddleware", "LanguageMiddleware",
           "UnfinishedLoadMiddleware"]

BODY_RECEIVED = "citykg.body_received"
"""Scope key, set by :class:`BodyLimitMiddleware`: true once the app has received the request's whole
body, or from the start when the request has none. Until then nobody but the route may read messages
from the client: a message read elsewhere (a check whether the client went away) would lose a chunk."""

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
        headers = Headers(scope=scope)
        scope[BODY_RECEIVED] = headers.get("content-length", "0") == "0" and "transfer-encoding" not in headers
        received = 0

        async def limited_receive() -> Message:
            nonlocal received
            message = await receive()
            if message["type"] == "http.request":
                if not message.get("more_body", False):
                    scope[BODY_RECEIVED] = True
                received += len(message.get("body", b""))
                if received > limit:
                    # An HTTPException: FastAPI re-raises it from body parsing and the
                    # problem handler renders it, wherever the body is read.
                    raise PayloadTooLarge(limit)
            return message

        await self.app(scope, limited_receive, send)



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
