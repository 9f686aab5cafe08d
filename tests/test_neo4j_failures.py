"""Neo4j in trouble: a server that stops, and loads that stop part-way.

* A stopped server: the API answers 503 and ``/readyz`` says ``unreachable``
  within 2 s (the driver's 30 s of retries are for loads, not reads), the CLI
  says so in one line, and once the server is back the same API process is
  ready again. This starts a throwaway server of its own (``scripts/neo4j``
  with its own state folder); the suite's shared server is left alone.
* A load killed part-way (``kg load`` in a subprocess, killed once its first
  batches are committed) is never taken for the whole graph: ``kg stats``,
  every reading command, ``GET /v1/stats``, the ``CityKG-Unfinished-Load``
  header and ``/readyz`` report it, and running the same load again completes
  it: the mark is gone and the graph equals a clean load's.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from api.main import create_app
from kg.load.plan import build_plan
from kg.store import open_store
from kg.store.base import STALLED_AFTER_S, UnfinishedLoad
from kg.store.neo4j import Neo4jStore
from kg.store.sqlite import SQLiteStore
from kg.synth import city_rows, write_bundle
from tests.api.conftest import auth, settings_for
from tests.conftest_stores import load, neo4j_url
from tests.helpers import assert_snapshots_equal, run_kg

SCRIPT = Path(__file__).resolve().parent.parent / "scripts" / "neo4j"
KG = str(Path(sys.executable).with_name("kg"))
HEADER = "CityKG-Unfinished-Load"


class ThrowawayNeo4j:
    """A small Neo4j of the test's own, started and stopped with ``scripts/neo4j``."""

    def __init__(self, state: Path) -> None:
        self.state = state
        self.url = ""

    def _script(self, command: str, **env: str) -> str:
        result = subprocess.run([str(SCRIPT), command], capture_output=True, text=True, timeout=300, check=False,
                                env={**os.environ, "KG_NEO4J_STATE": str(self.state), "KG_NEO4J_HEAP": "512m",
                                     "KG_NEO4J_PAGECACHE": "64m", **env})
        assert result.returncode == 0, result.stderr
        return result.stdout

    def start(self) -> str:
        """Start it (again on the same port, if it ran before); return its URL."""
        port = {"KG_NEO4J_PORT": self.url.rpartition(":")[2]} if self.url else {}
        self.url = self._script("start", **port).strip().splitlines()[-1]
        return self.url

    def stop(self) -> None:
        self._script("stop")


@pytest.fixture
def throwaway_neo4j(tmp_path: Path) -> Iterator[ThrowawayNeo4j]:
    neo4j_url()  # where the suite has Neo4j (Java and the jars), start another, small one
    server = ThrowawayNeo4j(tmp_path / "neo4j-state")
    try:
        yield server
    finally:
        if (server.state / "pid").exists():
            server.stop()


def _when_ready(client: TestClient) -> dict[str, object]:
    """The body of the first ``/readyz`` that says ok (a probe is asked again until then; a cold connect to a
    server that has just started may take longer than one probe waits)."""
    deadline = time.monotonic() + 60
    while True:
        r = client.get("/readyz")
        if r.status_code == 200 or time.monotonic() > deadline:
            assert r.status_code == 200, r.text
            body: dict[str, object] = r.json()
            return body
        time.sleep(0.2)


def _timed(call: object) -> tuple[object, float]:
    began = time.monotonic()
    result = call()  # type: ignore[operator]
    return result, time.monotonic() - began


