"""Every tool call passes one gate: who calls, may they, a slot, the deadline, one log line.

:class:`Gate` is what the stdio server uses as it is (the local user, like the
CLI, may call every tool; a call runs on a worker thread with a
:class:`~kg.analysis.cancel.CancelToken` that expires at the time limit). The
HTTP face (``api.mcp``) subclasses it to check the caller's API key and role,
hold one of the API's concurrency slots and run the call with the API's own
runner, so MCP over HTTP has exactly the REST API's permissions and limits.

A log line per call, JSON on the ``logger`` given: ``tool``, ``key`` (a digest of
the caller's key, never the key), ``arguments`` (a digest of the arguments: what
was asked can be matched without logging a planner's query text), ``duration_ms``
and ``outcome`` (``ok``; ``error``: the tool answered an error, bad arguments included; ``refused``:
role or slots; ``invalid``: a malformed request).
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import logging
import threading
import time
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import anyio
import anyio.to_thread
import orjson
from mcp.server.context import CallNext, HandlerResult, ServerRequestContext
from mcp.server.mcpserver.exceptions import ToolError
from mcp.types import CallToolResult, ListToolsResult, TextContent

from kg.analysis.cancel import CancelToken
from kg.assistants.answers import Services
from kg.errors import KGError

__all__ = ["Gate", "Refused", "ToolSpec", "Work", "arguments_digest", "result"]

Work = Callable[[Services, CancelToken], dict[str, Any]]
"""A tool's computation: blocking, on a worker thread, checking the token as it goes."""


@dataclass(frozen=True)
class ToolSpec:
    """What the gate needs to know of a tool: its name, the role it needs, whether it is expensive."""

    name: str
    role: str = "read"
    """``read`` or ``write`` (the REST API's roles; ``write`` tools change the store)."""
    expensive: bool = True
    """Holds one of the caller's concurrency slots over HTTP (as the matching REST route does)."""


class Refused(KGError):
    """The caller may not make this call now (role too low, no slot free): the message says why."""


def arguments_digest(arguments: Mapping[str, Any]) -> str:
    """A short digest of a call's arguments (keys sorted), for logs that must not hold the arguments.

    >>> arguments_digest({"b": 1, "a": [2]}) == arguments_digest({"a": [2], "b": 1})
    True
    """
    text = json.dumps(arguments, sort_keys=True, ensure_ascii=False, default=str)
    return hashlib.sha256(text.encode()).hexdigest()[:16]


def result(data: dict[str, Any]) -> CallToolResult:
    """``data`` as a tool result: compact JSON text (what every model reads) and the same as structured content."""
    return CallToolResult(content=[TextContent(type="text", text=orjson.dumps(data).decode())],
                          structured_content=data)


