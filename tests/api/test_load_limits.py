"""``POST /v1/loads`` with hostile or malformed bundles: 4xx naming the place, store untouched, slot freed."""

from __future__ import annotations

import io
import re
import zipfile

import pytest
from fastapi.testclient import TestClient
from httpx import Response

from api.main import create_app
from kg.store import Store
from tests.api.conftest import City, auth, settings_for
from tests.hostile import CASES

ZIP = {"content-type": "application/zip"}


def _zip(files: dict[str, str | bytes]) -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as z:
        for name, content in files.items():
            z.writestr(name, content)
    return buf.getvalue()


def _post(client: TestClient, body: bytes) -> Response:
    return client.post("/v1/loads", content=body, headers={**auth("write"), **ZIP})


def _state(store: Store) -> tuple[int, dict[str, int]]:
    return store.version(), store.stats().counts


@pytest.mark.parametrize("name", sorted(CASES))
def test_hostile_bundle_is_refused_with_location(client: TestClient, store: Store, name: str) -> None:
    case = CASES[name]
    before = _state(store)
    r = _post(client, _zip(case.files))
    assert r.status_code == 422, r.text
    errors = r.json()["errors"]
    located = [e for e in errors if re.fullmatch(rf"{case.where}(?: <.*>)?", e["field"])]  # RDF adds the node
    assert any(case.words in e["message"] for e in located), errors
    shown = "".join(e["field"] + e["message"] for e in errors)
    assert "\x1b" not in shown and "\u202e" not in shown, "a control character is named, never passed on raw"
    assert _state(store) == before


def test_zip_with_the_same_member_twice_is_refused(client: TestClient, store: Store) -> None:
    before = _state(store)
    buf = io.BytesIO()
    with pytest.warns(UserWarning, match="Duplicate name"), zipfile.ZipFile(buf, "w") as z:
        z.writestr("regions.csv", "id,level\ncq,city\n")
        z.writestr("regions.csv", "id,level\nelsewhere,city\n")
    r = _post(client, buf.getvalue())
    assert r.status_code == 422, r.text
    assert r.json()["field"] == "regions.csv" and "twice" in r.json()["detail"]
    assert _state(store) == before


def test_validation_past_the_time_limit_is_413_and_frees_the_slot(store: Store, city: City) -> None:
    before = _state(store)
    body = _zip({p.name: p.read_bytes() for p in sorted(city.bundle.iterdir())})
    with TestClient(create_app(settings_for(store.url, load_timeout_s=1e-6), store=store)) as client:
        for _ in range(2):  # a second load finds the slot free: 413 again, not 503 (busy)
            r = _post(client, body)
            assert r.status_code == 413, r.text
            assert "did not finish within 1e-06 s" in r.json()["detail"], r.text
    assert _state(store) == before


def test_a_load_waiting_past_the_time_limit_for_another_is_503(store: Store, city: City) -> None:
    app = create_app(settings_for(store.url, load_timeout_s=0.05), store=store)
    body = _zip({p.name: p.read_bytes() for p in sorted(city.bundle.iterdir())})
    with TestClient(app) as client:
        lock = app.state.store_holder.load_lock
        with lock:  # a load is running
            r = _post(client, body)
        assert r.status_code == 503 and r.headers["retry-after"], r.text
        assert r.json()["type"].endswith("/load-in-progress")
