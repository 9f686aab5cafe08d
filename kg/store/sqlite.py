"""The embedded store: one SQLite file (standard library ``sqlite3``), WAL mode.

Each table of the bundle is a table here with the same columns; extra
columns of node rows live in a JSON ``props`` column. Every load is one
transaction, so a failed load leaves the file exactly as it was, and each
write increments the version counter that invalidates cached snapshots.
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any

from kg.analysis.graph import GraphSnapshot
from kg.errors import ElementNotFound, StoreUnavailable
from kg.load.plan import COLUMNS, NODE_TABLES, ExistingElement, LoadPlan
from kg.ontology import load_ontology
from kg.store.base import ProgressFn, SnapshotCache, Stats

__all__ = ["SQLiteStore"]

_SQL_TYPES = {
    "lat": "REAL", "lon": "REAL", "population": "INTEGER", "buffer_hours": "REAL", "intensity": "REAL",
    "annual_probability": "REAL", "threshold": "REAL", "beta": "REAL",
}
_KEYS = {
    "dependencies": ("dependent", "provider", "kind", "grp"),
    "exposures": ("asset", "zone"),
    "fragilities": ("hazard", "type", "asset"),
}
_INDEXES = (
    "CREATE INDEX IF NOT EXISTS dependencies_provider ON dependencies(provider)",
    "CREATE INDEX IF NOT EXISTS assets_region ON assets(region)",
    "CREATE INDEX IF NOT EXISTS assets_agency ON assets(agency)",
    "CREATE INDEX IF NOT EXISTS assets_type ON assets(type)",
    "CREATE INDEX IF NOT EXISTS regions_parent ON regions(parent)",
    "CREATE INDEX IF NOT EXISTS exposures_zone ON exposures(zone)",
)
_BATCH = 50_000
_LEVEL_TABLES = ("regions", "agencies")


def _column(name: str) -> str:
    # "group" is an SQL keyword; the table column is "grp", the public field stays "group".
    return "grp" if name == "group" else name


def _ddl(table: str) -> str:
    cols = [f"{_column(c)} {_SQL_TYPES.get(c, 'TEXT')}" for c in COLUMNS[table]]
    if table in NODE_TABLES:
        cols[0] = "id TEXT PRIMARY KEY"
        return f"CREATE TABLE IF NOT EXISTS {table} ({', '.join(cols)}) WITHOUT ROWID"
    # fragilities keys may be NULL (type or asset), so they are stored as '' in the key.
    return f"CREATE TABLE IF NOT EXISTS {table} ({', '.join(cols)}, PRIMARY KEY ({', '.join(_KEYS[table])}))"


def _upsert(table: str) -> str:
    cols = [_column(c) for c in COLUMNS[table]]
    keys = ("id",) if table in NODE_TABLES else _KEYS[table]
    updates = ", ".join(f"{c} = excluded.{c}" for c in cols if c not in keys) or None
    action = f"DO UPDATE SET {updates}" if updates else "DO NOTHING"
    marks = ", ".join("?" for _ in cols)
    return f"INSERT INTO {table} ({', '.join(cols)}) VALUES ({marks}) ON CONFLICT ({', '.join(keys)}) {action}"


class SQLiteStore:
    """Store protocol on one SQLite file."""

    def __init__(self, path: str, *, url: str | None = None) -> None:
        self.path = path
        self.url = url or f"sqlite:///{path}"
        try:
            if path != ":memory:":
                Path(path).parent.mkdir(parents=True, exist_ok=True)
            self._db = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
            self._db.execute("PRAGMA journal_mode=WAL")
            self._db.execute("PRAGMA synchronous=NORMAL")
            self._db.execute("PRAGMA busy_timeout=10000")
            # Bulk loads touch every page of the id and key indexes; a 256 MiB page cache keeps them in memory.
            self._db.execute(f"PRAGMA cache_size=-{256 * 1024}")
            self._create_schema()
        except sqlite3.Error as exc:
            raise StoreUnavailable(f"cannot open SQLite store {path!r}: {exc}") from exc
        self._cache = SnapshotCache()

    def _create_schema(self) -> None:
        with self._db:
            self._db.execute("BEGIN")
            for table in COLUMNS:
                self._db.execute(_ddl(table))
            for statement in _INDEXES:
                self._db.execute(statement)
            self._db.execute("CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value INTEGER)")
            self._db.execute("INSERT OR IGNORE INTO meta VALUES ('version', 0)")

    # ------------------------------------------------------------------ writes
    def write(self, plan: LoadPlan, *, progress: ProgressFn | None = None) -> None:
        """Upsert the whole plan in one transaction."""
        db = self._db
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
            db.execute("COMMIT")
        except BaseException:
            db.execute("ROLLBACK")
            raise

    @staticmethod
    def _encoder(table: str) -> Any:
        if table in NODE_TABLES:
            return lambda row: (*row[:-1], json.dumps(row[-1], ensure_ascii=False) if row[-1] else None)
        if table == "fragilities":
            # hazard, threshold, type, asset, beta: NULL keys become '' so the primary key works.
            return lambda row: (row[0], row[1], row[2] or "", row[3] or "", row[4])
        return None

    def clear(self) -> None:
        db = self._db
        db.execute("BEGIN IMMEDIATE")
        try:
            for table in COLUMNS:
                db.execute(f"DELETE FROM {table}")
            db.execute("UPDATE meta SET value = value + 1 WHERE key = 'version'")
            db.execute("COMMIT")
        except BaseException:
            db.execute("ROLLBACK")
            raise

    # ------------------------------------------------------------------ reads
    def version(self) -> int:
        row = self._db.execute("SELECT value FROM meta WHERE key = 'version'").fetchone()
        return int(row[0])

    def lookup(self, ids: Iterable[str]) -> dict[str, ExistingElement]:
        wanted = list(ids)
        found: dict[str, ExistingElement] = {}
        for start in range(0, len(wanted), 500):
            chunk = wanted[start : start + 500]
            marks = ",".join("?" * len(chunk))
            for table in NODE_TABLES:
                level = "level" if table in _LEVEL_TABLES else "NULL"
                query = f"SELECT id, {level} FROM {table} WHERE id IN ({marks})"
                for rid, lvl in self._db.execute(query, chunk):
                    found[rid] = ExistingElement(table, lvl)
        return found

    def rows(self, table: str) -> Iterator[tuple[Any, ...]]:
        cols = ", ".join(_column(c) for c in COLUMNS[table])
        cursor = self._db.execute(f"SELECT {cols} FROM {table} ORDER BY {self._order(table)}")
        if table in NODE_TABLES:
            for row in cursor:
                yield (*row[:-1], json.loads(row[-1]) if row[-1] else None)
        elif table == "fragilities":
            for row in cursor:
                yield (row[0], row[1], row[2] or None, row[3] or None, row[4])
        else:
            yield from cursor

    @staticmethod
    def _order(table: str) -> str:
        return "id" if table in NODE_TABLES else ", ".join(_KEYS[table])

    def get(self, element_id: str) -> dict[str, Any]:
        for table in NODE_TABLES:
            cols = COLUMNS[table]
            row = self._db.execute(f"SELECT {', '.join(cols)} FROM {table} WHERE id = ?", (element_id,)).fetchone()
            if row is not None:
                return self._element(table, row)
        raise ElementNotFound(element_id)

    @staticmethod
    def _element(table: str, row: tuple[Any, ...]) -> dict[str, Any]:
        record: dict[str, Any] = {"table": table}
        for name, value in zip(COLUMNS[table], row, strict=True):
            if name == "props":
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
        if q:
            where.append("(id LIKE ? ESCAPE '\\' OR name LIKE ? ESCAPE '\\' OR type LIKE ? ESCAPE '\\')")
            pattern = "%" + q.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"
            params += [pattern, pattern, pattern]
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
        cols = COLUMNS["assets"]
        query = f"SELECT {', '.join(cols)} FROM assets {clause} ORDER BY id LIMIT ?"
        return [self._element("assets", row) for row in self._db.execute(query, [*params, limit])]

    def stats(self) -> Stats:
        counts = {t: int(self._db.execute(f"SELECT count(*) FROM {t}").fetchone()[0]) for t in COLUMNS}
        by_type = dict(self._db.execute("SELECT type, count(*) FROM assets GROUP BY type ORDER BY type"))
        return Stats(counts=counts, assets_by_type=by_type, version=self.version())

    def snapshot(self) -> GraphSnapshot:
        return self._cache.get(self.version(), self.rows)

    def close(self) -> None:
        self._db.close()
