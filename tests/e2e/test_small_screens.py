"""The page on a phone (390x844, in Chinese) and a tablet (768x1024, in English), by touch.

Every view fits the width (nothing scrolls sideways), every tab is on screen and answers a tap, the
map is on screen after its tab is tapped, the key dialog fits and its button answers a tap, a
cascade is run and replayed, and two fingers zoom the map. The phone screenshots in docs/img/ are
taken here.
"""

from __future__ import annotations

from typing import Any

import pytest

from tests.e2e.conftest import OpenPage, Page
from tests.e2e.server import KEYS
from tests.e2e.test_languages import _substation

SIZES = {"phone": ({"width": 390, "height": 844}, "zh-CN"), "tablet": ({"width": 768, "height": 1024}, "en-US")}
TABS = ("dependency", "city", "cascade", "criticality")


def _no_sideways_scroll(page: Page, width: int, where: str) -> None:
    # innerWidth too: a phone browser widens its layout viewport to content that does not fit
    inner, scroll = page.page.evaluate("[innerWidth, document.scrollingElement.scrollWidth]")
    assert (inner, scroll <= inner) == (width, True), f"{where}: {scroll} px of content in a {inner} px window"


def _on_screen(page: Page, selector: str, viewport: dict[str, int]) -> dict[str, float]:
    box = page.page.locator(selector).bounding_box()
    assert box and box["width"] > 0 and box["height"] > 0, f"{selector} is not drawn"
    assert box["x"] >= -0.5 and box["y"] >= -0.5, f"{selector} starts off screen: {box}"
    assert box["x"] + box["width"] <= viewport["width"] + 0.5, f"{selector} runs off the right edge: {box}"
    assert box["y"] + box["height"] <= viewport["height"] + 0.5, f"{selector} runs off the bottom: {box}"
    return box


def _pinch_out(page: Page, box: dict[str, float]) -> None:
    """Two fingers on the map's middle, moving apart (real touch events, through the DevTools protocol)."""
    cdp = page.page.context.new_cdp_session(page.page)
    x, y = box["x"] + box["width"] / 2, box["y"] + box["height"] / 2

    def touch(kind: str, spread: float | None) -> None:
        points = [] if spread is None else [{"x": x - spread, "y": y, "id": 0}, {"x": x + spread, "y": y, "id": 1}]
        cdp.send("Input.dispatchTouchEvent", {"type": kind, "touchPoints": points})

    touch("touchStart", 20)
    for step in range(1, 7):
        touch("touchMove", 20 + step * 12)
    touch("touchEnd", None)


@pytest.mark.parametrize("size", SIZES)
def test_every_view_fits_and_answers_touch(open_page: OpenPage, size: str) -> None:
    viewport, locale = SIZES[size]
    page = open_page(locale=locale, viewport=viewport, mobile=True)
    p = page.page
    asset = _substation(page)
    expected = page.api("/v1/cascades", {"fail": [{"id": asset, "time": 0}]})
    # the key dialog fits, and its button answers a tap
    page.goto("#/city")
    p.wait_for_selector("#key-dialog[open]")
    _no_sideways_scroll(page, viewport["width"], "key dialog")
    _on_screen(page, "#key-dialog", viewport)
    _on_screen(page, "#key-submit", viewport)
    p.fill("#key-input", KEYS["read"])
    p.tap("#key-submit")
    p.wait_for_selector("body[data-city-painted=true]")
    if size == "phone":
        page.screenshot("phone-city.png")
    # every tab on screen, and a tap opens its view
    for tab in TABS:
        _on_screen(page, f".tabs a[data-tab={tab}]", viewport)
        p.tap(f".tabs a[data-tab={tab}]")
        p.wait_for_function("tab => document.body.dataset.view === tab", arg=tab)
        _no_sideways_scroll(page, viewport["width"], f"{tab} view")
    # the map is on screen; a tap picks an asset; two fingers zoom
    p.tap(".tabs a[data-tab=city]")
    box = _on_screen(page, "#map", viewport)
    assert box["height"] >= 200, f"the map is a sliver: {box}"
    scale = p.evaluate("window.citykg.app.map.view.scale")
    _pinch_out(page, box)
    p.wait_for_function("s => window.citykg.app.map.view.scale > 1.5 * s", arg=scale)
    p.tap("#zoom-fit")
    x, y = p.evaluate("id => window.citykg.app.map.screen(window.citykg.app.city.index.get(id))", asset)
    p.touchscreen.tap(box["x"] + x, box["y"] + y)
    p.wait_for_selector("#picked-asset .picked")
    # dependencies: the selected asset's card is in sight, the page still fits
    p.evaluate(f"() => {{ location.hash = '#/asset/{asset}'; }}")
    p.wait_for_selector(f"#dep-graph[data-state=ready][data-id='{asset}']")
    centre = _on_screen(page, ".depgraph g.node.centre", viewport)
    assert centre["x"] >= 0
    _no_sideways_scroll(page, viewport["width"], "dependency graph")
    # its cascade, run by a tap, then replayed with Play and by tapping the timeline
    p.tap("#fail-it")
    p.wait_for_selector("#cascade-panel[data-state=done]")
    _no_sideways_scroll(page, viewport["width"], "cascade")
    _on_screen(page, "#map", viewport)
    assert page.number("#failed-count") == expected["summary"]["failed"]
    p.locator("#cascade-chart svg").scroll_into_view_if_needed()
    chart = p.locator("#cascade-chart svg").bounding_box()
    p.touchscreen.tap(chart["x"] + chart["width"] * 0.12, chart["y"] + chart["height"] / 2)
    p.wait_for_function("() => Number(document.querySelector('#cascade-panel').dataset.time) > 0")
    hour = float(p.get_attribute("#cascade-panel", "data-time") or 0)
    assert page.number("#failed-count") == sum(1 for f in expected["failures"] if f["time"] <= hour + 1e-9)
    if size == "phone":
        p.locator("#cascade-results .time-row").evaluate("el => el.scrollIntoView({block: 'start'})")
        page.screenshot("phone-cascade.png")
    p.locator("#cascade-play").scroll_into_view_if_needed()
    p.tap("#cascade-play")
    last = max(f["time"] for f in expected["failures"])
    p.wait_for_function(f"() => Number(document.querySelector('#cascade-panel').dataset.time) >= {int(-(-last // 1))}",
                        timeout=30_000)
    assert page.number("#failed-count") == expected["summary"]["failed"]
    # criticality: cards that fit, and a tap runs a row's cascade
    p.tap(".tabs a[data-tab=criticality]")
    p.wait_for_selector("#crit-table[data-state=ready]")
    _no_sideways_scroll(page, viewport["width"], "criticality")
    first = p.locator("#crit-table tr[data-id] .cascade-link").first
    _on_screen(page, "#crit-table tr[data-id] .cascade-link >> nth=0", viewport)
    first.tap()
    p.wait_for_selector("#cascade-panel[data-state=done]")


def test_a_desktop_keeps_its_side_by_side_layout(page: Page) -> None:
    """Above 900 px the panel stays beside the map, and the top bar is one row (the layout of the screenshots)."""
    page.login("#/city")
    p = page.page
    p.wait_for_selector("body[data-city-painted=true]")
    boxes: dict[str, Any] = {s: p.locator(s).bounding_box() for s in ("#map-wrap", "#city-panel", ".topbar")}
    assert boxes["#city-panel"]["x"] >= boxes["#map-wrap"]["x"] + boxes["#map-wrap"]["width"] - 1
    assert boxes["#city-panel"]["width"] == 340 and boxes[".topbar"]["height"] == 54
