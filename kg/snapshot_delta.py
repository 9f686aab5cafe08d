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
import weakref
from collections.abc import Callable, Collection, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field, replace
from typing import Any, Protocol

import numpy as np
import numpy.typing as npt

from kg.id_index import spliced_index
from kg.schema import NODE_TABLES, TABLES
from kg.snapshot import GraphSnapshot, dependency_arrays, resolve_regions

__all__ = ["Change", "ChangeSource", "apply_change", "catch_up", "prepare"]

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


def prepare(snap: GraphSnapshot) -> None:
    """Do now, once, what the first change followed from ``snap`` would otherwise do first.

    That is a pass over every dependency edge for the first row of each kind
    and group label (about 40 ms of CPU at a million assets). A process that
    follows changes calls this when it has time (the API does after building
    a snapshot anew), so that the follow itself is shorter.
    """
    _first_rows(snap)


# ---------------------------------------------------------------------------------------------- helpers
def _insertions(old: Sequence[str], added: Iterable[str]) -> tuple[list[str], list[int]]:
    """New ids (sorted) and, for each, the position in ``old`` (sorted) it goes before."""
    new = sorted(added)
    return new, [bisect.bisect_left(old, x) for x in new]


def _spliced(old: tuple[Any, ...], positions: Sequence[int], values: Sequence[Any],
             updates: Iterable[tuple[int, Any]] = ()) -> tuple[Any, ...]:
    """``old`` with ``values[j]`` inserted before ``old[positions[j]]`` (positions sorted), then ``updates``.

    ``updates`` are (new position, value) pairs written after the insertions. One list copy of the
    pointers and one tuple (memory speed); a few insertions go into the list (later ones first, so the
    earlier positions still hold), many are chained in one pass.
    """
    updates = list(updates)
    if not positions and not updates:
        return old
    if len(positions) > 8:
        bounds = [0, *positions, len(old)]
        pieces: list[Iterable[Any]] = []
        for j, value in enumerate(values):
            pieces.append(old[bounds[j] : bounds[j + 1]])
            pieces.append((value,))
        pieces.append(old[bounds[-2] :])
        out = list(itertools.chain.from_iterable(pieces))
    else:
        out = list(old)
        for at, value in reversed(list(zip(positions, values, strict=True))):
            out.insert(at, value)
    for at, value in updates:
        out[at] = value
    return tuple(out)


_FEW = 64
"""Up to this many insertions or deletions, arrays are copied slice by slice (memory speed); more, by numpy's masks."""


def _inserted(old: npt.NDArray[Any], at: Sequence[int] | IntArray, values: Any, axis: int = 0) -> npt.NDArray[Any]:
    """``np.insert(old, at, values, axis)`` for nondecreasing ``at``: a new array, even when ``at`` is empty.

    A few insertions are concatenated slices, not numpy's masked copy (several times slower).
    ``values`` is one value for every position or one per position.
    """
    points = [int(a) for a in at]
    if len(points) > _FEW or any(a > b for a, b in itertools.pairwise(points)):
        inserted: npt.NDArray[Any] = np.insert(old, points, values, axis=axis)
        return inserted
    if not points:
        return old.copy()
    one = np.ndim(values) == 0
    shape = list(old.shape)
    shape[axis] = 1

    def part(lo: int, hi: int) -> npt.NDArray[Any]:
        where: list[slice] = [slice(None)] * old.ndim
        where[axis] = slice(lo, hi)
        return old[tuple(where)]

    pieces = []
    start = 0
    for j, point in enumerate(points):
        pieces.append(part(start, point))
        pieces.append(np.full(shape, values if one else values[j], dtype=old.dtype))
        start = point
    pieces.append(part(start, old.shape[axis]))
    return np.concatenate(pieces, axis=axis)


