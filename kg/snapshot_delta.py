"""Small changes to a :class:`~kg.snapshot.GraphSnapshot`: the next version from the rows a load touched.

A load upserts rows; it never deletes. So the snapshot of the next version
follows from the one before and the *current* rows of the keys the load
touched: the nodes it wrote (by id), the dependency rows of the assets it
gave dependencies (all of them, by dependent) and the exposure rows of the
assets it gave exposures (by asset). :func:`apply_change` builds that next
snapshot, equal field by field to one built from scratch
(:func:`kg.snapshot.build_snapshot`), sharing every array the change leaves
as it was. Python work is proportional to the rows touched; arrays that do
change are rewritten by numpy passes (memory speed: milliseconds at a
million assets), never re-sorted whole, except when new kinds or group
labels change the order in which the scratch build would number them.

A store keeps a change log (:class:`Change` per version, see
:meth:`kg.store.Store.changes_since`), so any process holding an older
snapshot catches up by reading only what changed (:func:`catch_up`). Where
the log cannot say (a clear, a load too large to log, a log pruned past the
snapshot's version), :func:`catch_up` returns None and the caller builds a
new snapshot from scratch.
"""

from __future__ import annotations

import bisect
import itertools
import json
import math
from collections.abc import Callable, Collection, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field, replace
from typing import Any, Protocol

import numpy as np
import numpy.typing as npt

from kg.schema import NODE_TABLES, TABLES
from kg.snapshot import GraphSnapshot, dependency_arrays, resolve_regions

__all__ = ["Change", "ChangeSource", "apply_change", "catch_up"]

IntArray = npt.NDArray[np.int64]
Row = tuple[Any, ...]

LOGGED_KEYS = 100_000
"""A load touching more keys than this is not logged key by key: readers rebuild their snapshot instead."""


@dataclass(frozen=True)
class Change:
    """The keys one or more loads touched: enough to read back every row that may differ.

    ``ids`` holds node ids per node table; ``dependents`` the assets whose
    DEPENDS_ON rows were written; ``exposed`` the assets whose exposure rows
    were written; ``fragilities`` whether fragility rows were.
    """

    ids: Mapping[str, frozenset[str]] = field(default_factory=dict)
    dependents: frozenset[str] = frozenset()
    exposed: frozenset[str] = frozenset()
    fragilities: bool = False

    @classmethod
    def of_rows(cls, rows: Mapping[str, Sequence[Row]]) -> Change:
        """What writing ``rows`` (per table, in :attr:`kg.schema.Table.columns` order) touches."""
        ids = {t: frozenset(r[TABLES[t].position("id")] for r in rows.get(t, ())) for t in NODE_TABLES}
        dependent = TABLES["dependencies"].position("dependent")
        asset = TABLES["exposures"].position("asset")
        return cls(ids={t: v for t, v in ids.items() if v},
                   dependents=frozenset(r[dependent] for r in rows.get("dependencies", ())),
                   exposed=frozenset(r[asset] for r in rows.get("exposures", ())),
                   fragilities=bool(rows.get("fragilities")))

    def merge(self, other: Change) -> Change:
        """The keys touched by this change or ``other`` (two loads in a row)."""
        ids = {t: self.ids.get(t, frozenset()) | other.ids.get(t, frozenset()) for t in {*self.ids, *other.ids}}
        return Change(ids, self.dependents | other.dependents, self.exposed | other.exposed,
                      self.fragilities or other.fragilities)

    @property
    def size(self) -> int:
        """Keys touched (what the log would hold)."""
        return sum(map(len, self.ids.values())) + len(self.dependents) + len(self.exposed)

    def to_json(self) -> str:
        """Compact JSON, what a store's change log keeps (keys sorted: the same change gives the same text)."""
        return json.dumps({"ids": {t: sorted(v) for t, v in sorted(self.ids.items())},
                           "dependents": sorted(self.dependents), "exposed": sorted(self.exposed),
                           "fragilities": self.fragilities}, ensure_ascii=False, separators=(",", ":"))

    @classmethod
    def from_json(cls, text: str) -> Change:
        data = json.loads(text)
        return cls({t: frozenset(v) for t, v in data["ids"].items()}, frozenset(data["dependents"]),
                   frozenset(data["exposed"]), bool(data["fragilities"]))


