"""A small, obviously-correct reference of restoration planning (docs/restoration.md).

Functional status by the plain definition: at each time point, round one's cascade (the
brute-force ``reference_cascade``) with every buffer set to 0 and the damaged assets not yet
repaired failing at t = 0; whatever does not fail (and is not awaiting repair) is functional.
Schedules are valued by walking the time points, and the optimum is found by trying every way to
split each pool's repairs among its crews and every order within each crew. Meant for a handful
of damaged assets.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from itertools import pairwise

from tests.reference_cascade import Dep, reference_cascade

__all__ = ["City", "Planned", "brute_force", "functional", "value_of"]


@dataclass(frozen=True)
class City:
    assets: tuple[str, ...]
    deps: tuple[Dep, ...]
    population: Mapping[str, int]
    agency: Mapping[str, str]
    """Agency per asset (assets without one are absent)."""


@dataclass(frozen=True)
class Planned:
    unserved: float
    curve: list[tuple[float, int, int]]


def functional(city: City, unrepaired: set[str]) -> set[str]:
    """Assets functional while ``unrepaired`` are down: they fail at 0, buffers count for nothing."""
    if not unrepaired:
        return set(city.assets)
    deps = [(d, p, k, g, 0.0) for d, p, k, g, _ in city.deps]
    failed = reference_cascade(list(city.assets), deps, [(a, 0.0) for a in sorted(unrepaired)]).failed
    return set(city.assets) - set(failed)


def value_of(city: City, end: Mapping[str, float]) -> Planned:
    """Unserved people-hours and the curve when each damaged asset's repair ends at ``end[id]``."""
    total = sum(city.population.get(a, 0) for a in city.assets)
    times = sorted({0.0, *end.values()})
    curve = []
    for t in times:
        working = functional(city, {a for a, e in end.items() if e > t})
        curve.append((t, len(working), sum(city.population.get(a, 0) for a in working)))
    unserved = sum((total - served) * (t1 - t0) for (t0, _, served), (t1, _, _) in pairwise(curve))
    return Planned(unserved, curve)


def _splits(jobs: Sequence[str], crews: int) -> Iterator[list[list[str]]]:
    """Every way to hand ``jobs`` to at most ``crews`` identical crews, each crew's list in every order."""
    if not jobs:
        yield []
        return
    first, rest = jobs[0], jobs[1:]
    for split in _splits(rest, crews):
        for i in range(len(split)):  # join an existing crew, at every position
            for pos in range(len(split[i]) + 1):
                yield [*split[:i], [*split[i][:pos], first, *split[i][pos:]], *split[i + 1:]]
        if len(split) < crews:
            yield [*split, [first]]


def brute_force(city: City, hours: Mapping[str, float], crews: Mapping[str, int]) -> float:
    """The least unserved people-hours over all schedules (no idle time: it never helps).

    A damaged asset without an agency has a crew of its own; an agency without an entry in
    ``crews`` has one crew.
    """
    damaged = sorted(hours)
    pools: dict[str, list[str]] = {}
    for a in damaged:
        pools.setdefault(city.agency.get(a, f"own:{a}"), []).append(a)
    total = sum(city.population.get(a, 0) for a in city.assets)
    served: dict[frozenset[str], int] = {}
    for r in range(len(damaged) + 1):
        for repaired in itertools.combinations(damaged, r):
            working = functional(city, set(damaged) - set(repaired))
            served[frozenset(repaired)] = sum(city.population.get(a, 0) for a in working)
    options = [list(_splits(jobs, crews.get(pool, 1))) for pool, jobs in pools.items()]
    best = math.inf
    for choice in itertools.product(*options):
        end: dict[str, float] = {}
        for split in choice:
            for lst in split:
                t = 0.0
                for a in lst:
                    t += hours[a]
                    end[a] = t
        times = sorted({0.0, *end.values()})
        value = 0.0
        for t0, t1 in pairwise(times):
            value += (total - served[frozenset(a for a, e in end.items() if e <= t0)]) * (t1 - t0)
        best = min(best, value)
    return best
