"""Limits that apply to every route: the request time limit (504), body size (413), single-valued parameters."""

from __future__ import annotations

from fastapi.testclient import TestClient

from api.main import create_app
from kg.store import Store
from tests.api.conftest import City, auth, settings_for


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
