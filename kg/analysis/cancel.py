"""Stopping long analysis early: a token the work checks at safe points, raising :class:`Cancelled`.

Python threads cannot be killed, so work that may run long stops itself: each
function that can take seconds (Monte Carlo, criticality, a large cascade, the
traces and single points of failure) takes ``cancel: CancelToken | None``
keyword-only (``None``: never cancelled) and calls :meth:`CancelToken.check`
between units of work that leave nothing half-done (a sample, one propagation,
a few thousand loop steps). A check costs a clock read; the units are chosen so
that the checks cost well under 1% of the work and a cancelled call returns
within a fraction of a second.

A token is cancelled by its deadline passing (a request's time limit) or by
:meth:`CancelToken.cancel` from any thread (the caller gave up). The analysis
stays pure: the token is an argument like any other, read-only to the work.

Examples
--------
>>> token = CancelToken()
>>> token.check()  # not cancelled: returns
>>> token.cancel("the client went away")
>>> token.check()
Traceback (most recent call last):
...
kg.analysis.cancel.Cancelled: the client went away
>>> CancelToken.after(0).cancelled
True
"""

from __future__ import annotations

import math
import time

from kg.errors import KGError

__all__ = ["CHECK_EVERY", "CancelToken", "Cancelled", "check"]

CHECK_EVERY = 4096
"""Loops over single assets check their token once per this many (a few milliseconds of work)."""


class Cancelled(KGError):
    """The work was stopped before it finished: its deadline passed or its caller cancelled it."""


class CancelToken:
    """Tells long-running analysis to stop; cheap to check, safe to cancel from another thread.

    Parameters
    ----------
    deadline : float, optional
        A :func:`time.monotonic` time after which the token counts as cancelled.
    reason : str
        The message of the :class:`Cancelled` raised once the deadline has passed.
    """

    __slots__ = ("_deadline", "_reason")

    def __init__(self, *, deadline: float | None = None, reason: str = "the time limit passed") -> None:
        # One float to compare per check: the deadline, or -inf once cancelled by hand.
        self._deadline = math.inf if deadline is None else float(deadline)
        self._reason = reason

    @classmethod
    def after(cls, seconds: float, *, reason: str = "the time limit passed") -> CancelToken:
        """A token cancelled ``seconds`` from now."""
        return cls(deadline=time.monotonic() + seconds, reason=reason)

    @property
    def deadline(self) -> float:
        """The :func:`time.monotonic` time the token expires (``-inf`` once cancelled, ``inf``: never)."""
        return self._deadline

    @property
    def cancelled(self) -> bool:
        """True once cancelled or past the deadline."""
        return time.monotonic() >= self._deadline

    def cancel(self, reason: str = "cancelled") -> None:
        """Cancel now; the work stops at its next check, raising :class:`Cancelled` with ``reason``."""
        self._reason = reason
        self._deadline = -math.inf  # a plain store: atomic for the checking thread

    def check(self) -> None:
        """Raise :class:`Cancelled` if the token is cancelled or past its deadline; else return at once."""
        if time.monotonic() >= self._deadline:
            raise Cancelled(self._reason)


def check(cancel: CancelToken | None) -> None:
    """``cancel.check()``, or nothing when there is no token."""
    if cancel is not None:
        cancel.check()
