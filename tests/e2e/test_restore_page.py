"""The restoration view in real headless Chromium: reached from a cascade and from Live, the Gantt per agency and
the curve show exactly the API's plan; the exact method and the language switch redraw it. Screenshot
docs/img/restore.png.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import parse_qs

from tests.e2e.conftest import Page
from tests.e2e.test_live_page import post_events


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


def _by_agency(schedule: list[dict[str, Any]]) -> dict[str, list[dict[str, Any]]]:
    """The repairs of a plan as the Gantt shows them: per agency, asset id and crew, sorted by id."""
    out: dict[str, list[dict[str, Any]]] = {}
    for r in sorted(schedule, key=lambda r: r["id"]):
        out.setdefault(r["agency"] or "", []).append({"id": r["id"], "crew": r["crew"]})
    return out


def _shown(page: Page) -> dict[str, list[dict[str, Any]]]:
    return {a: sorted(b, key=lambda x: x["id"]) for a, b in _bars(page).items()}


def test_live_leads_to_the_plan_of_what_is_down(page: Page) -> None:
    # not the first substation: tests/e2e/test_live_page.py reports that one down, and ours go up again at the end
    subs = [a["id"] for a in page.api("/v1/assets?type=Substation&limit=3")["data"]][1:]
    now = datetime.now(UTC)
    # one down for three hours, one for five minutes: an hour ago, only the first was down
    events = [(subs[0], now - timedelta(hours=3)), (subs[1], now - timedelta(minutes=5))]
    stamp = now.strftime("%H%M%S%f")
    assert post_events(page, [{"id": f"e2e-restore-{stamp}-{k}", "asset": asset, "status": "down",
                               "time": when.isoformat(timespec="seconds")}
                              for k, (asset, when) in enumerate(events)])["accepted"] == 2
    page.login("#/live")
    p = page.page
    p.wait_for_selector(f"#live-reported li >> text={subs[1]}")
    p.click("#live-restore")
    p.wait_for_selector("#view-restore[data-state=done]")
    assert p.evaluate("location.hash") == "#/restore?live=1"
    plan = page.api("/v1/restorations", {"live": True})
    assert set(subs) <= set(plan["damaged"])
    assert _shown(page) == _by_agency(plan["schedule"])
    assert float(p.get_attribute("#plan-hours", "data-value")) == plan["unserved_people_hours"]
    assert p.get_attribute("#restore-back", "href") == "#/live"

    # looking back an hour: the link plans what was down then
    p.click("#restore-back")
    p.wait_for_selector("#live-panel[data-state=ready]")
    p.eval_on_selector("#live-time", "(el) => { el.value = String(Number(el.max) - 4); "
                                     "el.dispatchEvent(new Event('input')); }")
    p.wait_for_function("() => document.querySelector('#live-restore').href.includes('as_of=')")
    p.click("#live-restore")
    p.wait_for_selector("#view-restore[data-state=done]")
    query = parse_qs(p.evaluate("location.hash").split("?", 1)[1])
    assert query["live"] == ["1"]
    then = page.api("/v1/restorations", {"live": True, "as_of": query["as_of"][0]})
    assert subs[0] in then["damaged"] and subs[1] not in then["damaged"]
    assert _shown(page) == _by_agency(then["schedule"])
    # the way back to now: the plan of now again
    p.click("#restore-back")
    p.wait_for_selector("#live-panel[data-state=ready]")
    p.click("#live-now")
    p.wait_for_function("() => document.querySelector('#live-restore').getAttribute('href') === '#/restore?live=1'")
    # up again, so that later views start from what they posted
    up = datetime.now(UTC).isoformat(timespec="seconds")
    post_events(page, [{"id": f"e2e-restore-{stamp}-up-{k}", "asset": asset, "status": "up", "time": up}
                       for k, asset in enumerate(subs)])


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