class ChangeSource(Protocol):
    """What :func:`apply_change` and :func:`catch_up` read from a store."""

    def rows(self, table: str) -> Iterator[Row]: ...

    def rows_of(self, table: str, keys: Collection[str]) -> list[Row]: ...

    def changes_since(self, version: int) -> tuple[int, Change | None]: ...


def catch_up(snap: GraphSnapshot, source: ChangeSource) -> GraphSnapshot | None:
    """The snapshot of the store's current version from ``snap`` and the store's change log.

    Returns ``snap`` itself when the store has not changed, and None when the
    log cannot say what changed since ``snap.version`` (then build anew).
    A load that commits while this reads may show in the result early; the
    next catch-up reads its keys again, so snapshots converge on the store.
    """
    version, change = source.changes_since(snap.version)
    if version == snap.version:
        return snap
    if change is None:
        return None
    return apply_change(snap, version, change, source)


# ---------------------------------------------------------------------------------------------- helpers
def _insertions(old: Sequence[str], added: Iterable[str]) -> tuple[list[str], list[int]]:
    """New ids (sorted) and, for each, the position in ``old`` (sorted) it goes before."""
    new = sorted(added)
    return new, [bisect.bisect_left(old, x) for x in new]


def _spliced(old: Sequence[Any], positions: Sequence[int], values: Sequence[Any]) -> list[Any]:
    """``old`` with ``values[j]`` inserted before ``old[positions[j]]`` (positions sorted): slices, no per-item work."""
    if not positions:
        return list(old)
    bounds = [0, *positions, len(old)]
    pieces: list[Iterable[Any]] = []
    for j, value in enumerate(values):
        pieces.append(old[bounds[j] : bounds[j + 1]])
        pieces.append((value,))
    pieces.append(old[bounds[-2] :])
    return list(itertools.chain.from_iterable(pieces))


def _old_to_new(n: int, positions: Sequence[int]) -> IntArray | None:
    """Where each old index lands once ids are inserted at ``positions`` (None: nothing inserted)."""
    if not positions:
        return None
    return np.arange(n, dtype=np.int64) + np.searchsorted(np.asarray(positions), np.arange(n), side="right")


def _remap(codes: npt.NDArray[Any], mapping: IntArray | None) -> npt.NDArray[Any]:
    """``codes`` through ``mapping``, -1 staying -1 (the same array when there is no mapping)."""
    if mapping is None:
        return codes
    out = np.where(codes >= 0, mapping[np.maximum(codes, 0)], -1)
    return out.astype(codes.dtype)


def _first_seen_order(codes: npt.NDArray[Any], keys: npt.NDArray[Any], count: int) -> IntArray:
    """Codes in order of their smallest key (their first appearance in the scratch build), unused ones left out."""
    first = np.full(count, np.iinfo(np.int64).max, dtype=np.int64)
    np.minimum.at(first, codes, keys)
    used = np.flatnonzero(first < np.iinfo(np.int64).max)
    return used[np.argsort(first[used], kind="stable")]


def _renumber(names: Sequence[str], order: IntArray) -> tuple[tuple[str, ...], IntArray | None]:
    """Names in ``order`` and the old code -> new code map (None when nothing moves)."""
    if len(order) == len(names) and np.array_equal(order, np.arange(len(names))):
        return tuple(names), None
    mapping = np.full(len(names), -1, dtype=np.int64)
    mapping[order] = np.arange(len(order))
    return tuple(names[int(c)] for c in order), mapping


def _region_column(region_id: str | None, region_index: Mapping[str, int], region_level: npt.NDArray[Any],
                   parents: Callable[[str], str | None], levels: int) -> npt.NDArray[np.int32]:
    """An asset's ``region`` column (its region at each level) from its region and that region's ancestors."""
    column = np.full(levels, -1, dtype=np.int32)
    hops = 0
    current = region_id
    while current is not None and hops <= levels:
        r = region_index.get(current)
        if r is None:
            break
        column[int(region_level[r])] = r
        current = parents(current)
        hops += 1
    return column


