"""Restoration state: when each asset works again while the damaged assets are repaired.

An asset is *functional* at ``t`` when it is not a damaged asset still awaiting or under repair
at ``t`` and it does not fail in round one's cascade with every buffer at 0 and the unrepaired
damaged assets failing at 0 (docs/restoration.md). The functional set is then the *greatest
self-supporting* set of available assets: every dependency group of each of its assets has a
provider in it that delivers the group's kind, and each kind's delivery is grounded in a source
(a least fixed point per kind, so a loop cut from its source delivers nothing). Repairs only
add available assets, so the functional set only grows; :class:`Recovery` follows it repair by
repair and touches each affected asset and dependency about once per evaluation.

Glossary (the indexes used by the restoration modules)
------------------------------------------------------
asset
    A snapshot index, ``0..n-1``.
job
    A damaged asset, ``0..k-1`` in id order: ``Problem.damaged[job]`` is its asset.
pool
    The crews that may repair a job: one pool per agency with damaged assets, and one per
    damaged asset without an agency (its own crew).
hit
    An asset not functional at ``t = 0`` (damaged, or cut off by the damage), ``0..h-1``:
    ``Recovery.hit[i]`` is its asset.
open group
    A (non-forced) dependency group of a hit asset whose providers are all hit: it has no supply
    at ``t = 0`` and gets it back when one of its providers works again. Other groups of hit
    assets are supplied throughout and play no part.
component
    A strongly connected set of hit assets along open groups. A component of one asset (and no
    group on itself) is settled by counting its supplied groups; a larger one is a supply *loop*,
    settled by a local fixed point (:meth:`Recovery._settle`).
"""

from __future__ import annotations

import heapq
from collections.abc import Sequence
from dataclasses import dataclass
from functools import cached_property
from typing import Protocol, TypeVar

import numpy as np
import numpy.typing as npt
from scipy.sparse import csr_matrix
from scipy.sparse.csgraph import connected_components

from kg.analysis.cascade import gather, network
from kg.snapshot import GraphSnapshot

__all__ = [
    "Algebra",
    "Outcome",
    "Problem",
    "Recovery",
    "Timetable",
    "crew_schedule",
    "list_schedule",
]

IntArray = npt.NDArray[np.int64]
V = TypeVar("V")


@dataclass(frozen=True, eq=False)
class Problem:
    """What must be repaired, how long each repair takes and which crews may do it."""

    snap: GraphSnapshot
    damaged: tuple[int, ...]
    """Asset index of each job, in id order."""
    hours: tuple[float, ...]
    """Repair hours of each job (> 0)."""
    pool: tuple[int, ...]
    """Pool of each job."""
    pool_agency: tuple[str | None, ...]
    """Agency id of each pool; ``None`` for the own pool of a damaged asset without an agency."""
    pool_crews: tuple[int, ...]
    """Crews of each pool (>= 1)."""

    @cached_property
    def jobs(self) -> tuple[tuple[int, ...], ...]:
        """The jobs of each pool, in id order."""
        out: list[list[int]] = [[] for _ in self.pool_agency]
        for job, pool in enumerate(self.pool):
            out[pool].append(job)
        return tuple(tuple(jobs) for jobs in out)


@dataclass(frozen=True)
class Timetable:
    """Who repairs each job and when: ``crew`` (0-based within its pool), ``start`` and ``end`` hours."""

    crew: tuple[int, ...]
    start: tuple[float, ...]
    end: tuple[float, ...]


