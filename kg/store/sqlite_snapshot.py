"""Read the big tables of a SQLite store as columns, for :func:`kg.snapshot.snapshot_from_columns`.

Fetching a million rows through ``sqlite3`` costs a Python tuple and an
object per value, and most of a snapshot's values only need a number (an
asset's type, region, agency; a dependency's two ends, kind and group). So
each table is read by one aggregate query that returns every column as one
text value, in which SQLite (working with Python's lock released; for a big
file in child processes, several queries at once, see
:mod:`kg.store.sqlite_scan`) has written:

* text columns joined by a separator byte (``group_concat``), numbered by
  :mod:`kg.interning` without a Python string per value;
* integers as decimal text, parsed by numpy;
* floats exactly: coordinates as integers ``x * 2**55`` (scaling by a power of
  two is exact; the same query counts the values for which the product is
  not an integer, and such a column is fetched row by row instead), and
  columns of few distinct values (buffer hours, intensities, repair hours) as
  codes chosen in SQL (``CASE x WHEN ? THEN 0 ...`` compares the stored
  doubles exactly); with too many values for codes, scaled by the power of two
  that makes every one an integer (:func:`_exact_scale`), else row by row.

Every query of one build runs in a read transaction that also reads the
store's version; the columns are only used if all saw the version asked for.
Data that cannot be read this way (a value holding the separator byte, a NULL
key) makes :func:`read_columns` return None, and the caller builds from rows.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, replace
from typing import Any, cast

import numpy as np

from kg.interning import NULL, SEPARATOR, KeyIndex, Packed, parse_ints
from kg.snapshot import AssetColumns, DependencyColumns, ExposureColumns, FloatArray, IntArray, Interned
from kg.store.sqlite_scan import Moved, Scanner

__all__ = ["Columns", "read_columns"]

Columns = tuple[AssetColumns, DependencyColumns, ExposureColumns]
Column = Callable[[str, str], str]
"""``column(table, name)``: the SQL reading a column (``NULL`` where an older file lacks it)."""

_SEP = f"char({ord(SEPARATOR)})"
_FEW = 256
"""Most distinct values of a float column read as codes."""
_SCALE = 2.0**55
"""Coordinates are read as integers ``x * 2**55``: exact for ``0.125 <= |x| < 256`` and most values near 0."""
_MISSING = -(2**63)
"""The integer standing for NULL in a scaled column (no value scales to it: the check rejects ``x <= -256``)."""


class _NotColumnar(Exception):
    """The data cannot be read as columns (see the module's docstring)."""


def _text(expr: str, *, nullable: bool = False) -> str:
    value = f"coalesce('=' || {expr}, '{NULL}')" if nullable else expr
    return f"group_concat({value}, {_SEP})"


def _ints(text: bytes | None, count: int) -> IntArray:
    values = parse_ints(text, count)
    if values is None:
        raise _NotColumnar
    return values


@dataclass(frozen=True)
class _Float:
    """How one float column is read: its aggregate SQL, parameters, and how to decode what they give."""

    sql: list[str]
    params: list[Any]
    codes: list[float] | None = None
    """Distinct values when read as codes; None when scaled."""
    scale: float = _SCALE
    """The power of two the values are multiplied by when scaled."""

    @property
    def joins(self) -> list[bytes | None]:
        """How each of :attr:`sql`'s results over parts of a table combine (see :func:`_merge`)."""
        return [b","] if self.codes is not None else [b",", None]

    @classmethod
    def scaled(cls, column: str, scale: float) -> _Float:
        """The column read as integers ``x * scale``, with a count of the values for which that is not exact."""
        x = f"{column} * ?"
        check = (f"sum(CASE WHEN {column} IS NULL THEN 0 WHEN {x} != CAST({x} AS INTEGER) "
                 f"OR {x} <= {float(_MISSING)} THEN 1 ELSE 0 END)")
        return cls([f"group_concat(coalesce(CAST({x} AS INTEGER), {_MISSING}))", check], [scale] * 4, scale=scale)

    @classmethod
    def plan(cls, scan: Scanner, table: str, column: str) -> _Float | None:
        """The column read as codes of its few distinct values, else scaled (:func:`_exact_scale`), else None."""
        found = scan(f"SELECT DISTINCT {column} FROM {table} WHERE {column} IS NOT NULL LIMIT ?", (_FEW + 1,),
                     one=False)
        values = [float(v) for (v,) in found]
        if len(values) <= _FEW:
            whens = " ".join(f"WHEN ? THEN {i}" for i in range(len(values)))
            return cls([f"group_concat({f'CASE {column} {whens} ELSE -1 END' if values else '-1'})"], values, values)
        smallest, largest = scan(f"SELECT min(abs({column})), max(abs({column})) FROM {table} WHERE {column} != 0",
                                 here=True)
        scale = _exact_scale(smallest, largest)
        return None if scale is None else cls.scaled(column, scale)

    def decode(self, results: Sequence[Any], count: int) -> FloatArray | None:
        """The column from this plan's results; None when a scaled value was not exact."""
        if self.codes is not None:
            return np.asarray([*self.codes, np.nan], dtype=np.float64)[_ints(results[0], count)]  # -1 is NaN
        if results[1]:
            return None
        scaled = _ints(results[0], count)
        values = scaled / self.scale
        values[scaled == _MISSING] = np.nan
        return values


Parts = Sequence[tuple[str, Sequence[Any]]]
"""A scan in parts: ``(WHERE clause, its parameters)`` per part, in the order the whole scan goes."""
WHOLE: Parts = (("", ()),)


def _exact_scale(smallest: float | None, largest: float | None) -> float | None:
    """A power of two that turns every double of magnitude in ``[smallest, largest]`` into an int64 exactly.

    A double of binary exponent ``e`` is a multiple of ``2**(e - 52)``: scaled by ``2**(52 - e_min)`` all are
    integers, below ``2**63`` while ``e_max - e_min <= 10``. None when the magnitudes span more binades (or
    are not finite): such a column is read row by row.
    """
    if smallest is None or largest is None:
        return 1.0  # every value is 0 or missing
    if not (math.isfinite(smallest) and math.isfinite(largest)):
        return None
    low, high = math.frexp(smallest)[1] - 1, math.frexp(largest)[1] - 1
    power = 52 - low
    if high - low > 10 or not -1000 <= power <= 1000:
        return None
    return 2.0**power


def _aggregate(scan: Scanner, table: str, texts: Sequence[tuple[str, bool]],
               ints: Sequence[str], floats: Sequence[_Float | None], *, rowids: bool, parts: Parts = WHOLE) -> tuple[
                   int, list[Packed], list[IntArray], list[FloatArray | None], IntArray | None]:
    """One scan of ``table``: ``(count, text columns, integer columns, float columns, rowids)``.

    A float column planned as None, or scaled but not exact, comes back None (fetch it by rows).
    With several ``parts`` (see :func:`_rowid_ranges`, :func:`_key_halves`) the parts are read at once.
    """
    planned = [f for f in floats if f is not None]
    sql = ["count(*)", *(_text(expr, nullable=null) for expr, null in texts), *(f"group_concat({i})" for i in ints),
           *(s for f in planned for s in f.sql)]
    joins = [None, *(SEPARATOR.encode() for _ in texts), *(b"," for _ in ints), *(j for f in planned for j in f.joins)]
    if rowids:
        sql.append("group_concat(rowid)")
        joins.append(b",")
    query = f"SELECT {', '.join(sql)} FROM {table}"
    params = [p for f in planned for p in f.params]
    if len(parts) == 1:
        where, bounds = parts[0]
        row = scan(f"{query} {where}", [*params, *bounds])
    else:
        with ThreadPoolExecutor(max_workers=len(parts), thread_name_prefix="kg-snapshot-part") as pool:
            row = _merge(list(pool.map(lambda part: scan(f"{query} {part[0]}", [*params, *part[1]]), parts)), joins)
    count = int(row[0])
    at = 1
    packed = []
    for _, null in texts:
        column = Packed.of(row[at], count, nullable=null)
        if column is None:
            raise _NotColumnar
        packed.append(column)
        at += 1
    integers = [_ints(text, count) for text in row[at : at + len(ints)]]
    at += len(ints)
    decoded: list[FloatArray | None] = []
    for f in floats:
        if f is None:
            decoded.append(None)
            continue
        decoded.append(f.decode(row[at : at + len(f.sql)], count))
        at += len(f.sql)
    return count, packed, integers, decoded, (_ints(row[at], count) if rowids else None)


def _rowid_ranges(scan: Scanner, table: str, parts: int) -> Parts:
    """``table`` (one with rowids) in ``parts`` rowid ranges of about equal width."""
    # Two queries: SQLite finds a lone min() or max() of the rowid in the b-tree, both together by a scan.
    (low,) = scan(f"SELECT min(rowid) FROM {table}", here=True)
    (high,) = scan(f"SELECT max(rowid) FROM {table}", here=True)
    if low is None or parts == 1:
        return WHOLE
    bounds = [low - 1 + (high - low + 1) * i // parts for i in range(parts)] + [high]
    return [("WHERE rowid > ? AND rowid <= ?", (bounds[i], bounds[i + 1])) for i in range(parts)]


def _key_halves(scan: Scanner, table: str, key: str) -> Parts:
    """``table`` in two halves of its ``key`` order, split at the middle row."""
    found = scan(f"SELECT {key} FROM {table} ORDER BY {key} LIMIT 1 OFFSET (SELECT count(*) / 2 FROM {table})",
                 here=True)
    if found is None:
        return WHOLE
    middle = found[0].decode() if isinstance(found[0], bytes) else found[0]  # text: SQLite puts a BLOB after all text
    return [(f"WHERE {key} < ?", (middle,)), (f"WHERE {key} >= ?", (middle,))]


def _merge(rows: Sequence[Sequence[Any]], joins: Sequence[bytes | None]) -> list[Any]:
    """The row one aggregate over a whole table gives, from its rows over parts of it.

    ``joins[j]``: the separator column ``j``'s values were concatenated with, or None for a sum.
    """
    merged: list[Any] = []
    for j, join in enumerate(joins):
        values = [row[j] for row in rows if row[j] is not None]
        merged.append(sum(values) if join is None else join.join(values) if values else None)
    return merged


def _by_rows(scan: Scanner, table: str, column: str, order: str, count: int) -> FloatArray:
    rows = scan(f"SELECT {column} FROM {table} ORDER BY {order}", one=False)
    if len(rows) != count:
        raise Moved
    return np.array([v for (v,) in rows], dtype=np.float64)


def _by_rowid(scan: Scanner, table: str, column: str, rowids: IntArray) -> FloatArray:
    """``column`` of the rows with these rowids (in their order)."""
    rows = scan(f"SELECT rowid, {column} FROM {table} ORDER BY rowid", one=False)
    have = np.fromiter((r for r, _ in rows), dtype=np.int64, count=len(rows))
    at = np.searchsorted(have, rowids)
    if len(rows) != len(rowids) or (len(at) and not np.array_equal(have[at], rowids)):
        raise Moved
    return np.array([v for _, v in rows], dtype=np.float64)[at]


def _assets(scan: Scanner, column: Column) -> tuple[list[Packed], tuple[
        FloatArray, FloatArray, IntArray, FloatArray]]:
    def a(name: str) -> str:
        return column("assets", name)

    parts = _key_halves(scan, "assets", "id") if scan.processes else WHOLE
    floats = [_Float.scaled(a("lat"), _SCALE), _Float.scaled(a("lon"), _SCALE),
              _Float.plan(scan, "assets", a("repair_hours"))]
    count, packed, (population,), decoded, _ = _aggregate(
        scan, "assets",
        [("id", False), (a("type"), False), (a("name"), True), (a("region"), True), (a("agency"), True)],
        [f"CAST(coalesce({a('population')}, 0) AS INTEGER)"], floats, rowids=False, parts=parts)
    if not packed[0].ascending():  # the scan was not in id order: the snapshot numbers assets by id
        raise _NotColumnar
    lat, lon, hours = (values if values is not None else _by_rows(scan, "assets", name, "id", count)
                       for values, name in zip(decoded, (a("lat"), a("lon"), a("repair_hours")), strict=True))
    return packed, (lat, lon, population, hours)


def _edges(scan: Scanner, table: str, texts: Sequence[str], number: str, *,
           parts: int = 1) -> tuple[list[Packed], FloatArray]:
    """One relation table: its text columns and its float column, in one order (scanned in ``parts``)."""
    ranges = _rowid_ranges(scan, table, parts)
    planned = _Float.plan(scan, table, number)
    # Read neither as codes nor scaled, the float column comes in a second query: rowids line the two up.
    _, packed, _, (values,), rowids = _aggregate(scan, table, [(t, False) for t in texts], [], [planned],
                                                 rowids=planned is None, parts=ranges)
    if values is None:
        if rowids is None:  # scaled, yet not exact: cannot happen (see _exact_scale); build from the rows
            raise _NotColumnar
        values = _by_rowid(scan, table, number, rowids)
    return packed, values


def read_columns(uri: str, version: int, column: Column, *, processes: bool = False) -> Columns | None:
    """The assets, dependencies and exposures of the store at ``version`` as columns.

    Parameters
    ----------
    uri
        The store's file as a read-only SQLite URI (``file:...?mode=ro``).
    version
        The store version the columns must be of.
    column
        ``column(table, name)``: SQL for a column (``NULL`` for one the file lacks).
    processes
        Run the queries in worker processes (:mod:`kg.store.sqlite_scan`): worth it for a big file.

    Returns
    -------
    Columns or None
        None when the data cannot be read as columns (a value holding the
        separator byte, a NULL key) or the store kept changing: build from rows.
    """
    for _ in range(3):
        try:
            return _read_once(Scanner(uri, version, processes=processes), column)
        except Moved:
            continue
        except _NotColumnar:
            return None
    return None


def _read_once(scan: Scanner, column: Column) -> Columns:
    with ThreadPoolExecutor(max_workers=6, thread_name_prefix="kg-snapshot") as pool:
        index: Future[KeyIndex] = Future()
        assets = pool.submit(_assets, scan, column)
        dependencies = pool.submit(_dependencies, scan, pool, index)
        exposures = pool.submit(_edges, scan, "exposures", ("asset", "zone"), "intensity")
        try:
            (ids, types, names, regions, agencies), (lat, lon, population, repair_hours) = assets.result()
            index.set_result(KeyIndex(ids))
        except BaseException as exc:
            index.set_exception(exc)  # the dependencies' thread waits for it
            raise
        # The assets are decoded (their id index too) while the dependencies are read or looked up.
        asset_columns = AssetColumns(
            ids=cast(list[str], ids.strings()), types=Interned(*types.intern()), names=names.strings(),
            regions=Interned(*regions.intern()), agencies=Interned(*agencies.intern()),
            lat=lat, lon=lon, population=population, repair_hours=repair_hours)
        asset_columns = replace(asset_columns, index=asset_columns.id_index())
        (exposed, zone), intensity = exposures.result()
        exposure_columns = ExposureColumns(asset=index.result().positions(exposed), zones=Interned(*zone.intern()),
                                           intensity=intensity)
        return asset_columns, dependencies.result(), exposure_columns


def _dependencies(scan: Scanner, pool: ThreadPoolExecutor, index: Future[KeyIndex]) -> DependencyColumns:
    """The dependencies, ends looked up among the assets as soon as both are read.

    The table, three rows per asset, takes longest: in processes, two rowid ranges at once. Its two ends are
    looked up on three threads (compiled, without Python's lock): the providers in two halves, as they cost
    twice the dependents (each a cache miss, where dependents come in runs of the same asset).
    """
    (dependent, provider, kind, group), buffers = _edges(scan, "dependencies", ("dependent", "provider", "kind", "grp"),
                                                         "buffer_hours", parts=2 if scan.processes else 1)
    keys = index.result()
    half = len(provider) // 2
    providers = [pool.submit(keys.positions, part)
                 for part in (provider.part(0, half), provider.part(half, len(provider)))]
    kinds, groups = pool.submit(kind.intern), pool.submit(group.intern)
    return DependencyColumns(
        dependent=keys.positions(dependent), provider=np.concatenate([f.result() for f in providers]),
        kinds=Interned(*kinds.result()), groups=Interned(*groups.result()), buffer_hours=buffers)
