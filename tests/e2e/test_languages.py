"""The page in Chinese and English, in real Chromium.

A browser set to Chinese (zh-CN) gets every view in Chinese: no text a user reads (visible text,
tooltips, aria-labels, placeholders, options) holds an English string of the page's catalog, nor any
English word that is not a data value (ids, names of assets, districts, agencies and zones from the
data) or an allowed term. The switch to English works at once, without re-running anything, and is
remembered across a reload. The Chinese screenshots in docs/img/ are taken here.
"""

from __future__ import annotations

import functools
import re

from tests.e2e.conftest import OpenPage, Page
from tests.e2e.server import KEYS
from tests.e2e.test_catalogs import _PLACEHOLDER, catalog, english_words, forms

# Every text a user can read on the page: visible text nodes, native tooltips (title, SVG <title>),
# options, aria-labels, placeholders, the labels the phone layout shows (data-label) and the title.
# Text inside an element marked as another language (the switch's "English") is left out.
_READABLE = """() => {
  const ours = document.documentElement.lang.slice(0, 2);
  const inOurs = (el) => { const host = el.closest('[lang]'); return !host || host.lang.slice(0, 2) === ours; };
  const out = [document.title];
  const walker = document.createTreeWalker(document.body, NodeFilter.SHOW_TEXT);
  for (let node = walker.nextNode(); node; node = walker.nextNode()) {
    const el = node.parentElement;
    const text = node.textContent.trim();
    if (!text || !el || !inOurs(el) || el.closest('[hidden]')) continue;
    if (el.closest('svg title, option') || el.checkVisibility()) out.push(text);
  }
  for (const el of document.querySelectorAll('[aria-label], [title], [placeholder], [data-label]')) {
    if (!inOurs(el) || el.closest('[hidden]')) continue;
    for (const name of ['aria-label', 'title', 'placeholder', 'data-label']) {
      if (el.getAttribute(name)) out.push(el.getAttribute(name));
    }
  }
  return out;
}"""

# Data the page shows as it is (English in the synthetic city): ids and names from GET /v1/city.
_CITY_DATA = """() => {
  const c = window.citykg.app.city;
  const names = [c.name, ...c.districts.flatMap((d) => [d.id, d.name]), ...c.agencies.flatMap((g) => [g.id, g.name]),
    ...c.zones.flatMap((z) => [z.id, z.name])];
  return [...c.ids, ...names.filter(Boolean)];
}"""


def _data_values(page: Page, assets: list[str], query: str | None = None) -> set[str]:
    """Data values the page may show: the city's ids and names, and what the API says of ``assets``
    (name, region, properties, the names in its dependency graph, its edge groups)."""
    values: set[str] = set(page.page.evaluate(_CITY_DATA))
    for name in list(values):
        values.update(part for part in re.split(r"\s+(?=[\u3000-\u9fff])", name) if part)  # "Yuzhong 渝中区"
        short = re.sub(r"^Municipal ", "", re.sub(r"^Chongqing ", "", re.sub(r"^State Grid ", "", name)))
        values.add(short)  # agencies as the coordination matrix shortens them
    for asset in assets:
        record = page.api(f"/v1/assets/{asset}")
        props = record.get("props") or {}
        values.update(str(v) for v in (record["name"], record["region"], *props, *props.values()) if v)
        graph = page.api(f"/v1/city/graph/{asset}?depth=3")
        values.update(n["name"] for n in graph["nodes"] if n.get("name"))
        values.update(e["group"] for e in graph["edges"])
    if query:
        values.update(a["name"] for a in page.api(f"/v1/assets?q={query}&limit=12")["data"] if a.get("name"))
    return {v for v in values if v}


@functools.cache
def _catalog_fragments(lang: str) -> dict[str, str]:
    """Fixed pieces of ``lang``'s messages (between placeholders) that would betray that language: fragment -> key.
    English: those with a word of three letters or more; Chinese: those with two Chinese characters or more."""
    wanted = re.compile(r"[A-Za-z]{3,}") if lang == "en" else re.compile(r"[\u4e00-\u9fff]{2,}")
    found: dict[str, str] = {}
    for key, message in catalog(lang).items():
        for text in forms(message):
            for fragment in _PLACEHOLDER.split(text)[::2]:
                fragment = fragment.strip(" .,:;()（）：；，。“”")
                if wanted.search(fragment) and not (lang == "en" and not english_words(fragment)):
                    found.setdefault(fragment, key)
    return found


def _without_data(text: str, data: list[str]) -> str:
    """``text`` with the data values in it blanked out (``data``: longest first)."""
    if text.endswith("…") and any(d.startswith(text[:-1].strip()) for d in data):
        return ""  # a data value cut to fit (a card's id, an agency's name)
    for value in data:
        if value in text:
            text = text.replace(value, " ")
    return text


