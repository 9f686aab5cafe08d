"""Limits that apply to every route: the request time limit (504, the work stopped), body size (413),
single-valued parameters, the size of a cascade answer (422). Concurrency limits (429) are checked on a real
server in test_bounds_server.py."""

from __future__ import annotations

import threading
import time

import pytest
from fastapi.testclient import TestClient

from api.deps import Runner
from api.main import create_app
from api.problems import APIProblem
from kg.analysis.cancel import CancelToken
from kg.store import Store
from tests.api.conftest import City, auth, settings_for
from tests.helpers import run_async


def test_request_over_the_time_limit_is_504(store: Store, city: City) -> None:
    with TestClient(create_app(settings_for(store.url, request_timeout_s=1e-9), store=store)) as c:
        r = c.post("/v1/cascades", json={"fail": [{"id": city.first("Substation")}]}, headers=auth("read"))
        assert r.status_code == 504
        assert r.headers["content-type"] == "application/problem+json"
        assert "time limit" in r.json()["detail"]
        assert c.get("/healthz").status_code == 200  # nothing blocking: health still answers


def test_body_limit_applies_to_chunked_bodies_too(store: Store) -> None:
    def chunks() -> object:
        for _ in range(40):
            yield b"x" * 1024

    with TestClient(create_app(settings_for(store.url, max_body_bytes=16 * 1024), store=store)) as c:
        r = c.post("/v1/cascades", content=chunks(), headers={**auth("read"), "content-type": "application/json"})
        assert r.status_code == 413 and "16,384" in r.json()["detail"]


def test_a_single_valued_parameter_given_twice_is_422(client: TestClient) -> None:
    r = client.get("/v1/assets", params=[("limit", "5"), ("limit", "6")], headers=auth("read"))
    assert r.status_code == 422 and r.json()["field"] == "limit"


def test_openapi_states_the_configured_maxima(store: Store) -> None:
    settings = settings_for(store.url, max_depth=7, max_top=9, max_page=11, max_paths=3, max_samples=13)
    schema = create_app(settings, store=store).openapi()

    def maximum(path: str, method: str, name: str) -> int:
        for p in schema["paths"][path][method]["parameters"]:
            if p["name"] == name:
                branches = p["schema"].get("anyOf", [p["schema"]])
                return int(next(b["maximum"] for b in branches if b.get("type") == "integer"))
        raise AssertionError(name)

    assert maximum("/v1/assets/{asset_id}/dependents", "get", "depth") == 7
    assert maximum("/v1/criticality", "get", "top") == 9
    assert maximum("/v1/assets", "get", "limit") == 11
    assert maximum("/v1/assets/{asset_id}/paths/{other}", "get", "k") == 3
    assert schema["components"]["schemas"]["CascadeRequest"]["properties"]["samples"]["maximum"] == 13
    problem = schema["paths"]["/v1/cascades"]["post"]["responses"]["422"]["content"]
    assert list(problem) == ["application/problem+json"]


def test_the_runner_stops_its_work_before_answering_504() -> None:
    ended = threading.Event()
    checks = []

    def work(cancel: CancelToken) -> None:
        try:
            while True:  # analysis that checks its token as it goes
                checks.append(1)
                cancel.check()
                time.sleep(0.001)
        finally:
            ended.set()

    async def request() -> None:
        run = Runner(0.2)
        with pytest.raises(APIProblem) as answer:
            await run(work, run.cancel)
        assert answer.value.status == 504 and "was stopped" in answer.value.detail
        assert ended.is_set()  # the worker had stopped when the 504 was given
        assert run.cancel.cancelled

    run_async(request)
    stopped_at = len(checks)
    time.sleep(0.05)
    assert len(checks) == stopped_at


def test_work_that_ignores_the_token_still_gets_a_504_after_the_grace(caplog: pytest.LogCaptureFixture) -> None:
    release = threading.Event()

    async def request() -> None:
        run = Runner(0.1)
        with pytest.raises(APIProblem) as answer:
            await run(release.wait, 30)
        assert answer.value.status == 504

    try:
        run_async(request)
    finally:
        release.set()
    assert "still runs" in caplog.text and "does not check a cancel token" in caplog.text


def test_a_cascade_over_the_failure_limit_is_422_naming_the_setting(store: Store, city: City) -> None:
    plants = [a for a in city.ids() if a.startswith("pp-")]
    with TestClient(create_app(settings_for(store.url, max_failures=3), store=store)) as c:
        r = c.post("/v1/cascades", json={"fail": [{"id": a} for a in plants]}, headers=auth("read"))
        assert r.status_code == 422
        body = r.json()
        assert body["limit"] == "KG_MAX_FAILURES" and body["type"].endswith("/result-too-large")
        assert "more than the 3" in body["detail"]
        r = c.post("/v1/cascades", json={"fail": [{"id": plants[0], "time": 1}], "horizon_hours": 0},
                   headers=auth("read"))
        assert r.status_code == 200 and r.json()["failures"] == []  # within the limit
        r = c.post("/v1/city/coordination", json={"fail": [{"id": a} for a in plants]}, headers=auth("read"))
        assert r.status_code == 422 and r.json()["limit"] == "KG_MAX_FAILURES"
