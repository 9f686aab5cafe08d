"""Robustness curves equal a from-scratch reference on random graphs; edge cases; the paper's critical point."""

from __future__ import annotations

import itertools
import os
import random
from typing import Any

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from kg.analysis.criticality import criticality
from kg.analysis.mutual_giant import coupling
from kg.analysis.robustness import (
    RobustnessSpec,
    attack_order,
    combine,
    curve,
    removal_counts,
    robustness,
    sample_curve,
)
from kg.errors import ValidationError
from kg.schema import TABLES
from kg.snapshot import GraphSnapshot, build_snapshot
from tests.coupled_networks import PC_TIMES_K, coupled_er_snapshot
from tests.reference_cascade import Dep
from tests.reference_robustness import degree_order, reference_robustness

settings.register_profile("robustness-ci", max_examples=int(os.environ.get("KG_ROBUSTNESS_EXAMPLES", "400")),
                          deadline=None, suppress_health_check=[HealthCheck.too_slow])

# Types of four sectors; ResidentialArea and Hospital rarely get links of their own sector.
TYPES = ("Substation", "PowerPlant", "PumpingStation", "WaterMain", "CellTower", "ResidentialArea", "Hospital")
KINDS = ("power", "water", "telecom")


def snapshot(types: dict[str, str], deps: list[Dep], population: dict[str, int] | None = None) -> GraphSnapshot:
    population = population or {}
    rows = {
        "assets": [TABLES["assets"].row({"id": a, "type": t, "population": population.get(a, 0)})
                   for a, t in types.items()],
        "dependencies": [tuple(d) for d in deps],
    }
    return build_snapshot(1, lambda table: rows.get(table, []))


@st.composite
def cities(draw: st.DrawFn) -> tuple[dict[str, str], dict[str, int], list[Dep]]:
    """Small graphs over a few sectors: links, interdependencies, AND/OR groups, supply loops, no population."""
    n = draw(st.integers(0, 9))
    ids = [f"a{i}" for i in range(n)]
    types = {a: draw(st.sampled_from(TYPES)) for a in ids}
    people = draw(st.booleans())
    population = {a: draw(st.integers(0, 40)) if people else 0 for a in ids}
    deps: dict[tuple[str, str, str, str], float] = {}
    if n > 1:
        raw = draw(st.lists(st.tuples(st.integers(0, n - 1), st.integers(0, n - 1), st.sampled_from(KINDS),
                                      st.sampled_from(["", "", "x"])), max_size=3 * n))
        for d, p, kind, group in raw:
            if d != p:
                deps[(ids[d], ids[p], kind, group or kind)] = 0.0
    return types, population, [(d, p, k, g, b) for (d, p, k, g), b in deps.items()]


def engine(snap: GraphSnapshot, model: str, attack: str, steps: int, samples: int = 1, seed: int = 0) -> Any:
    return robustness(snap, model=model, attack=attack, steps=steps, samples=samples, seed=seed).to_dict()


@settings(settings.get_profile("robustness-ci"))
@given(cities(), st.sampled_from(["supply", "mutual-giant"]), st.integers(1, 7))
def test_deterministic_attacks_equal_the_reference(case: Any, model: str, steps: int) -> None:
    types, population, deps = case
    snap = snapshot(types, deps, population)
    by_degree = degree_order(sorted(types), deps)
    assert engine(snap, model, "degree", steps) == reference_robustness(
        model, "degree", types, population, deps, [by_degree], steps)
    # The criticality ranking is round one's, tested against its own reference in test_criticality.py.
    by_criticality = [c.id for c in criticality(snap)]
    assert engine(snap, model, "criticality", steps) == reference_robustness(
        model, "criticality", types, population, deps, [by_criticality], steps)


@settings(settings.get_profile("robustness-ci"))
@given(cities(), st.sampled_from(["supply", "mutual-giant"]), st.integers(1, 6), st.integers(1, 3),
       st.integers(0, 2**40))
def test_random_attack_equals_the_reference_with_the_same_orders(case: Any, model: str, steps: int, samples: int,
                                                                 seed: int) -> None:
    types, population, deps = case
    snap = snapshot(types, deps, population)
    orders = [[snap.asset_ids[i] for i in attack_order(snap, "random", seed=seed, sample=k)] for k in range(samples)]
    assert engine(snap, model, "random", steps, samples, seed) == reference_robustness(
        model, "random", types, population, deps, orders, steps)


