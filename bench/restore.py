"""Restoration planning: the heuristic against the exact optimum, and both at scale.

    python bench/restore.py [--instances 200] [--assets 1000000] [--zone flood-yuzhong-100y]
                            [--crews 50] [--exact-damaged 20] [--seed 7]

1. **Gap.** ``--instances`` random instances: a generated city of 3,000 assets (seed i), 12 to 20
   assets exposed to one of its flood zones damaged, 1 or 2 crews per agency. Each is planned
   by the heuristic and by the exact method (HiGHS); prints the mean and worst relative gap of
   the heuristic (and of the naive order) to the optimum, and the time ratio.
2. **Scale.** A city of ``--assets`` assets hit by the deterministic damage of ``--zone`` (a
   100-year flood), ``--crews`` crews spread over the agencies in proportion to their damaged
   assets (at least one each), planned by the heuristic end to end. Prints the time, the
   people-hours against the naive order, and the evaluator against its peers: one cascade of
   the same damage, and one cascade per repair end (what a naive evaluator would run).
3. **Exact.** ``--exact-damaged`` assets of the flood zone of a 10,000-asset city, 1 or 2 crews
   per agency: the exact method's time and proof.
"""

from __future__ import annotations

import argparse
import random
import statistics
import sys
import time
from collections import Counter
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from kg.analysis.cascade import network
from kg.analysis.graph import GraphSnapshot, build_snapshot
from kg.analysis.hazards import exposed, hazard_failures
from kg.analysis.recovery import Recovery, list_schedule
from kg.analysis.restoration import _problem, plan_restoration, repair_hours_of
from kg.synth import city_rows


def _snap(assets: int, seed: int) -> GraphSnapshot:
    rows = city_rows(assets, seed)
    return build_snapshot(1, lambda t: rows[t])


def _instance(seed: int, assets: int, low: int, high: int) -> tuple[GraphSnapshot, list[str], dict[str, int]]:
    rng = random.Random(seed)
    snap = _snap(assets, seed)
    zone = rng.choice([z for z in snap.zone_ids if z.startswith("flood")])
    candidates = sorted({snap.asset_ids[int(a)] for a in exposed(snap, [zone]).asset})
    damaged = rng.sample(candidates, min(rng.randint(low, high), len(candidates)))
    agencies = sorted({a for a in (snap.agency_of(snap.index[d]) for d in damaged) if a is not None})
    return snap, damaged, {g: rng.choice((1, 1, 2)) for g in agencies}


def gap(instances: int) -> None:
    gaps, naive_gaps = [], []
    t_heuristic = t_exact = 0.0
    worst = (0.0, -1)
    for seed in range(instances):
        snap, damaged, crews = _instance(seed, 3000, 12, 20)
        start = time.perf_counter()
        heuristic = plan_restoration(snap, damaged, crews=crews)
        t_heuristic += time.perf_counter() - start
        start = time.perf_counter()
        exact = plan_restoration(snap, damaged, crews=crews, method="exact", time_limit=60)
        t_exact += time.perf_counter() - start
        if not exact.optimal:
            print(f"  instance {seed}: not proven optimal in 60 s (gap {exact.gap}); left out")
            continue
        best = exact.unserved_people_hours
        g = (heuristic.unserved_people_hours - best) / best if best else 0.0
        gaps.append(g)
        naive_gaps.append((heuristic.naive_unserved_people_hours - best) / best if best else 0.0)
        worst = max(worst, (g, seed))
    mean = statistics.mean(gaps)
    print(f"gap to the optimum over {len(gaps)} instances (3,000-asset cities, 12-20 damaged, 1-2 crews):")
    print(f"  heuristic  mean {mean:7.3%}   worst {worst[0]:7.3%} (instance {worst[1]})   target mean <= 5%: "
          f"{'met' if mean <= 0.05 else 'MISSED'}")
    print(f"  naive      mean {statistics.mean(naive_gaps):7.3%}   worst {max(naive_gaps):7.3%}")
    print(f"  time: heuristic {t_heuristic / instances * 1000:.0f} ms, exact {t_exact / instances * 1000:.0f} ms "
          f"per instance (exact/heuristic {t_exact / t_heuristic:.1f}x)")


