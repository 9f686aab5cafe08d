"""The protocol every store implements, and what the stores share.

A store holds the city graph; :func:`kg.store.open_store` picks one from a URL.
Both the embedded SQLite store and the Neo4j store implement :class:`Store`, so
the loader, the CLI and the API never know which one they talk to.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any, Protocol, runtime_checkable

from kg.analysis.graph import GraphSnapshot, build_snapshot
from kg.load.plan import ExistingElement, LoadPlan

__all__ = ["CypherResult", "CypherStore", "SnapshotCache", "Stats", "Store"]

ProgressFn = Callable[[int], None]


@dataclass(frozen=True)
class Stats:
    """What a store holds: rows per table and assets per type."""

    counts: dict[str, int]
    assets_by_type: dict[str, int] = field(default_factory=dict)
    version: int = 0


@runtime_checkable
class Store(Protocol):
    """One small method set, implemented by the SQLite and the Neo4j store."""

    url: str

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
        """Stream a table's rows as tuples in :data:`kg.load.plan.COLUMNS` order."""
        ...

    def stats(self) -> Stats: ...

    def clear(self) -> None:
        """Remove everything (the version counter keeps growing)."""
        ...

    def version(self) -> int:
        """A counter every write increments; snapshots are cached per version."""
        ...

    def snapshot(self) -> GraphSnapshot:
        """The analysis view for the current version (cached)."""
        ...

    def close(self) -> None: ...


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
    """Builds a snapshot once per store version and hands out the cached one after."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._snapshot: GraphSnapshot | None = None

    def get(self, version: int, rows: Callable[[str], Iterable[tuple[Any, ...]]]) -> GraphSnapshot:
        with self._lock:
            if self._snapshot is None or self._snapshot.version != version:
                self._snapshot = build_snapshot(version, rows)
            return self._snapshot
