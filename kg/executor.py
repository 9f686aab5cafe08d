"""One executor for batch work: in-process by default, a Dask distributed cluster when asked.

Monte Carlo samples, criticality, robustness samples and plan evaluations are
many independent units of work over one immutable
:class:`~kg.snapshot.GraphSnapshot`. Each analysis cuts its units into
*chunks* and hands them to :meth:`Executor.map` with a module-level function
``func(shared, chunk, cancel)``; the executor runs ``func`` on every chunk and
returns the results in chunk order. The analysis then reduces them exactly
(integer sums, per-unit arrays put back in place), so a result never depends
on where the chunks ran, how many workers there were or how the units were
cut: every random unit draws from a seed derived from (seed, unit index).

* :class:`InProcess` runs the chunks one after the other in this thread, with
  the caller's cancel token (checked inside the work, as everywhere).
* :class:`DaskExecutor` submits them to a Dask distributed scheduler
  (``tcp://HOST:PORT``). The shared snapshot is shipped once per worker and
  kept there while this process holds it (a broadcast scatter), so a thousand
  chunks do not send it a thousand times, and what a worker derives from it
  (the prepared network, say) is derived once. Cancelling stops waiting and
  cancels every chunk not yet finished; a worker that dies mid-chunk has its
  chunks run again elsewhere by the scheduler; chunks that kill their workers
  again and again, or a scheduler gone, raise :class:`ClusterError`.

:func:`connect` picks one from an address (``--cluster`` / ``KG_CLUSTER``).

Examples
--------
>>> ex = InProcess()
>>> ex.chunks(5)
[range(0, 1), range(1, 2), range(2, 3), range(3, 5)]
>>> ex.map(lambda shared, chunk, cancel: sum(shared[i] for i in chunk), ex.chunks(5), shared=[1, 2, 3, 4, 5])
[1, 2, 3, 9]
>>> [list(r) for r in split(7, 3)]
[[0, 1], [2, 3], [4, 5, 6]]
"""

from __future__ import annotations

import itertools
import queue
import threading
import weakref
from abc import ABC, abstractmethod
from collections.abc import Callable, Sequence
from typing import Any, TypeVar

from kg.analysis.cancel import CancelToken, check
from kg.errors import KGError

__all__ = ["ClusterError", "DaskExecutor", "Executor", "InProcess", "Lazy", "Progress", "check_address", "connect",
           "split"]

S = TypeVar("S")
C = TypeVar("C")
R = TypeVar("R")

Progress = Callable[[int, int], None]
"""Called with (chunks done, chunks in all) after every chunk, and once with (0, total) before the first."""

POLL_S = 0.1
"""How often a :class:`DaskExecutor` waiting on its chunks looks at the cancel token."""


class ClusterError(KGError):
    """The Dask cluster cannot be reached, or lost the work; the message says which and what to do."""


