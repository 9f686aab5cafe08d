"""A small, obviously-correct reference of the cascade semantics in DESIGN.md.

Plain dicts and sets, no cleverness: walk from one failure time to the next;
at each time recompute delivery from scratch as a least fixed point over the
assets still working, mark newly unsupported groups, schedule their owners at
``t_g + buffer``, and repeat at the same time until nothing more fails then.
Slow (cubic and worse) and meant for graphs of a dozen assets.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

__all__ = ["Reference", "reference_cascade"]

Dep = tuple[str, str, str, str, float]  # dependent, provider, kind, group, buffer_hours
GroupKey = tuple[str, str, str]  # owner, kind, group


@dataclass
class Reference:
    failed: dict[str, float]
    cause: dict[str, tuple[str, str, tuple[str, ...]] | None]  # kind, group, providers
    lost: dict[GroupKey, tuple[float, int]]  # (time, round within that time)
    baseline_errors: set[GroupKey]


def _groups(deps: Iterable[Dep]) -> tuple[dict[GroupKey, set[str]], dict[GroupKey, float]]:
    providers: dict[GroupKey, set[str]] = {}
    buffer: dict[GroupKey, float] = {}
    for d, p, k, g, b in deps:
        key = (d, k, g)
        providers.setdefault(key, set()).add(p)
        buffer[key] = max(buffer.get(key, 0.0), b)
    return providers, buffer


def _delivery(working: set[str], providers: dict[GroupKey, set[str]],
              forced: set[GroupKey]) -> set[tuple[str, str]]:
    """Least fixed point: (asset, kind) pairs delivered when exactly ``working`` assets work.

    Start from nothing; add (a, k) when a works and each of its k groups is forced or has a provider
    already delivering k; repeat until nothing changes. Only pairs someone depends on are computed.
    """
    mine: dict[tuple[str, str], list[GroupKey]] = {}
    for key in providers:
        mine.setdefault((key[0], key[1]), []).append(key)
    wanted = sorted({(p, key[1]) for key, ps in providers.items() for p in ps})
    delivers: set[tuple[str, str]] = set()
    changed = True
    while changed:
        changed = False
        for a, k in wanted:
            if a not in working or (a, k) in delivers:
                continue
            if all(key in forced or any((p, k) in delivers for p in providers[key]) for key in mine.get((a, k), [])):
                delivers.add((a, k))
                changed = True
    return delivers


def _unsupported(providers: dict[GroupKey, set[str]], delivers: set[tuple[str, str]]) -> set[GroupKey]:
    return {key for key, ps in providers.items() if not any((p, key[1]) in delivers for p in ps)}


def reference_cascade(assets: Sequence[str], deps: Sequence[Dep], initial: Sequence[tuple[str, float]],
                      horizon: float | None = None) -> Reference:
    providers, buffer = _groups(deps)
    forced = _unsupported(providers, _delivery(set(assets), providers, set()))
    start: dict[str, float] = {}
    for a, t in initial:
        start[a] = min(t, start.get(a, math.inf))
    due = dict.fromkeys(assets, math.inf) | start
    lost: dict[GroupKey, tuple[float, int]] = {}
    limit = math.inf if horizon is None else horizon
    now = -math.inf
    while True:
        upcoming = [t for t in due.values() if now < t < math.inf]
        if not upcoming or min(upcoming) > limit:
            break
        now = min(upcoming)
        rnd = 0  # assets failing at `now` because of groups lost in round r fail in round r + 1
        while True:
            working = {a for a in assets if due[a] > now}
            delivers = _delivery(working, providers, forced)
            more = False
            for key in _unsupported(providers, delivers) - forced - set(lost):
                lost[key] = (now, rnd)
                when = now + buffer[key]
                if when < due[key[0]]:
                    due[key[0]] = when
                    more = more or when <= now
            if not more:
                break
            rnd += 1
    failed = {a: t for a, t in due.items() if t <= limit and t < math.inf}
    cause: dict[str, tuple[str, str, tuple[str, ...]] | None] = {}
    for a, t in failed.items():
        if start.get(a, math.inf) <= t:
            cause[a] = None
            continue
        best = min((*lost[key], key[1], key[2])
                   for key in lost if key[0] == a and lost[key][0] + buffer[key] == t)
        key = (a, best[2], best[3])
        cause[a] = (key[1], key[2], tuple(sorted(providers[key])))
    return Reference(failed, cause, lost, forced)


def snapshot_rows(
    assets: Sequence[tuple[str, str, int]] | Sequence[str],
    deps: Sequence[Dep],
    *,
    agencies: dict[str, str] | None = None,
) -> dict[str, list[tuple[object, ...]]]:
    """Rows for :func:`kg.snapshot.build_snapshot`: assets as ids or (id, district, population).

    Districts ``d1``, ``d2``... sit in city ``c``, each with one community ``dX-c``
    where its assets are; ``agencies`` maps asset id -> agency id.
    """
    full = [(a, "d1", 0) if isinstance(a, str) else a for a in assets]
    districts = sorted({d for _, d, _ in full})
    regions: list[tuple[object, ...]] = [("c", "city", "City", None, None)]
    for d in districts:
        regions.append((d, "district", f"District {d}", "c", None))
        regions.append((f"{d}-c", "community", f"Community of {d}", d, None))
    agencies = agencies or {}
    agency_rows = [(g, f"Agency {g}", None, None, None, None, None) for g in sorted(set(agencies.values()))]
    asset_rows = [(a, "Substation", f"Asset {a}", f"{d}-c", agencies.get(a), None, None, pop, None, None)
                  for a, d, pop in full]
    return {"regions": regions, "agencies": agency_rows, "assets": asset_rows,
            "dependencies": [tuple(x) for x in deps], "hazard_zones": [], "exposures": [], "fragilities": []}
