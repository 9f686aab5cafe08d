"""Hazard scenarios: fragility resolution, deterministic failures, and seeded Monte Carlo."""

from __future__ import annotations

import math
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from kg.analysis.cascade import cascade
from kg.analysis.hazards import exposed, hazard_failures, monte_carlo
from kg.errors import ElementNotFound
from kg.snapshot import GraphSnapshot, build_snapshot
from tests.reference_cascade import snapshot_rows
from tests.test_cascade import graphs


def snap_with(assets: Any, deps: list[Any], zones: list[tuple[str, str]], exposures: list[tuple[str, str, float]],
              fragilities: list[tuple[str, float, str | None, str | None, float | None]],
              types: dict[str, str] | None = None) -> GraphSnapshot:
    rows = snapshot_rows(assets, deps)
    types = types or {}
    rows["assets"] = [(r[0], types.get(str(r[0]), "Substation"), *r[2:]) for r in rows["assets"]]
    rows["hazard_zones"] = [(z, h, None, None, None, None) for z, h in zones]
    rows["exposures"] = list(exposures)
    rows["fragilities"] = list(fragilities)
    return build_snapshot(1, lambda t: rows[t])


def test_fragility_resolution_asset_then_type_then_nearest_ancestor() -> None:
    types = {"S": "Substation", "P": "PowerPlant", "H": "Hospital", "X": "Substation"}
    snap = snap_with(list(types), [], [("z", "Flood"), ("q", "Earthquake")],
                     [("S", "z", 1.0), ("P", "z", 1.0), ("H", "z", 1.0), ("X", "z", 1.0), ("S", "q", 9.0)],
                     [("Flood", 2.0, "PowerAsset", None, None), ("Flood", 0.5, "Substation", None, None),
                      ("Flood", 3.0, None, "X", None)], types)
    # S: Substation row (0.5) beats PowerAsset (2.0); P: PowerAsset (2.0); X: its own row (3.0);
    # H: no Flood fragility for health assets; no Earthquake fragility at all.
    e = exposed(snap, ["z", "q"])
    assert {snap.asset_ids[a]: t for a, t in zip(e.asset.tolist(), e.threshold.tolist(), strict=True)} == {
        "S": 0.5, "P": 2.0, "X": 3.0}
    assert hazard_failures(snap, ["z", "q"]) == ["S"]


def test_threshold_is_inclusive_and_the_worst_zone_counts() -> None:
    snap = snap_with(["A", "B"], [], [("z1", "Flood"), ("z2", "Flood")],
                     [("A", "z1", 1.0), ("B", "z1", 0.4), ("B", "z2", 0.99)],
                     [("Flood", 1.0, "Substation", None, 0.5)])
    assert hazard_failures(snap, ["z1"]) == ["A"]
    assert hazard_failures(snap, ["z1", "z2"]) == ["A"]
    assert hazard_failures(snap, ["z2"]) == []


def test_unknown_zone_is_named_with_a_hint() -> None:
    snap = snap_with(["A"], [], [("flood-50y", "Flood")], [], [])
    with pytest.raises(ElementNotFound, match=r"'flood-5y'.*did you mean 'flood-50y'"):
        hazard_failures(snap, ["flood-5y"])


def test_monte_carlo_matches_the_lognormal_curve_and_includes_the_cascade() -> None:
    assets = [("S", "d1", 0), ("H", "d2", 100)]
    snap = snap_with(assets, [("H", "S", "power", "power", 12.0)], [("z", "Flood")], [("S", "z", 1.5)],
                     [("Flood", 1.0, "Substation", None, 0.5)])
    mc = monte_carlo(snap, ["z"], samples=4000, seed=7)
    p = 0.5 * math.erfc(-math.log(1.5) / 0.5 / math.sqrt(2))
    assert mc.probability["S"] == pytest.approx(p, abs=0.03)
    assert mc.probability["H"] == mc.probability["S"]
    assert mc.total.failed.mean == pytest.approx(2 * mc.probability["S"])
    assert (mc.total.failed.p5, mc.total.failed.p95) == (0.0, 2.0)
    assert [d.district for d in mc.districts] == ["d1", "d2"]
    assert mc.districts[1].population.mean == pytest.approx(100 * mc.probability["H"])
    assert monte_carlo(snap, ["z"], samples=300, seed=7).to_dict() == monte_carlo(snap, ["z"], samples=300,
                                                                                 seed=7).to_dict()
    cut = monte_carlo(snap, ["z"], samples=200, seed=1, horizon=6.0)
    assert "H" not in cut.probability


@settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(graphs(), st.data())
def test_deterministic_fragilities_make_every_sample_the_deterministic_cascade(case: Any, data: Any) -> None:
    assets, deps, _ = case
    ids = [a for a, _, _ in assets]
    intensity = st.sampled_from([0.5, 1.0, 2.0])
    hit = data.draw(st.lists(st.tuples(st.sampled_from(ids), intensity), unique_by=lambda x: x[0]))
    snap = snap_with(assets, deps, [("z", "Flood")], [(a, "z", i) for a, i in hit],
                     [("Flood", 1.0, "Substation", None, None)])
    down = hazard_failures(snap, ["z"])
    assert down == sorted(a for a, i in hit if i >= 1.0)
    failed = {f.id for f in cascade(snap, [(a, 0.0) for a in down]).failures}
    mc = monte_carlo(snap, ["z"], samples=3, seed=0)
    assert mc.probability == dict.fromkeys(failed, 1.0)
    assert (mc.total.failed.mean, mc.total.failed.p5, mc.total.failed.p95) == (len(failed),) * 3
