"""Restoration planning: which crew repairs which damaged asset when, so that the fewest people go unserved.

The problem (docs/restoration.md): damaged assets, each with repair hours and an agency; each
agency has crews (1 by default) that repair only its assets, one at a time, without interruption,
from t = 0. An asset is functional at ``t`` when it is not a damaged asset still awaiting or under
repair and it does not fail in round one's cascade with every buffer at 0 and the unrepaired damaged
assets failing at 0. :func:`plan_restoration` minimises the **unserved people-hours**: the sum over
assets of population x the time in ``[0, T_end)`` it is not functional, ``T_end`` the last repair's
end. It compares the plan with the **naive** order (each agency repairs its assets in id order, the
next one to the crew free first) and never returns a worse one.

Methods: ``"heuristic"`` (default; :mod:`kg.analysis.repair_heuristic`) and ``"exact"`` (a
mixed-integer program on HiGHS, :mod:`kg.analysis.repair_milp`). Both are valued by the exact
evaluator of :mod:`kg.analysis.recovery`, which :func:`evaluate_schedule` exposes.

Repair hours of a damaged asset: ``repair_hours[asset id]`` if given, else ``repair_hours`` of its
type or of the nearest ancestor class given, else the asset's ``repair_hours`` column in the data,
else the ontology's ``ckg:defaultRepairHours`` of its class or nearest ancestor (FEMA Hazus
restoration times; docs/restoration.md lists them). Crews of an agency: ``crews[agency]``, else its
``crews`` column, else 1.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, TypeVar

from kg.analysis.cancel import CancelToken, check
from kg.analysis.recovery import Outcome, Problem, Recovery, Timetable, list_schedule
from kg.analysis.repair_heuristic import plan
from kg.analysis.repair_milp import check as check_size
from kg.analysis.repair_milp import solve
from kg.analysis.repair_sets import TooLarge
from kg.errors import Problem as Issue
from kg.errors import ValidationError
from kg.i18n import _l, lazy_ngettext
from kg.ontology import did_you_mean, load_ontology
from kg.snapshot import GraphSnapshot

__all__ = [
    "METHODS",
    "CurvePoint",
    "Evaluation",
    "Repair",
    "RestorationResult",
    "evaluate_schedule",
    "plan_restoration",
    "repair_hours_of",
]

METHODS = ("heuristic", "exact")
T = TypeVar("T")


@dataclass(frozen=True)
class Repair:
    """One repair: the asset, its agency (``None`` if it has none), the crew (1-based) and the hours."""

    id: str
    agency: str | None
    crew: int
    start: float
    end: float

    def to_dict(self) -> dict[str, Any]:
        return {"id": self.id, "agency": self.agency, "crew": self.crew, "start": self.start, "end": self.end}


@dataclass(frozen=True)
class CurvePoint:
    """The city at ``time``: how many assets are functional and how many people they serve."""

    time: float
    functional: int
    population_served: int

    def to_dict(self) -> dict[str, Any]:
        return {"time": self.time, "functional": self.functional, "population_served": self.population_served}


@dataclass(frozen=True)
class Evaluation:
    """The value of given repair end times: unserved people-hours, the curve, when each asset is back."""

    unserved_people_hours: float
    curve: tuple[CurvePoint, ...]
    restored: dict[str, float]
    """Every asset not functional at 0 (damaged or cut off), with the time it is functional again."""


@dataclass(frozen=True)
class RestorationResult:
    """A restoration plan; :meth:`to_dict` is the JSON of ``kg restore --format json``."""

    damaged: tuple[str, ...]
    schedule: tuple[Repair, ...]
    curve: tuple[CurvePoint, ...]
    unserved_people_hours: float
    method: str
    optimal: bool
    naive_unserved_people_hours: float
    gap: float | None
    """Relative distance to the best lower bound known, ``(plan - bound) / plan``: 0 when optimal,
    HiGHS's bound when the exact method ran out of time, ``None`` when no bound is known."""
    time_limit: float | None
    """The exact method's time limit in seconds (``None`` for the heuristic)."""

    def to_dict(self) -> dict[str, Any]:
        return {
            "damaged": list(self.damaged),
            "schedule": [r.to_dict() for r in self.schedule],
            "curve": [p.to_dict() for p in self.curve],
            "unserved_people_hours": self.unserved_people_hours,
            "method": self.method,
            "optimal": self.optimal,
            "naive": {"unserved_people_hours": self.naive_unserved_people_hours},
            "gap": self.gap,
            "time_limit": self.time_limit,
        }


# ---------------------------------------------------------------------- inputs
def _hours_value(value: object) -> float | None:
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value) or value <= 0:
        return None
    return float(value)


