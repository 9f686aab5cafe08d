"""The propagation of :meth:`kg.analysis.cascade.Network.spread`, compiled: for the many cascades of a plan.

Why compiled
------------
An investment plan (:mod:`kg.analysis.investment`) runs the cascade of every
Monte Carlo sample under every plan it compares: a thousand samples of a flood
on a 100,000-asset city reach about 3,000 assets each, and the interpreted
propagation spends about 5 microseconds an asset on dictionary and heap
operations of Python objects. This is the same algorithm over flat arrays
(failure times, providers left per group, stopped units), compiled by Numba and
cached on disk, for the one question a plan asks: which assets fail by the
horizon, and which groups lose support. Tests check that it answers exactly as
:meth:`~kg.analysis.cascade.Network.spread` (failure times, and each lost
group's time and round) on random cities.

What it leaves out: ``within``, ``until``, ``max_failed`` and cancellation
(the caller checks its token before each call; one call is short).
"""

from __future__ import annotations

import heapq
import threading
import weakref
from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt

from kg.analysis.cascade import Network
from kg.compiled import compiled

__all__ = ["Reach", "reach", "reach_from"]

IntArray = npt.NDArray[np.int64]
Int32Array = npt.NDArray[np.int32]
FloatArray = npt.NDArray[np.float64]
BoolArray = npt.NDArray[np.bool_]


@compiled
def _ungrounded(touched: IntArray, count: int, stopped: Any, stamp: int, suspect: IntArray, grounded: IntArray,
                providers: IntArray, unsupported: IntArray, unit_edges_ptr: Any, unit_edge_group: Any,
                group_unit: Any, unit_loop: Any, forced: Any, group_edge_ptr: Any, edge_unit: Any,
                unit_groups_start: Any, unit_groups_stop: Any) -> IntArray:
    """Units of one supply loop, reachable from ``touched[:count]``, without grounded support (as
    ``Network._ungrounded``); ``suspect`` and ``grounded`` hold stamps, so need no clearing."""
    loop = unit_loop[touched[0]]
    suspects = np.empty(16, dtype=np.int64)
    size = 0
    for k in range(count):
        u = touched[k]
        if not stopped[u] and suspect[u] != stamp:
            suspect[u] = stamp
            if size == len(suspects):
                suspects = np.concatenate((suspects, np.empty(size, dtype=np.int64)))
            suspects[size] = u
            size += 1
    done = 0  # suspects[done:size] are still to be searched from (depth or breadth: the set is the same)
    while done < size:
        u = suspects[done]
        done += 1
        for j in range(unit_edges_ptr[u], unit_edges_ptr[u + 1]):
            w = group_unit[unit_edge_group[j]]
            if w >= 0 and unit_loop[w] == loop and not stopped[w] and suspect[w] != stamp:
                suspect[w] = stamp
                if size == len(suspects):
                    suspects = np.concatenate((suspects, np.empty(size, dtype=np.int64)))
                suspects[size] = w
                size += 1
    ready = np.empty(size, dtype=np.int64)
    top = 0
    for k in range(size):
        w = suspects[k]
        missing = 0
        for g in range(unit_groups_start[w], unit_groups_stop[w]):
            if forced[g]:
                continue
            c = 0
            for e in range(group_edge_ptr[g], group_edge_ptr[g + 1]):
                p = edge_unit[e]
                if not stopped[p] and suspect[p] != stamp:
                    c += 1
            providers[g] = c
            if c == 0:
                missing += 1
        unsupported[w] = missing
        if missing == 0:
            ready[top] = w
            top += 1
    while top:
        top -= 1
        w = ready[top]
        grounded[w] = stamp
        for j in range(unit_edges_ptr[w], unit_edges_ptr[w + 1]):
            g = unit_edge_group[j]
            o = group_unit[g]
            if o >= 0 and suspect[o] == stamp and grounded[o] != stamp and not forced[g]:
                providers[g] += 1
                if providers[g] == 1:
                    unsupported[o] -= 1
                    if unsupported[o] == 0:
                        ready[top] = o
                        top += 1
    out = np.empty(size, dtype=np.int64)
    kept = 0
    for k in range(size):
        if grounded[suspects[k]] != stamp:
            out[kept] = suspects[k]
            kept += 1
    return out[:kept]


