"""Criticality: every asset ranked by the cascade its lone failure causes.

The measure of an asset is the cascade of its failure alone at t=0 with no
horizon: how many assets fail (itself included), the population they carry,
how many districts and agencies they touch. Buffers only delay failures, so
with no horizon the failed *set* does not depend on them and each run uses the
static (buffer-free) propagation. Ranking: most failures first, then most
population, districts, agencies, then id.

Work is shared: one prepared :class:`~kg.analysis.cascade.Network` serves
every run, each run only touches its own cascade, and two exact shortcuts skip
most runs:

* an asset nothing depends on takes down only itself;
* dominator chains: when every DEPENDS_ON edge into an asset's dependents comes
  to one dependent ``d`` whose group has the asset as its *only* provider (it
  immediately dominates ``d``), its cascade is itself plus ``d``'s cascade.
  Chains are resolved dependents-first, so each is computed once.

Examples
--------
>>> from kg.snapshot import build_snapshot
>>> assets = [(i, "Substation", None, None, None, None, None, p, None)
...           for i, p in (("P", 0), ("S", 0), ("F", 0), ("H", 900))]
>>> deps = [("S", "P", "power", "power", 0.0), ("F", "S", "power", "power", 0.0),
...         ("H", "F", "power", "power", 6.0)]
>>> snap = build_snapshot(1, lambda t: {"assets": assets, "dependencies": deps}.get(t, []))
>>> [(c.id, c.failed, c.population) for c in criticality(snap)]
[('P', 4, 900), ('S', 3, 900), ('F', 2, 900), ('H', 1, 900)]
"""

from __future__ import annotations

import threading
import weakref
from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt

from kg.analysis.cancel import CHECK_EVERY, CancelToken, check
from kg.analysis.cascade import network
from kg.errors import Problem, ValidationError
from kg.executor import Executor, InProcess, Progress
from kg.snapshot import GraphSnapshot

__all__ = ["Criticality", "Measures", "cascade_sets", "criticality", "measures", "rank"]


@dataclass(frozen=True)
class Criticality:
    """One asset's lone-failure cascade and its rank (city-wide, or within its district)."""

    rank: int
    id: str
    type: str
    district: str | None
    failed: int
    population: int
    districts: int
    agencies: int

    def to_dict(self) -> dict[str, Any]:
        """``{rank, id, type, district, failed, population, districts, agencies}``, an item of ``assets``."""
        return {"rank": self.rank, "id": self.id, "type": self.type, "district": self.district,
                "failed": self.failed, "population": self.population, "districts": self.districts,
                "agencies": self.agencies}


def _sole_dependents(snap: GraphSnapshot, forced: npt.NDArray[np.bool_]) -> npt.NDArray[np.int64]:
    """For each asset, the one dependent it immediately dominates and feeds alone, else -1 (vectorised)."""
    n = snap.n
    out = np.full(n, -1, dtype=np.int64)
    size = np.diff(snap.group_edge_ptr)
    sole = np.flatnonzero((size == 1) & ~forced)
    provider = snap.dep_provider[snap.group_edge_ptr[sole]].astype(np.int64)
    owner = snap.group_owner[sole].astype(np.int64)
    feeding = np.flatnonzero(np.diff(snap.rdep_ptr) > 0)  # assets with at least one dependent
    first = snap.rdep_dependent[snap.rdep_ptr[feeding]].astype(np.int64)
    last = snap.rdep_dependent[snap.rdep_ptr[feeding + 1] - 1].astype(np.int64)
    one = first == last  # reverse edges are sorted by dependent, so one distinct dependent iff first == last
    feeding, dependent = feeding[one], first[one]
    dominated = np.isin(feeding * n + dependent, provider * n + owner)
    out[feeding[dominated]] = dependent[dominated]
    return out


