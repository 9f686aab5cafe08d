"""The production store: Neo4j 5 through the official ``neo4j`` driver.

The graph model is described in :mod:`kg.store.neo4j_mapping` (which holds
every Cypher statement this module runs) and docs/neo4j.md. Writes are
batched ``UNWIND $rows AS row MERGE ...`` statements, each batch one managed
write transaction (nodes first, then relationships), so loading the same data
twice leaves the same graph and a load cut short is completed by running it
again. Batches of one statement are independent (their rows have distinct
keys), so several sessions write them at once; a statement starts only when
the one before it is fully written. Reads run in read transactions, so behind
a ``neo4j://`` URL a cluster sends them to its followers and read replicas.

Failing fast: a read that meets a server that is down fails within a second
or two (a TCP connect waits :data:`CONNECT_TIMEOUT_S`; a read is tried again
once, at once, only when its first try failed fast, which is what a pooled
connection the server has since closed does), so the API answers 503 rather
than hanging. Write transactions of a load keep the driver's retries, for up
to ``retry_s`` (30 s), since a cluster's leader change is worth waiting for.

A load marks itself on the ``:Meta`` node before its first batch and clears
the mark with the version increment, so a load cut short is never mistaken
for a complete graph: :meth:`Neo4jStore.status` and :meth:`Neo4jStore.stats`
report it, and running the same load again completes it and clears the mark.

Connection settings: the URL (``bolt://HOST:PORT``, ``neo4j://HOST:PORT``, with
``+s``/``+ssc`` variants and optionally ``USER:PASSWORD@`` before the host),
``KG_NEO4J_USER``/``KG_NEO4J_PASSWORD`` when the URL carries no credentials
(no authentication when neither does), ``KG_NEO4J_DATABASE`` (default
``neo4j``) and ``KG_NEO4J_WRITERS`` (concurrent write sessions of a load,
default 2).
"""

from __future__ import annotations

import getpass
import itertools
import os
import re
import socket
import threading
import time
import uuid
from collections.abc import Callable, Collection, Iterable, Iterator, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from operator import attrgetter
from typing import Any, TypeVar
from urllib.parse import unquote, urlsplit, urlunsplit

import neo4j
from neo4j import READ_ACCESS, WRITE_ACCESS, GraphDatabase, ManagedTransaction, Query, Transaction
from neo4j.exceptions import AuthError, ClientError, ConfigurationError, DriverError, Forbidden, Neo4jError

from kg.errors import ElementNotFound, KGError, StoreUnavailable, ValidationError
from kg.live.events import StatusEvent
from kg.load.plan import ExistingElement, LoadPlan
from kg.model import PROPS_FIELD
from kg.ontology import load_ontology
from kg.schema import TABLES
from kg.snapshot import GraphSnapshot, build_snapshot, snapshot_from_columns
from kg.snapshot_delta import LOGGED_KEYS, Change, catch_up
from kg.store import neo4j_events
from kg.store.base import CypherResult, EventsWritten, ProgressFn, SnapshotCache, Stats, StoreStatus, UnfinishedLoad
from kg.store.neo4j_cypher import ReadOnlyCypher
from kg.store.neo4j_mapping import (
    AWAIT_INDEXES,
    CHANGE_RECORD,
    CHANGES_CLEAR,
    CHANGES_SINCE,
    EVENTS_COUNT,
    HOLDS_ELEMENTS,
    LOAD_BEGIN,
    LOAD_PROGRESS,
    META_COUNT,
    META_CREATE,
    META_NAME,
    META_STATUS,
    NODE_IDS,
    PROPS_KEY,
    SCHEMA,
    SHOW_CONSTRAINTS,
    VERSION,
    WriteStep,
    clear_statements,
    count_queries,
    decode_rows,
    element_query,
    lookup_query,
    node_steps,
    node_tables,
    plan_problems,
    read_query,
    relationship_steps,
    search_query,
    version_bump,
)
from kg.store.neo4j_snapshot import read_columns as read_snapshot_columns

__all__ = ["Neo4jStore"]

