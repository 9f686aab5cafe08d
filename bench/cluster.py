"""Monte Carlo on a Dask cluster: 2 workers vs 1 worker on the same city, and the results identical.

    python bench/cluster.py [--assets 1000000] [--samples 2000] [--zone ZONE] [--store URL] [--work DIR]

Generates (or reuses, see bench/api.py) a synthetic city in SQLite, or reads
``--store`` (a copy of a cached city is fine: the bench only reads it), builds
its snapshot, picks a 100-year flood (the ``flood-*-100y`` zone with the most
exposed assets, or ``--zone``), and runs ``--samples`` Monte Carlo samples
(``kg.analysis.hazards.monte_carlo``, seed 0) three ways:

* in this process (for reference);
* on a cluster of 1 worker, then on a cluster of 2 workers, each started with
  ``scripts/dask start --workers N`` (one thread per worker, from the project's
  virtualenv) and stopped afterwards; the clusters run one after the other.

Each cluster first gets a short warm-up run, which ships the snapshot to every
worker and lets each prepare its network once (printed apart: the executor
keeps both for every later call on the same snapshot); the timed run follows.
Prints each time, the ratio 1 worker / 2 workers (target >= 1.7x on two cores)
and whether the three results are identical (they must be: every sample draws
from its own seed).
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.api import _prepare_store
from kg.analysis.cascade import network
from kg.analysis.hazards import exposed, monte_carlo
from kg.executor import Executor, connect
from kg.snapshot import GraphSnapshot
from kg.store import open_store

ROOT = Path(__file__).resolve().parent.parent


def _zone(snap: GraphSnapshot, wanted: str | None) -> str:
    if wanted:
        return wanted
    floods = [z for z in snap.zone_ids if z.startswith("flood-") and z.endswith("-100y")]
    if not floods:
        sys.exit("no flood-*-100y zone in this city; give --zone")
    return max(floods, key=lambda z: (len(exposed(snap, [z]).asset), z))


def _timed(snap: GraphSnapshot, zone: str, samples: int, executor: Executor | None) -> tuple[float, dict[str, Any]]:
    start = time.perf_counter()
    result = monte_carlo(snap, [zone], samples=samples, seed=0, executor=executor).to_dict()
    return time.perf_counter() - start, result


def _on_cluster(snap: GraphSnapshot, zone: str, samples: int, workers: int,
                state: Path) -> tuple[float, dict[str, Any]]:
    env = {**os.environ, "KG_DASK_STATE": str(state)}
    script = str(ROOT / "scripts" / "dask")
    url = subprocess.run([script, "start", "--workers", str(workers)], env=env, check=True, capture_output=True,
                         text=True).stdout.strip().splitlines()[-1]
    try:
        with connect(url) as ex:
            warm, _ = _timed(snap, zone, 32 * workers, ex)  # four chunks a worker: each prepares its network
            print(f"  {workers} worker(s): warm-up (ship the snapshot, prepare the network) {warm:.1f} s",
                  file=sys.stderr)
            took, result = _timed(snap, zone, samples, ex)
            print(f"  {workers} worker(s): {samples:,} samples in {took:.1f} s", file=sys.stderr)
            return took, result
    finally:
        subprocess.run([script, "stop"], env=env, check=False, capture_output=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--assets", type=int, default=1_000_000)
    parser.add_argument("--seed", type=int, default=7, help="seed of the generated city")
    parser.add_argument("--samples", type=int, default=2000)
    parser.add_argument("--zone", help="hazard zone (default: the flood-*-100y zone with the most exposed assets)")
    parser.add_argument("--store", help="read this store instead of generating a city")
    parser.add_argument("--work", type=Path, default=Path(tempfile.gettempdir()) / "citykg-bench-cluster",
                        help="where the generated city is kept between runs")
    parser.add_argument("--skip-in-process", action="store_true", help="leave out the in-process reference run")
    args = parser.parse_args()
    args.work.mkdir(parents=True, exist_ok=True)
    url = _prepare_store(args, args.work)
    store = open_store(url)
    try:
        start = time.perf_counter()
        snap = store.snapshot()
        print(f"snapshot of {snap.n:,} assets in {time.perf_counter() - start:.1f} s", file=sys.stderr)
    finally:
        store.close()
    zone = _zone(snap, args.zone)
    print(f"zone {zone}: {len(exposed(snap, [zone]).asset):,} exposed assets with a fragility", file=sys.stderr)

    results = {}
    times = {}
    with tempfile.TemporaryDirectory(prefix="citykg-bench-dask-") as tmp:
        for workers in (1, 2):
            times[workers], results[workers] = _on_cluster(snap, zone, args.samples, workers, Path(tmp) / str(workers))
    if not args.skip_in_process:
        network(snap)  # prepared before the clock, as the workers' warm-up does
        times[0], results[0] = _timed(snap, zone, args.samples, None)
        print(f"  in-process: {args.samples:,} samples in {times[0]:.1f} s", file=sys.stderr)

    identical = all(r == results[1] for r in results.values())
    ratio = times[1] / times[2]
    print(f"Monte Carlo, {args.samples:,} samples of {zone} on {snap.n:,} assets")
    if 0 in times:
        print(f"  in-process          {times[0]:8.1f} s")
    print(f"  cluster, 1 worker   {times[1]:8.1f} s")
    print(f"  cluster, 2 workers  {times[2]:8.1f} s")
    print(f"  2 workers vs 1: {ratio:.2f}x (target >= 1.7x)")
    print(f"  results identical (1 worker, 2 workers{', in-process' if 0 in times else ''}): {identical}")
    print(f"  mean failed {results[1]['total']['failed']['mean']:.1f}, "
          f"mean population {results[1]['total']['population']['mean']:.0f}")
    if not identical:
        sys.exit(1)


if __name__ == "__main__":
    main()