def cascade_sets(snap: GraphSnapshot, *, shortcuts: bool = True,
                 cancel: CancelToken | None = None) -> list[frozenset[int]]:
    """For every asset, the set of assets its lone failure eventually takes down (itself included).

    ``shortcuts=False`` runs the propagation for every asset (the brute force the shortcuts are tested
    against). ``cancel`` is checked before every propagation and every
    :data:`~kg.analysis.cancel.CHECK_EVERY` assets.
    """
    net = network(snap)
    sets: list[frozenset[int] | None] = [None] * snap.n
    if shortcuts:
        has_dependents = (np.diff(snap.rdep_ptr) > 0).tolist()
        sole = _sole_dependents(snap, net.forced).tolist()
    for x in range(snap.n):
        if x % CHECK_EVERY == 0:
            check(cancel)
        if sets[x] is not None:
            continue
        if shortcuts and not has_dependents[x]:
            sets[x] = frozenset((x,))
            continue
        chain = [x]
        if shortcuts:  # walk down the dominator chain to the first asset already known or not dominated
            while (d := sole[chain[-1]]) >= 0 and d not in chain:
                chain.append(d)
                if sets[d] is not None:
                    break
        bottom = chain[-1]
        known = sets[bottom]
        if known is None:
            check(cancel)
            known = sets[bottom] = frozenset(net.spread({bottom: 0.0}, static=True, cancel=cancel).failed)
        for a in reversed(chain[:-1]):
            known = sets[a] = known | {a}
    return [s if s is not None else frozenset() for s in sets]


class _Tally:
    """Size, population, distinct districts and agencies of a set of assets that grows and shrinks."""

    __slots__ = ("agencies", "agency", "agency_count", "district", "district_count", "districts", "inside",
                 "people", "population", "size")

    def __init__(self, forest: _Forest) -> None:
        self.district = forest.district
        self.agency = forest.agency
        self.people = forest.people
        self.inside = bytearray(len(self.people))
        self.district_count = [0] * (max(self.district, default=-1) + 1)
        self.agency_count = [0] * (max(self.agency, default=-1) + 1)
        self.size = self.population = self.districts = self.agencies = 0

    def of(self, assets: list[int]) -> tuple[int, int, int, int]:
        """Size, population, districts and agencies of ``assets`` (distinct), leaving the tally as it is."""
        district, agency, people = self.district, self.agency, self.people
        if len(assets) == 1:  # an asset nothing depends on: most of them
            a = assets[0]
            return 1, people[a], int(district[a] >= 0), int(agency[a] >= 0)
        return (len(assets), sum([people[a] for a in assets]), len({district[a] for a in assets} - {-1}),
                len({agency[a] for a in assets} - {-1}))

    def add(self, a: int) -> bool:
        """Add ``a``; False if it was in already."""
        if self.inside[a]:
            return False
        self.inside[a] = 1
        self.size += 1
        self.population += self.people[a]
        if (d := self.district[a]) >= 0:
            self.district_count[d] += 1
            self.districts += self.district_count[d] == 1
        if (g := self.agency[a]) >= 0:
            self.agency_count[g] += 1
            self.agencies += self.agency_count[g] == 1
        return True

    def remove(self, a: int) -> None:
        self.inside[a] = 0
        self.size -= 1
        self.population -= self.people[a]
        if (d := self.district[a]) >= 0:
            self.district_count[d] -= 1
            self.districts -= self.district_count[d] == 0
        if (g := self.agency[a]) >= 0:
            self.agency_count[g] -= 1
            self.agencies -= self.agency_count[g] == 0


@dataclass(frozen=True, eq=False)
class Measures:
    """Each asset's lone-failure cascade, measured: arrays indexed like the snapshot's assets."""

    failed: npt.NDArray[np.int64]
    """Assets that fail, itself included."""
    population: npt.NDArray[np.int64]
    districts: npt.NDArray[np.int64]
    agencies: npt.NDArray[np.int64]


def _propagated(sole: list[int]) -> bytearray:
    """Assets whose cascade is propagated: those without a sole dependent, and those on a loop of sole
    dependents (every other asset's cascade is itself plus its sole dependent's)."""
    n = len(sole)
    out = bytearray(d < 0 for d in sole)
    state = bytearray(n)  # 0 unseen, 1 on the walk under way, 2 done
    for x in range(n):
        walk = []
        y = x
        while y >= 0 and not state[y]:
            state[y] = 1
            walk.append(y)
            y = sole[y]
        if y >= 0 and state[y] == 1:  # the walk came back on itself: a loop
            for z in walk[walk.index(y):]:
                out[z] = 1
        for z in walk:
            state[z] = 2
    return out


