"""Investment plans: lazy greedy = plain greedy where benefits shrink, local improvement never worse, and every
step's cumulative objective equals the objective recomputed from scratch on the bundle edited by the steps."""

from __future__ import annotations

import json
import math
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from kg.analysis.cascade import cascade
from kg.analysis.hazards import hazard_failures
from kg.analysis.investment import (
    Candidate,
    Objective,
    Scenario,
    ScenarioSet,
    greedy,
    improve,
    monte_carlo_scenarios,
    n_minus_one,
    parse_candidates,
    plan_investments,
    scenarios_from,
)
from kg.analysis.restoration import plan_restoration
from kg.analysis.whatif import AddBuffer, AddDependency, Edit, Harden, RemoveDependency
from kg.errors import ValidationError
from kg.snapshot import GraphSnapshot
from tests.helpers import run_kg, write_files
from tests.test_cascade import BUFFERS, KINDS, graphs
from tests.test_whatif import SMALL, ZONES, edit_rows, rows_of, snap_of


# ---------------------------------------------------------------------- the search, on plain set functions
def counted(value: Callable[[frozenset[int]], float]
            ) -> tuple[Callable[[frozenset[int]], float], dict[frozenset[int], float]]:
    """``value`` memoised (as the plan's objective is), and its memo: one entry per distinct evaluation."""
    memo: dict[frozenset[int], float] = {}

    def wrapped(s: frozenset[int]) -> float:
        if s not in memo:
            memo[s] = value(s)
        return memo[s]

    return wrapped, memo


@st.composite
def coverage(draw: st.DrawFn) -> tuple[list[set[int]], list[float], list[float], float]:
    """Weighted coverage: an objective whose benefits only shrink as the plan grows (submodular)."""
    n = draw(st.integers(1, 8))
    people = draw(st.lists(st.sampled_from([1.0, 2.0, 5.0, 10.0]), min_size=6, max_size=12))
    cover = [set(draw(st.lists(st.integers(0, len(people) - 1), max_size=5))) for _ in range(n)]
    costs = [float(draw(st.integers(1, 5))) for _ in range(n)]
    return cover, people, costs, float(draw(st.integers(0, 12)))


@settings(max_examples=300, deadline=None)
@given(coverage())
def test_lazy_greedy_picks_what_plain_greedy_picks_with_no_more_evaluations(case: Any) -> None:
    cover, people, costs, budget = case

    def value(s: frozenset[int]) -> float:
        hit = set().union(*(cover[c] for c in s)) if s else set()
        return sum(people) - sum(people[i] for i in hit)

    lazy_value, lazy_memo = counted(value)
    plain_value, plain_memo = counted(value)
    lazy = greedy(lazy_value, costs, budget)
    plain = greedy(plain_value, costs, budget, lazy=False)
    assert lazy == plain
    assert len(lazy_memo) <= len(plain_memo)
    assert sum(costs[c] for c in lazy) <= budget


@settings(max_examples=300, deadline=None)
@given(st.integers(1, 6), st.data())
def test_local_improvement_is_never_worse_and_stays_within_budget(n: int, data: st.DataObject) -> None:
    values = data.draw(st.dictionaries(st.frozensets(st.integers(0, n - 1)), st.floats(0, 100), max_size=40))
    costs = data.draw(st.lists(st.sampled_from([1.0, 2.0, 3.0]), min_size=n, max_size=n))
    budget = data.draw(st.sampled_from([0.0, 2.0, 4.0, 100.0]))
    start = frozenset(data.draw(st.lists(st.integers(0, n - 1), unique=True)))
    assume(sum(costs[c] for c in start) <= budget)

    def value(s: frozenset[int]) -> float:
        return values.get(s, 50.0)

    better, moves = improve(value, costs, budget, start)
    assert value(better) <= value(start)
    assert sum(costs[c] for c in better) <= budget
    assert (moves == 0) == (better == start)


