"""``GraphSnapshot``: the immutable, integer-indexed view of the graph that analysis runs on.

A snapshot is built once per store version from the store's rows and shared
by every query until the store changes. Assets are numbered ``0..n-1``;
everything about them lives in numpy arrays indexed by that number, and
DEPENDS_ON is held as CSR in both directions, so a query over a million
assets touches arrays, not a million Python objects.

Dependency groups
-----------------
The edges of one asset that share (kind, group) form a *group*: its
providers are alternatives, and the asset needs every one of its groups.
Edges are stored sorted by (dependent, kind, group) so that the edges of a
group are contiguous: group ``g`` owns edges ``group_edge_ptr[g]:group_edge_ptr[g+1]``
and node ``a`` owns groups ``group_ptr[a]:group_ptr[a+1]``.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt

from kg.errors import ElementNotFound
from kg.i18n import _l
from kg.ontology import load_ontology
from kg.schema import TABLES

__all__ = ["AssetColumns", "DependencyColumns", "ExposureColumns", "GraphSnapshot", "Interned", "build_snapshot",
           "dependency_arrays", "resolve_regions", "snapshot_from_columns"]

IntArray = npt.NDArray[np.int64]
Int32Array = npt.NDArray[np.int32]
FloatArray = npt.NDArray[np.float64]
Rows = Callable[[str], Iterable[tuple[Any, ...]]]


@dataclass(frozen=True, eq=False)
class GraphSnapshot:
    """Compact arrays describing assets, their places, agencies and dependencies."""

    version: int
    # --- assets
    asset_ids: tuple[str, ...]
    index: Mapping[str, int]
    """Asset id -> position: a dict, or after small changes a :class:`kg.id_index.ShiftedIndex` (the same answers)."""
    names: tuple[str | None, ...]
    types: tuple[str, ...]
    type_code: Int32Array
    population: IntArray
    repair_hours: FloatArray
    """Hours to repair each asset as the data gives them (``repair_hours``), NaN where not given."""
    lat: FloatArray
    lon: FloatArray
    agency: Int32Array
    region: Int32Array
    """``region[level_index, asset]``: the asset's region at each level, -1 where unknown."""
    # --- regions and agencies
    levels: tuple[str, ...]
    region_ids: tuple[str, ...]
    region_names: tuple[str | None, ...]
    region_level: Int32Array
    agency_ids: tuple[str, ...]
    agency_names: tuple[str | None, ...]
    agency_crews: IntArray
    """Repair crews of each agency as the data gives them (``crews``), -1 where not given."""
    # --- DEPENDS_ON, forward (dependent -> provider), sorted by (dependent, kind, group)
    kinds: tuple[str, ...]
    group_labels: tuple[str, ...]
    dep_ptr: IntArray
    dep_provider: Int32Array
    dep_kind: Int32Array
    dep_buffer: FloatArray
    dep_group: Int32Array
    # --- groups
    group_ptr: IntArray
    group_edge_ptr: IntArray
    group_owner: Int32Array
    group_kind: Int32Array
    group_label: Int32Array
    group_buffer: FloatArray
    # --- DEPENDS_ON, reverse (provider -> dependents)
    rdep_ptr: IntArray
    rdep_dependent: Int32Array
    rdep_edge: IntArray
    # --- hazards
    zone_ids: tuple[str, ...]
    zone_hazard: tuple[str, ...]
    zone_names: tuple[str | None, ...]
    exp_asset: Int32Array
    exp_zone: Int32Array
    exp_intensity: FloatArray
    fragilities: tuple[tuple[str, str | None, str | None, float, float | None], ...]
    """(hazard, asset type or None, asset id or None, threshold, beta or None)."""

    # ------------------------------------------------------------------ basics
    @property
    def n(self) -> int:
        """Number of assets."""
        return len(self.asset_ids)

    @property
    def m(self) -> int:
        """Number of DEPENDS_ON edges."""
        return len(self.dep_provider)

    def node(self, asset_id: str) -> int:
        """Index of an asset; raises :class:`ElementNotFound` for an unknown id."""
        try:
            return self.index[asset_id]
        except KeyError:
            raise ElementNotFound(asset_id, _l("expected the id of an asset")) from None

    def type_of(self, i: int) -> str:
        return self.types[int(self.type_code[i])]

    def regions_of(self, i: int) -> dict[str, str]:
        """``{level: region id}`` for every level at which the asset's region is known."""
        out = {}
        for li, level in enumerate(self.levels):
            r = int(self.region[li, i])
            if r >= 0:
                out[level] = self.region_ids[r]
        return out

    def agency_of(self, i: int) -> str | None:
        a = int(self.agency[i])
        return self.agency_ids[a] if a >= 0 else None

    def level_index(self, level: str) -> int:
        return self.levels.index(level)

    def providers(self, i: int) -> Int32Array:
        """Provider indexes of asset ``i`` (one per edge)."""
        return self.dep_provider[self.dep_ptr[i] : self.dep_ptr[i + 1]]

    def dependents_of(self, i: int) -> Int32Array:
        """Direct dependent indexes of asset ``i`` (one per edge)."""
        return self.rdep_dependent[self.rdep_ptr[i] : self.rdep_ptr[i + 1]]


