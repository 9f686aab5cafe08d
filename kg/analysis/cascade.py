"""Cascading failures: who fails, when, why, and which boundaries the cascade crosses.

The semantics are the contract in DESIGN.md ("Cascade semantics") and
docs/cascade.md. In short: an asset needs every one of its dependency groups;
a group is supported while one of its providers *delivers* the group's kind;
a provider delivers kind k while it works and all its own k groups are
supported, grounded in a source (least fixed point); an asset whose group
loses support at ``t_g`` fails at ``t_g + buffer``.

This module holds the one propagation core, :class:`Network`, that
:func:`cascade`, :mod:`kg.analysis.criticality`, :mod:`kg.analysis.hazards` and
:func:`kg.analysis.traces.single_points_of_failure` share. It works on
*delivery units* (one per provider and kind it delivers): a unit stops when its
asset fails or one of its groups of that kind loses support. Support is kept
as a count of delivering providers per group, which is exact wherever supply
does not loop; inside a strongly connected set of units (a supply loop) a lost
provider triggers a local re-derivation of the loop's units reachable from the
loss (delete and re-derive), so a loop cut from its source stops delivering.
"""

from __future__ import annotations

import heapq
import math
import weakref
from collections.abc import Container, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import numpy.typing as npt
from scipy.sparse import csr_matrix
from scipy.sparse.csgraph import connected_components

from kg.analysis.cancel import CHECK_EVERY, CancelToken, check
from kg.errors import Problem, ResultTooLarge, ValidationError
from kg.snapshot import GraphSnapshot

__all__ = [
    "BaselineError",
    "CascadeResult",
    "Cause",
    "Crossing",
    "Failure",
    "Network",
    "Spread",
    "Summary",
    "baseline_errors",
    "cascade",
    "gather",
    "network",
]

IntArray = npt.NDArray[np.int64]
BoolArray = npt.NDArray[np.bool_]
INF = math.inf


def gather(ptr: IntArray, rows: IntArray) -> IntArray:
    """Concatenated CSR positions ``ptr[r]:ptr[r+1]`` of every row in ``rows`` (vectorised).

    Examples
    --------
    >>> gather(np.array([0, 2, 2, 5]), np.array([2, 0])).tolist()
    [2, 3, 4, 0, 1]
    """
    starts = ptr[rows]
    lens = ptr[rows + 1] - starts
    total = int(lens.sum())
    if total == 0:
        return np.zeros(0, dtype=np.int64)
    offsets = np.repeat(starts - (np.cumsum(lens) - lens), lens)
    return offsets + np.arange(total, dtype=np.int64)


def _distinct(values: IntArray, slot: IntArray) -> IntArray:
    """``values`` without repeats, in no particular order, in linear time (``slot``: scratch, big enough)."""
    at = np.arange(len(values), dtype=np.int64)
    slot[values] = at
    kept: IntArray = values[slot[values] == at]
    return kept


def _view(array: npt.NDArray[Any]) -> memoryview:
    return np.ascontiguousarray(array).data


@dataclass(frozen=True)
class Spread:
    """Raw outcome of one propagation: failure time per failed asset, loss time per unsupported group."""

    failed: dict[int, float]
    lost: dict[int, tuple[float, int]]
    """Group -> (time it lost support, round within that time: 0 for losses caused by failures due then)."""


