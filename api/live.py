"""The live state a server keeps: the event log in memory, the current picture, dead letters.

One :class:`LiveHub` per app. Every way events arrive (``POST /v1/events``,
MQTT) records them through :meth:`LiveHub.record`, which stores them (all or
nothing) and adds them to the in-memory :class:`~kg.live.EventLog`; the log
counts its changes, which is what ``GET /v1/live/stream`` watches. Events
another server process stored are picked up from the store every
:data:`REFRESH_S` seconds, so every replica's stream follows the same history.
"""

from __future__ import annotations

import logging
import threading
import time
from collections import deque
from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any

import orjson

from api.state import StoreHolder
from kg.analysis.cancel import CancelToken
from kg.errors import ValidationError
from kg.live import EventLog, Recorded, down_at, live_picture, parse_events, record_events
from kg.live.mqtt import MqttSubscriber, message_items

__all__ = ["REFRESH_S", "DeadLetter", "LiveHub"]

REFRESH_S = 2.0
"""How often a server reads events that other processes stored (a stream sees them within this)."""
_DEAD_LETTERS = 1_000
_FRESH_S = 1.0
_log = logging.getLogger("citykg.live")


class DeadLetter(dict[str, Any]):
    """A message that could not be recorded: ``{received, topic, reason, payload}`` (payload cut to 2,000 chars)."""


class LiveHub:
    """The event log, the cached picture of now, and the dead-letter list of one server process."""

    def __init__(self, holder: StoreHolder, *, max_failures: int | None = None) -> None:
        self._holder = holder
        self._max_failures = max_failures
        self._lock = threading.Lock()
        self._log: EventLog | None = None
        self._refreshed = 0.0
        self._cached: tuple[tuple[int, int], float, bytes] | None = None
        self._compute_lock = threading.Lock()
        self.dead_letters: deque[DeadLetter] = deque(maxlen=_DEAD_LETTERS)
        self.subscriber: MqttSubscriber | None = None
        """The MQTT subscriber, when the server follows a broker."""
        self.compute_s = 0.0
        """How long the last picture of now took to compute (streams wait at least this between updates)."""

    # ------------------------------------------------------------------ the log
    def log(self) -> EventLog:
        """The event log, read from the store on first use (blocking)."""
        with self._lock:
            if self._log is None:
                self._log = EventLog(self._holder.get().events())
                self._refreshed = time.monotonic()
            return self._log

    def refresh(self) -> None:
        """Add events other processes stored since (blocking; at most every :data:`REFRESH_S`)."""
        log = self.log()
        if time.monotonic() - self._refreshed < REFRESH_S:
            return
        self._refreshed = time.monotonic()
        store = self._holder.get()
        if store.event_count() != len(log):  # another process stored events: read the history again
            log.add(store.events())

    @property
    def changes(self) -> int:
        """A counter that moves whenever an event is added (-1 before the log is read)."""
        log = self._log
        return -1 if log is None else log.changes

    def record(self, items: Sequence[tuple[str, Any]]) -> Recorded:
        """Validate ``(JSON path, event object)`` items against the graph and store them all or nothing,
        then add them to the log (blocking)."""
        store = self._holder.get()
        snap = self._holder.recent_snapshot() or self._holder.snapshot()
        events = parse_events(items, assets=snap.index)
        recorded = record_events(store, events, given=len(items), assets=snap.index)
        self.log().add(recorded.added)
        return recorded

    def subscribe(self, url: str, *, client_id: str) -> MqttSubscriber:
        """Follow the MQTT broker at ``url`` (``mqtt://HOST:PORT/PREFIX``); the subscriber runs until stopped."""
        subscriber = MqttSubscriber(url, lambda topic, payload: self.handle_message(prefix, topic, payload),
                                    client_id=client_id)
        prefix = subscriber.url.prefix
        subscriber.start()
        self.subscriber = subscriber
        return subscriber

    def handle_message(self, prefix: str, topic: str, payload: bytes) -> None:
        """Record the events of one MQTT message; a malformed one goes to the dead letters (blocking).

        :class:`~kg.errors.StoreUnavailable` is raised (the subscriber tries again, the message
        unacknowledged); every other problem is the message's and is kept with its reason.
        """
        try:
            self.record(message_items(prefix, topic, payload))
        except ValidationError as exc:
            self.dead_letter(topic, str(exc), payload)

    def dead_letter(self, topic: str, reason: str, payload: bytes) -> None:
        """Keep a message that could not be recorded (and log why); the list keeps the latest 1,000."""
        text = payload[:2_000].decode("utf-8", "replace")
        _log.warning("MQTT message on %s not recorded: %s", topic, reason)
        self.dead_letters.append(DeadLetter(received=datetime.now(UTC).isoformat(timespec="milliseconds"),
                                            topic=topic, reason=reason, payload=text))

    # ------------------------------------------------------------------ pictures
    def picture(self, as_of: datetime | None, *, cancel: CancelToken | None = None) -> dict[str, Any]:
        """The live picture at ``as_of`` (None: now), from the store's history (blocking)."""
        snap = self._holder.snapshot()
        moment = as_of or datetime.now(UTC)
        down = down_at(self._holder.get(), moment)
        return live_picture(snap, down, moment, cancel=cancel, max_failures=self._max_failures).to_dict()

    def current(self) -> tuple[int, bytes]:
        """``(changes, JSON)`` of the picture now, from the log; computed once per change (blocking)."""
        self.refresh()
        with self._compute_lock:
            snap = self._holder.recent_snapshot() or self._holder.snapshot()
            log = self.log()
            key = (log.changes, snap.version)
            cached = self._cached
            # "Now" moves on: a picture is reused for the same history only while it is fresh.
            if cached is not None and cached[0] == key and time.monotonic() - cached[1] < _FRESH_S:
                return key[0], cached[2]
            began = time.monotonic()
            moment = datetime.now(UTC)
            picture = live_picture(snap, log.down_at(moment), moment, max_failures=self._max_failures)
            body = orjson.dumps(picture.to_dict())
            self._cached = (key, time.monotonic(), body)
            self.compute_s = time.monotonic() - began
            return key[0], body

