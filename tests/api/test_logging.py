"""One JSON access line per request: id, route, status, duration; never a key, a query string or a body."""

from __future__ import annotations

import json
import logging
from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient

from api.logging import ACCESS_LOGGER
from tests.api.conftest import KEYS, City, auth


class _Lines(logging.Handler):
    def __init__(self) -> None:
        super().__init__()
        self.lines: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.lines.append(record.getMessage())


@pytest.fixture
def access_lines() -> Iterator[list[str]]:
    handler = _Lines()
    logger = logging.getLogger(ACCESS_LOGGER)
    logger.addHandler(handler)
    try:
        yield handler.lines
    finally:
        logger.removeHandler(handler)


def test_one_json_line_per_request(client: TestClient, city: City, access_lines: list[str]) -> None:
    asset = city.ids()[0]
    client.get(f"/v1/assets/{asset}", headers=auth("read"))
    client.get("/v1/assets/nope?q=secret-query", headers={"X-API-Key": KEYS["admin"]})
    client.post("/v1/cascades", json={"fail": [{"id": "secret-body", "time": 1}]}, headers=auth("write"))
    client.get("/v1/assets", headers={"Authorization": "Bearer wrong-key-0123456789"})
    assert len(access_lines) == 4
    entries = [json.loads(line) for line in access_lines]
    assert [(e["route"], e["status"]) for e in entries] == [
        ("/v1/assets/{asset_id}", 200), ("/v1/assets/{asset_id}", 404), ("/v1/cascades", 404), ("/v1/assets", 401)]
    for e in entries:
        assert set(e) == {"ts", "request_id", "method", "route", "status", "duration_ms"}
        assert e["duration_ms"] >= 0 and len(e["request_id"]) == 32
    text = "\n".join(access_lines)
    for secret in (*KEYS.values(), "wrong-key", "secret-query", "secret-body", asset):
        assert secret not in text


def test_request_id_is_echoed_or_made(client: TestClient, access_lines: list[str]) -> None:
    r = client.get("/healthz", headers={"X-Request-ID": "abc-123"})
    assert r.headers["x-request-id"] == "abc-123"
    r = client.get("/healthz", headers={"X-Request-ID": "bad id with spaces"})
    assert r.headers["x-request-id"] != "bad id with spaces" and len(r.headers["x-request-id"]) == 32
    assert [json.loads(line)["request_id"] for line in access_lines] == ["abc-123", r.headers["x-request-id"]]
