"""Cascading failures: who fails, when, why, and which boundaries the cascade crosses.

The semantics are those of docs/cascade.md. In short: an asset needs every one
of its dependency groups; a group is supported while one of its providers
*delivers* the group's kind; a provider delivers kind k while it works and all
its own k groups are supported, grounded in a source (least fixed point); an
asset whose group loses support at ``t_g`` fails at ``t_g + buffer``.

This module holds the one propagation core, :class:`Network`, that
:func:`cascade`, :mod:`kg.analysis.criticality`, :mod:`kg.analysis.hazards` and
:func:`kg.analysis.traces.single_points_of_failure` share. It works on
*delivery units* (one per provider and kind it delivers): a unit stops when its
asset fails or one of its groups of that kind loses support. Support is kept
as a count of delivering providers per group, which is exact wherever supply
does not loop; inside a strongly connected set of units (a supply loop) a lost
provider triggers a local re-derivation of the loop's units reachable from the
loss (delete and re-derive), so a loop cut from its source stops delivering.

Glossary
--------
asset ``a``
    A snapshot index, ``0 .. snap.n - 1``.
edge ``e``
    A dependency (dependent, provider, kind, group label) in the snapshot's order,
    sorted by dependent, kind, group label: ``snap.dep_provider[e]`` delivers over it.
group ``g``
    The edges of one dependent of one kind and group label, numbered in the same
    order: ``snap.group_edge_ptr[g] : [g + 1]`` are its edges, ``snap.group_ptr[a] : [a + 1]``
    the groups of asset ``a``; the dependent needs one edge of each group to deliver.
delivery unit ``u``
    One (provider asset, kind) for each kind an asset delivers to some dependent,
    numbered by asset then kind. A unit *needs* its asset's groups of its kind.
supply loop
    A strongly connected set of units (``u`` supplies a group needed by ``w``, which
    supplies ... back to ``u``), known by a number >= 0; units outside loops have ``-1``.

The arrays of a :class:`Network` (``*_ptr`` arrays are CSR row pointers:
``x_ptr[i] : x_ptr[i + 1]`` are the positions of row ``i``):

========================  ==========================================================
``node_units_ptr[a]``     units of asset ``a`` (units of an asset are consecutive)
``unit_edges_ptr[u]``     positions ``j`` of the edges unit ``u`` delivers over
``unit_edge_group[j]``    the group of that edge (whose support ``u`` counts for)
``edge_unit[e]``          the unit delivering over edge ``e``
``group_unit[g]``         the unit that needs group ``g`` (its owner, its kind); -1: none
``unit_groups_start[u]``  first group unit ``u`` needs; ``unit_groups_stop[u]``: one past the last
``group_size[g]``         edges (providers) of group ``g``
``unit_loop[u]``          the supply loop of unit ``u``, -1 outside loops
``group_in_loop[g]``      one of ``g``'s edges comes from the loop of the unit that needs ``g``
``forced[g]``             ``g`` is unsupported with nothing failed (a baseline error):
                          counted as supplied from outside the model
========================  ==========================================================
"""

from __future__ import annotations

import heapq
import math
import threading
import weakref
from collections.abc import Container, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import numpy.typing as npt
from scipy.sparse import csr_matrix
from scipy.sparse.csgraph import connected_components

from kg.analysis.cancel import CHECK_EVERY, CancelToken, check
from kg.errors import ElementNotFound, Problem, ResultTooLarge, ValidationError
from kg.i18n import _l
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
    "network_built",
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


def _items(array: npt.NDArray[Any]) -> memoryview:
    """``array``'s memory as a memoryview: indexing it gives plain Python numbers, the fastest item access
    for the propagation loops (a numpy scalar costs more to make and to compare)."""
    return np.ascontiguousarray(array).data.toreadonly()


