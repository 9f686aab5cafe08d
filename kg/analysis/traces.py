"""Simple traces over DEPENDS_ON: dependents, dependencies, dependency chains, single points of failure.

:func:`dependents` and :func:`dependencies` ignore redundancy and time: they
follow edges, level by level, as vectorised breadth-first searches over the
snapshot's CSR arrays (a whole frontier per numpy step), so a query on a
million assets touches arrays, not Python objects.
:func:`single_points_of_failure` is different: it uses the cascade semantics
(redundancy and grounding) through the shared propagation core.

The examples use this city (built by ``_example()``): a plant P feeding two
substations that both feed a hospital H (an OR group), so P is H's only single
point of failure.

>>> from kg.snapshot import build_snapshot
>>> assets = [(i, "Substation", None, None, None, None, None, 0, None) for i in ("P", "S1", "S2", "H")]
>>> deps = [("S1", "P", "power", "power", 0.0), ("S2", "P", "power", "power", 0.0),
...         ("H", "S1", "power", "power", 0.0), ("H", "S2", "power", "power", 0.0)]
>>> snap = build_snapshot(1, lambda t: {"assets": assets, "dependencies": deps}.get(t, []))
>>> snap.n, snap.m
(4, 4)
"""

from __future__ import annotations

import heapq
import itertools
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt

from kg.analysis.cancel import CHECK_EVERY, CancelToken, check
from kg.analysis.cascade import gather, network
from kg.errors import ResultTooLarge
from kg.snapshot import GraphSnapshot

__all__ = ["Reach", "dependencies", "dependents", "path_kinds", "paths", "single_points_of_failure"]

IntArray = npt.NDArray[np.int64]


@dataclass(frozen=True, eq=False)
class Reach:
    """Assets found by a trace with their depth (fewest DEPENDS_ON hops), sorted by depth then id.

    Iterating yields ``(asset index, depth)`` pairs; the arrays stay compact for large answers.
    """

    nodes: IntArray
    depths: IntArray

    def __len__(self) -> int:
        return len(self.nodes)

    def __iter__(self) -> Iterator[tuple[int, int]]:
        return zip(self.nodes.tolist(), self.depths.tolist(), strict=True)

    def to_list(self, snap: GraphSnapshot) -> list[dict[str, Any]]:
        """``[{id, type, depth}]`` as in ``kg dependents --format json``."""
        return [{"id": snap.asset_ids[i], "type": snap.type_of(i), "depth": d} for i, d in self]


def _bfs(snap: GraphSnapshot, start: int, *, forward: bool, kinds: Iterable[str] | None,
         max_depth: int | None, cancel: CancelToken | None) -> Reach:
    if forward:
        ptr, nbr, edge = snap.dep_ptr, snap.dep_provider, None
    else:
        ptr, nbr, edge = snap.rdep_ptr, snap.rdep_dependent, snap.rdep_edge  # reverse position -> forward edge
    allowed = None
    if kinds is not None:
        codes = [snap.kinds.index(k) for k in set(kinds) if k in snap.kinds]
        allowed = np.zeros(max(1, len(snap.kinds)), dtype=bool)
        allowed[codes] = True
    seen = np.zeros(snap.n, dtype=bool)
    slot = np.empty(snap.n, dtype=np.int64)
    seen[start] = True
    frontier = np.array([start], dtype=np.int64)
    found: list[IntArray] = []
    depth = 0
    while len(frontier) and (max_depth is None or depth < max_depth):
        check(cancel)  # once per level: a level is several numpy calls
        pos = gather(ptr, frontier)
        if allowed is not None:
            pos = pos[allowed[snap.dep_kind[pos if edge is None else edge[pos]]]]
        nxt = nbr[pos].astype(np.int64)
        nxt = nxt[~seen[nxt]]
        slot[nxt] = np.arange(len(nxt))  # keeps one copy of each repeated asset without sorting
        nxt = nxt[slot[nxt] == np.arange(len(nxt))]
        seen[nxt] = True
        depth += 1
        found.append(nxt)
        frontier = nxt
    # Each level sorted by id: work in proportion to the answer, nothing prepared per snapshot (a request
    # on a snapshot just followed answers at once, rather than first ranking a million ids).
    key = snap.asset_ids.__getitem__
    nodes = np.fromiter(itertools.chain.from_iterable(sorted(level.tolist(), key=key) for level in found),
                        dtype=np.int64, count=sum(map(len, found)))
    depths = np.repeat(np.arange(1, len(found) + 1, dtype=np.int64), [len(f) for f in found])
    return Reach(nodes, depths)


