"""``POST /v1/loads``: bundles as zip or JSON Lines, validated like ``kg load``; all or nothing."""

from __future__ import annotations

import io
import json
import zipfile
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from httpx import Response

from api.main import create_app
from kg.store import Store
from tests.api.conftest import City, auth, settings_for

ZIP = {"content-type": "application/zip"}
JSONL = {"content-type": "application/x-ndjson"}


def _zip(files: dict[str, str | bytes]) -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as z:
        for name, content in files.items():
            z.writestr(name, content)
    return buf.getvalue()


def _bundle_files(city: City, folder: str = "") -> dict[str, str | bytes]:
    return {f"{folder}{p.name}": p.read_bytes() for p in sorted(city.bundle.iterdir())}


def _post(client: TestClient, body: bytes, headers: dict[str, str], role: str = "write") -> Response:
    return client.post("/v1/loads", content=body, headers={**auth(role), **headers})


def _unchanged(store: Store, before: tuple[int, dict[str, int]]) -> bool:
    return (store.version(), store.stats().counts) == before


@pytest.mark.parametrize("folder", ["", "my-bundle/"])
def test_zip_bundle_loads_like_kg_load(client: TestClient, store: Store, city: City, folder: str) -> None:
    counts = store.stats().counts
    r = _post(client, _zip(_bundle_files(city, folder)), ZIP)
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["loaded"]["assets"] == len(city.rows["assets"])
    assert body["version"] == store.version() and body["warnings"] == []
    assert store.stats().counts == counts  # the same data again: nothing changes but the version


def test_jsonl_body_loads(client: TestClient, store: Store, city: City) -> None:
    r = _post(client, city.jsonl.read_bytes(), JSONL)
    assert r.status_code == 200, r.text
    assert r.json()["loaded"]["dependencies"] == len(city.rows["dependencies"])


def test_new_rows_become_visible(client: TestClient, city: City) -> None:
    region = city.ids("regions")[0]
    line = {"file": "assets", "id": "api-test-substation", "type": "Substation", "region": region}
    r = _post(client, json.dumps(line).encode() + b"\n", JSONL)
    assert r.status_code == 200, r.text
    got = client.get("/v1/assets/api-test-substation", headers=auth("read"))
    assert got.status_code == 200 and got.json()["type"] == "Substation"


def test_errors_name_file_and_line_relative_to_the_bundle(client: TestClient, store: Store, city: City) -> None:
    before = (store.version(), store.stats().counts)
    files = _bundle_files(city, "bundle/")
    assets = bytes(files["bundle/assets.csv"])
    cells = assets.split(b"\n", 1)[0].count(b",") + 1  # the header's columns
    files["bundle/assets.csv"] = assets + b"bad-1,Substatoin" + b"," * (cells - 2) + b"\n"
    files["bundle/dependencies.csv"] = bytes(files["bundle/dependencies.csv"]) + b"bad-2,nowhere,power,,,\n"
    r = _post(client, _zip(files), ZIP)
    assert r.status_code == 422, r.text
    problem = r.json()
    assert problem["title"] == "Invalid data" and problem["detail"].startswith("nothing was loaded: ")
    lines = len(city.rows["assets"]) + 2
    assert problem["field"] == f"assets.csv:{lines}"
    assert any(e["field"] == f"assets.csv:{lines}" and "did you mean 'Substation'" in e["message"]
               for e in problem["errors"])
    assert "/tmp" not in r.text and "citykg-load-" not in r.text
    assert _unchanged(store, before)


def test_jsonl_errors_name_body_jsonl(client: TestClient, store: Store) -> None:
    before = (store.version(), store.stats().counts)
    body = b'{"file": "regions", "id": "r-new", "level": "city"}\n{"file": "assets", "id": "x", "type": "Nope"}\n'
    r = _post(client, body, JSONL)
    assert r.status_code == 422
    assert [e["field"] for e in r.json()["errors"]] == ["body.jsonl:2"]
    assert _unchanged(store, before)


def test_reference_errors_leave_the_store_untouched(client: TestClient, store: Store) -> None:
    before = (store.version(), store.stats().counts)
    r = _post(client, b'{"file": "dependencies", "dependent": "a", "provider": "b", "kind": "power"}\n', JSONL)
    assert r.status_code == 422 and r.json()["errors"][0]["field"] == "body.jsonl:1"
    assert _unchanged(store, before)


@pytest.mark.parametrize(("body", "headers", "status", "needle"), [
    (b"not a zip", ZIP, 422, "not a zip archive"),
    (b"", JSONL, 422, "the body is empty"),
    (b"a,b\n", {"content-type": "text/csv"}, 415, "is not a bundle"),
    (b"{}", {"content-type": "application/json"}, 415, "is not a bundle"),
])
def test_bad_bodies(client: TestClient, store: Store, body: bytes, headers: dict[str, str], status: int,
                    needle: str) -> None:
    before = (store.version(), store.stats().counts)
    r = _post(client, body, headers)
    assert r.status_code == status and needle in r.json()["detail"]
    assert _unchanged(store, before)


@pytest.mark.parametrize(("files", "needle"), [
    ({"../evil.csv": "x"}, "unsafe file name"),
    ({"/abs/assets.csv": "x"}, "unsafe file name"),
    ({"a/assets.csv": "id,type\n", "b/regions.csv": "id,level\n"}, "several folders"),
    ({"__MACOSX/._assets.csv": "x"}, "holds no files"),
    ({"notes.txt": "hello"}, "no bundle files found"),
])
def test_unsafe_or_odd_zips_are_refused(client: TestClient, store: Store, files: dict[str, str], needle: str) -> None:
    before = (store.version(), store.stats().counts)
    r = _post(client, _zip(files), ZIP)
    assert r.status_code == 422 and needle in r.text, r.text
    assert _unchanged(store, before)


def test_limits_are_413(store: Store, city: City, tmp_path: Path) -> None:
    settings = settings_for(store.url, max_load_bytes=4096, max_unzipped_bytes=8192, max_zip_files=2)
    with TestClient(create_app(settings, store=store)) as c:
        r = _post(c, b"x" * 5000, JSONL)  # the body itself
        assert r.status_code == 413 and "4,096" in r.json()["detail"]
        bomb = _zip({"assets.csv": "id,type\n" + "a" * 100_000})  # deflates to far less than it inflates to
        assert len(bomb) < 4096
        r = _post(c, bomb, ZIP)
        assert r.status_code == 413 and "inflates" in r.json()["detail"]
        r = _post(c, _zip({"regions.csv": "id,level\n", "assets.csv": "id,type\n", "x.csv": ""}), ZIP)
        assert r.status_code == 413 and "3 files" in r.json()["detail"]


def test_needs_write_role(client: TestClient, city: City) -> None:
    assert client.post("/v1/loads", content=city.jsonl.read_bytes(), headers=JSONL).status_code == 401
    assert _post(client, city.jsonl.read_bytes(), JSONL, role="read").status_code == 403