def split(n: int, parts: int) -> list[range]:
    """``range(n)`` cut into ``min(n, parts)`` consecutive ranges whose sizes differ by at most one.

    >>> split(0, 4), split(3, 8)
    ([], [range(0, 1), range(1, 2), range(2, 3)])
    """
    parts = max(1, min(n, parts))
    bounds = [n * k // parts for k in range(parts + 1)] if n else [0]
    return [range(a, b) for a, b in itertools.pairwise(bounds)]


class Executor(ABC):
    """Runs ``func(shared, chunk, cancel)`` on each chunk; see the module docs."""

    slots: int = 1
    """Chunks that run at the same time (worker threads of the cluster; 1 in-process)."""

    def chunks(self, n: int, *, per_slot: int = 4, min_size: int = 1) -> list[range]:
        """``range(n)`` cut for this executor: ``per_slot`` chunks per slot (load balance), none under ``min_size``."""
        return split(n, min(self.slots * per_slot, max(1, n // max(1, min_size))))

    @abstractmethod
    def map(self, func: Callable[[S, C, CancelToken | None], R], chunks: Sequence[C], *, shared: S,
            progress: Progress | None = None, cancel: CancelToken | None = None) -> list[R]:
        """``[func(shared, c, cancel) for c in chunks]``, wherever it runs.

        Parameters
        ----------
        func : callable
            A module-level function (workers import it by name); ``cancel`` is the caller's token
            in-process and ``None`` on a cluster (the executor cancels the chunks there).
        chunks : sequence
            Small, picklable descriptions of the work (ranges, parameters).
        shared : object
            What every chunk reads (the snapshot): shipped once per worker.
        progress : callable, optional
            ``progress(done, total)`` as chunks finish.
        cancel : CancelToken, optional
            Stops the work: :class:`~kg.analysis.cancel.Cancelled` is raised and no result returned.

        Raises
        ------
        Cancelled
            When ``cancel`` is cancelled before the last chunk finished.
        ClusterError
            When the cluster cannot run the chunks (see :class:`DaskExecutor`).
        """

    def close(self) -> None:  # noqa: B027 - most executors hold nothing
        """Let go of what the executor holds (a cluster connection); a no-op in-process."""

    def __enter__(self) -> Executor:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


class InProcess(Executor):
    """The chunks one after the other, here; the default."""

    def map(self, func: Callable[[S, C, CancelToken | None], R], chunks: Sequence[C], *, shared: S,
            progress: Progress | None = None, cancel: CancelToken | None = None) -> list[R]:
        out = []
        if progress is not None:
            progress(0, len(chunks))
        for k, chunk in enumerate(chunks, 1):
            check(cancel)
            out.append(func(shared, chunk, cancel))
            if progress is not None:
                progress(k, len(chunks))
        return out

    def __repr__(self) -> str:
        return "InProcess()"


class DaskExecutor(Executor):
    """Chunks on a Dask distributed cluster: ``DaskExecutor("tcp://127.0.0.1:8786")``.

    The workers must be able to import ``kg`` (the same CityKG version: ``scripts/dask`` starts them from
    the project's virtualenv). One executor may serve several threads (the API's requests).

    Raises
    ------
    ClusterError
        When no scheduler answers at ``address`` within ``timeout`` seconds, or it has no worker.
    """

    def __init__(self, address: str, *, timeout: float = 10.0) -> None:
        try:
            from distributed import Client
        except ImportError as exc:  # pragma: no cover - a dependency of the package
            raise ClusterError(f"--cluster needs the Python package distributed ({exc})") from None
        self.address = address
        self._timeout = timeout
        try:
            self._client = Client(address, timeout=timeout, set_as_default=False)
        except (OSError, TimeoutError, ValueError) as exc:
            raise ClusterError(f"cannot reach the Dask scheduler at {address} ({exc}); start one with "
                               "`scripts/dask start` or check --cluster / KG_CLUSTER") from None
        self._lock = threading.Lock()
        # id(shared object) -> (weak reference to it, its scattered future on the workers)
        self._shipped: dict[int, tuple[weakref.ref[Any] | Callable[[], Any], Any]] = {}

    @property
    def slots(self) -> int:  # type: ignore[override]
        """Worker threads of the cluster now (at least 1)."""
        return max(1, int(sum(self._client.nthreads().values())))

    def workers(self) -> int:
        """Workers connected to the scheduler now."""
        return len(self._client.scheduler_info(n_workers=-1)["workers"])

    def _ship(self, shared: Any) -> Any:
        """The future of ``shared`` on every worker, scattering it the first time (per live object) and
        again when the cluster lost every copy (all workers restarted)."""
        with self._lock:
            for key in [k for k, (ref, _) in self._shipped.items() if ref() is None]:
                del self._shipped[key]  # the object is gone: its future goes, and the workers drop their copy
            held = self._shipped.get(id(shared))
            if held is not None and held[0]() is shared and held[1].status == "finished":
                return held[1]
            try:  # workers that are restarting get a moment to come back
                self._client.wait_for_workers(1, timeout=self._timeout)
            except TimeoutError:
                raise ClusterError(f"the Dask scheduler at {self.address} has no worker; start some with "
                                   "`scripts/dask start --workers N` or `dask worker ADDRESS`") from None
            future = self._client.scatter(shared, broadcast=True, hash=False)
            try:
                ref: weakref.ref[Any] | Callable[[], Any] = weakref.ref(shared)
            except TypeError:  # not weakly referable (a list): keep it while the executor lives
                ref = (lambda obj: lambda: obj)(shared)
            self._shipped[id(shared)] = (ref, future)
            return future

    def map(self, func: Callable[[S, C, CancelToken | None], R], chunks: Sequence[C], *, shared: S,
            progress: Progress | None = None, cancel: CancelToken | None = None) -> list[R]:
        from distributed.client import FutureCancelledError
        from distributed.scheduler import KilledWorker

        try:
            try:
                return self._run(func, chunks, shared, progress, cancel)
            except FutureCancelledError:
                # Every copy of the shared data went with its workers (they all died or restarted): the
                # chunks cannot run. Ship it again and run them once more; they are pure, so a rerun is safe.
                return self._run(func, chunks, shared, progress, cancel)
        except KilledWorker as exc:
            raise ClusterError(f"Dask workers died again and again running {func.__name__} ({exc}); nothing "
                               "was returned: check the workers' memory and logs") from None
        except FutureCancelledError as exc:
            raise ClusterError(f"the Dask cluster at {self.address} dropped the work of {func.__name__} twice "
                               f"({exc}); nothing was returned: check the workers' logs") from None
        except (OSError, TimeoutError) as exc:
            raise ClusterError(f"lost the Dask scheduler at {self.address} ({exc}); nothing was returned") from None

    def _run(self, func: Callable[[S, C, CancelToken | None], R], chunks: Sequence[C], shared: S,
             progress: Progress | None, cancel: CancelToken | None) -> list[R]:
        check(cancel)
        data = self._ship(shared)
        finished: queue.SimpleQueue[Any] = queue.SimpleQueue()
        futures = [self._client.submit(func, data, chunk, None, pure=False) for chunk in chunks]
        for f in futures:
            f.add_done_callback(finished.put)
        total, done = len(futures), 0
        try:
            if progress is not None:
                progress(0, total)
            while done < total:
                check(cancel)
                try:
                    f = finished.get(timeout=POLL_S)
                except queue.Empty:
                    continue
                done += 1
                if f.status != "finished":
                    break  # result() below raises its error
                if progress is not None:
                    progress(done, total)
            return [f.result() for f in futures]
        finally:
            if done < total:
                self._client.cancel([f for f in futures if not f.done()])

    def close(self) -> None:
        with self._lock:
            self._shipped.clear()
        self._client.close()

    def __repr__(self) -> str:
        return f"DaskExecutor({self.address!r})"


class Lazy(Executor):
    """:func:`connect` at the first use, then the same executor for every call (a server's).

    A scheduler that cannot be reached raises :class:`ClusterError` for that call only; the next call
    tries again, so a server starts (and answers everything else) before its cluster does.
    """

    def __init__(self, address: str | None, *, timeout: float = 10.0) -> None:
        self.address = check_address(address)
        self._timeout = timeout
        self._executor: Executor | None = None
        self._lock = threading.Lock()

    def get(self) -> Executor:
        """The executor, connecting the first time."""
        with self._lock:
            if self._executor is None:
                self._executor = connect(self.address, timeout=self._timeout)
            return self._executor

    @property
    def slots(self) -> int:  # type: ignore[override]
        return self.get().slots

    def chunks(self, n: int, *, per_slot: int = 4, min_size: int = 1) -> list[range]:
        return self.get().chunks(n, per_slot=per_slot, min_size=min_size)

    def map(self, func: Callable[[S, C, CancelToken | None], R], chunks: Sequence[C], *, shared: S,
            progress: Progress | None = None, cancel: CancelToken | None = None) -> list[R]:
        return self.get().map(func, chunks, shared=shared, progress=progress, cancel=cancel)

    def close(self) -> None:
        with self._lock:
            if self._executor is not None:
                self._executor.close()
                self._executor = None

    def __repr__(self) -> str:
        return f"Lazy({self.address!r})"


def check_address(address: str | None) -> str | None:
    """``address`` if it is a Dask scheduler address ``tcp://HOST:PORT`` (or ``tls://``), ``None`` if empty.

    Raises
    ------
    ClusterError
        For anything else, quoting it.

    >>> check_address("tcp://127.0.0.1:8786"), check_address("")
    ('tcp://127.0.0.1:8786', None)
    """
    if not address:
        return None
    scheme, sep, rest = address.partition("://")
    host, colon, port = rest.rpartition(":")
    if not sep or scheme not in ("tcp", "tls") or not colon or not host or not port.isdigit() or \
            not 0 < int(port) < 65536:
        raise ClusterError(f"expected a Dask scheduler address tcp://HOST:PORT, got {address!r}")
    return address


def connect(address: str | None, *, timeout: float = 10.0) -> Executor:
    """:class:`DaskExecutor` at ``address``, or :class:`InProcess` when it is empty or ``None``.

    Raises
    ------
    ClusterError
        For an address that is not ``tcp://HOST:PORT`` (or ``tls://``), or no scheduler there.

    >>> connect(None)
    InProcess()
    >>> connect("localhost:8786")
    Traceback (most recent call last):
    ...
    kg.executor.ClusterError: expected a Dask scheduler address tcp://HOST:PORT, got 'localhost:8786'
    """
    checked = check_address(address)
    return InProcess() if checked is None else DaskExecutor(checked, timeout=timeout)