T = TypeVar("T")
DEFAULT_BATCH = 10_000
DEFAULT_WRITERS = 2
MIN_VERSION = (5, 26)
CONNECT_TIMEOUT_S = 1.5
"""How long opening a TCP connection may take (long enough for one lost SYN, which is resent after 1 s)."""
READ_RETRY_WITHIN_S = 0.5
"""A read whose first try failed within this time is tried once more (a pooled connection the server closed)."""
PROGRESS_EVERY_S = 5.0
"""How often a running load records its progress on the ``:Meta`` node."""
_FETCH_SIZE = 10_000
_HINT = "start a local one with `scripts/neo4j start` (it prints the bolt:// URL to use), or check --store / KG_STORE"


KEPT_CHANGES = 1000
"""Versions the change log keeps: a reader further behind builds its snapshot anew."""


def _split_url(url: str) -> tuple[str, tuple[str, str] | None]:
    """The URL without credentials (what the driver and users see) and the credentials it carried."""
    parts = urlsplit(url)
    if parts.username is None and parts.password is None:
        return url, None
    host = parts.hostname or ""
    if ":" in host:  # an IPv6 literal
        host = f"[{host}]"
    netloc = f"{host}:{parts.port}" if parts.port else host
    clean = urlunsplit((parts.scheme, netloc, parts.path, parts.query, parts.fragment))
    return clean, (unquote(parts.username or ""), unquote(parts.password or ""))


def _auth(credentials: tuple[str, str] | None) -> tuple[str, str] | None:
    if credentials is not None:
        return credentials
    user = os.environ.get("KG_NEO4J_USER")
    password = os.environ.get("KG_NEO4J_PASSWORD")
    if user or password:
        return (user or "neo4j", password or "")
    return None


