"""What a restoration plan means for a command centre: each agency's first repairs, each district's return.

:func:`summarise` reads a :class:`~kg.analysis.restoration.RestorationResult` against its snapshot:

* per agency: the crews at work, the number of repairs, when the last one ends, and the first
  repairs in time order (what to dispatch now);
* per district: the people cut off at hour 0, and when its power, its water and all its people
  are back. A district's power is back when every asset there that supplies power to another
  asset (damaged or cut off) works again; water likewise; everyone when every asset there with a
  population works again.
* per repair end: how many people are served again at that hour (the curve's step there).
"""

from __future__ import annotations

import itertools
from collections.abc import Iterable
from dataclasses import dataclass

from kg.analysis.restoration import Repair, RestorationResult, evaluate_schedule
from kg.snapshot import GraphSnapshot

__all__ = ["FIRST_REPAIRS", "SERVICES", "AgencyPlan", "DistrictReturn", "RestorationSummary", "summarise"]

FIRST_REPAIRS = 8
"""Repairs listed per agency: enough to dispatch every crew of a small agency twice."""

SERVICES = ("power", "water")
"""The service kinds whose return the briefing times per district."""


@dataclass(frozen=True)
class AgencyPlan:
    """One agency's part: ``agency`` is ``None`` for assets nobody is recorded as responsible for."""

    agency: str | None
    crews: int
    repairs: int
    done: float
    first: tuple[Repair, ...]


@dataclass(frozen=True)
class DistrictReturn:
    """When a district is whole again (hours; ``None``: nothing of that sector was cut off there)."""

    district: str | None
    population: int
    power: float | None
    water: float | None
    everyone: float | None


@dataclass(frozen=True)
class RestorationSummary:
    affected_population: int
    """People not served at hour 0."""
    agencies: tuple[AgencyPlan, ...]
    """Sorted by the time their work is done, latest first (the agency that paces the recovery)."""
    districts: tuple[DistrictReturn, ...]
    """Sorted by people cut off, most first, then by id."""
    people_back: dict[str, int]
    """Repair id -> people served again at the hour it ends (shared by repairs ending together)."""


def summarise(snap: GraphSnapshot, result: RestorationResult, *, first: int = FIRST_REPAIRS
              ) -> RestorationSummary:
    """The per-agency and per-district reading of ``result`` (values it again: about one cascade).

    Examples
    --------
    >>> from kg.snapshot import build_snapshot
    >>> from kg.analysis.restoration import plan_restoration
    >>> A = lambda i, t, pop: (i, t, None, None, "grid", None, None, pop, None, None)
    >>> rows = {"agencies": [("grid", "Grid", None, None, None, None, None)],
    ...         "assets": [A("S", "Substation", 0), A("R", "ResidentialArea", 70)],
    ...         "dependencies": [("R", "S", "power", "power", 0.0)]}
    >>> snap = build_snapshot(1, lambda t: rows.get(t, []))
    >>> summary = summarise(snap, plan_restoration(snap, ["S"], repair_hours={"S": 4}))
    >>> summary.affected_population, summary.people_back, summary.agencies[0].done
    (70, {'S': 70}, 4.0)
    """
    total = int(snap.population.sum())
    served_at = {p.time: p.population_served for p in result.curve}
    times = sorted(served_at)
    gained = {t: served_at[t] - served_at[prev] for prev, t in itertools.pairwise(times)}
    people_back = {r.id: gained.get(r.end, 0) for r in result.schedule}
    affected = total - result.curve[0].population_served if result.curve else 0
    by_agency: dict[str | None, list[Repair]] = {}
    for r in result.schedule:
        by_agency.setdefault(r.agency, []).append(r)
    agencies = [AgencyPlan(agency, len({r.crew for r in repairs}), len(repairs), max(r.end for r in repairs),
                           tuple(repairs[:first])) for agency, repairs in by_agency.items()]
    agencies.sort(key=lambda a: (-a.done, a.agency or ""))
    restored = evaluate_schedule(snap, {r.id: r.end for r in result.schedule}).restored
    return RestorationSummary(affected, tuple(agencies), _districts(snap, restored.items()), people_back)


def _districts(snap: GraphSnapshot, restored: Iterable[tuple[str, float]]) -> tuple[DistrictReturn, ...]:
    # A district's power (water) is back when every asset there that supplies power (water) to another
    # asset works again: the service, not a list of classes, says what a power asset is.
    supplies = {kind: set(snap.dep_provider[snap.dep_kind == snap.kinds.index(kind)].tolist())
                if kind in snap.kinds else set() for kind in SERVICES}
    level = snap.levels.index("district") if "district" in snap.levels else None
    found: dict[int, list[float | int | None]] = {}  # district -> [people, power, water, everyone]
    for asset_id, t in restored:
        i = snap.index[asset_id]
        d = -1 if level is None else int(snap.region[level, i])
        entry = found.setdefault(d, [0, None, None, None])
        slots = [1 + k for k, kind in enumerate(SERVICES) if i in supplies[kind]]
        people = int(snap.population[i])
        if people:
            entry[0] = int(entry[0] or 0) + people
            slots.append(3)
        for slot in slots:
            entry[slot] = max(float(entry[slot] or 0.0), t)
    out = [DistrictReturn(None if d < 0 else snap.region_ids[d], int(v[0] or 0), _hours(v[1]), _hours(v[2]),
                          _hours(v[3])) for d, v in found.items()]
    out.sort(key=lambda r: (-r.population, r.district is None, r.district or ""))
    return tuple(out)


def _hours(value: float | int | None) -> float | None:
    return None if value is None else float(value)
