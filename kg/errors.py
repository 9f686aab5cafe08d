"""The one exception root of CityKG and its meaningful subclasses.

Every error a user can cause carries a message that names *where* (file:line,
JSON path, request field) and *what was expected*; the CLI prints it without a
traceback and the API renders it as a problem+json body.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass

__all__ = [
    "CypherRefused",
    "ElementNotFound",
    "KGError",
    "LoadTimeout",
    "Problem",
    "ResultTooLarge",
    "StoreUnavailable",
    "UnsupportedOperation",
    "ValidationError",
    "visible",
]

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
    """Root of every error CityKG raises on purpose."""


@dataclass(frozen=True, slots=True)
class Problem:
    """One thing wrong with the input, and where it is.

    Both are kept :func:`visible`: they quote what the input holds (an IRI, a
    value), and what a message prints must not be able to drive a terminal.
    """

    where: str
    message: str

    def __post_init__(self) -> None:
        object.__setattr__(self, "where", visible(self.where))
        object.__setattr__(self, "message", visible(self.message))

    def __str__(self) -> str:
        return f"{self.where}: {self.message}" if self.where else self.message


class ValidationError(KGError):
    """Input data is invalid; ``problems`` lists each problem with its location."""

    def __init__(self, problems: Sequence[Problem], *, truncated: bool = False) -> None:
        self.problems = list(problems)
        self.truncated = truncated
        lines = [str(p) for p in self.problems]
        if truncated:
            lines.append("... more problems not shown (fix these first)")
        super().__init__("\n".join(lines))


class LoadTimeout(KGError):
    """Validating a load took longer than its time limit; nothing was written."""

    def __init__(self, seconds: float, where: str = "") -> None:
        self.seconds = seconds
        self.where = where
        at = f" (reading {where})" if where else ""
        super().__init__(f"validation did not finish within the time limit of {seconds:g} s{at}; nothing was "
                         "written: give the data in smaller parts, or raise the limit")


class ElementNotFound(KGError, LookupError):
    """No element with the given id exists in the store."""

    def __init__(self, element_id: str, hint: str = "") -> None:
        self.element_id = element_id
        message = f"no element with id {element_id!r}"
        super().__init__(f"{message}; {hint}" if hint else message)


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

    def __init__(self, message: str, *, reason: str = "unreachable") -> None:
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
