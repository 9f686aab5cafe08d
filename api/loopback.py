"""Insecure dev mode serves loopback only: :class:`LoopbackOnlyMiddleware`.

Without API keys every caller is admin, so such a server must never answer
anyone but its own machine. ``kg serve`` refuses a non-loopback ``--host`` before
binding; an ASGI server started directly (``uvicorn api.main:app --host
0.0.0.0``) binds where it is told before the app can object, so this middleware
checks every request instead: it must come over loopback, from a loopback
client, and not through a proxy, or it is answered 403.
"""

from __future__ import annotations

import logging

from starlette.datastructures import Headers
from starlette.types import ASGIApp, Receive, Scope, Send

from api.problems import APIProblem
from kg.i18n import _l
from kg.settings import is_loopback

__all__ = ["FORWARDING_HEADERS", "LoopbackOnlyMiddleware"]

_log = logging.getLogger("citykg.api")

FORWARDING_HEADERS = ("forwarded", "x-forwarded-for", "x-forwarded-host", "x-real-ip")
"""Headers a proxy adds: a request carrying one came from somewhere else, whatever its socket says."""


class LoopbackOnlyMiddleware:
    """Pure ASGI middleware: 403 for any HTTP or WebSocket request not made over loopback by a loopback
    client without a proxy in between (the server's address, the client's and the forwarding headers are
    all checked, so neither a wildcard bind nor a local reverse proxy opens the server up)."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app
        self._warned = False

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] not in ("http", "websocket"):
            await self.app(scope, receive, send)
            return
        reason = self._refusal(scope)
        if reason is None:
            await self.app(scope, receive, send)
            return
        if not self._warned:
            self._warned = True
            _log.error("insecure dev mode refused a request %s; it serves loopback clients only", reason)
        if scope["type"] == "websocket":
            await send({"type": "websocket.close", "code": 1008})
            return
        detail = _l("this server runs in insecure dev mode (no API keys) and answers loopback clients only; this "
                    "request came {reason}", reason=reason)
        await APIProblem(403, detail).response()(scope, receive, send)

    @staticmethod
    def _refusal(scope: Scope) -> str | None:
        """Why the request is refused (for the message), or None to serve it."""
        client = scope.get("client")
        server = scope.get("server")
        if not client or not is_loopback(client[0]):
            return f"from {client[0] if client else 'an unknown address'}"
        if not server or not is_loopback(server[0]):
            return f"to {server[0] if server else 'an unknown address'}, not a loopback address"
        headers = Headers(scope=scope)
        forwarded = next((h for h in FORWARDING_HEADERS if h in headers), None)
        if forwarded is not None:
            return f"through a proxy (it has a {forwarded} header)"
        return None
