"""The per-process state of the API: one store, opened once, safe to share between threads.

FastAPI runs blocking work on a thread pool, so one store object serves
concurrent requests. A store that says it is thread-safe (``thread_safe =
True``, e.g. the Neo4j driver's pooled sessions) is used as it is; any other
(the SQLite store shares one connection, whose transactions would interleave)
is wrapped in :class:`SerializedStore`, which runs one call at a time.
Analysis itself runs on the immutable snapshot, outside that lock.

The holder also keeps the store's last :class:`~kg.store.StoreStatus` (read
with each version check), so every answer can say when the store holds a
load that has not finished, and ``/readyz`` can say what is wrong.
"""

from __future__ import annotations

import contextlib
import itertools
import logging
import sys
import threading
import time
from collections.abc import Callable, Collection, Iterable, Iterator, Sequence
from typing import Any, TypeVar

from kg.analysis.cascade import network, network_built
from kg.errors import KGError
from kg.live.events import StatusEvent
from kg.load.plan import ExistingElement, LoadPlan
from kg.snapshot import GraphSnapshot, build_snapshot
from kg.snapshot_delta import Change, catch_up, prepare
from kg.store import Stats, Store, StoreStatus, open_store
from kg.store.base import EventsWritten

__all__ = ["SerializedStore", "StoreHolder"]

T = TypeVar("T")
_ROWS_BATCH = 10_000
FOLLOW_SWITCH_S = 0.0005
"""The interpreter's switch interval while a change is followed (CPython's default is 5 ms)."""
_log = logging.getLogger("citykg.api")


class SerializedStore:
    """A :class:`~kg.store.Store` whose every call holds one lock (for stores that are not thread-safe)."""

    thread_safe = True

    def __init__(self, store: Store) -> None:
        self._store = store
        self._lock = threading.RLock()
        self.url = store.url
        self.created = store.created

    def _locked(self, fn: Callable[..., T], *args: Any, **kwargs: Any) -> T:
        with self._lock:
            return fn(*args, **kwargs)

    def lookup(self, ids: Iterable[str]) -> dict[str, ExistingElement]:
        return self._locked(self._store.lookup, list(ids))

    def write(self, plan: LoadPlan, *, progress: Callable[[int], None] | None = None) -> None:
        self._locked(self._store.write, plan, progress=progress)

    def get(self, element_id: str) -> dict[str, Any]:
        return self._locked(self._store.get, element_id)

    def search(self, **filters: Any) -> list[dict[str, Any]]:
        return self._locked(self._store.search, **filters)

    def rows_of(self, table: str, keys: Collection[str]) -> list[tuple[Any, ...]]:
        return self._locked(self._store.rows_of, table, list(keys))

    def changes_since(self, version: int) -> tuple[int, Change | None]:
        return self._locked(self._store.changes_since, version)

    def rows(self, table: str) -> Iterator[tuple[Any, ...]]:
        # The cursor advances only under the lock, a batch at a time: memory stays flat on a large
        # table (an export streams), and other threads' calls run between batches.
        source = self._store.rows(table)
        while True:
            with self._lock:
                batch = list(itertools.islice(source, _ROWS_BATCH))
            if not batch:
                return
            yield from batch

    def stats(self) -> Stats:
        return self._locked(self._store.stats)

    def clear(self) -> None:
        self._locked(self._store.clear)

    def version(self) -> int:
        return self._locked(self._store.version)

    def status(self) -> StoreStatus:
        return self._locked(self._store.status)

    def verify(self) -> None:
        # Not serialised: the check uses a connection of its own, and may read the whole file.
        self._store.verify()

    def snapshot(self) -> GraphSnapshot:
        return self._locked(self._store.snapshot)

    def add_events(self, events: Sequence[StatusEvent]) -> EventsWritten:
        return self._locked(self._store.add_events, events)

    def events(self, *, until: int | None = None) -> list[StatusEvent]:
        return self._locked(self._store.events, until=until)

    def event_count(self) -> int:
        return self._locked(self._store.event_count)

    def close(self) -> None:
        self._locked(self._store.close)

    def discard(self) -> None:
        self._locked(self._store.discard)

    def __getattr__(self, name: str) -> Any:
        # Store-specific extras (e.g. run_cypher) are serialized too.
        attr = getattr(self._store, name)
        if not callable(attr):
            return attr

        def call(*args: Any, **kwargs: Any) -> Any:
            return self._locked(attr, *args, **kwargs)

        return call


