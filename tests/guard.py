"""Run a test's work in a spawned worker process with a wall-clock limit: a hang detector.

A parser that loops for minutes cannot be interrupted from Python (a regular
expression runs in C without looking at signals), so work that might hang runs
in a separate process; past the limit the process is killed and the test fails
naming the case, and the next case gets a fresh worker. Functions handed to
:meth:`Guard.call` must be importable module-level functions.
"""

from __future__ import annotations

import multiprocessing
import time
from collections.abc import Callable, Iterator
from multiprocessing.pool import Pool
from typing import Any

import pytest

__all__ = ["Guard", "guard"]


class Guard:
    """One worker process, replaced whenever a call overruns."""

    def __init__(self) -> None:
        self._pool: Pool | None = None

    def _worker(self) -> Pool:
        if self._pool is None:
            self._pool = multiprocessing.get_context("spawn").Pool(1)
        return self._pool

    def call(self, seconds: float, func: Callable[..., Any], *args: Any) -> Any:
        """``func(*args)`` in the worker; fail the test when it takes longer than ``seconds`` of wall-clock time.

        The limit counts from the start of the call in the worker (the worker's start-up is not counted).
        """
        started = self._worker().apply_async(_timed, (func, *args))
        kill_after = max(10.0, 5 * seconds)  # far beyond the limit: only a real hang gets killed
        try:
            elapsed, result = started.get(timeout=kill_after)
        except multiprocessing.TimeoutError:
            self.close()
            pytest.fail(f"{func.__name__}{args!r} did not finish within {kill_after:.0f} s (killed)")
        assert elapsed <= seconds, f"{func.__name__}{args!r} took {elapsed:.2f} s; expected at most {seconds} s"
        return result

    def close(self) -> None:
        if self._pool is not None:
            self._pool.terminate()
            self._pool.join()
            self._pool = None


def _timed(func: Callable[..., Any], *args: Any) -> tuple[float, Any]:
    start = time.perf_counter()
    result = func(*args)
    return time.perf_counter() - start, result


@pytest.fixture(scope="module")
def guard() -> Iterator[Guard]:
    """A worker for the module's guarded calls."""
    worker = Guard()
    yield worker
    worker.close()