@pytest.mark.neo4j
def test_a_stopped_neo4j_is_503_within_2_s_and_ready_again_once_back(throwaway_neo4j: ThrowawayNeo4j,
                                                                      tmp_path: Path) -> None:
    url = throwaway_neo4j.start()
    bundle = tmp_path / "city"
    write_bundle(city_rows(300, seed=4), bundle)
    store = open_store(url)
    try:
        load(store, bundle)
        asset = store.search(limit=1)[0]["id"]
    finally:
        store.close()
    app = create_app(settings_for(url, snapshot_recheck_ms=0))  # every request asks the store
    with TestClient(app) as client:
        assert _when_ready(client)["status"] == "ok"
        assert client.get(f"/v1/assets/{asset}/dependents", headers=auth("read")).status_code == 200

        throwaway_neo4j.stop()  # the server goes; the API's pooled connections are now dead

        for path in (f"/v1/assets/{asset}/dependents", f"/v1/assets/{asset}", "/v1/stats"):
            r, seconds = _timed(lambda p=path: client.get(p, headers=auth("read")))
            assert r.status_code == 503, (path, r.text)  # type: ignore[attr-defined]
            assert r.json()["detail"] == "the store cannot be reached; try again later"  # type: ignore[attr-defined]
            assert seconds < 2.0, f"{path} took {seconds:.1f} s to say the store is down"
        r, seconds = _timed(lambda: client.get("/readyz"))
        body = r.json()  # type: ignore[attr-defined]
        assert (r.status_code, body["status"], body["reason"]) == (503, "unavailable", "unreachable")  # type: ignore[attr-defined]
        assert seconds < 2.0, f"/readyz took {seconds:.1f} s"

        cli, seconds = _timed(lambda: run_kg("stats", "--store", url))
        assert cli.exit_code == 1 and seconds < 2.0, (cli.output, seconds)  # type: ignore[attr-defined]
        assert cli.stderr.startswith(f"error: cannot connect to Neo4j at {url}")  # type: ignore[attr-defined]

        throwaway_neo4j.start()  # back, at the same address (empty: its data folder went with it)
        body = _when_ready(client)
        assert (body["status"], body["version"]) == ("ok", 0)
        assert client.get("/v1/stats", headers=auth("read")).status_code == 200


