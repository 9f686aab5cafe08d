"""``/healthz`` answers while the process runs; ``/readyz`` only while the store answers."""

from __future__ import annotations

from fastapi.testclient import TestClient

from api.main import create_app
from tests.api.conftest import settings_for


def test_healthz(client: TestClient) -> None:
    r = client.get("/healthz")
    assert r.status_code == 200 and r.json()["status"] == "ok"


def test_readyz_reports_the_store(client: TestClient) -> None:
    body = client.get("/readyz").json()
    assert body["status"] == "ok"
    assert body["store"] in {"sqlite", "bolt", "neo4j"}
    assert isinstance(body["version"], int)


def test_readyz_is_503_when_the_store_cannot_be_reached() -> None:
    app = create_app(settings_for("bolt://127.0.0.1:9", request_timeout_s=15))  # nothing listens on port 9
    with TestClient(app) as c:
        r = c.get("/readyz")
        assert r.status_code == 503
        body = r.json()
        assert (body["status"], body["store"], body["version"], body["reason"]) == ("unavailable", "bolt", None,
                                                                                   "unreachable")
        assert "127.0.0.1:9" not in body["detail"]  # no internals for callers without a key
        assert c.get("/healthz").status_code == 200


def test_an_unreachable_store_is_503_problem_not_500() -> None:
    app = create_app(settings_for("bolt://127.0.0.1:9", request_timeout_s=15))
    with TestClient(app) as c:
        r = c.get("/v1/assets", headers={"X-API-Key": "test-read-key-0123456789"})
        assert r.status_code == 503
        assert r.headers["content-type"] == "application/problem+json"
        assert "127.0.0.1:9" not in r.json()["detail"]  # no internals in the body


def test_unknown_route_is_a_404_problem(client: TestClient) -> None:
    r = client.get("/v1/nothing")
    assert r.status_code == 404 and r.headers["content-type"] == "application/problem+json"
    r = client.delete("/v1/assets")
    assert r.status_code == 405 and r.json()["title"] == "Method not allowed"