class Network:
    """Delivery units, supply loops and the baseline of one snapshot, prepared once (see :func:`network`)."""

    def __init__(self, snap: GraphSnapshot) -> None:
        self.snap = snap
        n, kinds = snap.n, max(1, len(snap.kinds))
        provider = snap.dep_provider.astype(np.int64)
        ukey = provider * kinds + snap.dep_kind
        present = np.zeros(n * kinds, dtype=bool)  # (provider, kind) pairs: marking beats np.unique here
        present[ukey] = True
        keys = np.flatnonzero(present)
        edge_unit = (np.cumsum(present, dtype=np.int64) - 1)[ukey]
        del present
        units = len(keys)
        self.units = units
        self.unit_node = (keys // kinds).astype(np.int64)
        self.nu_ptr = np.zeros(n + 1, dtype=np.int64)
        np.cumsum(np.bincount(self.unit_node, minlength=n), out=self.nu_ptr[1:])
        # Edges in unit order: the reverse CSR is already sorted by provider; only providers of
        # several kinds need their edges sorted by kind (units of a provider are consecutive ids).
        order = snap.rdep_edge.copy()
        several = np.diff(self.nu_ptr)[snap.dep_provider[order]] > 1
        if several.any():
            at = np.flatnonzero(several)
            order[at] = order[at[np.argsort(edge_unit[order[at]], kind="stable")]]
        self.u_ptr = np.zeros(units + 1, dtype=np.int64)
        np.cumsum(np.bincount(edge_unit, minlength=units), out=self.u_ptr[1:])
        self.u_group = snap.dep_group[order].astype(np.int64)
        gkey = snap.group_owner.astype(np.int64) * kinds + snap.group_kind
        pos = np.searchsorted(keys, gkey)
        hit = pos < units
        hit[hit] = keys[pos[hit]] == gkey[hit]
        self.g_unit = np.where(hit, pos, -1).astype(np.int64)
        self.u_g0: IntArray = np.asarray(np.searchsorted(gkey, keys, "left"), dtype=np.int64)
        self.u_g1: IntArray = np.asarray(np.searchsorted(gkey, keys, "right"), dtype=np.int64)
        self.g_size = np.diff(snap.group_edge_ptr).astype(np.int64)
        self.e_unit = edge_unit
        # Supply loops: strongly connected sets of units (unit of a provider -> unit of the group's owner).
        dst = self.g_unit[snap.dep_group]
        keep = dst >= 0
        graph = csr_matrix((np.ones(int(keep.sum()), dtype=np.int8), (edge_unit[keep], dst[keep])),
                           shape=(units, units))
        _, labels = connected_components(graph, directed=True, connection="strong")
        sizes = np.bincount(labels, minlength=1)
        self.u_scc = np.where(sizes[labels] > 1, labels, -1).astype(np.int64)
        cyclic_edge = keep.copy()
        cyclic_edge[keep] = (self.u_scc[edge_unit[keep]] >= 0) & (
            self.u_scc[edge_unit[keep]] == self.u_scc[dst[keep]])
        self.g_cyclic = np.zeros(len(self.g_size), dtype=bool)
        self.g_cyclic[snap.dep_group[cyclic_edge]] = True
        self.forced = ~self._baseline_support()
        self._fast()

    def _baseline_support(self) -> BoolArray:
        """Which groups are supported with nothing failed (least fixed point, vectorised)."""
        groups = len(self.g_size)
        support = np.zeros(groups, dtype=np.int64)
        missing = (self.u_g1 - self.u_g0).astype(np.int64)
        slot = np.empty(max(groups, self.units), dtype=np.int64)
        frontier = np.flatnonzero(missing == 0)
        while len(frontier):
            hit = self.u_group[gather(self.u_ptr, frontier)]
            before = support[hit] == 0
            np.add.at(support, hit, 1)
            fresh = _distinct(hit[before], slot)
            owners = self.g_unit[fresh]
            owners = owners[owners >= 0]
            np.subtract.at(missing, owners, 1)
            frontier = _distinct(owners[missing[owners] == 0], slot)
        supported: BoolArray = support > 0
        return supported

    def _fast(self) -> None:
        # memoryviews give plain-int item access in the propagation loops at no copying cost.
        self._u_ptr = _view(self.u_ptr)
        self._u_group = _view(self.u_group)
        self._nu_ptr = _view(self.nu_ptr)
        self._g_unit = _view(self.g_unit)
        self._g_owner = _view(self.snap.group_owner.astype(np.int64))
        self._g_buf = _view(self.snap.group_buffer)
        self._g_size = _view(self.g_size)
        self._g_cyclic = _view(self.g_cyclic.view(np.uint8))
        self._forced = _view(self.forced.view(np.uint8))
        self._u_scc = _view(self.u_scc)
        self._u_g0 = _view(self.u_g0)
        self._u_g1 = _view(self.u_g1)
        self._g_eptr = _view(self.snap.group_edge_ptr)
        self._g_ptr = _view(self.snap.group_ptr)
        self._g_kind = _view(self.snap.group_kind.astype(np.int64))
        self._g_label = _view(self.snap.group_label.astype(np.int64))
        self._e_prov = _view(self.snap.dep_provider.astype(np.int64))
        self._e_unit = _view(self.e_unit)

    # ------------------------------------------------------------------ propagation core
    def spread(
        self,
        initial: dict[int, float],
        *,
        horizon: float = INF,
        static: bool = False,
        within: memoryview | None = None,
        until: Container[int] = (),
        cancel: CancelToken | None = None,
        max_failed: int | None = None,
    ) -> Spread:
        """Propagate failures from ``initial`` (asset index -> time).

        ``static`` ignores buffers (every failure at its cause's time): the set of
        assets that *eventually* fail is the same, only faster to get. ``within``
        (a byte per asset) restricts propagation to those assets; propagation stops
        as soon as an asset in ``until`` fails. ``cancel`` is checked every
        :data:`~kg.analysis.cancel.CHECK_EVERY` failures (a city-wide cascade of a
        million assets takes seconds), and so is ``max_failed``: past it (give or take
        that many) the propagation stops with :class:`~kg.errors.ResultTooLarge`, having
        held about 700 bytes per failure.
        """
        failed: dict[int, float] = {}
        due: dict[int, float] = dict(initial)
        lost: dict[int, tuple[float, int]] = {}
        live: dict[int, int] = {}
        stopped: set[int] = set()
        heap = [(t, a) for a, t in initial.items()]
        heapq.heapify(heap)
        u_ptr, u_group, nu_ptr, g_unit = self._u_ptr, self._u_group, self._nu_ptr, self._g_unit
        g_owner, g_buf, g_size, g_cyclic = self._g_owner, self._g_buf, self._g_size, self._g_cyclic
        forced, u_scc = self._forced, self._u_scc
        countdown = CHECK_EVERY
        while heap:
            t = heap[0][0]
            if t > horizon:
                break
            batch: list[int] = []
            while heap and heap[0][0] == t:
                a = heapq.heappop(heap)[1]
                if a not in failed and due[a] == t:
                    batch.append(a)
            # Rounds: assets failing at t because of groups lost in round r fail in round r + 1.
            rnd = 0
            while batch:
                work: list[int] = []
                for a in batch:
                    if a in failed:
                        continue
                    failed[a] = t
                    if a in until:
                        return Spread(failed, lost)
                    countdown -= 1
                    if not countdown:  # a local countdown: the cheapest test per failure
                        countdown = CHECK_EVERY
                        if cancel is not None:
                            cancel.check()
                        if max_failed is not None and len(failed) > max_failed:
                            raise _too_many(len(failed), max_failed)
                    for u in range(nu_ptr[a], nu_ptr[a + 1]):
                        if u not in stopped:
                            stopped.add(u)
                            work.append(u)
                batch = []
                dirty: dict[int, set[int]] = {}
                while True:
                    while work:
                        u = work.pop()
                        for j in range(u_ptr[u], u_ptr[u + 1]):
                            g = u_group[j]
                            if forced[g]:
                                continue
                            a = g_owner[g]
                            if within is not None and not within[a]:
                                continue
                            c = live.get(g, -1)
                            c = (g_size[g] if c < 0 else c) - 1
                            live[g] = c
                            if c == 0:
                                lost[g] = (t, rnd)
                                if a not in failed:
                                    when = t if static else t + g_buf[g]
                                    if when < due.get(a, INF):
                                        due[a] = when
                                        if when > t:
                                            heapq.heappush(heap, (when, a))
                                        else:
                                            batch.append(a)
                                w = g_unit[g]
                                if w >= 0 and w not in stopped:
                                    stopped.add(w)
                                    work.append(w)
                            elif g_cyclic[g]:
                                w = g_unit[g]
                                if w not in stopped:
                                    dirty.setdefault(u_scc[w], set()).add(w)
                    if not dirty:
                        break
                    for w in self._rederive(dirty.popitem()[1], stopped):
                        stopped.add(w)
                        work.append(w)
                rnd += 1
        return Spread(failed, lost)

    def _rederive(self, touched: set[int], stopped: set[int]) -> list[int]:
        """Units of one supply loop, reachable from ``touched``, that no longer have grounded support."""
        u_ptr, u_group, g_unit, u_scc = self._u_ptr, self._u_group, self._g_unit, self._u_scc
        forced, g_eptr, e_unit, u_g0, u_g1 = self._forced, self._g_eptr, self._e_unit, self._u_g0, self._u_g1
        scc = u_scc[next(iter(touched))]
        region = {u for u in touched if u not in stopped}
        stack = list(region)
        while stack:
            u = stack.pop()
            for j in range(u_ptr[u], u_ptr[u + 1]):
                w = g_unit[u_group[j]]
                if w >= 0 and u_scc[w] == scc and w not in stopped and w not in region:
                    region.add(w)
                    stack.append(w)
        need: dict[int, int] = {}
        count: dict[int, int] = {}
        ready: list[int] = []
        for w in region:
            missing = 0
            for g in range(u_g0[w], u_g1[w]):
                if forced[g]:
                    continue
                c = 0
                for e in range(g_eptr[g], g_eptr[g + 1]):
                    p = e_unit[e]
                    if p not in stopped and p not in region:
                        c += 1
                count[g] = c
                if c == 0:
                    missing += 1
            need[w] = missing
            if missing == 0:
                ready.append(w)
        grounded: set[int] = set()
        while ready:
            w = ready.pop()
            grounded.add(w)
            for j in range(u_ptr[w], u_ptr[w + 1]):
                g = u_group[j]
                o = g_unit[g]
                if o in need and o not in grounded and not forced[g]:
                    count[g] += 1
                    if count[g] == 1:
                        need[o] -= 1
                        if need[o] == 0:
                            ready.append(o)
        return [w for w in region if w not in grounded]


_NETWORKS: weakref.WeakKeyDictionary[GraphSnapshot, Network] = weakref.WeakKeyDictionary()


def network(snap: GraphSnapshot) -> Network:
    """The prepared :class:`Network` of ``snap`` (built on first use, cached with the snapshot).

    Examples
    --------
    >>> from kg.snapshot import build_snapshot
    >>> assets = [(i, "Substation", None, None, None, None, None, 0, None) for i in "SH"]
    >>> snap = build_snapshot(1, lambda t: {"assets": assets, "dependencies": [
    ...     ("H", "S", "power", "power", 8.0)]}.get(t, []))
    >>> net = network(snap)
    >>> net is network(snap), net.units
    (True, 1)
    >>> net.spread({0: 0.0}).failed == {0: 0.0, 1: 8.0}, net.spread({0: 0.0}, static=True).failed[1]
    (True, 0.0)
    """
    net = _NETWORKS.get(snap)
    if net is None:
        net = _NETWORKS[snap] = Network(snap)
    return net


# ---------------------------------------------------------------------- results
@dataclass(frozen=True)
class BaselineError:
    """A group unsupported with nothing failed (a supply loop with no source); treated as always supplied."""

    id: str
    kind: str
    group: str
    providers: tuple[str, ...]

    def to_dict(self) -> dict[str, Any]:
        return {"id": self.id, "kind": self.kind, "group": self.group, "providers": list(self.providers)}

    def __str__(self) -> str:
        return (f"{self.id}: its {self.kind} supply (group {self.group!r}) from {', '.join(self.providers)} "
                "is not grounded in any source; it is treated as supplied from outside the model")


def _group_providers(snap: GraphSnapshot, g: int) -> tuple[str, ...]:
    edges = snap.dep_provider[snap.group_edge_ptr[g] : snap.group_edge_ptr[g + 1]]
    return tuple(sorted({snap.asset_ids[int(p)] for p in edges}))


def baseline_errors(snap: GraphSnapshot) -> tuple[BaselineError, ...]:
    """Groups that are unsupported when nothing has failed, sorted by asset id, kind and group.

    Examples
    --------
    >>> from kg.snapshot import build_snapshot
    >>> assets = [(i, "Substation", None, None, None, None, None, 0, None) for i in "ABC"]
    >>> deps = [("A", "B", "power", "power", 0.0), ("B", "A", "power", "power", 0.0),
    ...         ("C", "A", "water", "water", 0.0)]
    >>> snap = build_snapshot(1, lambda t: {"assets": assets, "dependencies": deps}.get(t, []))
    >>> [(e.id, e.kind, e.providers) for e in baseline_errors(snap)]
    [('A', 'power', ('B',)), ('B', 'power', ('A',))]
    """
    net = network(snap)
    out = [
        BaselineError(snap.asset_ids[int(snap.group_owner[g])], snap.kinds[int(snap.group_kind[g])],
                      snap.group_labels[int(snap.group_label[g])], _group_providers(snap, int(g)))
        for g in np.flatnonzero(net.forced)
    ]
    return tuple(sorted(out, key=lambda e: (e.id, e.kind, e.group)))


@dataclass(frozen=True)
class Cause:
    """The group whose loss of support failed an asset, and all of that group's providers (none delivered)."""

    kind: str
    group: str
    providers: tuple[str, ...]
    since: float
    """When the group lost support (the asset then lived on its buffer until it failed)."""
    indexes: tuple[int, ...] = ()
    """Snapshot indexes of ``providers``, in the same order."""

    def to_dict(self) -> dict[str, Any]:
        return {"kind": self.kind, "group": self.group, "providers": list(self.providers)}


@dataclass(frozen=True)
class Failure:
    """One failed asset: when, why, where, whose, and how many people live or work there."""

    index: int
    id: str
    type: str
    time: float
    cause: Cause | None
    regions: dict[str, str]
    agency: str | None
    population: int
    hit: float = INF
    """When the asset first lost any supply (went onto a buffer), or failed if that came first."""

    @property
    def since(self) -> float:
        """When the failure started: its time if initial, else when its cause group lost support."""
        return self.time if self.cause is None else self.cause.since

    def to_dict(self) -> dict[str, Any]:
        return {
            "id": self.id, "type": self.type, "time": self.time,
            "cause": None if self.cause is None else self.cause.to_dict(),
            "regions": dict(self.regions), "agency": self.agency, "population": self.population,
        }


@dataclass(frozen=True)
class Crossing:
    """A cascade crossing a boundary: the first failure in ``to`` caused by a provider in ``from_``."""

    from_: str
    to: str
    boundary: str
    time: float

    def to_dict(self) -> dict[str, Any]:
        return {"from": self.from_, "to": self.to, "boundary": self.boundary, "time": self.time}


@dataclass(frozen=True)
class Summary:
    """Totals: failed assets, their population, distinct agencies, distinct regions per level."""

    failed: int
    population: int
    agencies: int
    regions: dict[str, int]

    def to_dict(self) -> dict[str, Any]:
        return {"failed": self.failed, "population": self.population, "agencies": self.agencies,
                "regions": dict(self.regions)}


@dataclass(frozen=True)
class CascadeResult:
    """Everything :func:`cascade` found; :meth:`to_dict` is the JSON shape of DESIGN.md."""

    initial: tuple[tuple[str, float], ...]
    horizon: float | None
    failures: tuple[Failure, ...]
    crossings: tuple[Crossing, ...]
    baseline_errors: tuple[BaselineError, ...]
    summary: Summary = field(init=False)

    def __post_init__(self) -> None:
        levels: dict[str, set[str]] = {}
        for f in self.failures:
            for level, region in f.regions.items():
                levels.setdefault(level, set()).add(region)
        summary = Summary(
            failed=len(self.failures),
            population=sum(f.population for f in self.failures),
            agencies=len({f.agency for f in self.failures if f.agency is not None}),
            regions={level: len(ids) for level, ids in levels.items()},
        )
        object.__setattr__(self, "summary", summary)

    def to_dict(self) -> dict[str, Any]:
        return {
            "initial": [{"id": i, "time": t} for i, t in self.initial],
            "horizon_hours": self.horizon,
            "failures": [f.to_dict() for f in self.failures],
            "crossings": [c.to_dict() for c in self.crossings],
            "baseline_errors": [e.to_dict() for e in self.baseline_errors],
            "summary": self.summary.to_dict(),
        }


# ---------------------------------------------------------------------- cascade
def _too_many(failed: int, limit: int) -> ResultTooLarge:
    return ResultTooLarge(f"{failed:,} or more assets fail in this cascade, more than the {limit:,} that can be "
                          "described here; set a horizon or narrow the scenario", size=failed, limit=limit,
                          parameter="max_failures")


def _initial(snap: GraphSnapshot, initial: Sequence[tuple[str, float]]) -> dict[int, float]:
    out: dict[int, float] = {}
    for k, (asset_id, time) in enumerate(initial):
        i = snap.node(asset_id)
        t = float(time)
        if not math.isfinite(t) or t < 0:
            where = f"initial[{k}] ({asset_id})"
            message = f"failure time must be a finite number of hours >= 0, got {time!r}"
            raise ValidationError([Problem(where, message)])
        out[i] = min(t, out.get(i, INF))
    return out


def _cause(net: Network, a: int, time: float, lost: dict[int, tuple[float, int]]) -> Cause:
    """The group whose loss fails ``a`` at ``time``; among several, the one lost first (then kind, group)."""
    snap = net.snap
    best: tuple[float, int, str, str, int] | None = None
    for g in range(net._g_ptr[a], net._g_ptr[a + 1]):
        when = lost.get(g)
        if when is not None and when[0] + net._g_buf[g] == time:
            key = (*when, snap.kinds[net._g_kind[g]], snap.group_labels[net._g_label[g]], g)
            if best is None or key < best:
                best = key
    assert best is not None, "every non-initial failure has a group that lost support"
    t_g, _, kind, label, g = best
    indexes = sorted({net._e_prov[e] for e in range(net._g_eptr[g], net._g_eptr[g + 1])},
                     key=snap.asset_ids.__getitem__)
    return Cause(kind, label, tuple(snap.asset_ids[p] for p in indexes), t_g, tuple(indexes))


def _crossings(snap: GraphSnapshot, failures: Sequence[Failure]) -> tuple[Crossing, ...]:
    """One crossing per (from, to, boundary), at the earliest failure time (vectorised over cause edges)."""
    edges = [(p, f.index, k) for k, f in enumerate(failures) if f.cause is not None for p in f.cause.indexes]
    if not edges:
        return ()
    src, dst, pos = (np.asarray(col, dtype=np.int64) for col in zip(*edges, strict=True))
    sides: list[tuple[str, npt.NDArray[np.int32], tuple[str, ...]]] = [
        (f"region:{level}", snap.region[li], snap.region_ids) for li, level in enumerate(snap.levels)]
    sides.append(("agency", snap.agency, snap.agency_ids))
    crossings = []
    for boundary, of, ids in sides:
        a, b = of[src].astype(np.int64), of[dst].astype(np.int64)
        keep = (a >= 0) & (b >= 0) & (a != b)
        if not keep.any():
            continue
        # Failures are in time order, so the first edge of each pair is the earliest.
        _, first = np.unique(a[keep] * (len(ids) + 1) + b[keep], return_index=True)
        for x, y, k in zip(a[keep][first].tolist(), b[keep][first].tolist(), pos[keep][first].tolist(),
                           strict=True):
            crossings.append(Crossing(ids[x], ids[y], boundary, failures[k].time))
    return tuple(sorted(crossings, key=lambda c: (c.time, c.boundary, c.from_, c.to)))


def cascade(
    snap: GraphSnapshot, initial: Sequence[tuple[str, float]], *, horizon: float | None = None,
    cancel: CancelToken | None = None, max_failures: int | None = None,
) -> CascadeResult:
    """The cascade that follows the ``initial`` failures, under the semantics of docs/cascade.md.

    Parameters
    ----------
    snap : GraphSnapshot
    initial : sequence of (str, float)
        ``(asset id, hours)`` failures; an asset listed twice fails at the earlier time.
    horizon : float, optional
        Report failures up to this many hours (inclusive); ``None``: until the cascade stops.
    cancel : CancelToken, optional
        Checked every :data:`~kg.analysis.cancel.CHECK_EVERY` failures found and described.
    max_failures : int, optional
        Refuse to describe more failures than this: a described failure takes about
        1.5 KB until it is written out, so this bounds the result's memory.

    Returns
    -------
    CascadeResult
        Failures sorted by time then id, each with its cause, regions, agency and
        population; boundary crossings; baseline errors; a summary.
        :meth:`CascadeResult.to_dict` is the JSON of ``kg cascade --format json``.

    Raises
    ------
    ElementNotFound
        For an unknown id.
    ValidationError
        For a negative or non-finite time or horizon.
    Cancelled
        When ``cancel`` is cancelled before the result is complete.
    ResultTooLarge
        When more than ``max_failures`` assets fail (found as they fail, before any is described).

    Examples
    --------
    A hospital with an 8-hour generator on one substation:

    >>> from kg.snapshot import build_snapshot
    >>> assets = [("S", "Substation", None, None, None, None, None, 0, None),
    ...           ("H", "Hospital", None, None, None, None, None, 300, None)]
    >>> deps = [("H", "S", "power", "power", 8.0)]
    >>> snap = build_snapshot(1, lambda t: {"assets": assets, "dependencies": deps}.get(t, []))
    >>> result = cascade(snap, [("S", 1.0)])
    >>> [(f.id, f.time, f.cause and f.cause.providers) for f in result.failures]
    [('S', 1.0, None), ('H', 9.0, ('S',))]
    >>> result.summary.population
    300
    >>> [f.id for f in cascade(snap, [("S", 1.0)], horizon=8).failures]
    ['S']
    """
    if horizon is not None and not (math.isfinite(horizon) and horizon >= 0):
        raise ValidationError([Problem("horizon", f"must be a finite number of hours >= 0, got {horizon!r}")])
    start = _initial(snap, initial)
    net = network(snap)
    check(cancel)
    run = net.spread(start, horizon=INF if horizon is None else float(horizon), cancel=cancel,
                     max_failed=max_failures)
    if max_failures is not None and len(run.failed) > max_failures:
        raise _too_many(len(run.failed), max_failures)
    check(cancel)
    ids = snap.asset_ids
    order = sorted(run.failed.items(), key=lambda kv: (kv[1], ids[kv[0]]))
    idx = np.fromiter((a for a, _ in order), dtype=np.int64, count=len(order))
    levels = [(level, snap.region[li, idx].tolist()) for li, level in enumerate(snap.levels)]
    agencies, people = snap.agency[idx].tolist(), snap.population[idx].tolist()
    types = snap.type_code[idx].tolist()
    failures = []
    for k, (a, time) in enumerate(order):
        if k % CHECK_EVERY == CHECK_EVERY - 1:
            check(cancel)
        cause = None if start.get(a, INF) <= time else _cause(net, a, time, run.lost)
        regions = {level: snap.region_ids[r[k]] for level, r in levels if r[k] >= 0}
        agency = snap.agency_ids[agencies[k]] if agencies[k] >= 0 else None
        hit = min([time, *(run.lost[g][0] for g in range(net._g_ptr[a], net._g_ptr[a + 1]) if g in run.lost)])
        failures.append(Failure(a, ids[a], snap.types[types[k]], time, cause, regions, agency, people[k], hit))
    shown = sorted(((snap.asset_ids[a], t) for a, t in start.items()), key=lambda x: (x[1], x[0]))
    return CascadeResult(
        initial=tuple(shown),
        horizon=None if horizon is None else float(horizon),
        failures=tuple(failures),
        crossings=_crossings(snap, failures),
        baseline_errors=baseline_errors(snap),
    )