def _deleted(old: npt.NDArray[Any], gone: Sequence[int]) -> npt.NDArray[Any]:
    """``np.delete(old, gone)`` for increasing ``gone``: a few deletions are concatenated slices."""
    if len(gone) > _FEW or any(a >= b for a, b in itertools.pairwise(gone)):
        return np.delete(old, gone)
    bounds = [-1, *gone, len(old)]
    return np.concatenate([old[a + 1 : b] for a, b in itertools.pairwise(bounds)])


def _old_to_new(n: int, positions: Sequence[int]) -> IntArray | None:
    """Where each old index lands once ids are inserted at ``positions`` (None: nothing inserted)."""
    if not positions:
        return None
    return np.arange(n, dtype=np.int64) + np.searchsorted(np.asarray(positions), np.arange(n), side="right")


def _moves(n: int, positions: Sequence[int]) -> IntArray | None:
    """The insertion points of new assets that move old ones up, or None when none does (all appended).

    Points at ``n`` (after every old asset) are left out: they move nothing, and each point left is a
    pass over every array of asset indexes.
    """
    moving = [p for p in positions if p < n]
    return np.asarray(moving, dtype=np.int64) if moving else None


def _moved(indexes: npt.NDArray[Any], moves: IntArray | None, *, ordered: bool = False) -> npt.NDArray[Any]:
    """Old asset indexes in the new numbering (each moves up by the new assets inserted at or before it).

    ``ordered``: ``indexes`` are sorted, so each move shifts a tail: a copy and a few slice additions.
    """
    if moves is None:
        return indexes
    if ordered:
        out = indexes.copy()
        for start in np.searchsorted(indexes, moves, side="left").tolist():
            out[start:] += 1
        return out
    return _stepped(indexes, moves, np.ones(len(moves), dtype=np.int64))


def _move_in_place(indexes: npt.NDArray[Any], moves: IntArray, *, ordered: bool = False) -> npt.NDArray[Any]:
    """:func:`_moved` written into ``indexes`` (a new array or a view of one), which it returns.

    Moves are applied from the last insertion point down: an index moved up by a later point was at
    or past it, so it stays past every earlier one, and the others are compared as they were.
    ``ordered``: ``indexes`` are sorted, so each move shifts a tail (found before any moves).
    """
    if ordered:
        for start in np.searchsorted(indexes, moves, side="left").tolist():
            indexes[start:] += 1
        return indexes
    for point in reversed(moves.tolist()):
        indexes += indexes >= point
    return indexes


def _stepped(values: npt.NDArray[Any], at: IntArray, steps: IntArray) -> npt.NDArray[Any]:
    """``values`` plus the sum of ``steps[j]`` over the ``at[j] <= value`` (``at`` sorted): a new array.

    A few steps are a few vectorised compare-and-add passes (what a small change has); many, one
    binary search per value.
    """
    if len(at) > 8:
        total = np.concatenate([[0], np.cumsum(steps)]).astype(values.dtype)
        shifted: npt.NDArray[Any] = values + total[np.searchsorted(at, values, side="right")]
        return shifted
    out = values.copy()
    for point, step in zip(at.tolist(), steps.tolist(), strict=True):
        if step == 1:
            out += values >= point  # a boolean adds as 0 or 1: no multiplied temporary
        elif step:
            np.add(out, np.multiply(values >= point, step, dtype=values.dtype), out=out)
    return out


def _moved_one(i: int, moves: IntArray | None) -> int:
    return i if moves is None else i + bisect.bisect_right(moves.tolist(), i)


