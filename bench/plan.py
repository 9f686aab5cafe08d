"""Investment plans at scale: a 20-candidate plan over 1,000 Monte Carlo samples on a 100,000-asset city.

    python bench/plan.py [--assets 100000] [--samples 1000] [--candidates 20] [--seed 7] [--horizon 24]
                         [--scratch-steps 8] [--peer-samples 100]

A generated city of ``--assets`` assets; the scenario set is ``--samples`` Monte Carlo draws of its
largest flood zone (lognormal fragilities, as ``kg plan --hazard``). ``--candidates`` candidates,
made from the city: flood walls (``harden``) on the exposed assets whose failure costs most, 24-hour
buffers on the populated assets that fail, and second feeds for the assets cut off by one provider.
Costs are 1 to 5 units, the budget a quarter of their total; the objective is the expected
population affected within ``--horizon`` hours.

Prints, for the lazy greedy with local improvement (the default of ``kg plan``), the lazy greedy and
the plain greedy (every candidate re-evaluated at every step), the time, the distinct plans evaluated
and the objective, and their ratios. The peer is the code before this engine (git ``OLD_COMMIT``:
interpreted cascades, every plan evaluated from the runs on the city as it is), on the first
``--peer-samples`` samples, against today's on the same samples. A second peer, of one evaluation, is the objective
computed from scratch, as its definition reads: the city edited by the plan's steps
(:func:`~kg.analysis.whatif.apply_edits`), every distinct start set's cascade run by the interpreted
engine (``Network.spread``), nothing reused. It recomputes the cumulative objective of the first
``--scratch-steps`` steps of the plan: the bench says whether they are equal and the ratio of the time
of one evaluation from scratch to the mean time of one evaluation in the plan. All on the same city and
samples in one run.
"""

from __future__ import annotations

import argparse
import math
import subprocess
import sys
import time
import types
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from kg.analysis.cascade import Network, cascade
from kg.analysis.hazards import exposed
from kg.analysis.investment import Candidate, ScenarioSet, monte_carlo_scenarios, plan_investments
from kg.analysis.whatif import AddBuffer, AddDependency, Edit, Harden, apply_edits
from kg.snapshot import GraphSnapshot, build_snapshot
from kg.synth import city_rows


def city(assets: int, seed: int) -> GraphSnapshot:
    rows = city_rows(assets, seed)
    return build_snapshot(1, lambda t: rows[t])


def largest_flood(snap: GraphSnapshot) -> str:
    floods = [z for z, h in zip(snap.zone_ids, snap.zone_hazard, strict=True) if h == "Flood"]
    return max(floods, key=lambda z: len(exposed(snap, [z]).asset))


