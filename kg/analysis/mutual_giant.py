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

Computing a round
-----------------
The first round's giant step labels each linked layer with a union-find over its
links (:func:`~kg.analysis.layer_components.keep_largest`). From then on each
linked layer's functional assets are one connected set, and a later giant step
only has to split that set after some of its assets failed: every piece left
holds a neighbour of a failed asset, so searches from those neighbours, stopped
as soon as at most one of them is still open, find the pieces exactly
(:func:`~kg.analysis.layer_components.split_near`; its cost is that of the
pieces cut off, not of the layer). When the failures are so many that the
searches would cost more than a union-find pass, the layer is labelled again.
Either way a round gives exactly the result the rules above define.

Computing a curve
-----------------
Along one removal order the removed sets are nested, but the functional set is
not monotone: when the largest component breaks up, another component may
become the largest. So a point is computed from scratch (the rounds above, from
every asset not removed) unless a cheaper update is proven to give the same answer:

* ``D``, the assets that survive the *dependencies* rule alone, only shrinks;
  it is updated from the newly removed assets.
* The update starts from the previous point's functional set ``F`` less the
  newly removed assets and runs the same rounds. Its result ``F'`` is the
  greatest set ``G`` that satisfies the rules with each layer's component
  *anchored* at an asset ``a`` of ``F'`` (each linked layer's part connected and
  holding ``a``): by induction ``F`` is that set for the previous point (true of
  a from-scratch result, whose rounds keep ``F``'s components), anchored rules
  are monotone in the removed set, so ``G ⊆ F``; and ``G`` survives every round of
  the update, whose kept components all hold ``F'``, so ``G ⊆ F' ⊆ G``.
* Certificate: if in every linked layer with assets in ``D`` the part ``F'_X``
  is not empty and is larger than every connected set of ``D``'s assets of that
  layer outside it, every from-scratch round keeps the component containing
  ``F'_X`` (it holds ``F'_X``, any other lies outside it), so the from-scratch
  result holds ``F'`` and satisfies the anchored rules: it is ``F'``. The check
  is a count (``|D ∩ X| - |F'_X| < |F'_X|``) and, only when that fails, one
  union-find pass over ``(D ∖ F') ∩ X``.

Before the collapse of the giant components nearly every point is certified;
after it the functional set is a small cluster that can jump from point to
point, and points are computed from scratch, whose rounds after the first cost
what the failures cut off.

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

import numpy as np
import numpy.typing as npt

from kg.analysis import layer_components as lc
from kg.analysis.cancel import CancelToken, check
from kg.ontology import load_ontology
from kg.snapshot import GraphSnapshot

__all__ = ["Coupling", "SweepPoint", "coupling"]

IntArray = npt.NDArray[np.int64]
BoolArray = npt.NDArray[np.bool_]
_EMPTY = np.zeros(0, dtype=np.int64)
SEARCH_SEEDS = 64
"""A giant step labels the whole layer instead of searching near the failures when they have more
than 1/SEARCH_SEEDS of the layer's assets as alive neighbours (the searches would then cost about as
much as a union-find pass over the layer: measured in bench/robustness.py), or when the searches
visit more than 1/SEARCH_VISITS of them."""
SEARCH_VISITS = 8


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
    link_u: IntArray
    """Links once each, ``link_u < link_v``, sorted; layer ``x``'s are ``link_start[x]:link_start[x+1]``."""
    link_v: IntArray
    link_start: IntArray
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

    def sweep(self, order: IntArray, counts: Sequence[int], *, incremental: bool = True,
              cancel: CancelToken | None = None) -> Iterator[SweepPoint]:
        """The functional set after removing the first ``counts[i]`` assets of ``order``, for each ``i``.

        ``order`` holds asset indexes; ``counts`` must not decrease. ``incremental=False`` computes
        every point from scratch (the plain method the incremental one is checked against).
        ``cancel`` is checked before each point (a point of a million assets takes well under a second).
        """
        removal = self.position[np.asarray(order, dtype=np.int64)]
        state = _Sweep(self)
        done = 0
        for count in counts:
            check(cancel)
            new = removal[done:count]
            done = count
            state.remove(new)
            exact = incremental and state.update(new)
            if not exact:
                state.restart()
            yield SweepPoint(int(state.alive.sum()), int(self.population[state.alive].sum()), not exact)


class _Rounds:
    """The rules of the model over one :class:`Coupling`, with the scratch space of the compiled kernels."""

    def __init__(self, c: Coupling) -> None:
        self.c = c
        n = c.n
        self.parent = np.zeros(n, dtype=np.int64)
        self.size = np.zeros(n, dtype=np.int64)
        self.mark = np.zeros(n, dtype=np.int64)
        self.owner = np.zeros(n, dtype=np.int64)
        self.queue = np.zeros(n + 1, dtype=np.int64)
        self.pieces = np.zeros(n, dtype=np.int64)
        self.out = np.zeros(n, dtype=np.int64)
        self.stamp = 0

    def _layer(self, x: int) -> tuple[int, int, int, int]:
        c = self.c
        return int(c.layer_start[x]), int(c.layer_start[x + 1]), int(c.link_start[x]), int(c.link_start[x + 1])

    def fail_dependents(self, alive: BoolArray, live: IntArray, dead: IntArray) -> IntArray:
        """Fail, to a fixed point, every asset left with a group none of whose providers is alive.

        ``dead`` are positions just cleared in ``alive`` (each once); ``live`` is updated. Returns
        ``dead`` followed by the positions failed here.
        """
        c = self.c
        self.queue[: len(dead)] = dead
        tail = lc.fail_dependents(alive, live, self.queue, 0, len(dead), c.served_ptr, c.served_group, c.group_owner)
        return self.queue[:tail].copy()

    def keep_largest(self, alive: BoolArray, x: int) -> IntArray:
        """Fail layer ``x``'s alive assets outside their largest component; return them."""
        lo, hi, e0, e1 = self._layer(x)
        c = self.c
        count = lc.keep_largest(lo, hi, alive, c.link_u, c.link_v, e0, e1, self.parent, self.size, self.out)
        return self.out[:count].copy()

    def split(self, alive: BoolArray, x: int, dead: IntArray) -> IntArray:
        """The giant step of layer ``x``, whose alive assets and ``dead`` were one connected set; the failed."""
        lo, hi = self._layer(x)[:2]
        c = self.c
        count, self.stamp = lc.split_near(lo, hi, alive, dead, c.nbr_ptr, c.nbr, (hi - lo) // SEARCH_SEEDS,
                                          (hi - lo) // SEARCH_VISITS, self.mark, self.owner, self.stamp,
                                          self.queue, self.pieces, self.out)
        if count == lc.SPLIT_GAVE_UP:
            return self.keep_largest(alive, x)
        return self.out[:count].copy()

    def largest_size(self, mask: BoolArray, x: int) -> int:
        """Size of the largest connected set of layer ``x`` among ``mask`` (a mask over all positions)."""
        lo, hi, e0, e1 = self._layer(x)
        c = self.c
        return int(lc.largest_size(lo, hi, mask, c.link_u, c.link_v, e0, e1, self.parent, self.size))

    def settle(self, alive: BoolArray, live: IntArray, dead: IntArray) -> None:
        """Rounds (dependencies, then giant steps of the layers that lost assets) from the just-failed ``dead``.

        Each linked layer's alive assets and its part of ``dead`` must be one connected set.
        """
        c = self.c
        while dead.size:
            gone = np.sort(self.fail_dependents(alive, live, dead))
            bounds = np.searchsorted(gone, c.layer_start)
            failed = [self.split(alive, x, gone[bounds[x] : bounds[x + 1]])
                      for x in np.flatnonzero(c.linked & (bounds[1:] > bounds[:-1])).tolist()]
            dead = np.concatenate(failed) if failed else _EMPTY

    def from_scratch(self, survivors: BoolArray, live: IntArray) -> tuple[BoolArray, IntArray]:
        """The functional set given ``survivors`` = the assets that survive the dependency rule alone.

        ``live`` counts the alive providers of each group among ``survivors``. Returns new arrays.
        """
        alive, live = survivors.copy(), live.copy()
        failed = [self.keep_largest(alive, x) for x in np.flatnonzero(self.c.linked).tolist()]
        self.settle(alive, live, np.concatenate(failed) if failed else _EMPTY)
        return alive, live

    def certified(self, alive: BoolArray, survivors: BoolArray) -> bool:
        """True when the from-scratch rounds provably reach ``alive`` (see "Certificate" in the module doc)."""
        c = self.c
        functional = np.bincount(c.layer_of[alive], minlength=len(c.layer_names))
        candidates = np.bincount(c.layer_of[survivors], minlength=len(c.layer_names))
        for x in np.flatnonzero(c.linked & (candidates > 0)).tolist():
            f = int(functional[x])
            if f == 0:
                return False
            if candidates[x] - f >= f and self.largest_size(survivors & ~alive, x) >= f:
                return False
        return True


class _Sweep:
    """The state of one sweep: the survivors of the dependency rule alone, and the functional set."""

    def __init__(self, coupling: Coupling) -> None:
        self.rounds = _Rounds(coupling)
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
        self.rounds.fail_dependents(self.survivors, self.live_survivors, gone)

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
        self.rounds.settle(self.alive, self.live, gone)
        if self.rounds.certified(self.alive, self.survivors):
            self.backoff = 1
            return True
        self.wait, self.backoff = self.backoff, min(2 * self.backoff, 16)
        return False

    def restart(self) -> None:
        """The functional set from scratch."""
        self.started = True
        self.alive, self.live = self.rounds.from_scratch(self.survivors, self.live_survivors)


def _distinct(values: IntArray) -> IntArray:
    """The distinct values, ascending: ``np.unique`` by a sort (NumPy 2.4's hashing ``np.unique`` took
    ~100x longer on a few million integers here, most of the preparation of a large coupling)."""
    ordered = np.sort(values)
    if ordered.size:
        ordered = ordered[np.concatenate(([True], ordered[1:] != ordered[:-1]))]
    return ordered


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
    pairs = _distinct(np.minimum(u, v) * n + np.maximum(u, v))
    link_from, link_to = pairs // max(n, 1), pairs % max(n, 1)
    loop = link_from == link_to  # a self-dependency makes its layer linked but joins nothing
    link_from, link_to = link_from[~loop], link_to[~loop]
    ends = np.concatenate((link_from, link_to))
    by_end = np.argsort(ends, kind="stable")
    nbr = np.concatenate((link_to, link_from))[by_end]
    nbr_ptr = np.zeros(n + 1, dtype=np.int64)
    np.cumsum(np.bincount(ends, minlength=n), out=nbr_ptr[1:])
    link_start = np.searchsorted(link_from, layer_start).astype(np.int64)

    cross = ~same
    keyed = _distinct(snap.dep_group[cross].astype(np.int64) * max(n, 1) + position[provider[cross]])
    group_of, member = keyed // max(n, 1), keyed % max(n, 1)
    # `group_of` ascends (`keyed` does): each new value starts the next group
    starts = np.concatenate(([True], group_of[1:] != group_of[:-1])) if group_of.size else np.zeros(0, dtype=bool)
    groups = group_of[starts]
    group_index = np.cumsum(starts) - 1
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
        link_u=link_from.astype(np.int64),
        link_v=link_to.astype(np.int64),
        link_start=link_start,
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
