"""The fast cascade equals the brute-force reference on random graphs, and DESIGN's drawn examples hold."""

from __future__ import annotations

import math
import os
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from kg.analysis.cascade import baseline_errors, cascade
from kg.errors import ElementNotFound, ValidationError
from kg.snapshot import GraphSnapshot, build_snapshot
from tests.reference_cascade import Dep, reference_cascade, snapshot_rows

# Thousands of random graphs against the reference (about 10 s); KG_CASCADE_EXAMPLES=20000 for a soak run.
settings.register_profile("cascade-ci", max_examples=int(os.environ.get("KG_CASCADE_EXAMPLES", "2000")),
                          deadline=None, suppress_health_check=[HealthCheck.too_slow])
KINDS = ("power", "water", "telecom")
BUFFERS = (0.0, 0.0, 0.0, 1.0, 2.5, 4.0)
TIMES = (0.0, 0.0, 1.0, 2.0, 3.5)


def snap_of(assets: Any, deps: list[Dep], **kw: Any) -> GraphSnapshot:
    rows = snapshot_rows(assets, deps, **kw)
    return build_snapshot(1, lambda t: rows[t])


@st.composite
def graphs(draw: st.DrawFn, buffers: tuple[float, ...] = BUFFERS
           ) -> tuple[list[tuple[str, str, int]], list[Dep], dict[str, str]]:
    """Random dependency graphs: rings, cross-kind loops, AND/OR groups, zero and non-zero buffers."""
    n = draw(st.integers(1, 8))
    ids = [f"a{i}" for i in range(n)]
    assets = [(a, draw(st.sampled_from(["d1", "d2", "d3"])), draw(st.integers(0, 50))) for a in ids]
    agencies = {a: draw(st.sampled_from(["g1", "g2"])) for a in ids if draw(st.booleans())}
    deps: dict[tuple[str, str, str, str], float] = {}
    for _ in range(draw(st.integers(0, 2)) if n > 1 else 0):  # supply loops, usually fed from outside
        kind = draw(st.sampled_from(KINDS))
        ring = draw(st.permutations(ids))[: draw(st.integers(2, n))]
        for i, a in enumerate(ring):
            deps[(a, ring[(i + 1) % len(ring)], kind, kind)] = draw(st.sampled_from(buffers))
        outside = [a for a in ids if a not in ring]
        if outside and draw(st.integers(0, 3)):
            for _ in range(draw(st.integers(1, 2))):
                deps[(draw(st.sampled_from(ring)), draw(st.sampled_from(outside)), kind, kind)] = draw(
                    st.sampled_from(buffers))
    if n > 1:
        raw = draw(st.lists(st.tuples(st.integers(0, n - 1), st.integers(0, n - 1), st.sampled_from(KINDS),
                                      st.sampled_from(["", "", "", "x"]), st.sampled_from(buffers)),
                            max_size=2 * n))
        for d, p, k, g, b in raw:
            if d != p:
                deps[(ids[d], ids[p], k, g or k)] = b
    return assets, [(d, p, k, g, b) for (d, p, k, g), b in deps.items()], agencies


@st.composite
def scenarios(draw: st.DrawFn, buffers: tuple[float, ...] = BUFFERS
              ) -> tuple[Any, list[Dep], dict[str, str], list[tuple[str, float]], float | None]:
    assets, deps, agencies = draw(graphs(buffers))
    ids = [a for a, _, _ in assets]
    initial = draw(st.lists(st.tuples(st.sampled_from(ids), st.sampled_from(TIMES)), min_size=1, max_size=3))
    horizon = draw(st.sampled_from([None, None, 0.0, 1.0, 2.5, 4.0, 6.0]))
    return assets, deps, agencies, initial, horizon


def expected_crossings(snap: GraphSnapshot, result: dict[str, Any]) -> list[dict[str, Any]]:
    first: dict[tuple[str, str, str], float] = {}
    for f in result["failures"]:
        if f["cause"] is None:
            continue
        for p in f["cause"]["providers"]:
            i = snap.index[p]
            pairs = [(f"region:{lv}", r, f["regions"].get(lv)) for lv, r in snap.regions_of(i).items()]
            pairs.append(("agency", snap.agency_of(i), f["agency"]))
            for boundary, a, b in pairs:
                if a is not None and b is not None and a != b:
                    first[(a, b, boundary)] = min(first.get((a, b, boundary), math.inf), f["time"])
    return sorted(({"from": a, "to": b, "boundary": bd, "time": t} for (a, b, bd), t in first.items()),
                  key=lambda c: (c["time"], c["boundary"], c["from"], c["to"]))