def _lowest_region(region: npt.NDArray[np.int32]) -> npt.NDArray[np.int32]:
    """Each asset's own region (its deepest known level), -1 where none."""
    lowest = np.full(region.shape[1], -1, dtype=np.int32)
    for level in range(region.shape[0]):
        known = region[level] >= 0
        lowest[known] = region[level][known]
    return lowest


# ---------------------------------------------------------------------------------------------- the change
def apply_change(snap: GraphSnapshot, version: int, change: Change, source: ChangeSource) -> GraphSnapshot:
    """The snapshot of ``version``: ``snap`` with the current rows of ``change``'s keys read from ``source``.

    Equal field by field to :func:`kg.snapshot.build_snapshot` over the
    store's rows; arrays the change leaves alone are shared with ``snap``.
    """
    levels = len(snap.levels)
    n = snap.n

    # ---- regions: a small table, read whole when any region changed
    region_ids, region_names, region_level = snap.region_ids, snap.region_names, snap.region_level
    region_matrix = snap.region
    region_rows: dict[str, Row] = {}
    if change.ids.get("regions"):
        rows = list(source.rows("regions"))
        region_rows = {r[0]: r for r in rows}
        r_index, r_ids, r_names, level_of, up = resolve_regions(rows, snap.levels)
        lowest = _lowest_region(snap.region)
        mapping = np.fromiter((r_index[r] for r in region_ids), dtype=np.int64, count=len(region_ids))
        lowest = _remap(lowest, mapping)
        region_matrix = np.full((levels, n), -1, dtype=np.int32)
        if n and len(r_ids):
            has = lowest >= 0
            region_matrix[:, has] = up[:, lowest[has]]
        if np.array_equal(region_matrix, snap.region):
            region_matrix = snap.region  # a name changed, or a region no asset is in: share the old matrix
        region_ids, region_names, region_level = tuple(r_ids), tuple(r_names), level_of
    region_index = {r: i for i, r in enumerate(region_ids)}
    parent_at = TABLES["regions"].position("parent")

    def parent_of(rid: str) -> str | None:
        row = region_rows.get(rid)
        if row is None:
            found = source.rows_of("regions", [rid])
            if not found:
                return None
            row = region_rows[rid] = found[0]
        parent: str | None = row[parent_at]
        return parent

    # ---- agencies and hazard zones: small node tables, new ids inserted in order
    agency_ids, agency_names, agency_crews, agency_map = _small_nodes(
        snap.agency_ids, (snap.agency_names, snap.agency_crews), "agencies", ("name", "crews"),
        change, source, lambda name, crews: (name, -1 if crews is None else crews))
    zone_ids, zone_names, zone_hazard, zone_map = _small_nodes(
        snap.zone_ids, (snap.zone_names, snap.zone_hazard), "hazard_zones", ("name", "hazard"),
        change, source, lambda name, hazard: (name, hazard))
    agency_index = {a: i for i, a in enumerate(agency_ids)} if change.ids.get("assets") else {}

    # ---- assets
    asset_rows = source.rows_of("assets", change.ids["assets"]) if change.ids.get("assets") else []
    new_ids, positions = _insertions(snap.asset_ids, (r[0] for r in asset_rows if r[0] not in snap.index))
    old_to_new = _old_to_new(n, positions)
    n2 = n + len(new_ids)
    if new_ids:
        asset_ids = tuple(_spliced(snap.asset_ids, positions, new_ids))
        index = dict(snap.index)
        first = positions[0]
        index.update(zip(asset_ids[first:], range(first, n2), strict=True))
    else:
        asset_ids, index = snap.asset_ids, snap.index

    agency = _remap(snap.agency, agency_map)
    type_code, population, repair_hours = snap.type_code, snap.population, snap.repair_hours
    lat, lon, names, types = snap.lat, snap.lon, snap.names, snap.types
    if asset_rows:
        at = [index[r[0]] for r in asset_rows]
        getter = TABLES["assets"].getter("type", "name", "region", "agency", "lat", "lon", "population",
                                         "repair_hours")
        values = [getter(r) for r in asset_rows]
        inserted = np.asarray(positions, dtype=np.int64)

        def column(old: npt.NDArray[Any], new: Sequence[Any], fill: Any) -> npt.NDArray[Any]:
            out = np.insert(old, inserted, fill) if len(inserted) else old.copy()
            out[at] = np.asarray(new, dtype=old.dtype)
            return out

        type_table = {t: i for i, t in enumerate(types)}
        type_names = list(types)
        codes = []
        for v in values:
            if v[0] not in type_table:
                type_table[v[0]] = len(type_names)
                type_names.append(v[0])
            codes.append(type_table[v[0]])
        type_code = column(snap.type_code, codes, 0)
        order = _first_seen_order(type_code, np.arange(n2, dtype=np.int64), len(type_names))
        types, type_map = _renumber(type_names, order)
        type_code = _remap(type_code, type_map)
        name_list = _spliced(snap.names, positions, [None] * len(new_ids))
        for i, v in zip(at, values, strict=True):
            name_list[i] = v[1]
        names = tuple(name_list)
        lat = column(snap.lat, [math.nan if v[4] is None else v[4] for v in values], math.nan)
        lon = column(snap.lon, [math.nan if v[5] is None else v[5] for v in values], math.nan)
        population = column(snap.population, [v[6] or 0 for v in values], 0)
        repair_hours = column(snap.repair_hours, [math.nan if v[7] is None else v[7] for v in values], math.nan)
        agency = column(agency, [agency_index.get(v[3], -1) if v[3] is not None else -1 for v in values], -1)
        region_matrix = (np.insert(region_matrix, inserted, -1, axis=1) if len(inserted)
                         else region_matrix.copy())
        for i, v in zip(at, values, strict=True):
            region_matrix[:, i] = (_region_column(v[2], region_index, region_level, parent_of, levels)
                                   if v[2] is not None else -1)

    deps = _dependencies(snap, change, source, index, old_to_new, n2)
    exposures = _exposures(snap, change, source, index, old_to_new, zone_map, {z: i for i, z in enumerate(zone_ids)})
    fragilities = snap.fragilities
    if change.fragilities:
        fragilities = tuple(map(TABLES["fragilities"].getter("hazard", "type", "asset", "threshold", "beta"),
                                source.rows("fragilities")))

    return replace(
        snap, version=version, asset_ids=asset_ids, index=index, names=names, types=types, type_code=type_code,
        population=population, repair_hours=repair_hours, lat=lat, lon=lon, agency=agency, region=region_matrix,
        region_ids=region_ids, region_names=region_names, region_level=region_level,
        agency_ids=agency_ids, agency_names=agency_names, agency_crews=agency_crews,
        zone_ids=zone_ids, zone_names=zone_names, zone_hazard=zone_hazard,
        fragilities=fragilities, **deps, **exposures)