def list_schedule(problem: Problem, sequences: Sequence[Sequence[int]]) -> Timetable:
    """Give each pool's jobs, in the order of ``sequences[pool]``, to the crew free first.

    Ties go to the lower crew number. Every crew starts at 0 and never idles. For any
    objective that only grows with completion times, some order gives an optimal timetable
    this way (order an optimal timetable's jobs by start time).

    Examples
    --------
    >>> from kg.snapshot import build_snapshot
    >>> snap = build_snapshot(1, lambda t: [])
    >>> p = Problem(snap, (0, 1, 2), (4.0, 1.0, 2.0), (0, 0, 0), ("grid",), (2,))
    >>> list_schedule(p, [[0, 1, 2]])
    Timetable(crew=(0, 1, 1), start=(0.0, 0.0, 1.0), end=(4.0, 1.0, 3.0))
    """
    k = len(problem.damaged)
    crew, start, end = [0] * k, [0.0] * k, [0.0] * k
    hours = problem.hours
    for pool, sequence in enumerate(sequences):
        free = [(0.0, c) for c in range(problem.pool_crews[pool])]
        for job in sequence:
            t, c = heapq.heappop(free)
            crew[job], start[job], end[job] = c, t, t + hours[job]
            heapq.heappush(free, (end[job], c))
    return Timetable(tuple(crew), tuple(start), tuple(end))


def crew_schedule(problem: Problem, crews: Sequence[Sequence[Sequence[int]]]) -> Timetable:
    """Timetable of explicit work lists: ``crews[pool][crew]`` is that crew's jobs, in order, back to back."""
    k = len(problem.damaged)
    crew, start, end = [0] * k, [0.0] * k, [0.0] * k
    for lists in crews:
        for c, jobs in enumerate(lists):
            t = 0.0
            for job in jobs:
                crew[job], start[job] = c, t
                t += problem.hours[job]
                end[job] = t
    return Timetable(tuple(crew), tuple(start), tuple(end))


@dataclass(frozen=True)
class Outcome:
    """The value of a timetable: unserved people-hours, when each hit asset works again, the curve."""

    objective: float
    restored: tuple[float, ...]
    """Time each hit asset is functional again (``Recovery.hit`` order)."""
    curve: tuple[tuple[float, int, int], ...]
    """(time, functional assets, population served) at 0 and at every distinct repair end."""


class Algebra(Protocol[V]):
    """Values of "this asset works" for :meth:`Recovery.solve`: constants, one per job, AND and OR."""

    true: V
    false: V

    def job(self, job: int) -> V: ...

    def both(self, a: V, b: V) -> V: ...

    def either(self, a: V, b: V) -> V: ...


