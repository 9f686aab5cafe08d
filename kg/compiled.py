"""Numba compilation for the compiled kernels, with its disk cache where one may be written."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar, cast

import numba

__all__ = ["compiled"]

F = TypeVar("F", bound=Callable[..., Any])


def compiled(function: F) -> F:
    """``function`` compiled to machine code by Numba, with its signature for the type checker.

    Cached on disk where Numba finds a place it may write (beside the module, or ``NUMBA_CACHE_DIR``); a
    user who may write neither (an install owned by another user) compiles on first use instead: Numba
    refuses a cached function without a cache location, which would stop every command that imports this.
    """
    try:
        return cast(F, numba.njit(cache=True, nogil=True)(function))
    except RuntimeError:  # "cannot cache function ...: no locator available"
        return cast(F, numba.njit(nogil=True)(function))