def _small_nodes(old_ids: tuple[str, ...], old_cols: tuple[Sequence[Any], Any], table: str,
                 columns: tuple[str, str], change: Change, source: ChangeSource,
                 convert: Callable[[Any, Any], tuple[Any, Any]]) -> tuple[Any, Any, Any, IntArray | None]:
    """Ids and two columns of agencies or hazard zones after the change, and the old -> new index map."""
    touched = change.ids.get(table)
    if not touched:
        return old_ids, old_cols[0], old_cols[1], None
    rows = source.rows_of(table, touched)
    known = {a: i for i, a in enumerate(old_ids)}
    new_ids, positions = _insertions(old_ids, (r[0] for r in rows if r[0] not in known))
    ids = tuple(_spliced(old_ids, positions, new_ids))
    first = _spliced(list(old_cols[0]), positions, [None] * len(new_ids))
    second = _spliced(list(old_cols[1]), positions, [None] * len(new_ids))
    index = {a: i for i, a in enumerate(ids)}
    get = TABLES[table].getter("id", *columns)
    for row in rows:
        rid, a, b = get(row)
        first[index[rid]], second[index[rid]] = convert(a, b)
    mapping = _old_to_new(len(old_ids), positions)
    if isinstance(old_cols[1], np.ndarray):
        return ids, tuple(first), np.asarray(second, dtype=old_cols[1].dtype), mapping
    return ids, tuple(first), tuple(second), mapping