class Gate:
    """Runs the tool calls of one server: the stdio default, every caller the local user, no slots.

    A gate is the server's middleware (it sees every ``tools/call`` before its arguments are
    validated, so it logs and refuses those too) and the tools' runner (:meth:`run`).

    Parameters
    ----------
    services
        The store, snapshots, SPARQL and limits the tools use.
    timeout_s
        Time limit of one call: the analysis is stopped at it and the call answers a tool error.
    logger
        Where the one JSON line per call goes.
    """

    def __init__(self, services: Services, *, timeout_s: float, logger: logging.Logger) -> None:
        self.services = services
        self.timeout_s = timeout_s
        self.log = logger
        self.tools: Mapping[str, ToolSpec] = {}
        """The tools served, by name (set by :func:`~kg.assistants.server.build_server`)."""
        self._one_at_a_time = threading.Lock()

    # ---------------------------------------------------------------- hooks for other faces
    def caller(self, request: object | None) -> tuple[str, str]:
        """The caller's key digest and role (``read``, ``write``, ``admin``) from the transport's request
        (over HTTP, the Starlette request); the local user is ``admin``."""
        return "local", "admin"

    @contextlib.contextmanager
    def admit(self, key: str, spec: ToolSpec) -> Iterator[None]:
        """Hold what the call needs while it runs (over HTTP: a concurrency slot); raise :class:`Refused`."""
        yield

    async def run(self, work: Work) -> CallToolResult:
        """Run ``work`` on a worker thread with a token that expires at the time limit; its answer as a tool
        result, or a :class:`ToolError` saying what went wrong.

        Calls run one at a time: one local assistant asks, and a SQLite store shares one connection
        (the time spent waiting counts against the call's limit).
        """
        cancel = CancelToken.after(self.timeout_s, reason=f"the call took longer than its time limit of "
                                                          f"{self.timeout_s:g} s and was stopped; narrow it")

        def one(services: Services, token: CancelToken) -> dict[str, Any]:
            with self._one_at_a_time:
                token.check()
                return work(services, token)

        try:
            answer: dict[str, Any] = await anyio.to_thread.run_sync(one, self.services, cancel)
        except KGError as exc:
            raise ToolError(str(exc)) from None
        return result(answer)

    def log_fields(self, request: object | None) -> dict[str, Any]:
        """Extra fields of the log line (over HTTP: the request id)."""
        return {}

    def _visible(self, listed: HandlerResult, request: object | None) -> HandlerResult:
        """``tools/list`` without the tools the caller's role may not call (a read key does not see write tools;
        calling one by name is still refused)."""
        try:
            _, role = self.caller(request)
        except Refused:
            role = "read"
        if role != "read":
            return listed
        hidden = {name for name, spec in self.tools.items() if spec.role != "read"}
        if isinstance(listed, ListToolsResult):
            return listed.model_copy(update={"tools": [t for t in listed.tools if t.name not in hidden]})
        if isinstance(listed, dict) and isinstance(listed.get("tools"), list):
            return {**listed, "tools": [t for t in listed["tools"] if t.get("name") not in hidden]}
        return listed

    # ---------------------------------------------------------------- the middleware
    async def __call__(self, ctx: ServerRequestContext[Any, Any], call_next: CallNext) -> HandlerResult:
        if ctx.method == "tools/list":
            return self._visible(await call_next(ctx), ctx.request)
        if ctx.method != "tools/call":
            return await call_next(ctx)
        params = ctx.params or {}
        name = str(params.get("name"))
        arguments = params.get("arguments")
        started = time.perf_counter()
        key, outcome = "unknown", "ok"
        try:
            key, role = self.caller(ctx.request)
            spec = self.tools.get(name)
            if spec is not None and spec.role == "write" and role == "read":
                raise Refused(f"{name} changes the store and needs a key with the write role; yours has the "
                              "read role")
            with contextlib.nullcontext() if spec is None else self.admit(key, spec):
                answer = await call_next(ctx)
            if _is_error(answer):
                outcome = "error"
            return answer
        except Refused as exc:
            outcome = "refused"
            return CallToolResult(content=[TextContent(type="text", text=f"Error calling tool {name}: {exc}")],
                                  is_error=True)
        except BaseException:
            outcome = "invalid"  # a malformed request: the SDK answers it with a protocol error
            raise
        finally:
            self.log.info(json.dumps({
                "ts": datetime.now(UTC).isoformat(timespec="milliseconds"),
                **self.log_fields(ctx.request),
                "mcp_tool": name,
                "key": key,
                "arguments": arguments_digest(arguments if isinstance(arguments, Mapping) else {}),
                "duration_ms": round((time.perf_counter() - started) * 1000, 3),
                "outcome": outcome,
            }))


def _is_error(answer: HandlerResult) -> bool:
    """Whether a ``tools/call`` answer is a tool error (the SDK may hand it on as a model or as a dict)."""
    if isinstance(answer, CallToolResult):
        return bool(answer.is_error)
    return isinstance(answer, dict) and answer.get("isError") is True
