"""``kg mcp``: the MCP server over stdio, for an assistant running on the planner's own machine.

The local user is trusted as the CLI trusts them (every tool, the CLI's store);
each call still has a time limit, and is logged as one JSON line on stderr
(stdout carries the protocol).
"""

from __future__ import annotations

import logging
import sys
import threading
from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any

import anyio

from kg.analysis.cancel import CancelToken
from kg.analysis.criticality import criticality
from kg.answers import criticality_answer
from kg.assistants.answers import Limits
from kg.assistants.gate import Gate
from kg.assistants.server import build_server
from kg.live import down_at, live_picture, parse_events, record_events
from kg.snapshot import GraphSnapshot
from kg.sparql.engine import SparqlService
from kg.store import Store

__all__ = ["LocalServices", "serve_stdio"]

LOGGER = "citykg.mcp"


class LocalServices:
    """One open store, its snapshot rebuilt when the store's version changes, SPARQL made on first use."""

    def __init__(self, store: Store, limits: Limits | None = None) -> None:
        self._store = store
        self.limits = limits or Limits()
        self._lock = threading.Lock()
        self._snapshot: GraphSnapshot | None = None
        self._sparql: SparqlService | None = None

    def store(self) -> Store:
        return self._store

    def snapshot(self) -> GraphSnapshot:
        # One call at a time: the SQLite store shares one connection, and two calls must not build it twice.
        with self._lock:
            version = self._store.version()
            if self._snapshot is None or self._snapshot.version != version:
                self._snapshot = self._store.snapshot()
            return self._snapshot

    def sparql(self) -> SparqlService:
        with self._lock:
            if self._sparql is None:
                self._sparql = SparqlService(workers=1)
            return self._sparql

    def live(self, as_of: datetime | None, cancel: CancelToken | None) -> dict[str, Any]:
        snap = self.snapshot()
        moment = as_of or datetime.now(UTC)
        with self._lock:  # the store's one connection
            down = down_at(self._store, moment)
        return live_picture(snap, down, moment, cancel=cancel, max_failures=self.limits.max_failures).to_dict()

    def record(self, items: Sequence[tuple[str, Any]]) -> dict[str, Any]:
        snap = self.snapshot()
        events = parse_events(items, assets=snap.index)
        with self._lock:
            return record_events(self._store, events, given=len(items), assets=snap.index).to_dict()

    def ranking(self, snap: GraphSnapshot, by: str | None, top: int, cancel: CancelToken | None) -> dict[str, Any]:
        return criticality_answer(criticality(snap, by=by, top=top, cancel=cancel), by, top)

    def close(self) -> None:
        """Stop the SPARQL workers (the store is its opener's to close)."""
        with self._lock:
            if self._sparql is not None:
                self._sparql.close()
                self._sparql = None


def _logger() -> logging.Logger:
    log = logging.getLogger(LOGGER)
    if not log.handlers:
        handler = logging.StreamHandler(sys.stderr)
        handler.setFormatter(logging.Formatter("%(message)s"))
        log.addHandler(handler)
        log.setLevel(logging.INFO)
        log.propagate = False
    return log


def serve_stdio(store: Store, *, timeout_s: float) -> None:
    """Serve ``store`` over stdio until the client closes the connection."""
    services = LocalServices(store)
    server = build_server(Gate(services, timeout_s=timeout_s, logger=_logger()))
    try:
        anyio.run(server.run_stdio_async)
    finally:
        services.close()