@compiled
def _spread(initial_assets: IntArray, initial_times: FloatArray, horizon: float, static: bool,
            node_units_ptr: Any, unit_edges_ptr: Any, unit_edge_group: Any, group_unit: Any, group_size: Any,
            group_owner: Any, group_buffer: Any, group_in_loop: Any, forced: Any, unit_loop: Any,
            unit_groups_start: Any, unit_groups_stop: Any, group_edge_ptr: Any, edge_unit: Any,
            due: FloatArray, failed: BoolArray, failed_assets: IntArray, failed_times: FloatArray,
            left: IntArray, lost_time: FloatArray, lost_round: IntArray, lost_groups: IntArray, counted: IntArray,
            stopped: BoolArray, stopping: IntArray, pending: IntArray, marked: BoolArray, touched: IntArray,
            suspect: IntArray, grounded: IntArray, unsupported: IntArray, providers: IntArray, failing: IntArray,
            dued: IntArray, stamps: IntArray, halted: IntArray
            ) -> tuple[IntArray, FloatArray, IntArray, FloatArray, IntArray, Int32Array]:
    """The propagation, over scratch arrays (see :class:`_Scratch`) that it leaves as it found them."""
    nfailed = 0
    nlost = 0
    ncounted = 0  # groups whose ``left`` was set: ``counted[:ncounted]``
    ndued = 0  # assets whose ``due`` was set: ``dued[:ndued]``
    nhalted = 0  # units stopped: ``halted[:nhalted]``
    stamp = stamps[0]
    heap = [(initial_times[k], initial_assets[k]) for k in range(len(initial_assets))]
    heapq.heapify(heap)
    for k in range(len(initial_assets)):
        due[initial_assets[k]] = initial_times[k]
        dued[ndued] = initial_assets[k]
        ndued += 1
    while len(heap):
        t = heap[0][0]
        if t > horizon:
            break
        nfailing = 0
        while len(heap) and heap[0][0] == t:
            a = heapq.heappop(heap)[1]
            if not failed[a] and due[a] == t:
                failing[nfailing] = a
                nfailing += 1
        # Rounds: assets failing at t because of groups lost in round r fail in round r + 1.
        round_ = 0
        while nfailing:
            top = 0  # ``stopping[:top]``: units just stopped, whose groups must count one provider less
            for k in range(nfailing):
                a = failing[k]
                if failed[a]:
                    continue
                failed[a] = True
                failed_assets[nfailed] = a
                failed_times[nfailed] = t
                nfailed += 1
                for u in range(node_units_ptr[a], node_units_ptr[a + 1]):
                    if not stopped[u]:
                        stopped[u] = True
                        halted[nhalted] = u
                        nhalted += 1
                        stopping[top] = u
                        top += 1
            nfailing = 0
            npending = 0  # ``pending[:npending]``: units of supply loops that lost a provider
            while True:
                while top:
                    top -= 1
                    u = stopping[top]
                    for j in range(unit_edges_ptr[u], unit_edges_ptr[u + 1]):
                        g = unit_edge_group[j]
                        if forced[g]:
                            continue
                        a = group_owner[g]
                        rest = left[g]
                        if rest < 0:
                            rest = group_size[g]
                            counted[ncounted] = g
                            ncounted += 1
                        rest -= 1
                        left[g] = rest
                        if rest == 0:
                            lost_time[g] = t
                            lost_round[g] = round_
                            lost_groups[nlost] = g
                            nlost += 1
                            if not failed[a]:
                                when = t if static else t + group_buffer[g]
                                if when < due[a]:
                                    if due[a] == np.inf:
                                        dued[ndued] = a
                                        ndued += 1
                                    due[a] = when
                                    if when > t:
                                        heapq.heappush(heap, (when, np.int64(a)))
                                    else:
                                        failing[nfailing] = a
                                        nfailing += 1
                            w = group_unit[g]
                            if w >= 0 and not stopped[w]:
                                stopped[w] = True
                                halted[nhalted] = w
                                nhalted += 1
                                stopping[top] = w
                                top += 1
                        elif group_in_loop[g]:
                            w = group_unit[g]
                            if not stopped[w] and not marked[w]:
                                marked[w] = True
                                pending[npending] = w
                                npending += 1
                if not npending:
                    break
                # One loop at a time: the units pending in the loop of the last one pending.
                loop = unit_loop[pending[npending - 1]]
                count = 0
                kept = 0
                for k in range(npending):
                    w = pending[k]
                    if unit_loop[w] == loop:
                        marked[w] = False
                        touched[count] = w
                        count += 1
                    else:
                        pending[kept] = w
                        kept += 1
                npending = kept
                stamp += 1
                for w in _ungrounded(touched, count, stopped, stamp, suspect, grounded, providers, unsupported,
                                     unit_edges_ptr, unit_edge_group, group_unit, unit_loop, forced,
                                     group_edge_ptr, edge_unit, unit_groups_start, unit_groups_stop):
                    stopped[w] = True
                    halted[nhalted] = w
                    nhalted += 1
                    stopping[top] = w
                    top += 1
            round_ += 1
    stamps[0] = stamp
    lost = lost_groups[:nlost].copy()
    # Reached: the failed assets, then the owners of lost groups that did not fail (``failed`` marks them too).
    nreached = nfailed
    for k in range(nlost):
        a = group_owner[lost[k]]
        if not failed[a]:
            failed[a] = True
            failed_assets[nreached] = a
            nreached += 1
    out = (failed_assets[:nfailed].copy(), failed_times[:nfailed].copy(), lost, lost_time[lost], lost_round[lost],
           failed_assets[:nreached].astype(np.int32))
    for k in range(nreached):
        failed[failed_assets[k]] = False
    for k in range(ndued):
        due[dued[k]] = np.inf
    for k in range(ncounted):
        left[counted[k]] = -1
    for k in range(nhalted):
        stopped[halted[k]] = False
    return out


