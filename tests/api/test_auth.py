"""Keys: Bearer or X-API-Key, 401 without a known key, 403 when the role is too low, open health and docs."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient

from api.main import create_app
from kg.settings import Settings
from tests.api.conftest import KEYS, City, auth

PROTECTED = [
    ("GET", "/v1/assets"),
    ("GET", "/v1/assets/x"),
    ("GET", "/v1/regions/x"),
    ("GET", "/v1/agencies/x"),
    ("POST", "/v1/cascades"),
    ("POST", "/v1/cypher"),
    ("POST", "/v1/loads"),
]


@pytest.mark.parametrize(("method", "path"), PROTECTED)
def test_no_key_is_401_with_a_problem_body(client: TestClient, method: str, path: str) -> None:
    r = client.request(method, path)
    assert r.status_code == 401
    assert r.headers["content-type"] == "application/problem+json"
    assert r.headers["www-authenticate"].startswith("Bearer")
    body = r.json()
    assert body["status"] == 401 and body["title"] == "Unauthorized" and "Bearer" in body["detail"]


@pytest.mark.parametrize(("method", "path"), PROTECTED)
def test_unknown_key_is_401(client: TestClient, method: str, path: str) -> None:
    for headers in ({"Authorization": "Bearer not-a-key-0123456789"}, {"X-API-Key": "not-a-key-0123456789"},
                    {"Authorization": f"Basic {KEYS['admin']}"}):
        r = client.request(method, path, headers=headers)
        assert r.status_code == 401, headers
        assert r.json()["detail"] in {"unknown API key", "missing API key: send Authorization: Bearer KEY or "
                                                         "X-API-Key: KEY"}


def test_bearer_and_x_api_key_both_work(client: TestClient, city: City) -> None:
    asset = city.ids()[0]
    assert client.get(f"/v1/assets/{asset}", headers=auth("read")).status_code == 200
    assert client.get(f"/v1/assets/{asset}", headers={"X-API-Key": KEYS["read"]}).status_code == 200
    assert client.get(f"/v1/assets/{asset}", headers={"authorization": f"bearer {KEYS['read']}"}).status_code == 200


def test_a_role_too_low_is_403(client: TestClient) -> None:
    r = client.post("/v1/loads", content=b"{}", headers={**auth("read"), "content-type": "application/x-ndjson"})
    assert r.status_code == 403
    assert r.json()["detail"] == "this needs a key with the write role; yours has read"
    # higher roles include lower ones
    for role in ("write", "admin"):
        r = client.post("/v1/loads", content=b"", headers={**auth(role), "content-type": "application/x-ndjson"})
        assert r.status_code == 422, role


@pytest.mark.parametrize("path", ["/healthz", "/readyz", "/openapi.json", "/docs"])
def test_health_and_docs_need_no_key(client: TestClient, path: str) -> None:
    assert client.get(path).status_code == 200


def test_openapi_declares_both_key_schemes(client: TestClient) -> None:
    schema = client.get("/openapi.json").json()
    assert set(schema["components"]["securitySchemes"]) == {"BearerKey", "HeaderKey"}
    assert schema["paths"]["/v1/cascades"]["post"]["security"] == [{"BearerKey": []}, {"HeaderKey": []}]
    assert "security" not in schema["paths"]["/healthz"]["get"]


def test_insecure_dev_without_keys_lets_every_loopback_caller_in_as_admin(store: object, city: City) -> None:
    app = create_app(Settings(insecure_dev=True), store=store)  # type: ignore[arg-type]
    with TestClient(app, base_url="http://127.0.0.1:8000", client=("127.0.0.1", 50000)) as c:
        assert c.get(f"/v1/assets/{city.ids()[0]}").status_code == 200
        r = c.post("/v1/loads", content=b"", headers={"content-type": "application/x-ndjson"})
        assert r.status_code == 422  # past auth: admin may load


@pytest.mark.parametrize(("server", "client", "headers", "said"), [
    ("127.0.0.1", "192.0.2.7", {}, "from 192.0.2.7"),
    ("192.0.2.2", "127.0.0.1", {}, "to 192.0.2.2"),
    ("::1", "::1", {"X-Forwarded-For": "198.51.100.4"}, "through a proxy"),
    ("127.0.0.1", "127.0.0.1", {"Forwarded": "for=198.51.100.4"}, "through a proxy"),
])
def test_insecure_dev_refuses_anything_but_loopback(store: object, server: str, client: str,
                                                    headers: dict[str, str], said: str) -> None:
    app = create_app(Settings(insecure_dev=True), store=store)  # type: ignore[arg-type]
    host = f"[{server}]" if ":" in server else server
    with TestClient(app, base_url=f"http://{host}:8000", client=(client, 50000)) as c:
        for path in ("/v1/assets", "/healthz", "/"):
            r = c.get(path, headers=headers)
            assert r.status_code == 403, path
            assert r.headers["content-type"] == "application/problem+json"
            assert "loopback clients only" in r.json()["detail"] and said in r.json()["detail"]


def test_insecure_dev_with_keys_still_checks_them(store: object) -> None:
    app = create_app(Settings(insecure_dev=True, api_keys=f"{KEYS['read']}:read"), store=store)  # type: ignore[arg-type]
    with TestClient(app) as c:
        assert c.get("/v1/assets").status_code == 401
        assert c.get("/v1/assets", headers=auth("read")).status_code == 200
