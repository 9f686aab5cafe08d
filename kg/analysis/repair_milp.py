"""The exact restoration planner: a mixed-integer program solved by HiGHS (through ``scipy.optimize.milp``).

Formulation
-----------
*When does an asset work again?* At ``T_b = min_s max_{a in S_s} C_a``, ``S_s`` its minimal sets
of repairs and ``C_a`` the end of repair ``a`` (:mod:`kg.analysis.repair_sets`); the objective is
``sum_b pop_b T_b`` over classes ``b`` of assets with the same sets, weighing their population.

*Variables and constraints*, per agency (pool) with ``n`` jobs and ``c < n`` crews:

* ``d[i, j]`` (binary): ``i`` is done before ``j`` by the same crew; ``C_j = r_j + sum_i r_i d[i, j]``
  (crews never idle, which never helps);
* one crew: ``d[i, j] + d[j, i] = 1``; several: ``x[j, m]`` (binary) puts ``j`` on crew ``m``,
  ``s[i, j] = sum_m x[i, m] x[j, m]`` (linearised) and ``d[i, j] + d[j, i] = s[i, j]``; job ``j``
  may only use crews ``0..j`` (crews are interchangeable: this keeps one labelling);
* no ordering cycles: ``d[i, j] + d[j, l] + d[l, i] <= 2`` for every triple, both ways round.

A pool with at least as many crews as jobs starts everything at 0 (``C_j = r_j``). Per class,
``T_b >= C_a`` for ``a`` in its only set, or with several sets a binary choice ``y_s`` (one chosen)
and ``T_b >= C_a - M_a (1 - y_s)``, ``M_a`` the pool's total hours (a bound on ``C_a``). A last row
asks for no more people-hours than the heuristic's plan, which HiGHS uses to prune.
"""

from __future__ import annotations

import heapq
import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from fractions import Fraction

import numpy as np
import numpy.typing as npt
from scipy.optimize import Bounds, LinearConstraint, milp
from scipy.sparse import coo_matrix

from kg.analysis.recovery import Outcome, Problem, Recovery, Timetable, crew_schedule
from kg.analysis.repair_sets import Classes, TooLarge, jobs_in

__all__ = ["MAX_GRID", "MAX_JOBS", "MAX_SETS", "Exact", "check", "solve"]

MAX_JOBS = 40
"""Largest number of damaged assets of one agency (with fewer crews than jobs) the exact method takes."""
MAX_SETS = 20_000
"""Largest number of minimal repair sets, over all classes, the exact method takes."""
MAX_GRID = 40_000
"""Largest time-indexed grid (jobs x periods) for a pool with several crews."""
_DENOMINATOR = 3600
"""Durations are read as exact fractions of an hour down to a second."""


@dataclass(frozen=True)
class Exact:
    """What HiGHS found: the timetable (``None`` if none beat the incumbent), proof, and the best bound."""

    timetable: Timetable | None
    optimal: bool
    bound: float | None
    """HiGHS's lower bound on the unserved people-hours (``None`` when it has none)."""


class _Model:
    """Columns and rows of the program, built incrementally."""

    def __init__(self) -> None:
        self.cost: list[float] = []
        self.lower: list[float] = []
        self.upper: list[float] = []
        self.integer: list[int] = []
        self.rows: list[int] = []
        self.cols: list[int] = []
        self.vals: list[float] = []
        self.row_lower: list[float] = []
        self.row_upper: list[float] = []

    def var(self, lower: float, upper: float, *, cost: float = 0.0, integer: bool = False) -> int:
        self.cost.append(cost)
        self.lower.append(lower)
        self.upper.append(upper)
        self.integer.append(int(integer))
        return len(self.cost) - 1

    def row(self, terms: Sequence[tuple[int, float]], lower: float, upper: float) -> None:
        r = len(self.row_lower)
        for col, val in terms:
            self.rows.append(r)
            self.cols.append(col)
            self.vals.append(val)
        self.row_lower.append(lower)
        self.row_upper.append(upper)


@dataclass
class _Pool:
    """One pool's part of the program: the column of each job's end, and how to read the crews' work lists."""

    end: dict[int, int]
    ceiling: dict[int, float]
    """An upper bound on each job's end (for big-M rows)."""
    read: Callable[[npt.NDArray[np.float64]], list[list[int]]]


def _fixed(model: _Model, problem: Problem, jobs: Sequence[int]) -> _Pool:
    """As many crews as jobs: every job starts at 0 on a crew of its own."""
    hours = problem.hours
    end = {j: model.var(hours[j], hours[j]) for j in jobs}
    return _Pool(end, {j: hours[j] for j in jobs}, lambda x: [[j] for j in jobs])