class Neo4jStore:
    """Store protocol on a Neo4j 5 database (see the module docs for the URL and settings).

    Parameters
    ----------
    url
        ``bolt://`` or ``neo4j://`` URL, optionally with ``USER:PASSWORD@``.
    database
        Database name; default ``$KG_NEO4J_DATABASE`` or ``neo4j``.
    batch_size
        Rows per write transaction.
    writers
        Write sessions a load uses at once (default ``$KG_NEO4J_WRITERS`` or 2):
        the server runs each transaction on one core, so two keep two cores busy.
    retry_s
        How long a transaction is retried after a transient failure (a lost
        connection, a cluster leader change) before the error is raised.

    Raises
    ------
    StoreUnavailable
        When the server cannot be reached or refuses the credentials.
    """

    thread_safe = True
    """Each call opens its own session on the (thread-safe) driver, so the API need not serialise calls."""

    def __init__(self, url: str, *, database: str | None = None, batch_size: int = DEFAULT_BATCH,
                 writers: int | None = None, retry_s: float = 30.0) -> None:
        self.url, credentials = _split_url(url)
        self.database = database or os.environ.get("KG_NEO4J_DATABASE") or "neo4j"
        self.batch_size = batch_size
        self.writers = writers if writers is not None else _writers_from_env()
        self._cache = SnapshotCache()
        try:
            # max_transaction_retry_time applies to managed transactions, which only writes use (see _read).
            self._driver = GraphDatabase.driver(
                self.url, auth=_auth(credentials), user_agent="citykg", connection_timeout=CONNECT_TIMEOUT_S,
                max_transaction_retry_time=retry_s, notifications_min_severity="OFF",
            )
        except (ConfigurationError, ValueError) as exc:
            raise StoreUnavailable(f"store URL {self.url!r}: {exc}", reason="misconfigured") from exc
        self.created = False
        self._forbidden = False  # the account may read but not write (found when the schema is ensured)
        self._bookmarks = self._driver.execute_query_bookmark_manager
        try:
            self._check_version(self._driver.get_server_info().agent)
            self._ensure_schema()
        except (Neo4jError, DriverError) as exc:
            self._driver.close()
            raise self._unavailable(exc, "cannot connect to") from exc
        except BaseException:
            self._driver.close()
            raise
        self._cypher = ReadOnlyCypher(self._session)

    # ---------------------------------------------------------------------------------- plumbing
    def _unavailable(self, exc: Exception, doing: str) -> StoreUnavailable:
        if isinstance(exc, AuthError):
            return StoreUnavailable(
                f"Neo4j at {self.url} refused the credentials ({exc.message}); set KG_NEO4J_USER and "
                "KG_NEO4J_PASSWORD, or put USER:PASSWORD@ in the URL", reason="misconfigured")
        if isinstance(exc, ClientError) and exc.code and exc.code.startswith("Neo.ClientError.Database"):
            return StoreUnavailable(
                f"Neo4j at {self.url} has no usable database {self.database!r} ({exc.message}); "
                "set KG_NEO4J_DATABASE to an existing database", reason="misconfigured")
        detail = exc.message if isinstance(exc, Neo4jError) and exc.message else str(exc) or type(exc).__name__
        return StoreUnavailable(f"{doing} Neo4j at {self.url}: {detail}; {_HINT}")

    def _check_version(self, agent: str) -> None:
        # Dynamic labels (the loader) and SHORTEST paths (the cookbook) need 5.26; calendar versions are later.
        numbers = re.findall(r"\d+", agent.partition("/")[2])
        version = tuple(int(n) for n in numbers[:2])
        if version and version < MIN_VERSION:
            raise StoreUnavailable(
                f"Neo4j at {self.url} is {agent}; CityKG needs Neo4j {MIN_VERSION[0]}.{MIN_VERSION[1]} or later "
                "(`scripts/neo4j start` and docker-compose.yml run 5.26)", reason="misconfigured")

    def _session(self, mode: str = READ_ACCESS) -> neo4j.Session:
        return self._driver.session(database=self.database, default_access_mode=mode,
                                    bookmark_manager=self._bookmarks, fetch_size=_FETCH_SIZE)

    def _read(self, work: Callable[[Transaction], T]) -> T:
        """Run ``work`` in a read transaction, failing fast when the server is down.

        An explicit transaction, not ``execute_read``: the driver would retry a
        managed one for up to ``retry_s`` with growing pauses, and a request
        would hang for half a minute before answering. Here a first try that
        failed fast (a pooled connection the server closed: the pool drops it)
        is tried once more at once; anything else is raised.
        """
        began = time.monotonic()
        retried = False
        while True:
            try:
                with self._session(READ_ACCESS) as session, session.begin_transaction() as tx:
                    return work(tx)
            except (Neo4jError, DriverError) as exc:
                if exc.is_retryable() and not retried and time.monotonic() - began < READ_RETRY_WITHIN_S:
                    retried = True
                    continue
                raise self._unavailable(exc, "cannot read from") from exc

    def _records(self, query: str, **params: Any) -> list[neo4j.Record]:
        return self._read(lambda tx: list(tx.run(query, params)))

    def _ensure_schema(self) -> None:
        with self._session(READ_ACCESS) as session:
            have = {r["name"] for r in session.run(SHOW_CONSTRAINTS)}
            meta = session.run(META_COUNT, name=META_NAME).single()
        missing = [statement for name, statement in SCHEMA if name not in have]
        if not missing and meta is not None and meta["c"]:
            return
        try:
            with self._session(WRITE_ACCESS) as session:
                for statement in missing:
                    session.run(statement).consume()
                session.run(AWAIT_INDEXES).consume()
                session.execute_write(lambda tx: tx.run(META_CREATE, name=META_NAME).consume())
        except Forbidden:
            self._forbidden = True  # a read-only account: reads work, writes will say they are not allowed

    # ---------------------------------------------------------------------------------- writes
    def write(self, plan: LoadPlan, *, progress: ProgressFn | None = None) -> None:
        """Upsert ``plan`` in batched write transactions, then increment the version.

        Batches commit one by one, up to :attr:`writers` at a time: if the
        connection drops, what was written stays and :class:`StoreUnavailable`
        says so; running the same load again completes it (every batch is an
        idempotent upsert). The version is incremented only once the whole plan
        is written.

        Before the first batch the load marks itself on the ``:Meta`` node (who,
        what, when; taking over the mark of an earlier load that did not
        finish), records its progress there every :data:`PROGRESS_EVERY_S`,
        and removes the mark in the transaction that increments the version. A
        load that stops part-way leaves the mark, which :meth:`status` and
        :meth:`stats` report.
        """
        problems = plan_problems(plan)
        if problems:
            raise ValidationError(problems[:200], truncated=len(problems) > 200)
        marker = {"name": META_NAME, "id": uuid.uuid4().hex, "by": _who(), "what": _what(plan), "rows": plan.total}
        written = 0
        counting = threading.Lock()
        last_record = -float("inf")  # the first commit of rows is recorded at once

        def committed(step: WriteStep) -> None:
            nonlocal written, last_record
            with counting:
                written += step.counted
                if progress is not None and step.counted:
                    progress(step.counted)
                if step.counted and time.monotonic() - last_record >= PROGRESS_EVERY_S:
                    last_record = time.monotonic()
                    self._write_meta(LOAD_PROGRESS, **marker, written=written)

        try:
            with self._session(WRITE_ACCESS) as session:  # asked of the leader, which any write would see
                fresh = not session.execute_read(_holds_elements)
                # Marked before the first batch, so no reader takes a part of this load for the whole graph.
                marker["started"] = session.execute_write(
                    lambda tx: tx.run(LOAD_BEGIN, marker).single(strict=True)["started"])
                change = Change.of_rows(plan.rows)
                session.execute_write(lambda tx: tx.run(
                    CHANGE_RECORD, name=META_NAME, keep=KEPT_CHANGES,
                    change=change.to_json() if change.size <= LOGGED_KEYS else None).consume())
            self._write_steps(node_steps(plan, self.batch_size, fresh=fresh), committed)
            node_ids = None
            if fresh and (plan.rows.get("dependencies") or plan.rows.get("exposures")):
                with self._session(WRITE_ACCESS) as session:
                    node_ids = dict(session.execute_read(lambda tx: tx.run(NODE_IDS).single(strict=True)["ids"]))
            self._write_steps(relationship_steps(plan, self.batch_size, fresh=fresh, node_ids=node_ids), committed)
            self._write_meta(version_bump(finishing=True), **marker)
        except (Neo4jError, DriverError) as exc:
            if isinstance(exc, Forbidden):
                raise StoreUnavailable(f"Neo4j at {self.url} does not let this account write ({exc.message}); load "
                                       "with an account that may", reason="read-only") from exc
            if isinstance(exc, Neo4jError) and not _is_connection_error(exc):
                raise StoreUnavailable(f"Neo4j at {self.url} refused the load ({exc.code}: {exc.message}) after "
                                       f"{written:,} of {plan.total:,} rows; fix that, then run the same load "
                                       "again (it completes what is missing)") from exc
            raise StoreUnavailable(
                f"lost Neo4j at {self.url} during the load after {written:,} of {plan.total:,} rows "
                f"({exc}); nothing is corrupted: run the same load again to complete it") from exc

    def _write_meta(self, query: str, **params: Any) -> None:
        with self._session(WRITE_ACCESS) as session:
            session.execute_write(lambda tx: tx.run(query, params).consume())

    def _write_steps(self, steps: Iterator[WriteStep], committed: Callable[[WriteStep], None]) -> None:
        """One statement at a time (nodes exist before the relationships that need them), its batches in parallel."""
        for _, batches in itertools.groupby(steps, key=attrgetter("query")):
            self._write_concurrently(batches, committed)

    def _write_concurrently(self, steps: Iterator[WriteStep], committed: Callable[[WriteStep], None]) -> None:
        """Run every step, each its own managed write transaction, on up to :attr:`writers` sessions.

        The steps are produced lazily (a batch's parameters are built when a
        session is ready for it). The first failure stops every session after
        its current transaction and is raised here.
        """
        taking = threading.Lock()
        stop = threading.Event()

        def writer() -> None:
            try:
                with self._session(WRITE_ACCESS) as session:
                    while not stop.is_set():
                        with taking:
                            step = next(steps, None)
                        if step is None:
                            return
                        session.execute_write(_run, step)
                        committed(step)
            except BaseException:
                stop.set()
                raise

        if self.writers <= 1:
            writer()
            return
        with ThreadPoolExecutor(self.writers, thread_name_prefix="citykg-neo4j-writer") as pool:
            futures = [pool.submit(writer) for _ in range(self.writers)]
            try:
                for future in futures:
                    future.result()
            finally:
                stop.set()  # also on Ctrl-C: sessions end after their current transaction

    def clear(self) -> None:
        """Delete every CityKG node and relationship, then increment the version.

        Relationships go first, type by type, then nodes, each in server-side
        batches (``CALL { ... } IN TRANSACTIONS``), so no transaction holds a hub
        with all its relationships; a clear cut short is finished by clearing again.
        """
        try:
            with self._session(WRITE_ACCESS) as session:
                for statement in clear_statements(self.batch_size):
                    session.run(statement).consume()
                session.run(CHANGES_CLEAR).consume()
            self._write_meta(version_bump(finishing=False), name=META_NAME)  # nothing is half-loaded now
        except (Neo4jError, DriverError) as exc:
            raise self._unavailable(exc, "cannot clear") from exc

    def add_events(self, events: Sequence[StatusEvent]) -> EventsWritten:
        """Store the new events in one write transaction (see :meth:`kg.store.Store.add_events`); the version stays."""
        if self._forbidden:
            raise StoreUnavailable(f"cannot record events in Neo4j at {self.url}: this account may not write",
                                   reason="read-only")
        try:
            with self._session(WRITE_ACCESS) as session:
                return session.execute_write(neo4j_events.add_events_tx, events)
        except (Neo4jError, DriverError) as exc:
            raise self._unavailable(exc, "cannot record events in") from exc

    def events(self, *, until: int | None = None) -> list[StatusEvent]:
        """Stored status events up to ``until`` (microseconds since 1970 UTC), in (time, id) order."""
        query, params = neo4j_events.read_events_query(until)
        return [neo4j_events.event_of(r) for r in self._records(query, **params)]

    def event_count(self) -> int:
        """Stored status events (from the count store: no scan)."""
        return int(self._records(EVENTS_COUNT)[0]["n"])

    # ---------------------------------------------------------------------------------- reads
    def version(self) -> int:
        records = self._records(VERSION, name=META_NAME)
        return int(records[0]["v"] or 0) if records else 0

    def status(self) -> StoreStatus:
        """The version and the unfinished-load marker, in one read."""
        record = self._records(META_STATUS, name=META_NAME)[0]
        return StoreStatus(version=int(record["version"]), unfinished_load=_unfinished(record),
                           read_only=self._forbidden,
                           why_read_only="this account may not write" if self._forbidden else "")

    def verify(self) -> None:
        """Nothing beyond :meth:`status`: the server looks after its files."""

    def lookup(self, ids: Iterable[str]) -> dict[str, ExistingElement]:
        wanted = list(ids)
        query = lookup_query()
        found: dict[str, ExistingElement] = {}
        for start in range(0, len(wanted), self.batch_size):
            for r in self._records(query, ids=wanted[start : start + self.batch_size]):
                found[r["id"]] = ExistingElement(r["table"], r["level"])
        return found

    def rows(self, table: str) -> Iterator[tuple[Any, ...]]:
        """Stream a table with one query, rows in its :attr:`kg.schema.Table.columns` order, sorted by id / key."""
        query = read_query(table)
        try:
            with self._session(READ_ACCESS) as session:
                yield from decode_rows(table, session.run(Query(query)))
        except (Neo4jError, DriverError) as exc:
            raise self._unavailable(exc, "cannot read from") from exc

    def rows_of(self, table: str, keys: Collection[str]) -> list[tuple[Any, ...]]:
        """The rows of ``table`` with these ids (node tables), dependents or assets (relations): index seeks."""
        wanted = sorted(keys)
        out: list[tuple[Any, ...]] = []
        query = read_query(table, of_ids=True)
        for start in range(0, len(wanted), self.batch_size):
            out.extend(decode_rows(table, self._records(query, ids=wanted[start : start + self.batch_size])))
        return out

    def changes_since(self, version: int) -> tuple[int, Change | None]:
        """The current version and what the loads since ``version`` touched (None: the log cannot say)."""
        records = self._records(CHANGES_SINCE, name=META_NAME, since=version)
        if not records:
            return 0, None
        current = int(records[0]["version"] or 0)
        logged = [(v, text) for v, text in records[0]["changes"] if v is not None]
        if {v for v, _ in logged} != set(range(version + 1, current + 1)) or any(t is None for _, t in logged):
            return current, None
        change = Change()
        for _, text in logged:
            change = change.merge(Change.from_json(text))
        return current, change

    def get(self, element_id: str) -> dict[str, Any]:
        query, params = element_query()
        records = self._records(query, id=element_id, **params)
        if not records or not records[0]["tables"]:
            raise ElementNotFound(element_id)
        table = next(name for name, spec in node_tables().items() if spec.label == records[0]["tables"][0])
        return _element(table, records[0]["props"], records[0]["refs"])

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
        found = search_query(q=q, type=type, region=region, agency=agency, after=after, limit=limit)
        if found is None:
            return []
        query, params = found
        return [_element("assets", r["props"], r["refs"]) for r in self._records(query, **params)]

    def stats(self) -> Stats:
        onto = load_ontology()
        counts, by_label, asset_classes = count_queries()

        def work(tx: Transaction) -> tuple[dict[str, int], dict[str, int], neo4j.Record]:
            table_counts = {t: int(tx.run(q).single(strict=True)["c"]) for t, q in counts.items()}
            # A label no node ever had may give no row at all (rather than a count of 0).
            labelled = dict.fromkeys(asset_classes, 0)
            labelled.update({r["label"]: int(r["c"]) for r in tx.run(by_label)})
            return table_counts, labelled, tx.run(META_STATUS, name=META_NAME).single(strict=True)

        table_counts, labelled, meta = self._read(work)
        # Every asset carries the labels of its whole class chain, so the assets whose type is exactly C
        # are those labelled C minus those labelled with a direct subclass of C (O(1) count-store reads).
        by_type = {}
        for c in asset_classes:
            exact = labelled[c] - sum(labelled[k] for k in asset_classes if onto.classes[k].parent == c)
            if exact:
                by_type[c] = exact
        return Stats(counts=table_counts, assets_by_type=dict(sorted(by_type.items())), version=int(meta["version"]),
                     unfinished_load=_unfinished(meta))

    def snapshot(self) -> GraphSnapshot:
        return self._cache.get(self.version(), self.build_snapshot, follow=lambda snap: catch_up(snap, self))

    def build_snapshot(self, version: int) -> GraphSnapshot:
        """A full snapshot of the database at ``version``, built now (:meth:`snapshot` caches it).

        The big tables are read as columns by several queries at once (:mod:`kg.store.neo4j_snapshot`),
        the small ones as rows at the same time; the version is read again after them, and a load that
        landed meanwhile makes it read again (at most twice more, then it reads rows). Data that cannot be
        read as columns is read as rows.
        """
        small = ("regions", "agencies", "hazard_zones", "fragilities")
        for _ in range(3):
            with ThreadPoolExecutor(max_workers=len(small), thread_name_prefix="kg-snapshot-rows") as pool:
                reading = {table: pool.submit(lambda table: list(self.rows(table)), table) for table in small}
                columns = read_snapshot_columns(lambda query, params: self._records(query, **params))
                rows = {table: future.result() for table, future in reading.items()}
            if columns is None:
                break
            if self.version() == version:
                assets, dependencies, exposures = columns
                return snapshot_from_columns(
                    version, regions=rows["regions"], agencies=rows["agencies"], assets=assets,
                    dependencies=dependencies, hazard_zones=rows["hazard_zones"], exposures=exposures,
                    fragilities=rows["fragilities"])
        return build_snapshot(version, self.rows)

    # ---------------------------------------------------------------------------------- Cypher
    def run_cypher(
        self,
        query: str,
        params: Mapping[str, Any] | None = None,
        *,
        timeout_s: float = 30.0,
        row_limit: int = 1000,
    ) -> CypherResult:
        """Run a planner's query read-only (see :class:`kg.store.neo4j_cypher.ReadOnlyCypher`)."""
        try:
            return self._cypher.run(query, dict(params or {}), timeout_s=timeout_s, row_limit=row_limit)
        except KGError:
            raise
        except (Neo4jError, DriverError) as exc:
            raise self._unavailable(exc, "cannot query") from exc

    def close(self) -> None:
        self._driver.close()

    def discard(self) -> None:
        """Close (a Neo4j database is never created by opening it)."""
        self.close()

    def __repr__(self) -> str:
        return f"Neo4jStore({self.url!r}, database={self.database!r})"


