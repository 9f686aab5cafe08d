"""Restoration planning against the plain definition and a brute force over every schedule."""

from __future__ import annotations

import heapq
import json
import math
import os
import re
from itertools import pairwise
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from kg.analysis.recovery import Problem, Recovery
from kg.analysis.repair_heuristic import plan
from kg.analysis.restoration import evaluate_schedule, plan_restoration, repair_hours_of
from kg.errors import ElementNotFound, ValidationError
from kg.ontology import load_ontology
from kg.snapshot import GraphSnapshot, build_snapshot
from tests.reference_cascade import Dep, snapshot_rows
from tests.reference_restoration import City, brute_force, value_of
from tests.test_cascade import graphs

settings.register_profile("restoration-ci", max_examples=int(os.environ.get("KG_RESTORATION_EXAMPLES", "300")),
                          deadline=None, suppress_health_check=[HealthCheck.too_slow])
HOURS = (0.5, 1.0, 1.0, 2.0, 3.0, 4.5)


def snap_of(assets: Any, deps: list[Dep], agencies: dict[str, str]) -> GraphSnapshot:
    rows = snapshot_rows(assets, deps, agencies=agencies)
    return build_snapshot(1, lambda t: rows[t])


@st.composite
def instances(draw: st.DrawFn, most: int = 7) -> dict[str, Any]:
    """Small cities (supply loops, OR groups, several agencies, zero-population assets) and their damage."""
    assets, deps, agencies = draw(graphs(buffers=(0.0,)))
    ids = [a for a, _, _ in assets]
    damaged = draw(st.lists(st.sampled_from(ids), min_size=1, max_size=min(most, len(ids)), unique=True))
    hours = {a: draw(st.sampled_from(HOURS)) for a in damaged}
    crews = {g: draw(st.integers(1, 3)) for g in sorted(set(agencies.values())) if draw(st.booleans())}
    city = City(tuple(ids), tuple(deps), {a: p for a, _, p in assets}, agencies)
    return {"snap": snap_of(assets, deps, agencies), "city": city, "hours": hours, "crews": crews}


def naive_end(case: dict[str, Any]) -> dict[str, float]:
    """Each agency's damaged assets in id order, the next to the crew free first (lower number on ties)."""
    city, hours, crews = case["city"], case["hours"], case["crews"]
    end: dict[str, float] = {}
    pools: dict[str, list[str]] = {}
    for a in sorted(hours):
        pools.setdefault(city.agency.get(a, f"own:{a}"), []).append(a)
    for pool, jobs in pools.items():
        free = [(0.0, c) for c in range(crews.get(pool, 1))]
        for a in jobs:
            t, c = heapq.heappop(free)
            end[a] = t + hours[a]
            heapq.heappush(free, (end[a], c))
    return end


def assert_valid(case: dict[str, Any], plan: dict[str, Any]) -> None:
    city, hours, crews = case["city"], case["hours"], case["crews"]
    assert sorted(r["id"] for r in plan["schedule"]) == sorted(hours) == plan["damaged"]
    by_crew: dict[tuple[str, int], list[tuple[float, float]]] = {}
    for r in plan["schedule"]:
        assert r["agency"] == city.agency.get(r["id"])
        assert r["start"] >= 0 and r["end"] - r["start"] == pytest.approx(hours[r["id"]])
        limit = crews.get(r["agency"], 1) if r["agency"] is not None else 1
        assert 1 <= r["crew"] <= limit
        pool = r["agency"] if r["agency"] is not None else f"own:{r['id']}"
        by_crew.setdefault((pool, r["crew"]), []).append((r["start"], r["end"]))
    for spans in by_crew.values():
        spans.sort()
        assert all(a[1] <= b[0] + 1e-9 for a, b in pairwise(spans)), spans
    starts = [(r["start"], r["end"], r["id"]) for r in plan["schedule"]]
    assert starts == sorted(starts)