# ---------------------------------------------------------------------- plans on random cities
def expected(rows: dict[str, list[tuple[object, ...]]], edits: list[Edit], scenarios: list[dict[str, Any]],
             objective: str, horizon: float | None) -> float:
    """The reference: edit the bundle's rows, build its snapshot afresh, run every scenario's cascade."""
    snap = snap_of(edit_rows(rows, edits))
    total = []
    for s in scenarios:
        failing = s["fail"] if "fail" in s else hazard_failures(snap, s["hazard"])
        start = [(a, 0.0) for a in failing]
        if not start:
            continue
        if objective == "people_hours":
            value = plan_restoration(snap, sorted({a for a, _ in start})).unserved_people_hours
        else:
            value = cascade(snap, start, horizon=horizon).summary.population
        total.append(s["probability"] * value)
    return math.fsum(total)


@st.composite
def plans(draw: st.DrawFn) -> tuple[Any, ...]:
    assets, deps, agencies = draw(graphs())
    ids = [a for a, _, _ in assets]
    exposures = [(a, z, draw(st.sampled_from([0.5, 1.0, 2.5]))) for a in ids for z, _ in ZONES
                 if draw(st.integers(0, 2)) == 0]
    rows = rows_of(assets, deps, agencies, exposures)
    added: set[tuple[str, str, str, str]] = set()
    candidates = []
    for k in range(draw(st.integers(1, 5))):
        edits: list[Edit] = []
        for _ in range(draw(st.integers(1, 2))):
            op = draw(st.sampled_from(["add_buffer", "add_dependency", "remove_dependency", "harden"]))
            if op == "add_buffer" and deps:
                d, _, kind, g, _ = draw(st.sampled_from(deps))
                edits.append(AddBuffer(d, kind, draw(st.sampled_from(BUFFERS)), g))
            elif op == "remove_dependency" and deps:
                d, p, kind, g, _ = draw(st.sampled_from(deps))
                edits.append(RemoveDependency(d, p, kind, g))
            elif op == "add_dependency" and len(ids) > 1:
                d, p = draw(st.permutations(ids))[:2]
                kind = draw(st.sampled_from(KINDS))
                key = (d, p, kind, kind)
                if key in added or any(x[:4] == key for x in deps):
                    continue
                added.add(key)
                edits.append(AddDependency(d, p, kind))
            else:
                edits.append(Harden(draw(st.sampled_from(ids)), draw(st.sampled_from(["Flood", "Earthquake"]))))
        if edits:
            candidates.append(Candidate(f"c{k}", float(draw(st.integers(1, 4))), tuple(edits)))
    assume(candidates)
    scenarios = []
    for j in range(draw(st.integers(1, 3))):
        p = draw(st.sampled_from([0.01, 0.1, 0.5]))
        if draw(st.booleans()):
            scenarios.append({"id": f"s{j}", "probability": p, "fail": draw(st.lists(st.sampled_from(ids),
                                                                                     min_size=1, max_size=2))})
        else:
            scenarios.append({"id": f"s{j}", "probability": p, "hazard": [draw(st.sampled_from(ZONES))[0]]})
    budget = float(draw(st.integers(0, 8)))
    objective = draw(st.sampled_from(["population", "population", "people_hours"]))
    horizon = None if objective == "people_hours" else draw(st.sampled_from([None, 1.0, 3.0]))
    return rows, candidates, scenarios, budget, objective, horizon, draw(st.booleans())


def _edits_of(candidates: list[Candidate], ids: set[str]) -> list[Edit]:
    return [e for c in candidates if c.id in ids for e in c.edits]  # in candidate order, as the plan applies them


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much])
@given(plans())
def test_every_step_equals_the_objective_recomputed_from_scratch(case: Any) -> None:
    rows, candidates, scenarios, budget, objective, horizon, lazy = case
    snap = snap_of(rows)
    plan = plan_investments(snap, candidates, budget, scenarios_from(snap, scenarios), objective=objective,
                            horizon=horizon, lazy=lazy)
    assert plan.baseline == pytest.approx(expected(rows, [], scenarios, objective, horizon), rel=1e-9, abs=1e-9)
    chosen: set[str] = set()
    for step in plan.steps:
        chosen.add(step.id)
        scratch = expected(rows, _edits_of(candidates, chosen), scenarios, objective, horizon)
        assert step.cumulative_objective == pytest.approx(scratch, rel=1e-9, abs=1e-9), step
    for c in candidates:
        alone = plan.baseline - expected(rows, list(c.edits), scenarios, objective, horizon)
        assert plan.alone[c.id] == pytest.approx(alone, rel=1e-9, abs=1e-9), c
    assert sum(s.cost for s in plan.steps) <= budget
    assert plan.final <= plan.baseline
    for c in candidates:  # a plan never leaves out a lone candidate that would beat it within budget
        if c.cost <= budget:
            assert plan.final <= plan.baseline - plan.alone[c.id] + 1e-9 * max(1.0, plan.baseline)