class _Scratch:
    """The kernel's working arrays for one network, allocated once and left clean by every call."""

    def __init__(self, n: int, units: int, groups: int) -> None:
        self.arrays: tuple[Any, ...] = (
            np.full(n, np.inf), np.zeros(n, dtype=np.bool_), np.empty(n, dtype=np.int64),  # due, failed, failed_assets
            np.empty(n, dtype=np.float64), np.full(groups, -1, dtype=np.int64),  # failed_times, left
            np.empty(groups, dtype=np.float64), np.empty(groups, dtype=np.int64),  # lost_time, lost_round
            np.empty(groups, dtype=np.int64), np.empty(groups, dtype=np.int64),  # lost_groups, counted
            np.zeros(units, dtype=np.bool_), np.empty(units, dtype=np.int64),  # stopped, stopping
            np.empty(units, dtype=np.int64), np.zeros(units, dtype=np.bool_),  # pending, marked
            np.empty(units, dtype=np.int64), np.zeros(units, dtype=np.int64),  # touched, suspect
            np.zeros(units, dtype=np.int64), np.zeros(units, dtype=np.int64),  # grounded, unsupported
            np.zeros(groups, dtype=np.int64), np.empty(n, dtype=np.int64),  # providers, failing
            np.empty(n, dtype=np.int64), np.zeros(1, dtype=np.int64),  # dued, stamps
            np.empty(units, dtype=np.int64),  # halted
        )