def _remap(codes: npt.NDArray[Any], mapping: IntArray | None) -> npt.NDArray[Any]:
    """``codes`` through ``mapping``, -1 staying -1 (the same array when there is no mapping)."""
    if mapping is None:
        return codes
    table = np.append(mapping, -1).astype(codes.dtype)  # code -1 reads the last entry: -1
    return np.take(table, codes)


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
    moves = _moves(n, positions)
    n2 = n + len(new_ids)
    asset_ids = _spliced(snap.asset_ids, positions, new_ids)
    index = spliced_index(snap.index, new_ids, positions, asset_ids)  # no renumbering of the later ids

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
            out = _inserted(old, inserted, fill)
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
        names = _spliced(snap.names, positions, [None] * len(new_ids),
                         [(i, v[1]) for i, v in zip(at, values, strict=True)])
        lat = column(snap.lat, [math.nan if v[4] is None else v[4] for v in values], math.nan)
        lon = column(snap.lon, [math.nan if v[5] is None else v[5] for v in values], math.nan)
        population = column(snap.population, [v[6] or 0 for v in values], 0)
        repair_hours = column(snap.repair_hours, [math.nan if v[7] is None else v[7] for v in values], math.nan)
        agency = column(agency, [agency_index.get(v[3], -1) if v[3] is not None else -1 for v in values], -1)
        region_matrix = _inserted(region_matrix, inserted, -1, axis=1)
        for i, v in zip(at, values, strict=True):
            region_matrix[:, i] = (_region_column(v[2], region_index, region_level, parent_of, levels)
                                   if v[2] is not None else -1)

    deps, firsts = _dependencies(snap, change, source, index, moves, n2)
    exposures = _exposures(snap, change, source, index, moves, zone_map, {z: i for i, z in enumerate(zone_ids)})
    fragilities = snap.fragilities
    if change.fragilities:
        fragilities = tuple(map(TABLES["fragilities"].getter("hazard", "type", "asset", "threshold", "beta"),
                                source.rows("fragilities")))

    fresh = replace(
        snap, version=version, asset_ids=asset_ids, index=index, names=names, types=types, type_code=type_code,
        population=population, repair_hours=repair_hours, lat=lat, lon=lon, agency=agency, region=region_matrix,
        region_ids=region_ids, region_names=region_names, region_level=region_level,
        agency_ids=agency_ids, agency_names=agency_names, agency_crews=agency_crews,
        zone_ids=zone_ids, zone_names=zone_names, zone_hazard=zone_hazard,
        fragilities=fragilities, **deps, **exposures)
    if firsts is not None:
        _FIRST_ROWS[fresh] = firsts
    return fresh


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
    ids = _spliced(old_ids, positions, new_ids)
    first = list(_spliced(tuple(old_cols[0]), positions, [None] * len(new_ids)))
    second = list(_spliced(tuple(old_cols[1]), positions, [None] * len(new_ids)))
    index = {a: i for i, a in enumerate(ids)}
    get = TABLES[table].getter("id", *columns)
    for row in rows:
        rid, a, b = get(row)
        first[index[rid]], second[index[rid]] = convert(a, b)
    mapping = _old_to_new(len(old_ids), positions)
    if isinstance(old_cols[1], np.ndarray):
        return ids, tuple(first), np.asarray(second, dtype=old_cols[1].dtype), mapping
    return ids, tuple(first), tuple(second), mapping


FirstRow = tuple[int, int, str, str]
"""(dependent, provider, kind, group) of the first dependency row of a kind or label in key order."""

_FIRST_ROWS: weakref.WeakKeyDictionary[GraphSnapshot, tuple[list[FirstRow], list[FirstRow]]] = (
    weakref.WeakKeyDictionary())
"""Per snapshot, the first row of each kind and of each group label (what numbers them in a scratch build)."""


