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
>>> from kg.analysis.graph import build_snapshot
>>> assets = [(i, "Substation", None, None, None, None, None, p, None)
...           for i, p in (("P", 0), ("S", 0), ("F", 0), ("H", 900))]
>>> deps = [("S", "P", "power", "power", 0.0), ("F", "S", "power", "power", 0.0),
...         ("H", "F", "power", "power", 6.0)]
>>> snap = build_snapshot(1, lambda t: {"assets": assets, "dependencies": deps}.get(t, []))
>>> [(c.id, c.failed, c.population) for c in criticality(snap)]
[('P', 4, 900), ('S', 3, 900), ('F', 2, 900), ('H', 1, 900)]
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt

from kg.analysis.cascade import network
from kg.analysis.graph import GraphSnapshot
from kg.errors import Problem, ValidationError

__all__ = ["Criticality", "cascade_sets", "criticality"]


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
    has = np.diff(snap.rdep_ptr) > 0
    x = np.flatnonzero(has)
    first = snap.rdep_dependent[snap.rdep_ptr[x]].astype(np.int64)
    last = snap.rdep_dependent[snap.rdep_ptr[x + 1] - 1].astype(np.int64)
    one = first == last  # reverse edges are sorted by dependent, so one distinct dependent iff first == last
    x, d = x[one], first[one]
    dominated = np.isin(x * n + d, provider * n + owner)
    out[x[dominated]] = d[dominated]
    return out


def cascade_sets(snap: GraphSnapshot, *, shortcuts: bool = True) -> list[frozenset[int]]:
    """For every asset, the set of assets its lone failure eventually takes down (itself included).

    ``shortcuts=False`` runs the propagation for every asset (the brute force the shortcuts are tested
    against).
    """
    net = network(snap)
    sets: list[frozenset[int] | None] = [None] * snap.n
    if shortcuts:
        has_dependents = (np.diff(snap.rdep_ptr) > 0).tolist()
        sole = _sole_dependents(snap, net.forced).tolist()
    for x in range(snap.n):
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
            known = sets[bottom] = frozenset(net.spread({bottom: 0.0}, static=True).failed)
        for a in reversed(chain[:-1]):
            known = sets[a] = known | {a}
    return [s if s is not None else frozenset() for s in sets]


def criticality(snap: GraphSnapshot, *, by: str | None = None, top: int | None = None) -> list[Criticality]:
    """Every asset ranked by the cascade of its lone failure (at t=0, no horizon).

    Parameters
    ----------
    snap : GraphSnapshot
    by : {None, "district"}
        ``"district"`` ranks each asset within its own district (no district: last).
    top : int, optional
        Keep the first ``top`` of the ranking (of each district with ``by``).

    Returns
    -------
    list of Criticality
        Ranked by failures, then population, districts, agencies (all descending), then id.

    Raises
    ------
    ValidationError
        For another value of ``by``.
    """
    if by not in (None, "district"):
        raise ValidationError([Problem("by", f"expected 'district' or nothing, got {by!r}")])
    li = snap.level_index("district")
    district_row = snap.region[li].astype(np.int64)
    sets = cascade_sets(snap)
    sizes = np.fromiter((len(x) for x in sets), dtype=np.int64, count=snap.n)
    members = np.fromiter((a for x in sets for a in x), dtype=np.int64, count=int(sizes.sum()))
    owner = np.repeat(np.arange(snap.n, dtype=np.int64), sizes)
    population = np.bincount(owner, weights=snap.population[members].astype(np.float64), minlength=snap.n)

    def distinct(values: npt.NDArray[np.int64]) -> npt.NDArray[np.int64]:
        known = values >= 0
        width = int(values.max(initial=0)) + 1
        pairs = np.unique(owner[known] * width + values[known])
        counts: npt.NDArray[np.int64] = np.bincount(pairs // width, minlength=snap.n)
        return counts

    districts = distinct(district_row[members])
    agencies = distinct(snap.agency[members].astype(np.int64))
    rows = [
        (-int(sizes[x]), -round(population[x]), -int(districts[x]), -int(agencies[x]), snap.asset_ids[x], x,
         snap.region_ids[district_row[x]] if district_row[x] >= 0 else None)
        for x in range(snap.n)
    ]
    rows.sort()
    out: list[Criticality] = []
    seen: dict[str | None, int] = {}
    for failed, population, n_districts, n_agencies, asset_id, x, district in rows:
        group = district if by == "district" else None
        rank = seen[group] = seen.get(group, 0) + 1
        if top is None or rank <= top:
            out.append(Criticality(rank, asset_id, snap.type_of(x), district, -failed, -population,
                                   -n_districts, -n_agencies))
    if by == "district":
        out.sort(key=lambda c: (c.district is None, c.district or "", c.rank))
    return out
