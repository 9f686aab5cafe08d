"""MQTT end to end against a real Mosquitto: every event stored once across broker and server restarts."""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Any

import httpx
import paho.mqtt.client as mqtt
from paho.mqtt.enums import CallbackAPIVersion

from api.main import create_app
from kg.store import open_store
from tests.api.conftest import auth, settings_for
from tests.conftest_stores import load
from tests.helpers import write_files
from tests.live_servers import Broker, mqtt_broker, serve_app
from tests.test_live_events import BUNDLE

__all__ = ["mqtt_broker"]  # the fixture, used by the tests below

PREFIX = "city/status"


def publisher(broker: Broker) -> mqtt.Client:
    """A QoS 1 publisher with a persistent session: what it publishes while the broker is away it sends later."""
    client = mqtt.Client(CallbackAPIVersion.VERSION2, client_id="test-publisher", clean_session=False)
    client.reconnect_delay_set(min_delay=1, max_delay=2)
    client.connect("127.0.0.1", broker.port)
    client.loop_start()
    return client


def event(k: int) -> dict[str, Any]:
    minute = k % 60
    return {"id": f"m-{k:04d}", "status": "down" if k % 2 == 0 else "up",
            "time": f"2026-07-01T{8 + k // 60:02d}:{minute:02d}:00+08:00"}


def wait_for(check: Any, seconds: float = 60) -> None:
    deadline = time.monotonic() + seconds
    while not check():
        assert time.monotonic() < deadline, f"not within {seconds} s: {check.__doc__ or 'the condition'}"
        time.sleep(0.1)


def test_no_event_lost_or_doubled_across_broker_and_server_restarts(mqtt_broker: Broker, tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'kg.db'}"
    store = open_store(url, create=True)
    load(store, write_files(tmp_path / "bundle", BUNDLE))
    settings = settings_for(url, mqtt_url=f"{mqtt_broker.url}/{PREFIX}", mqtt_client_id="citykg-test")
    pub = publisher(mqtt_broker)
    total = 240
    try:
        app = create_app(settings)
        with serve_app(app) as api:
            wait_for(lambda: app.state.live.subscriber.connected.is_set())  # the session exists from now on
            for k in range(0, 80):
                pub.publish(f"{PREFIX}/S1", json.dumps(event(k)), qos=1)
            mqtt_broker.restart()  # in the middle of the stream
            for k in range(80, 160):
                pub.publish(f"{PREFIX}/S1", json.dumps(event(k)), qos=1)
                time.sleep(0.002)
            # A malformed message is set aside, and the subscriber carries on.
            pub.publish(f"{PREFIX}/S1", b"{not json", qos=1)
            wait_for(lambda: len(store.events()) >= 160)
            letters = httpx.get(f"{api}/v1/events/dead-letters", headers=auth("admin"), timeout=10).json()
        # The server is down: the broker keeps what arrives for its session.
        for k in range(160, total):
            pub.publish(f"{PREFIX}/S1", json.dumps(event(k)), qos=1)
        time.sleep(0.5)
        with serve_app(create_app(settings)):
            wait_for(lambda: len(store.events()) >= total)
            time.sleep(1)  # anything delivered twice would have arrived by now
    finally:
        pub.loop_stop()
        pub.disconnect()
    stored = store.events()
    assert sorted(e.id for e in stored) == [f"m-{k:04d}" for k in range(total)]
    assert [d["reason"][:2] for d in letters["dead_letters"]] == ["$:"]
    assert all(e.asset == "S1" for e in stored)  # the topic names the asset
    store.close()
