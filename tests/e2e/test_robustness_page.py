"""The robustness panel of the criticality view in real Chromium: curves as the API draws them, in both languages."""

from __future__ import annotations

import re

from tests.e2e.conftest import OpenPage, Page
from tests.e2e.test_catalogs import english_words


def _run(page: Page, model: str, attack: str, curves: int) -> None:
    p = page.page
    p.select_option("#robust-model", model)
    p.select_option("#robust-attack", attack)
    p.click("#robust-run")
    p.wait_for_function(f"() => document.querySelectorAll('#robust-chart g.curve').length === {curves} && "
                        "document.querySelector('#robust-panel').dataset.state === 'ready'")


def _points(d: str) -> list[tuple[float, float]]:
    return [(float(x), float(y)) for x, y in re.findall(r"[ML]([\d.]+),([\d.]+)", d)]


def test_curves_are_the_api_answers_and_add_up(page: Page) -> None:
    page.login("#/criticality")
    p = page.page
    _run(page, "mutual-giant", "degree", 1)
    expected = page.api("/v1/robustness", {"model": "mutual-giant", "attack": "degree", "steps": 50, "samples": 1})
    legend = p.eval_on_selector_all("#robust-legend li[data-model]", "els => els.map(e => [e.dataset.model, "
                                    "e.dataset.attack, Number(e.dataset.r)])")
    assert legend == [["mutual-giant", "degree", expected["R"]]]
    functional = _points(p.get_attribute("#robust-chart g.curve .functional", "d") or "")
    assert len(functional) == len(expected["points"]) == 51
    # the chart's frame (robustness.js): y = 210 - 200 * share, x = 40 + 470 * removed, to 0.1 px
    drawn = [((x - 40) / 470, (210 - y) / 200) for x, y in functional]
    assert all(abs(dx - pt["removed"]) < 1e-3 and abs(dy - pt["functional"]) < 1e-3
               for (dx, dy), pt in zip(drawn, expected["points"], strict=True))
    _run(page, "supply", "random", 2)
    _run(page, "mutual-giant", "degree", 2)  # the same model and attack again: replaces its curve
    page.screenshot("robustness.png")
    p.click("#robust-clear")
    p.wait_for_selector("#robust-panel[data-state=idle]")
    assert not p.query_selector_all("#robust-chart g.curve")


def test_panel_in_chinese(open_page: OpenPage) -> None:
    page = open_page(locale="zh-CN")
    page.login("#/criticality")
    _run(page, "supply", "criticality", 1)
    panel = page.page.query_selector("#robust-panel")
    texts = [panel.inner_text(), *panel.eval_on_selector_all(
        "[aria-label], [title], option", "els => els.flatMap(e => [e.getAttribute('aria-label') || '', "
        "e.getAttribute('title') || '', e.textContent])")]
    assert not [w for text in texts for w in english_words(text)], texts
    assert "鲁棒性" in page.page.inner_text("#robust-legend")