def leads_back(result: dict[str, Any]) -> bool:
    """Every failure reaches an initial failure by following cause providers through failures."""
    by_id = {f["id"]: f for f in result["failures"]}
    for f in result["failures"]:
        seen, stack, ok = {f["id"]}, [f], False
        while stack and not ok:
            cur = stack.pop()
            if cur["cause"] is None:
                ok = True
                break
            for p in cur["cause"]["providers"]:
                if p in by_id and p not in seen:
                    seen.add(p)
                    stack.append(by_id[p])
        if not ok:
            return False
    return True


@settings(settings.get_profile("cascade-ci"))
@given(scenarios())
def test_fast_cascade_equals_reference(case: Any) -> None:
    assets, deps, agencies, initial, horizon = case
    snap = snap_of(assets, deps, agencies=agencies)
    got = cascade(snap, initial, horizon=horizon).to_dict()
    ref = reference_cascade([a for a, _, _ in assets], deps, initial, horizon)
    assert {f["id"]: f["time"] for f in got["failures"]} == ref.failed
    causes = {f["id"]: f["cause"] and (f["cause"]["kind"], f["cause"]["group"],
                                       tuple(f["cause"]["providers"])) for f in got["failures"]}
    assert causes == ref.cause
    assert {(e["id"], e["kind"], e["group"]) for e in got["baseline_errors"]} == ref.baseline_errors
    assert [(f["time"], f["id"]) for f in got["failures"]] == sorted((t, a) for a, t in ref.failed.items())
    assert got["crossings"] == expected_crossings(snap, got)
    assert got["summary"]["failed"] == len(ref.failed)
    assert got["summary"]["population"] == sum(p for a, _, p in assets if a in ref.failed)
    if horizon is None:  # a provider that stopped delivering fails sooner or later
        failed = set(ref.failed)
        assert all(set(f["cause"]["providers"]) <= failed for f in got["failures"] if f["cause"])


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(scenarios(buffers=(0.0,)))
def test_cause_chains_lead_back_to_an_initial_failure(case: Any) -> None:
    # Without buffers every chain is well founded. With buffers a provider may stop delivering (running
    # on its own buffer) long before it fails for another reason: see docs/cascade.md and the test below.
    assets, deps, agencies, initial, _ = case
    assert leads_back(cascade(snap_of(assets, deps, agencies=agencies), initial).to_dict())


# ----------------------------------------------------------------------------- drawn examples
def run(deps: list[Dep], initial: list[tuple[str, float]], assets: Any = None, **kw: Any) -> dict[str, Any]:
    ids = assets or sorted({x for d in deps for x in d[:2]} | {a for a, _ in initial})
    return cascade(snap_of(ids, deps), initial, **kw).to_dict()


def cause_of(result: dict[str, Any], asset: str) -> Any:
    return next(f["cause"] for f in result["failures"] if f["id"] == asset)


def times(result: dict[str, Any]) -> dict[str, float]:
    return {f["id"]: f["time"] for f in result["failures"]}


def test_ring_without_source_is_a_baseline_error_and_never_fails() -> None:
    #   A -> B -> C -> A (power), nobody feeds the ring; D hangs off A.
    deps = [("A", "B", "power", "power", 0.0), ("B", "C", "power", "power", 0.0),
            ("C", "A", "power", "power", 0.0), ("D", "A", "power", "power", 0.0)]
    snap = snap_of(["A", "B", "C", "D"], deps)
    assert [(e.id, e.kind) for e in baseline_errors(snap)] == [("A", "power"), ("B", "power"), ("C", "power"),
                                                                ("D", "power")]
    result = cascade(snap, [("B", 0.0)]).to_dict()
    assert times(result) == {"B": 0.0}
    assert len(result["baseline_errors"]) == 4


