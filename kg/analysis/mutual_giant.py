"""Interdependent percolation over the city's sectors: the ``mutual-giant`` robustness model.

The model (Buldyrev et al., Nature 2010, generalised to any number of layers)
-------------------------------------------------------------------------------
An asset's **layer** is its sector, the ontology class just under ``ckg:Asset``.
A dependency between two assets of one layer is a **link** (direction ignored)
and nothing else; a dependency between layers is an interdependency. An asset's
**interdependency groups** are its (kind, group) groups restricted to providers
in other layers (a group with no such provider is dropped): each needs one
functional provider, and the asset needs every group.

With the assets ``R`` removed, the functional set is computed in rounds from
every asset not in ``R``, until a round changes nothing:

1. *dependencies*: fail every asset with an interdependency group none of whose
   providers is functional, until no such asset is left (a greatest fixed
   point, so the order of these failures does not matter);
2. *giants*: in every layer that has at least one link, keep only the largest
   connected component of its functional assets (most assets; ties: the one
   holding the smallest asset id). A layer without links has no such condition.

Computing a curve
-----------------
Along one removal order the removed sets are nested, but the functional set is
not monotone: when the largest component breaks up, another component may
become the largest. So a point is computed from scratch
(:meth:`Coupling.from_scratch`: the rounds above, each giant step one
vectorised connected-components pass per changed layer) unless a cheaper update
is proven to give the same answer:

* ``D``, the assets that survive the *dependencies* rule alone, only shrinks;
  it is updated from the newly removed assets.
* The update starts from the previous point's functional set ``F`` less the
  newly removed assets and runs rounds whose giant steps first look near the
  failures (:meth:`Coupling.cut_off`: a few breadth-first levels find the small
  pieces cut off), with one global pass per layer at the end if the rest may
  be split. Its result ``F'`` is the greatest fixed point of the rules with
  each layer's component *anchored* at an asset of ``F'``: every asset it
  fails breaks the anchored rules when it fails, and with monotone rules any
  such order of failures reaches that fixed point; so does the from-scratch
  computation if every round of it keeps the component holding ``F'``.
* Certificate: if in every linked layer with assets in ``D`` the part ``F'_X``
  is not empty and is larger than every connected set of ``D``'s assets of that
  layer outside it, every from-scratch round keeps the component containing
  ``F'_X`` (it holds ``F'_X``, any other lies outside it), so from scratch
  reaches ``F'`` too. The check is a count (``|D ∩ X| - |F'_X| < |F'_X|``)
  and, only when that fails, one connected-components pass over ``(D ∖ F') ∩ X``.

Before the collapse of the giant components nearly every point is certified;
after it the functional set is a small cluster that can jump from point to
point, and points are computed from scratch.

Glossary
--------
position
    An asset's place once assets are sorted by (layer, id): each layer is one
    slice ``layer_start[x]:layer_start[x + 1]`` in id order, so the component
    "holding the smallest id" is the one with the smallest position.
group
    Here always an interdependency group (numbered ``0..G-1``); ``live[g]`` counts
    its providers that are still alive.
"""

from __future__ import annotations

import weakref
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from functools import cached_property

import numpy as np
import numpy.typing as npt
from scipy.sparse import csr_matrix
from scipy.sparse.csgraph import connected_components

from kg.analysis.cascade import gather
from kg.ontology import load_ontology
from kg.snapshot import GraphSnapshot

__all__ = ["Coupling", "SweepPoint", "coupling"]

IntArray = npt.NDArray[np.int64]
BoolArray = npt.NDArray[np.bool_]
_EMPTY = np.zeros(0, dtype=np.int64)
NEAR = 4
"""Levels of the search near failures before a giant step falls back to a global pass."""


@dataclass(frozen=True)
class SweepPoint:
    """The functional set after one point of a removal order: its size, its population, how it was found."""

    functional: int
    population: int
    recomputed: bool
    """True when the point was computed from scratch (the incremental update could not be certified)."""