def assert_in_language(page: Page, lang: str, data: set[str], where: str) -> None:
    """Every readable text of the page is in ``lang``: none holds a string of the other catalog, and
    (in Chinese) no English word is left once the data values are taken out."""
    assert page.page.evaluate("document.documentElement.lang") == {"zh": "zh-CN", "en": "en"}[lang]
    texts = page.page.evaluate(_READABLE)
    joined = "\n".join(texts)
    present = sorted((d for d in data if d in joined), key=len, reverse=True)
    cleaned = [_without_data(text, present) for text in texts]
    other = "en" if lang == "zh" else "zh"
    # a whole word or phrase of the other catalog ("City" is no leak in "CityKG")
    whole = {fragment: re.compile(rf"(?<![A-Za-z]){re.escape(fragment)}(?![A-Za-z])") for fragment in
             _catalog_fragments(other)}
    leaks = {f"{fragment!r} ({_catalog_fragments(other)[fragment]})" for fragment, pattern in whole.items()
             for text in cleaned if fragment in text and pattern.search(text)}
    assert not leaks, f"{where}: {other} strings of the catalog shown in {lang}: {sorted(leaks)}"
    if lang == "zh":
        words = {f"{text!r}: {english_words(rest)}" for text, rest in zip(texts, cleaned, strict=True)
                 if english_words(rest)}
        assert not words, f"{where}: English left in the Chinese page: {sorted(words)}"


def _substation(page: Page) -> str:
    rows = page.api("/v1/assets?type=Substation&limit=200")["data"]
    return next(r["id"] for r in rows
                if 100 <= len(page.api(f"/v1/assets/{r['id']}/dependents?depth=2")["dependents"]) <= 1000)


def _hover_asset(page: Page, asset: str) -> None:
    p = page.page
    x, y = p.evaluate("id => window.citykg.app.map.screen(window.citykg.app.city.index.get(id))", asset)
    box = p.query_selector("#map").bounding_box()
    p.mouse.move(box["x"] + x, box["y"] + y)
    p.wait_for_selector(".map-tooltip:not([hidden])")


