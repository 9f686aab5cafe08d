"""The default restoration planner: bundles of repairs by people served per repair hour, then local moves.

1. **What each asset needs.** Its minimal sets of repairs (:mod:`kg.analysis.repair_sets`): a
   pump's area needs the pump *and* the substation feeding it; an area fed by either of two
   damaged feeders has two sets. Assets with the same sets form a class worth their population.
2. **Greedy bundles.** Repeatedly take the class with the most people per repair hour still to
   plan (for each class, its set with the fewest hours left; repairs already planned cost
   nothing), append that set's remaining jobs, upstream ones first. Ties: fewer jobs, then the
   lower first job.
3. **List scheduling.** Each agency's crews take its jobs in plan order, the crew free first.
4. **Local moves on the order.** Swap two jobs of one agency, or move one up to :data:`WINDOW`
   places, list-schedule again, and keep the change when fewer people-hours are lost; stop at a
   local optimum or when the work budget is spent. Skipped when the budget buys too few
   evaluations to matter (city-wide plans).
5. **Local moves within each crew's list** (cheap, so they reach every job of a city-wide plan):
   a job whose end decides when some class works again moves to the best place up to
   :data:`WINDOW` places earlier; only the jobs in between change their end, and only the
   classes containing them are revalued.

Plans are valued exactly, from the classes. When the minimal sets are too many (over
:data:`MAX_SETS`), step 1 keeps one cheapest set per asset (:class:`Cheapest`), plans are valued
by :meth:`Recovery.evaluate` and step 5 is skipped.
Everything is deterministic: the same input gives the same plan on any machine.
"""

from __future__ import annotations

import heapq
from collections.abc import Callable, Sequence

from kg.analysis.cancel import CHECK_EVERY, CancelToken, check
from kg.analysis.recovery import Outcome, Problem, Recovery, Timetable, crew_schedule, list_schedule
from kg.analysis.repair_sets import Classes, Terms, TooLarge, jobs_in

__all__ = [
    "CREW_BUDGET",
    "MAX_SETS",
    "MIN_EVALUATIONS",
    "ORDER_BUDGET",
    "WINDOW",
    "Cheapest",
    "approximate",
    "greedy",
    "improve",
    "plan",
    "polish",
]

Value = tuple[int, float] | None
"""A set of jobs (bit mask) and its repair hours; ``None`` when no set of repairs is known to suffice."""

WINDOW = 12
"""Local moves reach this many positions either way."""
MAX_SETS = 2_000_000
"""Largest number of minimal repair sets (all classes together) the heuristic values plans with."""
ORDER_BUDGET = 2e6
"""Work for the moves on the orders (step 4): each move re-values the whole plan (its sets' sizes)."""
MIN_EVALUATIONS = 100
"""Step 4 runs only when its budget pays for at least this many evaluations of the plan."""
CREW_BUDGET = 6e6
"""Work for the moves within crews' lists (step 5): sets and jobs visited, about a microsecond each."""


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
        return sum(self.hours[j] for j in jobs_in(mask))


def approximate(problem: Problem, recovery: Recovery) -> list[tuple[Terms, int]]:
    """Classes with one cheapest set each (:class:`Cheapest`): the fallback when minimal sets are too many."""
    weight: dict[int, int] = {}
    for i, value in enumerate(recovery.solve(Cheapest(problem.hours))):
        if value is not None and value[0] and recovery.population[i] > 0:
            weight[value[0]] = weight.get(value[0], 0) + recovery.population[i]
    return [((mask,), people) for mask, people in sorted(weight.items())]


