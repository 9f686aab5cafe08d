"""Stable orders of edges by the asset that owns them, in time linear in the edges (compiled).

A snapshot keeps its dependency edges sorted by dependent (then kind, group,
provider) and a reverse order by provider. Owners are asset positions
``0..n-1`` and each owns a handful of edges, so a counting sort by owner
followed by sorting each owner's few edges beats a general sort of millions of
keys several times over.
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt

from kg.compiled import compiled

__all__ = ["order_by_owner"]

IntArray = npt.NDArray[np.int64]

_SHORT_RUN = 16
"""Runs up to this long are insertion-sorted; longer ones (a hub) by a merge sort."""


@compiled
def _counting_order(owner: npt.NDArray[np.int32], n: int) -> tuple[IntArray, IntArray]:
    """``(order, start)``: positions stably sorted by owner; owner ``a``'s run is ``order[start[a]:start[a + 1]]``."""
    start = np.zeros(n + 1, dtype=np.int64)
    for i in range(len(owner)):
        start[owner[i] + 1] += 1
    for a in range(n):
        start[a + 1] += start[a]
    fill = start[:-1].copy()
    order = np.empty(len(owner), dtype=np.int64)
    for i in range(len(owner)):
        a = owner[i]
        order[fill[a]] = i
        fill[a] += 1
    return order, start


@compiled
def _sort_runs(order: IntArray, start: IntArray, key: IntArray) -> None:
    """Sort each owner's run of ``order`` by ``key`` (stable), in place."""
    for a in range(len(start) - 1):
        lo, hi = start[a], start[a + 1]
        if hi - lo <= _SHORT_RUN:
            for j in range(lo + 1, hi):
                x = order[j]
                kx = key[x]
                k = j - 1
                while k >= lo and key[order[k]] > kx:
                    order[k + 1] = order[k]
                    k -= 1
                order[k + 1] = x
        else:
            run = order[lo:hi].copy()
            order[lo:hi] = run[np.argsort(key[run], kind="mergesort")]


def order_by_owner(owner: npt.NDArray[np.int32], n: int, key: IntArray | None = None) -> IntArray:
    """Positions sorted by ``(owner, key, position)``: ``np.lexsort((key, owner))``, in linear time.

    ``owner`` holds values in ``0..n-1``; without ``key``, ties keep their order.
    """
    order, start = _counting_order(np.ascontiguousarray(owner, dtype=np.int32), n)
    if key is not None:
        _sort_runs(order, start, np.ascontiguousarray(key, dtype=np.int64))
    return order
