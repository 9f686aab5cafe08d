"""The default restoration planner: bundles of repairs by people served per repair hour, then local moves.

1. **What each asset needs.** For every asset the damage cuts off, a cheapest set of repairs that
   brings it back (:class:`Cheapest`, solved over the dependency structure by
   :meth:`Recovery.solve`): its own repair if damaged, the union over its groups, and for a group
   the provider whose own set costs the fewest repair hours. So a pump's area needs the pump *and*
   the substation feeding it, and the substation counts for everyone below it.
2. **Greedy bundles.** Assets needing the same set are one bundle worth their population. Repeatedly
   take the bundle with the most people per repair hour still to do (its jobs already planned cost
   nothing), append its remaining jobs to the plan, upstream ones first. Ties: the bundle whose first
   job comes first.
3. **List scheduling.** Each agency's crews take its jobs in plan order, the crew free first.
4. **Local moves.** Swap two jobs of one agency, or move one earlier or later, and keep the change
   when the exact evaluator (:meth:`Recovery.evaluate`) says fewer people-hours are lost; stop at a
   local optimum or when a work budget (evaluations times the affected graph's size) is spent.

Everything is deterministic: the same input gives the same plan on any machine.
"""

from __future__ import annotations

import heapq
from collections.abc import Sequence

from kg.analysis.recovery import Outcome, Problem, Recovery, Timetable, list_schedule

__all__ = ["Cheapest", "greedy", "improve"]

Value = tuple[int, float] | None
"""A set of jobs (bit mask) and its repair hours; ``None`` when no set of repairs is known to suffice."""

WINDOW = 12
"""Local moves reach this many positions either way within an agency's order."""


class Cheapest:
    """An approximate algebra for :meth:`Recovery.solve`: AND is union, OR keeps the set with fewer hours."""

    true: Value = (0, 0.0)
    false: Value = None

    def __init__(self, hours: Sequence[float]) -> None:
        self.hours = hours

    def job(self, job: int) -> Value:
        return (1 << job, self.hours[job])

    def both(self, a: Value, b: Value) -> Value:
        if a is None or b is None:
            return None
        return (a[0] | b[0], a[1] + self.cost(b[0] & ~a[0]))

    def either(self, a: Value, b: Value) -> Value:
        if a is None:
            return b
        if b is None:
            return a
        return min(a, b, key=lambda v: (v[1], v[0].bit_count(), v[0]))

    def cost(self, mask: int) -> float:
        total = 0.0
        while mask:
            low = mask & -mask
            total += self.hours[low.bit_length() - 1]
            mask ^= low
        return total


def _jobs(mask: int) -> list[int]:
    out = []
    while mask:
        low = mask & -mask
        out.append(low.bit_length() - 1)
        mask ^= low
    return out


def greedy(problem: Problem, recovery: Recovery) -> list[list[int]]:
    """Each pool's jobs in the order of the greedy bundles (step 2 above); jobs nobody waits for last."""
    algebra = Cheapest(problem.hours)
    weight: dict[int, int] = {}
    for i, value in enumerate(recovery.solve(algebra)):
        if value is not None and value[0] and recovery.population[i] > 0:
            weight[value[0]] = weight.get(value[0], 0) + recovery.population[i]
    bundles = sorted(weight.items())
    k = len(problem.damaged)
    containing: list[list[int]] = [[] for _ in range(k)]
    heap: list[tuple[float, int, int, float]] = []
    for b, (mask, people) in enumerate(bundles):
        for job in _jobs(mask):
            containing[job].append(b)
        hours = algebra.cost(mask)
        heapq.heappush(heap, (-people / hours, (mask & -mask).bit_length(), b, hours))
    planned = 0
    order: list[int] = []
    while heap:
        _, _, b, hours = heapq.heappop(heap)
        mask, people = bundles[b]
        todo = mask & ~planned
        if not todo or algebra.cost(todo) != hours:
            continue  # done, or a stale entry (a fresher one is in the heap)
        jobs = sorted(_jobs(todo), key=lambda j: (recovery.rank[recovery.job_hit[j]], j))  # upstream first
        order.extend(jobs)
        planned |= todo
        touched = {other for job in jobs for other in containing[job]}
        for other in sorted(touched):
            rest = bundles[other][0] & ~planned
            if rest:
                cost = algebra.cost(rest)
                heapq.heappush(heap, (-bundles[other][1] / cost, (rest & -rest).bit_length(), other, cost))
    order.extend(job for job in range(k) if not planned >> job & 1)
    sequences: list[list[int]] = [[] for _ in problem.pool_crews]
    for job in order:
        sequences[problem.pool[job]].append(job)
    return sequences


def improve(problem: Problem, recovery: Recovery, sequences: list[list[int]], *, budget: float
            ) -> tuple[list[list[int]], Timetable, Outcome]:
    """Local moves within each pool's order (step 4 above) until none helps or ``budget`` work is spent."""
    timetable = list_schedule(problem, sequences)
    best = recovery.evaluate(timetable.end)
    spent = recovery.work
    sequences = [list(s) for s in sequences]
    improved = True
    while improved:
        improved = False
        for pool, seq in enumerate(sequences):
            if len(seq) <= problem.pool_crews[pool]:
                continue  # every job starts at 0 whatever the order
            i = 0
            while i < len(seq):
                for trial in _moves(seq, i):
                    if spent + recovery.work > budget:
                        return sequences, timetable, best
                    spent += recovery.work
                    sequences[pool] = trial
                    candidate = list_schedule(problem, sequences)
                    outcome = recovery.evaluate(candidate.end)
                    if outcome.objective < best.objective * (1 - 1e-12) - 1e-9:
                        seq, timetable, best, improved = trial, candidate, outcome, True
                        break
                    sequences[pool] = seq
                i += 1
    return sequences, timetable, best


def _moves(seq: list[int], i: int) -> list[list[int]]:
    """Orders one move away from ``seq`` involving position ``i``: swaps with later jobs, then insertions."""
    n = len(seq)
    out = []
    for j in range(i + 1, min(n, i + WINDOW + 1)):
        swapped = seq.copy()
        swapped[i], swapped[j] = swapped[j], swapped[i]
        out.append(swapped)
    for j in range(max(0, i - WINDOW), min(n, i + WINDOW + 1)):
        if abs(j - i) > 1:  # an adjacent insertion is a swap, already tried
            moved = seq.copy()
            moved.insert(j, moved.pop(i))
            out.append(moved)
    return out