@settings(settings.get_profile("restoration-ci"))
@given(instances(), st.data())
def test_evaluator_equals_the_plain_definition(case: dict[str, Any], data: st.DataObject) -> None:
    end = {a: data.draw(st.sampled_from((0.5, 1.0, 2.0, 2.0, 3.5))) for a in case["hours"]}
    got = evaluate_schedule(case["snap"], end)
    ref = value_of(case["city"], end)
    assert [(p.time, p.functional, p.population_served) for p in got.curve] == ref.curve
    assert got.unserved_people_hours == pytest.approx(ref.unserved, abs=1e-9)
    # An asset is listed as restored at t exactly when it joins the functional set at t.
    working_at_0 = {a for a in case["city"].assets if a not in got.restored}
    assert len(working_at_0) == ref.curve[0][1]
    assert all(t in {p[0] for p in ref.curve} for t in got.restored.values())


@settings(settings.get_profile("restoration-ci"))
@given(instances())
def test_heuristic_plan_is_valid_checks_out_and_beats_naive(case: dict[str, Any]) -> None:
    plan = plan_restoration(case["snap"], sorted(case["hours"]), repair_hours=case["hours"],
                            crews=case["crews"]).to_dict()
    assert_valid(case, plan)
    ref = value_of(case["city"], {r["id"]: r["end"] for r in plan["schedule"]})
    assert plan["unserved_people_hours"] == pytest.approx(ref.unserved, abs=1e-9)
    assert [(p["time"], p["functional"], p["population_served"]) for p in plan["curve"]] == ref.curve
    naive = value_of(case["city"], naive_end(case)).unserved
    assert plan["naive"]["unserved_people_hours"] == pytest.approx(naive, abs=1e-9)
    assert plan["unserved_people_hours"] <= naive + 1e-9
    assert plan["method"] == "heuristic" and plan["time_limit"] is None
    if plan["optimal"]:
        assert plan["gap"] == 0.0
        assert plan["unserved_people_hours"] == pytest.approx(brute_force(case["city"], case["hours"],
                                                                          case["crews"]), abs=1e-9)


@settings(settings.get_profile("restoration-ci"))
@given(instances())
def test_exact_equals_brute_force(case: dict[str, Any]) -> None:
    plan = plan_restoration(case["snap"], sorted(case["hours"]), repair_hours=case["hours"],
                            crews=case["crews"], method="exact", time_limit=60).to_dict()
    assert_valid(case, plan)
    assert plan["optimal"] is True and plan["gap"] == 0.0 and plan["method"] == "exact"
    best = brute_force(case["city"], case["hours"], case["crews"])
    assert plan["unserved_people_hours"] == pytest.approx(best, rel=1e-9, abs=1e-9)
    ref = value_of(case["city"], {r["id"]: r["end"] for r in plan["schedule"]})
    assert plan["unserved_people_hours"] == pytest.approx(ref.unserved, abs=1e-9)


# ----------------------------------------------------------------------------- drawn examples
def city(deps: list[Dep], people: dict[str, int], agencies: dict[str, str]) -> GraphSnapshot:
    ids = sorted({x for d in deps for x in d[:2]} | set(people) | set(agencies))
    return snap_of([(a, "d1", people.get(a, 0)) for a in ids], deps, agencies)


def power(dependent: str, provider: str, kind: str = "power") -> Dep:
    return (dependent, provider, kind, kind, 0.0)


def test_repairing_the_substation_before_the_pump_it_feeds() -> None:
    #   S (substation) -power-> P (pump) -water-> R (1000 people); S and P damaged, one crew each
    #   agency. The water crew fixes P at 1 h but R waits for S (4 h): P's early repair helps nobody.
    snap = city([power("P", "S"), power("R", "P", "water")], {"R": 1000}, {"S": "grid", "P": "water"})
    plan = plan_restoration(snap, ["P", "S"], repair_hours={"S": 4, "P": 1})
    assert {r.id: (r.start, r.end) for r in plan.schedule} == {"S": (0.0, 4.0), "P": (0.0, 1.0)}
    assert plan.unserved_people_hours == 4000.0
    assert plan.optimal  # every repair starts at once


def test_one_crew_repairs_upstream_first() -> None:
    #   One grid crew; S feeds F, F feeds R (500 people); F's id sorts first, so the naive order does F
    #   first and R waits for both anyway; a second area R2 on S alone makes S-first strictly better.
    snap = city([power("F", "S"), power("R", "F"), power("R2", "S")], {"R": 500, "R2": 300},
                {"S": "grid", "F": "grid"})
    plan = plan_restoration(snap, ["F", "S"], repair_hours={"S": 2, "F": 2})
    assert [r.id for r in plan.schedule] == ["S", "F"]
    assert plan.unserved_people_hours == 300 * 2 + 500 * 4
    assert plan.naive_unserved_people_hours == 800 * 4
    assert not plan.optimal and plan.gap is None
    exact = plan_restoration(snap, ["F", "S"], repair_hours={"S": 2, "F": 2}, method="exact")
    assert exact.optimal and exact.gap == 0.0 and exact.unserved_people_hours == plan.unserved_people_hours


