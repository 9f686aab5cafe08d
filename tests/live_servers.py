"""Real servers for the live-state tests: the API under uvicorn in a thread, and a Mosquitto broker.

``mqtt_broker`` starts a broker of the test's own with ``scripts/mqtt`` (its
own state folder, so it can be restarted mid-test). Without mosquitto (and no
way to install it) the test is skipped saying why, or fails under
``KG_REQUIRE_MQTT=1`` (CI never skips silently).
"""

from __future__ import annotations

import os
import socket
import subprocess
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import pytest
import uvicorn
from fastapi import FastAPI

from tests.required import unavailable

__all__ = ["Broker", "mqtt_broker", "serve_app"]

SCRIPT = Path(__file__).resolve().parents[1] / "scripts" / "mqtt"


@contextmanager
def serve_app(app: FastAPI) -> Iterator[str]:
    """Serve ``app`` on a free loopback port until the block ends; yields its base URL."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning",
                                           access_log=False, lifespan="on"))
    thread = threading.Thread(target=server.run, name="citykg-live-test-server", daemon=True)
    thread.start()
    deadline = time.monotonic() + 30
    while not server.started:
        if not thread.is_alive() or time.monotonic() > deadline:
            raise RuntimeError("the test server did not start")
        time.sleep(0.02)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(30)


@dataclass
class Broker:
    """A running Mosquitto of one test: its URL, and a restart that keeps its persisted sessions."""

    url: str
    state: Path

    @property
    def port(self) -> int:
        return int(self.url.rsplit(":", 1)[1])

    def _run(self, command: str) -> str:
        done = subprocess.run([str(SCRIPT), command], env={**os.environ, "KG_MQTT_STATE": str(self.state)},
                              capture_output=True, text=True, timeout=120)
        if done.returncode != 0:
            raise RuntimeError(f"scripts/mqtt {command} failed: {done.stderr}")
        return done.stdout.strip().splitlines()[-1] if done.stdout.strip() else ""

    def restart(self) -> None:
        assert self._run("restart") == self.url


@pytest.fixture
def mqtt_broker(tmp_path: Path) -> Iterator[Broker]:
    """A Mosquitto broker of this test's own, stopped afterwards."""
    state = tmp_path / "mqtt"
    broker = Broker("", state)
    try:
        broker.url = broker._run("start")
    except RuntimeError as exc:
        unavailable("KG_REQUIRE_MQTT", f"KG_REQUIRE_MQTT=1 but the broker did not start: {exc}",
                    f"no MQTT broker here: {exc}")
    try:
        yield broker
    finally:
        broker._run("stop")
