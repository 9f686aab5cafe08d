"""The Live view in Chromium: an event posted by the test changes the page's counts, no reload."""

from __future__ import annotations

import json
import urllib.request
from datetime import UTC, datetime, timedelta
from typing import Any

from tests.e2e.conftest import Page
from tests.e2e.server import KEYS


def post_events(page: Page, events: list[dict[str, Any]]) -> Any:
    request = urllib.request.Request(f"{page.served.url}/v1/events", data=json.dumps({"events": events}).encode(),
                                     headers={"Authorization": f"Bearer {KEYS['write']}",
                                              "Content-Type": "application/json"}, method="POST")
    with urllib.request.urlopen(request, timeout=60) as response:
        return json.loads(response.read())


def test_an_event_posted_changes_the_live_view_without_a_reload(page: Page) -> None:
    p = page.page
    page.login("#/live")
    p.wait_for_selector("#live-panel[data-state=ready]")
    before = page.number("#live-reported-count")
    p.evaluate("() => { window.notReloaded = true; }")
    substation = page.api("/v1/assets?type=Substation&limit=1")
    asset = (substation.get("data") or substation.get("assets") or substation)[0]["id"]
    when = (datetime.now(UTC) - timedelta(minutes=5)).isoformat(timespec="seconds")
    assert post_events(page, [{"id": f"e2e-live-{when}", "asset": asset, "status": "down", "time": when}]) == {
        "accepted": 1, "duplicates": 0}
    p.wait_for_function(f"() => document.querySelector('#live-reported-count').textContent.trim() === '{before + 1}'",
                        timeout=15_000)
    assert p.evaluate("() => window.notReloaded") is True
    assert page.number("#live-down-count") >= 1
    p.wait_for_selector(f"#live-reported li >> text={asset}")
    # back to the city and forth again: the stream stays open, the picture is still there
    page.goto("#/city")
    page.goto("#/live")
    p.wait_for_function(f"() => document.querySelector('#live-reported-count').textContent.trim() === '{before + 1}'")