def test_monte_carlo_samples_are_common_random_numbers_and_hardening_removes_draws() -> None:
    snap = snap_of(SMALL)
    mc = monte_carlo_scenarios(snap, ["z-flood"], samples=50, seed=3)
    assert mc.scenarios == monte_carlo_scenarios(snap, ["z-flood"], samples=50, seed=3).scenarios
    assert all(s.hits == ((snap.index["S"], "Flood"),) for s in mc.scenarios)  # deterministic fragility
    wall = Candidate("wall", 1.0, (Harden("S", "Flood"),))
    plan = plan_investments(snap, [wall], 1.0, mc)
    assert (plan.baseline, plan.final) == (300.0, 0.0)
    assert [s.to_dict()["marginal_benefit"] for s in plan.steps] == [300.0]


def test_n_minus_one_makes_every_asset_of_the_types_fail_alone_equally_likely() -> None:
    snap = snap_of(SMALL)
    s = n_minus_one(snap, ["PowerAsset"])
    assert [x.id for x in s.scenarios] == ["H", "S", "T"] and s.to_dict()["total_probability"] == 1.0
    with pytest.raises(ValidationError, match=r"n_minus_one\[0\]: expected an asset type .*did you mean"):
        n_minus_one(snap, ["Substaton"])


@pytest.mark.parametrize(("data", "where"), [
    ([{"id": "a", "cost": 0, "edits": []}], "candidates[0].cost"),
    ([{"id": "a", "cost": 1, "edits": [{"op": "harden", "asset": "Q", "hazard": "Flood"}]}],
     "candidates[0].edits[0].asset"),
    ([{"id": "a", "cost": 1, "edits": []}, {"id": "a", "cost": 2, "edits": []}], "candidates[1].id"),
    ([{"id": "a", "cost": 1}], "candidates[0].edits"),
    ([{"id": "a", "cost": 1, "edits": [], "price": 3}], "candidates[0].price"),
    ([], "candidates"),
])
def test_bad_candidates_are_named(data: Any, where: str) -> None:
    with pytest.raises(ValidationError) as caught:
        parse_candidates(snap_of(SMALL), data)
    assert caught.value.problems[0].where == where, str(caught.value)


@pytest.mark.parametrize(("data", "where"), [
    ([{"probability": 0, "fail": ["S"]}], "scenarios[0].probability"),
    ([{"probability": 0.1, "fail": ["Q"]}], "scenarios[0].fail[0]"),
    ([{"probability": 0.1, "hazard": ["z-none"]}], "scenarios[0].hazard[0]"),
    ([{"probability": 0.1}], "scenarios[0]"),
    ([{"probability": 0.1, "fail": [{"id": "S", "time": -1}]}], "scenarios[0].fail[0].time"),
])
def test_bad_scenarios_are_named(data: Any, where: str) -> None:
    with pytest.raises(ValidationError) as caught:
        scenarios_from(snap_of(SMALL), data)
    assert caught.value.problems[0].where == where, str(caught.value)


