"""Status events in the SQLite store: one table, written and read apart from the graph's tables.

The table ``status_events`` sits beside the bundle's tables; writing to it
never touches the version counter, so no snapshot is rebuilt, and
``clear`` (which empties the graph) keeps it: events are history.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Sequence
from typing import Any

from kg.live.events import FIELDS, StatusEvent
from kg.store.base import EventsWritten

__all__ = ["SCHEMA", "add_events", "count_events", "read_events"]

_COLUMNS = (*FIELDS, "micros")
SCHEMA = (
    "CREATE TABLE IF NOT EXISTS status_events (id TEXT PRIMARY KEY, asset TEXT NOT NULL, status TEXT NOT NULL, "
    "time TEXT NOT NULL, source TEXT, note TEXT, micros INTEGER NOT NULL) WITHOUT ROWID",
    "CREATE INDEX IF NOT EXISTS status_events_order ON status_events(micros, id)",
)
_CHUNK = 500  # ids per IN (...) lookup, well under SQLite's parameter limit


def _event(row: tuple[Any, ...]) -> StatusEvent:
    event_id, asset, status, time, source, note, micros = row
    return StatusEvent(event_id, asset, status, time, int(micros), source, note)


def add_events(db: sqlite3.Connection, events: Sequence[StatusEvent]) -> EventsWritten:
    """Insert the new events of ``events`` in one transaction (the caller maps sqlite3 errors).

    ``BEGIN IMMEDIATE`` takes the write lock before the ids are looked up, so
    two writers cannot both find an id free and store two contents for it.
    """
    db.execute("BEGIN IMMEDIATE")
    try:
        stored: dict[str, StatusEvent] = {}
        ids = [e.id for e in events]
        for start in range(0, len(ids), _CHUNK):
            chunk = ids[start : start + _CHUNK]
            query = f"SELECT {', '.join(_COLUMNS)} FROM status_events WHERE id IN ({','.join('?' * len(chunk))})"
            for row in db.execute(query, chunk):
                event = _event(row)
                stored[event.id] = event
        conflicts = tuple((k, stored[e.id]) for k, e in enumerate(events)
                          if e.id in stored and not stored[e.id].same_content(e))
        if conflicts:
            db.execute("ROLLBACK")
            return EventsWritten(conflicts=conflicts)
        new = tuple(e for e in events if e.id not in stored)
        db.executemany(f"INSERT INTO status_events ({', '.join(_COLUMNS)}) VALUES ({','.join('?' * len(_COLUMNS))})",
                       [e.row() for e in new])
        db.execute("COMMIT")
        return EventsWritten(added=new)
    except BaseException:
        if db.in_transaction:
            db.execute("ROLLBACK")
        raise


def count_events(db: sqlite3.Connection) -> int:
    """How many events are stored."""
    if not db.execute("SELECT 1 FROM sqlite_master WHERE name = 'status_events'").fetchone():
        return 0
    return int(db.execute("SELECT count(*) FROM status_events").fetchone()[0])


def read_events(db: sqlite3.Connection, until: int | None) -> list[StatusEvent]:
    """Events up to ``until`` (microseconds; None: all) in (time, id) order."""
    query = f"SELECT {', '.join(_COLUMNS)} FROM status_events"
    if not db.execute("SELECT 1 FROM sqlite_master WHERE name = 'status_events'").fetchone():
        return []  # a store made before events existed, opened read-only (so it could not gain the table)
    if until is None:
        rows = db.execute(f"{query} ORDER BY micros, id")
    else:
        rows = db.execute(f"{query} WHERE micros <= ? ORDER BY micros, id", (until,))
    return [_event(row) for row in rows]
