"""The cascade view's what-if panel in real headless Chromium: a buffer and a second feed added by clicking
the map, compared with POST /v1/whatif; what got worse is said as plainly as what got better."""

from __future__ import annotations

import math
from typing import Any

from tests.e2e.conftest import Page
from tests.e2e.test_page import _asset_with_dependents, _cascade_of


def _click_asset(page: Page, asset: str) -> str:
    """Click ``asset`` on the map; the id of the asset the map picked (the nearest one under the pointer)."""
    p = page.page
    box = p.query_selector("#map").bounding_box()
    p.evaluate("id => { const app = window.citykg.app; app.map.focus(app.city.index.get(id)); }", asset)
    p.evaluate("() => new Promise(done => requestAnimationFrame(() => requestAnimationFrame(done)))")  # drawn
    x, y = p.evaluate("id => window.citykg.app.map.screen(window.citykg.app.city.index.get(id))", asset)
    p.mouse.click(box["x"] + x, box["y"] + y)
    return str(p.evaluate("() => { const e = window.citykg.app.whatif.edits.at(-1); "
                          "return e ? (e.asset || e.dependent) : ''; }"))


def test_a_buffer_added_by_clicking_is_compared_with_the_api(page: Page) -> None:
    asset = _asset_with_dependents(page, "Substation", 20, 1000)
    horizon = 12
    cascade = _cascade_of(page, {"fail": [{"id": asset, "time": 0}], "horizon_hours": horizon})
    target = next(f for f in cascade["failures"] if f["cause"] is not None and f["population"] > 0)
    page.login(f"#/cascade?fail={asset}&horizon={horizon}")
    p = page.page
    p.wait_for_selector("#cascade-panel[data-state=done]")
    assert p.is_disabled("#whatif-compare"), "nothing to compare before an edit"
    p.click("[data-whatif-mode=buffer]")
    p.fill("#whatif-hours", "48")
    picked = _click_asset(page, target["id"])
    assert picked, "a click on a failed asset adds an edit"
    edits: list[dict[str, Any]] = p.evaluate("() => window.citykg.app.whatif.edits")
    assert edits[-1]["op"] == "add_buffer" and edits[-1]["hours"] == 48
    assert p.inner_text("#whatif-edits").count(picked) == 1
    p.click("#whatif-compare")
    p.wait_for_selector("#whatif[data-state=done]")
    expected = page.api("/v1/whatif", {"edits": edits, "fail": [{"id": asset, "time": 0}], "horizon_hours": horizon})
    shown = p.evaluate("() => window.citykg.app.whatif.result")
    assert shown == expected
    assert picked in expected["changes"]["saved"], "48 hours of buffer outlast a 12-hour horizon"
    saved = p.inner_text("#whatif-result [data-change=saved]")
    assert str(expected["impact"]["saved"]["assets"]) in saved
    worse = expected["impact"]["new"]["assets"] + expected["impact"]["earlier"]["assets"]
    assert ("Nothing got worse" in p.inner_text("#whatif-result")) == (worse == 0)
    p.eval_on_selector("#whatif", "el => el.scrollIntoView()")
    page.screenshot("whatif.png")
    # the map shows the cascade after the edits: the saved asset no longer fails
    i = p.evaluate("id => window.citykg.app.city.index.get(id)", picked)
    assert p.evaluate("i => window.citykg.app.map.failTime[i]", i) == math.inf
    p.click("#whatif-result button:has-text('Map: before')")
    assert p.evaluate("i => window.citykg.app.map.failTime[i]", i) < math.inf


def test_a_second_feed_takes_two_clicks_and_a_bad_one_is_explained(page: Page) -> None:
    asset = _asset_with_dependents(page, "Substation", 20, 1000)
    cascade = _cascade_of(page, {"fail": [{"id": asset, "time": 0}]})
    target = next(f for f in cascade["failures"] if f["cause"] is not None and f["cause"]["providers"] == [asset])
    page.login(f"#/cascade?fail={asset}")
    p = page.page
    p.wait_for_selector("#cascade-panel[data-state=done]")
    p.click("[data-whatif-mode=feed]")
    _click_asset(page, target["id"])
    assert p.evaluate("() => window.citykg.app.whatif.edits.length") == 0, "the first click chooses the dependent"
    assert "also supply" in p.inner_text("#whatif-prompt")
    page.watch.allow(r"status of 409")
    _click_asset(page, asset)  # the provider it already has: the API refuses, and says why
    edit = p.evaluate("() => window.citykg.app.whatif.edits.at(-1)")
    assert edit["op"] == "add_dependency" and edit["kind"] == target["cause"]["kind"]
    p.click("#whatif-compare")
    p.wait_for_selector("#whatif[data-state=error]")
    assert "already exists" in p.inner_text("#whatif-status")
