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
  newly removed assets and runs the same rounds, with each layer's components
  kept as spanning trees (:class:`~kg.analysis.forest.SpanningForest`), so a
  round costs work in proportion to the trees its failures disturb. Its result
  ``F'`` is the greatest fixed point of the rules with each layer's component
  *anchored* at an asset of ``F'`` (monotone rules: any order of failures
  reaches it, and so does the from-scratch computation if it always keeps the
  component holding ``F'``).
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

import numpy as np
import numpy.typing as npt
from scipy.sparse import csr_matrix
from scipy.sparse.csgraph import connected_components

from kg.analysis.cascade import gather
from kg.analysis.forest import SpanningForest
from kg.analysis.graph import GraphSnapshot
from kg.ontology import load_ontology

__all__ = ["Coupling", "SweepPoint", "coupling"]

IntArray = npt.NDArray[np.int64]
BoolArray = npt.NDArray[np.bool_]
_EMPTY = np.zeros(0, dtype=np.int64)


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
        lo, hi = int(self.layer_start[x]), int(self.layer_start[x + 1])
        e0, e1 = int(self.nbr_ptr[lo]), int(self.nbr_ptr[hi])
        rows, cols = self.nbr_from[e0:e1] - lo, self.nbr[e0:e1] - lo
        keep = mask[rows] & mask[cols]
        size = hi - lo
        indptr = np.zeros(size + 1, dtype=np.int32)
        np.cumsum(np.bincount(rows[keep], minlength=size), out=indptr[1:])
        # Links both ways, float64 weights and int32 indices: SciPy then neither converts nor transposes
        # the graph, and the strong components of a symmetric graph are its connected components
        # (about 4x faster than an undirected search over one direction).
        graph = csr_matrix((np.ones(int(indptr[-1])), cols[keep].astype(np.int32), indptr), shape=(size, size))
        labels: npt.NDArray[np.int32] = connected_components(graph, directed=True, connection="strong")[1]
        return labels

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
        state = _Sweep(self, trees=incremental)
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
    """The state of one sweep: the survivors of the dependency rule alone, and the functional set.

    With ``trees``, the functional set keeps a spanning forest of its linked layers' components,
    so an incremental round's giant-component step costs work in proportion to the trees it
    disturbs. A point computed from scratch uses connected-components rounds; its result gets a
    forest only when the next point's update has a chance to be certified (every linked layer's
    functional part holds more than half of its survivors), as it has before the collapse.
    """

    def __init__(self, coupling: Coupling, *, trees: bool) -> None:
        self.c = coupling
        self.trees = trees
        self.survivors = np.ones(coupling.n, dtype=bool)
        self.live_survivors = coupling.group_size.copy()
        self.alive = self.survivors
        self.live = self.live_survivors
        self.forest: SpanningForest | None = None
        self.kept = np.full(len(coupling.layer_names), -1, dtype=np.int64)
        """Per linked layer: the label of its functional component in ``forest``."""

    def remove(self, new: IntArray) -> None:
        """Remove ``new`` from the survivors of the dependency rule."""
        gone = new[self.survivors[new]]
        self.survivors[gone] = False
        self.c.fail_dependents(self.survivors, self.live_survivors, gone)

    def update(self, new: IntArray) -> bool:
        """Fail ``new`` in the functional set, settle, and tell whether the result is certified."""
        if self.forest is None:
            return False
        gone = new[self.alive[new]]
        self.alive[gone] = False
        dead = gone
        while dead.size:  # rounds: dependencies, then each changed layer's largest component
            failed = self.c.fail_dependents(self.alive, self.live, dead)
            dead = self.keep_largest(self.forest.delete(np.concatenate((dead, failed))))
        return self.c.certified(self.alive, self.survivors)

    def keep_largest(self, cut: IntArray) -> IntArray:
        """After a deletion cut ``cut`` off its components: keep each layer's largest piece, fail the rest."""
        forest = self.forest
        assert forest is not None
        if not cut.size:
            return _EMPTY
        labels = np.unique(forest.comp[cut])
        layers = self.c.layer_of[forest.first[labels]]
        lost = []
        for x in np.unique(layers).tolist():
            pieces = labels[layers == x]
            main = int(self.kept[x])
            best = _largest(forest, self.c, x, pieces if main < 0 else np.append(pieces, main))
            self.kept[x] = best
            lost.append(cut[np.isin(forest.comp[cut], pieces[pieces != best])])
            if main >= 0 and best != main and forest.size[main] > 0:
                lo, hi = int(self.c.layer_start[x]), int(self.c.layer_start[x + 1])
                lost.append(lo + np.flatnonzero(forest.member[lo:hi] & (forest.comp[lo:hi] == main)))
        failed = np.concatenate(lost)
        forest.drop(failed)
        self.alive[failed] = False
        return failed

    def restart(self) -> None:
        """The functional set from scratch (connected-components rounds); a forest of it if worth one."""
        self.alive, self.live = self.c.from_scratch(self.survivors, self.live_survivors)
        self.forest = None
        if not self.trees:
            return
        c = self.c
        functional = np.bincount(c.layer_of[self.alive], minlength=len(c.layer_names))
        survivors = np.bincount(c.layer_of[self.survivors], minlength=len(c.layer_names))
        if np.any(c.linked & (survivors > 0) & (2 * functional <= survivors)):
            return
        self.forest = SpanningForest(c.nbr_ptr, c.nbr, self.alive & c.linked[c.layer_of])
        self.kept[:] = -1
        labels = np.flatnonzero(self.forest.size)
        self.kept[c.layer_of[self.forest.first[labels]]] = labels  # one component per linked layer


def _largest(forest: SpanningForest, coupling: Coupling, x: int, labels: IntArray) -> int:
    """The largest of the components ``labels`` of layer ``x``: most nodes, then the smallest node now in it."""
    sizes = forest.size[labels]
    tied = labels[sizes == sizes.max()]
    if len(tied) == 1:
        return int(tied[0])
    lo, hi = int(coupling.layer_start[x]), int(coupling.layer_start[x + 1])
    nodes = np.flatnonzero(forest.member[lo:hi])
    holder = forest.comp[lo:hi][nodes]
    return int(holder[np.isin(holder, tied)][0])


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

    >>> from kg.analysis.graph import build_snapshot
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
