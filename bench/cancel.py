"""What the cancellation checks cost: each long analysis with a live token vs without one.

    python bench/cancel.py [--assets 100000] [--seed 7] [--rounds 7]

On one generated city, in one process, each analysis runs ``--rounds`` times
with ``cancel=None`` and as many with a :class:`~kg.analysis.cancel.CancelToken`
that is checked at every check point but never cancelled, alternating, and the
best of each is compared: the ratio is what the checks cost (1.00 = nothing).
Times are the process's CPU time, best of N, alternating: on a machine busy with
other work, wall-clock times swing by 2x with the share of the CPU a run gets,
CPU time much less. The results are checked equal.
"""

from __future__ import annotations

import argparse
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from kg.analysis.cancel import CancelToken
from kg.analysis.cascade import cascade, network
from kg.analysis.criticality import criticality
from kg.analysis.graph import GraphSnapshot, build_snapshot
from kg.analysis.hazards import monte_carlo
from kg.analysis.traces import dependencies, dependents, single_points_of_failure
from kg.synth import city_rows


def _city(assets: int, seed: int) -> GraphSnapshot:
    rows = city_rows(assets, seed)
    return build_snapshot(1, lambda t: rows[t])


def _best(fn: Callable[[CancelToken | None], Any], rounds: int) -> tuple[float, float]:
    """Best CPU seconds without a token and with a live one, the two alternating; the answers must agree."""
    without, with_token = [], []
    for _ in range(rounds):
        for token, times in ((None, without), (CancelToken.after(3600), with_token)):
            start = time.process_time()
            answer = fn(token)
            times.append(time.process_time() - start)
            if token is None:
                expected = answer
            elif answer != expected:
                raise SystemExit("an analysis answered differently with a token")
    return min(without), min(with_token)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--assets", type=int, default=100_000)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--rounds", type=int, default=7)
    args = parser.parse_args()

    snap = _city(args.assets, args.seed)
    network(snap)
    plant = max((a for a in snap.asset_ids if a.startswith("pp-")), key=lambda a: len(dependents(snap, a)))
    hospital = max((a for a in snap.asset_ids if a.startswith("h-")), key=lambda a: len(dependencies(snap, a)))
    zones = list(snap.zone_ids)
    cases: dict[str, tuple[Callable[[CancelToken | None], Any], int]] = {
        "cascade (most depended-on plant)": (lambda c: cascade(snap, [(plant, 0.0)], cancel=c).to_dict(),
                                             args.rounds),
        "criticality (every asset)": (lambda c: [x.to_dict() for x in criticality(snap, cancel=c)],
                                      max(3, args.rounds // 2)),
        "Monte Carlo (3 zones, 200 samples)": (
            lambda c: monte_carlo(snap, zones[:3], samples=200, seed=1, cancel=c).to_dict(), args.rounds),
        "single points of failure (hospital)": (
            lambda c: single_points_of_failure(snap, hospital, cancel=c).to_list(snap), args.rounds),
        "dependents (plant)": (lambda c: dependents(snap, plant, cancel=c).to_list(snap), args.rounds),
    }
    print(f"city: {snap.n:,} assets, {snap.m:,} dependencies; CPU time, best of {args.rounds} (criticality: "
          "fewer), alternating")
    print(f"  {'analysis':<38} {'no token':>10} {'live token':>11}  ratio")
    for name, (fn, rounds) in cases.items():
        without, with_token = _best(fn, rounds)
        print(f"  {name:<38} {without * 1000:8.1f} ms {with_token * 1000:8.1f} ms  {with_token / without:5.3f}")


if __name__ == "__main__":
    main()