def _supported_at_baseline(unit_edges_ptr: IntArray, unit_edge_group: IntArray, group_unit: IntArray,
                           unit_groups_start: IntArray, unit_groups_stop: IntArray) -> BoolArray:
    """Which groups are supported with nothing failed (the least fixed point, vectorised by frontiers)."""
    groups, units = len(group_unit), len(unit_groups_start)
    providers = np.zeros(groups, dtype=np.int64)  # delivering providers found so far, per group
    unsupported = (unit_groups_stop - unit_groups_start).astype(np.int64)  # per unit: groups still unsupported
    slot = np.empty(max(groups, units), dtype=np.int64)
    frontier = np.flatnonzero(unsupported == 0)  # units that deliver: sources first
    while len(frontier):
        fed = unit_edge_group[gather(unit_edges_ptr, frontier)]
        first = providers[fed] == 0
        np.add.at(providers, fed, 1)
        newly = _distinct(fed[first], slot)
        needers = group_unit[newly]
        needers = needers[needers >= 0]
        np.subtract.at(unsupported, needers, 1)
        frontier = _distinct(needers[unsupported[needers] == 0], slot)
    supported: BoolArray = providers > 0
    return supported


@dataclass(frozen=True)
class Spread:
    """Raw outcome of one propagation: failure time per failed asset, loss time per unsupported group."""

    failed: dict[int, float]
    lost: dict[int, tuple[float, int]]
    """Group -> (time it lost support, round within that time: 0 for losses caused by failures due then)."""