def test_a_cross_kind_loop_comes_back_only_with_both_repairs() -> None:
    #   P needs telecom from T, T needs power from P (a loop grounded per kind); H (100) needs P.
    #   Both damaged: nothing works until both are repaired; then all do, although neither "feeds"
    #   the other first.
    snap = city([power("P", "T", "telecom"), power("T", "P"), power("H", "P")], {"H": 100},
                {"P": "grid", "T": "tel"})
    got = evaluate_schedule(snap, {"P": 1.0, "T": 3.0})
    assert got.restored == {"H": 3.0, "P": 3.0, "T": 3.0}
    assert got.unserved_people_hours == 300.0


def test_a_ring_cut_from_its_source_waits_for_the_source() -> None:
    #   S feeds A; A -> B -> C -> A is a power ring; R (10) hangs off C. Only S is damaged: the ring
    #   has no source until S is back, although each member still "has" a provider.
    snap = city([power("A", "S"), power("A", "C"), power("B", "A"), power("C", "B"), power("R", "C")],
                {"R": 10}, {})
    got = evaluate_schedule(snap, {"S": 5.0})
    assert got.restored == {"A": 5.0, "B": 5.0, "C": 5.0, "R": 5.0, "S": 5.0}
    assert got.unserved_people_hours == 50.0


def test_an_asset_without_an_agency_has_a_crew_of_its_own() -> None:
    snap = city([power("R", "X"), power("R2", "Y")], {"R": 10, "R2": 20}, {})
    plan = plan_restoration(snap, ["X", "Y"], repair_hours={"X": 3, "Y": 2}).to_dict()
    assert plan["schedule"] == [{"id": "Y", "agency": None, "crew": 1, "start": 0.0, "end": 2.0},
                                {"id": "X", "agency": None, "crew": 1, "start": 0.0, "end": 3.0}]
    assert plan["optimal"] is True and plan["gap"] == 0.0


def test_the_json_shape() -> None:
    snap = city([power("R", "S")], {"R": 7}, {"S": "grid"})
    plan = plan_restoration(snap, ["S", "S"], repair_hours={"S": 2.5}).to_dict()
    assert plan == {
        "damaged": ["S"],
        "schedule": [{"id": "S", "agency": "grid", "crew": 1, "start": 0.0, "end": 2.5}],
        "curve": [{"time": 0.0, "functional": 0, "population_served": 0},
                  {"time": 2.5, "functional": 2, "population_served": 7}],
        "unserved_people_hours": 17.5,
        "method": "heuristic",
        "optimal": True,
        "naive": {"unserved_people_hours": 17.5},
        "gap": 0.0,
        "time_limit": None,
    }


def test_exact_out_of_time_keeps_the_best_plan_and_reports_the_gap() -> None:
    # 24 feeders of one agency under one substation, each with its own area: far beyond 1 ms of HiGHS.
    deps = [power(f"F{i:02d}", "S") for i in range(24)] + [power(f"R{i:02d}", f"F{i:02d}") for i in range(24)]
    people = {f"R{i:02d}": 10 * (i % 7 + 1) for i in range(24)}
    snap = city(deps, people, {f"F{i:02d}": "grid" for i in range(24)} | {"S": "grid"})
    hours = {f"F{i:02d}": 1.0 + i % 5 for i in range(24)} | {"S": 3.0}
    heuristic = plan_restoration(snap, sorted(hours), repair_hours=hours)
    exact = plan_restoration(snap, sorted(hours), repair_hours=hours, method="exact", time_limit=0.001)
    assert exact.time_limit == 0.001 and exact.unserved_people_hours <= heuristic.unserved_people_hours
    if exact.optimal:
        assert exact.gap == 0.0
    else:
        assert exact.gap is None or 0.0 <= exact.gap <= 1.0