def resolve_regions(rows: Iterable[tuple[Any, ...]], levels: tuple[str, ...]) -> tuple[
    dict[str, int], list[str], list[str | None], Int32Array, Int32Array
]:
    """Index regions and compute each region's ancestor at every level (itself at its own)."""
    ids: list[str] = []
    names: list[str | None] = []
    level_of: list[int] = []
    parent_id: list[str | None] = []
    region = TABLES["regions"].getter("id", "level", "name", "parent")
    for row in rows:
        rid, level, name, parent = region(row)
        ids.append(rid)
        level_of.append(levels.index(level))
        names.append(name)
        parent_id.append(parent)
    index = {rid: i for i, rid in enumerate(ids)}
    k = len(ids)
    up = np.full((len(levels), k), -1, dtype=np.int32)
    for i in range(k):
        j: int | None = i
        hops = 0
        while j is not None and hops <= len(levels):
            up[level_of[j], i] = j
            parent = parent_id[j]
            j = index.get(parent) if parent is not None else None
            hops += 1
    return index, ids, names, np.asarray(level_of, dtype=np.int32), up


def _lexorder(*keys: npt.NDArray[Any]) -> IntArray:
    """The stable order of rows by integer ``keys`` (most significant first), like ``np.lexsort(keys[::-1])``.

    Non-negative keys whose ranges multiply to less than 2**62 are folded into one int64 and sorted once
    (a stable radix sort), several times faster than a lexsort over a few million edges.
    """
    span = 1
    for key in keys:
        if len(key) and int(key.min()) < 0:
            return np.lexsort(keys[::-1]).astype(np.int64)
        span *= int(key.max()) + 1 if len(key) else 1
    if span >= 1 << 62:
        return np.lexsort(keys[::-1]).astype(np.int64)
    folded = np.zeros(len(keys[0]), dtype=np.int64)
    for key in keys:
        folded *= int(key.max()) + 1 if len(key) else 1
        folded += key
    return np.argsort(folded, kind="stable").astype(np.int64)


def _edge_order(n: int, dependent: Int32Array, kind: Int32Array, label: Int32Array, provider: Int32Array) -> IntArray:
    """Edge positions sorted by (dependent, kind, label, provider, position): a counting sort by dependent."""
    from kg.ordering import order_by_owner  # compiled (Numba): loaded by the first build, not by every command
    if not len(dependent):
        return np.zeros(0, dtype=np.int64)
    k, g = int(kind.max()) + 1, int(label.max()) + 1
    if min(int(kind.min()), int(label.min())) < 0 or k * g * max(n, 1) >= 1 << 62:
        return _lexorder(dependent, kind, label, provider)
    return order_by_owner(dependent, n, (kind.astype(np.int64) * g + label) * n + provider)


