"""The embedded store: one SQLite file (standard library ``sqlite3``), WAL mode.

Each table of the bundle is a table here with the same columns; extra
columns of node rows live in a JSON ``props`` column. Every load is one
transaction, so a failed or killed load leaves the file exactly as it was
(there is never a half-written load to see), and each write increments the
version counter that invalidates cached snapshots.

Opening never creates a file by accident: a path that names nothing is an
error unless the caller asks for a new store (``create=True``, what ``kg
load`` does). A file this process may not write, or whose folder it may not
write (SQLite keeps its write-ahead log beside the file), is opened
read-only: reads work, and a load says it cannot write there. Every
``sqlite3`` error becomes :class:`~kg.errors.StoreUnavailable` with a
message naming the file, what went wrong and what to do.
"""

from __future__ import annotations

import contextlib
import errno
import json
import os
import sqlite3
import threading
from collections.abc import Callable, Collection, Iterable, Iterator, Sequence
from pathlib import Path
from typing import Any

from kg.errors import ElementNotFound, StoreUnavailable
from kg.i18n import _l
from kg.live.events import StatusEvent
from kg.load.plan import ExistingElement, LoadPlan
from kg.model import PROPS_FIELD
from kg.ontology import load_ontology
from kg.schema import NODE_TABLES, TABLES, Row
from kg.search import NAME_ZH, search_terms
from kg.snapshot import GraphSnapshot, build_snapshot, snapshot_from_columns
from kg.snapshot_delta import LOGGED_KEYS, Change, catch_up
from kg.store import sqlite_events
from kg.store.base import EventsWritten, ProgressFn, SnapshotCache, Stats, StoreStatus
from kg.store.sqlite_scan import BUSY_TIMEOUT_S
from kg.store.sqlite_snapshot import read_columns

__all__ = ["SQLiteStore"]

_SQL_TYPES = {"text": "TEXT", "real": "REAL", "integer": "INTEGER", "json": "TEXT"}
_INDEXES = (
    "CREATE INDEX IF NOT EXISTS dependencies_provider ON dependencies(provider)",
    "CREATE INDEX IF NOT EXISTS assets_region ON assets(region)",
    "CREATE INDEX IF NOT EXISTS assets_agency ON assets(agency)",
    "CREATE INDEX IF NOT EXISTS assets_type ON assets(type)",
    "CREATE INDEX IF NOT EXISTS regions_parent ON regions(parent)",
    "CREATE INDEX IF NOT EXISTS exposures_zone ON exposures(zone)",
)
_NAMED = f"(name LIKE ? ESCAPE '\\' OR json_extract(props, '$.{NAME_ZH}') LIKE ? ESCAPE '\\')"
_TERM_MATCH = (
    f"id LIKE ? ESCAPE '\\' OR {_NAMED} OR type IN ({{types}})"
    " OR region IN (WITH RECURSIVE sub(id) AS ("
    f"SELECT id FROM regions WHERE id = ? OR {_NAMED} "
    "UNION SELECT r.id FROM regions r JOIN sub ON r.parent = sub.id) SELECT id FROM sub)"
    f" OR agency IN (SELECT id FROM agencies WHERE id = ? OR {_NAMED})"
)
"""One search term (kg.search): parameters pattern x3, the term's types, term, pattern x2, term, pattern x2."""
_BATCH = 50_000
_KEPT_CHANGES = 1000
"""Versions the change log keeps: a reader further behind builds its snapshot anew."""
_KEYED_BY = {"dependencies": "dependent", "exposures": "asset"}
"""The column :meth:`SQLiteStore.rows_of` selects relation rows by (the first of their key: indexed)."""
SCAN_PROCESSES_BYTES = 32 * 1024 * 1024
"""A store file at least this big is read for a full snapshot in worker processes (:mod:`kg.store.sqlite_scan`)."""
_REASONS = {
    sqlite3.SQLITE_CORRUPT: "corrupt",
    sqlite3.SQLITE_NOTADB: "corrupt",
    sqlite3.SQLITE_FULL: "full",
    sqlite3.SQLITE_READONLY: "read-only",
    sqlite3.SQLITE_BUSY: "busy",
    sqlite3.SQLITE_LOCKED: "busy",
}
"""Primary SQLite result codes -> :class:`StoreUnavailable` reasons (anything else: ``unreachable``)."""


