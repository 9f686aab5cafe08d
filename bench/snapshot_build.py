"""Full snapshot builds: the columnar builders vs the old row-by-row builder, from SQLite and from Neo4j.

    python bench/snapshot_build.py [--city FILE | --assets 1000000] [--store bolt://HOST:PORT]
                                   [--repeat 3] [--neo4j-loaded] [--no-old] [--json]

The full-build half of ``bench/snapshot.py`` (``--part build`` runs :func:`run`).

1. The city: a copy of the SQLite city ``--city`` (never written itself; the
   1M city of ``bench/api.py``, seed 7, when it exists and ``--assets`` is 1M),
   or one generated with :func:`kg.synth.city_rows` (``--assets``, seed 7) and
   loaded by the project's loader.
2. SQLite: :meth:`kg.store.sqlite.SQLiteStore.build_snapshot` (what a cache
   miss runs) vs the old builder (:func:`tests.reference_snapshot.reference_snapshot`
   over :meth:`~kg.store.sqlite.SQLiteStore.rows`), same store, same run; the
   two snapshots are compared field by field. Target: <= 5 s at 1M.
3. Neo4j (``--store``, default ``$KG_NEO4J_URL``; skipped without one): the
   same rows loaded with :meth:`kg.store.neo4j.Neo4jStore.write` into the
   emptied database (``--neo4j-loaded``: it already holds them), then the same
   two builds from a fresh connection. Target: <= 15 s at 1M. For 1M assets give
   the server room, e.g. ``KG_NEO4J_HEAP=4g KG_NEO4J_PAGECACHE=4g scripts/neo4j start``.

Times are wall-clock medians of ``--repeat`` builds (the first build of a
process also loads Numba's compiled functions from its cache; it is included).
The ratio is old / new.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import os
import shutil
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import numpy as np

from kg.load.plan import LoadPlan
from kg.schema import TABLES
from kg.snapshot import GraphSnapshot
from kg.store.neo4j import Neo4jStore
from kg.store.sqlite import SQLiteStore
from kg.synth import city_rows
from tests.reference_snapshot import reference_snapshot

__all__ = ["main", "run"]

BENCH_CITY = Path("/tmp/citykg-bench-live-1m/city.db")
"""The 1M-asset city of bench/api.py (seed 7), copied rather than generated when it is there."""
TARGETS = {"sqlite": 5.0, "neo4j": 15.0}
"""Seconds for a full build at 1M assets."""


def _differences(new: GraphSnapshot, old: GraphSnapshot) -> list[str]:
    """Fields in which two snapshots differ (arrays by dtype, shape and values, NaN equal to NaN)."""
    differ = []
    for field in dataclasses.fields(GraphSnapshot):
        a, b = getattr(new, field.name), getattr(old, field.name)
        if isinstance(b, np.ndarray):
            same = (isinstance(a, np.ndarray) and a.dtype == b.dtype and a.shape == b.shape
                    and np.array_equal(a, b, equal_nan=b.dtype.kind == "f"))
        else:
            same = a == b
        if not same:
            differ.append(field.name)
    return differ


def _timed(build: Callable[[], GraphSnapshot], repeat: int) -> tuple[float, list[float], GraphSnapshot]:
    times = []
    snap = None
    for _ in range(repeat):
        started = time.perf_counter()
        snap = build()
        times.append(time.perf_counter() - started)
    assert snap is not None
    return statistics.median(times), times, snap


def _compare(name: str, new: Callable[[], GraphSnapshot], old: Callable[[], GraphSnapshot] | None,
             repeat: int) -> dict[str, Any]:
    new_s, new_all, snap = _timed(new, repeat)
    at_size = snap.n >= 1_000_000
    verdict = ("met" if new_s <= TARGETS[name] else "missed") if at_size else "applies at 1M"
    result: dict[str, Any] = {"store": name, "assets": snap.n, "dependencies": snap.m, "new_s": new_s,
                              "new_runs_s": new_all, "target_s": TARGETS[name],
                              "meets_target": new_s <= TARGETS[name] if at_size else None}
    print(f"{name:7s} new  {new_s:7.2f} s  (runs {', '.join(f'{t:.2f}' for t in new_all)}; {snap.n:,} assets, "
          f"{snap.m:,} dependencies; target <= {TARGETS[name]:g} s at 1M: {verdict})", flush=True)
    if old is not None:
        old_s, _, reference = _timed(old, 1)
        differ = _differences(snap, reference)
        result.update(old_s=old_s, ratio=old_s / new_s, identical=not differ, differing_fields=differ)
        print(f"{name:7s} old  {old_s:7.2f} s  ratio old/new {old_s / new_s:5.2f}x; snapshots "
              f"{'identical field by field' if not differ else 'DIFFER in ' + ', '.join(differ)}", flush=True)
    return result


def _city(args: argparse.Namespace, work: Path) -> SQLiteStore:
    target = work / "city.db"
    source = Path(args.city) if args.city else (BENCH_CITY if args.assets == 1_000_000 and BENCH_CITY.exists()
                                                else None)
    if source is not None:
        for suffix in ("", "-wal"):
            if Path(f"{source}{suffix}").exists():
                shutil.copyfile(f"{source}{suffix}", f"{target}{suffix}")
        print(f"city: a copy of {source}", flush=True)
        return SQLiteStore(str(target))
    store = SQLiteStore(str(target), create=True)
    started = time.perf_counter()
    store.write(LoadPlan(rows=city_rows(args.assets, seed=7)))
    print(f"city: generated, {args.assets:,} assets (seed 7), loaded into SQLite in "
          f"{time.perf_counter() - started:.1f} s", flush=True)
    return store


def run(args: argparse.Namespace, work: Path) -> dict[str, Any]:
    """The full-build half: SQLite, then Neo4j when a server is given; returns the figures."""
    results: dict[str, Any] = {}
    sqlite = _city(args, work)
    try:
        version = sqlite.version()
        results["sqlite"] = _compare("sqlite", lambda: sqlite.build_snapshot(version),
                                     None if args.no_old else lambda: reference_snapshot(version, sqlite.rows),
                                     args.repeat)
        url = args.store or os.environ.get("KG_NEO4J_URL")
        if not url:
            print("neo4j   skipped: no --store and no KG_NEO4J_URL", flush=True)
            return results
        loader = Neo4jStore(url)
        try:
            if not args.neo4j_loaded:
                rows = {table: list(sqlite.rows(table)) for table in TABLES}
                started = time.perf_counter()
                loader.clear()
                loader.write(LoadPlan(rows=rows))
                del rows
                took = time.perf_counter() - started
                print(f"neo4j   loaded the same rows with the project's loader in {took:.1f} s", flush=True)
        finally:
            loader.close()
        neo4j = Neo4jStore(url)  # a fresh connection, as a new API process would have
        try:
            version = neo4j.version()
            results["neo4j"] = _compare("neo4j", lambda: neo4j.build_snapshot(version),
                                        None if args.no_old else lambda: reference_snapshot(version, neo4j.rows),
                                        args.repeat)
        finally:
            neo4j.close()
    finally:
        sqlite.close()
    return results


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """The options of the full-build half (``bench/snapshot.py --part build`` shares them)."""
    parser.add_argument("--assets", type=int, default=1_000_000, help="assets of the city (default 1,000,000)")
    parser.add_argument("--city", help="an existing SQLite city to copy (never written) instead of generating one")
    parser.add_argument("--store", help="Neo4j to load the city into and build from (default $KG_NEO4J_URL)")
    parser.add_argument("--repeat", type=int, default=3, help="builds timed by the new builders (median)")
    parser.add_argument("--neo4j-loaded", action="store_true", help="Neo4j already holds this city: do not reload")
    parser.add_argument("--no-old", action="store_true", help="skip the old builder (no ratio, no comparison)")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    add_arguments(parser)
    parser.add_argument("--json", action="store_true", help="print the figures as one JSON line at the end")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="citykg-bench-snapshot-") as folder:
        results = run(args, Path(folder))
    if args.json:
        print(json.dumps(results))


if __name__ == "__main__":
    main()