class StoreHolder:
    """Opens the store on first use (so a server starts even while its database is still coming up).

    ``store`` injects an already open store (tests, benchmarks); the holder
    then never closes it. ``load_lock`` lets one load write at a time, so two
    loads never validate against each other's half-written state.

    The holder also keeps the snapshot requests answer from. For
    ``recheck_s`` seconds after a check, requests use it without asking the
    store for its version (a call that needs a worker thread, and on Neo4j a
    round trip). When that time is up, one request checks while the others keep
    using the snapshot (rather than all of them asking the store at once). The
    check reads the store's :class:`~kg.store.StoreStatus` (version and
    unfinished load in one query), kept as :attr:`status`.

    No request waits for a newer snapshot. When a check finds a newer version,
    one background thread brings the snapshot up to date:
    :func:`kg.snapshot_delta.catch_up` reads what the store's change log says
    changed (work in proportion to the rows loaded), or, where the log cannot
    say (a clear, a very large load), a new snapshot is built on a connection
    of its own, while requests keep answering from the old one. A load through
    this process follows itself before it answers (:meth:`after_load`), so the
    next request sees it; a load by another process (``kg load``, another API
    replica) is seen within ``recheck_s`` plus the time to follow it. Only the
    very first snapshot is waited for: there is nothing older to answer from.
    """

    def __init__(self, url: str, store: Store | None = None, *, recheck_s: float = 0.0) -> None:
        self.url = url
        self._owned = store is None
        self._store: Store | None = None if store is None else self._shareable(store)
        self._open_lock = threading.Lock()
        self.load_lock = threading.Lock()
        self.recheck_s = recheck_s
        self._seen_lock = threading.Lock()
        self._first_lock = threading.Lock()  # one first build, however many requests ask at once
        self._seen: tuple[GraphSnapshot, float] | None = None  # (snapshot, when the check that kept it began)
        self._checking = False  # a request is checking the version now
        self._following: threading.Thread | None = None  # the thread bringing the snapshot up to date
        self.status: StoreStatus | None = None
        """The store's status at the last check (None before the first)."""

    @staticmethod
    def _shareable(store: Store) -> Store:
        return store if getattr(store, "thread_safe", False) else SerializedStore(store)

    @property
    def opened(self) -> Store | None:
        """The store if it is open already (no waiting), else None."""
        return self._store

    def get(self, *, create: bool = False) -> Store:
        """The store, opened once; raises :class:`~kg.errors.StoreUnavailable` if it cannot be.

        A store that does not exist is an error, unless ``create`` (a load,
        the one request that may create it).
        """
        store = self._store
        if store is not None:
            return store
        with self._open_lock:
            if self._store is None:
                opened = open_store(self.url, create=create)
                try:
                    self.status = opened.status()  # so that the first answers already say what readers should know
                except BaseException:
                    opened.close()
                    raise
                if opened.created:
                    _log.warning("created new store at %s", getattr(opened, "file", opened.url))
                self._store = self._shareable(opened)
            return self._store

    def readiness(self) -> StoreStatus:
        """Open the store, check it is intact and read its status (blocking; for ``/readyz``).

        Raises :class:`~kg.errors.StoreUnavailable` saying what is wrong.
        """
        store = self.get()
        store.verify()
        self.status = store.status()
        return self.status

    def recent_snapshot(self) -> GraphSnapshot | None:
        """The snapshot to use without asking the store (never waits), or None: then call :meth:`snapshot`.

        That is the snapshot found current less than ``recheck_s`` ago, or, once
        that time is up, the same one while another request checks the version.
        """
        seen = self._seen
        if seen is None or self.recheck_s <= 0:
            return None
        if time.monotonic() - seen[1] < self.recheck_s:
            return seen[0]
        with self._seen_lock:
            if self._checking:
                return seen[0]
            self._checking = True  # this request checks
        return None

    def snapshot(self) -> GraphSnapshot:
        """The snapshot to answer from (blocking: checks the store's version; builds only the first snapshot).

        That is the snapshot of the store's current version or, while a newer
        one is being made in the background, the newest one made so far.
        """
        began = time.monotonic()
        try:
            store = self.get()
            self.status = status = store.status()
            seen = self._seen
            if seen is None:
                snap = self._first(store)
            else:
                snap = seen[0]
                if snap.version != status.version:
                    self._follow()
        except BaseException:
            with self._seen_lock:
                self._checking = False
            raise
        with self._seen_lock:
            self._checking = False
            self._keep(snap, began)
        return snap

    def _keep(self, snap: GraphSnapshot, when: float) -> None:
        """Answer from ``snap`` from now on, unless a newer one is kept already (call under ``_seen_lock``)."""
        if self._seen is None or snap.version >= self._seen[0].version:
            self._seen = (snap, when)

    def _first(self, store: Store) -> GraphSnapshot:
        with self._first_lock:
            seen = self._seen
            if seen is not None:
                return seen[0]
            snap = self._build(store)
        _prepare_later(snap)
        return snap

    def _build(self, store: Store) -> GraphSnapshot:
        """A snapshot built anew, holding no lock other requests need.

        A store this holder opened is opened once more for the build (SQLite: a
        connection of its own, reading one consistent state of the file while
        loads commit; Neo4j: a driver of its own), and closed after, so the
        build's cache goes with it.
        """
        if self._owned:
            with contextlib.closing(open_store(self.url)) as own:
                return own.snapshot()
        if isinstance(store, SerializedStore):  # an injected SQLite store: read a batch of rows at a time
            return build_snapshot(store.version(), store.rows)
        return store.snapshot()

    def _follow(self) -> None:
        """Bring the snapshot up to date in the background (one thread at a time; no request waits)."""
        with self._seen_lock:
            if self._following is not None:
                return
            self._following = thread = threading.Thread(target=self._follow_run, name="citykg-snapshot",
                                                         daemon=True)
        thread.start()

    def _follow_run(self) -> None:
        try:
            while True:
                store = self.get()
                seen = self._seen
                with _responsive():
                    fresh = catch_up(seen[0], store) if seen is not None else None
                if fresh is None:
                    _log.info("the store changed in a way its change log cannot say; building a new snapshot")
                    fresh = self._build(store)
                old = seen[0] if seen is not None else None
                with self._seen_lock:
                    self._keep(fresh, time.monotonic())
                _warm(old, fresh)  # after publishing: requests do not wait for what is warmed or prepared
                prepare(fresh)  # at once when the follow carried it over (the common case)
                if store.status().version == fresh.version:
                    return
        except Exception:  # the next check tries again; requests meanwhile answer from the snapshot they have
            _log.exception("could not bring the snapshot up to date")
        finally:
            with self._seen_lock:
                self._following = None

    def after_load(self) -> None:
        """A load through this process has just ended: follow it now, before its answer is sent.

        The load's own request pays for following it (work in proportion to
        its rows), so the next request sees it; where the change log cannot
        say what changed, a new snapshot is built in the background.
        """
        seen = self._seen
        if seen is None:
            return
        try:
            with _responsive():
                fresh = catch_up(seen[0], self.get())
        except KGError:
            fresh = None
        if fresh is None:
            self._follow()
            return
        with self._seen_lock:
            self._keep(fresh, time.monotonic())
        if fresh is not seen[0]:
            threading.Thread(target=_warm, args=(seen[0], fresh), name="citykg-warm", daemon=True).start()

    def wait_followed(self, timeout_s: float | None = None) -> None:
        """Wait until the background thread bringing the snapshot up to date (if any) has finished."""
        thread = self._following
        if thread is not None:
            thread.join(timeout_s)

    def close(self) -> None:
        """Close the store if this holder opened it."""
        with self._open_lock:
            if self._store is not None and self._owned:
                self._store.close()
                self._store = None