@dataclass(frozen=True, eq=False)
class _Forest:
    """The sole-dependent forest of a snapshot (see :func:`measures`), prepared once per snapshot and process."""

    has_dependents: list[bool]
    roots: list[int]
    """Assets whose cascade is propagated, in index order."""
    children_ptr: list[int]
    children: list[int]
    district: list[int]
    agency: list[int]
    people: list[int]


_FORESTS: weakref.WeakKeyDictionary[GraphSnapshot, _Forest] = weakref.WeakKeyDictionary()
_FOREST_LOCK = threading.Lock()


def _forest(snap: GraphSnapshot) -> _Forest:
    with _FOREST_LOCK:  # a Dask worker runs several chunks of one snapshot at once: prepare it once
        forest = _FORESTS.get(snap)
        if forest is None:
            n = snap.n
            sole_array = _sole_dependents(snap, network(snap).forced)
            root = _propagated(sole_array.tolist())
            below = np.flatnonzero(~np.frombuffer(bytes(root), dtype=bool)) if n else np.zeros(0, dtype=np.int64)
            above = sole_array[below]
            # The forest as CSR, in plain ints for the walk: children[children_ptr[a] : children_ptr[a + 1]]
            # hang below asset a.
            forest = _FORESTS[snap] = _Forest(
                (np.diff(snap.rdep_ptr) > 0).tolist(),
                np.flatnonzero(np.frombuffer(bytes(root), dtype=bool)).tolist() if n else [],
                np.concatenate(([0], np.cumsum(np.bincount(above, minlength=n)))).tolist(),
                below[np.argsort(above, kind="stable")].tolist(),
                snap.region[snap.level_index("district")].tolist(), snap.agency.tolist(), snap.population.tolist())
        return forest


def _measure_chunk(snap: GraphSnapshot, work: tuple[int, int],
                   cancel: CancelToken | None) -> tuple[npt.NDArray[np.int64], npt.NDArray[np.int64]]:
    """Roots ``k, k + parts, ...`` of the forest and the trees below them: (assets, their four measures).

    Strided rather than consecutive roots, so that chunks get a fair share of the big trees wherever they lie.
    """
    k, parts = work
    net = network(snap)
    forest = _forest(snap)
    has_dependents, children_ptr, children = forest.has_dependents, forest.children_ptr, forest.children
    tally = _Tally(forest)
    assets: list[int] = []
    rows: list[tuple[int, int, int, int]] = []
    done = 0
    for r in forest.roots[k::parts]:
        if has_dependents[r]:
            check(cancel)
            cascade = list(net.spread({r: 0.0}, static=True, cancel=cancel).failed)
        else:
            cascade = [r]
        if children_ptr[r] == children_ptr[r + 1]:  # no tree below: most assets
            assets.append(r)
            rows.append(tally.of(cascade))
            continue
        for a in cascade:
            tally.add(a)
        # Depth first down the tree: (asset, added) marks the way back up.
        stack: list[tuple[int, bool | None]] = [(r, None)]
        while stack:
            a, added = stack.pop()
            if added is not None:  # on the way back
                if added:
                    tally.remove(a)
                continue
            if a != r:
                stack.append((a, tally.add(a)))
            assets.append(a)
            rows.append((tally.size, tally.population, tally.districts, tally.agencies))
            stack.extend((c, None) for c in children[children_ptr[a]:children_ptr[a + 1]])
            done += 1
            if done % CHECK_EVERY == 0:
                check(cancel)
        for a in cascade:
            tally.remove(a)
    return (np.asarray(assets, dtype=np.int64),
            np.asarray(rows, dtype=np.int64).reshape(len(rows), 4).T.copy())


def measures(snap: GraphSnapshot, *, cancel: CancelToken | None = None, executor: Executor | None = None,
             progress: Progress | None = None) -> Measures:
    """Every asset's lone-failure cascade (at t=0, no horizon): failed assets, population, districts, agencies.

    The dominator shortcut of the module docs makes the sole-dependent links a forest: the cascade of
    an asset is the propagated cascade of the root of its tree plus the assets on the way up. Each root
    is propagated once and its tree walked depth-first, adding each asset on the way down and taking it
    off on the way back, so memory stays linear in the number of assets whatever the cascades' sizes.

    The roots are shared out in chunks to ``executor`` (:mod:`kg.executor`; in-process by default), each
    chunk returning the measures of its trees; every asset is in exactly one tree, so the result does not
    depend on the chunks. ``progress(chunks done, chunks)`` follows them.

    ``cancel`` is checked before every propagation and every :data:`~kg.analysis.cancel.CHECK_EVERY`
    assets; :class:`~kg.analysis.cancel.Cancelled` is raised when it is cancelled.
    """
    ex = executor or InProcess()
    parts = len(ex.chunks(snap.n, min_size=1024))
    found = ex.map(_measure_chunk, [(k, parts) for k in range(parts)], shared=snap, progress=progress,
                   cancel=cancel)
    out = np.zeros((4, snap.n), dtype=np.int64)
    for assets, values in found:
        out[:, assets] = values
    return Measures(out[0], out[1], out[2], out[3])