def test_ring_fed_by_a_source_collapses_when_the_source_fails() -> None:
    #   S feeds A; A -> B -> C -> A form a ring (OR with S for A). Losing S ungrounds the whole ring.
    deps = [("A", "S", "power", "power", 0.0), ("A", "C", "power", "power", 0.0),
            ("B", "A", "power", "power", 0.0), ("C", "B", "power", "power", 2.0)]
    result = run(deps, [("S", 0.0)])
    assert times(result) == {"S": 0.0, "A": 0.0, "B": 0.0, "C": 2.0}
    by_id = {f["id"]: f for f in result["failures"]}
    assert by_id["A"]["cause"] == {"kind": "power", "group": "power", "providers": ["C", "S"]}
    assert by_id["C"]["cause"] == {"kind": "power", "group": "power", "providers": ["B"]}
    assert result["baseline_errors"] == []


def test_hospital_on_generator_fails_when_the_fuel_runs_out() -> None:
    deps = [("H", "S", "power", "power", 8.0)]
    result = run(deps, [("S", 2.0)], horizon=None)
    assert times(result) == {"S": 2.0, "H": 10.0}
    assert run(deps, [("S", 2.0)], horizon=9.99)["failures"][-1]["id"] == "S"
    assert times(run(deps, [("S", 2.0)], horizon=10.0)) == {"S": 2.0, "H": 10.0}


def test_data_center_on_ups_still_serves_towers_but_not_power() -> None:
    #   DC runs 4 h on UPS after S fails; towers need telecom from DC, a rack R needs power through DC.
    deps = [("DC", "S", "power", "power", 4.0), ("T", "DC", "telecom", "telecom", 0.0),
            ("R", "DC", "power", "power", 0.0)]
    result = run(deps, [("S", 0.0)])
    assert times(result) == {"S": 0.0, "R": 0.0, "DC": 4.0, "T": 4.0}


def test_a_provider_on_its_own_buffer_explains_a_failure_before_it_fails_itself() -> None:
    #   S -power(10h)-> h -power-> A -power(5h)-> W -water-> h: h runs on battery from t=0, so A loses
    #   power at 0; W fails at 5 (A gone), which takes h down at 5 through water, before its battery ends.
    deps = [("A", "h", "power", "power", 0.0), ("h", "S", "power", "power", 10.0),
            ("h", "W", "water", "water", 0.0), ("W", "A", "power", "power", 5.0)]
    result = cascade(snap_of(["A", "S", "W", "h"], deps), [("S", 0.0)])
    assert {f.id: (f.time, f.since) for f in result.failures} == {
        "S": (0.0, 0.0), "A": (0.0, 0.0), "W": (5.0, 0.0), "h": (5.0, 5.0)}
    assert cause_of(result.to_dict(), "h")["kind"] == "water"


def test_redundant_feed_survives_one_loss_and_fails_on_both() -> None:
    deps = [("H", "S1", "power", "power", 0.0), ("H", "S2", "power", "power", 0.0)]
    assert times(run(deps, [("S1", 0.0)])) == {"S1": 0.0}
    result = run(deps, [("S1", 0.0), ("S2", 3.0)])
    assert times(result) == {"S1": 0.0, "S2": 3.0, "H": 3.0}
    assert cause_of(result, "H")["providers"] == ["S1", "S2"]


def test_and_groups_need_every_kind() -> None:
    deps = [("H", "S", "power", "power", 5.0), ("H", "W", "water", "water", 1.0)]
    result = run(deps, [("W", 0.0), ("S", 0.0)])
    assert times(result)["H"] == 1.0
    assert cause_of(result, "H")["kind"] == "water"


def test_initial_failure_later_than_its_cascade_time_keeps_the_cascade_cause() -> None:
    deps = [("H", "S", "power", "power", 1.0)]
    result = run(deps, [("S", 0.0), ("H", 5.0)])
    assert times(result) == {"S": 0.0, "H": 1.0}
    assert cause_of(result, "H") is not None
    assert result["initial"] == [{"id": "S", "time": 0.0}, {"id": "H", "time": 5.0}]


