"""Structured access logs: one JSON line per request, on the ``citykg.api.access`` logger.

A line holds the request id, method, route template (``/v1/assets/{asset_id}``,
so ids do not explode log cardinality), status and duration. It never holds
headers (so never a key), query strings or bodies. The request id comes from a
well-formed ``X-Request-ID`` header or is generated, and is echoed back in the
response's ``X-Request-ID``.
"""

from __future__ import annotations

import atexit
import json
import logging
import logging.handlers
import queue
import random
import re
import sys
import time
from datetime import UTC, datetime

from starlette.types import ASGIApp, Message, Receive, Scope, Send

__all__ = ["ACCESS_LOGGER", "AccessLogMiddleware", "configure_logging"]

ACCESS_LOGGER = "citykg.api.access"
_REQUEST_ID = re.compile(r"[A-Za-z0-9._-]{1,64}")


class _JSONLines(logging.Formatter):
    """Access records are already JSON; other records become JSON with their level and text."""

    def format(self, record: logging.LogRecord) -> str:
        if record.name == ACCESS_LOGGER:
            return record.getMessage()
        entry = {
            "ts": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname.lower(),
            "logger": record.name,
            "message": record.getMessage(),
        }
        if record.exc_info:
            entry["exception"] = self.formatException(record.exc_info)
        return json.dumps(entry, ensure_ascii=False)


def configure_logging(level: int = logging.INFO) -> None:
    """Send the ``citykg.api`` loggers to stderr as JSON lines, once (a no-op if already configured).

    Records go through a queue to a writer thread, so the event loop never waits on a
    write to stderr (a blocking system call, and a GIL round trip, per request).
    """
    logger = logging.getLogger("citykg.api")
    if logger.handlers:
        return
    stream = logging.StreamHandler(sys.stderr)
    stream.setFormatter(_JSONLines())
    records: queue.SimpleQueue[logging.LogRecord] = queue.SimpleQueue()
    listener = logging.handlers.QueueListener(records, stream, respect_handler_level=True)
    listener.start()
    atexit.register(listener.stop)  # flushes what is still queued
    # citykg.live: the MQTT subscriber (kg.live.mqtt) runs in the server and says what it connects to.
    for name in ("citykg.api", "citykg.live"):
        named = logging.getLogger(name)
        named.addHandler(logging.handlers.QueueHandler(records))
        named.setLevel(level)
        named.propagate = False


class AccessLogMiddleware:
    """Pure ASGI middleware: times each HTTP request and logs one line when it ends."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app
        self.log = logging.getLogger(ACCESS_LOGGER)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        # Not uuid4: its os.urandom call costs a GIL round trip per request under load, and an id
        # that only correlates log lines needs no cryptographic randomness.
        request_id = _incoming_id(scope) or f"{random.getrandbits(128):032x}"
        scope.setdefault("state", {})["request_id"] = request_id
        status = 500
        started = time.perf_counter()

        async def send_with_id(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
                message.setdefault("headers", [])
                message["headers"] = [*message["headers"], (b"x-request-id", request_id.encode())]
            await send(message)

        try:
            await self.app(scope, receive, send_with_id)
        finally:
            route = scope.get("route")
            self.log.info(json.dumps({
                "ts": datetime.now(UTC).isoformat(timespec="milliseconds"),
                "request_id": request_id,
                "method": scope.get("method"),
                "route": getattr(route, "path", None) or "(unmatched)",
                "status": status,
                "duration_ms": round((time.perf_counter() - started) * 1000, 3),
            }))


def _incoming_id(scope: Scope) -> str | None:
    for name, value in scope.get("headers", ()):
        if name == b"x-request-id":
            text = value.decode("latin-1")
            return text if _REQUEST_ID.fullmatch(text) else None
    return None
