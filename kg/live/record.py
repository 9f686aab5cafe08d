"""Recording a batch of status events: validated against the graph and the history, stored all or nothing."""

from __future__ import annotations

from collections.abc import Container, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from kg.errors import ValidationError
from kg.i18n import _l
from kg.live.events import MAX_PROBLEMS, Located, StatusEvent, check_assets, field_problem

if TYPE_CHECKING:
    from kg.store import Store

__all__ = ["Recorded", "record_events"]


@dataclass(frozen=True)
class Recorded:
    """What a batch did: events stored now, and events given again with the same content (not stored twice)."""

    accepted: int
    duplicates: int
    added: tuple[StatusEvent, ...] = ()
    """The events stored now (for an in-memory :class:`~kg.live.state.EventLog` to follow)."""

    def to_dict(self) -> dict[str, Any]:
        """``{"accepted", "duplicates"}``: the answer of ``POST /v1/events``."""
        return {"accepted": self.accepted, "duplicates": self.duplicates}


def record_events(store: Store, events: Sequence[Located], *, given: int | None = None,
                  assets: Container[str] | None = None) -> Recorded:
    """Store ``events`` (already parsed, see :func:`kg.live.events.parse_events`) all or nothing.

    Parameters
    ----------
    store
        Any store; events never change its version (no snapshot is rebuilt).
    events
        The batch, each with where it was read.
    given
        How many events the batch held before repeats within it were merged
        (default ``len(events)``): the difference counts as duplicates.
    assets
        The asset ids of the graph (default: the store's snapshot's).

    Returns
    -------
    Recorded
        ``accepted`` new events, ``duplicates`` already stored (or repeated) with the same content.

    Raises
    ------
    ValidationError
        For an unknown asset, or an id already stored with other content; nothing is stored.
    """
    known = assets if assets is not None else store.snapshot().index
    check_assets(events, known)
    written = store.add_events([e.event for e in events])
    if written.conflicts:
        problems = [field_problem(events[k].where, "id", _l(
                        "event {id} is already recorded with other content ({status} of {asset} at {time}); an event "
                        "id names one report, give a new id for a new report",
                        id=repr(stored.id), status=stored.status, asset=stored.asset, time=stored.time))
                    for k, stored in written.conflicts]
        raise ValidationError(problems[:MAX_PROBLEMS], truncated=len(problems) > MAX_PROBLEMS)
    total = len(events) if given is None else given
    return Recorded(len(written.added), total - len(written.added), written.added)