def test_json_shape_regions_agency_crossings_and_summary() -> None:
    assets = [("S", "d1", 0), ("H", "d2", 120)]
    snap = snap_of(assets, [("H", "S", "power", "power", 0.0)], agencies={"S": "grid", "H": "health"})
    result = cascade(snap, [("S", 0.5)], horizon=24).to_dict()
    assert set(result) == {"initial", "horizon_hours", "failures", "crossings", "baseline_errors", "summary"}
    assert result["horizon_hours"] == 24.0
    assert result["failures"][0] == {
        "id": "H", "type": "Substation", "time": 0.5,
        "cause": {"kind": "power", "group": "power", "providers": ["S"]},
        "regions": {"city": "c", "district": "d2", "community": "d2-c"}, "agency": "health",
        "population": 120,
    }
    assert result["crossings"] == [
        {"from": "grid", "to": "health", "boundary": "agency", "time": 0.5},
        {"from": "d1-c", "to": "d2-c", "boundary": "region:community", "time": 0.5},
        {"from": "d1", "to": "d2", "boundary": "region:district", "time": 0.5},
    ]
    assert result["summary"] == {"failed": 2, "population": 120, "agencies": 2,
                                 "regions": {"city": 1, "district": 2, "community": 2}}


def test_bad_input_is_refused() -> None:
    snap = snap_of(["A"], [])
    with pytest.raises(ElementNotFound, match="'B'"):
        cascade(snap, [("B", 0.0)])
    with pytest.raises(ValidationError, match="hours >= 0"):
        cascade(snap, [("A", -1.0)])
    with pytest.raises(ValidationError, match="horizon"):
        cascade(snap, [("A", 0.0)], horizon=-2)


# ----------------------------------------------------------------------------- command line
BUNDLE = {
    "regions.csv": "id,level,name,parent\ncq,city,Chongqing,\nyz,district,Yuzhong,cq\njb,district,Jiangbei,cq\n",
    "agencies.csv": "id,name\ngrid,State Grid\nhealth,Health Commission\n",
    "assets.csv": "id,type,name,region,agency,population\nS1,Substation,North Sub,yz,grid,0\n"
                  "H1,Hospital,General Hospital,jb,health,800\nR1,ResidentialArea,Block 1,yz,,2000\n",
    "dependencies.csv": "dependent,provider,kind,buffer_hours\nH1,S1,power,24\nR1,S1,power,0\n",
    "hazard_zones.csv": "id,hazard\nflood-yz,Flood\n",
    "exposures.csv": "asset,zone,intensity\nS1,flood-yz,1.5\n",
    "fragilities.csv": "hazard,threshold,type,beta\nFlood,1.0,Substation,0.3\n",
}


@pytest.fixture(scope="module")
def store(tmp_path_factory: pytest.TempPathFactory) -> str:
    from tests.helpers import run_kg, write_files

    tmp = tmp_path_factory.mktemp("cli")
    url = f"sqlite:///{tmp}/kg.db"
    assert run_kg("load", str(write_files(tmp / "b", BUNDLE)), "--store", url).exit_code == 0
    return url


def kg(*args: str) -> Any:
    from tests.helpers import run_kg

    return run_kg(*args)


def test_cli_cascade_json_is_the_design_shape(store: str) -> None:
    import json

    result = kg("cascade", "--fail", "S1@8", "--horizon", "48", "--store", store, "--format", "json")
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    assert data["initial"] == [{"id": "S1", "time": 8.0}] and data["horizon_hours"] == 48.0
    assert [(f["id"], f["time"]) for f in data["failures"]] == [("R1", 8.0), ("S1", 8.0), ("H1", 32.0)]
    assert {"from": "grid", "to": "health", "boundary": "agency", "time": 32.0} in data["crossings"]
    assert {"from": "yz", "to": "jb", "boundary": "region:district", "time": 32.0} in data["crossings"]
    assert data["summary"] == {"failed": 3, "population": 2800, "agencies": 2,
                               "regions": {"city": 1, "district": 2}}
    hazard = json.loads(kg("cascade", "--hazard", "flood-yz", "--store", store, "--format", "json").stdout)
    assert hazard["initial"] == [{"id": "S1", "time": 0.0}]


def test_cli_cascade_text_is_a_briefing(store: str) -> None:
    result = kg("cascade", "--fail", "S1@8", "--store", store)
    assert result.exit_code == 0, result.output
    for words in ("Who must act first", "State Grid", "Health Commission", "Jiangbei", "08:00", "1d 08:00",
                  "Timeline"):
        assert words in result.stdout


