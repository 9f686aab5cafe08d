"""The page's message catalogs (``api/static/i18n/*.json``): the same keys in every language, the same
placeholders, Chinese that is Chinese, and exactly the keys the page uses. No browser needed.
"""

from __future__ import annotations

import json
import re
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

import pytest

STATIC = Path(__file__).resolve().parents[2] / "api" / "static"
LANGUAGES = ("en", "zh")
PLURAL_CATEGORIES = {"zero", "one", "two", "few", "many", "other"}  # Intl.PluralRules' names

# Latin words a Chinese text may keep: the product's name, "API" as Chinese writers use it, and names a
# user types or configures exactly so (an environment variable, a role, a command, the T+ of a time).
TERMS = frozenset({"CityKG", "API", "KG_API_KEYS", "read", "kg", "load", "T"})

_PLACEHOLDER = re.compile(r"\{(\w+)\}")
_LATIN_WORD = re.compile(r"[A-Za-z][A-Za-z_]*")


def catalog(lang: str) -> dict[str, Any]:
    """The catalog of ``lang``: key -> message, or {plural category: message}."""
    data: dict[str, Any] = json.loads((STATIC / "i18n" / f"{lang}.json").read_text(encoding="utf-8"))
    return data


def forms(message: Any) -> list[str]:
    """Every text of a message: itself, or each of its plural forms."""
    return list(message.values()) if isinstance(message, dict) else [message]


def english_words(text: str) -> list[str]:
    """The Latin words of ``text`` (placeholders removed) that are not among the allowed terms."""
    return [w for w in _LATIN_WORD.findall(_PLACEHOLDER.sub(" ", text)) if w not in TERMS]


def used_keys() -> set[str]:
    """Every catalog key the page names: string literals of its JavaScript and data-i18n* attributes of its HTML."""
    namespaces = {key.split(".")[0] for key in catalog("en")}
    alternatives = "|".join(sorted(namespaces))
    literal = re.compile(rf"""['"`]((?:{alternatives})\.[a-z0-9_]+)['"`]""")
    keys = {m for path in (STATIC / "js").glob("*.js") for m in literal.findall(path.read_text(encoding="utf-8"))}
    html = (STATIC / "index.html").read_text(encoding="utf-8")
    return keys | set(re.findall(r'data-i18n(?:-[a-z-]+)?="([^"]+)"', html)) - {"data-i18n-args"}


def test_every_language_has_the_same_keys() -> None:
    keys = {lang: set(catalog(lang)) for lang in LANGUAGES}
    assert keys["zh"] == keys["en"], {"only in en": keys["en"] - keys["zh"], "only in zh": keys["zh"] - keys["en"]}


@pytest.mark.parametrize("lang", LANGUAGES)
def test_messages_are_text_or_plural_forms(lang: str) -> None:
    for key, message in catalog(lang).items():
        if isinstance(message, dict):
            assert "other" in message and set(message) <= PLURAL_CATEGORIES, f"{lang}: {key} forms {set(message)}"
            assert "count" in {p for text in message.values() for p in _PLACEHOLDER.findall(text)}, (
                f"{lang}: {key} has plural forms but no {{count}} to choose them by")
        else:
            assert isinstance(message, str), f"{lang}: {key} is neither text nor plural forms"


def test_every_language_fills_the_same_placeholders() -> None:
    en, zh = catalog("en"), catalog("zh")
    for key in en:
        wanted = {p for text in forms(en[key]) for p in _PLACEHOLDER.findall(text)}
        for text in forms(zh[key]):
            assert set(_PLACEHOLDER.findall(text)) == wanted, f"zh {key}: {text!r} should use {sorted(wanted)}"


def test_chinese_messages_are_in_chinese() -> None:
    untranslated = {key: text for key, message in catalog("zh").items() for text in forms(message)
                    if english_words(text)}
    assert not untranslated, f"English left in zh.json: {untranslated}"


def test_the_catalogs_hold_exactly_the_keys_the_page_uses() -> None:
    used = used_keys()
    keys = set(catalog("en"))
    assert used - keys == set(), f"the page uses keys no catalog has: {sorted(used - keys)}"
    assert keys - used == set(), f"catalog keys the page never uses: {sorted(keys - used)}"


class _Texts(HTMLParser):
    """The text nodes of an HTML document outside <script> and <style>."""

    def __init__(self) -> None:
        super().__init__()
        self.texts: list[str] = []
        self._skip = 0

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self._skip += tag in ("script", "style")

    def handle_endtag(self, tag: str) -> None:
        self._skip -= tag in ("script", "style")

    def handle_data(self, data: str) -> None:
        if not self._skip and data.strip():
            self.texts.append(data.strip())


def test_no_text_is_written_into_the_html() -> None:
    """The HTML carries keys, not words: a word written there would stay English in Chinese."""
    parser = _Texts()
    parser.feed((STATIC / "index.html").read_text(encoding="utf-8"))
    words = [text for text in parser.texts if english_words(text)]
    assert not words, f"text written into index.html instead of a catalog key: {words}"