def repair_hours_of(snap: GraphSnapshot, damaged: Sequence[str],
                 overrides: Mapping[str, float] | None = None) -> dict[str, float]:
    """Repair hours of each damaged asset: ``overrides`` by id, else by type (nearest ancestor), else the
    asset's ``repair_hours`` in the data, else the ontology's default for its type.

    Raises
    ------
    ElementNotFound
        For an unknown asset id in ``damaged``.
    ValidationError
        For a key of ``overrides`` that is neither an asset id nor an asset type (field
        ``repair_hours.KEY``), or hours that are not a finite number > 0.

    Examples
    --------
    >>> from kg.snapshot import build_snapshot
    >>> rows = {"assets": [("S", "Substation", None, None, None, None, None, 0, None, None),
    ...                    ("F", "DistributionFeeder", None, None, None, None, None, 0, None, None)]}
    >>> snap = build_snapshot(1, lambda t: rows.get(t, []))
    >>> repair_hours_of(snap, ["S", "F"], {"PowerAsset": 10, "F": 2.5})
    {'S': 10.0, 'F': 2.5}
    """
    onto = load_ontology()
    by_id: dict[str, float] = {}
    by_type: dict[str, float] = {}
    issues = []
    for key, value in (overrides or {}).items():
        where = f"repair_hours.{key}"
        hours = _hours_value(value)
        if hours is None:
            issues.append(Issue(where, _l("expected a number of hours > 0, got {value}", value=repr(value))))
        elif key in snap.index:
            by_id[key] = hours
        elif key in onto.asset_types:
            by_type[key] = hours
        else:
            hint = did_you_mean(key, sorted(onto.asset_types))
            expected = _l("expected the id of an asset or an asset type (an ontology class such as Substation)")
            issues.append(Issue(where, _l("{message}; {hint}", message=expected, hint=hint) if hint else expected))
    if issues:
        raise ValidationError(issues)
    out = {}
    for asset_id in damaged:
        i = snap.node(asset_id)
        if asset_id in by_id:
            out[asset_id] = by_id[asset_id]
            continue
        asset_type = snap.type_of(i)
        chain = onto.ancestors(asset_type) if asset_type in onto.classes else ("Asset",)
        given = next((by_type[t] for t in reversed(chain) if t in by_type), None)
        if given is None and not math.isnan(data := float(snap.repair_hours[i])):
            given = data
        out[asset_id] = given if given is not None else onto.default_repair_hours(chain[-1])
    return out


def _problem(snap: GraphSnapshot, damaged: Sequence[str], hours: Mapping[str, float],
             crews: Mapping[str, int]) -> Problem:
    ids = sorted(set(damaged))
    issues = []
    known = set(snap.agency_ids)
    for agency, count in crews.items():
        where = f"crews.{agency}"
        if agency not in known:
            hint = did_you_mean(agency, snap.agency_ids)
            expected = _l("expected the id of an agency")
            issues.append(Issue(where, _l("{message}; {hint}", message=expected, hint=hint) if hint else expected))
        elif isinstance(count, bool) or not isinstance(count, int) or count < 0:
            issues.append(Issue(where, _l("expected a whole number of crews >= 0, got {value}", value=repr(count))))
    agency_of = {a: snap.agency_of(snap.node(a)) for a in ids}
    agencies = sorted({g for g in agency_of.values() if g is not None})
    in_data = {g: int(c) for g, c in zip(snap.agency_ids, snap.agency_crews.tolist(), strict=True) if c >= 0}
    count_of = {g: crews.get(g, in_data.get(g, 1)) for g in agencies}
    for agency in agencies:
        if count_of[agency] == 0 and not any(i.where == f"crews.{agency}" for i in issues):
            need = [a for a in ids if agency_of[a] == agency]
            shown = ", ".join(need[:5]) + (", ..." if len(need) > 5 else "")
            if agency in crews:
                said = lazy_ngettext("agency {agency} has 0 crews but {n} damaged asset to repair ({ids})",
                                     "agency {agency} has 0 crews but {n} damaged assets to repair ({ids})",
                                     len(need), agency=agency, n=len(need), ids=shown)
            else:
                said = lazy_ngettext("agency {agency} has 0 crews (its crews in the data; give more here) but {n} "
                                     "damaged asset to repair ({ids})",
                                     "agency {agency} has 0 crews (its crews in the data; give more here) but {n} "
                                     "damaged assets to repair ({ids})", len(need), agency=agency, n=len(need),
                                     ids=shown)
            issues.append(Issue(f"crews.{agency}", said))
    if issues:
        raise ValidationError(issues)
    pool_of = {g: p for p, g in enumerate(agencies)}
    pool_agency: list[str | None] = list(agencies)
    load = {g: sum(1 for a in ids if agency_of[a] == g) for g in agencies}
    pool_crews = [min(count_of[g], load[g]) for g in agencies]  # crews beyond one per repair stay idle
    pool = []
    for a in ids:
        owner = agency_of[a]
        if owner is None:  # nobody is responsible: a crew of its own, from t = 0
            pool.append(len(pool_agency))
            pool_agency.append(None)
            pool_crews.append(1)
        else:
            pool.append(pool_of[owner])
    return Problem(snap, tuple(snap.index[a] for a in ids), tuple(hours[a] for a in ids), tuple(pool),
                   tuple(pool_agency), tuple(pool_crews))