def _dependencies(snap: GraphSnapshot, change: Change, source: ChangeSource, index: Mapping[str, int],
                  old_to_new: IntArray | None, n2: int) -> dict[str, Any]:
    """The ``dep_*``, ``group_*``, ``rdep_*`` fields and ``kinds``/``group_labels`` after the change."""
    if not change.dependents and old_to_new is None:
        return {}
    n, m = snap.n, snap.m
    # Old edges in new asset numbers (inserting assets keeps the order: the map is increasing).
    dependent = np.repeat(np.arange(n, dtype=np.int64), np.diff(snap.dep_ptr))
    provider = snap.dep_provider.astype(np.int64)
    if old_to_new is not None:
        dependent, provider = old_to_new[dependent], old_to_new[provider]
    kind, label, buffer = snap.dep_kind, snap.group_label[snap.dep_group], snap.dep_buffer
    keep = np.ones(m, dtype=bool)
    for d in (snap.index.get(a) for a in change.dependents):
        if d is not None:
            keep[snap.dep_ptr[d] : snap.dep_ptr[d + 1]] = False

    kinds, labels = list(snap.kinds), list(snap.group_labels)
    kind_table = {k: i for i, k in enumerate(kinds)}
    label_table = {g: i for i, g in enumerate(labels)}
    rows = source.rows_of("dependencies", change.dependents) if change.dependents else []
    get = TABLES["dependencies"].getter("dependent", "provider", "kind", "group", "buffer_hours")
    new: list[tuple[int, int, int, int, float]] = []
    for row in rows:
        needs, gives, kind_name, group_name, hours = get(row)
        d, p = index.get(needs), index.get(gives)
        if d is None or p is None:
            continue
        k = kind_table.setdefault(kind_name, len(kind_table))
        if k == len(kinds):
            kinds.append(kind_name)
        g = label_table.setdefault(group_name, len(label_table))
        if g == len(labels):
            labels.append(group_name)
        new.append((d, p, k, g, hours))
    new_cols = [np.asarray(c) for c in zip(*new, strict=True)] if new else [np.zeros(0, dtype=np.int64)] * 4 + [
        np.zeros(0)]

    # The scratch build numbers kinds and labels by first appearance in key order (dependent, provider, kind name).
    kept_dep, kept_prov = dependent[keep], provider[keep]
    all_dep = np.concatenate([kept_dep, new_cols[0].astype(np.int64)])
    all_prov = np.concatenate([kept_prov, new_cols[1].astype(np.int64)])
    all_kind = np.concatenate([kind[keep].astype(np.int64), new_cols[2].astype(np.int64)])
    all_label = np.concatenate([label[keep].astype(np.int64), new_cols[3].astype(np.int64)])
    name_rank = np.argsort(np.argsort(np.asarray(kinds, dtype=object))) if kinds else np.zeros(0, dtype=np.int64)
    label_rank = np.argsort(np.argsort(np.asarray(labels, dtype=object))) if labels else np.zeros(0, np.int64)
    key = (all_dep * max(n2, 1) + all_prov) * max(len(kinds), 1) + name_rank[all_kind].astype(np.int64)
    kinds_t, kind_map = _renumber(kinds, _first_seen_order(all_kind, key, len(kinds)))
    # Rows of one (dependent, provider, kind) come in group order: the group name breaks that tie for labels.
    label_key = key * max(len(labels), 1) + label_rank[all_label].astype(np.int64)
    labels_t, label_map = _renumber(labels, _first_seen_order(all_label, label_key, len(labels)))
    if kind_map is not None or label_map is not None:
        # Codes of old edges change, and so their order within a group: sort the whole anew (rare).
        arrays = dependency_arrays(
            n2, all_dep.astype(np.int32), all_prov.astype(np.int32), _remap(all_kind, kind_map).astype(np.int32),
            _remap(all_label, label_map).astype(np.int32),
            np.concatenate([buffer[keep], new_cols[4].astype(np.float64)]))
        return {"kinds": kinds_t, "group_labels": labels_t, **arrays}

    # Splice: the touched dependents' edges go where their dependent's edges were (or would be).
    new_order = np.lexsort((new_cols[1], new_cols[3], new_cols[2], new_cols[0])) if new else np.zeros(0, np.int64)
    nd, np_, nk, ng, nb = (c[new_order] for c in new_cols)
    at = np.searchsorted(kept_dep, nd, side="left")
    dep_col = np.insert(kept_dep, at, nd)
    prov_col = np.insert(kept_prov, at, np_)
    kind_col = np.insert(kind[keep].astype(np.int64), at, nk)
    label_col = np.insert(label[keep].astype(np.int64), at, ng)
    buf_col = np.insert(buffer[keep], at, nb.astype(np.float64))
    # Reverse order (provider, dependent, forward position): kept entries keep theirs, new ones slot in.
    kept_position = np.cumsum(keep) - 1  # old forward position -> position among kept edges
    rkeep = keep[snap.rdep_edge]
    r_old = snap.rdep_edge[rkeep]
    r_pos = kept_position[r_old]
    r_pos = r_pos + np.searchsorted(at, r_pos, side="right")
    new_pos = at + np.arange(len(at))
    r_key = provider[r_old] * max(n2, 1) + dependent[r_old]
    n_key = np_.astype(np.int64) * max(n2, 1) + nd.astype(np.int64)
    n_rorder = np.lexsort((new_pos, n_key))
    r_at = np.searchsorted(r_key, n_key[n_rorder], side="left")
    rorder = np.insert(r_pos, r_at, new_pos[n_rorder])
    arrays = dependency_arrays(n2, dep_col.astype(np.int32), prov_col.astype(np.int32), kind_col.astype(np.int32),
                               label_col.astype(np.int32), buf_col, presorted=True, rorder=rorder)
    return {"kinds": kinds_t, "group_labels": labels_t, **arrays}