def _ordered(model: _Model, problem: Problem, jobs: Sequence[int], crews: int) -> _Pool:
    """Linear ordering: ``d[i, j]`` for "i before j on the same crew", crews by assignment when several."""
    hours = problem.hours
    total = sum(hours[j] for j in jobs)
    before = {(i, j): model.var(0, 1, integer=True) for i in jobs for j in jobs if i != j}
    end = {}
    for j in jobs:
        end[j] = model.var(hours[j], total)
        model.row([(end[j], 1.0), *((before[(i, j)], -hours[i]) for i in jobs if i != j)], hours[j], hours[j])
    on: dict[tuple[int, int], int] = {}
    if crews > 1:
        for pos, j in enumerate(jobs):
            for m in range(crews):
                on[(j, m)] = model.var(0, 1 if m <= pos else 0, integer=True)
            model.row([(on[(j, m)], 1.0) for m in range(crews)], 1, 1)
    for a, i in enumerate(jobs):
        for j in jobs[a + 1:]:
            if crews == 1:
                model.row([(before[(i, j)], 1.0), (before[(j, i)], 1.0)], 1, 1)
                continue
            same = model.var(0, 1)
            model.row([(before[(i, j)], 1.0), (before[(j, i)], 1.0), (same, -1.0)], 0, 0)
            for m in range(crews):
                model.row([(same, 1.0), (on[(i, m)], -1.0), (on[(j, m)], -1.0)], -1, math.inf)
                model.row([(same, 1.0), (on[(i, m)], 1.0), (on[(j, m)], -1.0)], -math.inf, 1)
                model.row([(same, 1.0), (on[(i, m)], -1.0), (on[(j, m)], 1.0)], -math.inf, 1)
    if crews > 1:
        for ranked in (sorted(jobs, key=lambda j: (hours[j], j)), sorted(jobs, key=lambda j: (-hours[j], j))):
            # Parallel-machine inequalities (Queyranne; Schulz) for the prefixes S of two orders:
            # sum_S r_j C_j >= ((sum_S r_j)^2 / crews + sum_S r_j^2) / 2.
            prefix: list[int] = []
            for j in ranked:
                prefix.append(j)
                first, second = sum(hours[i] for i in prefix), sum(hours[i] ** 2 for i in prefix)
                model.row([(end[i], hours[i]) for i in prefix], (first * first / crews + second) / 2, math.inf)
    for a, i in enumerate(jobs):
        for b, j in enumerate(jobs[a + 1:], a + 1):
            for k in jobs[b + 1:]:
                model.row([(before[(i, j)], 1.0), (before[(j, k)], 1.0), (before[(k, i)], 1.0)], -math.inf, 2)
                model.row([(before[(j, i)], 1.0), (before[(k, j)], 1.0), (before[(i, k)], 1.0)], -math.inf, 2)

    def read(x: npt.NDArray[np.float64]) -> list[list[int]]:
        lists: list[list[int]] = [[] for _ in range(crews)]
        for j in jobs:
            lists[max(range(crews), key=lambda m: x[on[(j, m)]]) if crews > 1 else 0].append(j)
        return [sorted(lst, key=lambda j: (x[end[j]], j)) for lst in lists]

    return _Pool(end, dict.fromkeys(jobs, total), read)


