"""Chinese and English for what people read from ``kg`` and the API: gettext catalogs, made with Babel.

Messages are written in English in the code, wrapped in :func:`_` (translated
where they are made) or marked with :func:`N_` (translated where they are
shown, for tables of constants). Placeholders are named (``{failed}``), so a
translation may put them in its own order. The catalogs:

* ``kg/locale/LANG/LC_MESSAGES/citykg.po``: the source, edited by people
  (``pybabel extract`` / ``update`` keep it in step with the code; a test checks
  that every message of the code has a translation);
* ``citykg.mo`` beside it: compiled by the build (``setup.py``'s ``build_py``,
  or ``python -m kg.i18n``). A source checkout without it (an editable install)
  compiles the ``.po`` in memory on first use, so both read the same text.

The language is one per process for the CLI (:func:`use_language`, from
``--lang``, ``KG_LANG`` or ``LANG``: :func:`choose_language`) and one per
request for the API (``Accept-Language``); it lives in a context variable, so
requests served at once each keep their own. English is the default, and
English output is the code's text itself.

Examples
--------
>>> with language("zh"):
...     _("Situation")
'态势'
>>> _("Situation")
'Situation'
>>> choose_language(None, {"LANG": "zh_CN.UTF-8"}), choose_language("en", {"KG_LANG": "zh"})
('zh', 'en')
"""

from __future__ import annotations

import gettext
import io
import os
import sys
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from contextvars import ContextVar
from functools import cache
from pathlib import Path

__all__ = ["DOMAIN", "LANGUAGES", "N_", "_", "choose_language", "compile_catalogs", "current_language", "language",
           "ngettext", "translations", "use_language"]

DOMAIN = "citykg"
LANGUAGES = ("en", "zh")
"""Languages CityKG speaks; English is the code's own text."""
LOCALE_DIR = Path(__file__).with_name("locale")

_current: ContextVar[str] = ContextVar("citykg_language", default="en")


def _normalise(tag: str | None) -> str | None:
    """``zh``, ``zh-CN``, ``zh_CN.UTF-8``, ``zh-Hans`` -> ``zh``; ``en*``, ``C``, ``POSIX`` -> ``en``; else None."""
    if not tag:
        return None
    base = tag.strip().split(".")[0].replace("_", "-").split("-")[0].lower()
    if base in ("c", "posix"):
        return "en"
    return base if base in LANGUAGES else None


def choose_language(option: str | None, env: Mapping[str, str] = os.environ) -> str:
    """The CLI's language: ``--lang``, else ``KG_LANG``, else the locale (``LC_ALL``, ``LC_MESSAGES``, ``LANG``).

    An unknown ``--lang`` or ``KG_LANG`` is a :class:`ValueError`; an unknown locale means English.
    """
    for name, value in (("--lang", option), ("KG_LANG", env.get("KG_LANG"))):
        if value:
            chosen = _normalise(value)
            if chosen is None:
                raise ValueError(f"{name} {value!r}: expected one of {', '.join(LANGUAGES)}")
            return chosen
    for name in ("LC_ALL", "LC_MESSAGES", "LANG"):
        if env.get(name):
            return _normalise(env[name]) or "en"
    return "en"


def accept_language(header: str | None) -> str:
    """The API's language from an ``Accept-Language`` header: the first (by weight) that CityKG speaks."""
    ranked: list[tuple[float, int, str]] = []
    for k, part in enumerate((header or "").split(",")):
        tag, _sep, params = part.strip().partition(";")
        weight = 1.0
        if params.strip().startswith("q="):
            try:
                weight = float(params.strip()[2:])
            except ValueError:
                weight = 0.0
        chosen = _normalise(tag)
        if chosen is not None and weight > 0:
            ranked.append((-weight, k, chosen))
    return min(ranked)[2] if ranked else "en"


def compile_catalogs(source: Path = LOCALE_DIR, target: Path | None = None) -> list[Path]:
    """Compile every ``LANG/LC_MESSAGES/citykg.po`` under ``source`` into a ``.mo`` beside it (or under ``target``)."""
    from babel.messages.mofile import write_mo
    from babel.messages.pofile import read_po

    written = []
    for po in sorted(source.glob(f"*/LC_MESSAGES/{DOMAIN}.po")):
        mo = (target / po.relative_to(source) if target else po).with_suffix(".mo")
        mo.parent.mkdir(parents=True, exist_ok=True)
        with po.open("rb") as stream:
            catalog = read_po(stream)
        with mo.open("wb") as out:
            write_mo(out, catalog)
        written.append(mo)
    return written


@cache
def translations(lang: str) -> gettext.NullTranslations:
    """The catalog of ``lang`` (English: none, the code's text)."""
    if lang == "en":
        return gettext.NullTranslations()
    po = LOCALE_DIR / lang / "LC_MESSAGES" / f"{DOMAIN}.po"
    mo = po.with_suffix(".mo")
    if mo.exists() and (not po.exists() or mo.stat().st_mtime >= po.stat().st_mtime):
        with mo.open("rb") as stream:
            return gettext.GNUTranslations(stream)
    from babel.messages.mofile import write_mo
    from babel.messages.pofile import read_po

    with po.open("rb") as stream:
        catalog = read_po(stream)
    compiled = io.BytesIO()
    write_mo(compiled, catalog)
    compiled.seek(0)
    return gettext.GNUTranslations(compiled)


def current_language() -> str:
    """The language of this process or request."""
    return _current.get()


def use_language(lang: str) -> None:
    """Speak ``lang`` from now on (in this context: the process, or the request being served)."""
    _current.set(lang if lang in LANGUAGES else "en")


@contextmanager
def language(lang: str) -> Iterator[None]:
    """Speak ``lang`` inside the ``with`` block."""
    token = _current.set(lang if lang in LANGUAGES else "en")
    try:
        yield
    finally:
        _current.reset(token)


def _(message: str) -> str:
    """``message`` in the current language (the English text when there is no translation)."""
    return translations(_current.get()).gettext(message)


def ngettext(singular: str, plural: str, n: int) -> str:
    """The singular or plural of a message for ``n``, in the current language."""
    return translations(_current.get()).ngettext(singular, plural, n)


def N_(message: str) -> str:
    """Mark ``message`` for translation where it is shown, not here (constant tables)."""
    return message


if __name__ == "__main__":
    for path in compile_catalogs():
        sys.stdout.write(f"compiled {path}\n")