class Network:
    """Delivery units, supply loops and the baseline of one snapshot, prepared once (see :func:`network`).

    The arrays named in the module's glossary are attributes, each held once, as a
    read-only :class:`memoryview` (its items are plain numbers: what the propagation
    loops index); ``numpy.asarray`` gives a numpy array over the same memory.
    ``forced`` is also a numpy array, for vectorised readers.
    """

    def __init__(self, snap: GraphSnapshot) -> None:
        self.snap = snap
        n, kinds = snap.n, max(1, len(snap.kinds))
        unit_key_of_edge = snap.dep_provider.astype(np.int64) * kinds + snap.dep_kind  # provider * kinds + kind
        present = np.zeros(n * kinds, dtype=bool)  # marking beats np.unique here
        present[unit_key_of_edge] = True
        unit_key = np.flatnonzero(present)  # sorted: units are numbered by asset, then kind
        edge_unit = (np.cumsum(present, dtype=np.int64) - 1)[unit_key_of_edge]
        del present
        units = len(unit_key)
        self.units = units
        """Number of delivery units."""
        node_units_ptr = np.zeros(n + 1, dtype=np.int64)
        np.cumsum(np.bincount(unit_key // kinds, minlength=n), out=node_units_ptr[1:])
        # Edges in unit order: the reverse CSR is already sorted by provider; only providers of
        # several kinds need their edges sorted by kind (units of a provider are consecutive ids).
        order = snap.rdep_edge.copy()
        several = np.diff(node_units_ptr)[snap.dep_provider[order]] > 1
        if several.any():
            at = np.flatnonzero(several)
            order[at] = order[at[np.argsort(edge_unit[order[at]], kind="stable")]]
        unit_edges_ptr = np.zeros(units + 1, dtype=np.int64)
        np.cumsum(np.bincount(edge_unit, minlength=units), out=unit_edges_ptr[1:])
        unit_edge_group = snap.dep_group[order].astype(np.int64)
        # Groups are sorted by (owner, kind) too, so a unit needs one contiguous run of them.
        group_key = snap.group_owner.astype(np.int64) * kinds + snap.group_kind
        pos = np.searchsorted(unit_key, group_key)
        hit = pos < units
        hit[hit] = unit_key[pos[hit]] == group_key[hit]
        group_unit = np.where(hit, pos, -1).astype(np.int64)
        unit_groups_start = np.searchsorted(group_key, unit_key, "left").astype(np.int64)
        unit_groups_stop = np.searchsorted(group_key, unit_key, "right").astype(np.int64)
        group_size = np.diff(snap.group_edge_ptr).astype(np.int64)
        # Supply loops: strongly connected sets of units (unit of a provider -> unit needing the group).
        needer = group_unit[snap.dep_group]
        keep = needer >= 0
        graph = csr_matrix((np.ones(int(keep.sum()), dtype=np.int8), (edge_unit[keep], needer[keep])),
                           shape=(units, units))
        _, labels = connected_components(graph, directed=True, connection="strong")
        sizes = np.bincount(labels, minlength=1)
        unit_loop = np.where(sizes[labels] > 1, labels, -1).astype(np.int64)
        loop_edge = keep.copy()
        loop_edge[keep] = (unit_loop[edge_unit[keep]] >= 0) & (unit_loop[edge_unit[keep]] == unit_loop[needer[keep]])
        group_in_loop = np.zeros(len(group_size), dtype=bool)
        group_in_loop[snap.dep_group[loop_edge]] = True
        self.forced: BoolArray = ~_supported_at_baseline(unit_edges_ptr, unit_edge_group, group_unit,
                                                         unit_groups_start, unit_groups_stop)
        """Groups unsupported with nothing failed (baseline errors), counted as supplied."""
        self.forced.flags.writeable = False

        self.node_units_ptr = _items(node_units_ptr)
        self.unit_edges_ptr = _items(unit_edges_ptr)
        self.unit_edge_group = _items(unit_edge_group)
        self.edge_unit = _items(edge_unit)
        self.group_unit = _items(group_unit)
        self.unit_groups_start = _items(unit_groups_start)
        self.unit_groups_stop = _items(unit_groups_stop)
        self.group_size = _items(group_size)
        self.unit_loop = _items(unit_loop)
        self.group_in_loop = _items(group_in_loop.view(np.uint8))
        self._forced_items = _items(self.forced.view(np.uint8))  # the same memory as ``forced``
        # The snapshot's arrays the loops index, over the snapshot's own memory.
        self._group_owner = _items(snap.group_owner)
        self._group_buffer = _items(snap.group_buffer)
        self._group_edge_ptr = _items(snap.group_edge_ptr)
        self._group_ptr = _items(snap.group_ptr)
        self._group_kind = _items(snap.group_kind)
        self._group_label = _items(snap.group_label)
        self._edge_provider = _items(snap.dep_provider)

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
        due: dict[int, float] = dict(initial)  # asset -> the earliest time it is due to fail
        lost: dict[int, tuple[float, int]] = {}
        providers_left: dict[int, int] = {}  # group -> its providers still delivering (once one stopped)
        stopped: set[int] = set()  # units that no longer deliver
        heap = [(t, a) for a, t in initial.items()]
        heapq.heapify(heap)
        unit_edges_ptr, unit_edge_group = self.unit_edges_ptr, self.unit_edge_group
        node_units_ptr, group_unit, group_size = self.node_units_ptr, self.group_unit, self.group_size
        group_owner, group_buffer, group_in_loop = self._group_owner, self._group_buffer, self.group_in_loop
        forced, unit_loop = self._forced_items, self.unit_loop
        countdown = CHECK_EVERY
        while heap:
            t = heap[0][0]
            if t > horizon:
                break
            failing: list[int] = []
            while heap and heap[0][0] == t:
                a = heapq.heappop(heap)[1]
                if a not in failed and due[a] == t:
                    failing.append(a)
            # Rounds: assets failing at t because of groups lost in round r fail in round r + 1.
            round_ = 0
            while failing:
                stopping: list[int] = []  # units just stopped, whose groups must count one provider less
                for a in failing:
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
                    for u in range(node_units_ptr[a], node_units_ptr[a + 1]):
                        if u not in stopped:
                            stopped.add(u)
                            stopping.append(u)
                failing = []
                loops_touched: dict[int, set[int]] = {}  # supply loop -> its units that lost a provider
                while True:
                    while stopping:
                        u = stopping.pop()
                        for j in range(unit_edges_ptr[u], unit_edges_ptr[u + 1]):
                            g = unit_edge_group[j]
                            if forced[g]:
                                continue
                            a = group_owner[g]
                            if within is not None and not within[a]:
                                continue
                            left = providers_left.get(g, -1)
                            left = (group_size[g] if left < 0 else left) - 1
                            providers_left[g] = left
                            if left == 0:
                                lost[g] = (t, round_)
                                if a not in failed:
                                    when = t if static else t + group_buffer[g]
                                    if when < due.get(a, INF):
                                        due[a] = when
                                        if when > t:
                                            heapq.heappush(heap, (when, a))
                                        else:
                                            failing.append(a)
                                w = group_unit[g]
                                if w >= 0 and w not in stopped:
                                    stopped.add(w)
                                    stopping.append(w)
                            elif group_in_loop[g]:
                                w = group_unit[g]
                                if w not in stopped:
                                    loops_touched.setdefault(unit_loop[w], set()).add(w)
                    if not loops_touched:
                        break
                    for w in self._ungrounded(loops_touched.popitem()[1], stopped):
                        stopped.add(w)
                        stopping.append(w)
                round_ += 1
        return Spread(failed, lost)

    def _ungrounded(self, touched: set[int], stopped: set[int]) -> list[int]:
        """Units of one supply loop, reachable from ``touched``, that no longer have grounded support."""
        unit_edges_ptr, unit_edge_group, group_unit = self.unit_edges_ptr, self.unit_edge_group, self.group_unit
        unit_loop, forced, group_edge_ptr = self.unit_loop, self._forced_items, self._group_edge_ptr
        edge_unit, groups_start, groups_stop = self.edge_unit, self.unit_groups_start, self.unit_groups_stop
        loop = unit_loop[next(iter(touched))]
        suspects = {u for u in touched if u not in stopped}  # units whose support must be derived again
        stack = list(suspects)
        while stack:
            u = stack.pop()
            for j in range(unit_edges_ptr[u], unit_edges_ptr[u + 1]):
                w = group_unit[unit_edge_group[j]]
                if w >= 0 and unit_loop[w] == loop and w not in stopped and w not in suspects:
                    suspects.add(w)
                    stack.append(w)
        # Grounded support from outside the suspects first, then from suspects found grounded.
        unsupported: dict[int, int] = {}  # suspect -> its groups without a grounded provider yet
        providers: dict[int, int] = {}  # group of a suspect -> its grounded providers found
        ready: list[int] = []
        for w in suspects:
            missing = 0
            for g in range(groups_start[w], groups_stop[w]):
                if forced[g]:
                    continue
                c = 0
                for e in range(group_edge_ptr[g], group_edge_ptr[g + 1]):
                    p = edge_unit[e]
                    if p not in stopped and p not in suspects:
                        c += 1
                providers[g] = c
                if c == 0:
                    missing += 1
            unsupported[w] = missing
            if missing == 0:
                ready.append(w)
        grounded: set[int] = set()
        while ready:
            w = ready.pop()
            grounded.add(w)
            for j in range(unit_edges_ptr[w], unit_edges_ptr[w + 1]):
                g = unit_edge_group[j]
                o = group_unit[g]
                if o in unsupported and o not in grounded and not forced[g]:
                    providers[g] += 1
                    if providers[g] == 1:
                        unsupported[o] -= 1
                        if unsupported[o] == 0:
                            ready.append(o)
        return [w for w in suspects if w not in grounded]

    # ------------------------------------------------------------------ explaining a failure
    def first_hit(self, a: int, time: float, lost: dict[int, tuple[float, int]]) -> float:
        """When asset ``a`` (failed at ``time``) first lost any supply, or ``time`` if that came later."""
        group_ptr = self._group_ptr
        return min([time, *(lost[g][0] for g in range(group_ptr[a], group_ptr[a + 1]) if g in lost)])

    def cause_of(self, a: int, time: float, lost: dict[int, tuple[float, int]]) -> Cause:
        """The group whose loss fails ``a`` at ``time``; among several, the one lost first (then kind, group).

        ``lost`` is the :attr:`Spread.lost` of the propagation that failed ``a``.
        """
        snap, group_ptr, group_buffer = self.snap, self._group_ptr, self._group_buffer
        best: tuple[float, int, str, str, int] | None = None
        for g in range(group_ptr[a], group_ptr[a + 1]):
            when = lost.get(g)
            if when is not None and when[0] + group_buffer[g] == time:
                key = (*when, snap.kinds[self._group_kind[g]], snap.group_labels[self._group_label[g]], g)
                if best is None or key < best:
                    best = key
        assert best is not None, "every non-initial failure has a group that lost support"
        since, _, kind, label, g = best
        edges = range(self._group_edge_ptr[g], self._group_edge_ptr[g + 1])
        indexes = sorted({self._edge_provider[e] for e in edges}, key=snap.asset_ids.__getitem__)
        return Cause(kind, label, tuple(snap.asset_ids[p] for p in indexes), since, tuple(indexes))


_NETWORKS: weakref.WeakKeyDictionary[GraphSnapshot, Network] = weakref.WeakKeyDictionary()
_BUILDING = threading.Lock()


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
        with _BUILDING:  # one build per snapshot however many ask at once (the API warms a new snapshot's)
            net = _NETWORKS.get(snap)
            if net is None:
                net = _NETWORKS[snap] = Network(snap)
    return net


def network_built(snap: GraphSnapshot) -> bool:
    """Whether :func:`network` has prepared ``snap``'s network already (without preparing it)."""
    return snap in _NETWORKS


# ---------------------------------------------------------------------- results
@dataclass(frozen=True)
class BaselineError:
    """A group unsupported with nothing failed (a supply loop with no source); treated as always supplied."""

    id: str
    kind: str
    group: str
    providers: tuple[str, ...]

    def to_dict(self) -> dict[str, Any]:
        """``{id, kind, group, providers}``, as in ``baseline_errors`` of a cascade's JSON."""
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
        """``{kind, group, providers}``, the ``cause`` of a failure in a cascade's JSON."""
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
        """``{id, type, time, cause, regions, agency, population}``, an item of ``failures``."""
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
        """``{from, to, boundary, time}``, an item of ``crossings``."""
        return {"from": self.from_, "to": self.to, "boundary": self.boundary, "time": self.time}


@dataclass(frozen=True)
class Summary:
    """Totals: failed assets, their population, distinct agencies, distinct regions per level."""

    failed: int
    population: int
    agencies: int
    regions: dict[str, int]

    def to_dict(self) -> dict[str, Any]:
        """``{failed, population, agencies, regions}``, the ``summary`` of a cascade's JSON."""
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
        """The JSON of ``kg cascade --format json`` (docs/cascade.md): ``initial``, ``horizon_hours``,
        ``failures``, ``crossings``, ``baseline_errors``, ``summary``."""
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
        i = snap.index.get(asset_id)
        if i is None:
            raise ElementNotFound(asset_id, _l("expected the id of an asset"), field=("initial", k))
        t = float(time)
        if not math.isfinite(t) or t < 0:
            where = f"initial[{k}] ({asset_id})"
            message = f"failure time must be a finite number of hours >= 0, got {time!r}"
            raise ValidationError([Problem(where, message)], field=("initial", k))
        out[i] = min(t, out.get(i, INF))
    return out


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
        For an unknown id (``field``: ``("initial", k)``).
    ValidationError
        For a negative or non-finite time (``("initial", k)``) or horizon (``("horizon",)``).
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
        raise ValidationError([Problem("horizon", _l("must be a finite number of hours >= 0, got {value}",
                                                     value=repr(horizon)))], field=("horizon",))
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
    cause_of, first_hit, lost = net.cause_of, net.first_hit, run.lost
    for k, (a, time) in enumerate(order):
        if k % CHECK_EVERY == CHECK_EVERY - 1:
            check(cancel)
        cause = None if start.get(a, INF) <= time else cause_of(a, time, lost)
        regions = {level: snap.region_ids[r[k]] for level, r in levels if r[k] >= 0}
        agency = snap.agency_ids[agencies[k]] if agencies[k] >= 0 else None
        hit = first_hit(a, time, lost)
        failures.append(Failure(a, ids[a], snap.types[types[k]], time, cause, regions, agency, people[k], hit))
    shown = sorted(((snap.asset_ids[a], t) for a, t in start.items()), key=lambda x: (x[1], x[0]))
    return CascadeResult(
        initial=tuple(shown),
        horizon=None if horizon is None else float(horizon),
        failures=tuple(failures),
        crossings=_crossings(snap, failures),
        baseline_errors=baseline_errors(snap),
    )