def test_exact_refuses_an_agency_with_too_many_damaged_assets() -> None:
    deps = [power(f"R{i:02d}", f"F{i:02d}") for i in range(45)]
    snap = city(deps, {f"R{i:02d}": 1 for i in range(45)}, {f"F{i:02d}": "grid" for i in range(45)})
    damaged = [f"F{i:02d}" for i in range(45)]
    with pytest.raises(ValidationError) as err:
        plan_restoration(snap, damaged, repair_hours=dict.fromkeys(damaged, 1.0), method="exact")
    assert err.value.problems[0].where == "method" and "grid has 45 damaged assets" in str(err.value)
    assert plan_restoration(snap, damaged, repair_hours=dict.fromkeys(damaged, 1.0), crews={"grid": 45},
                            method="exact").optimal


# ----------------------------------------------------------------------------- errors
@pytest.mark.parametrize(("kwargs", "where", "words"), [
    ({"crews": {"grdi": 2}}, "crews.grdi", "did you mean 'grid'?"),
    ({"crews": {"grid": 0}}, "crews.grid", "agency grid has 0 crews but 2 damaged assets to repair (F, S)"),
    ({"crews": {"grid": -1}}, "crews.grid", "expected a whole number of crews >= 0, got -1"),
    ({"crews": {"grid": 1.5}}, "crews.grid", "got 1.5"),
    ({"repair_hours": {"S": 0}}, "repair_hours.S", "expected a number of hours > 0, got 0"),
    ({"repair_hours": {"S": math.inf}}, "repair_hours.S", "got inf"),
    ({"repair_hours": {"Substaton": 3}}, "repair_hours.Substaton", "did you mean 'Substation'?"),
    ({"method": "best"}, "method", "expected one of heuristic, exact, got 'best'"),
    ({"time_limit": 0}, "time_limit", "expected a number of seconds > 0, got 0"),
])
def test_bad_inputs_name_their_field(kwargs: dict[str, Any], where: str, words: str) -> None:
    snap = city([power("F", "S"), power("R", "F")], {"R": 5}, {"S": "grid", "F": "grid"})
    with pytest.raises(ValidationError) as err:
        plan_restoration(snap, ["S", "F"], **kwargs)
    assert err.value.problems[0].where == where
    assert words in err.value.problems[0].message


def test_an_agency_with_no_crews_and_nothing_to_repair_is_fine() -> None:
    snap = city([power("R", "S")], {"R": 5}, {"S": "grid", "R": "homes"})
    assert plan_restoration(snap, ["S"], crews={"homes": 0}).schedule[0].agency == "grid"


def test_unknown_asset_is_not_found() -> None:
    snap = city([power("R", "S")], {"R": 5}, {})
    with pytest.raises(ElementNotFound):
        plan_restoration(snap, ["Q"])
    with pytest.raises(ElementNotFound):
        evaluate_schedule(snap, {"Q": 1.0})
    with pytest.raises(ValidationError) as err:
        evaluate_schedule(snap, {"S": -1.0})
    assert err.value.problems[0].where == "completion.S"


# ----------------------------------------------------------------------------- repair hours
def test_default_repair_hours_come_from_the_nearest_ancestor_in_the_ontology() -> None:
    onto = load_ontology()
    stated = onto.repair_hours
    assert "Substation" not in stated and onto.default_repair_hours("Substation") == stated["PowerAsset"]
    assert onto.default_repair_hours("Bridge") == stated["Bridge"] != stated["TransportAsset"]
    assert onto.default_repair_hours("Hospital") == stated["Asset"]  # no health value: the root's
    assert all(onto.default_repair_hours(t) > 0 for t in onto.asset_types)


def test_repair_hours_by_id_then_type_then_ancestor_then_ontology() -> None:
    rows = snapshot_rows(["S", "T", "F", "H"], [])
    types = {"S": "Substation", "T": "Substation", "F": "DistributionFeeder", "H": "Hospital"}
    rows["assets"] = [(r[0], types[str(r[0])], *r[2:]) for r in rows["assets"]]
    snap = build_snapshot(1, lambda t: rows[t])
    onto = load_ontology()
    got = repair_hours_of(snap, ["S", "T", "F", "H"], {"S": 1.5, "Substation": 9, "PowerAsset": 4})
    assert got == {"S": 1.5, "T": 9.0, "F": 4.0, "H": onto.default_repair_hours("Hospital")}