def scale(assets: int, zone: str, crews_total: int, seed: int) -> None:
    start = time.perf_counter()
    snap = _snap(assets, seed)
    print(f"large city: {snap.n:,} assets, {snap.m:,} dependencies (generated in {time.perf_counter() - start:.0f} s)")
    net = network(snap)
    damaged = hazard_failures(snap, [zone])
    load = Counter(snap.agency_of(snap.index[a]) for a in damaged)
    crews = {g: max(1, round(crews_total * n / len(damaged))) for g, n in load.items() if g is not None}
    print(f"  {zone}: {len(damaged):,} damaged assets, {len(crews)} agencies, {sum(crews.values())} crews")
    start = time.perf_counter()
    plan = plan_restoration(snap, damaged, crews=crews)
    t_plan = time.perf_counter() - start
    print(f"  heuristic plan     {t_plan:8.1f} s   target < 30 s: {'met' if t_plan < 30 else 'MISSED'}")
    print(f"  unserved people-hours: plan {plan.unserved_people_hours:.4g}, naive order "
          f"{plan.naive_unserved_people_hours:.4g} (plan/naive {plan.unserved_people_hours / plan.naive_unserved_people_hours:.3f}); "
          f"last repair ends at {plan.curve[-1].time:,.0f} h")
    problem = _problem(snap, damaged, repair_hours_of(snap, damaged), crews)
    recovery = Recovery(snap, problem.damaged)
    end = list_schedule(problem, problem.jobs).end
    start = time.perf_counter()
    outcome = recovery.evaluate(end)
    t_eval = time.perf_counter() - start
    start = time.perf_counter()
    net.spread(dict.fromkeys(problem.damaged, 0.0), static=True)
    t_cascade = time.perf_counter() - start
    times = sorted(set(end))
    sample = times[:: max(1, len(times) // 20)]
    start = time.perf_counter()
    for t in sample:
        net.spread({a: 0.0 for a, e in zip(problem.damaged, end, strict=True) if e > t}, static=True)
    t_per_end = (time.perf_counter() - start) / len(sample)
    print(f"  evaluator: one schedule of {len(end):,} repairs ({len(times):,} distinct ends, {recovery.size:,} "
          f"assets cut off) in {t_eval * 1000:.0f} ms = {t_eval / t_cascade:.1f} cascades of the same damage; "
          f"a cascade per repair end would take ~{t_per_end * len(times):.0f} s ({t_per_end * len(times) / t_eval:,.0f}x)")
    assert outcome.curve[-1][1] == snap.n


def exact(damaged_count: int, seed: int) -> None:
    rng = random.Random(seed)
    snap = _snap(10_000, seed)
    zone = next(z for z in snap.zone_ids if z.endswith("100y"))
    damaged = rng.sample(hazard_failures(snap, [zone]), damaged_count)
    agencies = sorted({a for a in (snap.agency_of(snap.index[d]) for d in damaged) if a is not None})
    crews = {g: rng.choice((1, 2)) for g in agencies}
    start = time.perf_counter()
    heuristic = plan_restoration(snap, damaged, crews=crews)
    t_heuristic = time.perf_counter() - start
    start = time.perf_counter()
    result = plan_restoration(snap, damaged, crews=crews, method="exact", time_limit=60)
    t_exact = time.perf_counter() - start
    load = Counter(snap.agency_of(snap.index[a]) for a in damaged)
    print(f"exact: {damaged_count} damaged assets of {zone} (10,000-asset city), agencies "
          f"{', '.join(f'{g} {n}x/{crews[g]} crews' for g, n in sorted(load.items()))}")
    print(f"  exact {t_exact:6.2f} s (optimal: {result.optimal}, gap {result.gap})   target < 60 s: "
          f"{'met' if t_exact < 60 and result.optimal else 'MISSED'}; heuristic {t_heuristic:.2f} s, "
          f"{heuristic.unserved_people_hours / result.unserved_people_hours - 1:.3%} above the optimum")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--instances", type=int, default=200)
    parser.add_argument("--assets", type=int, default=1_000_000)
    parser.add_argument("--zone", default="flood-yuzhong-100y")
    parser.add_argument("--crews", type=int, default=50)
    parser.add_argument("--exact-damaged", type=int, default=20)
    parser.add_argument("--seed", type=int, default=7)
    args = parser.parse_args()
    gap(args.instances)
    exact(args.exact_damaged, args.seed)
    scale(args.assets, args.zone, args.crews, args.seed)


if __name__ == "__main__":
    main()