# ---------------------------------------------------------------------- results
def _curve(outcome: Outcome) -> tuple[CurvePoint, ...]:
    return tuple(CurvePoint(t, f, s) for t, f, s in outcome.curve)


def evaluate_schedule(snap: GraphSnapshot, completion: Mapping[str, float]) -> Evaluation:
    """Unserved people-hours and the curve when each damaged asset's repair ends at ``completion[id]``.

    Costs about one cascade, however many repairs: functional assets are found by propagating
    support forward from each repair (docs/restoration.md, "How it is computed").

    Raises
    ------
    ElementNotFound
        For an unknown asset id.
    ValidationError
        For a time that is not a finite number >= 0 (field ``completion.ID``).

    Examples
    --------
    A clinic (40 people) fed by substation S; S is repaired by hour 5, the clinic is unserved 5 h:

    >>> from kg.snapshot import build_snapshot
    >>> rows = {"assets": [("S", "Substation", None, None, None, None, None, 0, None, None),
    ...                    ("C", "Clinic", None, None, None, None, None, 40, None, None)],
    ...         "dependencies": [("C", "S", "power", "power", 0.0)]}
    >>> snap = build_snapshot(1, lambda t: rows.get(t, []))
    >>> result = evaluate_schedule(snap, {"S": 5.0})
    >>> result.unserved_people_hours, result.restored
    (200.0, {'C': 5.0, 'S': 5.0})
    """
    ids = sorted(completion)
    issues = []
    for a in ids:
        t = completion[a]
        if isinstance(t, bool) or not isinstance(t, int | float) or not math.isfinite(t) or t < 0:
            issues.append(Issue(f"completion.{a}", _l("expected a finite number of hours >= 0, got {value}",
                                                      value=repr(t))))
    if issues:
        raise ValidationError(issues)
    recovery = Recovery(snap, [snap.node(a) for a in ids])
    outcome = recovery.evaluate([float(completion[a]) for a in ids])
    restored = {snap.asset_ids[int(x)]: t for x, t in zip(recovery.hit, outcome.restored, strict=True)}
    return Evaluation(outcome.objective, _curve(outcome), dict(sorted(restored.items())))


def _schedule(problem: Problem, timetable: Timetable) -> tuple[Repair, ...]:
    snap = problem.snap
    repairs = [Repair(snap.asset_ids[problem.damaged[j]], problem.pool_agency[problem.pool[j]], timetable.crew[j] + 1,
                      timetable.start[j], timetable.end[j]) for j in range(len(problem.damaged))]
    return tuple(sorted(repairs, key=lambda r: (r.start, r.end, r.id)))


