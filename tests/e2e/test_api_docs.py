"""``/docs`` (Swagger UI) and ``/redoc`` (ReDoc) come from the package itself and work with no network.

The HTML of both pages names no other host and every file it loads is served here; in Chromium, with
every request that does not go to the test server blocked, Swagger UI shows every operation of the
schema and ReDoc every operation too. The vendored bundles are the versions the npm lock file pins.
"""

from __future__ import annotations

import json
import re
import urllib.request
from pathlib import Path
from typing import Any

import pytest

from tests.e2e.conftest import Page
from tests.e2e.server import Served

ROOT = Path(__file__).resolve().parents[2]
VENDOR = ROOT / "api" / "static" / "vendor"
LOCK = ROOT / "scripts" / "docs-ui" / "package-lock.json"
EXPECTED_TYPES = {".js": "text/javascript", ".css": "text/css", ".svg": "image/svg+xml"}


def _get(served: Served, path: str) -> tuple[int, dict[str, str], bytes]:
    with urllib.request.urlopen(f"{served.url}{path}", timeout=30) as response:
        return response.status, dict(response.headers), response.read()


def _operations(served: Served) -> list[str]:
    schema = json.loads(_get(served, "/openapi.json")[2])
    return [op["operationId"] for item in schema["paths"].values() for method, op in item.items()
            if method in {"get", "post", "put", "patch", "delete"}]


@pytest.mark.parametrize("path", ["/docs", "/redoc"])
def test_the_reference_pages_load_only_files_of_this_server(served: Served, path: str) -> None:
    status, headers, body = _get(served, path)
    html = body.decode()
    assert status == 200
    hosts = re.findall(r"[a-z]+://[^\"'\s]+", html)
    assert not hosts, f"{path} names another host: {hosts}"
    assert "default-src 'self'" in headers["content-security-policy"]
    assets = re.findall(r'(?:src|href)="([^"]+)"', html)
    assert any(a.endswith(".js") for a in assets), f"{path} loads no script: {assets}"
    for asset in assets:
        asset_status, asset_headers, asset_body = _get(served, asset)
        suffix = Path(asset).suffix
        assert asset_status == 200 and asset_headers["content-type"].startswith(EXPECTED_TYPES[suffix]), asset
        assert len(asset_body) > (100_000 if suffix != ".svg" else 100), f"{asset} is not the real bundle"


def test_the_vendored_bundles_are_the_locked_versions() -> None:
    lock = json.loads(LOCK.read_text())["packages"]
    lines = [line.split() for line in (VENDOR / "VERSIONS.txt").read_text().splitlines() if not line.startswith("#")]
    assert {name: version for name, version, *_ in lines} == {
        name: lock[f"node_modules/{name}"]["version"] for name in ("swagger-ui-dist", "redoc")}
    for folder in ("swagger-ui", "redoc"):
        assert (VENDOR / folder / "LICENSE").is_file(), f"the licence of {folder} ships with it"
    # the one change made to a third-party file: ReDoc's logo is no request to another host
    assert "logo-mini.svg" not in (VENDOR / "redoc" / "redoc.standalone.js").read_text()


def _offline(page: Page) -> list[str]:
    """Block (and record) every request that does not go to the test server."""
    blocked: list[str] = []

    def handle(route: Any) -> None:
        url = route.request.url
        if url.startswith((page.served.url, "data:", "blob:")):
            route.continue_()
        else:
            blocked.append(url)
            route.abort()

    page.page.route("**/*", handle)
    return blocked


def test_swagger_ui_shows_every_operation_offline(page: Page) -> None:
    blocked = _offline(page)
    operations = _operations(page.served)
    page.goto("docs")
    p = page.page
    p.wait_for_function("n => document.querySelectorAll('.opblock').length === n", arg=len(operations))
    assert "CityKG" in p.inner_text(".information-container")
    # an operation opens and shows its parameters: the bundle works, not just its first paint
    p.click(".opblock-summary-path[data-path='/v1/assets/{asset_id}']")
    p.wait_for_selector(".opblock.is-open .parameters")
    assert blocked == [], f"/docs asked for something outside its server: {blocked}"


def test_redoc_shows_every_operation_offline(page: Page) -> None:
    blocked = _offline(page)
    operations = _operations(page.served)
    page.goto("redoc")
    p = page.page
    p.wait_for_selector("[data-section-id^='operation/']", state="attached")
    shown = p.eval_on_selector_all("[data-section-id^='operation/']", "els => els.map(e => e.dataset.sectionId)")
    assert sorted(shown) == sorted(f"operation/{op}" for op in operations)
    assert blocked == [], f"/redoc asked for something outside its server: {blocked}"