# -------------------------------------------------------------------------------------------- helpers
class _Rows(list[Any]):
    """A batch's ``$rows`` with a short ``repr``.

    The driver formats every RUN message's parameters for its debug log even
    when debug logging is off; on a 10,000-row batch that ``repr`` costs a
    third as much as encoding the batch. The driver encodes a list subclass as
    a list.
    """

    def __repr__(self) -> str:
        return f"<{len(self)} rows>"


def _run(tx: ManagedTransaction, step: WriteStep) -> None:
    tx.run(step.query, step.params, rows=_Rows(step.rows)).consume()


def _holds_elements(tx: ManagedTransaction) -> bool:
    return bool(tx.run(HOLDS_ELEMENTS).single(strict=True)["any"])


def _who() -> str:
    """Who runs this load, for the marker: ``user@host (pid N)``."""
    try:
        user = getpass.getuser()
    except (KeyError, OSError):  # a uid with no name (some containers)
        user = f"uid {os.getuid()}"
    return f"{user}@{socket.gethostname()} (pid {os.getpid()})"


def _what(plan: LoadPlan) -> str:
    """What a load writes, for the marker: its row count and sources (a folder's files as the folder)."""
    by_folder: dict[str, list[str]] = {}
    for source in plan.sources:
        by_folder.setdefault(os.path.dirname(source), []).append(source)
    names = [f"{folder}/ ({len(files)} files)" if len(files) > 1 else files[0] for folder, files in by_folder.items()]
    if len(names) > 3:
        names = [*names[:2], f"{len(names) - 2} more"]
    return f"{plan.total:,} rows" + (f" from {', '.join(names)}" if names else "")