_switching = threading.Lock()
_following = 0  # follows running now (under _switching)
_switch_before = 0.0  # the interval before the first of them began


@contextlib.contextmanager
def _responsive() -> Iterator[None]:
    """While a change is followed, the interpreter lock changes hands every 0.5 ms rather than every 5 ms.

    Following is a few dozen NumPy passes, each of which lets go of the
    interpreter lock and must win it back from the request threads; with the
    default interval a busy request thread keeps it up to 5 ms each time, and
    the follow took 1.5-2.0 s instead of 0.8-1.0 s beside three such threads
    (0.22-0.30 s of CPU either way, 1M assets). Requests pay only more
    frequent hand-overs meanwhile. Process-wide: the first follow lowers it,
    the last one restores it.
    """
    global _following, _switch_before
    with _switching:
        if not _following:
            _switch_before = sys.getswitchinterval()
            sys.setswitchinterval(min(_switch_before, FOLLOW_SWITCH_S))
        _following += 1
    try:
        yield
    finally:
        with _switching:
            _following -= 1
            if not _following:
                sys.setswitchinterval(_switch_before)


def _prepare_later(snap: GraphSnapshot) -> None:
    """:func:`kg.snapshot_delta.prepare` ``snap`` in the background (the next follow is then shorter)."""

    def run() -> None:
        try:
            prepare(snap)
        except Exception:  # the follow does it itself then
            _log.exception("could not prepare the snapshot for following changes")

    threading.Thread(target=run, name="citykg-prepare", daemon=True).start()


def _warm(old: GraphSnapshot | None, fresh: GraphSnapshot) -> None:
    """Prepare what the old snapshot had prepared (the cascade network) for the new one, once, now.

    Requests answer from the new snapshot meanwhile; one that needs the
    network before it is ready waits for this one build rather than making
    its own.
    """
    if old is not None and old is not fresh and network_built(old):
        try:
            network(fresh)
        except Exception:  # a request that needs it builds it (and reports what is wrong)
            _log.exception("could not prepare the new snapshot's cascade network")