class Recovery:
    """The part of the graph that ``damaged`` (asset indexes, one per job) cuts off, prepared once.

    Examples
    --------
    A hospital needs power from a substation S; both are damaged (2 h and 1 h to repair), the
    hospital has 100 people. Repairing S first, then H, gives the hospital back at 3 h:

    >>> from kg.snapshot import build_snapshot
    >>> rows = {"assets": [("S", "Substation", None, None, None, None, None, 0, None, None),
    ...                    ("H", "Hospital", None, None, None, None, None, 100, None, None)],
    ...         "dependencies": [("H", "S", "power", "power", 0.0)]}
    >>> snap = build_snapshot(1, lambda t: rows.get(t, []))
    >>> outcome = Recovery(snap, [1, 0]).evaluate([3.0, 2.0])
    >>> outcome.objective, outcome.curve
    (300.0, ((0.0, 0, 0), (2.0, 1, 0), (3.0, 2, 100)))
    """

    def __init__(self, snap: GraphSnapshot, damaged: Sequence[int]) -> None:
        self.snap = snap
        net = network(snap)
        failed = net.spread(dict.fromkeys(damaged, 0.0), static=True).failed
        hit = np.fromiter(sorted(failed), dtype=np.int64, count=len(failed))
        h = len(hit)
        local = np.full(snap.n, -1, dtype=np.int64)
        local[hit] = np.arange(h, dtype=np.int64)
        groups = gather(snap.group_ptr, hit)
        groups = groups[~net.forced[groups]]
        edges = gather(snap.group_edge_ptr, groups)
        supplied = np.zeros(len(snap.group_owner), dtype=bool)
        supplied[snap.dep_group[edges][local[snap.dep_provider[edges]] < 0]] = True
        open_ = groups[~supplied[groups]]  # in owner order: ``hit`` is sorted and gather keeps its order
        n_open = len(open_)
        open_of = np.full(len(snap.group_owner), -1, dtype=np.int64)
        open_of[open_] = np.arange(n_open, dtype=np.int64)
        owner = local[snap.group_owner[open_]]
        sizes = snap.group_edge_ptr[open_ + 1] - snap.group_edge_ptr[open_]
        open_edges = gather(snap.group_edge_ptr, open_)
        provider = local[snap.dep_provider[open_edges]]
        edge_group = open_of[snap.dep_group[open_edges]]

        self.hit: IntArray = hit
        self.size = h
        self.n_open = n_open
        self.work = h + len(open_edges) + len(damaged)
        """A deterministic measure of the cost of one :meth:`evaluate` (for work budgets)."""
        self.population = snap.population[hit].tolist()
        self._served_at_0 = int(snap.population.sum()) - sum(self.population)
        self.group_owner: list[int] = owner.tolist()
        self.group_kind: list[int] = snap.group_kind[open_].astype(np.int64).tolist()
        self.group_ptr = _ptr(sizes, n_open)
        self.group_providers: list[int] = provider.tolist()
        self.owner_ptr = _ptr(np.bincount(owner, minlength=h), h)
        """Open groups of hit asset ``i``: ``owner_ptr[i]:owner_ptr[i+1]`` (they are in owner order)."""
        self._missing: list[int] = np.bincount(owner, minlength=h).tolist()
        by_provider = np.argsort(provider, kind="stable")
        self.provider_ptr = _ptr(np.bincount(provider, minlength=h), h)
        self.provider_groups: list[int] = edge_group[by_provider].tolist()
        self.job_hit: list[int] = local[np.asarray(damaged, dtype=np.int64)].tolist()
        self.job_of: dict[int, int] = {x: j for j, x in enumerate(self.job_hit)}
        self._components(provider, owner[edge_group] if n_open else np.zeros(0, dtype=np.int64))

    # ------------------------------------------------------------------ structure
    def _components(self, src: IntArray, dst: IntArray) -> None:
        """Components along open groups (provider -> owner), in topological order, and the loops among them."""
        h = self.size
        graph = csr_matrix((np.ones(len(src), dtype=np.int8), (src, dst)), shape=(h, h))
        count, label = connected_components(graph, directed=True, connection="strong")
        label = label.astype(np.int64)
        looped = np.bincount(label, minlength=count) > 1
        looped[label[src[src == dst]]] = True  # an asset supplying one of its own groups
        # Kahn's algorithm level by level, vectorised over the condensation.
        a, b = label[src], label[dst]
        keep = a != b
        a, b = a[keep], b[keep]
        indegree = np.bincount(b, minlength=count)
        ptr = np.zeros(count + 1, dtype=np.int64)
        np.cumsum(np.bincount(a, minlength=count), out=ptr[1:])
        targets = b[np.argsort(a, kind="stable")]
        level = np.zeros(count, dtype=np.int64)
        frontier = np.flatnonzero(indegree == 0)
        depth = 0
        while len(frontier):
            level[frontier] = depth
            reached = targets[gather(ptr, frontier)]
            np.subtract.at(indegree, reached, 1)
            frontier = np.unique(reached[indegree[reached] == 0])
            depth += 1
        order = np.lexsort((np.arange(h), label, level[label]))
        bounds = np.flatnonzero(np.diff(label[order])) + 1
        self.components: list[list[int]] = [c.tolist() for c in np.split(order, bounds)] if h else []
        """Hit assets by component, upstream components first."""
        self.rank: list[int] = [0] * h
        """Position of each hit asset's component in :attr:`components` (upstream first)."""
        for position, members in enumerate(self.components):
            for x in members:
                self.rank[x] = position
        self.loop_of: list[int] = [-1] * h
        """Loop number of each hit asset, -1 outside loops; loops are numbered upstream first."""
        self.loops: list[list[int]] = []
        for members in self.components:
            if looped[label[members[0]]]:
                for x in members:
                    self.loop_of[x] = len(self.loops)
                self.loops.append(members)
        self.loop_kinds: dict[int, list[int]] = {}
        """Kinds each loop member delivers to open groups of its own loop."""
        for g in range(self.n_open):
            o = self.group_owner[g]
            if self.loop_of[o] < 0:
                continue
            for e in range(self.group_ptr[g], self.group_ptr[g + 1]):
                p = self.group_providers[e]
                if self.loop_of[p] == self.loop_of[o]:
                    kinds = self.loop_kinds.setdefault(p, [])
                    if self.group_kind[g] not in kinds:
                        kinds.append(self.group_kind[g])

    # ------------------------------------------------------------------ evaluation
    def evaluate(self, end: Sequence[float]) -> Outcome:
        """The outcome of repairs finishing at ``end[job]`` (any order; equal ends finish together)."""
        k = len(end)
        order = sorted(range(k), key=lambda j: (end[j], j))
        h = self.size
        working = bytearray(h)
        waiting = bytearray(h)
        for x in self.job_hit:
            waiting[x] = 1
        lit = bytearray(self.n_open)
        missing = self._missing.copy()
        restored = [0.0] * h
        people = self.population
        ptr, groups, owner, loop_of = self.provider_ptr, self.provider_groups, self.group_owner, self.loop_of
        job_hit, settle = self.job_hit, self._settle
        functional, served = self.snap.n - h, self._served_at_0
        curve = [(0.0, functional, served)]
        objective = 0.0
        i = 0
        while i < k:
            t = end[order[i]]
            stack: list[int] = []
            dirty: list[int] = []
            while i < k and end[order[i]] == t:
                x = job_hit[order[i]]
                waiting[x] = 0
                if loop_of[x] >= 0:
                    heapq.heappush(dirty, loop_of[x])
                elif missing[x] == 0:
                    working[x] = 1
                    stack.append(x)
                i += 1
            gained = 0
            while True:
                while stack:
                    x = stack.pop()
                    restored[x] = t
                    functional += 1
                    gained += people[x]
                    for g in groups[ptr[x] : ptr[x + 1]]:
                        if lit[g]:
                            continue
                        lit[g] = 1
                        o = owner[g]
                        if loop_of[o] >= 0:
                            heapq.heappush(dirty, loop_of[o])
                        else:
                            missing[o] -= 1
                            if missing[o] == 0 and not waiting[o]:
                                working[o] = 1
                                stack.append(o)
                if not dirty:
                    break
                # Loops are numbered upstream first: settling the lowest one first settles each once.
                loop = heapq.heappop(dirty)
                while dirty and dirty[0] == loop:
                    heapq.heappop(dirty)
                for x in settle(loop, working, waiting, lit):
                    working[x] = 1
                    stack.append(x)
            served += gained
            objective += t * gained
            curve.append((t, functional, served))
        return Outcome(objective, tuple(restored), tuple(curve))

    def _settle(self, loop: int, working: bytearray, waiting: bytearray, lit: bytearray) -> list[int]:
        """Members of ``loop`` that work now: the greatest subset of the available ones that supports itself.

        Start from every available member that does not work yet; per kind, find which of their
        delivery units are grounded (least fixed point: a unit delivers when each of its owner's
        groups of that kind has a working provider or a grounded unit of that kind); drop the
        members with a group left without supply; repeat until nothing is dropped.
        """
        alive = {x for x in self.loops[loop] if not working[x] and not waiting[x]}
        while alive:
            grounded = self._grounded(alive, lit)
            kept = {x for x in alive if all(self._supplied(g, alive, grounded, lit)
                                            for g in range(self.owner_ptr[x], self.owner_ptr[x + 1]))}
            if kept == alive:
                return sorted(alive)
            alive = kept
        return []

    def _grounded(self, alive: set[int], lit: bytearray) -> set[tuple[int, int]]:
        grounded: set[tuple[int, int]] = set()
        changed = True
        while changed:
            changed = False
            for x in alive:
                for kind in self.loop_kinds.get(x, ()):
                    if (x, kind) not in grounded and all(
                            self._supplied(g, alive, grounded, lit)
                            for g in range(self.owner_ptr[x], self.owner_ptr[x + 1]) if self.group_kind[g] == kind):
                        grounded.add((x, kind))
                        changed = True
        return grounded

    def _supplied(self, g: int, alive: set[int], grounded: set[tuple[int, int]], lit: bytearray) -> bool:
        if lit[g]:
            return True
        kind = self.group_kind[g]
        return any(p in alive and (p, kind) in grounded
                   for p in self.group_providers[self.group_ptr[g] : self.group_ptr[g + 1]])

    # ------------------------------------------------------------------ symbolic
    def solve(self, algebra: Algebra[V]) -> list[V]:
        """"Hit asset ``i`` works" as a value of ``algebra`` over the jobs, for every hit asset.

        With an exact algebra (monotone Boolean functions) this is exact: the same fixed points as
        :meth:`evaluate`, computed once for every set of finished repairs. Components go upstream
        first, so a provider outside the component is already valued.
        """
        value: list[V] = [algebra.false] * self.size
        for members in self.components:
            if self.loop_of[members[0]] < 0:
                x = members[0]
                v = self._available(x, algebra)
                for g in range(self.owner_ptr[x], self.owner_ptr[x + 1]):
                    v = algebra.both(v, self._supply(g, algebra, value, None))
                value[x] = v
            else:
                for m, v in self._solve_loop(members, algebra, value).items():
                    value[m] = v
        return value

    def _available(self, x: int, algebra: Algebra[V]) -> V:
        return algebra.job(self.job_of[x]) if x in self.job_of else algebra.true

    def _supply(self, g: int, algebra: Algebra[V], value: list[V], units: dict[tuple[int, int], V] | None) -> V:
        """Group ``g`` is supplied: by a provider that works (outside the loop) or a unit of the loop delivering."""
        out = algebra.false
        kind = self.group_kind[g]
        for p in self.group_providers[self.group_ptr[g] : self.group_ptr[g + 1]]:
            inside = units is not None and (p, kind) in units
            out = algebra.either(out, units[(p, kind)] if units is not None and inside else value[p])
        return out

    def _solve_loop(self, members: list[int], algebra: Algebra[V], value: list[V]) -> dict[int, V]:
        """The values of one loop's members: :meth:`_settle` done symbolically.

        Outer rounds shrink "works" from "available" (greatest fixed point); within each, the loop's
        delivery units grow from false (least fixed point). Pointwise each round changes something
        or stops, so rounds are bounded by the units (inner) and the members (outer), plus one.
        """
        works = {m: self._available(m, algebra) for m in members}
        for _ in range(len(members) + 1):
            units = {(m, kind): algebra.false for m in members for kind in self.loop_kinds.get(m, ())}
            for _ in range(len(units) + 1):
                changed = False
                for (m, kind), old in units.items():
                    v = works[m]
                    for g in range(self.owner_ptr[m], self.owner_ptr[m + 1]):
                        if self.group_kind[g] == kind:
                            v = algebra.both(v, self._supply(g, algebra, value, units))
                    if v != old:
                        units[(m, kind)] = v
                        changed = True
                if not changed:
                    break
            after = {}
            for m in members:
                v = works[m]
                for g in range(self.owner_ptr[m], self.owner_ptr[m + 1]):
                    v = algebra.both(v, self._supply(g, algebra, value, units))
                after[m] = v
            if after == works:
                break
            works = after
        return works


def _ptr(counts: npt.NDArray[np.int64], n: int) -> list[int]:
    ptr = np.zeros(n + 1, dtype=np.int64)
    np.cumsum(counts, out=ptr[1:])
    out: list[int] = ptr.tolist()
    return out