def dependents(snap: GraphSnapshot, asset_id: str, *, kinds: Iterable[str] | None = None,
               max_depth: int | None = None, cancel: CancelToken | None = None) -> Reach:
    """Every asset with a DEPENDS_ON path to ``asset_id``; redundancy and time are ignored.

    Parameters
    ----------
    snap : GraphSnapshot
    asset_id : str
        The provider whose dependents are wanted (not itself listed).
    kinds : iterable of str, optional
        Follow only edges of these service kinds (a kind absent from the data matches nothing).
    max_depth : int, optional
        Stop after this many hops.
    cancel : CancelToken, optional
        Checked once per hop.

    Returns
    -------
    Reach
        ``(index, depth)`` pairs, depth = fewest hops, sorted by depth then id.

    Raises
    ------
    ElementNotFound
        For an unknown id.

    Examples
    --------
    >>> snap = _example()
    >>> [(snap.asset_ids[i], d) for i, d in dependents(snap, "P")]
    [('S1', 1), ('S2', 1), ('H', 2)]
    >>> len(dependents(snap, "P", max_depth=1)), len(dependents(snap, "P", kinds=["water"]))
    (2, 0)
    """
    return _bfs(snap, snap.node(asset_id), forward=False, kinds=kinds, max_depth=max_depth, cancel=cancel)


def dependencies(snap: GraphSnapshot, asset_id: str, *, kinds: Iterable[str] | None = None,
                 max_depth: int | None = None, cancel: CancelToken | None = None) -> Reach:
    """Every asset ``asset_id`` has a DEPENDS_ON path to: :func:`dependents` in reverse.

    Examples
    --------
    >>> snap = _example()
    >>> [(snap.asset_ids[i], d) for i, d in dependencies(snap, "H")]
    [('S1', 1), ('S2', 1), ('P', 2)]
    """
    return _bfs(snap, snap.node(asset_id), forward=True, kinds=kinds, max_depth=max_depth, cancel=cancel)


def paths(snap: GraphSnapshot, x: str, y: str, *, k: int = 5, cancel: CancelToken | None = None,
          max_pending: int | None = None) -> list[tuple[int, ...]]:
    """The ``k`` shortest dependency chains from ``y`` down to ``x``.

    Parameters
    ----------
    snap : GraphSnapshot
    x, y : str
        The provider at the bottom and the dependent at the top of the chains.
    k : int
        How many chains.
    cancel : CancelToken, optional
        Checked every :data:`~kg.analysis.cancel.CHECK_EVERY` partial chains taken from the queue.
    max_pending : int, optional
        Most partial chains waiting to be extended. The search follows the shortest chains first
        and rarely holds more than ``k`` times their length, but around a supply loop that only
        leads back up, partial chains multiply without reaching ``x``; each takes a few hundred bytes.

    Returns
    -------
    list of tuple of int
        Asset indexes ``(y, ..., x)``; simple chains (no asset twice), shortest
        first, equal lengths ordered by the ids along them. Parallel edges of
        several kinds count once (see :func:`path_kinds`). Empty when ``y`` does
        not depend on ``x``.

    Raises
    ------
    ResultTooLarge
        When more than ``max_pending`` partial chains wait at once.

    Examples
    --------
    >>> snap = _example()
    >>> [[snap.asset_ids[i] for i in p] for p in paths(snap, "P", "H")]
    [['H', 'S1', 'P'], ['H', 'S2', 'P']]
    >>> paths(snap, "H", "P")
    []
    """
    target, source = snap.node(x), snap.node(y)
    if k <= 0 or target == source:  # an asset never depends on itself
        return []
    # Exact distance to the target from every asset that can reach it: an A* heuristic that
    # never leads into a dead end except through the simplicity constraint.
    reach = _bfs(snap, target, forward=False, kinds=None, max_depth=None, cancel=cancel)
    dist = dict(zip(reach.nodes.tolist(), reach.depths.tolist(), strict=True))
    dist[target] = 0
    if source not in dist:
        return []
    ids = snap.asset_ids
    heap: list[tuple[int, tuple[str, ...], tuple[int, ...]]] = [(dist[source], (ids[source],), (source,))]
    out: list[tuple[int, ...]] = []
    for taken in itertools.count(1):
        if not heap or len(out) >= k:
            break
        if taken % CHECK_EVERY == 0:
            check(cancel)
        _, names, path = heapq.heappop(heap)
        last = path[-1]
        if last == target:
            out.append(path)
            continue
        for p in sorted(set(snap.providers(last).tolist())):
            if p in dist and p not in path:
                heapq.heappush(heap, (len(path) + dist[p], (*names, ids[p]), (*path, p)))
        if max_pending is not None and len(heap) > max_pending:
            raise ResultTooLarge(f"looking for {k} chains from {y} down to {x}, more than {max_pending:,} partial "
                                 f"chains were pending after {len(out)} found (supply loops branch without end "
                                 "here); ask for fewer chains", size=len(heap), limit=max_pending,
                                 parameter="max_pending")
    return out