# ---------------------------------------------------------------------- CLI
def _store(tmp: Path) -> str:
    files = {
        "regions.csv": "id,level,parent\ncq,city,\nd1,district,cq\n",
        "agencies.csv": "id,name\ngrid,Grid Co.\nhealth,Health Commission\n",
        "assets.csv": "id,type,region,agency,population\nS,Substation,d1,grid,0\nT,Substation,d1,grid,0\n"
                      "H,Hospital,d1,health,300\nC,Clinic,d1,health,40\n",
        "dependencies.csv": "dependent,provider,kind\nH,S,power\nC,S,power\n",
        "hazard_zones.csv": "id,hazard\nz,Flood\n",
        "exposures.csv": "asset,zone,intensity\nS,z,2.0\n",
        "fragilities.csv": "hazard,threshold,type,beta\nFlood,1.5,Substation,0.5\n",
    }
    url = f"sqlite:///{tmp}/kg.db"
    assert run_kg("load", str(write_files(tmp / "b", files)), "--store", url).exit_code == 0
    return url


def test_kg_plan_reads_csv_candidates_and_ranks_the_steps(tmp_path: Path) -> None:
    url = _store(tmp_path)
    candidates = tmp_path / "candidates.csv"
    candidates.write_text(
        "id,cost,edits,name\n"
        'feed,3,"[{""op"": ""add_dependency"", ""dependent"": ""H"", ""provider"": ""T"", ""kind"": ""power""}]",'
        "Second feed\n"
        'wall,5,"[{""op"": ""harden"", ""asset"": ""S"", ""hazard"": ""Flood""}]",Flood wall\n', encoding="utf-8")
    out = run_kg("plan", "--candidates", str(candidates), "--budget", "4", "--hazard", "z", "--samples", "200",
                 "--store", url, "--format", "json")
    assert out.exit_code == 0, out.stderr
    data = json.loads(out.stdout)
    assert [s["id"] for s in data["steps"]] == ["feed"] and data["scenarios"]["count"] == 200
    assert data["steps"][0]["cumulative_objective"] == pytest.approx(data["baseline"] - 300 * _share(data))
    assert {c["id"]: c["chosen"] for c in data["candidates"]} == {"feed": True, "wall": False}
    text = run_kg("plan", "--candidates", str(candidates), "--budget", "8", "--n-1", "Substation", "--store", url)
    assert text.exit_code == 0 and "Fund in this order" in text.stdout


def _share(data: dict[str, Any]) -> float:
    """The share of samples in which S fails (the only uncertain asset): the feed saves H's 300 people in them."""
    return (data["baseline"]) / 340


def test_kg_plan_errors_name_the_file_and_line(tmp_path: Path) -> None:
    url = _store(tmp_path)
    candidates = tmp_path / "candidates.csv"
    candidates.write_text('id,cost,edits\nok,1,[]\nbad,1,"[{""op"": ""harden"", ""asset"": ""Q"", '
                          '""hazard"": ""Flood""}]"\n', encoding="utf-8")
    out = run_kg("plan", "--candidates", str(candidates), "--budget", "4", "--n-1", "Substation", "--store", url)
    assert out.exit_code == 1 and f"{candidates}:3.edits[0].asset: no asset with id 'Q'" in out.stderr
    scenarios = tmp_path / "s.json"
    scenarios.write_text('{"scenarios": [{"probability": 2, "fail": ["S"]}]}')
    out = run_kg("plan", "--candidates", str(candidates), "--budget", "4", "--scenarios", str(scenarios),
                 "--store", url)
    assert out.exit_code == 1  # the candidates are read first
    candidates.write_text("id,cost,edits\nok,1,[]\n", encoding="utf-8")
    out = run_kg("plan", "--candidates", str(candidates), "--budget", "4", "--scenarios", str(scenarios),
                 "--store", url)
    assert out.exit_code == 1 and f"{scenarios}: scenarios[0].probability" in out.stderr
    out = run_kg("plan", "--candidates", str(candidates), "--budget", "4", "--store", url)
    assert out.exit_code == 1 and "one scenario set" in out.stderr


