"""Read the big tables of a Neo4j store as columns, for :func:`kg.snapshot.snapshot_from_columns`.

The row path (:func:`kg.store.neo4j_mapping.read_query`) makes the server
walk each asset's relationships inside a pattern comprehension and the
client decode a million records. Here (:func:`kg.store.neo4j_mapping.snapshot_queries`)
every query returns one record of lists, relationships are read by scanning
their type (the server's cheapest path), nodes are named by internal id and
turned into asset positions with numpy, and the queries run at once on
sessions of their own (the server runs each on one core; dependencies, the
biggest, are split by source). The snapshot is the one the rows give.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from typing import Any

import numpy as np
import numpy.typing as npt

from kg.snapshot import AssetColumns, DependencyColumns, ExposureColumns, IntArray, Interned
from kg.store.neo4j_mapping import snapshot_queries

__all__ = ["Columns", "read_columns"]

Columns = tuple[AssetColumns, DependencyColumns, ExposureColumns]
Run = Callable[[str, Mapping[str, Any]], dict[str, Any]]
"""``run(query, params)``: the one record of a query, as a dict, read in a transaction of its own."""

PARTS = 2
"""Queries the dependencies are split into (one per core of a small server)."""


class _NotColumnar(Exception):
    """Some list came back shorter than its neighbours (a null where the key forbids one)."""


def _same_length(*columns: Sequence[Any]) -> int:
    lengths = {len(c) for c in columns}
    if len(lengths) != 1:
        raise _NotColumnar
    return lengths.pop()


class _Positions:
    """Asset positions of internal node ids (the assets query's order), -1 for a node that is no asset."""

    def __init__(self, nodes: Sequence[int]) -> None:
        self._nodes = np.asarray(nodes, dtype=np.int64)
        self._order = np.argsort(self._nodes, kind="stable")
        self._sorted = self._nodes[self._order]

    def __call__(self, nodes: Sequence[int]) -> npt.NDArray[np.int32]:
        wanted = np.asarray(nodes, dtype=np.int64)
        if not len(self._sorted):
            return np.full(len(wanted), -1, dtype=np.int32)
        at = np.minimum(np.searchsorted(self._sorted, wanted), len(self._sorted) - 1)
        return np.where(self._sorted[at] == wanted, self._order[at], -1).astype(np.int32)


def _floats(wrapped: Sequence[Sequence[Any]]) -> npt.NDArray[np.float64]:
    """``[[x], ...]`` (nullable values, see the queries) as floats, NaN for null."""
    return np.array(wrapped, dtype=np.float64).reshape(len(wrapped))


def _reference(record: dict[str, Any], at: _Positions, n: int) -> Interned:
    """A reference column of the assets (region, agency) from its relationships: the target's id, or None."""
    if _same_length(record["nodes"], record["targets"]) == 0:
        return Interned(np.zeros(n, dtype=np.int32), [None])
    targets = Interned.of(record["targets"])
    codes = np.zeros(n, dtype=np.int32)
    positions = at(record["nodes"])
    has = positions >= 0
    codes[positions[has]] = targets.codes[has] + 1
    return Interned(codes, [None, *targets.values])


def read_columns(run: Run, *, parts: int = PARTS) -> Columns | None:
    """The assets, dependencies and exposures of the database as columns, or None (then read rows).

    Parameters
    ----------
    run
        Runs one query in a read transaction of its own (called from several threads at once) and
        returns its one record as a dict.
    parts
        Queries to split the dependencies into.
    """
    queries = snapshot_queries(parts)
    with ThreadPoolExecutor(max_workers=3 + parts, thread_name_prefix="kg-snapshot") as pool:
        def ask(name: str, **params: Any) -> Future[dict[str, Any]]:
            return pool.submit(run, queries[name], params)

        assets = ask("assets")
        deps = [ask("dependencies", parts=parts, part=part) for part in range(parts)]
        references = {name[len("assets."):]: ask(name) for name in queries if name.startswith("assets.")}
        exposures = ask("exposures")
        try:
            return _columns(assets.result(), {k: f.result() for k, f in references.items()},
                            [f.result() for f in deps], exposures.result())
        except _NotColumnar:
            return None


def _columns(assets: dict[str, Any], references: dict[str, dict[str, Any]], deps: list[dict[str, Any]],
             exposures: dict[str, Any]) -> Columns:
    n = _same_length(assets["nodes"], assets["ids"], assets["types"], assets["names"], assets["numbers"])
    at = _Positions(assets["nodes"])
    numbers = np.array(assets["numbers"], dtype=np.float64).reshape(n, 4)
    population = np.nan_to_num(numbers[:, 2], nan=0.0).astype(np.int64)
    asset_columns = AssetColumns(
        ids=assets["ids"], types=Interned.of(assets["types"]), names=[name for (name,) in assets["names"]],
        regions=_reference(references["region"], at, n), agencies=_reference(references["agency"], at, n),
        lat=np.ascontiguousarray(numbers[:, 0]), lon=np.ascontiguousarray(numbers[:, 1]), population=population,
        repair_hours=np.ascontiguousarray(numbers[:, 3]))

    dependent: list[IntArray | npt.NDArray[np.int32]] = []
    provider: list[npt.NDArray[np.int32]] = []
    kinds: list[str] = []
    groups: list[str] = []
    buffers: list[npt.NDArray[np.float64]] = []
    for record in deps:
        sources, targets, kind, group, buffer = record.values()
        _same_length(sources, targets, kind, group, buffer)
        dependent.append(at(sources))
        provider.append(at(targets))
        kinds += kind
        groups += group
        buffers.append(_floats(buffer))
    dependency_columns = DependencyColumns(
        dependent=np.concatenate(dependent) if dependent else np.zeros(0, np.int32),
        provider=np.concatenate(provider) if provider else np.zeros(0, np.int32),
        kinds=Interned.of(kinds), groups=Interned.of(groups),
        buffer_hours=np.concatenate(buffers) if buffers else np.zeros(0))

    sources, targets, intensity = exposures.values()
    _same_length(sources, targets, intensity)
    exposure_columns = ExposureColumns(asset=at(sources), zones=Interned.of(targets), intensity=_floats(intensity))
    return asset_columns, dependency_columns, exposure_columns
