"""Request body size limits, enforced before a route reads the body.

A body whose ``Content-Length`` is over the limit is answered 413 at once; a
streamed (chunked) body is counted as it arrives and stopped at the limit. Loads
(``POST /v1/loads``) have their own, larger limit.
"""

from __future__ import annotations

from starlette.datastructures import Headers
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from api.problems import APIProblem, PayloadTooLarge

__all__ = ["BodyLimitMiddleware"]


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

