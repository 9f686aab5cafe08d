"""POST /v1/events, GET /v1/live and the SSE stream, on both stores."""

from __future__ import annotations

import json
import queue
import threading
from typing import Any

import httpx
import pytest
from fastapi.testclient import TestClient

from api.main import create_app
from tests.api.conftest import City, auth, settings_for
from tests.helpers import forget_events
from tests.live_servers import serve_app


@pytest.fixture
def fresh(store: Any) -> Any:
    forget_events(store)
    return store


def ev(i: str, asset: str, status: str = "down", time: str = "2026-07-01T08:00:00+08:00") -> dict[str, Any]:
    return {"id": i, "asset": asset, "status": status, "time": time, "source": "test"}


def test_events_need_the_write_role_and_are_stored_all_or_nothing(client: TestClient, fresh: Any,
                                                                   city: City) -> None:
    s = city.first("Substation")
    assert client.post("/v1/events", json={"events": [ev("e1", s)]}, headers=auth("read")).status_code == 403
    bad = client.post("/v1/events", headers=auth("write"), json={"events": [
        ev("e1", s), ev("e2", "no-such-asset"), {"id": "e3", "asset": s, "status": "gone", "time": "2026-07-01"}]})
    assert bad.status_code == 422, bad.text
    assert [e["field"] for e in bad.json()["errors"]] == ["events[1].asset", "events[2].status", "events[2].time"]
    unknown = client.post("/v1/events", headers=auth("write"), json={"events": [ev("e1", s), ev("e2", "nope")]})
    assert unknown.status_code == 422 and unknown.json()["field"] == "events[1].asset"
    assert fresh.events() == []
    version = fresh.version()
    ok = client.post("/v1/events", headers=auth("write"), json={"events": [ev("e1", s), ev("e1", s)]})
    assert ok.json() == {"accepted": 1, "duplicates": 1}
    again = client.post("/v1/events", headers=auth("write"), json={"events": [ev("e1", s)]})
    assert again.json() == {"accepted": 0, "duplicates": 1}
    other = client.post("/v1/events", headers=auth("write"), json={"events": [ev("e1", s, "up")]})
    assert other.status_code == 422 and other.json()["field"] == "events[0].id"
    assert fresh.version() == version
    many = [ev(f"x{k}", s) for k in range(10_001)]
    too_many = client.post("/v1/events", headers=auth("write"), json={"events": many})
    assert too_many.status_code == 422 and too_many.json()["field"] == "events"


def test_live_as_of(client: TestClient, fresh: Any, city: City) -> None:
    s = city.first("Substation")
    client.post("/v1/events", headers=auth("write"), json={"events": [
        ev("e1", s), ev("e2", s, "up", "2026-07-01T10:00:00+08:00")]})
    during = client.get("/v1/live", params={"as_of": "2026-07-01T09:00:00+08:00"}, headers=auth("read")).json()
    assert during["as_of"] == "2026-07-01T09:00:00+08:00" and during["origin"] == "2026-07-01T08:00:00+08:00"
    assert during["down"] == [{"id": s, "since": "2026-07-01T08:00:00+08:00", "source": "test"}]
    mine = next(f for f in during["failures"] if f["id"] == s)
    assert (mine["time"], mine["at"], mine["cause"]) == (0.0, during["origin"], None)
    assert all(f["at"] > during["as_of"] for f in during["forecast"])
    after = client.get("/v1/live", params={"as_of": "2026-07-01T10:00:00+08:00"}, headers=auth("read")).json()
    assert after["down"] == [] and after["failures"] == []
    wrong = client.get("/v1/live", params={"as_of": "2026-07-01T09:00:00"}, headers=auth("read"))
    assert wrong.status_code == 422 and wrong.json()["field"] == "as_of"


def _read_stream(url: str, out: queue.Queue[dict[str, Any]], stop: threading.Event) -> None:
    with httpx.Client(timeout=30) as http, http.stream("GET", f"{url}/v1/live/stream", headers=auth("read")) as r:
        kind = ""
        for line in r.iter_lines():
            if stop.is_set():
                return
            if line.startswith("event: "):
                kind = line[7:]
            elif line.startswith("data: ") and kind == "live":
                out.put(json.loads(line[6:]))


def test_stream_pushes_the_new_picture_after_a_post(fresh: Any, city: City) -> None:
    s = city.first("Substation")
    app = create_app(settings_for(fresh.url, live_coalesce_ms=20), store=fresh)
    with serve_app(app) as url:
        pictures: queue.Queue[dict[str, Any]] = queue.Queue()
        stop = threading.Event()
        reader = threading.Thread(target=_read_stream, args=(url, pictures, stop), daemon=True)
        reader.start()
        assert pictures.get(timeout=20)["down"] == []
        posted = httpx.post(f"{url}/v1/events", headers=auth("write"), timeout=30,
                            json={"events": [ev("e1", s, time="2026-07-01T08:00:00Z")]})
        assert posted.json() == {"accepted": 1, "duplicates": 0}
        assert [d["id"] for d in pictures.get(timeout=20)["down"]] == [s]
        stop.set()


def test_ngsi_ld_notifications_become_events(client: TestClient, fresh: Any, city: City) -> None:
    s = city.first("Substation")
    normalized = {"id": "urn:ngsi-ld:Notification:1", "type": "Notification",
                  "subscriptionId": "urn:ngsi-ld:Subscription:grid", "notifiedAt": "2026-07-01T00:05:00Z",
                  "data": [{"id": f"urn:ngsi-ld:Substation:{s}", "type": "Substation",
                            "status": {"type": "Property", "value": "outOfService",
                                       "observedAt": "2026-07-01T00:00:00Z"}}]}
    assert client.post("/v1/ngsi-ld/notify", json=normalized, headers=auth("read")).status_code == 403
    ok = client.post("/v1/ngsi-ld/notify", json=normalized, headers=auth("write"))
    assert ok.json() == {"accepted": 1, "duplicates": 0}, ok.text
    # delivered again (a broker retry): a duplicate
    assert client.post("/v1/ngsi-ld/notify", json=normalized, headers=auth("write")).json()["duplicates"] == 1
    key_values = {"subscriptionId": "urn:ngsi-ld:Subscription:grid", "notifiedAt": "2026-07-01T03:00:00Z",
                  "data": [{"id": f"urn:ngsi-ld:Substation:{s}", "type": "Substation", "status": "inService"}]}
    assert client.post("/v1/ngsi-ld/notify", json=key_values, headers=auth("write")).json()["accepted"] == 1
    [down, up] = fresh.events()
    assert (down.asset, down.status, down.time, down.source) == (s, "down", "2026-07-01T00:00:00Z",
                                                                "ngsi-ld:urn:ngsi-ld:Subscription:grid")
    assert (up.status, up.time) == ("up", "2026-07-01T03:00:00Z")
    bad = client.post("/v1/ngsi-ld/notify", headers=auth("write"), json={**key_values, "data": [
        {"id": "urn:ngsi-ld:Substation:nope", "status": "down"}, {"id": "weird", "status": "down"},
        {"id": f"urn:ngsi-ld:Substation:{s}", "status": "smoking"}]})
    assert bad.status_code == 422
    assert [e["field"] for e in bad.json()["errors"]] == ["data[1].id", "data[2].status"]
    assert len(fresh.events()) == 2