def path_kinds(snap: GraphSnapshot, path: tuple[int, ...]) -> list[tuple[str, ...]]:
    """For each hop of a chain, the kinds the dependent takes from the provider (sorted).

    Examples
    --------
    >>> snap = _example()
    >>> path_kinds(snap, paths(snap, "P", "H")[0])
    [('power',), ('power',)]
    """
    hops = []
    for dependent, provider in itertools.pairwise(path):
        lo, hi = int(snap.dep_ptr[dependent]), int(snap.dep_ptr[dependent + 1])
        kinds = {snap.kinds[int(snap.dep_kind[e])] for e in range(lo, hi) if snap.dep_provider[e] == provider}
        hops.append(tuple(sorted(kinds)))
    return hops


def single_points_of_failure(snap: GraphSnapshot, asset_id: str, *, cancel: CancelToken | None = None) -> Reach:
    """Assets whose lone failure makes ``asset_id`` fail, under cascade semantics.

    Redundancy and grounding count (two independent feeds are not a single point;
    the source of a loop is a single point of what the loop feeds); time does not:
    an asset qualifies if its lone failure fails ``asset_id`` at any finite time,
    whatever the buffers (the horizon is infinite).

    ``cancel`` is checked before each of the propagations (one per asset ``asset_id`` depends on).

    Returns
    -------
    Reach
        The single points (``asset_id`` itself excluded), depth = fewest hops,
        sorted by depth then id.

    Examples
    --------
    >>> snap = _example()
    >>> [snap.asset_ids[i] for i, _ in single_points_of_failure(snap, "H")]
    ['P']
    """
    x = snap.node(asset_id)
    upstream = dependencies(snap, asset_id, cancel=cancel)
    if not len(upstream):
        return upstream
    within = bytearray(snap.n)
    within[x] = 1
    for i in upstream.nodes.tolist():
        within[i] = 1
    net = network(snap)
    view = memoryview(within)
    stop = {x}
    hit = []
    # Nearest first: once y is known to take x down, any asset whose cascade reaches y does too,
    # so later runs stop at the first known single point instead of going on to x.
    for pos, y in enumerate(upstream.nodes.tolist()):
        check(cancel)
        run = net.spread({y: 0.0}, static=True, within=view, until=stop, cancel=cancel)
        if stop.intersection(run.failed):
            hit.append(pos)
            stop.add(y)
    keep = np.asarray(hit, dtype=np.int64)
    return Reach(upstream.nodes[keep], upstream.depths[keep])


def _example() -> GraphSnapshot:
    """The four-asset city of the module docs (for the examples)."""
    from kg.snapshot import build_snapshot

    assets = [(i, "Substation", None, None, None, None, None, 0, None) for i in ("P", "S1", "S2", "H")]
    deps = [("S1", "P", "power", "power", 0.0), ("S2", "P", "power", "power", 0.0),
            ("H", "S1", "power", "power", 0.0), ("H", "S2", "power", "power", 0.0)]
    tables: dict[str, list[tuple[Any, ...]]] = {"assets": assets, "dependencies": deps}
    return build_snapshot(1, lambda t: tables.get(t, []))