def criticality(snap: GraphSnapshot, *, by: str | None = None, top: int | None = None,
                cancel: CancelToken | None = None, executor: Executor | None = None,
                progress: Progress | None = None) -> list[Criticality]:
    """Every asset ranked by the cascade of its lone failure (at t=0, no horizon).

    Parameters
    ----------
    snap : GraphSnapshot
    by : {None, "district"}
        ``"district"`` ranks each asset within its own district (no district: last).
    top : int, optional
        Keep the first ``top`` of the ranking (of each district with ``by``).
    cancel : CancelToken, optional
        Checked before every propagation and every :data:`~kg.analysis.cancel.CHECK_EVERY` assets.
    executor : Executor, optional
        Where the cascades run, in chunks (:mod:`kg.executor`); in-process by default.
    progress : callable, optional
        ``progress(chunks done, chunks)``.

    Returns
    -------
    list of Criticality
        Ranked by failures, then population, districts, agencies (all descending), then id.

    Raises
    ------
    ValidationError
        For another value of ``by``.
    Cancelled
        When ``cancel`` is cancelled before the ranking is complete.
    """
    if by not in (None, "district"):
        raise ValidationError([Problem("by", f"expected 'district' or nothing, got {by!r}")], field=("by",))
    return rank(snap, measures(snap, cancel=cancel, executor=executor, progress=progress), by=by, top=top,
                cancel=cancel)


def _order_of(names: tuple[str, ...]) -> npt.NDArray[np.int64]:
    """Each name's place in sorted order (numpy compares code points, as Python does)."""
    place = np.empty(len(names), dtype=np.int64)
    place[np.argsort(np.asarray(names, dtype=str), kind="stable")] = np.arange(len(names), dtype=np.int64)
    return place


def rank(snap: GraphSnapshot, measured: Measures, *, by: str | None = None, top: int | None = None,
         cancel: CancelToken | None = None) -> list[Criticality]:
    """The ranking of :func:`criticality` from already computed :func:`measures` (vectorised: only the
    assets kept become objects)."""
    if by not in (None, "district"):
        raise ValidationError([Problem("by", f"expected 'district' or nothing, got {by!r}")], field=("by",))
    district = snap.region[snap.level_index("district")].astype(np.int64)
    order = np.lexsort((_order_of(snap.asset_ids), -measured.agencies, -measured.districts, -measured.population,
                        -measured.failed))
    check(cancel)
    if by == "district":  # districts by id, assets without one last; each district's assets in ranking order
        place_of_region = np.append(_order_of(snap.region_ids), len(snap.region_ids))  # index -1: after all
        group = place_of_region[district[order]]
        within = np.argsort(group, kind="stable")
        order, group = order[within], group[within]
        starts = np.flatnonzero(np.r_[True, group[1:] != group[:-1]]) if len(order) else np.zeros(0, np.int64)
        first = np.repeat(starts, np.diff(np.r_[starts, len(order)]))
        places = np.arange(len(order), dtype=np.int64) - first + 1
    else:
        places = np.arange(1, len(order) + 1, dtype=np.int64)
    keep = np.flatnonzero(places <= top) if top is not None else np.arange(len(order))
    return [Criticality(place, snap.asset_ids[x], snap.type_of(x),
                        snap.region_ids[d] if d >= 0 else None, failed, population, n_districts, n_agencies)
            for x, place, d, failed, population, n_districts, n_agencies in zip(
                order[keep].tolist(), places[keep].tolist(), district[order[keep]].tolist(),
                measured.failed[order[keep]].tolist(), measured.population[order[keep]].tolist(),
                measured.districts[order[keep]].tolist(), measured.agencies[order[keep]].tolist(), strict=True)]