def dependency_arrays(n: int, dependent: Int32Array, provider: Int32Array, kind: Int32Array, label: Int32Array,
                      buffer: FloatArray, *, presorted: bool = False,
                      rorder: IntArray | None = None) -> dict[str, npt.NDArray[Any]]:
    """The DEPENDS_ON fields of a :class:`GraphSnapshot` (``dep_*``, ``group_*``, ``rdep_*``) from edge columns.

    One edge per position: ``dependent`` and ``provider`` are asset indexes (``0..n-1``), ``kind`` and
    ``label`` indexes into the snapshot's ``kinds`` and ``group_labels``, ``buffer`` hours. Edges may come
    in any order; they are sorted by (dependent, kind, group, provider). :func:`build_snapshot` and the
    what-if edits (:mod:`kg.analysis.whatif`) both build their dependency arrays here.

    ``presorted`` says the edges come sorted already; ``rorder``, the edge positions sorted by (provider,
    dependent, position), saves the reverse sort.
    """
    if presorted:
        dep, prov, buf = dependent, provider, buffer
    else:
        order = _edge_order(n, dependent, kind, label, provider)
        dep, prov, kind, label, buf = dependent[order], provider[order], kind[order], label[order], buffer[order]
    m = len(dep)
    dep_ptr = np.zeros(n + 1, dtype=np.int64)
    np.cumsum(np.bincount(dep, minlength=n), out=dep_ptr[1:])

    new_group = np.ones(m, dtype=bool)
    if m:
        new_group[1:] = (dep[1:] != dep[:-1]) | (kind[1:] != kind[:-1]) | (label[1:] != label[:-1])
    starts = np.flatnonzero(new_group)
    dep_group = (np.cumsum(new_group) - 1).astype(np.int32, copy=False)
    group_edge_ptr = np.append(starts, m).astype(np.int64, copy=False)
    group_owner = dep[starts].astype(np.int32, copy=False)
    group_buffer = np.maximum.reduceat(buf, starts) if m else np.zeros(0)
    group_ptr = np.zeros(n + 1, dtype=np.int64)
    np.cumsum(np.bincount(group_owner, minlength=n), out=group_ptr[1:])

    if rorder is None:  # by provider, then position: the edges are sorted by dependent already
        from kg.ordering import order_by_owner  # see _edge_order

        rorder = order_by_owner(prov, n)
    rdep_ptr = np.zeros(n + 1, dtype=np.int64)
    np.cumsum(np.bincount(prov, minlength=n), out=rdep_ptr[1:])
    return {
        "dep_ptr": dep_ptr,
        "dep_provider": prov.astype(np.int32, copy=False),
        "dep_kind": kind.astype(np.int32, copy=False),
        "dep_buffer": buf.astype(np.float64, copy=False),
        "dep_group": dep_group,
        "group_ptr": group_ptr,
        "group_edge_ptr": group_edge_ptr,
        "group_owner": group_owner,
        "group_kind": kind[starts].astype(np.int32, copy=False),
        "group_label": label[starts].astype(np.int32, copy=False),
        "group_buffer": np.asarray(group_buffer, dtype=np.float64),
        "rdep_ptr": rdep_ptr,
        "rdep_dependent": dep[rorder].astype(np.int32, copy=False),
        "rdep_edge": rorder.astype(np.int64, copy=False),
    }


@dataclass(frozen=True)
class Interned:
    """A column of strings as ``codes`` into its distinct ``values`` (None a value like any other)."""

    codes: Int32Array
    values: Sequence[str | None]

    @classmethod
    def of(cls, column: Sequence[str | None]) -> Interned:
        """Intern Python values, numbered in order of first appearance."""
        table = {value: code for code, value in enumerate(dict.fromkeys(column))}
        return cls(np.fromiter(map(table.__getitem__, column), dtype=np.int32, count=len(column)), list(table))

    def in_order_of_appearance(self) -> Interned:
        """The same column with codes renumbered in order of first appearance (the snapshot's numbering)."""
        if not len(self.codes):
            return Interned(self.codes, [])
        used, first = np.unique(self.codes, return_index=True)
        by_first = used[np.argsort(first)]
        renumber = np.full(len(self.values), -1, dtype=np.int32)
        renumber[by_first] = np.arange(len(by_first), dtype=np.int32)
        return Interned(renumber[self.codes], [self.values[int(c)] for c in by_first])

    def mapped(self, index: dict[str, int]) -> Int32Array:
        """Each row's value as a position in ``index`` (-1 for None or a value not in it)."""
        table = np.fromiter((-1 if v is None else index.get(v, -1) for v in self.values), dtype=np.int32,
                            count=len(self.values))
        return table[self.codes] if len(self.values) else np.full(len(self.codes), -1, dtype=np.int32)