def plan_restoration(
    snap: GraphSnapshot,
    damaged: Sequence[str],
    *,
    repair_hours: Mapping[str, float] | None = None,
    crews: Mapping[str, int] | None = None,
    method: str = "heuristic",
    time_limit: float = 60.0,
    cancel: CancelToken | None = None,
) -> RestorationResult:
    """Plan the repairs of ``damaged`` to minimise unserved people-hours.

    Parameters
    ----------
    snap : GraphSnapshot
    damaged : sequence of str
        Ids of the damaged assets (repeats are ignored).
    repair_hours : mapping of str to float, optional
        Hours per asset id or asset type (an ontology class; it covers its subclasses); see
        :func:`repair_hours_of` for the precedence and the ontology defaults.
    crews : mapping of str to int, optional
        Crews per agency id; for an agency not listed, its ``crews`` in the data, else 1. A
        damaged asset without an agency has a crew of its own.
    method : {"heuristic", "exact"}
        ``"heuristic"``: greedy bundles and local moves, deterministic, fast on a whole city.
        ``"exact"``: the mixed-integer program on HiGHS, started from the heuristic's plan.
    time_limit : float
        Seconds HiGHS may spend (``"exact"`` only). When it runs out, the best plan found is
        returned with ``optimal`` false and ``gap`` from HiGHS's bound.
    cancel : CancelToken, optional
        Checked between the steps of the plan and within its local moves; HiGHS gets at most the
        time left before the token's deadline (:mod:`kg.analysis.cancel`).

    Returns
    -------
    RestorationResult
        The schedule (sorted by start, end, id; crews numbered from 1 within each agency), the
        curve at 0 and at every repair end, the unserved people-hours of the plan and of the naive
        order, whether the plan is proven optimal, and the gap.

    Raises
    ------
    Cancelled
        When ``cancel`` is cancelled or its deadline passes before the plan is done.
    ElementNotFound
        For an unknown asset id.
    ValidationError
        For bad repair hours (``repair_hours.KEY``), crews (``crews.AGENCY``; an agency with 0
        crews but damaged assets is one), ``method``, ``time_limit``, or an instance too large
        for the exact method (``method``).

    Examples
    --------
    Two areas of 100 people each hang off feeder F1 and feeder F2 (3 h and 1 h to repair),
    both fed by substation S (2 h); one power crew. S first, then the quicker feeder:

    >>> from kg.snapshot import build_snapshot
    >>> A = lambda i, t, pop: (i, t, None, None, "grid", None, None, pop, None, None)
    >>> rows = {"agencies": [("grid", "Grid", None, None, None, None, None)],
    ...         "assets": [A("S", "Substation", 0), A("F1", "DistributionFeeder", 0),
    ...                    A("F2", "DistributionFeeder", 0), A("R1", "ResidentialArea", 100),
    ...                    A("R2", "ResidentialArea", 100)],
    ...         "dependencies": [("F1", "S", "power", "power", 0.0), ("F2", "S", "power", "power", 0.0),
    ...                          ("R1", "F1", "power", "power", 0.0), ("R2", "F2", "power", "power", 0.0)]}
    >>> snap = build_snapshot(1, lambda t: rows.get(t, []))
    >>> plan = plan_restoration(snap, ["F1", "F2", "S"], repair_hours={"S": 2, "F1": 3, "F2": 1})
    >>> [(r.id, r.start, r.end) for r in plan.schedule]
    [('S', 0.0, 2.0), ('F2', 2.0, 3.0), ('F1', 3.0, 6.0)]
    >>> plan.unserved_people_hours, plan.naive_unserved_people_hours
    (900.0, 1200.0)
    >>> plan_restoration(snap, ["F1", "F2", "S"], repair_hours={"S": 2, "F1": 3, "F2": 1},
    ...                  method="exact").optimal
    True
    """
    issues = []
    if method not in METHODS:
        issues.append(Issue("method", _l("expected one of {names}, got {value}", names=", ".join(METHODS),
                                         value=repr(method))))
    if isinstance(time_limit, bool) or not isinstance(time_limit, int | float) or not (
            math.isfinite(time_limit) and time_limit > 0):
        issues.append(Issue("time_limit", _l("expected a number of seconds > 0, got {value}", value=repr(time_limit))))
    if issues:
        raise ValidationError(issues)
    hours = repair_hours_of(snap, damaged, repair_hours)
    problem = _problem(snap, damaged, hours, crews or {})
    if method == "exact":
        _fits(check_size, problem)
    check(cancel)
    recovery = Recovery(snap, problem.damaged)
    check(cancel)
    naive = recovery.evaluate(list_schedule(problem, problem.jobs).end)
    timetable, outcome = plan(problem, recovery, cancel=cancel)
    if naive.objective < outcome.objective:
        timetable, outcome = list_schedule(problem, problem.jobs), naive
    # Every repair starting at 0 ends as early as it can, and people-hours only grow with end times.
    optimal = all(s == 0 for s in timetable.start) or outcome.objective == 0
    gap: float | None = 0.0 if optimal else None
    if method == "exact" and not optimal:
        limit = time_limit if cancel is None else min(time_limit, cancel.deadline - time.monotonic())
        check(cancel)
        exact = _fits(lambda p: solve(p, recovery, outcome, time_limit=max(limit, 1e-3)), problem)
        check(cancel)
        if exact.timetable is not None:
            found = recovery.evaluate(exact.timetable.end)
            if found.objective < outcome.objective:
                timetable, outcome = exact.timetable, found
        optimal = exact.optimal
        gap = _gap(outcome.objective, exact.bound, optimal)
    return RestorationResult(
        damaged=tuple(snap.asset_ids[a] for a in problem.damaged),
        schedule=_schedule(problem, timetable),
        curve=_curve(outcome),
        unserved_people_hours=outcome.objective,
        method=method,
        optimal=optimal,
        naive_unserved_people_hours=naive.objective,
        gap=gap,
        time_limit=float(time_limit) if method == "exact" else None,
    )


def _fits(step: Callable[[Problem], T], problem: Problem) -> T:
    """Run a step of the exact method; an instance too large for it is an error on ``method``."""
    try:
        return step(problem)
    except TooLarge as exc:
        raise ValidationError([Issue("method", _l("the exact method cannot take this instance: {reason}; use the "
                                                  "heuristic", reason=exc))]) from None


def _gap(value: float, bound: float | None, optimal: bool) -> float | None:
    if optimal:
        return 0.0
    if bound is None:
        return None
    return max(0.0, (value - bound) / value) if value > 0 else 0.0