@dataclass(frozen=True, eq=False)
class Coupling:
    """Layers, links and interdependency groups of one snapshot, by position (see the module glossary)."""

    layer_names: tuple[str, ...]
    linked: BoolArray
    """Per layer: has at least one link (else no giant-component condition)."""
    layer_start: IntArray
    layer_of: IntArray
    """Per position: its layer."""
    position: IntArray
    """Per asset index: its position."""
    population: IntArray
    """Per position: the asset's population."""
    nbr_ptr: IntArray
    """Links as a symmetric CSR by position: the neighbours of ``p`` are ``nbr[nbr_ptr[p]:nbr_ptr[p+1]]``."""
    nbr: IntArray
    nbr_from: IntArray
    """Per entry of ``nbr``: the position whose neighbour it is."""
    group_owner: IntArray
    """Per group: the position of the asset that needs it."""
    group_size: IntArray
    """Per group: its number of distinct providers (all in other layers)."""
    served_ptr: IntArray
    """Per provider position, the groups it belongs to: ``served_group[served_ptr[p]:served_ptr[p+1]]``."""
    served_group: IntArray

    @property
    def n(self) -> int:
        return len(self.layer_of)

    # ------------------------------------------------------------------ the two rules
    def fail_dependents(self, alive: BoolArray, live: IntArray, dead: IntArray) -> IntArray:
        """Fail, to a fixed point, every asset left with a group none of whose providers is alive.

        ``dead`` are positions just cleared in ``alive``; ``live`` is updated. Returns the positions
        failed here (``dead`` excluded).
        """
        failed = []
        while dead.size:
            groups = self.served_group[gather(self.served_ptr, dead)]
            if not groups.size:
                break
            np.subtract.at(live, groups, 1)
            owners = self.group_owner[groups[live[groups] == 0]]
            owners = np.unique(owners[alive[owners]])
            alive[owners] = False
            failed.append(owners)
            dead = owners
        return np.concatenate(failed) if failed else _EMPTY

    def _labels(self, mask: BoolArray, x: int) -> npt.NDArray[np.int32]:
        """Connected-component labels of layer ``x``'s links among ``mask`` (a layer-local view)."""
        rows, cols, ptr = self._layer_links[x]
        nodes = np.flatnonzero(mask)
        if len(nodes) < len(mask) // 8:
            return self._labels_of_few(mask, nodes, x)
        keep = mask[cols]
        keep &= mask[rows]
        indptr = np.zeros(len(keep) + 1, dtype=np.int32)
        np.cumsum(keep, dtype=np.int32, out=indptr[1:])
        indices = cols[keep]
        # Links both ways, float64 weights and int32 indices: SciPy then neither converts nor transposes
        # the graph, and the strong components of a symmetric graph are its connected components
        # (4-5x faster than an undirected search over the links stored once).
        graph = csr_matrix((self._ones[: len(indices)], indices, indptr[ptr]), shape=(len(mask), len(mask)))
        labels: npt.NDArray[np.int32] = connected_components(graph, directed=True, connection="strong")[1]
        return labels

    def _labels_of_few(self, mask: BoolArray, nodes: IntArray, x: int) -> npt.NDArray[np.int32]:
        """:meth:`_labels` when few assets are alive: a graph of those assets alone."""
        lo = int(self.layer_start[x])
        step = self.nbr[gather(self.nbr_ptr, nodes + lo)] - lo
        inside = mask[step]
        indptr = np.zeros(len(nodes) + 1, dtype=np.int32)
        owner = np.repeat(np.arange(len(nodes)), self._degree[nodes + lo])
        np.cumsum(np.bincount(owner[inside], minlength=len(nodes)), out=indptr[1:])
        local = np.searchsorted(nodes, step[inside]).astype(np.int32)
        graph = csr_matrix((self._ones[: len(local)], local, indptr), shape=(len(nodes), len(nodes)))
        labels = np.full(len(mask), -1, dtype=np.int32)
        labels[nodes] = connected_components(graph, directed=True, connection="strong")[1]
        return labels

    @cached_property
    def _layer_links(self) -> list[tuple[npt.NDArray[np.int32], npt.NDArray[np.int32], npt.NDArray[np.int32]]]:
        """Per layer, its links as layer-local (rows, columns, row pointers), both ways, in int32."""
        out = []
        for x in range(len(self.layer_names)):
            lo, hi = int(self.layer_start[x]), int(self.layer_start[x + 1])
            e0, e1 = int(self.nbr_ptr[lo]), int(self.nbr_ptr[hi])
            out.append(((self.nbr_from[e0:e1] - lo).astype(np.int32), (self.nbr[e0:e1] - lo).astype(np.int32),
                        (self.nbr_ptr[lo : hi + 1] - e0).astype(np.int32)))
        return out

    @cached_property
    def _degree(self) -> IntArray:
        return np.diff(self.nbr_ptr)

    @cached_property
    def _ones(self) -> npt.NDArray[np.float64]:
        return np.ones(int(np.diff(self.nbr_ptr[self.layer_start]).max(initial=0)))

    def keep_largest(self, alive: BoolArray, layers: Sequence[int] | IntArray) -> IntArray:
        """In each of ``layers`` (linked ones), fail the alive assets outside the largest component; return them.

        Largest: most assets; ties: the component holding the smallest id, i.e. the smallest position.
        """
        failed = []
        for x in np.asarray(layers, dtype=np.int64).tolist():
            lo, hi = int(self.layer_start[x]), int(self.layer_start[x + 1])
            mask = alive[lo:hi]
            nodes = np.flatnonzero(mask)
            if not nodes.size:
                continue
            labels = self._labels(mask, x)[nodes]
            sizes = np.bincount(labels)
            # nodes ascend, so the first node of a largest component holds the smallest id among them
            best = labels[np.flatnonzero(sizes[labels] == sizes.max())[0]]
            out = nodes[labels != best] + lo
            mask[out - lo] = False
            failed.append(out)
        return np.concatenate(failed) if failed else _EMPTY

    def cut_off(self, alive: BoolArray, dead: IntArray, x: int, budget: int) -> tuple[IntArray, bool] | None:
        """The pieces of layer ``x``'s alive assets that the failure of ``dead`` (in ``x``) cut off, found near them.

        ``alive`` must have been one component of ``x`` before ``dead`` failed. Searches breadth-first
        through alive assets from the alive neighbours of ``dead``, for :data:`NEAR` levels and at most
        ``budget`` assets. Returns the assets of the pieces to fail and whether the rest may still be
        split (more than one part of the search reached its last level), or None over budget or when
        a piece found is not clearly smaller than the rest (the caller then takes the global way).
        """
        around = self.nbr[gather(self.nbr_ptr, dead)]
        frontier = np.unique(around[alive[around]])
        mark = np.zeros(self.n, dtype=bool)
        mark[frontier] = True
        levels = [frontier]
        for _ in range(NEAR):
            step = self.nbr[gather(self.nbr_ptr, frontier)]
            frontier = np.unique(step[alive[step] & ~mark[step]])
            if not frontier.size:
                break
            budget -= len(frontier)
            if budget < 0:
                return None
            mark[frontier] = True
            levels.append(frontier)
        region = np.sort(np.concatenate(levels))
        if not region.size:
            return _EMPTY, False
        step = self.nbr[gather(self.nbr_ptr, region)]
        inside = mark[step]
        indptr = np.zeros(len(region) + 1, dtype=np.int32)
        np.cumsum(np.bincount(np.repeat(np.arange(len(region)), self._degree[region])[inside],
                              minlength=len(region)), out=indptr[1:])
        local = np.searchsorted(region, step[inside]).astype(np.int32)
        graph = csr_matrix((np.ones(len(local)), local, indptr), shape=(len(region), len(region)))
        labels = connected_components(graph, directed=True, connection="strong")[1]
        sizes = np.bincount(labels)
        open_parts = np.unique(labels[np.searchsorted(region, frontier)]) if frontier.size else _EMPTY
        lo, hi = int(self.layer_start[x]), int(self.layer_start[x + 1])
        if not open_parts.size:  # everything explored: the pieces are all there is; keep the largest
            best = labels[np.flatnonzero(sizes[labels] == sizes.max())[0]]
            return region[labels != best], False
        closed = np.ones(len(sizes), dtype=bool)
        closed[open_parts] = False
        pieces = region[closed[labels]]
        rest = int(alive[lo:hi].sum()) - len(pieces)
        if pieces.size and int(sizes[closed].max()) * 2 >= rest:
            return None
        return pieces, len(open_parts) > 1

    def settle_near(self, alive: BoolArray, live: IntArray, dead: IntArray) -> None:
        """Rounds like :meth:`settle`, whose giant steps look near the failures first.

        A layer whose search near the failures left its rest possibly split gets one global step
        once the rounds are quiet. The result is the same fixed point of the rules with each layer's
        component anchored in the result; not necessarily the from-scratch one (see the certificate).
        """
        unsure: set[int] = set()
        while True:
            while dead.size:
                gone = np.concatenate((dead, self.fail_dependents(alive, live, dead)))
                failed = []
                for x in self.linked_layers(gone).tolist():
                    lo, hi = int(self.layer_start[x]), int(self.layer_start[x + 1])
                    near = self.cut_off(alive, gone[(gone >= lo) & (gone < hi)], x, (hi - lo) // 8 + 64)
                    if near is None:
                        failed.append(self.keep_largest(alive, [x]))
                        unsure.discard(x)
                        continue
                    pieces, split = near
                    alive[pieces] = False
                    failed.append(pieces)
                    if split:
                        unsure.add(x)
                dead = np.concatenate(failed) if failed else _EMPTY
            if not unsure:
                return
            dead = self.keep_largest(alive, sorted(unsure))
            unsure.clear()

    def largest_size(self, mask: BoolArray, x: int) -> int:
        """Size of the largest connected set of layer ``x`` among ``mask`` (a mask over all positions)."""
        local = mask[int(self.layer_start[x]) : int(self.layer_start[x + 1])]
        nodes = np.flatnonzero(local)
        if not nodes.size:
            return 0
        return int(np.bincount(self._labels(local, x)[nodes]).max())

    def linked_layers(self, positions: IntArray) -> IntArray:
        """The distinct linked layers of ``positions``."""
        layers = np.unique(self.layer_of[positions])
        kept: IntArray = layers[self.linked[layers]]
        return kept

    # ------------------------------------------------------------------ the rounds
    def settle(self, alive: BoolArray, live: IntArray, dead: IntArray) -> None:
        """Rounds (dependencies, then giants of the layers that changed) from the just-failed ``dead``."""
        while dead.size:
            failed = self.fail_dependents(alive, live, dead)
            touched = self.linked_layers(np.concatenate((dead, failed)))
            dead = self.keep_largest(alive, touched)

    def from_scratch(self, survivors: BoolArray, live: IntArray) -> tuple[BoolArray, IntArray]:
        """The functional set given ``survivors`` = the assets that survive the dependency rule alone.

        ``live`` counts the alive providers of each group among ``survivors``. Returns new arrays.
        """
        alive, live = survivors.copy(), live.copy()
        self.settle(alive, live, self.keep_largest(alive, np.flatnonzero(self.linked)))
        return alive, live

    def certified(self, alive: BoolArray, survivors: BoolArray) -> bool:
        """True when the from-scratch rounds provably reach ``alive`` (see "Certificate" in the module doc)."""
        functional = np.bincount(self.layer_of[alive], minlength=len(self.layer_names))
        candidates = np.bincount(self.layer_of[survivors], minlength=len(self.layer_names))
        for x in np.flatnonzero(self.linked & (candidates > 0)).tolist():
            f = int(functional[x])
            if f == 0:
                return False
            if candidates[x] - f >= f and self.largest_size(survivors & ~alive, x) >= f:
                return False
        return True

    # ------------------------------------------------------------------ a removal order
    def sweep(self, order: IntArray, counts: Sequence[int], *, incremental: bool = True) -> Iterator[SweepPoint]:
        """The functional set after removing the first ``counts[i]`` assets of ``order``, for each ``i``.

        ``order`` holds asset indexes; ``counts`` must not decrease. ``incremental=False`` computes
        every point from scratch with connected-components rounds (the plain method the incremental
        one is checked against).
        """
        removal = self.position[np.asarray(order, dtype=np.int64)]
        state = _Sweep(self)
        done = 0
        for count in counts:
            new = removal[done:count]
            done = count
            state.remove(new)
            exact = incremental and state.update(new)
            if not exact:
                state.restart()
            yield SweepPoint(int(state.alive.sum()), int(self.population[state.alive].sum()), not exact)


class _Sweep:
    """The state of one sweep: the survivors of the dependency rule alone, and the functional set."""

    def __init__(self, coupling: Coupling) -> None:
        self.c = coupling
        self.survivors = np.ones(coupling.n, dtype=bool)
        self.live_survivors = coupling.group_size.copy()
        self.alive = self.survivors
        self.live = self.live_survivors
        self.started = False
        self.wait = 0
        self.backoff = 1

    def remove(self, new: IntArray) -> None:
        """Remove ``new`` from the survivors of the dependency rule."""
        gone = new[self.survivors[new]]
        self.survivors[gone] = False
        self.c.fail_dependents(self.survivors, self.live_survivors, gone)

    def update(self, new: IntArray) -> bool:
        """Fail ``new`` in the functional set, settle, and tell whether the result is certified.

        After an update that could not be certified (after a collapse, typically) the next 1, 2,
        4, ... up to 16 points are computed from scratch without trying one: a failed update
        costs a whole cascade.
        """
        if not self.started or self.wait:
            self.wait = max(0, self.wait - 1)
            return False
        gone = new[self.alive[new]]
        self.alive[gone] = False
        self.c.settle_near(self.alive, self.live, gone)
        if self.c.certified(self.alive, self.survivors):
            self.backoff = 1
            return True
        self.wait, self.backoff = self.backoff, min(2 * self.backoff, 16)
        return False

    def restart(self) -> None:
        """The functional set from scratch."""
        self.started = True
        self.alive, self.live = self.c.from_scratch(self.survivors, self.live_survivors)


def _build(snap: GraphSnapshot) -> Coupling:
    ontology = load_ontology()
    sectors = [ontology.sector(t) if t in ontology.classes else t for t in snap.types]
    layer_names = tuple(sorted(set(sectors)))
    code = {name: i for i, name in enumerate(layer_names)}
    type_layer = np.asarray([code[s] for s in sectors], dtype=np.int64)
    n = snap.n
    asset_layer = type_layer[snap.type_code] if n else _EMPTY
    by_position = np.lexsort((np.asarray(snap.asset_ids, dtype=str), asset_layer)).astype(np.int64)
    position = np.empty(n, dtype=np.int64)
    position[by_position] = np.arange(n, dtype=np.int64)
    layer_of = asset_layer[by_position]
    layer_start = np.zeros(len(layer_names) + 1, dtype=np.int64)
    np.cumsum(np.bincount(layer_of, minlength=len(layer_names)), out=layer_start[1:])

    dependent = np.repeat(np.arange(n, dtype=np.int64), np.diff(snap.dep_ptr))
    provider = snap.dep_provider.astype(np.int64)
    same = asset_layer[dependent] == asset_layer[provider]
    u, v = position[dependent[same]], position[provider[same]]
    linked = np.zeros(len(layer_names), dtype=bool)
    linked[layer_of[u]] = True
    pairs = np.unique(np.minimum(u, v) * n + np.maximum(u, v))
    link_from, link_to = pairs // max(n, 1), pairs % max(n, 1)
    loop = link_from == link_to  # a self-dependency makes its layer linked but joins nothing
    link_from, link_to = link_from[~loop], link_to[~loop]
    ends = np.concatenate((link_from, link_to))
    by_end = np.argsort(ends, kind="stable")
    nbr = np.concatenate((link_to, link_from))[by_end]
    nbr_ptr = np.zeros(n + 1, dtype=np.int64)
    np.cumsum(np.bincount(ends, minlength=n), out=nbr_ptr[1:])

    cross = ~same
    keyed = np.unique(snap.dep_group[cross].astype(np.int64) * max(n, 1) + position[provider[cross]])
    group_of, member = keyed // max(n, 1), keyed % max(n, 1)
    groups, group_index = np.unique(group_of, return_inverse=True)
    group_owner = position[snap.group_owner[groups].astype(np.int64)]
    served = np.argsort(member, kind="stable")
    served_ptr = np.zeros(n + 1, dtype=np.int64)
    np.cumsum(np.bincount(member, minlength=n), out=served_ptr[1:])
    return Coupling(
        layer_names=layer_names,
        linked=linked,
        layer_start=layer_start,
        layer_of=layer_of,
        position=position,
        population=snap.population[by_position].astype(np.int64),
        nbr_ptr=nbr_ptr,
        nbr=nbr.astype(np.int64),
        nbr_from=ends[by_end].astype(np.int64),
        group_owner=group_owner,
        group_size=np.bincount(group_index, minlength=len(groups)).astype(np.int64),
        served_ptr=served_ptr,
        served_group=group_index[served].astype(np.int64),
    )


_COUPLINGS: weakref.WeakKeyDictionary[GraphSnapshot, Coupling] = weakref.WeakKeyDictionary()


def coupling(snap: GraphSnapshot) -> Coupling:
    """The prepared :class:`Coupling` of ``snap`` (built on first use, cached with the snapshot).

    Examples
    --------
    A substation ``S1`` linked to ``S2``, each needing one of two telecom exchanges:

    >>> from kg.snapshot import build_snapshot
    >>> assets = [(i, t, None, None, None, None, None, 0, None) for i, t in
    ...           (("S1", "Substation"), ("S2", "Substation"), ("T1", "TelecomExchange"), ("T2", "TelecomExchange"))]
    >>> deps = [("S1", "S2", "power", "power", 0.0), ("S1", "T1", "telecom", "telecom", 0.0),
    ...         ("S2", "T2", "telecom", "telecom", 0.0)]
    >>> snap = build_snapshot(1, lambda t: {"assets": assets, "dependencies": deps}.get(t, []))
    >>> c = coupling(snap)
    >>> c.layer_names, c.linked.tolist()
    (('PowerAsset', 'TelecomAsset'), [True, False])
    >>> [(p.functional, p.recomputed) for p in c.sweep(np.array([snap.index["T2"]]), [0, 1])]
    [(4, True), (2, False)]
    """
    built = _COUPLINGS.get(snap)
    if built is None:
        built = _COUPLINGS[snap] = _build(snap)
    return built
