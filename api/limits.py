"""How many expensive requests may run at once: per API key, and in all (one process).

Expensive requests are those that compute over the whole graph or much of it
(cascades, Monte Carlo, criticality, robustness curves, paths and single points
of failure, the coordination picture), or hold the store for long (Cypher, SPARQL, exports, loads).
Each holds a slot from its start until its answer is sent; a request that finds
no free slot is answered 429 at once, with ``Retry-After`` and the name of the
limit reached, instead of queueing (a queue would only move the wait, and the
memory, inside the server).

Examples
--------
>>> limiter = ConcurrencyLimiter(per_key=1, total=2, hold_s=30)
>>> first = limiter.acquire("key-a")
>>> limiter.acquire("key-a")
Traceback (most recent call last):
...
api.limits.LimitReached: KG_MAX_CONCURRENT_PER_KEY
>>> second = limiter.acquire("key-b")  # another key is not held back
>>> limiter.acquire("key-c")
Traceback (most recent call last):
...
api.limits.LimitReached: KG_MAX_CONCURRENT
>>> limiter.release(first)
>>> limiter.running("key-a"), limiter.running()
(0, 1)
"""

from __future__ import annotations

import math
import threading
import time
from dataclasses import dataclass

__all__ = ["ConcurrencyLimiter", "LimitReached", "Slot"]


class LimitReached(Exception):
    """No slot is free: ``setting`` names the limit reached, ``limit`` its value, ``retry_after`` the seconds
    until a slot is sure to be free (the earliest running request's time limit)."""

    def __init__(self, setting: str, limit: int, retry_after: int) -> None:
        super().__init__(setting)
        self.setting = setting
        self.limit = limit
        self.retry_after = retry_after


@dataclass(frozen=True, eq=False)
class Slot:
    """One expensive request running for ``key`` since ``started`` (:func:`time.monotonic`)."""

    key: str
    started: float


class ConcurrencyLimiter:
    """At most ``per_key`` slots per key and ``total`` in all; ``hold_s`` is how long a request may hold one.

    Safe to call from any thread (the event loop is the usual caller).
    """

    def __init__(self, *, per_key: int, total: int, hold_s: float) -> None:
        self.per_key = per_key
        self.total = total
        self.hold_s = hold_s
        self._lock = threading.Lock()
        self._slots: dict[str, list[Slot]] = {}
        self._count = 0

    def acquire(self, key: str) -> Slot:
        """A slot for ``key``, or :class:`LimitReached` naming the per-key or the global limit."""
        now = time.monotonic()
        with self._lock:
            held = self._slots.get(key, [])
            if len(held) >= self.per_key:
                raise LimitReached("KG_MAX_CONCURRENT_PER_KEY", self.per_key, self._retry_after(held, now))
            if self._count >= self.total:
                every = [s for slots in self._slots.values() for s in slots]
                raise LimitReached("KG_MAX_CONCURRENT", self.total, self._retry_after(every, now))
            slot = Slot(key, now)
            self._slots.setdefault(key, []).append(slot)
            self._count += 1
            return slot

    def release(self, slot: Slot) -> None:
        """Give ``slot`` back (once)."""
        with self._lock:
            held = self._slots.get(slot.key, [])
            if slot in held:
                held.remove(slot)
                self._count -= 1
            if not held:
                self._slots.pop(slot.key, None)

    def running(self, key: str | None = None) -> int:
        """Slots held by ``key``, or by everyone."""
        with self._lock:
            return self._count if key is None else len(self._slots.get(key, []))

    def _retry_after(self, blocking: list[Slot], now: float) -> int:
        """Whole seconds until the earliest of ``blocking`` reaches its time limit (at least 1)."""
        soonest = min((s.started + self.hold_s for s in blocking), default=now)
        return max(1, math.ceil(soonest - now))
