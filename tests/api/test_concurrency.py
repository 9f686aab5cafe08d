"""Concurrent requests share one store: answers stay right while other requests, and a load, run."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

from fastapi.testclient import TestClient

from kg.analysis.traces import dependents
from kg.store import Store
from tests.api.conftest import City, auth


def test_concurrent_reads_and_a_load(client: TestClient, store: Store, city: City) -> None:
    snap = store.snapshot()
    assets = [a for a in city.ids() if a.startswith("s-")][:8]
    expected = {a: dependents(snap, a).to_list(snap) for a in assets}
    body = city.jsonl.read_bytes()

    def read(i: int) -> tuple[str, int, object]:
        asset = assets[i % len(assets)]
        r = client.get(f"/v1/assets/{asset}/dependents", headers=auth("read"))
        return asset, r.status_code, r.json()

    def load() -> int:
        return client.post("/v1/loads", content=body,
                           headers={**auth("write"), "content-type": "application/x-ndjson"}).status_code

    with ThreadPoolExecutor(max_workers=8) as pool:
        loading = pool.submit(load)
        results = list(pool.map(read, range(64)))
        assert loading.result() == 200
    for asset, status, answer in results:
        assert status == 200
        assert answer == {"id": asset, "dependents": expected[asset]}  # the same data, loaded again
