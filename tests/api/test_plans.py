"""``POST /v1/plans``: the same JSON as the library (and ``kg plan``); bad candidates and scenarios named."""

from __future__ import annotations

from typing import Any

import pytest
from fastapi.testclient import TestClient

from kg.analysis.cascade import cascade
from kg.analysis.investment import n_minus_one, parse_candidates, plan_investments, scenarios_from
from kg.store import Store
from tests.api.conftest import City, auth


def _post(client: TestClient, body: Any) -> Any:
    return client.post("/v1/plans", json=body, headers=auth("read"))


def _candidates(store: Store, city: City) -> list[dict[str, Any]]:
    """A buffer for each of the first few populated assets that fail when one substation does."""
    sub = city.first("Substation")
    out = []
    for f in cascade(store.snapshot(), [(sub, 0.0)]).failures:
        if f.cause is not None and f.population > 0 and len(out) < 4:
            out.append({"id": f"buffer-{f.id}", "cost": 1 + len(out),
                        "edits": [{"op": "add_buffer", "asset": f.id, "kind": f.cause.kind, "group": f.cause.group,
                                   "hours": 48}]})
    return out


def test_plan_equals_the_library(client: TestClient, store: Store, city: City) -> None:
    candidates = _candidates(store, city)
    sub = city.first("Substation")
    body = {"candidates": candidates, "budget": 4, "horizon_hours": 24,
            "scenarios": [{"probability": 0.1, "fail": [{"id": sub}]},
                          {"id": "flood", "probability": 0.02, "hazard": [city.ids("hazard_zones")[0]]}]}
    r = _post(client, body)
    assert r.status_code == 200, r.text
    snap = store.snapshot()
    scenarios = scenarios_from(snap, [{"probability": 0.1, "fail": [{"id": sub, "time": 0.0}]},
                                      {"id": "flood", "probability": 0.02, "hazard": [city.ids("hazard_zones")[0]]}])
    expected = plan_investments(snap, parse_candidates(snap, candidates), 4, scenarios, horizon=24).to_dict()
    assert r.json() == expected
    assert r.json()["steps"] and r.json()["final"] < r.json()["baseline"]


def test_n_minus_one_and_monte_carlo_sets(client: TestClient, store: Store, city: City) -> None:
    candidates = _candidates(store, city)
    r = _post(client, {"candidates": candidates, "budget": 2, "n_minus_one": ["Substation"], "horizon_hours": 6,
                       "greedy": "plain", "local_improvement": False})
    assert r.status_code == 200, r.text
    snap = store.snapshot()
    expected = plan_investments(snap, parse_candidates(snap, candidates), 2, n_minus_one(snap, ["Substation"]),
                                horizon=6, lazy=False, local=False).to_dict()
    assert r.json() == expected and r.json()["method"]["greedy"] == "plain"
    r = _post(client, {"candidates": candidates, "budget": 2, "hazard": city.ids("hazard_zones")[:2],
                       "samples": 20, "seed": 4})
    assert r.status_code == 200, r.text
    assert r.json()["scenarios"] == {"kind": "monte_carlo", "count": 20, "total_probability": 1.0,
                                     "zones": city.ids("hazard_zones")[:2], "samples": 20, "seed": 4}


@pytest.mark.parametrize(("change", "status", "field"), [
    ({"candidates": [{"id": "a", "cost": 1, "edits": [{"op": "harden", "asset": "nope", "hazard": "Flood"}]}]},
     404, "candidates[0].edits[0].asset"),
    ({"candidates": [{"id": "a", "cost": 1, "edits": []}, {"id": "a", "cost": 1, "edits": []}]}, 409,
     "candidates[1].id"),
    ({"candidates": [{"id": "a", "cost": 0, "edits": []}]}, 422, "candidates[0].cost"),
    ({"scenarios": [{"probability": 0.1, "fail": [{"id": "nope"}]}]}, 404, "scenarios[0].fail[0].id"),
    ({"scenarios": [{"probability": 0.1, "hazard": ["nope"]}]}, 404, "scenarios[0].hazard[0]"),
    ({"scenarios": [{"probability": 1.5, "hazard": ["nope"]}]}, 422, "scenarios[0].probability"),
    ({"hazard": ["nope"]}, 404, "hazard[0]"),
    ({"n_minus_one": ["Substation"], "hazard": ["z"]}, 422, "n_minus_one"),
    ({"n_minus_one": ["Substation"], "samples": 3}, 422, "samples"),
    ({"budget": -1}, 422, "budget"),
])
def test_bad_plans_are_4xx_naming_the_field(client: TestClient, change: dict[str, Any], status: int,
                                            field: str) -> None:
    body: dict[str, Any] = {"candidates": [{"id": "a", "cost": 1, "edits": []}], "budget": 1}
    body.update(change)
    if not {"scenarios", "hazard", "n_minus_one"} & set(body):
        body["n_minus_one"] = ["Substation"]
    r = _post(client, body)
    assert r.status_code == status, r.text
    assert r.json()["field"] == field
