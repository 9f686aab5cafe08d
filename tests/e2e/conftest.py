"""Fixtures of the browser tests: a real server over a generated 10k-asset city, Debian's Chromium
driven by Playwright, and a page that fails its test on any console error or outside request.

Chromium and Playwright come from ``scripts/e2e-setup``. When they are missing these tests skip,
unless ``KG_REQUIRE_BROWSER=1`` (as in CI), where they fail instead: never a silent skip there.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import urllib.request
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, NoReturn

import pytest

from tests.e2e.server import KEYS, Served, serve
from tests.required import unavailable

CHROMIUM = os.environ.get("KG_CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync"]
CITY_ASSETS = 10_000
CITY_SEED = 7
VIEWPORT = {"width": 1440, "height": 900}
SCREENSHOTS = Path(__file__).resolve().parents[2] / "docs" / "img"


def _unavailable(reason: str) -> NoReturn:
    unavailable("KG_REQUIRE_BROWSER", f"browser tests cannot run and KG_REQUIRE_BROWSER=1: {reason}; run "
                "scripts/e2e-setup", f"browser tests: {reason} (scripts/e2e-setup installs it)")


@pytest.fixture(scope="session")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Served]:
    """The server, over a city of 10,000 assets (what the first-paint budget is stated for)."""
    with serve(tmp_path_factory.mktemp("e2e-city"), assets=CITY_ASSETS, seed=CITY_SEED) as s:
        yield s


@pytest.fixture(scope="session")
def browser() -> Iterator[Any]:
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        _unavailable("the playwright Python package is not installed")
    if not (Path(CHROMIUM).exists() or shutil.which(CHROMIUM)):
        _unavailable(f"no Chromium at {CHROMIUM}")
    with sync_playwright() as p:
        try:
            b = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True)
        except Exception as exc:  # whatever the driver raises, the browser is not usable here
            _unavailable(f"Chromium at {CHROMIUM} does not start: {exc}")
        yield b
        b.close()


@dataclass
class Watch:
    """What a page did that a test should know about: console errors, failed or outside requests."""

    origin: str
    errors: list[str] = field(default_factory=list)
    outside: list[str] = field(default_factory=list)
    allowed: list[re.Pattern[str]] = field(default_factory=list)

    def allow(self, pattern: str) -> None:
        """Expect console errors matching ``pattern`` (e.g. the 401 of a wrong key)."""
        self.allowed.append(re.compile(pattern))

    def unexpected(self) -> list[str]:
        return [e for e in self.errors if not any(p.search(e) for p in self.allowed)]


@dataclass
class Page:
    """A browser page on the test server, with its watcher and helpers."""

    page: Any
    served: Served
    watch: Watch

    def goto(self, route: str = "") -> None:
        self.page.goto(f"{self.served.url}/{route}")

    def login(self, route: str = "#/city") -> None:
        """Open the page and enter the read key."""
        self.goto(route)
        self.page.fill("#key-input", KEYS["read"])
        self.page.click("#key-submit")
        self.page.wait_for_selector("#key-dialog:not([open])", state="attached")
        self.page.wait_for_function("() => document.body.dataset.view !== 'key' && !!window.citykg.app.city")

    def api(self, path: str, body: dict[str, Any] | None = None) -> Any:
        """The API's own answer (with the read key), to compare the page with."""
        data = None if body is None else json.dumps(body).encode()
        headers = {"Authorization": f"Bearer {KEYS['read']}", "Content-Type": "application/json"}
        request = urllib.request.Request(f"{self.served.url}{path}", data=data, headers=headers,
                                         method="GET" if body is None else "POST")
        with urllib.request.urlopen(request, timeout=60) as response:
            return json.loads(response.read())

    def number(self, selector: str) -> int:
        """An integer shown on the page ("1,234" -> 1234)."""
        text = self.page.text_content(selector) or ""
        digits = re.sub(r"[^\d]", "", text)
        assert digits, f"{selector} shows no number: {text!r}"
        return int(digits)

    def screenshot(self, name: str) -> Path:
        SCREENSHOTS.mkdir(parents=True, exist_ok=True)
        path = SCREENSHOTS / name
        self.page.screenshot(path=str(path))
        return path


OpenPage = Callable[..., Page]
"""``open_page(locale="en-US", viewport=VIEWPORT, mobile=False)``: a fresh page (see :func:`open_page`)."""


@pytest.fixture
def open_page(browser: Any, served: Served) -> Iterator[OpenPage]:
    """Open fresh pages (each with its own storage and cache) in a browser language and a window size;
    ``mobile``: a phone or tablet (touch, the viewport meta tag honoured). The test fails on any
    unexpected console error, uncaught exception, failed request or request leaving the server's origin."""
    opened: list[tuple[Any, Watch]] = []

    def open_one(locale: str = "en-US", viewport: dict[str, int] = VIEWPORT, mobile: bool = False) -> Page:
        context = browser.new_context(viewport=viewport, device_scale_factor=1, locale=locale,
                                      is_mobile=mobile, has_touch=mobile)
        p = context.new_page()
        watch = Watch(origin=served.url)
        p.on("console", lambda m: watch.errors.append(f"console.{m.type}: {m.text}") if m.type == "error" else None)
        p.on("pageerror", lambda e: watch.errors.append(f"uncaught: {e}"))
        p.on("requestfailed", lambda r: watch.errors.append(f"request failed: {r.url} {r.failure}"))
        p.on("request", lambda r: None if r.url.startswith((served.url, "data:", "blob:"))
             else watch.outside.append(r.url))
        p.set_default_timeout(20_000)
        opened.append((context, watch))
        return Page(p, served, watch)

    try:
        yield open_one
    finally:
        for context, _ in opened:
            context.close()
    for _, watch in opened:
        assert not watch.outside, f"the page asked for something outside its server: {watch.outside}"
        assert not watch.unexpected(), "console errors:\n" + "\n".join(watch.unexpected())


@pytest.fixture
def page(open_page: OpenPage) -> Page:
    """A fresh page in English at desktop size (see :func:`open_page`)."""
    return open_page()