def _first_rows(snap: GraphSnapshot) -> tuple[list[FirstRow], list[FirstRow]]:
    """The first row of each kind and each label in key order: one pass over the edges, once per snapshot.

    A scratch build numbers kinds and group labels in order of first
    appearance; knowing each one's first row, a change tells in O(rows
    touched) whether that numbering stays (the common case) or moves.
    """
    cached = _FIRST_ROWS.get(snap)
    if cached is not None:
        return cached
    kind_rank = np.argsort(np.argsort(np.asarray(snap.kinds, dtype=object))) if snap.kinds else np.zeros(0, np.int64)
    label_rank = (np.argsort(np.argsort(np.asarray(snap.group_labels, dtype=object))) if snap.group_labels
                  else np.zeros(0, np.int64))
    label = snap.group_label[snap.dep_group]
    edges = np.arange(snap.m, dtype=np.int64)

    def first(codes: npt.NDArray[Any], count: int) -> list[FirstRow]:
        # Edges run by dependent, so a code's first edge has the smallest dependent among the code's rows;
        # the rest of the key (provider, kind, label) is compared among that dependent's few edges.
        at = np.full(count, snap.m, dtype=np.int64)
        np.minimum.at(at, codes, edges)
        rows: list[FirstRow] = []
        for code, e in enumerate(at.tolist()):
            d = int(np.searchsorted(snap.dep_ptr, e, side="right")) - 1
            lo, hi = int(snap.dep_ptr[d]), int(snap.dep_ptr[d + 1])
            mine = (lo + np.flatnonzero(codes[lo:hi] == code)).tolist()
            j = min(mine, key=lambda j: (int(snap.dep_provider[j]), int(kind_rank[snap.dep_kind[j]]),
                                         int(label_rank[label[j]])))
            rows.append((d, int(snap.dep_provider[j]), snap.kinds[int(snap.dep_kind[j])],
                         snap.group_labels[int(label[j])]))
        return rows

    cached = _FIRST_ROWS[snap] = (first(snap.dep_kind, len(snap.kinds)), first(label, len(snap.group_labels)))
    return cached


def _dependencies(snap: GraphSnapshot, change: Change, source: ChangeSource, index: Mapping[str, int],
                  moves: IntArray | None, n2: int) -> tuple[dict[str, Any], tuple[list[FirstRow],
                                                                                   list[FirstRow]] | None]:
    """The ``dep_*``, ``group_*``, ``rdep_*`` fields and ``kinds``/``group_labels`` after the change.

    Also the new snapshot's first rows of kinds and labels, when known without a pass over every edge.
    """
    if not change.dependents and moves is None:
        if n2 == snap.n:
            return {}, _FIRST_ROWS.get(snap)
        pad = np.full(n2 - snap.n, snap.m, dtype=np.int64)  # new assets at the end, none with dependencies
        return {"dep_ptr": np.concatenate([snap.dep_ptr, pad]), "rdep_ptr": np.concatenate([snap.rdep_ptr, pad]),
                "group_ptr": np.concatenate([snap.group_ptr, np.full(n2 - snap.n, len(snap.group_owner),
                                                                     dtype=np.int64)])}, _FIRST_ROWS.get(snap)
    kinds, labels = list(snap.kinds), list(snap.group_labels)
    kind_table = {k: i for i, k in enumerate(kinds)}
    label_table = {g: i for i, g in enumerate(labels)}
    get = TABLES["dependencies"].getter("dependent", "provider", "kind", "group", "buffer_hours")
    new: list[tuple[int, int, int, int, float]] = []
    for row in source.rows_of("dependencies", change.dependents) if change.dependents else []:
        needs, gives, kind_name, group_name, hours = get(row)
        d, p = index.get(needs), index.get(gives)
        if d is None or p is None:
            continue
        kc = kind_table.setdefault(kind_name, len(kind_table))
        if kc == len(kinds):
            kinds.append(kind_name)
        gc = label_table.setdefault(group_name, len(label_table))
        if gc == len(labels):
            labels.append(group_name)
        new.append((d, p, kc, gc, hours))
    new.sort(key=lambda e: (e[0], e[2], e[3], e[1]))  # the forward order: dependent, kind, group, provider
    touched_old = {i for i in (snap.index.get(a) for a in change.dependents) if i is not None}

    # Does the numbering of kinds and labels stay? Only if no first row goes (a first row of a touched
    # dependent stays if it is written again), and no new row comes before an old first row.
    first_kinds, first_labels = _first_rows(snap)

    def moved(i: int) -> int:
        return _moved_one(i, moves)

    rewritten = {(d, p, kinds[kc], labels[gc]) for d, p, kc, gc, _ in new}
    stays = all(row[0] not in touched_old or (moved(row[0]), moved(row[1]), row[2], row[3]) in rewritten
                for row in (*first_kinds, *first_labels))

    fk: list[FirstRow | None] = [(moved(r[0]), moved(r[1]), r[2], r[3]) for r in first_kinds]
    fl: list[FirstRow | None] = [(moved(r[0]), moved(r[1]), r[2], r[3]) for r in first_labels]
    fk += [None] * (len(kinds) - len(fk))
    fl += [None] * (len(labels) - len(fl))
    for d, p, kc, gc, _ in new:
        row = (d, p, kinds[kc], labels[gc])
        old_k, old_l = fk[kc], fl[gc]
        fk[kc] = row if old_k is None or row < old_k else old_k
        fl[gc] = row if old_l is None or row < old_l else old_l
    # New kinds and labels may come anywhere in that order; the old ones must keep theirs (then old
    # codes move up monotonically and the edges' order within a dependent stays: no sort).
    kind_map = _monotone_numbering(fk, len(snap.kinds)) if stays else None
    label_map = _monotone_numbering(fl, len(snap.group_labels)) if stays else None
    if kind_map is None or label_map is None:
        return _all_dependencies(snap, new, touched_old, kinds, labels, moves, n2), None
    kind_names, label_names = _in_order(kinds, kind_map), _in_order(labels, label_map)
    new = sorted(((d, p, int(kind_map[k]), int(label_map[g]), h) for d, p, k, g, h in new),
                 key=lambda e: (e[0], e[2], e[3], e[1]))
    firsts = (_in_order(fk, kind_map), _in_order(fl, label_map))
    identity_k = np.array_equal(kind_map, np.arange(len(kinds)))
    identity_l = np.array_equal(label_map, np.arange(len(labels)))
    arrays = _spliced_dependencies(snap, change, new, index, moves, n2,
                                   None if identity_k else kind_map[: len(snap.kinds)],
                                   None if identity_l else label_map[: len(snap.group_labels)])
    return {"kinds": tuple(kind_names), "group_labels": tuple(label_names), **arrays}, firsts