def greedy(problem: Problem, recovery: Recovery, weighted: Sequence[tuple[Terms, int]]) -> list[list[int]]:
    """Each pool's jobs in the order of the greedy bundles (step 2 above); jobs nobody waits for last.

    ``weighted``: (sets of repairs, population) per class. A class's bundle is its set with the
    fewest repair hours still to plan (ties: fewer jobs, then the lower first job).
    """
    hours = problem.hours
    k = len(problem.damaged)
    set_jobs = [jobs_in(t) for terms, _ in weighted for t in terms]
    set_class = [c for c, (terms, _) in enumerate(weighted) for _ in terms]
    class_sets: list[list[int]] = [[] for _ in weighted]
    job_sets: list[list[int]] = [[] for _ in range(k)]
    for s, jobs in enumerate(set_jobs):
        class_sets[set_class[s]].append(s)
        for j in jobs:
            job_sets[j].append(s)
    left = [sum(hours[j] for j in jobs) for jobs in set_jobs]
    count = [len(jobs) for jobs in set_jobs]
    planned = bytearray(k)
    version = [0] * len(weighted)
    heap: list[tuple[float, int, int, int, int]] = []

    def push(c: int) -> None:
        version[c] += 1
        best = min(class_sets[c], key=lambda s: (left[s], count[s], s))
        if count[best]:
            first = min(j for j in set_jobs[best] if not planned[j])
            heapq.heappush(heap, (-weighted[c][1] / left[best], first, c, best, version[c]))

    for c in range(len(weighted)):
        push(c)
    order: list[int] = []
    while heap:
        _, _, c, best, seen = heapq.heappop(heap)
        if seen != version[c]:
            continue  # a fresher entry is in the heap
        jobs = sorted((j for j in set_jobs[best] if not planned[j]),
                      key=lambda j: (recovery.rank[recovery.job_hit[j]], j))  # upstream first
        order.extend(jobs)
        touched = set()
        for j in jobs:
            planned[j] = 1
            for s in job_sets[j]:
                left[s] -= hours[j]
                count[s] -= 1
                touched.add(set_class[s])
        for other in sorted(touched):
            push(other)
    order.extend(job for job in range(k) if not planned[job])
    sequences: list[list[int]] = [[] for _ in problem.pool_crews]
    for job in order:
        sequences[problem.pool[job]].append(job)
    return sequences


def improve(problem: Problem, sequences: list[list[int]], value: Callable[[Sequence[float]], float], *,
            cost: float, budget: float, cancel: CancelToken | None = None) -> tuple[list[list[int]], Timetable]:
    """Local moves on each pool's order (step 4 above), each valued by ``value`` at ``cost`` work units."""
    timetable = list_schedule(problem, sequences)
    best = value(timetable.end)
    spent = cost
    sequences = [list(s) for s in sequences]
    improved = True
    while improved:
        improved = False
        for pool, seq in enumerate(sequences):
            if len(seq) <= problem.pool_crews[pool]:
                continue  # every job starts at 0 whatever the order
            for i in range(len(seq)):
                for trial in _moves(seq, i):
                    if spent + cost > budget:
                        return sequences, timetable
                    check(cancel)
                    spent += cost
                    sequences[pool] = trial
                    candidate = list_schedule(problem, sequences)
                    found = value(candidate.end)
                    if found < best - 1e-9 * max(1.0, abs(best)):
                        seq, timetable, best, improved = trial, candidate, found, True
                        break
                    sequences[pool] = seq
    return sequences, timetable


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


class _CrewLists:
    """Crews' work lists and the plan's value, kept up to date move by move (step 5 above).

    Moving job ``a`` up ``d`` places makes ``a`` end earlier and the ``d`` jobs it jumps over end
    ``r_a`` later. Each minimal set keeps its latest end: a set whose latest end grows is updated
    from the new ends alone; only a set whose latest job was ``a`` is scanned again. A class's
    time is the least of its sets' latest ends. ``spent`` counts the sets and jobs visited.
    """

    def __init__(self, problem: Problem, classes: Classes, lists: list[list[list[int]]]) -> None:
        self.hours = problem.hours
        self.lists = lists
        self.end = list(crew_schedule(problem, lists).end)
        self.set_jobs = [s for sets in classes.sets for s in sets]
        self.set_class = [c for c, sets in enumerate(classes.sets) for _ in sets]
        self.class_sets: list[list[int]] = [[] for _ in classes.sets]
        self.job_sets: list[list[int]] = [[] for _ in self.end]
        for s, jobs in enumerate(self.set_jobs):
            self.class_sets[self.set_class[s]].append(s)
            for j in jobs:
                self.job_sets[j].append(s)
        self.latest = [max(self.end[j] for j in jobs) for jobs in self.set_jobs]
        self.times = [min(self.latest[s] for s in sets) for sets in self.class_sets]
        self.weight = classes.weight
        self.scale = max(1.0, sum(w * t for w, t in zip(self.weight, self.times, strict=True)))
        self.spent = 0.0

    def binds(self, a: int) -> bool:
        """Whether ``a``'s end is some class's time: only then can moving ``a`` earlier help."""
        self.spent += len(self.job_sets[a])
        end, latest, times, set_class = self.end, self.latest, self.times, self.set_class
        return any(latest[s] == end[a] == times[set_class[s]] for s in self.job_sets[a])

    def gain(self, work: list[int], i: int, d: int) -> tuple[float, dict[int, float], dict[int, float]]:
        """People-hours saved by moving ``work[i]`` up ``d`` places, and the sets' and classes' new values."""
        hours, end, latest = self.hours, self.end, self.latest
        a, jumped = work[i], work[i - d : i]
        old_a, old = end[a], [end[j] for j in jumped]
        end[a] = end[jumped[0]] - hours[jumped[0]] + hours[a]
        for j in jumped:
            end[j] += hours[a]
        changed: dict[int, float] = {}
        for s in self.job_sets[a]:
            if latest[s] == old_a:  # a was (one of) the latest: scan the set again
                changed[s] = max(end[j] for j in self.set_jobs[s])
                self.spent += len(self.set_jobs[s])
        for j in jumped:
            for s in self.job_sets[j]:
                changed[s] = max(changed.get(s, latest[s]), end[j])
            self.spent += len(self.job_sets[j])
        after: dict[int, float] = {}
        for s, v in changed.items():
            c = self.set_class[s]
            if c not in after:
                sets = self.class_sets[c]
                after[c] = v if len(sets) == 1 else min(changed.get(t, latest[t]) for t in sets)
                self.spent += len(sets)
        end[a] = old_a
        for j, e in zip(jumped, old, strict=True):
            end[j] = e
        saved = sum(self.weight[c] * (self.times[c] - t) for c, t in after.items())
        return saved, changed, after

    def move(self, work: list[int], i: int, d: int, changed: dict[int, float], after: dict[int, float]) -> None:
        a, jumped = work[i], work[i - d : i]
        self.end[a] = self.end[jumped[0]] - self.hours[jumped[0]] + self.hours[a]
        for j in jumped:
            self.end[j] += self.hours[a]
        work[i - d : i + 1] = [a, *jumped]
        for s, v in changed.items():
            self.latest[s] = v
        for c, t in after.items():
            self.times[c] = t