def ring_pair(nodes: int, chords: int, seed: int) -> tuple[dict[str, str], list[Dep]]:
    """Two rings with random chords (power and telecom layers), coupled one-to-one, plus a few homes."""
    rng = random.Random(seed)
    power = [f"p{i:03d}" for i in range(nodes)]
    telecom = [f"t{i:03d}" for i in range(nodes)]
    types = {a: "Substation" for a in power} | {a: "CellTower" for a in telecom}
    deps: set[Dep] = set()
    for ids, kind in ((power, "power"), (telecom, "telecom")):
        for i in range(nodes):
            deps.add((ids[i], ids[(i + 1) % nodes], kind, kind, 0.0))
        for _ in range(chords):
            u, v = rng.sample(range(nodes), 2)
            deps.add((ids[u], ids[v], kind, kind, 0.0))
    for a, b in zip(power, rng.sample(telecom, nodes), strict=True):
        deps.add((a, b, "telecom", "telecom", 0.0))
        deps.add((b, a, "power", "power", 0.0))
    for h in range(nodes // 4):
        types[f"h{h:03d}"] = "ResidentialArea"
        deps.add((f"h{h:03d}", rng.choice(power), "power", "power", 0.0))
    return types, sorted(deps)


@settings(max_examples=40, deadline=None)
@given(st.integers(30, 150), st.integers(0, 120), st.integers(0, 10**6), st.integers(5, 60))
def test_incremental_points_equal_points_from_scratch(nodes: int, chords: int, seed: int, steps: int) -> None:
    types, deps = ring_pair(nodes, chords, seed)
    snap = snapshot(types, deps)
    order = attack_order(snap, "random", seed=seed)
    fast = curve(snap, "mutual-giant", order, steps)
    plain = curve(snap, "mutual-giant", order, steps, incremental=False)
    assert fast.functional.tolist() == plain.functional.tolist()
    assert plain.recomputed == steps + 1


def test_incremental_method_is_used_and_exact_on_a_larger_coupled_pair() -> None:
    snap = coupled_er_snapshot(1500, 4.0, seed=3)
    order = attack_order(snap, "random", seed=5)
    fast = curve(snap, "mutual-giant", order, 60)
    plain = curve(snap, "mutual-giant", order, 60, incremental=False)
    assert fast.functional.tolist() == plain.functional.tolist()
    assert fast.served.tolist() == plain.served.tolist()
    before_collapse = int(np.argmax(fast.functional < fast.functional[0] // 4))
    assert fast.recomputed < 61 - before_collapse + 2  # only the first point and the collapsed ones


# ---------------------------------------------------------------------- edge cases
@pytest.mark.parametrize("model", ["supply", "mutual-giant"])
@pytest.mark.parametrize("attack", ["random", "degree", "criticality"])
def test_no_assets_gives_a_flat_zero_curve(model: str, attack: str) -> None:
    result = engine(snapshot({}, []), model, attack, 4)
    assert result["points"] == [{"removed": i / 4, "functional": 0.0, "population": 0.0} for i in range(5)]
    assert (result["critical_removed"], result["R"]) == (0.0, 0.0)


@pytest.mark.parametrize("model", ["supply", "mutual-giant"])
def test_one_asset(model: str) -> None:
    result = engine(snapshot({"s": "Substation"}, [], {"s": 7}), model, "random", 3)
    # round(1/3) = 0, round(2/3) = 1: the asset goes at the third point
    assert [(p["functional"], p["population"]) for p in result["points"]] == [(1.0, 1.0)] * 2 + [(0.0, 0.0)] * 2
    assert result["critical_removed"] == pytest.approx(1 / 3)
    assert result["R"] == 0.5


def test_zero_population_reports_no_population_served_while_assets_work() -> None:
    snap = snapshot({"s": "Substation", "h": "Hospital"}, [("h", "s", "power", "power", 0.0)])
    points = engine(snap, "supply", "degree", 2)["points"]
    assert [p["population"] for p in points] == [0.0, 0.0, 0.0]
    assert points[0]["functional"] == 1.0


def test_without_dependencies_every_remaining_asset_works_in_both_models() -> None:
    types = {f"a{i}": t for i, t in enumerate(TYPES)}
    for model in ("supply", "mutual-giant"):
        points = engine(snapshot(types, []), model, "degree", 7)["points"]
        assert [p["functional"] for p in points] == [(7 - i) / 7 for i in range(8)]


def test_a_layer_without_links_has_no_giant_condition() -> None:
    # Homes need a substation each; homes are never linked to one another.
    types = {"h1": "ResidentialArea", "h2": "ResidentialArea", "s1": "Substation", "s2": "Substation"}
    deps = [("h1", "s1", "power", "power", 0.0), ("h2", "s2", "power", "power", 0.0)]
    unlinked = snapshot(types, deps)
    assert coupling(unlinked).linked.tolist() == [False, False]
    assert engine(unlinked, "mutual-giant", "degree", 4)["points"][0]["functional"] == 1.0
    # s2 linked to a new s3: the power layer's giant is {s2, s3}, so s1 and the home it feeds, h1, fail
    split = snapshot({**types, "s3": "Substation"}, [*deps, ("s3", "s2", "power", "power", 0.0)])
    assert dict(zip(coupling(split).layer_names, coupling(split).linked.tolist(), strict=True)) == {
        "PowerAsset": True, "ResidentialArea": False}
    assert engine(split, "mutual-giant", "degree", 5)["points"][0]["functional"] == 3 / 5


def test_giant_ties_go_to_the_component_holding_the_smallest_id() -> None:
    types = {a: "Substation" for a in ("b", "c", "a", "d")}
    deps = [("c", "b", "power", "power", 0.0), ("a", "d", "power", "power", 0.0)]
    snap = snapshot(types, deps)
    functional = curve(snap, "mutual-giant", np.arange(4), 4).functional.tolist()
    assert functional[0] == 2
    assert functional == [2, 2, 2, 1, 0]  # removing b, c, a, d in turn: {a, d} stays the giant until a goes
    # Removing d makes {b, c} the giant (the functional set is not monotone); removing b then leaves
    # {a} and {c}, a tie won by a.
    order = np.asarray([snap.index[a] for a in ("d", "b", "c", "a")])
    assert curve(snap, "mutual-giant", order, 4).functional.tolist() == [2, 2, 1, 1, 0]


# ---------------------------------------------------------------------- contract details
def test_removal_counts_round_half_up() -> None:
    assert removal_counts(5, 4) == [0, 1, 3, 4, 5]  # 1.25, 2.5, 3.75
    assert removal_counts(3, 2) == [0, 2, 3]  # 1.5 -> 2 (Python's round gives 2 here, but 0.5 -> 0)
    assert removal_counts(1, 2) == [0, 1, 1]
    assert removal_counts(0, 3) == [0, 0, 0, 0]


def test_json_shape_and_critical_point() -> None:
    types = {f"s{i}": "Substation" for i in range(4)} | {"h": "Hospital"}
    deps = [("h", f"s{i}", "power", "power", 0.0) for i in range(4)]
    result = engine(snapshot(types, deps, {"h": 100}), "supply", "degree", 5)
    assert list(result) == ["model", "attack", "points", "critical_removed", "R"]
    assert [list(p) for p in result["points"]] == [["removed", "functional", "population"]] * 6
    # degree order: h (4), then s0..s3: h goes first, taking its 100 people
    assert [p["population"] for p in result["points"]] == [1.0, 0.0, 0.0, 0.0, 0.0, 0.0]
    assert result["critical_removed"] == 0.0


def test_samples_are_independent_of_order_and_place() -> None:
    types, deps = ring_pair(40, 20, seed=1)
    snap = snapshot(types, deps)
    spec = RobustnessSpec("mutual-giant", "random", steps=10, samples=4, seed=9)
    parts = [sample_curve(snap, spec, i) for i in range(spec.runs)]
    assert combine(spec, parts) == combine(spec, parts[::-1])
    assert combine(spec, parts).to_dict() == robustness(snap, model="mutual-giant", attack="random", steps=10,
                                                        samples=4, seed=9).to_dict()
    assert sample_curve(snap, spec, 2).functional.tolist() == parts[2].functional.tolist()
    orders = {tuple(attack_order(snap, "random", seed=9, sample=i).tolist()) for i in range(4)}
    assert len(orders) == 4
    assert RobustnessSpec("supply", "degree", samples=5).runs == 1


@pytest.mark.parametrize(("field", "kwargs"), [
    ("model", {"model": "cascade"}),
    ("attack", {"attack": "betweenness"}),
    ("steps", {"steps": 0}),
    ("samples", {"samples": -1}),
    ("seed", {"seed": -3}),
    ("steps", {"steps": 2.5}),
    ("samples", {"samples": True}),
])
def test_bad_requests_name_their_field(field: str, kwargs: dict[str, Any]) -> None:
    with pytest.raises(ValidationError) as caught:
        robustness(snapshot({}, []), **kwargs)
    assert [p.where for p in caught.value.problems] == [field]


# ---------------------------------------------------------------------- the paper
def test_coupled_er_networks_collapse_near_the_theoretical_critical_point() -> None:
    """Buldyrev et al. 2010: two ER layers (<k> = 4), one-to-one coupled, random attack on layer A."""
    nodes, k = 5000, 4.0
    snap = coupled_er_snapshot(nodes, k, seed=2)
    layer_a = np.flatnonzero(np.char.startswith(np.asarray(snap.asset_ids), "a"))
    layer_b = np.flatnonzero(np.char.startswith(np.asarray(snap.asset_ids), "b"))
    estimates = []
    for sample in range(3):
        rng = np.random.default_rng(sample)
        order = np.concatenate((rng.permutation(layer_a), rng.permutation(layer_b)))
        counts = range(0, nodes + 1, 10)  # attacks on A alone, in steps of 0.2 % of A
        functional = []
        for point in coupling(snap).sweep(order, counts):
            functional.append(point.functional)
            if point.functional < functional[0] / 10:  # collapsed: later points are not needed
                break
        drops = [a - b for a, b in itertools.pairwise(functional)]
        kept = 1 - counts[drops.index(max(drops))] / nodes
        estimates.append(kept * k)
    assert np.mean(estimates) == pytest.approx(PC_TIMES_K, rel=0.10)
