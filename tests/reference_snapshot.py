"""The snapshot builder as it was before the columnar one (kept as the reference the new one must equal).

:func:`reference_snapshot` is the old ``kg.snapshot.build_snapshot``: a Python loop over every row
of every table, dictionaries for interning, ``np.lexsort`` for the edge order. Slow and plain; the
tests compare the store's snapshot with it field by field, and ``bench/snapshot.py`` times it as the peer.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable
from typing import Any

import numpy as np
import numpy.typing as npt

from kg.ontology import load_ontology
from kg.schema import TABLES
from kg.snapshot import GraphSnapshot

__all__ = ["reference_snapshot"]

IntArray = npt.NDArray[np.int64]
Int32Array = npt.NDArray[np.int32]
FloatArray = npt.NDArray[np.float64]
Rows = Callable[[str], Iterable[tuple[Any, ...]]]


def _intern(values: Iterable[str]) -> tuple[dict[str, int], list[str]]:
    """Number distinct values in order of first appearance."""
    table: dict[str, int] = {}
    for value in values:
        table.setdefault(value, len(table))
    return table, list(table)


def _resolve_regions(rows: Iterable[tuple[Any, ...]], levels: tuple[str, ...]) -> tuple[
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


def _dependency_arrays(n: int, dependent: Int32Array, provider: Int32Array, kind: Int32Array, label: Int32Array,
                      buffer: FloatArray) -> dict[str, npt.NDArray[Any]]:
    """The DEPENDS_ON fields of a :class:`GraphSnapshot` (``dep_*``, ``group_*``, ``rdep_*``) from edge columns.

    One edge per position: ``dependent`` and ``provider`` are asset indexes (``0..n-1``), ``kind`` and
    ``label`` indexes into the snapshot's ``kinds`` and ``group_labels``, ``buffer`` hours. Edges may come
    in any order; they are sorted by (dependent, kind, group, provider). :func:`build_snapshot` and the
    what-if edits (:mod:`kg.analysis.whatif`) both build their dependency arrays here.
    """
    order = np.lexsort((provider, label, kind, dependent))
    dep, prov, kind, label, buf = dependent[order], provider[order], kind[order], label[order], buffer[order]
    m = len(dep)
    dep_ptr = np.zeros(n + 1, dtype=np.int64)
    np.cumsum(np.bincount(dep, minlength=n), out=dep_ptr[1:])

    new_group = np.ones(m, dtype=bool)
    if m:
        new_group[1:] = (dep[1:] != dep[:-1]) | (kind[1:] != kind[:-1]) | (label[1:] != label[:-1])
    starts = np.flatnonzero(new_group)
    dep_group = (np.cumsum(new_group) - 1).astype(np.int32)
    group_edge_ptr = np.append(starts, m).astype(np.int64)
    group_owner = dep[starts].astype(np.int32)
    group_buffer = np.maximum.reduceat(buf, starts) if m else np.zeros(0)
    group_ptr = np.zeros(n + 1, dtype=np.int64)
    np.cumsum(np.bincount(group_owner, minlength=n), out=group_ptr[1:])

    rorder = np.lexsort((dep, prov))
    rdep_ptr = np.zeros(n + 1, dtype=np.int64)
    np.cumsum(np.bincount(prov, minlength=n), out=rdep_ptr[1:])
    return {
        "dep_ptr": dep_ptr,
        "dep_provider": prov.astype(np.int32),
        "dep_kind": kind.astype(np.int32),
        "dep_buffer": buf.astype(np.float64),
        "dep_group": dep_group,
        "group_ptr": group_ptr,
        "group_edge_ptr": group_edge_ptr,
        "group_owner": group_owner,
        "group_kind": kind[starts].astype(np.int32),
        "group_label": label[starts].astype(np.int32),
        "group_buffer": np.asarray(group_buffer, dtype=np.float64),
        "rdep_ptr": rdep_ptr,
        "rdep_dependent": dep[rorder].astype(np.int32),
        "rdep_edge": rorder.astype(np.int64),
    }


def reference_snapshot(version: int, rows: Rows) -> GraphSnapshot:
    """Build a snapshot from a store's rows.

    ``rows(table)`` yields the rows of ``regions``, ``agencies``, ``assets``,
    ``hazard_zones``, ``dependencies``, ``exposures`` and ``fragilities``,
    each a tuple in its :attr:`kg.schema.Table.columns` order (read here by name).
    """
    levels = load_ontology().levels
    region_index, region_ids, region_names, region_level, region_up = _resolve_regions(rows("regions"), levels)

    agency_ids: list[str] = []
    agency_names: list[str | None] = []
    agency_crews: list[int] = []
    agency = TABLES["agencies"].getter("id", "name", "crews")
    for row in rows("agencies"):
        aid, name, crews = agency(row)
        agency_ids.append(aid)
        agency_names.append(name)
        agency_crews.append(-1 if crews is None else crews)
    agency_index = {a: i for i, a in enumerate(agency_ids)}

    asset_ids: list[str] = []
    names: list[str | None] = []
    type_names: list[str] = []
    region_col: list[int] = []
    agency_col: list[int] = []
    lat: list[float] = []
    lon: list[float] = []
    population: list[int] = []
    repair_hours: list[float] = []
    asset = TABLES["assets"].getter("id", "type", "name", "region", "agency", "lat", "lon", "population",
                                    "repair_hours")
    for row in rows("assets"):
        aid, atype, name, in_region, by_agency, y, x, people, hours = asset(row)
        asset_ids.append(aid)
        type_names.append(atype)
        names.append(name)
        region_col.append(region_index.get(in_region, -1) if in_region is not None else -1)
        agency_col.append(agency_index.get(by_agency, -1) if by_agency is not None else -1)
        lat.append(math.nan if y is None else y)
        lon.append(math.nan if x is None else x)
        population.append(people or 0)
        repair_hours.append(math.nan if hours is None else hours)
    n = len(asset_ids)
    index = {a: i for i, a in enumerate(asset_ids)}
    type_table, types = _intern(type_names)
    type_code = np.fromiter((type_table[t] for t in type_names), dtype=np.int32, count=n)
    lowest = np.asarray(region_col, dtype=np.int32)
    region = np.full((len(levels), n), -1, dtype=np.int32)
    if n and len(region_ids):
        has = lowest >= 0
        region[:, has] = region_up[:, lowest[has]]

    dependent: list[int] = []
    provider: list[int] = []
    kind_names: list[str] = []
    group_names: list[str] = []
    buffers: list[float] = []
    dependency = TABLES["dependencies"].getter("dependent", "provider", "kind", "group", "buffer_hours")
    for row in rows("dependencies"):
        needs, gives, kind_name, group_name, buffer_hours = dependency(row)
        d = index.get(needs)
        p = index.get(gives)
        if d is None or p is None:
            continue
        dependent.append(d)
        provider.append(p)
        kind_names.append(kind_name)
        group_names.append(group_name)
        buffers.append(buffer_hours)
    kind_table, kinds = _intern(kind_names)
    label_table, labels = _intern(group_names)
    deps = _dependency_arrays(
        n,
        np.asarray(dependent, dtype=np.int32),
        np.asarray(provider, dtype=np.int32),
        np.fromiter((kind_table[k] for k in kind_names), dtype=np.int32, count=len(kind_names)),
        np.fromiter((label_table[g] for g in group_names), dtype=np.int32, count=len(group_names)),
        np.asarray(buffers, dtype=np.float64),
    )

    zone_ids: list[str] = []
    zone_hazard: list[str] = []
    zone_names: list[str | None] = []
    zone = TABLES["hazard_zones"].getter("id", "hazard", "name")
    for row in rows("hazard_zones"):
        zid, hazard, name = zone(row)
        zone_ids.append(zid)
        zone_hazard.append(hazard)
        zone_names.append(name)
    zone_index = {z: i for i, z in enumerate(zone_ids)}
    exp_asset: list[int] = []
    exp_zone: list[int] = []
    exp_intensity: list[float] = []
    exposure = TABLES["exposures"].getter("asset", "zone", "intensity")
    for row in rows("exposures"):
        exposed, in_zone, intensity = exposure(row)
        a, z = index.get(exposed), zone_index.get(in_zone)
        if a is not None and z is not None:
            exp_asset.append(a)
            exp_zone.append(z)
            exp_intensity.append(intensity)
    fragility = TABLES["fragilities"].getter("hazard", "type", "asset", "threshold", "beta")
    fragilities = tuple(map(fragility, rows("fragilities")))

    return GraphSnapshot(
        version=version,
        asset_ids=tuple(asset_ids),
        index=index,
        names=tuple(names),
        types=tuple(types),
        type_code=type_code,
        population=np.asarray(population, dtype=np.int64),
        repair_hours=np.asarray(repair_hours, dtype=np.float64),
        lat=np.asarray(lat, dtype=np.float64),
        lon=np.asarray(lon, dtype=np.float64),
        agency=np.asarray(agency_col, dtype=np.int32),
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
        **deps,
        zone_ids=tuple(zone_ids),
        zone_hazard=tuple(zone_hazard),
        zone_names=tuple(zone_names),
        exp_asset=np.asarray(exp_asset, dtype=np.int32),
        exp_zone=np.asarray(exp_zone, dtype=np.int32),
        exp_intensity=np.asarray(exp_intensity, dtype=np.float64),
        fragilities=fragilities,
    )
