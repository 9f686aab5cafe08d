"""The status of every asset at any time, from the history of status events.

The rules (docs/live.md): the status of an asset at time T is that of its
latest event at or before T (between events at the same instant, the greater
event id wins), ``up`` when it has none. An asset down at T has been down
since the start of its current down period: the earliest ``down`` event after
its last ``up`` event at or before T.

:class:`EventLog` keeps the events of a store in memory, per asset and in
order, so the API answers "what is down at T" without reading the whole
history again; :func:`down_at` answers it for a store, a log or a plain list.
"""

from __future__ import annotations

import bisect
import threading
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Protocol, runtime_checkable

from kg.live.events import StatusEvent, to_micros

__all__ = ["Down", "EventLog", "EventSource", "down_at", "status_at"]


@dataclass(frozen=True, slots=True)
class Down:
    """An asset that is down, since when, and the event that opened its current down period."""

    asset: str
    since: int
    """Start of the current down period, microseconds since 1970-01-01 UTC."""
    event: StatusEvent

    def to_dict(self) -> dict[str, Any]:
        """``{id, since, source}``, as in the live picture's ``down`` list."""
        return {"id": self.asset, "since": self.event.time, "source": self.event.source}


@runtime_checkable
class EventSource(Protocol):
    """Anything that lists status events in (time, id) order up to a time: a store does."""

    def events(self, *, until: int | None = None) -> Iterable[StatusEvent]: ...


def _order(event: StatusEvent) -> tuple[int, str]:
    return (event.micros, event.id)


def _as_micros(as_of: datetime | int | None) -> int | None:
    if as_of is None or isinstance(as_of, int):
        return as_of
    return to_micros(as_of)


def _down_in_order(events: Iterable[StatusEvent], until: int | None) -> dict[str, Down]:
    """Down assets after replaying ``events`` (in (time, id) order) up to ``until``."""
    open_since: dict[str, StatusEvent | None] = {}
    for event in events:
        if until is not None and event.micros > until:
            break
        if event.status == "up":
            open_since[event.asset] = None
        elif open_since.get(event.asset) is None:
            open_since[event.asset] = event
    down = [Down(a, e.micros, e) for a, e in open_since.items() if e is not None]
    return {d.asset: d for d in sorted(down, key=lambda d: (d.since, d.asset))}


class EventLog:
    """Status events held in memory, per asset in (time, id) order; safe to share between threads.

    Events may be added in any order (late reports, replays): each lands in
    its place, so the answers never depend on arrival order.

    Examples
    --------
    >>> from kg.live.events import parse_event
    >>> log = EventLog()
    >>> log.add([parse_event({"id": i, "asset": a, "status": s, "time": t}, "e") for i, a, s, t in [
    ...     ("2", "S1", "up", "2026-07-01T10:00:00Z"), ("1", "S1", "down", "2026-07-01T08:00:00Z")]])
    2
    >>> list(log.down_at(datetime.fromisoformat("2026-07-01T09:00:00Z")))
    ['S1']
    >>> list(log.down_at(datetime.fromisoformat("2026-07-01T10:00:00Z")))
    []
    """

    def __init__(self, events: Iterable[StatusEvent] = ()) -> None:
        self._lock = threading.Lock()
        self._by_asset: dict[str, list[tuple[int, str, StatusEvent]]] = {}
        self._ids: set[str] = set()
        self.changes = 0
        """Incremented by every :meth:`add` that added an event (what a live stream watches)."""
        self.add(events)

    def __len__(self) -> int:
        return len(self._ids)

    def add(self, events: Iterable[StatusEvent]) -> int:
        """Add the events not held yet (by id); the number added."""
        added = 0
        with self._lock:
            for event in events:
                if event.id in self._ids:
                    continue
                self._ids.add(event.id)
                bisect.insort(self._by_asset.setdefault(event.asset, []), (event.micros, event.id, event))
                added += 1
            if added:
                self.changes += 1
        return added

    def events(self, *, until: int | None = None) -> list[StatusEvent]:
        """Every event up to ``until`` (microseconds; None: all), in (time, id) order."""
        with self._lock:
            out = [e for items in self._by_asset.values() for _, _, e in items
                   if until is None or e.micros <= until]
        out.sort(key=_order)
        return out

    def down_at(self, as_of: datetime | int | None = None) -> dict[str, Down]:
        """The assets down at ``as_of`` (None: after every event), by start of their down period then id."""
        until = _as_micros(as_of)
        down: list[Down] = []
        with self._lock:
            for asset, items in self._by_asset.items():
                end = len(items) if until is None else bisect.bisect_right(items, (until, "\U0010ffff"))
                if end == 0 or items[end - 1][2].status != "down":
                    continue
                start = end - 1
                while start > 0 and items[start - 1][2].status == "down":
                    start -= 1
                first = items[start][2]
                down.append(Down(asset, first.micros, first))
        return {d.asset: d for d in sorted(down, key=lambda d: (d.since, d.asset))}


def down_at(source: EventSource | Iterable[StatusEvent], as_of: datetime | int | None = None) -> dict[str, Down]:
    """The assets down at ``as_of``, each with the start of its current down period.

    Parameters
    ----------
    source
        A store (its event history is read up to ``as_of``), an :class:`EventLog`,
        or any iterable of :class:`~kg.live.events.StatusEvent` in any order.
    as_of
        An aware datetime, or microseconds since 1970-01-01 UTC; None: now,
        that is after every event held.

    Returns
    -------
    dict of str to Down
        Asset id -> :class:`Down`, ordered by ``since`` then id. ``set(down_at(...))``
        is the set of ids (what ``kg restore --live`` and the MCP live tool use).

    Examples
    --------
    >>> from kg.live.events import parse_event
    >>> events = [parse_event({"id": i, "asset": a, "status": s, "time": t}, "e") for i, a, s, t in [
    ...     ("1", "S1", "down", "2026-07-01T08:00:00+08:00"), ("2", "S1", "down", "2026-07-01T09:00:00+08:00"),
    ...     ("3", "H1", "down", "2026-07-01T08:30:00+08:00"), ("4", "H1", "up", "2026-07-01T08:45:00+08:00")]]
    >>> {a: d.event.time for a, d in down_at(events).items()}
    {'S1': '2026-07-01T08:00:00+08:00'}
    >>> sorted(down_at(events, datetime.fromisoformat("2026-07-01T08:40:00+08:00")))
    ['H1', 'S1']
    """
    until = _as_micros(as_of)
    if isinstance(source, EventLog):
        return source.down_at(until)
    if isinstance(source, EventSource):
        return _down_in_order(source.events(until=until), until)
    return _down_in_order(sorted(source, key=_order), until)


def status_at(source: EventSource | Iterable[StatusEvent], asset: str, as_of: datetime | int | None = None) -> str:
    """``down`` or ``up``: the status of ``asset`` at ``as_of`` (``up`` when it has no event by then)."""
    return "down" if asset in down_at(source, as_of) else "up"