def _unfinished(record: neo4j.Record) -> UnfinishedLoad | None:
    """The unfinished load of a :data:`META_STATUS` record, if there is one."""
    if not record["loading"]:
        return None
    return UnfinishedLoad(by=record["by"] or "?", what=record["what"] or "?", started=record["started"] or "?",
                          updated=record["updated"] or "?", rows=int(record["rows"] or 0),
                          written=int(record["written"] or 0), idle_s=float(record["idle_s"] or 0))


def _writers_from_env() -> int:
    value = os.environ.get("KG_NEO4J_WRITERS", "")
    if not value:
        return DEFAULT_WRITERS
    if not value.isdigit() or int(value) < 1:
        raise StoreUnavailable(f"KG_NEO4J_WRITERS={value!r}: expected a whole number of write sessions, 1 or more")
    return int(value)


def _is_connection_error(exc: Neo4jError) -> bool:
    return bool(exc.code) and (exc.code.startswith("Neo.TransientError") or "Unavailable" in exc.code)


def _element(table: str, props: dict[str, Any], refs: list[list[str]]) -> dict[str, Any]:
    """A node's properties and outgoing relationships as the flat record SQLite's ``get`` returns."""
    spec = node_tables()[table]
    targets = {rel: target for rel, target in refs}
    record: dict[str, Any] = {"table": table}
    for column in TABLES[table].columns:
        if column == PROPS_FIELD:
            record["props"] = {k: props.get(k) for k in props.get(PROPS_KEY, ())}
        elif column in spec.properties:
            record[column] = props.get(column)
        else:
            record[column] = targets.get(spec.references[column])
    return record