@pytest.mark.parametrize(("args", "message"), [
    (("--fail", "S9"), "'S9'"), (("--fail", "s1@2"), "did you mean 'S1'"),
    (("--fail", "S1@soon"), "ID@HOURS"), (("--fail", "S1@-3"), ">= 0"),
    (("--hazard", "flood-zy"), "did you mean 'flood-yz'"), ((), "either --fail"),
    (("--fail", "S1", "--samples", "10"), "--samples needs --hazard"), (("--fail", "S1", "--horizon", "-1"), ">= 0"),
])
def test_cli_cascade_bad_input_is_one_clear_line(store: str, args: tuple[str, ...], message: str) -> None:
    result = kg("cascade", *args, "--store", store)
    assert result.exit_code == 1
    assert message in result.stderr and "Traceback" not in result.output


@pytest.mark.parametrize(("args", "line"), [
    (("--fail", "S9"), "--fail 'S9': no asset with this id"),
    (("--fail", "S1", "--fail", "s1@2"), "--fail 's1': no asset with this id; did you mean 'S1'?"),
    (("--hazard", "flood-zy"), "--hazard 'flood-zy': no hazard zone with this id; did you mean 'flood-yz'?"),
    (("--hazard", "flood-yz", "--samples", "0"), "--samples must be at least 1, got 0"),
    (("--fail", "S1", "--horizon", "-1"), "--horizon must be a finite number of hours >= 0, got -1.0"),
])
def test_cli_cascade_names_the_option_at_fault(store: str, args: tuple[str, ...], line: str) -> None:
    """The scenario runner's errors name their field; the CLI says it as the option that gave it."""
    result = kg("cascade", *args, "--store", store)
    assert result.exit_code == 1 and result.stderr.strip() == f"error: {line}"


def test_cli_criticality_paths_spof_and_monte_carlo(store: str) -> None:
    import json

    ranked = json.loads(kg("criticality", "--store", store, "--format", "json").stdout)
    assert [a["id"] for a in ranked["assets"]] == ["S1", "R1", "H1"]
    per_district = kg("criticality", "--by", "district", "--store", store).stdout
    assert "Yuzhong" in per_district and "Jiangbei" in per_district and "S1" in per_district
    chains = json.loads(kg("paths", "S1", "H1", "--store", store, "--format", "json").stdout)
    assert chains["paths"] == [{"assets": ["H1", "S1"], "kinds": [["power"]]}]
    spof = json.loads(kg("spof", "H1", "--store", store, "--format", "json").stdout)
    assert spof == {"id": "H1", "single_points_of_failure": [{"id": "S1", "type": "Substation", "depth": 1}]}
    mc = json.loads(kg("cascade", "--hazard", "flood-yz", "--samples", "200", "--seed", "3", "--store", store,
                       "--format", "json").stdout)
    assert mc["samples"] == 200 and {p["id"] for p in mc["probability"]} == {"S1", "H1", "R1"}
    assert kg("paths", "S1", "H9", "--store", store).exit_code == 1


def test_coordination_pairs_and_who_acts_first() -> None:
    from kg.analysis.coordination import coordination

    #   grid's S (d1) feeds H (health, d2, 24 h generator) and R (housing, d1, no buffer);
    #   H also needs water from W (water, d2, 6 h tank). S fails at 2, W at 10: H fails at 16 of water.
    assets = [("S", "d1", 0), ("H", "d2", 300), ("R", "d1", 1000), ("W", "d2", 0)]
    deps = [("H", "S", "power", "power", 24.0), ("R", "S", "power", "power", 0.0),
            ("H", "W", "water", "water", 6.0)]
    snap = snap_of(assets, deps, agencies={"S": "grid", "H": "health", "R": "housing", "W": "water"})
    picture = coordination(snap, cascade(snap, [("S", 2.0), ("W", 10.0)]))
    assert [(c.from_, c.to, c.first_contact, c.first_failure, c.failures) for c in picture.agencies] == [
        ("grid", "housing", 2.0, 2.0, 1), ("water", "health", 10.0, 16.0, 1)]
    assert [(c.from_, c.to, c.first_contact) for c in picture.regions] == []  # H's cause is W, in d2 too
    assert [(a.agency, a.first, a.first_asset, a.failures) for a in picture.act_first] == [
        ("grid", 2.0, "S", 1), ("housing", 2.0, "R", 1), ("health", 2.0, "H", 1), ("water", 10.0, "W", 1)]
    assert picture.to_dict()["agencies"][0] == {"from": "grid", "to": "housing", "first_contact": 2.0,
                                                "first_failure": 2.0, "failures": 1}
