"""What-if on a copy of the snapshot against the peer: rebuilding the snapshot from the store.

    python bench/whatif.py [--assets 100000] [--seed 7] [--edits 20]

A generated city of ``--assets`` assets is loaded into a SQLite store (in a temporary folder). Three
edit lists of ``--edits`` edits each are applied to a copy of its snapshot (``apply_edits``):
buffers on the dependency groups of failing assets, second feeds and removed feeds (the dependency
arrays are rebuilt), and hardening (the exposures are filtered). The peer is what an edit written to
the store would cost before the next question: rebuilding the snapshot from the store's rows
(``build_snapshot(version, store.rows)``). Prints the median of 5 runs of each and the ratio, and
then a whole what-if (both cascades and the comparison, through the scenario runner) against one
cascade on a rebuilt snapshot.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from kg.analysis.cascade import cascade, network
from kg.analysis.hazards import exposed
from kg.analysis.whatif import AddBuffer, AddDependency, Edit, Harden, RemoveDependency, apply_edits
from kg.ingest import load_paths
from kg.scenario import Scenario, whatif
from kg.snapshot import build_snapshot
from kg.store import open_store
from kg.synth import city_rows, write_bundle


def median_time(fn: Callable[[], object], runs: int = 5) -> float:
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--assets", type=int, default=100_000)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--edits", type=int, default=20)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        write_bundle(city_rows(args.assets, args.seed), Path(tmp) / "bundle")
        store = open_store(f"sqlite:///{tmp}/kg.db", create=True)
        start = time.perf_counter()
        load_paths(store, [Path(tmp) / "bundle"])
        print(f"loaded {args.assets:,} assets in {time.perf_counter() - start:.1f} s")
        snap = store.snapshot()
        version = store.version()
        rebuild = median_time(lambda: build_snapshot(version, store.rows))
        zone = next(z for z, h in zip(snap.zone_ids, snap.zone_hazard, strict=True) if h == "Flood")
        e = exposed(snap, [zone])
        hit = sorted({snap.asset_ids[int(a)] for a in e.asset})
        result = cascade(snap, [(a, 0.0) for a in hit])
        caused = [f for f in result.failures if f.cause is not None][: args.edits]
        lists: dict[str, list[Edit]] = {
            "buffers": [AddBuffer(f.id, f.cause.kind, 24.0, f.cause.group) for f in caused if f.cause],
            "feeds (added and removed)": [
                *(AddDependency(f.id, hit[0], f.cause.kind, "spare") for f in caused[: args.edits // 2] if f.cause),
                *(RemoveDependency(f.id, f.cause.providers[0], f.cause.kind, f.cause.group)
                  for f in caused[args.edits // 2:] if f.cause)],
            "hardening": [Harden(snap.asset_ids[int(a)], h) for a, h in
                          list(zip(e.asset.tolist(), e.hazard, strict=True))[: args.edits]],
        }
        print(f"city of {snap.n:,} assets, {snap.m:,} dependencies; rebuilding its snapshot from the store: "
              f"{rebuild * 1000:,.0f} ms")
        for name, edits in lists.items():
            t = median_time(lambda edits=edits: apply_edits(snap, edits))  # type: ignore[misc]
            print(f"  {len(edits):3d} {name:27s} on a copy: {t * 1000:8,.1f} ms   rebuild / copy: {rebuild / t:8.1f}x")
        edits = lists["feeds (added and removed)"]
        scenario = Scenario(hazard=(zone,), edits=tuple(edits))
        t_whatif = median_time(lambda: whatif(snap, scenario), runs=3)

        def peer() -> None:
            fresh = build_snapshot(version, store.rows)
            network(fresh)
            cascade(fresh, [(a, 0.0) for a in hit])

        t_peer = median_time(peer, runs=3)
        print(f"a whole what-if ({zone}, both cascades and the changes): {t_whatif * 1000:,.0f} ms; rebuilding "
              f"the snapshot and one cascade: {t_peer * 1000:,.0f} ms (peer / what-if {t_peer / t_whatif:.2f}x)")
        store.close()


if __name__ == "__main__":
    main()
