"""Status events in Neo4j: ``:StatusEvent`` nodes linked to their asset by ``STATUS_OF``.

Event nodes carry no ``:Element`` label: they are history beside the graph,
so snapshots never read them, writing them leaves the ``:Meta`` version as it
is, and ``clear`` (which deletes elements) keeps them. A link to an asset
that a later ``clear`` removed is made again when an event of that asset is
written; the event's ``asset`` property is what reads use.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from neo4j import ManagedTransaction

from kg.live.events import StatusEvent
from kg.store.base import EventsWritten
from kg.store.neo4j_mapping import EVENT_PROPERTIES, EVENTS_ALL, EVENTS_CREATE, EVENTS_FIND, EVENTS_UNTIL

__all__ = ["add_events_tx", "event_of", "read_events_query"]


def event_of(record: Any) -> StatusEvent:
    """A :class:`StatusEvent` from a record of :func:`read_events_query`."""
    return StatusEvent(record["id"], record["asset"], record["status"], record["time"], int(record["micros"]),
                       record["source"], record["note"])


def add_events_tx(tx: ManagedTransaction, events: Sequence[StatusEvent]) -> EventsWritten:
    """In one write transaction: find the ids already stored, and create the rest unless one conflicts.

    The uniqueness constraint on ``:StatusEvent(id)`` makes a concurrent
    writer of the same id fail (and the driver retry the transaction), so an
    id never holds two contents.
    """
    stored = {e.id: e for e in map(event_of, tx.run(EVENTS_FIND, ids=[e.id for e in events]))}
    conflicts = tuple((k, stored[e.id]) for k, e in enumerate(events)
                      if e.id in stored and not stored[e.id].same_content(e))
    if conflicts:
        return EventsWritten(conflicts=conflicts)
    new = tuple(e for e in events if e.id not in stored)
    rows = [{k: v for k, v in zip(EVENT_PROPERTIES, e.row(), strict=True) if v is not None} for e in new]
    for start in range(0, len(rows), 5_000):
        tx.run(EVENTS_CREATE, rows=rows[start : start + 5_000]).consume()
    return EventsWritten(added=new)


def read_events_query(until: int | None) -> tuple[str, dict[str, Any]]:
    """The query (and parameters) listing events up to ``until`` in (time, id) order."""
    return (EVENTS_ALL, {}) if until is None else (EVENTS_UNTIL, {"until": until})