@dataclass(frozen=True)
class AssetColumns:
    """The assets, one position per asset in snapshot order (``ids`` sorted by the store, as its key order)."""

    ids: Sequence[str]
    types: Interned
    names: Sequence[str | None]
    regions: Interned
    agencies: Interned
    lat: FloatArray
    lon: FloatArray
    population: IntArray
    repair_hours: FloatArray
    """NaN where missing (``lat``, ``lon`` too); population 0 where missing."""
    index: dict[str, int] | None = None
    """``{id: position}``, when the reader made it already (while it waited for other reads)."""

    def id_index(self) -> dict[str, int]:
        """``{id: position}`` of the assets."""
        return self.index if self.index is not None else dict(zip(self.ids, range(len(self.ids)), strict=True))


@dataclass(frozen=True)
class DependencyColumns:
    """DEPENDS_ON edges in any order; ``dependent``/``provider`` are asset positions, -1 for an unknown asset."""

    dependent: npt.NDArray[np.integer[Any]]
    provider: npt.NDArray[np.integer[Any]]
    kinds: Interned
    groups: Interned
    buffer_hours: FloatArray


@dataclass(frozen=True)
class ExposureColumns:
    """Exposures in any order; ``asset`` is an asset position (-1 unknown), ``zones`` the zone ids."""

    asset: npt.NDArray[np.integer[Any]]
    zones: Interned
    intensity: FloatArray


def _first_keys(codes: Int32Array, count: int, key: IntArray) -> IntArray:
    """The smallest ``key`` of each code's rows (codes no row has get the largest int64)."""
    first = np.full(count, np.iinfo(np.int64).max, dtype=np.int64)
    np.minimum.at(first, codes, key)
    return first


def _number_kinds_and_groups(n: int, dep: npt.NDArray[np.integer[Any]], prov: npt.NDArray[np.integer[Any]],
                             kinds: Interned, groups: Interned) -> tuple[Int32Array, list[str], Int32Array, list[str]]:
    """Kinds and group labels numbered by first appearance in (dependent, provider, kind, group) order.

    That is the order the stores list edges in (their key), so the numbering, and with it the snapshot,
    does not depend on the order a store happened to read the edges in.
    """
    kind_rank = np.argsort(np.argsort(np.asarray([str(v) for v in kinds.values], dtype=object), kind="stable"))
    group_rank = np.argsort(np.argsort(np.asarray([str(v) for v in groups.values], dtype=object), kind="stable"))
    k, g = max(len(kinds.values), 1), max(len(groups.values), 1)
    if n * n * k * g >= 1 << 62:  # beyond int64 keys: sort the edges instead
        order = np.lexsort((group_rank[groups.codes], kind_rank[kinds.codes], prov, dep))
        kinds = Interned(kinds.codes[order], kinds.values).in_order_of_appearance()
        groups = Interned(groups.codes[order], groups.values).in_order_of_appearance()
        inverse = np.empty_like(order)
        inverse[order] = np.arange(len(order))
        return (kinds.codes[inverse], [str(v) for v in kinds.values], groups.codes[inverse],
                [str(v) for v in groups.values])
    pair = dep.astype(np.int64) * n + prov
    kind_first = _first_keys(kinds.codes, len(kinds.values), pair) * k + kind_rank
    with_kind = pair * k + kind_rank[kinds.codes]
    group_first = _first_keys(groups.codes, len(groups.values), with_kind) * g + group_rank
    out = []
    for column, first in ((kinds, kind_first), (groups, group_first)):
        used = np.unique(column.codes)
        by_first = used[np.argsort(first[used], kind="stable")]
        renumber = np.full(len(column.values), -1, dtype=np.int32)
        renumber[by_first] = np.arange(len(by_first), dtype=np.int32)
        out.append((renumber[column.codes], [str(column.values[int(c)]) for c in by_first]))
    (kind_codes, kind_names), (group_codes, group_names) = out
    return kind_codes, kind_names, group_codes, group_names