def _monotone_numbering(first: Sequence[FirstRow | None], old: int) -> IntArray | None:
    """Code -> new code by first rows, if every code has one and the ``old`` codes keep their order; else None."""
    if any(row is None for row in first):
        return None
    order = sorted(range(len(first)), key=lambda c: first[c])  # type: ignore[arg-type,return-value]
    mapping = np.empty(len(first), dtype=np.int64)
    mapping[order] = np.arange(len(first))
    if old > 1 and not bool(np.all(np.diff(mapping[:old]) > 0)):
        return None
    return mapping


def _in_order(values: Sequence[Any], mapping: IntArray) -> list[Any]:
    """``values`` (by old code) placed at their new codes."""
    out: list[Any] = [None] * len(values)
    for code, value in enumerate(values):
        out[int(mapping[code])] = value
    return out


def _all_dependencies(snap: GraphSnapshot, new: list[tuple[int, int, int, int, float]], touched_old: set[int],
                      kinds: list[str], labels: list[str], moves: IntArray | None, n2: int) -> dict[str, Any]:
    """Every dependency array anew (a new kind or label changes the numbering: rare, a sort of every edge)."""
    n = snap.n
    dependent = np.repeat(np.arange(n, dtype=np.int64), np.diff(snap.dep_ptr))
    provider = snap.dep_provider.astype(np.int64)
    dependent, provider = _moved(dependent, moves), _moved(provider, moves)
    keep = np.ones(snap.m, dtype=bool)
    for d in touched_old:
        keep[snap.dep_ptr[d] : snap.dep_ptr[d + 1]] = False
    cols = [np.asarray(c) for c in zip(*new, strict=True)] if new else [np.zeros(0, np.int64)] * 4 + [np.zeros(0)]
    dep = np.concatenate([dependent[keep], cols[0].astype(np.int64)])
    prov = np.concatenate([provider[keep], cols[1].astype(np.int64)])
    kind = np.concatenate([snap.dep_kind[keep].astype(np.int64), cols[2].astype(np.int64)])
    label = np.concatenate([snap.group_label[snap.dep_group][keep].astype(np.int64), cols[3].astype(np.int64)])
    buffer = np.concatenate([snap.dep_buffer[keep], cols[4].astype(np.float64)])
    kind_rank = np.argsort(np.argsort(np.asarray(kinds, dtype=object))) if kinds else np.zeros(0, np.int64)
    label_rank = np.argsort(np.argsort(np.asarray(labels, dtype=object))) if labels else np.zeros(0, np.int64)
    order = np.lexsort((label_rank[label], kind_rank[kind], prov, dep))  # key order: the scratch build's rows
    kinds_t, kind_map = _renumber(kinds, _first_seen_order(kind[order], np.arange(len(order)), len(kinds)))
    labels_t, label_map = _renumber(labels, _first_seen_order(label[order], np.arange(len(order)), len(labels)))
    arrays = dependency_arrays(n2, dep.astype(np.int32), prov.astype(np.int32),
                               _remap(kind, kind_map).astype(np.int32), _remap(label, label_map).astype(np.int32),
                               buffer)
    return {"kinds": kinds_t, "group_labels": labels_t, **arrays}