def test_every_view_is_in_chinese_for_a_chinese_browser(open_page: OpenPage) -> None:
    page = open_page(locale="zh-CN")
    page.watch.allow(r"Failed to load resource: the server responded with a status of 401")
    p = page.page
    asset = _substation(page)
    hospital = page.api("/v1/assets?type=Hospital&limit=1")["data"][0]["id"]
    # the key dialog, and its error
    page.goto()
    p.wait_for_selector("#key-dialog[open]")
    assert p.inner_text("#key-title") == "连接 CityKG"
    assert_in_language(page, "zh", set(), "key dialog")
    p.fill("#key-input", "not-a-key-of-this-server-000")
    p.click("#key-submit")
    p.wait_for_function("() => document.querySelector('#key-error').textContent.length > 0")
    assert "密钥" in p.inner_text("#key-error")
    assert_in_language(page, "zh", set(), "key dialog with an error")
    # the city, an asset picked and one hovered
    p.fill("#key-input", KEYS["read"])
    p.click("#key-submit")
    p.wait_for_selector("body[data-city-painted=true]")
    data = _data_values(page, [asset, hospital], query=asset[:5])
    x, y = p.evaluate("id => window.citykg.app.map.screen(window.citykg.app.city.index.get(id))", hospital)
    box = p.query_selector("#map").bounding_box()
    p.mouse.click(box["x"] + x, box["y"] + y)
    p.wait_for_selector("#picked-asset .picked")
    _hover_asset(page, hospital)
    assert_in_language(page, "zh", data, "city")
    page.screenshot("zh-city.png")
    # find
    p.fill("#find-input", asset[:5])
    p.wait_for_selector("#find-results li[data-id]")
    assert_in_language(page, "zh", data, "find")
    # find in Chinese: a type by its label
    substations = [a["id"] for a in page.api("/v1/assets?type=Substation&limit=12")["data"]]
    p.fill("#find-input", "变电站")
    p.wait_for_function("ids => [...document.querySelectorAll('#find-results li[data-id]')]"
                        ".map(e => e.dataset.id).join() === ids.join()", arg=substations)
    p.press("#find-input", "Escape")
    # dependencies: none picked, then a substation
    p.evaluate("() => { location.hash = '#/asset'; }")
    p.wait_for_selector("#dep-graph[data-state=empty]")
    assert_in_language(page, "zh", data, "dependencies, nothing picked")
    p.evaluate(f"() => {{ location.hash = '#/asset/{asset}'; }}")
    p.wait_for_selector(f"#dep-graph[data-state=ready][data-id='{asset}']")
    assert p.inner_text(".tabs a[data-tab=dependency]") == "依赖关系"
    assert_in_language(page, "zh", data, "dependencies")
    page.screenshot("zh-dependency.png")
    # its cascade, replayed to the middle, with a failed asset hovered; both matrices
    expected = page.api("/v1/cascades", {"fail": [{"id": asset, "time": 0}]})
    p.click("#fail-it")
    p.wait_for_selector("#cascade-panel[data-state=done]")
    assert page.number("#failed-count") == expected["summary"]["failed"]
    assert "小时" in p.inner_text("#cascade-clock")
    last = max(f["time"] for f in expected["failures"])
    slider = p.locator("#cascade-time")
    slider.evaluate("(el, v) => { el.value = String(v); el.dispatchEvent(new Event('input', {bubbles: true})); }",
                    max(1, int(last // 2)))
    assert_in_language(page, "zh", data, "cascade")
    page.screenshot("zh-cascade.png")
    _hover_asset(page, asset)
    p.click("[data-matrix=districts]")
    assert_in_language(page, "zh", data, "cascade, by district, an asset hovered")
    p.click("label:has(#scenario-mode-zones)")
    assert_in_language(page, "zh", data, "cascade, hazard zones")
    # criticality
    p.evaluate("() => { location.hash = '#/criticality'; }")
    p.wait_for_selector("#crit-table[data-state=ready]")
    assert_in_language(page, "zh", data, "criticality")


def _cascade_requests(page: Page) -> list[str]:
    seen: list[str] = []
    page.page.on("request", lambda r: seen.append(r.url) if r.method == "POST" and "/v1/cascades" in r.url else None)
    return seen


def test_the_switch_to_english_works_at_once_and_is_remembered(open_page: OpenPage) -> None:
    page = open_page(locale="zh-CN")
    p = page.page
    asset = _substation(page)
    # in the key dialog already
    page.goto()
    p.wait_for_selector("#key-dialog[open]")
    p.click("#key-dialog .lang-switch")
    p.wait_for_function("() => document.documentElement.lang === 'en'")
    assert p.inner_text("#key-title") == "Connect to CityKG"
    assert p.inner_text("#key-dialog .lang-switch") == "中文"
    p.click("#key-dialog .lang-switch")
    p.wait_for_function("() => document.documentElement.lang === 'zh-CN'")
    page.login(f"#/cascade?fail={asset}")
    p.wait_for_selector("#cascade-panel[data-state=done]")
    data = _data_values(page, [asset])
    assert_in_language(page, "zh", data, "cascade before the switch")
    runs = _cascade_requests(page)
    failed = page.number("#failed-count")
    # switch: every text in English at once, the same cascade still shown, nothing run again
    p.click(".topbar .lang-switch")
    p.wait_for_function("() => document.documentElement.lang === 'en'")
    assert p.inner_text(".tabs a[data-tab=cascade]") == "Cascade"
    assert p.inner_text("#cascade-clock").startswith("T+") and " h" in p.inner_text("#cascade-clock")
    assert p.get_attribute("#cascade-panel", "data-state") == "done" and page.number("#failed-count") == failed
    assert_in_language(page, "en", data, "cascade after the switch")
    assert runs == [], "switching language re-ran the cascade"
    # remembered: a reload stays in English although the browser prefers Chinese
    assert p.evaluate("localStorage.getItem('citykg.lang')") == "en"
    p.reload()
    p.wait_for_selector("#cascade-panel[data-state=done]")
    assert p.evaluate("[document.documentElement.lang, navigator.language]") == ["en", "zh-CN"]
    assert_in_language(page, "en", data, "cascade after a reload")
    # and back
    p.click(".topbar .lang-switch")
    p.wait_for_function("() => document.documentElement.lang === 'zh-CN'")
    assert p.inner_text(".tabs a[data-tab=cascade]") == "级联推演"
    p.reload()
    p.wait_for_selector("#cascade-panel[data-state=done]")
    assert p.evaluate("document.documentElement.lang") == "zh-CN"


def test_an_english_browser_gets_english_and_numbers_formatted_for_it(open_page: OpenPage) -> None:
    page = open_page(locale="en-GB")
    page.login("#/city")
    p = page.page
    p.wait_for_selector("body[data-city-painted=true]")
    assert p.evaluate("document.documentElement.lang") == "en"
    assert "10,000 assets" in p.inner_text("#status")
    assert_in_language(page, "en", _data_values(page, []), "city")