def snapshot_from_columns(
    version: int,
    *,
    regions: Iterable[tuple[Any, ...]],
    agencies: Iterable[tuple[Any, ...]],
    assets: AssetColumns,
    dependencies: DependencyColumns,
    hazard_zones: Iterable[tuple[Any, ...]],
    exposures: ExposureColumns,
    fragilities: Iterable[tuple[Any, ...]],
) -> GraphSnapshot:
    """Build a snapshot from the big tables as columns and the small ones as rows.

    The small tables (``regions``, ``agencies``, ``hazard_zones``, ``fragilities``) are rows in their
    :attr:`kg.schema.Table.columns` order, sorted by key. A store that can read its big tables as columns
    (:mod:`kg.store.sqlite_snapshot`) builds the same snapshot as :func:`build_snapshot` over its rows,
    several times faster.
    """
    levels = load_ontology().levels
    region_index, region_ids, region_names, region_level, region_up = resolve_regions(regions, levels)

    agency_ids: list[str] = []
    agency_names: list[str | None] = []
    agency_crews: list[int] = []
    agency = TABLES["agencies"].getter("id", "name", "crews")
    for row in agencies:
        aid, name, crews = agency(row)
        agency_ids.append(aid)
        agency_names.append(name)
        agency_crews.append(-1 if crews is None else crews)
    agency_index = {a: i for i, a in enumerate(agency_ids)}

    asset_ids = tuple(assets.ids)
    n = len(asset_ids)
    index = assets.id_index()
    types = assets.types.in_order_of_appearance()
    lowest = assets.regions.mapped(region_index)
    region = np.full((len(levels), n), -1, dtype=np.int32)
    if n and len(region_ids):
        has = lowest >= 0
        region[:, has] = region_up[:, lowest[has]]

    deps = dependencies
    keep = (deps.dependent >= 0) & (deps.provider >= 0)
    dep, prov = deps.dependent[keep], deps.provider[keep]
    kind_codes, kinds, label_codes, labels = _number_kinds_and_groups(
        n, dep, prov, Interned(deps.kinds.codes[keep], deps.kinds.values),
        Interned(deps.groups.codes[keep], deps.groups.values))
    dep_fields = dependency_arrays(n, dep.astype(np.int32, copy=False), prov.astype(np.int32, copy=False),
                                   kind_codes, label_codes,
                                   np.asarray(deps.buffer_hours[keep], dtype=np.float64))

    zone_ids: list[str] = []
    zone_hazard: list[str] = []
    zone_names: list[str | None] = []
    zone = TABLES["hazard_zones"].getter("id", "hazard", "name")
    for row in hazard_zones:
        zid, hazard, name = zone(row)
        zone_ids.append(zid)
        zone_hazard.append(hazard)
        zone_names.append(name)
    zone_index = {z: i for i, z in enumerate(zone_ids)}
    exp_zone_all = exposures.zones.mapped(zone_index)
    known = (exposures.asset >= 0) & (exp_zone_all >= 0)
    exp_asset, exp_zone = exposures.asset[known], exp_zone_all[known]
    # The stores list exposures by (asset, zone): asset and zone positions follow their ids' order.
    exp_order = _lexorder(exp_asset, exp_zone)
    fragility = TABLES["fragilities"].getter("hazard", "type", "asset", "threshold", "beta")

    return GraphSnapshot(
        version=version,
        asset_ids=asset_ids,
        index=index,
        names=tuple(assets.names),
        types=tuple(str(t) for t in types.values),
        type_code=types.codes.astype(np.int32),
        population=np.asarray(assets.population, dtype=np.int64),
        repair_hours=np.asarray(assets.repair_hours, dtype=np.float64),
        lat=np.asarray(assets.lat, dtype=np.float64),
        lon=np.asarray(assets.lon, dtype=np.float64),
        agency=assets.agencies.mapped(agency_index),
        region=region,
        levels=levels,
        region_ids=tuple(region_ids),
        region_names=tuple(region_names),
        region_level=region_level,
        agency_ids=tuple(agency_ids),
        agency_names=tuple(agency_names),
        agency_crews=np.asarray(agency_crews, dtype=np.int64),
        kinds=tuple(kinds),
        group_labels=tuple(labels),
        **dep_fields,
        zone_ids=tuple(zone_ids),
        zone_hazard=tuple(zone_hazard),
        zone_names=tuple(zone_names),
        exp_asset=exp_asset[exp_order].astype(np.int32),
        exp_zone=exp_zone[exp_order].astype(np.int32),
        exp_intensity=np.asarray(exposures.intensity[known], dtype=np.float64)[exp_order],
        fragilities=tuple(map(fragility, fragilities)),
    )