@pytest.fixture(scope="module")
def big_city(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A city whose load takes seconds on Neo4j: about 85,000 rows, in batches of 10,000."""
    folder = tmp_path_factory.mktemp("big-city")
    write_bundle(city_rows(20_000, seed=5), folder)
    return folder


def _kill_once_written(neo4j_store: Neo4jStore, bundle: Path) -> int:
    """Start ``kg load bundle`` and SIGKILL it once its first assets are committed; return its pid."""
    loader = subprocess.Popen([KG, "load", str(bundle), "--store", neo4j_store.url, "--quiet"],
                              stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    try:
        deadline = time.monotonic() + 300
        while time.monotonic() < deadline:
            assert loader.poll() is None, f"the load ended before it was seen writing: {loader.stderr.read()!r}"  # type: ignore[union-attr]
            if neo4j_store.stats().counts["assets"] > 0:
                break
            time.sleep(0.05)
        else:
            raise AssertionError("the load never committed an asset")
        loader.send_signal(signal.SIGKILL)
        loader.wait(timeout=30)
    finally:
        if loader.poll() is None:
            loader.kill()
    return loader.pid


@pytest.mark.neo4j
def test_a_killed_load_is_reported_everywhere_until_the_same_load_completes_it(
        neo4j_store: Neo4jStore, big_city: Path, tmp_path: Path) -> None:
    url = neo4j_store.url
    version = neo4j_store.version()
    pid = _kill_once_written(neo4j_store, big_city)

    unfinished = neo4j_store.status().unfinished_load
    assert unfinished is not None
    assert f"(pid {pid})" in unfinished.by and str(big_city) in unfinished.what
    assert 0 < unfinished.written < unfinished.rows
    stats = neo4j_store.stats()
    assert stats.unfinished_load is not None and stats.version == version  # a version that looks complete
    asset = neo4j_store.search(limit=1)[0]["id"]

    # The command line: kg stats (JSON and a warning), and every reading command warns.
    result = run_kg("stats", "--store", url, "--format", "json")
    assert result.exit_code == 0, result.output
    assert "warning: this store's answers may miss part of the graph: a load of" in result.stderr
    assert f"(pid {pid})" in result.stderr
    assert '"unfinished_load": {' in result.stdout and f"(pid {pid})" in result.stdout
    result = run_kg("dependents", asset, "--store", url, "--format", "json")
    assert result.exit_code == 0 and "has not finished" in result.stderr, result.output

    # The API: GET /v1/stats, a header on every answer, /readyz.
    with TestClient(create_app(settings_for(url), store=neo4j_store)) as client:
        r = client.get(f"/v1/assets/{asset}/dependents", headers=auth("read"))
        assert r.status_code == 200 and r.headers[HEADER].startswith(f"{unfinished.state};started="), r.headers
        body = client.get("/v1/stats", headers=auth("read")).json()
        assert body["unfinished_load"]["by"] == unfinished.by and body["unfinished_load"]["rows"] == unfinished.rows
        ready = client.get("/readyz")
        assert ready.status_code == 200 and ready.json()["unfinished_load"]["what"] == unfinished.what

        # The same load again completes it, and says an earlier one had not finished.
        result = run_kg("load", str(big_city), "--store", url, "--quiet")
        assert result.exit_code == 0, result.output
        assert "has not finished" in result.stderr and f"(pid {pid})" in result.stderr
        assert neo4j_store.status().unfinished_load is None
        r = client.get(f"/v1/assets/{asset}/dependents", headers=auth("read"))
        assert r.status_code == 200 and HEADER not in r.headers
        assert client.get("/readyz").json()["unfinished_load"] is None
    result = run_kg("stats", "--store", url)
    assert result.exit_code == 0 and "warning" not in result.stderr

    clean = SQLiteStore(str(tmp_path / "clean.db"), create=True)
    try:
        load(clean, big_city)
        assert_snapshots_equal(neo4j_store.snapshot(), clean.snapshot())
    finally:
        clean.close()


@pytest.mark.neo4j
def test_a_load_is_marked_before_its_first_batch_and_the_mark_goes_with_its_last(
        neo4j_server: Neo4jStore, city_bundle: Path) -> None:
    store = Neo4jStore(neo4j_server.url, batch_size=200, writers=1)  # several batches from a small city
    try:
        store.clear()
        plan = build_plan([city_bundle], store)
        seen: list[UnfinishedLoad | None] = []
        store.write(plan, progress=lambda n: seen.append(store.status().unfinished_load))
        assert len(seen) > 3 and all(u is not None and u.rows == plan.total for u in seen)
        assert f"(pid {os.getpid()})" in seen[0].by  # type: ignore[union-attr]
        assert seen[0].written == 0  # marked before any batch was recorded as written  # type: ignore[union-attr]
        assert store.status().unfinished_load is None
    finally:
        store.close()


@pytest.mark.neo4j
def test_a_load_stopped_by_an_error_keeps_its_mark_until_cleared(neo4j_server: Neo4jStore, city_bundle: Path) -> None:
    store = Neo4jStore(neo4j_server.url, batch_size=200, writers=1)
    try:
        store.clear()
        plan = build_plan([city_bundle], store)

        written = 0

        def stop_after_some(n: int) -> None:
            nonlocal written
            written += n
            if written > 400:
                raise KeyboardInterrupt  # what Ctrl-C does in the middle of a load

        with pytest.raises(KeyboardInterrupt):
            store.write(plan, progress=stop_after_some)
        unfinished = store.status().unfinished_load
        assert unfinished is not None and unfinished.written < plan.total
        store.clear()  # nothing half-loaded is left, so nothing to warn about
        assert store.status().unfinished_load is None and store.stats().counts["assets"] == 0
    finally:
        store.close()


def test_a_load_quiet_for_a_minute_is_stalled() -> None:
    def unfinished(idle_s: float) -> UnfinishedLoad:
        return UnfinishedLoad(by="ana@host (pid 7)", what="9 rows from b/", started="2025-06-01T08:00:00Z",
                              updated="2025-06-01T08:00:05Z", rows=9, written=4, idle_s=idle_s)

    running, stalled = unfinished(STALLED_AFTER_S - 1), unfinished(STALLED_AFTER_S)
    assert (running.state, stalled.state) == ("running", "stalled")
    assert "probably still running" in running.describe()
    assert "run the same load again to complete it" in stalled.describe()
    assert "4 of 9 rows written" in stalled.describe() and stalled.to_dict()["state"] == "stalled"