def _with_zeros(counts: IntArray, moves: IntArray | None, n2: int) -> IntArray:
    """Per-asset ``counts`` in the new numbering (0 for new assets); a copy either way."""
    if moves is not None:
        counts = _inserted(counts, moves, 0)
    return np.concatenate([counts, np.zeros(n2 - len(counts), dtype=counts.dtype)])


def _spliced_dependencies(snap: GraphSnapshot, change: Change, new: list[tuple[int, int, int, int, float]],
                          index: Mapping[str, int], moves: IntArray | None, n2: int,
                          kind_map: IntArray | None = None, label_map: IntArray | None = None) -> dict[str, Any]:
    """The dependency arrays with the touched dependents' edges and groups replaced in place.

    Each array is rewritten once (slices of the old one around the few new
    pieces: memory speed); nothing is sorted but the new rows.
    """
    # Each touched dependent's old edge and group ranges (empty, at its place, for a new asset), in id order.
    spans: list[tuple[int, int, int, int, int, int]] = []  # (new index, old index or -1, e0, e1, g0, g1)
    for a in sorted(change.dependents):
        i = snap.index.get(a)
        at = i if i is not None else bisect.bisect_left(snap.asset_ids, a)
        end = at + 1 if i is not None else at
        spans.append((index[a], -1 if i is None else i, int(snap.dep_ptr[at]), int(snap.dep_ptr[end]),
                      int(snap.group_ptr[at]), int(snap.group_ptr[end])))
    by_dependent: dict[int, list[tuple[int, int, int, int, float]]] = {}
    for edge in new:
        by_dependent.setdefault(edge[0], []).append(edge)

    old_edges: list[tuple[int, int]] = []  # where the old pieces land in the new edge and group arrays:
    old_groups: list[tuple[int, int]] = []  # their asset indexes move there, in place (no moved copy first)
    dep_kind, group_kind = _remap(snap.dep_kind, kind_map), _remap(snap.group_kind, kind_map)
    group_label = _remap(snap.group_label, label_map)
    names = ("prov", "kind", "buf", "group", "g_owner", "g_kind", "g_label", "g_buf", "g_edge")
    pieces: dict[str, list[npt.NDArray[Any]]] = {k: [] for k in names}

    def old_piece(edges: slice, groups: slice, edge_shift: int, group_shift: int) -> None:
        old_edges.append((edges.start + edge_shift, edges.stop + edge_shift))
        old_groups.append((groups.start + group_shift, groups.stop + group_shift))
        pieces["prov"].append(snap.dep_provider[edges])
        pieces["kind"].append(dep_kind[edges])
        pieces["buf"].append(snap.dep_buffer[edges])
        pieces["group"].append(snap.dep_group[edges] + group_shift)
        pieces["g_owner"].append(snap.group_owner[groups])
        pieces["g_kind"].append(group_kind[groups])
        pieces["g_label"].append(group_label[groups])
        pieces["g_buf"].append(snap.group_buffer[groups])
        pieces["g_edge"].append(snap.group_edge_ptr[:-1][groups] + edge_shift)

    dep_count = _with_zeros(np.diff(snap.dep_ptr), moves, n2)
    group_count = _with_zeros(np.diff(snap.group_ptr), moves, n2)
    edge_at = group_at = 0  # where the next old piece starts
    edge_shift = group_shift = 0  # new minus old edges / groups so far
    removed: list[tuple[int, int, int]] = []  # (old forward position, old provider, old dependent) of edges that go
    added: list[tuple[int, int, int]] = []  # (provider, dependent, new forward position) of the new edges
    deltas: list[int] = []
    for d, i, e0, e1, g0, g1 in spans:
        old_piece(slice(edge_at, e0), slice(group_at, g0), edge_shift, group_shift)
        removed.extend((e, int(snap.dep_provider[e]), i) for e in range(e0, e1))
        edges = by_dependent.get(d, [])
        first_edge, first_group = e0 + edge_shift, g0 + group_shift
        group_of: list[int] = []
        g_kind: list[int] = []
        g_label: list[int] = []
        g_buf: list[float] = []
        g_edge: list[int] = []
        for j, (_, p, kc, gc, hours) in enumerate(edges):
            if not g_kind or (kc, gc) != (g_kind[-1], g_label[-1]):
                g_kind.append(kc)
                g_label.append(gc)
                g_buf.append(hours)
                g_edge.append(first_edge + j)
            else:
                g_buf[-1] = max(g_buf[-1], hours)
            group_of.append(first_group + len(g_kind) - 1)
            added.append((p, d, first_edge + j))
        pieces["prov"].append(np.asarray([e[1] for e in edges], dtype=np.int32))
        pieces["kind"].append(np.asarray([e[2] for e in edges], dtype=np.int32))
        pieces["buf"].append(np.asarray([e[4] for e in edges], dtype=np.float64))
        pieces["group"].append(np.asarray(group_of, dtype=np.int32))
        pieces["g_owner"].append(np.full(len(g_kind), d, dtype=np.int32))
        pieces["g_kind"].append(np.asarray(g_kind, dtype=np.int32))
        pieces["g_label"].append(np.asarray(g_label, dtype=np.int32))
        pieces["g_buf"].append(np.asarray(g_buf, dtype=np.float64))
        pieces["g_edge"].append(np.asarray(g_edge, dtype=np.int64))
        dep_count[d] = len(edges)
        group_count[d] = len(g_kind)
        deltas.append(len(edges) - (e1 - e0))
        edge_shift += len(edges) - (e1 - e0)
        group_shift += len(g_kind) - (g1 - g0)
        edge_at, group_at = e1, g1
    old_piece(slice(edge_at, snap.m), slice(group_at, len(snap.group_owner)), edge_shift, group_shift)
    m2 = snap.m + edge_shift

    # Reverse: drop the entries of the edges that went, move the others to their new forward position,
    # and slot the new edges' entries in (provider, dependent, position) order.
    rdep_edge, rdep_dependent = snap.rdep_edge, snap.rdep_dependent
    gone = sorted(_reverse_position(snap, e, p, i) for e, p, i in removed)
    if gone:
        rdep_edge, rdep_dependent = _deleted(rdep_edge, gone), _deleted(rdep_dependent, gone)
    if moves is not None:
        rdep_dependent = _move_in_place(rdep_dependent if gone else rdep_dependent.copy(), moves)
    if any(deltas):
        rdep_edge = _stepped(rdep_edge, np.asarray([s[3] for s in spans], dtype=np.int64),
                             np.asarray(deltas, dtype=np.int64))
    r_count = _with_zeros(np.diff(snap.rdep_ptr), moves, n2)
    for _, p, _ in removed:
        r_count[_moved_one(p, moves)] -= 1
    r_ptr = np.zeros(n2 + 1, dtype=np.int64)
    np.cumsum(r_count, out=r_ptr[1:])
    added.sort()
    slots = []
    for p, d, _ in added:
        lo, hi = int(r_ptr[p]), int(r_ptr[p + 1])
        slots.append(lo + int(np.searchsorted(rdep_dependent[lo:hi], d, side="left")))
        r_count[p] += 1
    if added:
        rdep_edge = _inserted(rdep_edge, slots, np.asarray([a[2] for a in added], dtype=np.int64))
        rdep_dependent = _inserted(rdep_dependent, slots, np.asarray([a[1] for a in added], dtype=np.int32))
    rdep_ptr = np.zeros(n2 + 1, dtype=np.int64)
    np.cumsum(r_count, out=rdep_ptr[1:])
    provider = np.concatenate(pieces["prov"]).astype(np.int32, copy=False)  # a new array: moved in place
    owner = np.concatenate(pieces["g_owner"]).astype(np.int32, copy=False)
    if moves is not None:
        for start, stop in old_edges:
            _move_in_place(provider[start:stop], moves)
        for start, stop in old_groups:
            _move_in_place(owner[start:stop], moves, ordered=True)
    dep_ptr = np.zeros(n2 + 1, dtype=np.int64)
    np.cumsum(dep_count, out=dep_ptr[1:])
    group_ptr = np.zeros(n2 + 1, dtype=np.int64)
    np.cumsum(group_count, out=group_ptr[1:])
    return {
        "dep_ptr": dep_ptr,
        "dep_provider": provider,
        "dep_kind": np.concatenate(pieces["kind"]).astype(np.int32, copy=False),
        "dep_buffer": np.concatenate(pieces["buf"]).astype(np.float64, copy=False),
        "dep_group": np.concatenate(pieces["group"]).astype(np.int32, copy=False),
        "group_ptr": group_ptr,
        "group_edge_ptr": np.concatenate([*pieces["g_edge"], np.asarray([m2], dtype=np.int64)]).astype(
            np.int64, copy=False),
        "group_owner": owner,
        "group_kind": np.concatenate(pieces["g_kind"]).astype(np.int32, copy=False),
        "group_label": np.concatenate(pieces["g_label"]).astype(np.int32, copy=False),
        "group_buffer": np.concatenate(pieces["g_buf"]).astype(np.float64, copy=False),
        "rdep_ptr": rdep_ptr,
        "rdep_dependent": rdep_dependent.astype(np.int32, copy=False),
        "rdep_edge": rdep_edge.astype(np.int64, copy=False),
    }


def _reverse_position(snap: GraphSnapshot, edge: int, provider: int, dependent: int) -> int:
    """Where forward edge ``edge`` (of ``dependent`` on ``provider``) sits in the reverse arrays."""
    lo, hi = int(snap.rdep_ptr[provider]), int(snap.rdep_ptr[provider + 1])
    seg = snap.rdep_dependent[lo:hi]
    first, last = int(np.searchsorted(seg, dependent, "left")), int(np.searchsorted(seg, dependent, "right"))
    return lo + first + int(np.flatnonzero(snap.rdep_edge[lo + first : lo + last] == edge)[0])


def _exposures(snap: GraphSnapshot, change: Change, source: ChangeSource, index: Mapping[str, int],
               moves: IntArray | None, zone_map: IntArray | None, zone_index: Mapping[str, int]
               ) -> dict[str, Any]:
    """``exp_asset``, ``exp_zone``, ``exp_intensity`` after the change (sorted by asset, then zone)."""
    if not change.exposed and moves is None and zone_map is None:
        return {}
    asset = _moved(snap.exp_asset, moves, ordered=True)
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
