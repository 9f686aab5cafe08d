"""How fresh the API's snapshot is: loads through the server are seen at once, others within the window.

(Plus the time to follow them: the request that finds a newer version answers from the snapshot it has.)
"""

from __future__ import annotations

from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from api.main import create_app
from api.state import StoreHolder
from kg.ingest import load_paths
from kg.store import Store, open_store
from tests.api.conftest import City, auth, settings_for
from tests.helpers import write_files

NEW = "snapshot-test-substation"


def _new_asset_bundle(city: City, folder: Path) -> Path:
    """A bundle adding one substation where the city's first asset is."""
    first = city.rows["assets"][0]
    write_files(folder, {"assets.csv": f"id,type,name,region,agency\n{NEW},Substation,New,{first[3]},{first[4]}\n"})
    return folder


def _known(client: TestClient) -> bool:
    r = client.get(f"/v1/assets/{NEW}/dependents", headers=auth("read"))
    assert r.status_code in (200, 404), r.text
    return r.status_code == 200


def _load_elsewhere(store: Store, bundle: Path) -> None:
    """Load through another connection, as another process (``kg load``) would."""
    other = open_store(store.url)
    try:
        load_paths(other, [bundle])
    finally:
        other.close()


@pytest.mark.parametrize("recheck_ms", [0, 60_000])
def test_a_load_elsewhere_is_seen_once_the_window_has_passed(store: Store, city: City, tmp_path: Path,
                                                             recheck_ms: int) -> None:
    app = create_app(settings_for(store.url, snapshot_recheck_ms=recheck_ms), store=store)
    with TestClient(app) as client:
        holder = app.state.store_holder
        assert not _known(client)  # the snapshot is now checked and remembered
        _load_elsewhere(store, _new_asset_bundle(city, tmp_path / "bundle"))
        # With no window the next request checks the version (and, answering from the snapshot it has, starts
        # following the load in the background); within a minute's window it does not check.
        assert not _known(client)
        holder.wait_followed(60)
        assert _known(client) == (recheck_ms == 0)
        holder.recheck_s = 0  # the window has passed
        _known(client)
        holder.wait_followed(60)
        assert _known(client)


def test_a_load_through_the_server_is_seen_at_once(store: Store, city: City) -> None:
    app = create_app(settings_for(store.url, snapshot_recheck_ms=60_000), store=store)
    first = city.rows["assets"][0]
    line = (f'{{"file": "assets", "id": "{NEW}", "type": "Substation", "name": "New", '
            f'"region": "{first[3]}", "agency": "{first[4]}"}}\n')
    with TestClient(app) as client:
        assert not _known(client)
        r = client.post("/v1/loads", content=line.encode(),
                        headers={**auth("write"), "content-type": "application/x-ndjson"})
        assert r.status_code == 200, r.text
        assert _known(client)


def _new_store_url(tmp_path: Path) -> str:
    url = f"sqlite:///{tmp_path / 'kg.db'}"
    open_store(url, create=True).close()
    return url


def test_when_the_window_is_up_one_request_checks_and_the_others_use_the_last_snapshot(tmp_path: Path) -> None:
    holder = StoreHolder(_new_store_url(tmp_path), recheck_s=60)
    try:
        assert holder.recent_snapshot() is None  # nothing seen yet: every request asks the store
        first = holder.snapshot()
        assert holder.recent_snapshot() is first
        holder.recheck_s = 1e-9  # the window is up
        assert holder.recent_snapshot() is None  # this request is the one to check ...
        assert holder.recent_snapshot() is first  # ... the others meanwhile use the last snapshot
        assert holder.snapshot() is first  # the check found the same version
        assert holder.recent_snapshot() is None  # and the next expiry is checked again by one request
    finally:
        holder.close()


def test_no_window_means_a_check_on_every_request(tmp_path: Path) -> None:
    holder = StoreHolder(_new_store_url(tmp_path), recheck_s=0)
    try:
        holder.snapshot()
        assert holder.recent_snapshot() is None and holder.recent_snapshot() is None
    finally:
        holder.close()
