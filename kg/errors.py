"""The one exception root of CityKG and its meaningful subclasses.

Every error a user can cause carries a message that names *where* (file:line,
JSON path, request field) and *what was expected*; the CLI prints it without a
traceback and the API renders it as a problem+json body.

Messages are :class:`kg.i18n.Message` values (made with ``_l``): an error made
deep in a loader does not know who will read it, so it keeps the English text
and the data it quotes, and ``str(error)`` says it in the language of whoever
shows it (the CLI's ``--lang``, the request's ``Accept-Language``). Plain
strings are accepted too and shown as they are.
"""

from __future__ import annotations

import difflib
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass

from kg.i18n import N_, Message, _l, join

__all__ = [
    "CypherRefused",
    "EditRejected",
    "ElementNotFound",
    "FieldPath",
    "KGError",
    "LoadTimeout",
    "Problem",
    "ResultTooLarge",
    "StoreUnavailable",
    "UnsupportedOperation",
    "ValidationError",
    "closest_id",
    "not_found",
    "visible",
]

FieldPath = tuple[str | int, ...]
"""Where in a request an error is: names and list positions, outermost first (``("fail", 2, "id")``).

Each face renders it in its own words: the REST API as the JSON path of its body
(``fail[2].id``), the CLI as the option that gave the value (``--fail``)."""

_HIDDEN = frozenset({"Cc", "Cf", "Cs", "Zl", "Zp"})
"""Unicode categories a message shows escaped: controls, invisible formatting (bidi overrides), separators."""


def visible(text: str) -> str:
    """``text`` with control, format and line-separator characters escaped (``\\u001b``), safe for a terminal.

    >>> print(visible("a\\x1b[31mb\\u202ec"))
    a\\u001b[31mb\\u202ec
    """
    if text.isprintable():
        return text
    return "".join((f"\\u{ord(c):04x}" if ord(c) <= 0xFFFF else f"\\U{ord(c):08x}")
                   if unicodedata.category(c) in _HIDDEN else c for c in text)


class KGError(Exception):
    """Root of every error CityKG raises on purpose.

    Parameters
    ----------
    *args
        The message (as for :class:`Exception`).
    field : FieldPath, optional
        The input field the error is about, when one is (``("horizon",)``,
        ``("fail", 2, "id")``); ``None`` when the error concerns no single field.
    """

    field: FieldPath | None = None

    def __init__(self, *args: object, field: FieldPath | None = None) -> None:
        super().__init__(*args)
        self.field = field


def closest_id(value: str, choices: Sequence[str]) -> Message | str:
    """A ``did you mean 'X'?`` hint for a mistyped id among ``choices``, or an empty string.

    Stays fast on a million ids: after an exact match ignoring case, it compares
    ``value`` with look-alike candidates only (about its length, sharing its
    first ``-``-separated part).

    >>> str(closest_id("s-0001", ["S-0001", "h-0002"]))
    "did you mean 'S-0001'?"
    >>> str(closest_id("flood-zy", ["flood-yz", "heat-1"]))
    "did you mean 'flood-yz'?"
    >>> closest_id("zzz", ["flood-yz"])
    ''
    """
    lower = value.lower()
    exact = [c for c in choices if c.lower() == lower]
    if exact:
        return _l("did you mean {id}?", id=repr(exact[0]))
    head = value.split("-", 1)[0].lower()
    pool = [c for c in choices if abs(len(c) - len(value)) <= 2 and c.lower().startswith(head)][:50_000]
    close = difflib.get_close_matches(value, pool or list(choices[:50_000]), n=1, cutoff=0.6)
    return _l("did you mean {id}?", id=repr(close[0])) if close else ""


@dataclass(frozen=True, slots=True)
class Problem:
    """One thing wrong with the input, and where it is.

    ``text`` is what is wrong (a :class:`~kg.i18n.Message`, said in the reader's
    language, or plain text); :attr:`message` is it as a string, now. Both
    ``where`` and the message are kept :func:`visible`: they quote what the
    input holds (an IRI, a value), and what a message prints must not be able to
    drive a terminal.
    """

    where: str
    text: str | Message

    def __post_init__(self) -> None:
        object.__setattr__(self, "where", visible(self.where))
        if not isinstance(self.text, Message):
            object.__setattr__(self, "text", visible(self.text))

    @property
    def message(self) -> str:
        """What is wrong, in the current language."""
        return visible(str(self.text))

    def __str__(self) -> str:
        return f"{self.where}: {self.message}" if self.where else self.message


_MORE_PROBLEMS = N_("... more problems not shown (fix these first)")