def build_snapshot(version: int, rows: Rows) -> GraphSnapshot:
    """Build a snapshot from a store's rows.

    ``rows(table)`` yields the rows of ``regions``, ``agencies``, ``assets``,
    ``hazard_zones``, ``dependencies``, ``exposures`` and ``fragilities``,
    each a tuple in its :attr:`kg.schema.Table.columns` order (read here by name),
    assets sorted by id.
    """
    asset = TABLES["assets"].getter("id", "type", "name", "region", "agency", "lat", "lon", "population",
                                    "repair_hours")
    ids: list[str] = []
    type_names: list[str] = []
    names: list[str | None] = []
    region_col: list[str | None] = []
    agency_col: list[str | None] = []
    lat: list[float] = []
    lon: list[float] = []
    population: list[int] = []
    repair_hours: list[float] = []
    for row in rows("assets"):
        aid, atype, name, in_region, by_agency, y, x, people, hours = asset(row)
        ids.append(aid)
        type_names.append(atype)
        names.append(name)
        region_col.append(in_region)
        agency_col.append(by_agency)
        lat.append(math.nan if y is None else y)
        lon.append(math.nan if x is None else x)
        population.append(people or 0)
        repair_hours.append(math.nan if hours is None else hours)
    index = {a: i for i, a in enumerate(ids)}

    dependent: list[int] = []
    provider: list[int] = []
    kind_names: list[str] = []
    group_names: list[str] = []
    buffers: list[float] = []
    dependency = TABLES["dependencies"].getter("dependent", "provider", "kind", "group", "buffer_hours")
    for row in rows("dependencies"):
        needs, gives, kind_name, group_name, buffer_hours = dependency(row)
        dependent.append(index.get(needs, -1))
        provider.append(index.get(gives, -1))
        kind_names.append(kind_name)
        group_names.append(group_name)
        buffers.append(buffer_hours)

    exp_asset: list[int] = []
    exp_zone: list[str] = []
    exp_intensity: list[float] = []
    exposure = TABLES["exposures"].getter("asset", "zone", "intensity")
    for row in rows("exposures"):
        exposed, in_zone, intensity = exposure(row)
        exp_asset.append(index.get(exposed, -1))
        exp_zone.append(in_zone)
        exp_intensity.append(intensity)

    return snapshot_from_columns(
        version,
        regions=rows("regions"),
        agencies=rows("agencies"),
        assets=AssetColumns(
            ids=ids, types=Interned.of(type_names), names=names, regions=Interned.of(region_col),
            agencies=Interned.of(agency_col), lat=np.asarray(lat, dtype=np.float64),
            lon=np.asarray(lon, dtype=np.float64), population=np.asarray(population, dtype=np.int64),
            repair_hours=np.asarray(repair_hours, dtype=np.float64)),
        dependencies=DependencyColumns(
            dependent=np.asarray(dependent, dtype=np.int64), provider=np.asarray(provider, dtype=np.int64),
            kinds=Interned.of(kind_names), groups=Interned.of(group_names),
            buffer_hours=np.asarray(buffers, dtype=np.float64)),
        hazard_zones=rows("hazard_zones"),
        exposures=ExposureColumns(
            asset=np.asarray(exp_asset, dtype=np.int64), zones=Interned.of(exp_zone),
            intensity=np.asarray(exp_intensity, dtype=np.float64)),
        fragilities=rows("fragilities"),
    )
