"""What the cancellation checks cost: each long analysis with a live token vs without one.

    python bench/cancel.py [--assets 100000] [--seed 7] [--rounds 7]

On one generated city, in one process, each analysis runs ``--rounds`` times
with ``cancel=None`` and as many with a :class:`~kg.analysis.cancel.CancelToken`
that is checked at every check point but never cancelled, alternating, and the
best of each is compared: the ratio is what the checks cost (1.00 = nothing).
Times are the process's CPU time, best of N, alternating: on a machine busy with
other work, wall-clock times swing by 2x with the share of the CPU a run gets,
CPU time much less. The results are checked equal.

The measured ratio is only as steady as the machine; so the script also counts
the checks each call makes and multiplies them by the cost of one check (timed
alone): that bound on the checks' share of the call does not depend on the noise.
"""

from __future__ import annotations

import argparse
import sys
import time
import timeit
from collections.abc import Callable
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from kg.analysis.cancel import CancelToken
from kg.analysis.cascade import cascade, network
from kg.analysis.criticality import criticality
from kg.analysis.hazards import monte_carlo
from kg.analysis.traces import dependencies, dependents, single_points_of_failure
from kg.snapshot import GraphSnapshot, build_snapshot
from kg.synth import city_rows


def _city(assets: int, seed: int) -> GraphSnapshot:
    rows = city_rows(assets, seed)
    return build_snapshot(1, lambda t: rows[t])


class _Counting(CancelToken):
    """A live token that counts its checks."""

    __slots__ = ("checks",)

    def __init__(self) -> None:
        super().__init__(deadline=time.monotonic() + 3600)
        self.checks = 0

    def check(self) -> None:
        self.checks += 1
        super().check()


def _check_seconds() -> float:
    """What one check of a live token costs (best of several million)."""
    token = CancelToken.after(3600)
    return min(timeit.repeat(token.check, number=1_000_000, repeat=5)) / 1_000_000


def _best(fn: Callable[[CancelToken | None], Any], rounds: int, repeat: int) -> tuple[float, float]:
    """Best CPU seconds of ``repeat`` calls without a token and with a live one, the two alternating (per call);
    the answers must agree."""
    without, with_token = [], []
    for _ in range(rounds):
        for token, times in ((None, without), (CancelToken.after(3600), with_token)):
            start = time.process_time()
            for _ in range(repeat):
                answer = fn(token)
            times.append((time.process_time() - start) / repeat)
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
    # (the call, rounds, calls per timing: short calls are repeated to about a second, above the noise)
    cases: dict[str, tuple[Callable[[CancelToken | None], Any], int, int]] = {
        "cascade (most depended-on plant)": (lambda c: cascade(snap, [(plant, 0.0)], cancel=c).to_dict(),
                                             args.rounds, 40),
        "criticality (every asset)": (lambda c: [x.to_dict() for x in criticality(snap, cancel=c)],
                                      max(3, args.rounds // 2), 1),
        "Monte Carlo (3 zones, 200 samples)": (
            lambda c: monte_carlo(snap, zones[:3], samples=200, seed=1, cancel=c).to_dict(), args.rounds, 1),
        "single points of failure (hospital)": (
            lambda c: single_points_of_failure(snap, hospital, cancel=c).to_list(snap), args.rounds, 400),
        "dependents (plant)": (lambda c: dependents(snap, plant, cancel=c).to_list(snap), args.rounds, 15),
    }
    print(f"city: {snap.n:,} assets, {snap.m:,} dependencies; CPU time, best of {args.rounds} (criticality: "
          "fewer), alternating")
    one_check = _check_seconds()
    print(f"one check of a live token: {one_check * 1e9:.0f} ns")
    print(f"  {'analysis (per call)':<38} {'no token':>10} {'live token':>11}  ratio  {'checks':>7}  share")
    for name, (fn, rounds, repeat) in cases.items():
        without, with_token = _best(fn, rounds, repeat)
        counting = _Counting()
        fn(counting)
        share = counting.checks * one_check / without
        print(f"  {name:<38} {without * 1000:8.1f} ms {with_token * 1000:8.1f} ms  {with_token / without:5.3f}  "
              f"{counting.checks:7,}  {share:.3%}")


if __name__ == "__main__":
    main()