def polish(problem: Problem, classes: Classes, lists: list[list[list[int]]], *, budget: float,
           cancel: CancelToken | None = None) -> list[list[list[int]]]:
    """Local moves within each crew's list (step 5 above), valued incrementally on ``classes``.

    Each job that binds a class is moved to the best place within :data:`WINDOW` places earlier,
    and again from there while it reaches the window's edge; passes repeat until none helps or
    ``budget`` work is spent.
    """
    state = _CrewLists(problem, classes, lists)
    improved = True
    while improved:
        improved = False
        for pool_lists in lists:
            for work in pool_lists:
                check(cancel)
                for i in range(1, len(work)):
                    if i % CHECK_EVERY == 0:
                        check(cancel)
                    at = i
                    while at > 0 and state.binds(work[at]):
                        reach = min(WINDOW, at)
                        best = max(((state.gain(work, at, d), d) for d in range(1, reach + 1)),
                                   key=lambda found: (found[0][0], -found[1]))
                        (saved, changed, after), d = best
                        if saved <= 1e-9 * state.scale:
                            break
                        state.move(work, at, d, changed, after)
                        improved = True
                        if d < reach:
                            break
                        at -= d
                    if state.spent > budget:
                        return lists
    return lists


def _lists(problem: Problem, timetable: Timetable) -> list[list[list[int]]]:
    """Each crew's jobs in the order it does them."""
    lists: list[list[list[int]]] = [[[] for _ in range(c)] for c in problem.pool_crews]
    for j in sorted(range(len(problem.damaged)), key=lambda j: (timetable.start[j], j)):
        lists[problem.pool[j]][timetable.crew[j]].append(j)
    return lists


def plan(problem: Problem, recovery: Recovery, *, max_sets: int = MAX_SETS,
         cancel: CancelToken | None = None) -> tuple[Timetable, Outcome]:
    """The heuristic's timetable (steps 1-5) and its exact outcome (``max_sets``: see :data:`MAX_SETS`).

    ``cancel`` is checked between steps and within the local moves (:mod:`kg.analysis.cancel`).
    """
    try:
        classes: Classes | None = Classes(recovery, len(problem.damaged), limit=max_sets)
    except TooLarge:
        classes = None
    check(cancel)
    if classes is not None:
        sequences = greedy(problem, recovery, classes.weighted)
        value, cost = classes.value, float(classes.work + len(problem.damaged))
    else:
        sequences = greedy(problem, recovery, approximate(problem, recovery))

        def value(end: Sequence[float]) -> float:
            return recovery.evaluate(end).objective

        cost = float(recovery.work)
    check(cancel)
    # Moves on the orders re-value the whole plan each time: they converge on small instances; on a
    # city-wide plan the incremental moves within crews' lists do most of the work.
    if cost * MIN_EVALUATIONS <= ORDER_BUDGET:
        _, timetable = improve(problem, sequences, value, cost=cost, budget=ORDER_BUDGET, cancel=cancel)
    else:  # too few evaluations to matter
        timetable = list_schedule(problem, sequences)
    if classes is not None:
        timetable = crew_schedule(problem, polish(problem, classes, _lists(problem, timetable), budget=CREW_BUDGET,
                                                        cancel=cancel))
    return timetable, recovery.evaluate(timetable.end)