def make_candidates(snap: GraphSnapshot, zone: str, count: int) -> list[Candidate]:
    """Walls, buffers and second feeds, a third each, where the zone's deterministic cascade hurts."""
    e = exposed(snap, [zone])
    hit = sorted({snap.asset_ids[int(a)] for a in e.asset})
    result = cascade(snap, [(a, 0.0) for a in hit])
    edits: list[tuple[str, Edit]] = []
    for a, hazard in list(zip(e.asset.tolist(), e.hazard, strict=True))[: count // 3]:
        edits.append((f"wall-{snap.asset_ids[a]}", Harden(snap.asset_ids[a], hazard)))
    populated = sorted((f for f in result.failures if f.cause is not None and f.population > 0),
                       key=lambda f: (-f.population, f.id))
    for f in populated[: count // 3]:
        assert f.cause is not None
        edits.append((f"generator-{f.id}", AddBuffer(f.id, f.cause.kind, 24.0, f.cause.group)))
    failed = {f.id for f in result.failures}
    same_type = {}
    for i in range(snap.n):
        same_type.setdefault(snap.type_of(i), []).append(snap.asset_ids[i])
    for f in result.failures:
        if len(edits) >= count:
            break
        if f.cause is None or len(f.cause.providers) != 1:
            continue
        p = f.cause.providers[0]
        spare = next((x for x in same_type[snap.type_of(snap.index[p])] if x not in failed and x != f.id), None)
        if spare is not None:
            edits.append((f"feed-{f.id}", AddDependency(f.id, spare, f.cause.kind, f.cause.group)))
    return [Candidate(name, float(1 + k % 5), (edit,)) for k, (name, edit) in enumerate(edits[:count])]


def from_scratch(snap: GraphSnapshot, candidates: list[Candidate], chosen: list[str], scenarios: ScenarioSet,
                 horizon: float) -> float:
    """The expected population affected under ``chosen``, as defined: edit, run every start set, add up."""
    edits = [e for c in candidates if c.id in chosen for e in c.edits]  # in candidate order, as a plan applies them
    edited = apply_edits(snap, edits, strict=False) if edits else snap
    walls = {(snap.index[e.asset], e.hazard) for e in edits if isinstance(e, Harden)}
    weights: dict[tuple[int, ...], float] = {}
    for s in scenarios.scenarios:
        start = tuple(sorted({a for a, hazard in s.hits if (a, hazard) not in walls}))
        weights[start] = weights.get(start, 0.0) + s.probability
    net = Network(edited)  # built afresh, as a new snapshot's would be
    total = 0.0
    for start, p in weights.items():
        if start:
            failed = net.spread(dict.fromkeys(start, 0.0), horizon=horizon).failed
            total += p * float(edited.population[list(failed)].sum())
    return total


OLD_COMMIT = "3f2c8d9"
"""The last commit whose plans ran interpreted cascades from the city as it is (the peer's code)."""


def old_planner() -> Any:
    """``plan_investments`` as it was at :data:`OLD_COMMIT`, its module read from git (it imports today's
    cascade engine and what-if edits, whose interfaces it used are unchanged)."""
    root = Path(__file__).resolve().parent.parent
    source = subprocess.run(["git", "show", f"{OLD_COMMIT}:kg/analysis/investment.py"], cwd=root, check=True,
                            capture_output=True, text=True).stdout
    module = types.ModuleType("old_investment")
    sys.modules[module.__name__] = module  # dataclasses look their module up
    exec(compile(source, f"{OLD_COMMIT}:kg/analysis/investment.py", "exec"), module.__dict__)
    return module.plan_investments


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--assets", type=int, default=100_000)
    parser.add_argument("--samples", type=int, default=1000)
    parser.add_argument("--candidates", type=int, default=20)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--horizon", type=float, default=24.0)
    parser.add_argument("--scratch-steps", type=int, default=8)
    parser.add_argument("--peer-samples", type=int, default=100)
    args = parser.parse_args()
    start = time.perf_counter()
    snap = city(args.assets, args.seed)
    zone = largest_flood(snap)
    candidates = make_candidates(snap, zone, args.candidates)
    budget = sum(c.cost for c in candidates) / 4
    scenarios = monte_carlo_scenarios(snap, [zone], samples=args.samples, seed=args.seed)
    distinct = len({s.hits for s in scenarios.scenarios})
    print(f"city of {snap.n:,} assets, {snap.m:,} dependencies; {zone}: {args.samples:,} samples "
          f"({distinct:,} distinct draws); {len(candidates)} candidates, budget {budget:g}; "
          f"set up in {time.perf_counter() - start:.1f} s")
    plan_investments(snap, candidates[:1], 0.0, scenarios, horizon=args.horizon)  # compiled code loaded, not timed
    runs = {}
    for name, lazy, local in (("lazy greedy + local improvement", True, True), ("lazy greedy", True, False),
                              ("plain greedy", False, False)):
        start, cpu = time.perf_counter(), time.process_time()
        plan = plan_investments(snap, candidates, budget, scenarios, horizon=args.horizon, lazy=lazy, local=local)
        runs[name] = (time.perf_counter() - start, plan)
        print(f"  {name:32s} {runs[name][0]:8.1f} s ({time.process_time() - cpu:.1f} s CPU)  {plan.evaluations:4d} "
              f"plans evaluated ({runs[name][0] / plan.evaluations:5.2f} s each)  {len(plan.steps)} steps  "
              f"objective {plan.baseline:,.0f} -> {plan.final:,.0f}")
    (t_local, local_plan), (t_lazy, lazy_plan), (t_plain, plain_plan) = runs.values()
    same = [s.id for s in lazy_plan.steps] == [s.id for s in plain_plan.steps]
    print(f"plain / lazy: {t_plain / t_lazy:.2f}x the time, {plain_plan.evaluations / lazy_plan.evaluations:.2f}x "
          f"the evaluations ({'the same steps' if same else 'different steps'}); the local pass costs "
          f"{t_local / t_lazy:.2f}x the lazy greedy and changes the objective by "
          f"{local_plan.final - lazy_plan.final:+,.0f}")
    subset = ScenarioSet("monte_carlo", scenarios.scenarios[: args.peer_samples])
    timed = {}
    for name, planner in (("old", old_planner()), ("new", plan_investments)):
        start, cpu = time.perf_counter(), time.process_time()
        plan = planner(snap, candidates, budget, subset, horizon=args.horizon)
        timed[name] = (time.perf_counter() - start, time.process_time() - cpu, plan)
    (t_old, c_old, old_plan), (t_new, c_new, new_plan) = timed.values()
    agree = [s.id for s in old_plan.steps] == [s.id for s in new_plan.steps] and all(
        math.isclose(a.cumulative_objective, b.cumulative_objective, rel_tol=1e-9, abs_tol=1e-9)
        for a, b in zip(old_plan.steps, new_plan.steps, strict=True))
    print(f"the code before (git {OLD_COMMIT}: interpreted cascades, every plan from the city as it is) on the first "
          f"{len(subset.scenarios):,} samples, lazy greedy + local improvement: {t_old:.1f} s ({c_old:.1f} s CPU, "
          f"{old_plan.evaluations} plans) vs {t_new:.1f} s ({c_new:.1f} s CPU, {new_plan.evaluations} plans) now: "
          f"{t_old / t_new:.1f}x the time ({c_old / c_new:.1f}x the CPU); "
          f"{'the same steps and objectives' if agree else 'DIFFERENT steps or objectives'}")
    steps = local_plan.steps[: args.scratch_steps]
    start, cpu = time.perf_counter(), time.process_time()
    equal = True
    for k in range(len(steps) + 1):
        value = from_scratch(snap, candidates, [s.id for s in steps[:k]], scenarios, args.horizon)
        want = steps[k - 1].cumulative_objective if k else local_plan.baseline
        equal &= math.isclose(value, want, rel_tol=1e-9, abs_tol=1e-9)
    t_scratch = (time.perf_counter() - start) / (len(steps) + 1)
    each = t_local / local_plan.evaluations
    whole = t_scratch * local_plan.evaluations
    print(f"from scratch (interpreted cascades, nothing reused): {len(steps) + 1} evaluations, {t_scratch:.2f} s "
          f"each ({(time.process_time() - cpu) / (len(steps) + 1):.2f} s CPU) = {t_scratch / each:.1f}x one "
          f"evaluation in the plan with local improvement (that plan's {local_plan.evaluations} evaluations from "
          f"scratch: ~{whole:,.0f} s, {whole / t_local:.1f}x); "
          f"the plan's cumulative objectives "
          f"{'equal' if equal else 'DIFFER FROM'} the recomputed ones")


if __name__ == "__main__":
    main()
