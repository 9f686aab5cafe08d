"""Memory of the largest requests: what one analysis holds beyond the shared snapshot, per item.

    python bench/budget.py [--assets 100000] [--seed 7] [--samples 300]

On a generated city with its snapshot and propagation network built (shared by
every request, not counted), each analysis runs once under ``tracemalloc``
(numpy included) and prints its peak and what it still holds, and the peak per
item where the request's size is set by a count of items (failures, assets). The
per-item figures are what docs/security.md multiplies by the API's limits to
state each request's worst case.
"""

from __future__ import annotations

import argparse
import sys
import time
import tracemalloc
from collections.abc import Callable
from pathlib import Path
from typing import Any

import orjson

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from kg.analysis.cascade import cascade, network
from kg.analysis.criticality import measures, rank
from kg.analysis.hazards import exposed, monte_carlo
from kg.analysis.traces import dependencies, dependents, single_points_of_failure
from kg.snapshot import GraphSnapshot, build_snapshot
from kg.synth import city_rows


def _city(assets: int, seed: int) -> GraphSnapshot:
    rows = city_rows(assets, seed)
    return build_snapshot(1, lambda t: rows[t])


def _measure(label: str, fn: Callable[[], Any], items: int | None = None) -> None:
    tracemalloc.start()
    start = time.perf_counter()
    fn()
    seconds = time.perf_counter() - start
    kept, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    per = f"  {peak / items:6,.0f} B per item ({items:,})" if items else ""
    print(f"  {label:<52} peak {peak / 2**20:7.1f} MiB  kept {kept / 2**20:6.1f} MiB  "
          f"{seconds:6.1f} s{per}", flush=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--assets", type=int, default=100_000)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--samples", type=int, default=300)
    args = parser.parse_args()

    snap = _city(args.assets, args.seed)
    net = network(snap)
    plants = [a for a in snap.asset_ids if a.startswith("pp-")]
    start = {snap.index[a]: 0.0 for a in plants}
    failures = len(net.spread(start).failed)
    print(f"city: {snap.n:,} assets; every power plant failing takes down {failures:,} "
          "(tracemalloc slows the runs several times)")
    _measure("propagation of every plant's failure", lambda: net.spread(start), failures)
    _measure("cascade of every plant, its dict and JSON",
             lambda: orjson.dumps(cascade(snap, [(a, 0.0) for a in plants]).to_dict()), failures)
    _measure("criticality: measures, ranking to top 1000, JSON",
             lambda: orjson.dumps([c.to_dict() for c in rank(snap, measures(snap), top=1000)]), snap.n)
    zones = list(snap.zone_ids)[:3]
    _measure(f"Monte Carlo: {len(exposed(snap, zones).asset):,} exposed, {args.samples} samples, JSON",
             lambda: orjson.dumps(monte_carlo(snap, zones, samples=args.samples, seed=1).to_dict()))
    hospital = max((a for a in snap.asset_ids if a.startswith("h-")), key=lambda a: len(dependencies(snap, a)))
    upstream = len(dependencies(snap, hospital))
    _measure("single points of failure of a hospital", lambda: single_points_of_failure(snap, hospital), upstream)
    plant = max(plants, key=lambda a: len(dependents(snap, a)))
    found = len(dependents(snap, plant))
    _measure("dependents of a plant, listed, JSON", lambda: orjson.dumps(dependents(snap, plant).to_list(snap)),
             found)


if __name__ == "__main__":
    main()