def test_the_documented_plan_is_what_the_library_answers() -> None:
    doc = (Path(__file__).resolve().parents[1] / "docs" / "restoration.md").read_text(encoding="utf-8")
    block = re.search(r"```json\n(.*?)```", doc, flags=re.S)
    assert block is not None
    deps = [power("F1", "S"), power("F2", "S"), power("R1", "F1"), power("R2", "F2")]
    snap = city(deps, {"R1": 100, "R2": 100}, {"S": "grid", "F1": "grid", "F2": "grid"})
    plan = plan_restoration(snap, ["F1", "F2", "S"], repair_hours={"S": 2, "F1": 3, "F2": 1})
    assert plan.to_dict() == json.loads(block.group(1))


def test_more_crews_than_repairs_start_everything_at_once() -> None:
    snap = city([power("R", "F"), power("R2", "G")], {"R": 1, "R2": 2}, {"F": "grid", "G": "grid"})
    plan = plan_restoration(snap, ["F", "G"], repair_hours={"F": 2, "G": 3}, crews={"grid": 10**9})
    assert sorted((r.crew, r.start) for r in plan.schedule) == [(1, 0.0), (2, 0.0)] and plan.optimal


@settings(settings.get_profile("restoration-ci"), max_examples=100)
@given(instances())
def test_heuristic_without_minimal_sets_still_plans_validly(case: dict[str, Any]) -> None:
    # With no room for minimal sets the heuristic keeps one cheapest set per asset and values moves
    # with the evaluator: the plan must still be valid and valued right.
    city_, hours, crews = case["city"], case["hours"], case["crews"]
    ids = sorted(hours)
    pools = sorted({city_.agency[a] for a in ids if a in city_.agency})
    pool = [pools.index(city_.agency[a]) if a in city_.agency else len(pools) + k for k, a in enumerate(ids)]
    agency = [*pools, *(None for _ in ids)]
    problem = Problem(case["snap"], tuple(case["snap"].index[a] for a in ids), tuple(hours[a] for a in ids),
                      tuple(pool), tuple(agency[: max(pool) + 1]),
                      tuple(crews.get(g, 1) if g is not None else 1 for g in agency[: max(pool) + 1]))
    timetable, outcome = plan(problem, Recovery(problem.snap, problem.damaged), max_sets=0)
    ref = value_of(city_, {a: timetable.end[j] for j, a in enumerate(ids)})
    assert outcome.objective == pytest.approx(ref.unserved, abs=1e-9)
    assert all(e - s == pytest.approx(hours[a]) for a, s, e in zip(ids, timetable.start, timetable.end, strict=True))
    for p in set(pool):
        spans = sorted((timetable.crew[j], timetable.start[j], timetable.end[j])
                       for j in range(len(ids)) if pool[j] == p)
        assert all(a[2] <= b[1] + 1e-9 for a, b in pairwise(spans) if a[0] == b[0])
        assert all(0 <= c < problem.pool_crews[p] for c, _, _ in spans)


@settings(settings.get_profile("restoration-ci"), max_examples=100)
@given(instances(), st.data())
def test_the_data_columns_plan_like_the_same_values_given(case: dict[str, Any], data: st.DataObject) -> None:
    # The same city with repair_hours and crews in its rows (the assets' and agencies' columns) plans
    # exactly as when they are given with the request; a value given with the request wins over the column.
    city_, hours, crews = case["city"], case["hours"], case["crews"]
    rows = snapshot_rows([(a, "d1", city_.population[a]) for a in city_.assets], list(city_.deps),
                         agencies=city_.agency)
    rows["assets"] = [(*r[:8], hours.get(str(r[0])), r[9]) for r in rows["assets"]]
    rows["agencies"] = [(*r[:5], crews.get(str(r[0])), r[6]) for r in rows["agencies"]]
    snap = build_snapshot(1, lambda t: rows[t])
    given_ = plan_restoration(case["snap"], sorted(hours), repair_hours=hours, crews=crews).to_dict()
    assert plan_restoration(snap, sorted(hours)).to_dict() == given_
    a = data.draw(st.sampled_from(sorted(hours)))
    over = plan_restoration(snap, sorted(hours), repair_hours={a: hours[a] + 1}).to_dict()
    assert next(r["end"] - r["start"] for r in over["schedule"] if r["id"] == a) == pytest.approx(hours[a] + 1)