def _timed(model: _Model, problem: Problem, jobs: Sequence[int], crews: int, unit: Fraction) -> _Pool:
    """Time-indexed: ``x[j, s]`` for "j starts at period s" (periods of ``unit`` hours), at most ``crews`` at once.

    Starts are bounded by ``(sum of the other jobs' hours) / crews``: a list schedule, which loses
    nothing, starts every job by then.
    """
    hours = problem.hours
    length = {j: int(Fraction(hours[j]).limit_denominator(_DENOMINATOR) / unit) for j in jobs}
    total = sum(length.values())
    latest = {j: (total - length[j]) // crews for j in jobs}
    start = {(j, s): model.var(0, 1, integer=True) for j in jobs for s in range(latest[j] + 1)}
    end = {}
    for j in jobs:
        model.row([(start[(j, s)], 1.0) for s in range(latest[j] + 1)], 1, 1)
        end[j] = model.var(hours[j], math.inf)
        model.row([(end[j], 1.0), *((start[(j, s)], -float((s + length[j]) * unit)) for s in range(latest[j] + 1))],
                  0, 0)
    horizon = max(latest[j] + length[j] for j in jobs)
    for t in range(horizon):
        busy = [(start[(j, s)], 1.0) for j in jobs for s in range(max(0, t - length[j] + 1), min(t, latest[j]) + 1)]
        if len(busy) > crews:
            model.row(busy, -math.inf, crews)

    def read(x: npt.NDArray[np.float64]) -> list[list[int]]:
        begins = {j: next(s for s in range(latest[j] + 1) if x[start[(j, s)]] > 0.5) for j in jobs}
        return _lists(problem, sorted(jobs, key=lambda j: (begins[j], j)), crews)

    return _Pool(end, {j: float((latest[j] + length[j]) * unit) for j in jobs}, read)


def _lists(problem: Problem, order: Sequence[int], crews: int) -> list[list[int]]:
    """The crews' work lists when ``order`` goes to the crew free first (the list schedule)."""
    free = [(0.0, c) for c in range(crews)]
    lists: list[list[int]] = [[] for _ in range(crews)]
    for j in order:
        t, c = heapq.heappop(free)
        lists[c].append(j)
        heapq.heappush(free, (t + problem.hours[j], c))
    return lists


def _unit(hours: Sequence[float]) -> Fraction | None:
    """The largest period dividing every duration (as exact fractions), or ``None`` if they have none."""
    unit = Fraction(0)
    for h in hours:
        exact = Fraction(h).limit_denominator(_DENOMINATOR)
        if abs(float(exact) - h) > 1e-9 * max(1.0, h):
            return None
        unit = Fraction(math.gcd(unit.numerator * exact.denominator, exact.numerator * unit.denominator),
                        unit.denominator * exact.denominator)
    return unit


def check(problem: Problem) -> None:
    """Raise :class:`TooLarge` when an agency has more than :data:`MAX_JOBS` damaged assets and fewer crews."""
    for pool, jobs in enumerate(problem.jobs):
        if len(jobs) > max(MAX_JOBS, problem.pool_crews[pool]):
            who = problem.pool_agency[pool] or "(no agency)"
            raise TooLarge(f"agency {who} has {len(jobs):,} damaged assets; the exact method takes at most "
                           f"{MAX_JOBS} per agency (or as many as its crews)")


def solve(problem: Problem, recovery: Recovery, incumbent: Outcome, *, time_limit: float) -> Exact:
    """Solve the program for at most ``time_limit`` seconds, asking for less than ``incumbent``.

    Pools with one crew are ordered (linear ordering); pools with several crews are time-indexed
    when their durations share a period that keeps the grid under :data:`MAX_GRID` cells, and
    ordered with crew assignment (weaker) otherwise.

    Raises
    ------
    TooLarge
        When a pool has more than :data:`MAX_JOBS` jobs (and fewer crews) or the sets exceed
        :data:`MAX_SETS`.
    """
    check(problem)
    weighted = Classes(recovery, len(problem.damaged), limit=MAX_SETS).weighted
    model = _Model()
    hours = problem.hours
    pools: list[_Pool] = []
    for pool, jobs in enumerate(problem.jobs):
        crews = min(problem.pool_crews[pool], len(jobs))
        unit = _unit([hours[j] for j in jobs]) if 1 < crews < len(jobs) else None
        grid = unit is not None and len(jobs) * sum(hours[j] for j in jobs) / float(unit) / crews <= MAX_GRID
        if crews >= len(jobs):
            pools.append(_fixed(model, problem, jobs))
        elif grid and unit is not None:
            pools.append(_timed(model, problem, jobs, crews, unit))
        else:
            pools.append(_ordered(model, problem, jobs, crews))
    end = {j: p.end[j] for p in pools for j in p.end}
    ceiling = {j: p.ceiling[j] for p in pools for j in p.ceiling}
    objective: list[tuple[int, float]] = []
    for terms, people in weighted:
        floor = min(max(hours[j] for j in jobs_in(t)) for t in terms)
        t_b = model.var(floor, math.inf, cost=people)
        objective.append((t_b, float(people)))
        if len(terms) == 1:
            for j in jobs_in(terms[0]):
                model.row([(t_b, 1.0), (end[j], -1.0)], 0, math.inf)
            continue
        chosen = [model.var(0, 1, integer=True) for _ in terms]
        model.row([(y, 1.0) for y in chosen], 1, 1)
        for y, t in zip(chosen, terms, strict=True):
            for j in jobs_in(t):
                model.row([(t_b, 1.0), (end[j], -1.0), (y, -ceiling[j])], -ceiling[j], math.inf)
    if not objective:  # nobody waits for anything: any plan is optimal
        return Exact(None, True, 0.0)
    model.row(objective, -math.inf, incumbent.objective * (1 + 1e-9) + 1e-6)
    shape = (len(model.row_lower), len(model.cost))
    matrix = coo_matrix((model.vals, (model.rows, model.cols)), shape=shape).tocsr()
    result = milp(np.asarray(model.cost), integrality=np.asarray(model.integer),
                  bounds=Bounds(np.asarray(model.lower), np.asarray(model.upper)),
                  constraints=LinearConstraint(matrix, np.asarray(model.row_lower), np.asarray(model.row_upper)),
                  options={"time_limit": float(time_limit), "mip_rel_gap": 1e-9, "disp": False})
    bound = getattr(result, "mip_dual_bound", None)
    bound = None if bound is None or not math.isfinite(bound) else float(bound)
    if result.status == 2:
        # Nothing is better than the incumbent (which is feasible): it is optimal.
        return Exact(None, True, incumbent.objective)
    optimal = result.status == 0
    if optimal and bound is None:
        bound = float(result.fun)
    if result.x is None:
        return Exact(None, False, bound)
    x = np.asarray(result.x)
    return Exact(crew_schedule(problem, [p.read(x) for p in pools]), optimal, bound)