class ValidationError(KGError):
    """Input data is invalid; ``problems`` lists each problem with its location."""

    def __init__(self, problems: Sequence[Problem], *, truncated: bool = False,
                 field: FieldPath | None = None) -> None:
        self.problems = list(problems)
        self.truncated = truncated
        lines: list[object] = list(self.problems)
        if truncated:
            lines.append(_l(_MORE_PROBLEMS))
        super().__init__(join(lines), field=field)


class LoadTimeout(KGError):
    """Validating a load took longer than its time limit; nothing was written."""

    def __init__(self, seconds: float, where: str = "") -> None:
        self.seconds = seconds
        self.where = where
        if where:
            message = _l("validation did not finish within the time limit of {seconds} s (reading {where}); nothing "
                         "was written: give the data in smaller parts, or raise the limit", seconds=f"{seconds:g}",
                         where=where)
        else:
            message = _l("validation did not finish within the time limit of {seconds} s; nothing was written: give "
                         "the data in smaller parts, or raise the limit", seconds=f"{seconds:g}")
        super().__init__(message)


class ElementNotFound(KGError, LookupError):
    """No element with the given id exists in the store.

    Parameters
    ----------
    element_id : str
        The id asked for.
    hint : str
        Said after the message (``did you mean 'X'?``); empty: nothing.
    what : str
        The kind of element that was expected (``asset``, ``hazard zone``).
    field : FieldPath, optional
        The input field that held the id.
    """

    def __init__(self, element_id: str, hint: str | Message = "", *, what: str = "element",
                 field: FieldPath | None = None) -> None:
        self.element_id = element_id
        self._hint = hint
        self.what = what
        super().__init__(not_found(element_id, what, hint), field=field)

    @property
    def hint(self) -> str:
        """What was said after the message (``did you mean 'X'?``), in the current language; empty: nothing."""
        return str(self._hint)


WHATS = {"element": N_("element"), "asset": N_("asset"), "hazard zone": N_("hazard zone"), "region": N_("region"),
         "agency": N_("agency"), "dependency group": N_("dependency group"), "dependency": N_("dependency")}
"""The kinds of element an id may name, for :class:`ElementNotFound` messages (translated where shown)."""


def not_found(element_id: str, what: str, hint: str | Message = "") -> Message:
    """``no asset with id 'x'; did you mean 'X'?`` as a message (``what`` said in the reader's language)."""
    name = _l(WHATS[what]) if what in WHATS else what
    message = _l("no {what} with id {id}", what=name, id=repr(element_id))
    return _l("{message}; {hint}", message=message, hint=hint) if hint else message


class StoreUnavailable(KGError):
    """The store cannot be used: a malformed URL, a server that does not answer, a damaged file, ...

    ``reason`` says which, in one word a program can act on (the API maps it to
    a status and a public message; the message itself may name hosts and paths):

    ``misconfigured``
        the URL, the credentials or a setting is wrong;
    ``unreachable``
        the server does not answer, or the file cannot be opened;
    ``missing``
        no store exists at that URL (reading never creates one);
    ``corrupt``
        the file is damaged, or is not a CityKG store;
    ``read-only``
        a write was asked of a store that can only be read;
    ``full``
        the disk (or the database's size limit) is full; nothing was written;
    ``busy``
        another writer held the store longer than the wait allows.
    """

    def __init__(self, message: str | Message, *, reason: str = "unreachable") -> None:
        super().__init__(message)
        self.reason = reason


class UnsupportedOperation(KGError):
    """The operation does not exist for this store (e.g. Cypher on SQLite)."""


class CypherRefused(KGError):
    """A planner's Cypher statement would write, change schema or administer the server."""


class ResultTooLarge(KGError):
    """A result (or the work towards it) would exceed what the caller allows: ``size`` found, ``limit``
    allowed by the keyword argument named ``parameter``."""

    def __init__(self, message: str, *, size: int, limit: int, parameter: str) -> None:
        super().__init__(message)
        self.size = size
        self.limit = limit
        self.parameter = parameter


class EditRejected(ValidationError):
    """What-if edits that do not fit the graph; ``reasons[i]`` says why ``problems[i]`` is wrong.

    A reason is ``"not_found"`` (an asset, a dependency group or a dependency the edit
    names does not exist), ``"exists"`` (the dependency to add is already there) or
    ``"invalid"`` (anything else, such as an unknown service kind).
    """

    def __init__(self, problems: Sequence[Problem], reasons: Sequence[str], *,
                 field: FieldPath | None = None) -> None:
        super().__init__(problems, field=field)
        self.reasons = list(reasons)
