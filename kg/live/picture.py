"""The live picture: the cascade from what is down now, and the forecast of what fails next, in clock time.

At ``as_of`` the assets down are the initial failures, each at the start of
its current down period; hour 0 (``origin``) is the earliest of those starts,
and round one's cascade runs from there, through the one scenario runner
(:mod:`kg.scenario`, a live scenario) (a buffer counts from the moment its
supply was lost). Failures at or before ``as_of`` are down now; the later ones
are the **forecast**, each with its absolute time and the agencies that must
talk before then (the failing asset's and its lost providers').
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from kg.analysis.cancel import CancelToken
from kg.analysis.cascade import CascadeResult, Failure
from kg.live.events import iso, to_micros
from kg.live.state import Down
from kg.scenario import HOUR_US, Scenario, cascade_of, live_start
from kg.snapshot import GraphSnapshot

__all__ = ["Forecast", "LivePicture", "live_picture"]

_SLACK_H = 0.5 / HOUR_US


@dataclass(frozen=True)
class Forecast:
    """A failure still to come: when, in how long, what it loses, and who must talk before then."""

    failure: Failure
    at: str
    in_hours: float
    backup_hours: float
    """How long the asset runs on its buffer (from losing the supply to failing)."""
    agencies: tuple[str, ...]
    """The failing asset's agency first, then its lost providers' agencies (each once)."""

    def to_dict(self) -> dict[str, Any]:
        cause = self.failure.cause
        return {"id": self.failure.id, "type": self.failure.type, "at": self.at, "in_hours": self.in_hours,
                "kind": None if cause is None else cause.kind, "backup_hours": self.backup_hours,
                "providers": [] if cause is None else list(cause.providers), "agency": self.failure.agency,
                "coordinate": list(self.agencies), "population": self.failure.population}


@dataclass(frozen=True)
class LivePicture:
    """The live picture at ``as_of``; :meth:`to_dict` is the JSON of ``kg live`` and ``GET /v1/live``."""

    as_of: datetime
    origin: int | None
    """Hour 0 in microseconds since 1970-01-01 UTC (the earliest start of a current down period)."""
    down: tuple[Down, ...]
    cascade: CascadeResult
    forecast: tuple[Forecast, ...]
    unknown: tuple[str, ...] = ()
    """Down assets that the graph no longer holds (reported, not part of the cascade)."""

    def at(self, hours: float) -> str:
        """The ISO time ``hours`` after ``origin``, in the offset of ``as_of``."""
        assert self.origin is not None
        return iso(self.origin + round(hours * HOUR_US), self.as_of)

    @property
    def now_hours(self) -> float:
        """``as_of`` in cascade hours (0 when nothing is down)."""
        return 0.0 if self.origin is None else (to_micros(self.as_of) - self.origin) / HOUR_US

    def to_dict(self) -> dict[str, Any]:
        out = self.cascade.to_dict()
        for item, failure in zip(out["failures"], self.cascade.failures, strict=True):
            item["at"] = self.at(failure.time)
        for item, crossing in zip(out["crossings"], self.cascade.crossings, strict=True):
            item["at"] = self.at(crossing.time)
        out["as_of"] = self.as_of.isoformat()
        out["origin"] = None if self.origin is None else iso(self.origin, self.as_of)
        out["down"] = [d.to_dict() for d in self.down]
        out["forecast"] = [f.to_dict() for f in self.forecast]
        out["unknown_assets"] = list(self.unknown)
        return out


def _forecast(snap: GraphSnapshot, result: CascadeResult, picture_at: Any, now: float) -> tuple[Forecast, ...]:
    out = []
    for failure in result.failures:
        # A failure at as_of is down now; float hours are compared with half a microsecond's slack.
        if failure.time <= now + _SLACK_H or failure.cause is None:
            continue
        agencies: list[str] = [failure.agency] if failure.agency else []
        for p in failure.cause.indexes:
            code = int(snap.agency[p])
            if code >= 0 and snap.agency_ids[code] not in agencies:
                agencies.append(snap.agency_ids[code])
        out.append(Forecast(failure, picture_at(failure.time), failure.time - now,
                            failure.time - failure.cause.since, tuple(agencies)))
    return tuple(out)


def live_picture(
    snap: GraphSnapshot, down: Mapping[str, Down], as_of: datetime, *,
    cancel: CancelToken | None = None, max_failures: int | None = None,
) -> LivePicture:
    """The live picture at ``as_of`` from the assets ``down`` then (see :func:`kg.live.down_at`).

    Parameters
    ----------
    snap : GraphSnapshot
    down : mapping of str to Down
        What :func:`kg.live.down_at` returns for the same ``as_of``.
    as_of : datetime
        An aware datetime; the answer's times are written in its offset.
    cancel, max_failures
        As for :func:`kg.analysis.cascade.cascade`.

    Returns
    -------
    LivePicture
        The cascade from hour 0 = ``origin`` (no horizon: the forecast runs until nothing
        more fails), and the forecast: the failures after ``as_of``, in time order.

    Examples
    --------
    A hospital on one substation, with a 6-hour generator; the substation went down at 08:00:

    >>> from kg.snapshot import build_snapshot
    >>> from kg.live.events import parse_event
    >>> from kg.live.state import down_at
    >>> assets = [("S", "Substation", None, None, "grid", None, None, 0, None),
    ...           ("H", "Hospital", None, None, "health", None, None, 300, None)]
    >>> agencies = [("grid", "Power Bureau", None, None, None, None),
    ...             ("health", "Health Commission", None, None, None, None)]
    >>> snap = build_snapshot(1, lambda t: {"assets": assets, "agencies": agencies, "dependencies": [
    ...     ("H", "S", "power", "power", 6.0)]}.get(t, []))
    >>> events = [parse_event({"id": "1", "asset": "S", "status": "down", "time": "2026-07-01T08:00:00+08:00"}, "e")]
    >>> now = datetime.fromisoformat("2026-07-01T09:30:00+08:00")
    >>> picture = live_picture(snap, down_at(events, now), now)
    >>> [(f["id"], f["at"], f["in_hours"], f["coordinate"]) for f in picture.to_dict()["forecast"]]
    [('H', '2026-07-01T14:00:00+08:00', 4.5, ['health', 'grid'])]
    """
    if as_of.tzinfo is None:
        raise ValueError("as_of must carry a UTC offset")
    unknown = tuple(sorted(d.asset for d in down.values() if d.asset not in snap.index))
    scenario = Scenario(as_of=as_of, down=tuple((d.asset, d.since) for d in down.values()))
    origin, _ = live_start(snap, scenario)
    result = cascade_of(snap, scenario, cancel=cancel, max_failures=max_failures)
    picture = LivePicture(as_of, origin, tuple(down.values()), result, (), unknown)
    now = picture.now_hours
    forecast = _forecast(snap, result, picture.at, now)
    return LivePicture(as_of, origin, tuple(down.values()), result, forecast, unknown)