def test_scenario_sets_compare_on_the_same_graph() -> None:
    snap: GraphSnapshot = snap_of(SMALL)
    s = ScenarioSet("file", scenarios_from(snap, [{"probability": 0.5, "fail": ["S"]}]).scenarios)
    assert plan_investments(snap, [Candidate("x", 1.0, (AddDependency("H", "T", "power"),))], 1.0, s).final == 0.0


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much])
@given(plans(), st.data())
def test_plans_evaluated_from_plans_they_contain_equal_the_objective_recomputed_from_scratch(
        case: Any, data: st.DataObject) -> None:
    """Any order of plans, few kept: each plan's value, inherited from the runs of a kept plan inside it
    where its edits cannot reach them, equals the value on a bundle edited from scratch."""
    rows, candidates, scenarios, _, objective, horizon, _ = case
    snap = snap_of(rows)
    value = Objective(snap, candidates, scenarios_from(snap, scenarios), objective=objective, horizon=horizon)
    value.keep = data.draw(st.integers(1, 3))
    indexes = range(len(candidates))
    for chosen in data.draw(st.lists(st.frozensets(st.sampled_from(indexes)), min_size=1, max_size=8)):
        scratch = expected(rows, _edits_of(candidates, {candidates[c].id for c in chosen}), scenarios, objective,
                           horizon)
        assert value(chosen) == pytest.approx(scratch, rel=1e-9, abs=1e-9), sorted(chosen)


def test_a_second_feed_to_a_group_counted_as_supplied_is_rerun_when_the_feed_fails() -> None:
    """D's group from X is unsupported with nothing failed (X needs a loop without a source), so it is counted
    as supplied and D is never reached; a feed from S makes it a real group, which fails with X and S."""
    assets = [(a, "d1", 100 if a == "D" else 0) for a in ("L1", "L2", "X", "T", "S", "D")]
    deps = [("L1", "L2", "power", "power", 0.0), ("L2", "L1", "power", "power", 0.0),
            ("X", "L1", "power", "power", 0.0), ("X", "T", "power", "x", 0.0), ("D", "X", "power", "power", 0.0)]
    rows = rows_of(assets, deps, {}, [])
    feed = Candidate("feed", 1.0, (AddDependency("D", "S", "power"),))
    scenarios = [{"probability": 1.0, "fail": ["T", "S"]}]
    value = Objective(snap_of(rows), [feed], scenarios_from(snap_of(rows), scenarios))
    assert value(frozenset()) == expected(rows, [], scenarios, "population", None) == 0
    assert value(frozenset({0})) == expected(rows, list(feed.edits), scenarios, "population", None) == 100


def test_scenarios_with_the_same_failures_but_other_hits_or_fail_times_keep_their_own_start_under_a_wall() -> None:
    """S hit by a flood alone, by a flood and a quake, by a flood while failing at hour 2 anyway: the same
    failures with nothing hardened (S at hour 0), three different ones behind a flood wall."""
    snap = snap_of(SMALL)
    s = snap.index["S"]
    scenarios = ScenarioSet("file", (
        Scenario("flood", 0.5, hits=((s, "Flood"),)),
        Scenario("flood-and-quake", 0.25, hits=((s, "Flood"), (s, "Earthquake"))),
        Scenario("flood-later-failure", 0.125, fail=((s, 2.0),), hits=((s, "Flood"),)),
        Scenario("flood-again", 0.0625, hits=((s, "Flood"),)),
    ))
    wall = Candidate("wall", 1.0, (Harden("S", "Flood"),))
    value = Objective(snap, [wall], scenarios)
    assert value(frozenset()) == 300 * (0.5 + 0.25 + 0.125 + 0.0625)  # H fails with S in every scenario
    assert value(frozenset({0})) == 300 * (0.25 + 0.125)  # the quake still fails S; so does the hour-2 failure
    hour_one = Objective(snap, [wall], scenarios, horizon=1.0)
    assert hour_one(frozenset({0})) == 300 * 0.25


def test_a_feed_replacing_a_removed_one_is_rerun_when_the_new_provider_fails() -> None:
    """One candidate moves H from S to T (a feed added, the old one removed): T failing now fails H."""
    snap = snap_of(SMALL)
    move = Candidate("move", 1.0, (AddDependency("H", "T", "power"), RemoveDependency("H", "S", "power")))
    scenarios = [{"probability": 0.5, "fail": ["T"]}]
    value = Objective(snap, [move], scenarios_from(snap, scenarios))
    assert value(frozenset()) == expected(SMALL, [], scenarios, "population", None) == 0
    assert value(frozenset({0})) == expected(SMALL, list(move.edits), scenarios, "population", None) == 150
