"""The protocol every store implements, and what the stores share.

A store holds the city graph; :func:`kg.store.open_store` picks one from a URL.
Both the embedded SQLite store and the Neo4j store implement :class:`Store`, so
the loader, the CLI and the API never know which one they talk to.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Collection, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol, runtime_checkable

from kg.live.events import StatusEvent
from kg.load.plan import ExistingElement, LoadPlan
from kg.snapshot import GraphSnapshot
from kg.snapshot_delta import Change

__all__ = ["CypherResult", "CypherStore", "EventsWritten", "SnapshotCache", "Stats", "Store", "StoreStatus",
           "UnfinishedLoad"]

ProgressFn = Callable[[int], None]

STALLED_AFTER_S = 60.0
"""A load that has committed nothing for this long has most likely stopped (its process died or lost the store).

A running Neo4j load records its progress at least every few seconds while it
commits batches; the longest pause between two records (reading back node ids
before the relationships of a million-row load) takes seconds, not a minute.
"""


@dataclass(frozen=True)
class UnfinishedLoad:
    """A load that began writing and has not finished: the store may hold only part of it.

    Only the Neo4j store can show one (a load is many transactions there); a
    SQLite load is one transaction, seen whole or not at all.
    """

    by: str
    """Who ran it: ``user@host (pid N)``."""
    what: str
    """What it loads: its sources and row count."""
    started: str
    """When it began writing (ISO 8601, the store's clock)."""
    updated: str
    """When it last committed a batch (ISO 8601, the store's clock)."""
    rows: int
    """Rows the load writes in all."""
    written: int
    """Rows committed by ``updated``."""
    idle_s: float
    """Seconds since ``updated``, when the store was asked."""

    @property
    def state(self) -> str:
        """``running`` while it commits batches, ``stalled`` when it has committed nothing for a minute."""
        return "running" if self.idle_s < STALLED_AFTER_S else "stalled"

    def describe(self) -> str:
        """One sentence for people: what, who, since when, how far, and what to do."""
        head = (f"a load of {self.what} by {self.by}, started {self.started}, has not finished "
                f"({self.written:,} of {self.rows:,} rows written")
        if self.state == "running":
            return f"{head}; last progress {self.idle_s:.0f} s ago, so it is probably still running)"
        return (f"{head}; nothing since {self.updated}, so it has most likely stopped): the store holds only "
                "part of it; run the same load again to complete it")

    def to_dict(self) -> dict[str, Any]:
        """The JSON of ``unfinished_load`` in ``kg stats``, ``GET /v1/stats`` and ``/readyz``."""
        return {"state": self.state, "by": self.by, "what": self.what, "started": self.started,
                "updated": self.updated, "rows": self.rows, "written": self.written}


@dataclass(frozen=True)
class StoreStatus:
    """What a reader should know before trusting the store's answers (one cheap query)."""

    version: int
    unfinished_load: UnfinishedLoad | None = None
    read_only: bool = False
    """The store can be read but not loaded into (a read-only file, folder or mount, an account that may not write)."""
    why_read_only: str = ""
    """Why, for people (when ``read_only``)."""


@dataclass(frozen=True)
class Stats:
    """What a store holds: rows per table and assets per type."""

    counts: dict[str, int]
    assets_by_type: dict[str, int] = field(default_factory=dict)
    version: int = 0
    unfinished_load: UnfinishedLoad | None = None

    def to_dict(self, store_url: str) -> dict[str, Any]:
        """The JSON of ``kg stats --format json`` and ``GET /v1/stats``."""
        return {"store": store_url, "version": self.version, "counts": self.counts,
                "assets_by_type": self.assets_by_type,
                "unfinished_load": self.unfinished_load.to_dict() if self.unfinished_load else None}


@dataclass(frozen=True)
class EventsWritten:
    """What :meth:`Store.add_events` did: the events it stored, or (storing nothing) the conflicting ones."""

    added: tuple[StatusEvent, ...] = ()
    conflicts: tuple[tuple[int, StatusEvent], ...] = ()
    """``(position in the batch, the event stored under that id)`` for ids already stored with other content."""


@runtime_checkable
class Store(Protocol):
    """One small method set, implemented by the SQLite and the Neo4j store."""

    url: str
    created: bool
    """True when opening the store created it (an empty store, on the first load)."""

    def lookup(self, ids: Iterable[str]) -> dict[str, ExistingElement]:
        """Which of ``ids`` exist, with their table (and level for regions/agencies)."""
        ...

    def write(self, plan: LoadPlan, *, progress: ProgressFn | None = None) -> None:
        """Upsert a validated plan (by id, and by key for relations)."""
        ...

    def get(self, element_id: str) -> dict[str, Any]:
        """One element as a flat dict with ``table`` (raises ElementNotFound)."""
        ...

    def search(
        self,
        *,
        q: str | None = None,
        type: str | None = None,
        region: str | None = None,
        agency: str | None = None,
        after: str | None = None,
        limit: int = 50,
    ) -> list[dict[str, Any]]:
        """Assets matching every given filter, sorted by id, starting after ``after``."""
        ...

    def rows(self, table: str) -> Iterator[tuple[Any, ...]]:
        """Stream a table's rows as tuples in :attr:`kg.schema.Table.columns` order."""
        ...

    def rows_of(self, table: str, keys: Collection[str]) -> list[tuple[Any, ...]]:
        """The rows of ``table`` whose id (node tables), dependent (dependencies) or asset (exposures) is in
        ``keys``, by indexed lookups, in key order."""
        ...

    def changes_since(self, version: int) -> tuple[int, Change | None]:
        """The current version and the keys every load since ``version`` touched (:mod:`kg.snapshot_delta`).

        None in place of the change when the store's change log cannot say: a clear since, a load too
        large to log key by key, or ``version`` older than the log keeps. Then snapshots are built anew.
        """
        ...

    def stats(self) -> Stats: ...

    def clear(self) -> None:
        """Remove everything (the version counter keeps growing)."""
        ...

    def version(self) -> int:
        """A counter every write increments; snapshots are cached per version."""
        ...

    def status(self) -> StoreStatus:
        """The version, an unfinished load if there is one, and whether loads are possible (one cheap query)."""
        ...

    def verify(self) -> None:
        """Raise :class:`~kg.errors.StoreUnavailable` if the store is damaged (for readiness probes).

        Cheap when nothing changed since the last call; the first call may read
        the whole store (SQLite's ``PRAGMA quick_check``).
        """
        ...

    def snapshot(self) -> GraphSnapshot:
        """The analysis view for the current version (cached)."""
        ...

    def add_events(self, events: Sequence[StatusEvent]) -> EventsWritten:
        """Store the status events whose ids are new, in one transaction; never changes the version.

        An id already stored with the same content is skipped (a duplicate);
        if any id is stored with other content, nothing is stored and the
        conflicts are returned. Events are kept for good: :meth:`clear` keeps them.
        """
        ...

    def events(self, *, until: int | None = None) -> list[StatusEvent]:
        """The stored status events up to ``until`` (microseconds since 1970 UTC; None: all), in (time, id) order."""
        ...

    def event_count(self) -> int:
        """How many status events are stored (cheap: what a server checks before reading the history again)."""
        ...

    def close(self) -> None: ...

    def discard(self) -> None:
        """Close, and delete the store again if opening it created it (a first load that failed leaves nothing)."""
        ...


@dataclass(frozen=True)
class CypherResult:
    """Rows of a read-only Cypher query, as JSON-friendly values.

    Nodes become ``{"id", "labels", "properties"}``, relationships
    ``{"type", "start", "end", "properties"}`` (``start``/``end`` are node ids)
    and paths ``{"nodes": [...], "relationships": [...]}``.
    """

    columns: list[str]
    rows: list[dict[str, Any]]
    truncated: bool = False
    """True when the query had more rows than the row limit (only the first ``row_limit`` are in ``rows``)."""


@runtime_checkable
class CypherStore(Store, Protocol):
    """A store that also runs planners' Cypher, read-only (the Neo4j store)."""

    def run_cypher(
        self,
        query: str,
        params: Mapping[str, Any] | None = None,
        *,
        timeout_s: float = 30.0,
        row_limit: int = 1000,
    ) -> CypherResult:
        """Run ``query`` in a read transaction stopped after ``timeout_s``, keeping ``row_limit`` rows.

        Raises :class:`~kg.errors.CypherRefused` for anything that would write,
        change the schema or administer the server, and
        :class:`~kg.errors.ValidationError` for a query the server rejects.
        """
        ...


class SnapshotCache:
    """Builds a snapshot once per store version and hands out the cached one after.

    With ``follow`` (:func:`kg.snapshot_delta.catch_up` over the store), a
    cached snapshot of an older version is brought up to date from the
    store's change log, and built anew only when the log cannot say.
    """

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._snapshot: GraphSnapshot | None = None

    def get(self, version: int, build: Callable[[int], GraphSnapshot],
            follow: Callable[[GraphSnapshot], GraphSnapshot | None] | None = None) -> GraphSnapshot:
        """The snapshot of ``version``: the cached one, the cached one brought up to date by ``follow``
        (:func:`kg.snapshot_delta.catch_up` over the store), or ``build(version)`` (a store's full build)."""
        with self._lock:
            old = self._snapshot
            if old is None or old.version != version:
                fresh = follow(old) if follow is not None and old is not None and old.version < version else None
                old = fresh if fresh is not None and fresh.version >= version else build(version)
                self._snapshot = old
            return old
