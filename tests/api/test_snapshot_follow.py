"""No request waits for a newer snapshot: the old one answers while the new one is made in the background.

A change the store's change log can say (a small load) is followed by
reading only what it touched; one it cannot (a clear and reload) is built
anew on a connection of the holder's own. Either way requests keep being
answered from the snapshot they had until the new one is ready.
"""

from __future__ import annotations

import sys
import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

import api.state
from api.main import create_app
from kg.analysis.cascade import network_built
from kg.ingest import load_paths
from kg.store import Store, open_store
from tests.api.conftest import City, auth, settings_for
from tests.helpers import write_files

NEW = "follow-test-substation"


class Gate:
    """Holds the holder's own opening of the store (what a new snapshot is built on) until released."""

    def __init__(self, monkeypatch: pytest.MonkeyPatch) -> None:
        self.opened = 0
        self.reached = threading.Event()
        self.released = threading.Event()
        real: Callable[..., Store] = api.state.open_store

        def gated(url: str, **kwargs: Any) -> Store:
            if threading.current_thread().name == "citykg-snapshot":
                self.opened += 1
                self.reached.set()
                assert self.released.wait(60), "the gate was never released"
            return real(url, **kwargs)

        monkeypatch.setattr(api.state, "open_store", gated)


def _bundle(city: City, folder: Path) -> Path:
    first = city.rows["assets"][0]
    write_files(folder, {
        "assets.csv": f"id,type,name,region,agency\n{NEW},Substation,New,{first[3]},{first[4]}\n",
        "dependencies.csv": f"dependent,provider,kind\n{NEW},{first[0]},power\n",
    })
    return folder


def _dependents(client: TestClient) -> set[str]:
    """Who depends on the city's first asset, as the API's snapshot says (answered within 30 s, or fails)."""
    with ThreadPoolExecutor(1) as pool:
        first = client.app.state.city_first  # type: ignore[attr-defined]
        r = pool.submit(client.get, f"/v1/assets/{first}/dependents", headers=auth("read")).result(timeout=30)
    assert r.status_code == 200, r.text
    return {row["id"] for row in r.json()["dependents"]}


def _elsewhere(store: Store, work: Callable[[Store], object]) -> None:
    """Change the store through another connection, as another process (``kg load``, a replica) would."""
    other = open_store(store.url)
    try:
        work(other)
    finally:
        other.close()


@pytest.fixture
def served(store: Store, city: City) -> tuple[Any, TestClient]:
    app = create_app(settings_for(store.url, snapshot_recheck_ms=0))  # the app opens (owns) the store itself
    app.state.city_first = city.rows["assets"][0][0]
    return app, TestClient(app)


def test_a_small_load_elsewhere_is_followed_without_a_rebuild(store: Store, city: City, tmp_path: Path,
                                                              served: tuple[Any, TestClient],
                                                              monkeypatch: pytest.MonkeyPatch) -> None:
    app, client = served
    gate = Gate(monkeypatch)
    gate.released.set()
    with client:
        before = _dependents(client)
        assert NEW not in before
        _elsewhere(store, lambda other: load_paths(other, [_bundle(city, tmp_path / "b")]))
        _dependents(client)  # this check sees the new version and starts following it
        app.state.store_holder.wait_followed(60)
        assert _dependents(client) == before | {NEW}
        assert gate.opened == 0, "a small load should be followed from the change log, not rebuilt"


def test_a_follow_hands_the_interpreter_lock_over_often_and_restores_the_interval(
        store: Store, city: City, tmp_path: Path, served: tuple[Any, TestClient],
        monkeypatch: pytest.MonkeyPatch) -> None:
    """Following runs with a short switch interval (it must win the lock back after every NumPy pass)."""
    app, client = served
    during: list[float] = []
    real = api.state.catch_up

    def watched(*args: Any) -> Any:
        during.append(sys.getswitchinterval())
        return real(*args)

    monkeypatch.setattr(api.state, "catch_up", watched)
    before = sys.getswitchinterval()
    with client:
        old = _dependents(client)
        _elsewhere(store, lambda other: load_paths(other, [_bundle(city, tmp_path / "b")]))
        _dependents(client)
        app.state.store_holder.wait_followed(60)
        assert _dependents(client) == old | {NEW}
    assert during and set(during) == {min(before, api.state.FOLLOW_SWITCH_S)}
    assert sys.getswitchinterval() == before


def test_a_new_snapshot_gets_the_cascade_network_the_old_one_had(store: Store, city: City, tmp_path: Path,
                                                                 served: tuple[Any, TestClient]) -> None:
    """The thread that follows a change also prepares the new snapshot's network, so no cascade builds its own."""
    app, client = served
    holder = app.state.store_holder
    with client:
        first = city.rows["assets"][0][0]
        r = client.post("/v1/cascades", json={"fail": [{"id": first, "time": 0}]}, headers=auth("read"))
        assert r.status_code == 200, r.text
        old = holder.snapshot()
        assert network_built(old)
        _elsewhere(store, lambda other: load_paths(other, [_bundle(city, tmp_path / "b")]))
        _dependents(client)
        holder.wait_followed(60)
        new = holder.snapshot()
        assert new.version > old.version and network_built(new)


def test_requests_answer_from_the_old_snapshot_while_a_new_one_is_built(store: Store, city: City, tmp_path: Path,
                                                                        served: tuple[Any, TestClient],
                                                                        monkeypatch: pytest.MonkeyPatch) -> None:
    app, client = served
    gate = Gate(monkeypatch)
    with client:
        before = _dependents(client)

        def reload(other: Store) -> None:  # a clear: the change log cannot say what changed, so a rebuild
            other.clear()
            load_paths(other, [city.bundle, _bundle(city, tmp_path / "b")])

        _elsewhere(store, reload)
        assert _dependents(client) == before  # the check starts the rebuild, and does not wait for it
        assert gate.reached.wait(30), "no rebuild started"
        for _ in range(3):
            assert _dependents(client) == before  # still building: the old snapshot answers, at once
        gate.released.set()
        app.state.store_holder.wait_followed(120)
        assert _dependents(client) == before | {NEW}
        assert gate.opened == 1