def _exposures(snap: GraphSnapshot, change: Change, source: ChangeSource, index: Mapping[str, int],
               old_to_new: IntArray | None, zone_map: IntArray | None, zone_index: Mapping[str, int]
               ) -> dict[str, Any]:
    """``exp_asset``, ``exp_zone``, ``exp_intensity`` after the change (sorted by asset, then zone)."""
    if not change.exposed and old_to_new is None and zone_map is None:
        return {}
    asset = _remap(snap.exp_asset, old_to_new)
    zone = _remap(snap.exp_zone, zone_map)
    intensity = snap.exp_intensity
    if not change.exposed:
        return {"exp_asset": asset, "exp_zone": zone, "exp_intensity": intensity}
    touched = np.asarray(sorted(i for i in (index.get(a) for a in change.exposed) if i is not None), dtype=np.int64)
    keep = ~np.isin(asset, touched)
    asset, zone, intensity = asset[keep], zone[keep], intensity[keep]
    get = TABLES["exposures"].getter("asset", "zone", "intensity")
    new = []
    for row in source.rows_of("exposures", change.exposed):
        a, z, value = get(row)
        ai, zi = index.get(a), zone_index.get(z)
        if ai is not None and zi is not None:
            new.append((ai, zi, value))
    new.sort()
    na = np.asarray([r[0] for r in new], dtype=np.int32)
    at = np.searchsorted(asset, na, side="left")
    return {"exp_asset": np.insert(asset, at, na).astype(np.int32),
            "exp_zone": np.insert(zone, at, np.asarray([r[1] for r in new], dtype=np.int32)).astype(np.int32),
            "exp_intensity": np.insert(intensity, at, np.asarray([r[2] for r in new], dtype=np.float64))}
