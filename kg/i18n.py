"""Chinese and English for what people read from ``kg`` and the API: gettext catalogs, made with Babel.

Messages are written in English in the code, wrapped in :func:`_` (translated
where they are made), marked with :func:`N_` (translated where they are
shown, for tables of constants), or made lazily with :func:`_l` and
:func:`lazy_ngettext`: a :class:`Message` keeps the English text and the data
it quotes, and is said in the reader's language each time it is turned into a
string. Errors are made that way (deep in the loaders, before anyone knows who
reads them); the CLI's error printer and the API's problem handler turn them
into text in the language of the process or of the request, and the server's
log keeps them in English. Placeholders are named (``{failed}``), so a
translation may put them in its own order; data (ids, file names, line
numbers, values) only ever fills placeholders and is never translated. The catalogs:

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
>>> missing = _l("no {what} with id {id}", what=_l("asset"), id=repr("s-1"))
>>> with language("zh"):
...     str(missing)
"没有编号为 's-1' 的资产"
>>> str(missing), missing.english()
("no asset with id 's-1'", "no asset with id 's-1'")
>>> choose_language(None, {"LANG": "zh_CN.UTF-8"}), choose_language("en", {"KG_LANG": "zh"})
('zh', 'en')
"""

from __future__ import annotations

import gettext
import io
import os
import sys
from collections.abc import Iterable, Iterator, Mapping
from contextlib import contextmanager
from contextvars import ContextVar
from functools import cache
from pathlib import Path

__all__ = [
    "DOMAIN",
    "LANGUAGES",
    "N_",
    "Localized",
    "Message",
    "_",
    "_l",
    "choose_language",
    "compile_catalogs",
    "current_language",
    "join",
    "language",
    "lazy_ngettext",
    "ngettext",
    "translations",
    "use_language",
]

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


class Message:
    """Text said in the reader's language each time it is shown: an English template and the data it quotes.

    ``str(message)`` (or formatting it into another message) translates the
    template for the current language (:func:`current_language`) and fills in
    the data; data that is itself a :class:`Message` is said in the same
    language. Made by :func:`_l` and :func:`lazy_ngettext`; compares equal to a
    message of the same template and data.
    """

    __slots__ = ("_n", "_params", "_plural", "_template")

    def __init__(self, template: str, plural: str | None = None, n: int = 1,
                 params: Mapping[str, object] | None = None) -> None:
        self._template = template
        self._plural = plural
        self._n = n
        self._params = dict(params or {})

    def render(self, lang: str | None = None) -> str:
        """This message in ``lang`` (default: the current language)."""
        if lang is not None:
            with language(lang):
                return self.render()
        if not self._template:  # gettext("") is the catalog's header
            return ""
        catalog = translations(_current.get())
        text = (catalog.gettext(self._template) if self._plural is None
                else catalog.ngettext(self._template, self._plural, self._n))
        return text.format(**self._params) if self._params else text

    def english(self) -> str:
        """This message in English (the code's text), whatever the current language: for logs."""
        return self.render("en")

    def __str__(self) -> str:
        return self.render()

    def __format__(self, spec: str) -> str:
        return format(self.render(), spec)

    def __repr__(self) -> str:
        return f"Message({self.english()!r})"

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Message):
            return NotImplemented
        return (self._template, self._plural, self._n, self._params) == (
            other._template, other._plural, other._n, other._params)

    def __hash__(self) -> int:
        return hash((self._template, self._plural, self._n))

    def __reduce__(self) -> tuple[object, ...]:
        return (Message, (self._template, self._plural, self._n, self._params))


def _l(template: str, /, **params: object) -> Message:
    """``template`` with ``params`` filled in, said in the reader's language when shown (see :class:`Message`)."""
    return Message(template, params=params)


def lazy_ngettext(singular: str, plural: str, count: int, /, **params: object) -> Message:
    """The singular or plural of a message for ``count``, said in the reader's language when shown."""
    return Message(singular, plural, count, params)


class Localized:
    """One value in each language (``{"en": "district", "zh": "区县"}``), said in the current one when shown.

    For names that come from the ontology's labels rather than the catalog; a
    language without an entry gets the English.
    """

    __slots__ = ("_texts",)

    def __init__(self, texts: Mapping[str, str]) -> None:
        self._texts = dict(texts)

    def __str__(self) -> str:
        return self._texts.get(_current.get()) or self._texts.get("en", "")

    def __format__(self, spec: str) -> str:
        return format(str(self), spec)

    def __repr__(self) -> str:
        return f"Localized({self._texts!r})"

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Localized) and self._texts == other._texts

    def __hash__(self) -> int:
        return hash(tuple(sorted(self._texts.items())))


class _Joined(Message):
    """Parts (text or messages) joined by a separator, each said in the reader's language when shown."""

    __slots__ = ()

    def render(self, lang: str | None = None) -> str:
        if lang is not None:
            with language(lang):
                return self.render()
        parts = self._params["parts"]
        assert isinstance(parts, tuple)
        return self._template.join(str(p) for p in parts)

    def __reduce__(self) -> tuple[object, ...]:
        return (_Joined, (self._template, None, 1, self._params))


def join(parts: Iterable[object], separator: str = "\n") -> Message:
    """``parts`` (text or messages) joined by ``separator`` (said as is), each part said when shown."""
    return _Joined(separator, params={"parts": tuple(parts)})


if __name__ == "__main__":
    for path in compile_catalogs():
        sys.stdout.write(f"compiled {path}\n")
