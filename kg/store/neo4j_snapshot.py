"""Read the big tables of a Neo4j store as columns, for :func:`kg.snapshot.snapshot_from_columns`.

The row path (:func:`kg.store.neo4j_mapping.read_query`) makes the server
walk each asset's relationships inside a pattern comprehension and the
client decode a million records. Here (:func:`kg.store.neo4j_mapping.snapshot_queries`)
every query scans one label or relationship type and returns a few records
of flat lists; nodes are named by internal id and turned into asset positions
with numpy (a node that is no asset has none, and its values are dropped);
strings that repeat (types, kinds, groups, referenced ids) come once per group
rather than once per row; the queries run at once on sessions of their own
(the server runs each on one core; dependencies, the biggest, are split in
parts). The snapshot is the one the rows give; a null where a key forbids one
(a type, kind or group) makes :func:`read_columns` return None, and the caller
reads rows.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor, as_completed
from typing import Any

import numpy as np
import numpy.typing as npt

from kg.snapshot import AssetColumns, DependencyColumns, ExposureColumns, Interned
from kg.store.neo4j_mapping import snapshot_queries

__all__ = ["Columns", "Positions", "read_columns"]

Columns = tuple[AssetColumns, DependencyColumns, ExposureColumns]
Records = Sequence[Sequence[Any]]
Run = Callable[[str, Mapping[str, Any]], Records]
"""``run(query, params)``: the records of a query (each a sequence of its values), read in a transaction of
its own."""

PARTS = 2
"""Queries the dependencies are split into (one per core of a small server)."""
DENSE = 8
"""Internal ids are record positions, so dense; a table of ``DENSE`` entries per asset at most."""

Int32Array = npt.NDArray[np.int32]


class _NotColumnar(Exception):
    """A null where the key forbids one (a type, kind or group), or lists of different lengths."""


def _array(values: Sequence[Any], dtype: npt.DTypeLike) -> npt.NDArray[Any]:
    """A list the driver decoded as an array (``fromiter`` with a count: a quarter faster than ``asarray``)."""
    return np.fromiter(values, dtype=dtype, count=len(values))


def _same_length(*columns: Sequence[Any]) -> int:
    lengths = {len(c) for c in columns}
    if len(lengths) != 1:
        raise _NotColumnar
    return lengths.pop()


class Positions:
    """Asset positions of internal node ids (the order of ``nodes``), -1 for a node that is no asset.

    Internal ids are record positions, dense from 0, so a table indexed by id answers with one gather;
    ids spread far wider than the assets (a store that deleted many nodes) are looked up by binary search.
    """

    def __init__(self, nodes: Sequence[int]) -> None:
        ids = _array(nodes, np.int64)
        n = len(ids)
        top = int(ids.max()) + 1 if n else 0
        self._table: Int32Array | None = None
        if top <= DENSE * n + 1024:
            self._table = np.full(top + 1, -1, dtype=np.int32)  # the last entry answers every id beyond
            self._table[ids] = np.arange(n, dtype=np.int32)
        else:
            self._order = np.argsort(ids, kind="stable")
            self._sorted = ids[self._order]

    def __call__(self, nodes: Sequence[int]) -> Int32Array:
        """Positions of ``nodes`` (-1 where a node is none of the assets)."""
        wanted: npt.NDArray[np.int64] = _array(nodes, np.int64)
        if self._table is not None:
            return self._table[np.clip(wanted, 0, len(self._table) - 1)]
        if not len(self._sorted):
            return np.full(len(wanted), -1, dtype=np.int32)
        at = np.minimum(np.searchsorted(self._sorted, wanted), len(self._sorted) - 1)
        return np.where(self._sorted[at] == wanted, self._order[at], -1).astype(np.int32)


def read_columns(run: Run, *, parts: int = PARTS) -> Columns | None:
    """The assets, dependencies and exposures of the database as columns, or None (then read rows).

    Every query is sent at once; the assets' ids (the shortest) are read first, and each other result is
    turned into columns as soon as it arrives, while the server still works on the rest.

    Parameters
    ----------
    run
        Runs one query in a read transaction of its own (called from several threads at once) and
        returns its records.
    parts
        Queries to split the dependencies into.
    """
    queries = snapshot_queries(parts)
    nan = float("nan")
    asks: list[tuple[str, dict[str, Any]]] = [
        *((name, {"nan": nan}) for name in queries if name.startswith("assets.")),
        *(("dependencies", {"parts": parts, "part": part, "nan": nan}) for part in range(parts)),
        ("exposures", {"nan": nan})]
    with ThreadPoolExecutor(max_workers=len(asks) + 1, thread_name_prefix="kg-snapshot") as pool:
        assets = pool.submit(run, queries["assets"], {})
        futures = {pool.submit(run, queries[name], params): (name, int(params.get("part", 0))) for name, params in asks}
        try:
            reader = _Reader(assets.result())
            for done in as_completed(futures):
                reader.read(*futures[done], done.result())
            return reader.columns()
        except _NotColumnar:
            for future in futures:
                future.cancel()
            return None


class _Reader:
    """Columns gathered from the query results, in whatever order they arrive (then :meth:`columns`)."""

    def __init__(self, assets: Records) -> None:
        ((nodes, ids),) = assets
        self.n = _same_length(nodes, ids)
        self.at = Positions(nodes)
        self.ids = tuple(ids)
        self.index = dict(zip(self.ids, range(self.n), strict=True))
        self.names = np.full(self.n, None, dtype=object)
        self.lat, self.lon, self.repair_hours = (np.full(self.n, np.nan) for _ in range(3))
        self.population = np.zeros(self.n, dtype=np.int64)
        self.keyed: dict[str, Interned] = {}
        self.deps: list[tuple[int, Records]] = []
        self.exposures: Records = []

    def read(self, name: str, part: int, records: Records) -> None:
        """Take in the records of query ``name`` (``part`` of the dependencies)."""
        if name == "assets.names":
            ((named, names),) = records
            _same_length(named, names)
            self._scatter(named, names, self.names)
        elif name == "assets.numbers":
            ((numbered, *numbers),) = records
            _same_length(numbered, *numbers)
            for column, values in zip((self.lat, self.lon, self.population, self.repair_hours), numbers, strict=True):
                self._scatter(numbered, values, column)
        elif name.startswith("assets."):
            key = name.removeprefix("assets.")
            self.keyed[key] = _keyed(records, self.at, self.n, nullable=key != "type")
        elif name == "dependencies":
            self.deps.append((part, records))
        elif name == "exposures":
            self.exposures = records

    def _scatter(self, nodes: Sequence[int], values: Sequence[Any], out: npt.NDArray[Any]) -> None:
        """``out[position of node] = value`` for the nodes that are assets."""
        positions = self.at(nodes)
        has = positions >= 0
        column = _array(values, out.dtype)
        out[positions[has]] = column[has]

    def columns(self) -> Columns:
        """The columns of every result read."""
        assets = AssetColumns(
            ids=self.ids, index=self.index, types=self.keyed["type"], names=self.names.tolist(),
            regions=self.keyed["region"], agencies=self.keyed["agency"], lat=self.lat, lon=self.lon,
            population=self.population, repair_hours=self.repair_hours)
        return assets, self._dependencies(), self._exposures()

    def _dependencies(self) -> DependencyColumns:
        dependent: list[Int32Array] = []
        provider: list[Int32Array] = []
        buffers: list[npt.NDArray[np.float64]] = []
        kinds: dict[str, int] = {}
        groups: dict[str, int] = {}
        kind_codes: list[Int32Array] = []
        group_codes: list[Int32Array] = []
        for _, records in sorted(self.deps, key=lambda part: part[0]):
            for kind, group, sources, targets, buffer_hours in records:
                if kind is None or group is None:
                    raise _NotColumnar
                m = _same_length(sources, targets, buffer_hours)
                dependent.append(self.at(sources))
                provider.append(self.at(targets))
                buffers.append(_array(buffer_hours, np.float64))
                kind_codes.append(np.full(m, kinds.setdefault(kind, len(kinds)), dtype=np.int32))
                group_codes.append(np.full(m, groups.setdefault(group, len(groups)), dtype=np.int32))
        return DependencyColumns(
            dependent=_joined(dependent, np.int32), provider=_joined(provider, np.int32),
            kinds=Interned(_joined(kind_codes, np.int32), list(kinds)),
            groups=Interned(_joined(group_codes, np.int32), list(groups)),
            buffer_hours=_joined(buffers, np.float64))

    def _exposures(self) -> ExposureColumns:
        exposed: list[Int32Array] = []
        intensities: list[npt.NDArray[np.float64]] = []
        zone_codes: list[Int32Array] = []
        zones: list[str | None] = []
        for zone, sources, intensity in self.exposures:
            m = _same_length(sources, intensity)
            exposed.append(self.at(sources))
            intensities.append(_array(intensity, np.float64))
            zone_codes.append(np.full(m, len(zones), dtype=np.int32))
            zones.append(zone)  # one record per zone node: a zone id comes once (a null id may come more)
        return ExposureColumns(
            asset=_joined(exposed, np.int32), zones=Interned(_joined(zone_codes, np.int32), zones),
            intensity=_joined(intensities, np.float64))


def _keyed(records: Records, at: Positions, n: int, *, nullable: bool) -> Interned:
    """A column of the assets from records ``(value, nodes)``: each asset's value, None for an asset in none.

    Without ``nullable``, a null value or an asset in no record is :class:`_NotColumnar`.
    """
    codes = np.full(n, -1, dtype=np.int32)
    numbers: dict[Any, int] = {}
    for value, nodes in records:
        if value is None and not nullable:
            raise _NotColumnar
        positions = at(nodes)
        codes[positions[positions >= 0]] = numbers.setdefault(value, len(numbers))
    if not nullable:
        if (codes < 0).any():
            raise _NotColumnar
        return Interned(codes, list(numbers))
    return Interned(codes + 1, [None, *numbers])  # -1 (no record) becomes None's 0


def _joined(pieces: list[npt.NDArray[Any]], dtype: type[np.generic]) -> npt.NDArray[Any]:
    return np.concatenate(pieces) if pieces else np.zeros(0, dtype=dtype)
