"""``POST /v1/cascades``: the same JSON as ``kg cascade --format json`` (the same kg functions); 4xx for bad input."""

from __future__ import annotations

from typing import Any

import pytest
from fastapi.testclient import TestClient

from kg.analysis.cascade import cascade
from kg.store import Store
from tests.api.conftest import City, auth


def _post(client: TestClient, body: Any, role: str = "read") -> Any:
    return client.post("/v1/cascades", json=body, headers=auth(role))


def test_cascade_equals_the_library(client: TestClient, store: Store, city: City) -> None:
    sub = city.first("Substation")
    r = _post(client, {"fail": [{"id": sub, "time": 8}], "horizon_hours": 48})
    assert r.status_code == 200, r.text
    expected = cascade(store.snapshot(), [(sub, 8.0)], horizon=48).to_dict()
    assert r.json() == expected
    body = r.json()
    assert body["initial"] == [{"id": sub, "time": 8.0}] and body["horizon_hours"] == 48
    assert len(body["failures"]) > 1
    assert [f["id"] for f in body["failures"] if f["cause"] is None] == [sub]
    times = [(f["time"], f["id"]) for f in body["failures"]]
    assert times == sorted(times)


def test_time_defaults_to_zero_and_horizon_to_none(client: TestClient, city: City) -> None:
    body = _post(client, {"fail": [{"id": city.first("PowerPlant")}]}).json()
    assert body["initial"][0]["time"] == 0 and body["horizon_hours"] is None


@pytest.mark.parametrize(("body", "field"), [
    ({"fail": [{"id": "X", "time": -1}]}, "fail[0].time"),
    ({"fail": [{"id": "X"}], "horizon_hours": -5}, "horizon_hours"),
    ({"fail": []}, "fail"),
    ({"fail": [{"time": 1}]}, "fail[0].id"),
    ({"fail": [{"id": "X", "when": 1}]}, "fail[0].when"),
    ({"fail": [{"id": "X", "time": "soon"}]}, "fail[0].time"),
    ({}, "body"),
    ({"fail": [{"id": "X"}], "samples": 3}, "samples"),
    ({"fail": [{"id": "X"}], "hazard_zones": ["Z"]}, "hazard_zones"),
    ([1, 2], "body"),
])
def test_bad_bodies_are_422_naming_the_field(client: TestClient, body: Any, field: str) -> None:
    r = _post(client, body)
    assert r.status_code == 422, r.text
    assert r.headers["content-type"] == "application/problem+json"
    problem = r.json()
    assert problem["field"] == field and problem["status"] == 422 and problem["errors"]


def test_unknown_asset_is_404_naming_it(client: TestClient, city: City) -> None:
    r = _post(client, {"fail": [{"id": city.first("Substation")}, {"id": "no-such-asset", "time": 2}]})
    assert r.status_code == 404
    assert r.json()["field"] == "fail[1].id" and "no-such-asset" in r.json()["detail"]


@pytest.mark.parametrize("path", ["/v1/cascades", "/v1/city/coordination"])
def test_unknown_ids_are_named_by_the_body_s_path_in_every_scenario_route(client: TestClient, city: City,
                                                                          path: str) -> None:
    """The scenario runner names the field; each route says it as the body's JSON path."""
    sub = city.first("Substation")
    asset = client.post(path, json={"fail": [{"id": sub}, {"id": sub}, {"id": "no-such-asset"}]},
                        headers=auth("read"))
    assert asset.status_code == 404, asset.text
    assert (asset.json()["field"], asset.json()["detail"]) == ("fail[2].id", "no asset with id 'no-such-asset'")
    zone = client.post(path, json={"hazard_zones": [_flood_zone(city), "no-such-zone"]}, headers=auth("read"))
    assert zone.status_code == 404, zone.text
    assert (zone.json()["field"], zone.json()["detail"]) == ("hazard_zones[1]", "no hazard zone with id 'no-such-zone'")


def test_malformed_json_is_400(client: TestClient) -> None:
    r = client.post("/v1/cascades", content=b'{"fail": [', headers={**auth("read"), "content-type": "application/json"})
    assert r.status_code == 400 and r.json()["field"] == "body" and "invalid JSON" in r.json()["detail"]


def test_non_finite_numbers_are_refused(client: TestClient, city: City) -> None:
    raw = b'{"fail": [{"id": "%s", "time": NaN}]}' % city.first("Substation").encode()
    r = client.post("/v1/cascades", content=raw, headers={**auth("read"), "content-type": "application/json"})
    assert r.status_code in (400, 422) and r.json()["field"] in ("body", "fail[0].time")


def test_body_over_the_limit_is_413(client: TestClient) -> None:
    big = {"fail": [{"id": "x" * 1000, "time": 0}] * 2000}  # about 2 MB > the 1 MiB default
    r = _post(client, big)
    assert r.status_code == 413 and r.headers["content-type"] == "application/problem+json"


def test_needs_a_key(client: TestClient, city: City) -> None:
    assert client.post("/v1/cascades", json={"fail": [{"id": city.first("Substation")}]}).status_code == 401


def _flood_zone(city: City) -> str:
    return next(z[0] for z in city.rows["hazard_zones"] if z[1] == "Flood")


def test_hazard_cascade_equals_the_cli_recipe(client: TestClient, store: Store, city: City) -> None:
    from kg.analysis.hazards import hazard_failures

    zones = [z[0] for z in city.rows["hazard_zones"]]
    r = _post(client, {"hazard_zones": zones, "horizon_hours": 72})
    assert r.status_code == 200, r.text
    snap = store.snapshot()
    expected = cascade(snap, [(a, 0.0) for a in hazard_failures(snap, zones)], horizon=72).to_dict()
    assert r.json() == expected


def test_monte_carlo_equals_the_library(client: TestClient, store: Store, city: City) -> None:
    from kg.analysis.hazards import monte_carlo

    zone = _flood_zone(city)
    r = _post(client, {"hazard_zones": [zone], "samples": 40, "seed": 5})
    assert r.status_code == 200, r.text
    assert r.json() == monte_carlo(store.snapshot(), [zone], samples=40, seed=5).to_dict()
    assert set(r.json()["total"]) == {"district", "failed", "population"}


@pytest.mark.parametrize(("body", "status", "field"), [
    ({"hazard_zones": ["no-such-zone"]}, 404, "hazard_zones[0]"),
    ({"hazard_zones": []}, 422, "hazard_zones"),
    ({"hazard_zones": ["Z"], "samples": 0}, 422, "samples"),
    ({"hazard_zones": ["Z"], "samples": 1001}, 422, "samples"),
    ({"hazard_zones": ["Z"], "seed": -1}, 422, "seed"),
    ({"hazard_zones": None}, 422, "hazard_zones"),
])
def test_bad_hazard_requests(client: TestClient, body: Any, status: int, field: str) -> None:
    r = _post(client, body)
    assert r.status_code == status and r.json()["field"] == field, r.text