def _column(name: str) -> str:
    # "group" is an SQL keyword; the table column is "grp", the public field stays "group".
    return "grp" if name == "group" else name


def _key(table: str) -> tuple[str, ...]:
    return tuple(_column(c) for c in TABLES[table].key)


def _ddl(table: str) -> str:
    spec = TABLES[table]
    cols = [f"{_column(c)} {_SQL_TYPES[spec.kind(c)]}" for c in spec.columns]
    if spec.node:
        cols[spec.position("id")] = "id TEXT PRIMARY KEY"
        return f"CREATE TABLE IF NOT EXISTS {table} ({', '.join(cols)}) WITHOUT ROWID"
    # Optional key columns (a fragility's type or asset) are stored as '' in the key, which NULL cannot be in.
    return f"CREATE TABLE IF NOT EXISTS {table} ({', '.join(cols)}, PRIMARY KEY ({', '.join(_key(table))}))"


def _blank_keys(table: str) -> list[int]:
    """Positions of the optional key columns of ``table``, stored as '' rather than NULL (see :func:`_ddl`)."""
    spec = TABLES[table]
    return [] if spec.node else [spec.position(c) for c in spec.key if spec.optional(c)]


def _upsert(table: str) -> str:
    cols = [_column(c) for c in TABLES[table].columns]
    keys = _key(table)
    updates = ", ".join(f"{c} = excluded.{c}" for c in cols if c not in keys) or None
    action = f"DO UPDATE SET {updates}" if updates else "DO NOTHING"
    marks = ", ".join("?" for _ in cols)
    return f"INSERT INTO {table} ({', '.join(cols)}) VALUES ({marks}) ON CONFLICT ({', '.join(keys)}) {action}"


