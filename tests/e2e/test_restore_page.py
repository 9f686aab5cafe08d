"""The restoration view in real headless Chromium: reached from a cascade, the Gantt per agency and the curve
show exactly the API's plan; the exact method and the language switch redraw it. Screenshot docs/img/restore.png.
"""

from __future__ import annotations

from typing import Any

from tests.e2e.conftest import Page


def _zone(page: Page) -> str:
    """A hazard zone of the test city whose plan saves the most against the naive order (a plan worth a look)."""
    zones = [z["id"] for z in page.api("/v1/city")["zones"]]

    def saved(zone: str) -> float:
        plan = page.api("/v1/restorations", {"hazard_zones": [zone]})
        return float(plan["naive"]["unserved_people_hours"] - plan["unserved_people_hours"])

    return max(zones, key=lambda z: (saved(z), z))


def _bars(page: Page) -> dict[str, list[dict[str, Any]]]:
    """The Gantt's bars per agency: asset id and crew lane."""
    return page.page.evaluate("""() => Object.fromEntries([...document.querySelectorAll('.gantt-agency')].map(
        (sec) => [sec.dataset.agency, [...sec.querySelectorAll('a.bar')].map(
            (a) => ({id: a.dataset.id, crew: Number(a.dataset.crew)}))]))""")


def test_a_cascade_leads_to_its_restoration_plan(page: Page) -> None:
    zone = _zone(page)
    page.login(f"#/cascade?zones={zone}")
    p = page.page
    p.wait_for_selector("#cascade-panel[data-state=done]")
    p.click("#cascade-restore")
    p.wait_for_selector("#view-restore[data-state=done]")
    assert p.evaluate("location.hash") == f"#/restore?zones={zone}"
    plan = page.api("/v1/restorations", {"hazard_zones": [zone]})
    assert plan["schedule"], "the test zone damages something"
    # the figures are the plan's
    assert float(p.get_attribute("#plan-hours", "data-value")) == plan["unserved_people_hours"]
    assert float(p.get_attribute("#naive-hours", "data-value")) == plan["naive"]["unserved_people_hours"]
    # one Gantt per agency, one bar per repair, in its crew's lane
    expected: dict[str, list[dict[str, Any]]] = {}
    for r in plan["schedule"]:
        expected.setdefault(r["agency"] or "", []).append({"id": r["id"], "crew": r["crew"]})
    shown = _bars(page)
    assert {a: sorted(b, key=lambda x: x["id"]) for a, b in shown.items()} == \
        {a: sorted(b, key=lambda x: x["id"]) for a, b in expected.items()}
    # the curve of people without service has a step per point of the plan's curve
    assert p.locator(".restore-curve path.line").count() == 1
    steps = p.get_attribute(".restore-curve path.line", "d") or ""
    assert steps.count("V") == len(plan["curve"]) - 1
    page.screenshot("restore.png")
    # a bar opens the repaired asset's dependencies
    first = plan["schedule"][0]["id"]
    p.click(f".gantt a.bar[data-id='{first}']")
    p.wait_for_selector(f"#dep-graph[data-state=ready][data-id='{first}']")


def test_exact_method_and_chinese(page: Page) -> None:
    ids = [a["id"] for a in page.api("/v1/assets?type=Substation&limit=3")["data"]]
    page.login(f"#/restore?fail={','.join(ids)}")
    p = page.page
    p.wait_for_selector("#view-restore[data-state=done]")
    p.select_option("#restore-method", "exact")
    p.wait_for_function("() => location.hash.includes('method=exact')")
    p.wait_for_selector("#view-restore[data-state=done]", timeout=40_000)
    plan = page.api("/v1/restorations", {"fail": ids, "method": "exact", "time_limit": 20})
    assert float(p.get_attribute("#plan-hours", "data-value")) == plan["unserved_people_hours"]
    p.click(".topbar .lang-switch")
    p.wait_for_function("() => document.documentElement.dataset.lang === 'zh'")
    assert "恢复计划" in p.inner_text("#view-restore h2")
    assert "第1队" in (p.text_content(".gantt") or "")
