"""The coordination picture of a cascade: who must talk to whom, from when, and who acts first.

Built from the cause edges of a :class:`~kg.analysis.cascade.CascadeResult`:
a failure whose cause group has a provider in another agency (or district) is
a *crossing* from that agency (district) to the failed asset's. For each
ordered pair we report when the downstream side was first hit (its asset lost
supply and started running on its buffer: the moment the two must talk),
when the first such failure happens, and how many failures cross.

Examples
--------
>>> from kg.analysis.cascade import cascade
>>> from kg.snapshot import build_snapshot
>>> rows = {
...     "agencies": [("grid", "Power Bureau", None, None, None, None, None),
...                  ("health", "Health Commission", None, None, None, None, None)],
...     "assets": [("S", "Substation", None, None, "grid", None, None, 0, None, None),
...                ("H", "Hospital", None, None, "health", None, None, 500, None, None)],
...     "dependencies": [("H", "S", "power", "power", 24.0)]}
>>> snap = build_snapshot(1, lambda t: rows.get(t, []))
>>> picture = coordination(snap, cascade(snap, [("S", 2.0)]))
>>> [(c.from_, c.to, c.first_contact, c.first_failure, c.failures) for c in picture.agencies]
[('grid', 'health', 2.0, 26.0, 1)]
>>> [(a.agency, a.first) for a in picture.act_first]
[('grid', 2.0), ('health', 2.0)]
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from kg.analysis.cascade import CascadeResult, Failure
from kg.snapshot import GraphSnapshot

__all__ = ["Actor", "Contact", "Coordination", "coordination"]


@dataclass(frozen=True)
class Contact:
    """Failures crossing from one agency (or region) to another."""

    from_: str
    to: str
    first_contact: float
    """Earliest time a ``to`` asset lost supply from a ``from_`` provider (it then ran on its buffer)."""
    first_failure: float
    """Earliest time such an asset failed."""
    failures: int

    def to_dict(self) -> dict[str, Any]:
        """``{from, to, first_contact, first_failure, failures}``, an item of ``agencies`` or ``regions``."""
        return {"from": self.from_, "to": self.to, "first_contact": self.first_contact,
                "first_failure": self.first_failure, "failures": self.failures}


@dataclass(frozen=True)
class Actor:
    """An agency with failed assets: when it is first hit and by what."""

    agency: str
    first: float
    """When the first of its failed assets lost a supply (went onto a buffer) or failed."""
    first_asset: str
    first_failure: float
    failures: int

    def to_dict(self) -> dict[str, Any]:
        """``{agency, first, first_asset, first_failure, failures}``, an item of ``act_first``."""
        return {"agency": self.agency, "first": self.first, "first_asset": self.first_asset,
                "first_failure": self.first_failure, "failures": self.failures}


@dataclass(frozen=True)
class Coordination:
    """Agency pairs, region pairs (at ``level``) and agencies in the order they must act."""

    level: str
    agencies: tuple[Contact, ...]
    regions: tuple[Contact, ...]
    act_first: tuple[Actor, ...]

    def to_dict(self) -> dict[str, Any]:
        """The JSON of ``POST /v1/city/coordination``: ``{level, agencies, regions, act_first}``."""
        return {"level": self.level, "agencies": [c.to_dict() for c in self.agencies],
                "regions": [c.to_dict() for c in self.regions],
                "act_first": [a.to_dict() for a in self.act_first]}


def _pairs(result: CascadeResult, side: Callable[[int], str | None], own: Callable[[Failure], str | None]
           ) -> tuple[Contact, ...]:
    found: dict[tuple[str, str], list[float]] = {}  # first contact, first failure, count
    for f in result.failures:
        to = own(f)
        if f.cause is None or to is None:
            continue
        sources = {side(p) for p in f.cause.indexes} - {None, to}
        for src in sources:
            assert src is not None
            entry = found.setdefault((src, to), [math.inf, math.inf, 0])
            entry[0] = min(entry[0], f.since)
            entry[1] = min(entry[1], f.time)
            entry[2] += 1
    contacts = [Contact(a, b, e[0], e[1], int(e[2])) for (a, b), e in found.items()]
    return tuple(sorted(contacts, key=lambda c: (c.first_contact, c.first_failure, c.from_, c.to)))


def coordination(snap: GraphSnapshot, result: CascadeResult, *, level: str = "district") -> Coordination:
    """Who must coordinate with whom, from when, for ``result`` (regions compared at ``level``)."""
    li = snap.level_index(level)

    def agency(i: int) -> str | None:
        return snap.agency_of(i)

    def region(i: int) -> str | None:
        r = int(snap.region[li, i])
        return snap.region_ids[r] if r >= 0 else None

    # At equal times the owners of the initial failures come first, then the hardest hit.
    starters = {f.agency for f in result.failures if f.cause is None}
    actors: dict[str, Actor] = {}
    for f in result.failures:
        if f.agency is None:
            continue
        seen = actors.get(f.agency)
        if seen is None:
            actors[f.agency] = Actor(f.agency, f.hit, f.id, f.time, 1)
        else:
            first, asset = min((seen.first, seen.first_asset), (f.hit, f.id))
            earliest = min(seen.first_failure, f.time)
            actors[f.agency] = Actor(f.agency, first, asset, earliest, seen.failures + 1)
    return Coordination(
        level=level,
        agencies=_pairs(result, agency, lambda f: f.agency),
        regions=_pairs(result, region, lambda f: f.regions.get(level)),
        act_first=tuple(sorted(actors.values(), key=lambda a: (
            a.first, a.agency not in starters, a.first_failure, -a.failures, a.agency))),
    )