@dataclass(frozen=True)
class Reach:
    """What one propagation reached: failed assets with their times, and groups that lost support."""

    failed: IntArray
    failed_times: FloatArray
    lost: IntArray
    """Groups that lost support."""
    lost_times: FloatArray
    lost_rounds: IntArray
    """Round within that time (0 for losses caused by failures due then), as :attr:`Spread.lost` holds it."""
    reached: Int32Array
    """Every asset that failed or lost a supply (the failed first, in :attr:`failed`'s order), each once."""


_ARRAYS: weakref.WeakKeyDictionary[Network, tuple[Any, ...]] = weakref.WeakKeyDictionary()
_BUFFERS = 6
"""Where the groups' buffers are among the arrays of :func:`_arrays`."""
_LOCAL = threading.local()  # each thread its own scratch (an executor may run plans on threads)


def _arrays(net: Network) -> tuple[Any, ...]:
    """The arrays the kernel reads, as numpy arrays over the network's (and its snapshot's) memory."""
    arrays = _ARRAYS.get(net)
    if arrays is None:
        views = (net.node_units_ptr, net.unit_edges_ptr, net.unit_edge_group, net.group_unit, net.group_size,
                 net.snap.group_owner, net.snap.group_buffer, net.group_in_loop, net.forced.view(np.uint8),
                 net.unit_loop, net.unit_groups_start, net.unit_groups_stop, net.snap.group_edge_ptr,
                 net.edge_unit)
        arrays = _ARRAYS[net] = tuple(np.asarray(v) for v in views)  # no copies
    return arrays


def reach(net: Network, initial: dict[int, float], *, horizon: float = np.inf, static: bool = False,
          buffers: FloatArray | None = None) -> Reach:
    """:meth:`Network.spread(initial, horizon=horizon, static=static) <kg.analysis.cascade.Network.spread>`,
    compiled, as arrays (in no particular order).

    ``buffers`` replaces the groups' buffers (``snap.group_buffer``) of the network's snapshot: a copy
    with buffers raised (:func:`~kg.analysis.whatif.apply_edits`) has the same network.

    Examples
    --------
    >>> from kg.analysis.cascade import network
    >>> from kg.snapshot import build_snapshot
    >>> assets = [(i, "Substation", None, None, None, None, None, 0, None) for i in "SH"]
    >>> snap = build_snapshot(1, lambda t: {"assets": assets, "dependencies": [
    ...     ("H", "S", "power", "power", 8.0)]}.get(t, []))
    >>> r = reach(network(snap), {0: 0.0})
    >>> r.failed.tolist(), r.failed_times.tolist(), r.lost.tolist()
    ([0, 1], [0.0, 8.0], [0])
    >>> reach(network(snap), {0: 0.0}, horizon=4.0).failed.tolist()
    [0]
    """
    assets = np.fromiter(initial, dtype=np.int64, count=len(initial))
    times = np.fromiter(initial.values(), dtype=np.float64, count=len(initial))
    return reach_from(net, assets, times, horizon=horizon, static=static, buffers=buffers)


def reach_from(net: Network, assets: IntArray, times: FloatArray, *, horizon: float = np.inf, static: bool = False,
               buffers: FloatArray | None = None) -> Reach:
    """:func:`reach` of the initial failures ``assets`` (distinct asset indexes) at ``times`` (hours)."""
    scratches: weakref.WeakKeyDictionary[Network, _Scratch] = _LOCAL.__dict__.setdefault(
        "scratch", weakref.WeakKeyDictionary())
    scratch = scratches.get(net)
    if scratch is None:
        scratch = scratches[net] = _Scratch(net.snap.n, net.units, len(net.forced))
    arrays = _arrays(net)
    if buffers is not None:
        if len(buffers) != len(arrays[_BUFFERS]):
            raise ValueError(f"expected {len(arrays[_BUFFERS])} group buffers, got {len(buffers)}")
        arrays = (*arrays[:_BUFFERS], buffers, *arrays[_BUFFERS + 1:])
    return Reach(*_spread(np.ascontiguousarray(assets, dtype=np.int64), np.ascontiguousarray(times, dtype=np.float64),
                          float(horizon), bool(static), *arrays, *scratch.arrays))
