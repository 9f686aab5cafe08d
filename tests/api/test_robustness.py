"""``POST /v1/robustness``: the curve of ``kg robustness --format json`` (one kg function), bounded like cascades."""

from __future__ import annotations

import time
from typing import Any

import pytest
from fastapi.testclient import TestClient

from api.main import create_app
from kg.analysis.robustness import robustness
from kg.store import Store
from tests.api.conftest import auth, settings_for


@pytest.mark.parametrize("body", [
    {"model": "supply", "attack": "random", "steps": 10, "samples": 2, "seed": 5},
    {"model": "mutual-giant", "attack": "degree", "steps": 8},
    {"model": "supply", "attack": "criticality", "steps": 4},
    {},
])
def test_curve_equals_the_library(client: TestClient, store: Store, body: dict[str, Any]) -> None:
    r = client.post("/v1/robustness", json=body, headers=auth("read"))
    assert r.status_code == 200, r.text
    expected = robustness(store.snapshot(), **{k.replace("-", "_"): v for k, v in body.items()}).to_dict()
    assert r.json() == expected
    assert len(r.json()["points"]) == body.get("steps", 100) + 1


@pytest.mark.parametrize(("body", "field"), [
    ({"model": "giant"}, "model"), ({"attack": "betweenness"}, "attack"), ({"steps": 0}, "steps"),
    ({"steps": 1001}, "steps"), ({"samples": 101}, "samples"), ({"seed": -1}, "seed"), ({"steps": "many"}, "steps"),
    ({"horizon_hours": 3}, "horizon_hours"),
])
def test_bad_requests_are_422_naming_the_field(client: TestClient, body: dict[str, Any], field: str) -> None:
    r = client.post("/v1/robustness", json=body, headers=auth("read"))
    assert r.status_code == 422, r.text
    assert r.headers["content-type"] == "application/problem+json" and r.json()["field"] == field


def test_limits_follow_the_settings(store: Store) -> None:
    with TestClient(create_app(settings_for(store.url, max_steps=5, max_curve_samples=2), store=store)) as c:
        assert c.post("/v1/robustness", json={"steps": 5, "samples": 2}, headers=auth("read")).status_code == 200
        r = c.post("/v1/robustness", json={"steps": 6}, headers=auth("read"))
        assert r.status_code == 422 and "at most 5" in r.json()["detail"]
        r = c.post("/v1/robustness", json={"steps": 5, "samples": 3}, headers=auth("read"))
        assert r.status_code == 422 and r.json()["field"] == "samples"
        body = c.get("/openapi.json").json()["components"]["schemas"]["RobustnessRequest"]["properties"]
        assert (body["steps"]["maximum"], body["samples"]["maximum"]) == (5, 2)  # the schema states them


def test_time_limit_is_504_and_the_work_stops(store: Store) -> None:
    with TestClient(create_app(settings_for(store.url, request_timeout_s=0.3), store=store)) as c:
        start = time.monotonic()
        r = c.post("/v1/robustness", json={"model": "mutual-giant", "steps": 1000, "samples": 100},
                   headers=auth("read"))
        assert r.status_code == 504 and "time limit" in r.json()["detail"]
        assert time.monotonic() - start < 10  # 1,000 curves would take minutes


def test_needs_a_key(client: TestClient) -> None:
    assert client.post("/v1/robustness", json={}).status_code == 401