class SQLiteStore:
    """Store protocol on one SQLite file.

    Parameters
    ----------
    path
        The file, or ``:memory:``.
    url
        The URL it was opened by (shown in messages and reports).
    create
        Create the store when ``path`` names no file (or an empty one). Without
        it such a path is an error: reading never creates a store.

    Raises
    ------
    StoreUnavailable
        When the file does not exist (and ``create`` is false), is not a CityKG
        store, is corrupt, or cannot be opened.
    """

    def __init__(self, path: str, *, url: str | None = None, create: bool = False) -> None:
        self.path = path
        self.url = url or f"sqlite:///{path}"
        self.created = False
        self.read_only = False
        self._why_read_only = ""
        self._immutable = False
        self.file = Path(path).absolute()
        """The store's file, as an absolute path."""
        self._cache = SnapshotCache()
        self._verify_lock = threading.Lock()
        self._verified: tuple[int, int, int] | None = None  # (version, mtime_ns, size) last found intact
        self._created_folders: list[Path] = []  # folders made for a new store, deepest first
        self._db = self._open(create)
        # The columns each table has: a store made by an earlier version and opened read-only (so never
        # given the columns added since) reads them as not given (see _select).
        with self._errors("open"):
            self._have = {table: {row[1] for row in self._db.execute(f"PRAGMA table_info({table})")}
                          for table in TABLES}

    # ------------------------------------------------------------------ opening
    def _open(self, create: bool) -> sqlite3.Connection:
        if self.path == ":memory:":
            db = self._connect(self.path)
            self._prepare(db, create=True)
            return db
        file = self.file
        try:
            exists = file.exists()
        except OSError as exc:  # e.g. a folder on the way that this user may not enter
            raise StoreUnavailable(_l("cannot open the SQLite store {store}: {reason} ({file})", store=self._named(),
                                      reason=exc.strerror, file=exc.filename), reason="unreachable") from exc
        if file.is_dir():
            raise StoreUnavailable(_l("{store} is a folder, not a SQLite store file; check --store / KG_STORE",
                                      store=self._named()), reason="misconfigured")
        if not exists:
            if not create:
                raise StoreUnavailable(_l("no CityKG store at {store}: nothing to read there (only `kg load` creates "
                                          "a store); check --store / KG_STORE", store=self._named()), reason="missing")
            self._created_folders = [f for f in file.parents if not f.exists()]
            try:
                file.parent.mkdir(parents=True, exist_ok=True)
            except OSError as exc:
                raise StoreUnavailable(_l("cannot create the SQLite store {store}: {reason} ({file})", store=file,
                                          reason=exc.strerror, file=exc.filename),
                                       reason="read-only" if _is_permission_error(exc) else "unreachable") from exc
            why = _why_folder_read_only(file.parent)
            if why:
                raise StoreUnavailable(_l("cannot create the SQLite store {store}: {why}", store=file, why=why),
                                       reason="read-only")
        else:
            self._why_read_only = _why_read_only(file)
            self.read_only = bool(self._why_read_only)
        with self._errors("open"):
            db = self._connect_read_only(file) if self.read_only else self._connect(str(file))
            try:
                self._prepare(db, create=create)
            except BaseException:
                db.close()
                raise
        return db

    def _named(self) -> str:
        """The store's file for messages: its absolute path, and the URL's relative one when they differ."""
        if Path(self.path).is_absolute():
            return str(self.file)
        return f"{self.file} ({self.url}, a path relative to the current folder)"

    @staticmethod
    def _connect(target: str, *, uri: bool = False) -> sqlite3.Connection:
        db = sqlite3.connect(target, isolation_level=None, check_same_thread=False, uri=uri)
        db.execute(f"PRAGMA busy_timeout={BUSY_TIMEOUT_S * 1000}")
        # Bulk loads touch every page of the id and key indexes; a 256 MiB page cache keeps them in memory.
        db.execute(f"PRAGMA cache_size=-{256 * 1024}")
        return db

    def _connect_read_only(self, file: Path) -> sqlite3.Connection:
        """A connection that never writes: ``mode=ro``, or ``immutable=1`` when SQLite cannot keep its WAL index.

        In WAL mode even a reader needs the shared-memory index beside the file
        (``-shm``), which it cannot create in a folder it may not write. Then
        the file is read as immutable: correct as long as no one changes it
        while this process runs, which is the case on a read-only mount. A
        write-ahead log that still holds changes cannot be read that way.
        """
        uri = file.as_uri()
        try:
            db = self._connect(f"{uri}?mode=ro", uri=True)
            db.execute("SELECT count(*) FROM sqlite_master").fetchone()  # opens the file and its WAL index now
            return db
        except sqlite3.OperationalError as exc:
            if exc.sqlite_errorcode & 0xFF not in (sqlite3.SQLITE_CANTOPEN, sqlite3.SQLITE_READONLY):
                raise
            wal = file.with_name(file.name + "-wal")
            if wal.exists() and wal.stat().st_size > 0:
                raise StoreUnavailable(
                    f"cannot read the SQLite store {file}: {self._why_read_only}, and its write-ahead log {wal} "
                    "holds changes that only a process allowed to write there can read; open it once where it "
                    "can be written (any kg command does), or copy the store somewhere writable",
                    reason="unreachable") from exc
        self._immutable = True
        return self._connect(f"{uri}?immutable=1", uri=True)

    def _prepare(self, db: sqlite3.Connection, *, create: bool) -> None:
        """Check that ``db`` is a CityKG store (or create one in an empty file) and set it up for writing."""
        tables = {name for (name,) in db.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
        if "meta" not in tables:
            if tables:
                raise StoreUnavailable(_l("{store} is a SQLite database but not a CityKG store (it has no 'meta' "
                                          "table); check --store / KG_STORE", store=self._named()),
                                       reason="misconfigured")
            if not create:
                raise StoreUnavailable(_l("the SQLite store {store} is empty: it holds no CityKG data yet (`kg load` "
                                          "fills it)", store=self._named()), reason="missing")
            if self.read_only:
                raise StoreUnavailable(f"cannot create a CityKG store in {self._named()}: {self._why_read_only}",
                                       reason="read-only")
            self.created = True
        if self.read_only:
            db.execute("PRAGMA query_only=ON")
            return
        db.execute("PRAGMA journal_mode=WAL")
        db.execute("PRAGMA synchronous=NORMAL")
        self._create_schema(db)

    @staticmethod
    def _create_schema(db: sqlite3.Connection) -> None:
        # IF NOT EXISTS throughout: a store made by an earlier version gains the tables it lacks, and the
        # optional columns added since (assets.repair_hours, agencies.crews), empty in its rows.
        with db:
            db.execute("BEGIN")
            for table in TABLES:
                db.execute(_ddl(table))
                have = {row[1] for row in db.execute(f"PRAGMA table_info({table})")}
                spec = TABLES[table]
                for c in spec.columns:
                    if _column(c) not in have:
                        db.execute(f"ALTER TABLE {table} ADD COLUMN {_column(c)} {_SQL_TYPES[spec.kind(c)]}")
            for statement in _INDEXES:
                db.execute(statement)
            for statement in sqlite_events.SCHEMA:
                db.execute(statement)
            db.execute("CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value INTEGER)")
            # The keys each version's load touched (kg.snapshot_delta.Change as JSON; NULL: too many to list).
            db.execute("CREATE TABLE IF NOT EXISTS changes (version INTEGER PRIMARY KEY, change TEXT)")
            db.execute("INSERT OR IGNORE INTO meta VALUES ('version', 0)")

    @contextlib.contextmanager
    def _errors(self, doing: str) -> Iterator[None]:
        """Turn any ``sqlite3`` error raised inside into a :class:`StoreUnavailable` saying what to do."""
        try:
            yield
        except sqlite3.Error as exc:
            raise self._unavailable(exc, doing) from exc

    def _unavailable(self, exc: sqlite3.Error, doing: str) -> StoreUnavailable:
        code = getattr(exc, "sqlite_errorcode", None)
        reason = _REASONS.get(code & 0xFF, "unreachable") if isinstance(code, int) else "unreachable"
        where = f"the SQLite store {self.file}"
        if reason == "corrupt":
            message = (f"{where} is corrupt or is not a CityKG store ({exc}); restore it from a backup, or load "
                       "the data again into a new store")
        elif reason == "full":
            message = (f"cannot {doing} {where}: database or disk is full; nothing was written. Free space on "
                       "its disk (or move the store to a bigger one), then try again")
        elif reason == "read-only":
            why = self._why_read_only or f"SQLite says: {exc}"
            message = f"cannot {doing} {where}: {why}; load into a store you can write"
        elif reason == "busy":
            message = (f"cannot {doing} {where}: another process kept it locked for {BUSY_TIMEOUT_S} s (a load "
                       "in progress?); try again when it has finished")
        else:
            message = f"cannot {doing} {where}: {exc}"
        return StoreUnavailable(message, reason=reason)

    # ------------------------------------------------------------------ writes
    def write(self, plan: LoadPlan, *, progress: ProgressFn | None = None) -> None:
        """Upsert the whole plan in one transaction (all or nothing, also when the process is killed)."""
        self._check_writable("load into")
        db = self._db
        with self._errors("load into"):
            db.execute("BEGIN IMMEDIATE")
            try:
                for table, rows in plan.rows.items():
                    if not rows:
                        continue
                    statement = _upsert(table)
                    encode = self._encoder(table)
                    for start in range(0, len(rows), _BATCH):
                        chunk = rows[start : start + _BATCH]
                        db.executemany(statement, map(encode, chunk) if encode else chunk)
                        if progress is not None:
                            progress(len(chunk))
                db.execute("UPDATE meta SET value = value + 1 WHERE key = 'version'")
                self._log_change(Change.of_rows(plan.rows))
                db.execute("COMMIT")
            except BaseException:
                self._rollback()
                raise

    def _log_change(self, change: Change) -> None:
        """Record what the load in progress touched, under the version it makes (same transaction)."""
        (version,) = self._db.execute("SELECT value FROM meta WHERE key = 'version'").fetchone()
        text = change.to_json() if change.size <= LOGGED_KEYS else None
        self._db.execute("INSERT OR REPLACE INTO changes VALUES (?, ?)", (version, text))
        self._db.execute("DELETE FROM changes WHERE version <= ?", (version - _KEPT_CHANGES,))

    def _check_writable(self, doing: str) -> None:
        if self.read_only:
            raise StoreUnavailable(f"cannot {doing} the SQLite store {self.file}: {self._why_read_only}; load into "
                                   "a store you can write (reading this one works)", reason="read-only")

    def _rollback(self) -> None:
        # After some errors (a full disk among them) SQLite has already rolled the transaction back,
        # and a second ROLLBACK would raise and hide the error that matters.
        # If ROLLBACK fails too, the first error says more; SQLite rolls a broken transaction back on reopening.
        if self._db.in_transaction:
            with contextlib.suppress(sqlite3.Error):
                self._db.execute("ROLLBACK")

    @staticmethod
    def _encoder(table: str) -> Callable[[Row], Row] | None:
        """How a row is written: ``props`` as JSON text, optional key columns as ''; None when as it is."""
        spec = TABLES[table]
        if spec.has_props:
            at = spec.position(PROPS_FIELD)
            return lambda row: (*row[:at], json.dumps(row[at], ensure_ascii=False) if row[at] else None,
                                *row[at + 1 :])
        blanks = _blank_keys(table)
        if blanks:
            return lambda row: tuple(v or "" if i in blanks else v for i, v in enumerate(row))
        return None

    def add_events(self, events: Sequence[StatusEvent]) -> EventsWritten:
        """Store the new events in one transaction (see :meth:`kg.store.Store.add_events`); the version stays."""
        self._check_writable("record events in")
        with self._errors("record events in"):
            return sqlite_events.add_events(self._db, events)

    def events(self, *, until: int | None = None) -> list[StatusEvent]:
        """Stored status events up to ``until`` (microseconds since 1970 UTC), in (time, id) order."""
        with self._errors("read"):
            return sqlite_events.read_events(self._db, until)

    def event_count(self) -> int:
        with self._errors("read"):
            return sqlite_events.count_events(self._db)

    def clear(self) -> None:
        self._check_writable("clear")
        db = self._db
        with self._errors("clear"):
            db.execute("BEGIN IMMEDIATE")
            try:
                for table in TABLES:
                    db.execute(f"DELETE FROM {table}")
                db.execute("DELETE FROM changes")  # the version a clear makes has no change: readers rebuild
                db.execute("UPDATE meta SET value = value + 1 WHERE key = 'version'")
                db.execute("COMMIT")
            except BaseException:
                self._rollback()
                raise

    # ------------------------------------------------------------------ reads
    def version(self) -> int:
        with self._errors("read"):
            row = self._db.execute("SELECT value FROM meta WHERE key = 'version'").fetchone()
        return int(row[0])

    def status(self) -> StoreStatus:
        """The version; never an unfinished load (a load is one transaction); read-only when it cannot be written."""
        return StoreStatus(version=self.version(), read_only=self.read_only, why_read_only=self._why_read_only)

    def verify(self) -> None:
        """``PRAGMA quick_check`` on a connection of its own, once per version and file change.

        It reads every page (about 0.1 s for a 100,000-asset city once cached,
        1 s from a cold disk), so damage is found before a request meets it.
        """
        if self.path == ":memory:":
            return
        try:
            stat = self.file.stat()
        except OSError as exc:
            raise StoreUnavailable(_l("the SQLite store {store} can no longer be found ({reason}); it was moved or "
                                      "deleted while in use", store=self.file, reason=exc.strerror),
                                   reason="missing") from exc
        with self._verify_lock, self._errors("check"):
            db = self._connect(self.file.as_uri() + ("?immutable=1" if self._immutable else "?mode=ro"), uri=True)
            try:
                version = int(db.execute("SELECT value FROM meta WHERE key = 'version'").fetchone()[0])
                key = (version, stat.st_mtime_ns, stat.st_size)
                if key == self._verified:
                    return
                problems = [row[0] for row in db.execute("PRAGMA quick_check(5)")]
            finally:
                db.close()
            if problems != ["ok"]:
                raise StoreUnavailable(_l("the SQLite store {store} is corrupt ({problems}); restore it from a "
                                          "backup, or load the data again into a new store", store=self.file,
                                          problems="; ".join(problems)), reason="corrupt")
            self._verified = key

    def lookup(self, ids: Iterable[str]) -> dict[str, ExistingElement]:
        wanted = list(ids)
        found: dict[str, ExistingElement] = {}
        with self._errors("read"):
            for start in range(0, len(wanted), 500):
                chunk = wanted[start : start + 500]
                marks = ",".join("?" * len(chunk))
                for table in NODE_TABLES:
                    level = "level" if "level" in TABLES[table].columns else "NULL"
                    query = f"SELECT id, {level} FROM {table} WHERE id IN ({marks})"
                    for rid, lvl in self._db.execute(query, chunk):
                        found[rid] = ExistingElement(table, lvl)
        return found

    def rows(self, table: str) -> Iterator[tuple[Any, ...]]:
        with self._errors("read"):
            cursor = self._db.execute(f"SELECT {self._select(table)} FROM {table} ORDER BY {', '.join(_key(table))}")
            yield from self._decoded(table, cursor)

    def rows_of(self, table: str, keys: Collection[str]) -> list[tuple[Any, ...]]:
        """The rows of ``table`` with these ids (node tables), dependents (dependencies) or assets (exposures).

        Indexed lookups, in key order; what a snapshot reads to follow a small change.
        """
        column = "id" if TABLES[table].node else _KEYED_BY[table]
        wanted = sorted(keys)
        out: list[tuple[Any, ...]] = []
        with self._errors("read"):
            for start in range(0, len(wanted), 500):
                chunk = wanted[start : start + 500]
                cursor = self._db.execute(f"SELECT {self._select(table)} FROM {table} WHERE {column} IN "
                                          f"({','.join('?' * len(chunk))}) ORDER BY {', '.join(_key(table))}", chunk)
                out.extend(self._decoded(table, cursor))
        return out

    def changes_since(self, version: int) -> tuple[int, Change | None]:
        """The current version and what the loads since ``version`` touched (None: the log cannot say)."""
        with self._errors("read"):
            current = self.version()
            if "changes" not in self._tables():
                return current, None
            logged = self._db.execute("SELECT version, change FROM changes WHERE version > ? AND version <= ? "
                                      "ORDER BY version", (version, current)).fetchall()
        if len(logged) != current - version or any(text is None for _, text in logged):
            return current, None
        change = Change()
        for _, text in logged:
            change = change.merge(Change.from_json(text))
        return current, change

    def _tables(self) -> set[str]:
        return {name for (name,) in self._db.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}

    def _decoded(self, table: str, cursor: Iterable[tuple[Any, ...]]) -> Iterator[tuple[Any, ...]]:
        spec = TABLES[table]
        blanks = _blank_keys(table)
        if spec.has_props:
            at = spec.position(PROPS_FIELD)
            for row in cursor:
                yield (*row[:at], json.loads(row[at]) if row[at] else None, *row[at + 1 :])
        elif blanks:
            for row in cursor:
                yield tuple(v or None if i in blanks else v for i, v in enumerate(row))
        else:
            yield from cursor

    def get(self, element_id: str) -> dict[str, Any]:
        for table in NODE_TABLES:
            with self._errors("read"):
                row = self._db.execute(f"SELECT {self._select(table)} FROM {table} WHERE id = ?",
                                       (element_id,)).fetchone()
            if row is not None:
                return self._element(table, row)
        raise ElementNotFound(element_id)

    def _select(self, table: str) -> str:
        """The columns of ``table`` to select, in its order (a column this file lacks reads as NULL)."""
        have = self._have[table]
        return ", ".join(_column(c) if _column(c) in have or not have else f"NULL AS {_column(c)}"
                         for c in TABLES[table].columns)

    @staticmethod
    def _element(table: str, row: tuple[Any, ...]) -> dict[str, Any]:
        record: dict[str, Any] = {"table": table}
        for name, value in zip(TABLES[table].columns, row, strict=True):
            if name == PROPS_FIELD:
                record["props"] = json.loads(value) if value else {}
            else:
                record[name] = value
        return record

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
        where: list[str] = []
        params: list[Any] = []
        for term in search_terms(q):  # kg.search says what a term matches; every term must match
            pattern = "%" + term.text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"
            where.append(f"({_TERM_MATCH.format(types=','.join('?' * len(term.types)) or 'NULL')})")
            params += [pattern, pattern, pattern, *term.types, term.text, pattern, pattern, term.text, pattern,
                       pattern]
        if type:
            types = load_ontology().subclasses(type) if type in load_ontology().classes else (type,)
            where.append(f"type IN ({','.join('?' * len(types))})")
            params += list(types)
        if region:
            where.append(
                "region IN (WITH RECURSIVE sub(id) AS (SELECT ? UNION SELECT r.id FROM regions r JOIN sub "
                "ON r.parent = sub.id) SELECT id FROM sub)"
            )
            params.append(region)
        if agency:
            where.append("agency = ?")
            params.append(agency)
        if after:
            where.append("id > ?")
            params.append(after)
        clause = f"WHERE {' AND '.join(where)}" if where else ""
        query = f"SELECT {self._select('assets')} FROM assets {clause} ORDER BY id LIMIT ?"
        with self._errors("read"):
            return [self._element("assets", row) for row in self._db.execute(query, [*params, limit])]

    def stats(self) -> Stats:
        with self._errors("read"):
            counts = {t: int(self._db.execute(f"SELECT count(*) FROM {t}").fetchone()[0]) for t in TABLES}
            by_type = dict(self._db.execute("SELECT type, count(*) FROM assets GROUP BY type ORDER BY type"))
        return Stats(counts=counts, assets_by_type=by_type, version=self.version())

    def snapshot(self) -> GraphSnapshot:
        return self._cache.get(self.version(), self.build_snapshot, follow=lambda snap: catch_up(snap, self))

    def build_snapshot(self, version: int) -> GraphSnapshot:
        """A full snapshot of the store at ``version``, built now (:meth:`snapshot` caches it).

        The big tables are read as columns (:mod:`kg.store.sqlite_snapshot`),
        for a file of :data:`SCAN_PROCESSES_BYTES` or more by child processes,
        several queries at once (:mod:`kg.store.sqlite_scan`); an in-memory
        store, or data that cannot be read that way, is built from :meth:`rows`.
        """
        if self.path != ":memory:":
            uri = self.file.as_uri() + ("?immutable=1" if self._immutable else "?mode=ro")
            with self._errors("read"):
                columns = read_columns(uri, version, self._column,
                                       processes=self.file.stat().st_size >= SCAN_PROCESSES_BYTES)
            if columns is not None:
                assets, dependencies, exposures = columns
                return snapshot_from_columns(
                    version, regions=self.rows("regions"), agencies=self.rows("agencies"), assets=assets,
                    dependencies=dependencies, hazard_zones=self.rows("hazard_zones"), exposures=exposures,
                    fragilities=self.rows("fragilities"))
        return build_snapshot(version, self.rows)

    def _column(self, table: str, name: str) -> str:
        """SQL reading one column of ``table`` (``NULL`` where this file lacks it, see :meth:`_select`)."""
        column = _column(name)
        have = self._have[table]
        return column if column in have or not have else "NULL"

    def close(self) -> None:
        self._db.close()

    def discard(self) -> None:
        """Close; if opening created the store, delete its file (and journal) and the folders made for it."""
        self.close()
        if not self.created or self.path == ":memory:":
            return
        for suffix in ("", "-wal", "-shm", "-journal"):
            self.file.with_name(self.file.name + suffix).unlink(missing_ok=True)
        for folder in self._created_folders:  # deepest first; one that holds something else now stays
            with contextlib.suppress(OSError):
                folder.rmdir()


def _why_read_only(file: Path) -> str:
    """Why this process cannot write the store at ``file`` (SQLite also writes beside it), or ``""``."""
    if not os.statvfs(file.parent).f_flag & os.ST_RDONLY and not os.access(file, os.W_OK):
        return "the file is read-only for this user"
    return _why_folder_read_only(file.parent)


def _why_folder_read_only(folder: Path) -> str:
    if os.statvfs(folder).f_flag & os.ST_RDONLY:
        return f"the file system of {folder} is mounted read-only"
    if not os.access(folder, os.W_OK):
        return f"its folder {folder} is read-only for this user, and SQLite writes its journal there"
    return ""


def _is_permission_error(exc: OSError) -> bool:
    return isinstance(exc, PermissionError) or exc.errno == errno.EROFS
