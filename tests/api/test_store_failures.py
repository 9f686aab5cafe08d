"""The API when its store is missing, damaged, read-only or full: a clear 503 (or 507), never a 500 or a hang.

``/readyz`` tells the truth in the body's ``reason`` and answers within 1.5 s;
data requests answer problem+json bodies that say what is wrong without naming
hosts or paths. Real SQLite files on real (tmpfs) mounts; no mocks.
"""

from __future__ import annotations

import os
import sqlite3
import subprocess
import time
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from api.main import create_app
from api.problems import STORE_PROBLEMS
from kg.ingest import load_paths
from kg.store import Store, open_store
from kg.synth import city_rows, write_jsonl
from tests.api.conftest import City, auth, settings_for
from tests.helpers import all_rows

JSONL = {**auth("write"), "content-type": "application/x-ndjson"}


def _client(url: str) -> TestClient:
    """A client of a server that opens the store at ``url`` itself, as ``kg serve`` does."""
    return TestClient(create_app(settings_for(url)))


def _ready(client: TestClient) -> tuple[int, dict[str, object]]:
    began = time.monotonic()
    r = client.get("/readyz")
    assert time.monotonic() - began < 2.0, "/readyz must answer within 2 s whatever the store does"
    return r.status_code, r.json()


def _loaded_store(city: City, path: Path) -> str:
    url = f"sqlite:///{path}"
    store = open_store(url, create=True)
    try:
        load_paths(store, [city.bundle])
    finally:
        store.close()
    return url


def _assert_store_problem(r: object, reason: str) -> None:
    status, detail = STORE_PROBLEMS[reason]
    assert r.status_code == status, r.text  # type: ignore[attr-defined]
    assert r.headers["content-type"] == "application/problem+json"  # type: ignore[attr-defined]
    assert r.json()["detail"] == detail  # type: ignore[attr-defined]


def test_a_server_pointed_at_a_missing_file_is_not_ready_until_a_load_creates_it(city: City, tmp_path: Path) -> None:
    path = tmp_path / "nothing-here" / "kg.db"
    with _client(f"sqlite:///{path}") as client:
        status, body = _ready(client)
        assert (status, body["status"], body["reason"]) == (503, "unavailable", "missing")
        assert str(tmp_path) not in str(body["detail"])
        _assert_store_problem(client.get("/v1/assets", headers=auth("read")), "missing")
        assert not path.parent.exists()  # neither a probe nor a read creates a store
        r = client.post("/v1/loads", content=city.jsonl.read_bytes(), headers=JSONL)
        assert r.status_code == 200, r.text
        assert path.exists()
        status, body = _ready(client)
        assert (status, body["status"], body["version"]) == (200, "ok", 1)


@pytest.mark.parametrize("damage", ["header", "pages"])
def test_a_corrupt_file_is_not_ready_and_data_requests_are_503(city: City, tmp_path: Path, damage: str) -> None:
    path = tmp_path / "kg.db"
    url = _loaded_store(city, path)
    asset = city.ids()[0]
    with path.open("r+b") as f:
        if damage == "header":
            f.write(os.urandom(100))
        else:  # pages in the middle: the version counter stays readable, so a version check alone says "ok"
            size = path.stat().st_size
            f.seek(size // 2 - (size // 2) % 4096)
            f.write(b"\xa5" * (size // 3))
            with sqlite3.connect(path) as db:
                assert db.execute("SELECT value FROM meta WHERE key = 'version'").fetchone() == (1,)
    with _client(url) as client:
        status, body = _ready(client)
        assert (status, body["status"], body["reason"]) == (503, "unavailable", "corrupt")
        _assert_store_problem(client.get(f"/v1/assets/{asset}/dependents", headers=auth("read")), "corrupt")


def test_a_read_only_store_is_ready_and_says_so_and_refuses_loads(city: City, tmpfs: Path) -> None:
    url = _loaded_store(city, tmpfs / "kg.db")
    subprocess.run(["mount", "-o", "remount,ro", str(tmpfs)], check=True)
    with _client(url) as client:
        status, body = _ready(client)
        assert (status, body["status"], body["read_only"], body["version"]) == (200, "ok", True, 1)
        r = client.get(f"/v1/assets/{city.ids()[0]}/dependents", headers=auth("read"))
        assert r.status_code == 200, r.text
        _assert_store_problem(client.post("/v1/loads", content=city.jsonl.read_bytes(), headers=JSONL),
                              "read-only")


def test_a_full_disk_is_507_and_the_store_is_as_before(city: City, tmpfs: Path, tmp_path: Path) -> None:
    url = _loaded_store(city, tmpfs / "kg.db")
    store = open_store(url)
    before = store.version(), all_rows(store)
    store.close()
    big = write_jsonl(city_rows(8000, seed=2), tmp_path / "big.jsonl")  # about 6 MB in SQLite; the disk has 2
    with _client(url) as client:
        _assert_store_problem(client.post("/v1/loads", content=big.read_bytes(), headers=JSONL), "full")
        status, body = _ready(client)
        assert (status, body["version"]) == (200, 1)
    store = open_store(url)
    try:
        assert (store.version(), all_rows(store)) == before
    finally:
        store.close()


def test_stats_are_kg_stats(client: TestClient, store: Store) -> None:
    r = client.get("/v1/stats", headers=auth("read"))
    assert r.status_code == 200, r.text
    body = r.json()
    stats = store.stats()
    assert body == {**stats.to_dict(store.url), "unfinished_load": None}
    assert sum(body["counts"].values()) > 0
    assert "CityKG-Unfinished-Load" not in r.headers
    assert client.get("/v1/stats").status_code == 401
