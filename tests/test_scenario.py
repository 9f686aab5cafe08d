"""The one scenario runner: the same answers as the engine's functions, errors that name their field."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime
from typing import Any

import pytest
from hypothesis import given

from kg.analysis.cascade import CascadeResult, cascade
from kg.analysis.hazards import MonteCarloResult, hazard_cascade, monte_carlo
from kg.analysis.whatif import parse_edits
from kg.errors import EditRejected, ElementNotFound, ValidationError
from kg.scenario import Scenario, cascade_of, damaged, run
from tests.test_cascade import graphs, snap_of
from tests.test_hazards import snap_with


def _city() -> Any:
    """S feeds H (8 h buffer) and W; S and W sit in a flood zone, fragile at 1.0 (W lognormal)."""
    return snap_with(["S", "H", "W"], [("H", "S", "power", "power", 8.0), ("W", "S", "power", "power", 0.0)],
                     [("flood-50y", "Flood"), ("flood-100y", "Flood")],
                     [("S", "flood-50y", 1.2), ("W", "flood-100y", 1.0)],
                     [("Flood", 1.0, None, "S", None), ("Flood", 1.0, None, "W", 0.5)])


@given(graphs())
def test_failures_are_the_cascade_s(graph: Any) -> None:
    assets, deps, agencies = graph
    snap = snap_of(assets, deps, agencies=agencies)
    initial = [(assets[0][0], 1.5), (assets[-1][0], 0.0)]
    result = run(snap, Scenario(fail=tuple(initial), horizon=6.0))
    assert isinstance(result, CascadeResult)
    assert result.to_dict() == cascade(snap, initial, horizon=6.0).to_dict()


def test_hazard_and_monte_carlo_are_the_engine_s() -> None:
    snap = _city()
    hazard = run(snap, Scenario.hazards(["flood-50y", "flood-100y"], horizon=4))
    assert hazard.to_dict() == hazard_cascade(snap, ["flood-50y", "flood-100y"], horizon=4).to_dict()
    assert [f.id for f in hazard.failures if f.cause is None] == ["S", "W"]  # W at its median: fails
    mc = run(snap, Scenario.hazards(["flood-100y"], samples=300, seed=7))
    assert isinstance(mc, MonteCarloResult)
    assert mc.to_dict() == monte_carlo(snap, ["flood-100y"], samples=300, seed=7).to_dict()
    assert 0.3 < mc.probability["W"] < 0.7  # Phi(ln(1.0 / 1.0) / 0.5) = 0.5


def test_kind_says_which_engine_runs() -> None:
    assert Scenario.failures([("S", 0.0)]).kind == "fail"
    assert Scenario.hazards(["z"]).kind == "hazard"
    assert Scenario.hazards(["z"], samples=5).kind == "monte_carlo"


@pytest.mark.parametrize(("scenario", "field", "what", "element", "hint"), [
    (Scenario(fail=(("S", 0.0), ("h", 1.0))), ("fail", 1, "id"), "asset", "h", "did you mean 'H'?"),
    (Scenario(fail=(("nowhere", 0.0),)), ("fail", 0, "id"), "asset", "nowhere", ""),
    (Scenario.hazards(["flood-50y", "flood-5y"]), ("hazard", 1), "hazard zone", "flood-5y",
     "did you mean 'flood-50y'?"),
    (Scenario.hazards(["flood-10y"], samples=3), ("hazard", 0), "hazard zone", "flood-10y",
     "did you mean 'flood-100y'?"),
])
def test_unknown_ids_name_their_field(scenario: Scenario, field: tuple[Any, ...], what: str, element: str,
                                      hint: str) -> None:
    with pytest.raises(ElementNotFound) as caught:
        run(_city(), scenario)
    exc = caught.value
    assert (exc.field, exc.what, exc.element_id, exc.hint) == (field, what, element, hint)
    assert str(exc) == f"no {what} with id {element!r}" + (f"; {hint}" if hint else "")


@pytest.mark.parametrize(("values", "field", "message"), [
    ({"fail": (("S", -1.0),)}, ("fail", 0, "time"), "must be a finite number of hours >= 0, got -1.0"),
    ({"fail": (("S", 0.0), ("H", float("nan")))}, ("fail", 1, "time"), "got nan"),
    ({"hazard": ("z",), "horizon": -2.0}, ("horizon",), "must be a finite number of hours >= 0, got -2.0"),
    ({"hazard": ("z",), "horizon": float("inf")}, ("horizon",), "got inf"),
    ({"hazard": ("z",), "samples": 0}, ("samples",), "must be at least 1, got 0"),
    ({"fail": (("S", 0.0),), "samples": 10}, ("samples",), "needs hazard zones"),
    ({"fail": (("S", 0.0),), "hazard": ("z",)}, ("hazard",), "cannot be combined with fail"),
])
def test_bad_values_name_their_field_when_made(values: dict[str, Any], field: tuple[Any, ...], message: str) -> None:
    with pytest.raises(ValidationError, match=message) as caught:
        Scenario(**values)
    assert caught.value.field == field


def test_nothing_failing_is_refused_by_run() -> None:
    empty = Scenario(horizon=5)  # a face fills the failures in later
    with pytest.raises(ValidationError) as caught:
        run(_city(), empty)
    assert caught.value.field == ("fail",)
    assert run(_city(), replace(empty, fail=(("S", 0.0),))).horizon == 5


def test_live_scenario_starts_from_the_down_periods_at_hour_zero_the_earliest() -> None:
    at = datetime(2026, 11, 29, 8, tzinfo=UTC)
    hour = 3_600_000_000
    live = Scenario(as_of=at, down=(("S", 5 * hour), ("gone", 0)))  # an asset no longer in the graph: left out
    assert [(f.id, f.time) for f in run(_city(), live).failures] == [
        (f.id, f.time) for f in run(_city(), Scenario(fail=(("S", 0.0),))).failures]
    assert run(_city(), Scenario(as_of=at)).failures == ()  # nothing down: nothing fails
    assert damaged(_city(), live) == ["S"]  # what a restoration plan repairs: the assets down
    with pytest.raises(ValidationError) as caught:
        Scenario(down=(("S", 0),))
    assert caught.value.field == ("down",)


def test_edits_run_on_a_copy_and_name_their_field() -> None:
    city = _city()
    hardened = run(city, Scenario(hazard=("flood-50y",), edits=parse_edits(
        [{"op": "harden", "asset": a, "hazard": "Flood"} for a in city.asset_ids])))
    assert isinstance(hardened, CascadeResult) and hardened.failures == ()
    assert run(city, Scenario.hazards(["flood-50y"])).summary.failed == 3  # the snapshot itself is untouched
    with pytest.raises(EditRejected) as caught:
        run(city, Scenario(fail=(("S", 0.0),), edits=parse_edits([{"op": "harden", "asset": "Q", "hazard": "Flood"}])))
    assert caught.value.field == ("edits", 0, "asset") and caught.value.reasons == ["not_found"]


def test_cascade_of_refuses_monte_carlo() -> None:
    with pytest.raises(ValidationError) as caught:
        cascade_of(_city(), Scenario.hazards(["flood-50y"], samples=3))
    assert caught.value.field == ("samples",)
    assert cascade_of(_city(), Scenario.hazards(["flood-50y"])).summary.failed == 3


def test_damaged_is_the_initial_failures_not_the_cascade() -> None:
    snap = _city()
    # the hazard damages S and W (its fragile exposed assets); H, cut off by the cascade, is not damaged
    assert damaged(snap, Scenario.hazards(["flood-50y", "flood-100y"])) == ["S", "W"]
    assert damaged(snap, Scenario(fail=(("W", 3.0), ("S", 0.0), ("W", 0.0)))) == ["S", "W"]
    with pytest.raises(ElementNotFound) as missing:
        damaged(snap, Scenario(fail=(("S", 0.0), ("nope", 0.0))))
    assert missing.value.field == ("fail", 1, "id")
    with pytest.raises(ValidationError) as sampled:
        damaged(snap, Scenario.hazards(["flood-50y"], samples=4))
    assert sampled.value.field == ("samples",)


def test_the_engine_s_own_errors_name_their_parameter() -> None:
    """Called without the runner, the engine's functions name the parameter at fault (their own names)."""
    snap = _city()
    with pytest.raises(ElementNotFound) as unknown:
        cascade(snap, [("S", 0.0), ("nowhere", 1.0)])
    assert unknown.value.field == ("initial", 1) and str(unknown.value).startswith("no element with id 'nowhere'")
    with pytest.raises(ValidationError) as early:
        cascade(snap, [("S", -1.0)])
    assert early.value.field == ("initial", 0)
    with pytest.raises(ValidationError) as horizon:
        hazard_cascade(snap, ["flood-50y"], horizon=-1)
    assert horizon.value.field == ("horizon",)
    with pytest.raises(ElementNotFound) as zone:
        monte_carlo(snap, ["flood-50y", "flood-5y"], samples=2)
    assert zone.value.field == ("zones", 1)
    with pytest.raises(ValidationError) as samples:
        monte_carlo(snap, ["flood-50y"], samples=0)
    assert samples.value.field == ("samples",)
