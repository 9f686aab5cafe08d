"""Read-only queries of one snapshot build on a SQLite file, each in a process of its own when the file is big.

A snapshot build reads each big table with one aggregate query
(:mod:`kg.store.sqlite_snapshot`). SQLite releases Python's lock while it
works, yet two such queries on connections of one process do not run at once:
each row's value is copied into memory SQLite allocates and frees under a lock
every connection of the process shares, so two threads wait on each other (at
a million assets, two threads took longer than the same queries one after the
other). Processes share no such lock. So a build of a big file runs each query
in a short-lived child process: this file, run by the same Python in isolated
mode (``-I -S``: the standard library only, started in a few tens of
milliseconds, never the caller's main module), reading one request on stdin
and writing the result on stdout. A small file, or a process that cannot start
children, runs the queries here, one at a time.

Every query opens its own connection in a read transaction that also reads
the store's version, and raises :class:`Moved` when it is not the version
asked for. Only the standard library may be imported here (see above).
"""

from __future__ import annotations

import pickle
import sqlite3
import subprocess
import sys
import threading
from collections.abc import Sequence
from typing import Any

__all__ = ["BUSY_TIMEOUT_S", "Moved", "Scanner", "query"]

BUSY_TIMEOUT_S = 10
"""How long a connection waits for a lock another process holds before failing as busy."""


class Moved(Exception):
    """The store's version is not the one the build asked for (a load committed in between)."""


def query(uri: str, version: int, sql: str, params: Sequence[Any] = (), one: bool = True) -> Any:
    """Run ``sql`` in a read transaction on a connection of its own; values of text columns come as bytes.

    ``one``: return the first row, else all rows. Raises :class:`Moved` when the store is not at ``version``.
    """
    db = sqlite3.connect(uri, uri=True, timeout=BUSY_TIMEOUT_S, isolation_level=None, check_same_thread=False)
    try:
        db.text_factory = bytes
        db.execute("BEGIN")
        seen = int(db.execute("SELECT value FROM meta WHERE key = 'version'").fetchone()[0])
        if seen != version:
            raise Moved
        cursor = db.execute(sql, params)
        result = cursor.fetchone() if one else cursor.fetchall()
        db.execute("COMMIT")
        return result
    finally:
        db.close()


def _child() -> None:
    """The child's side: one pickled ``(uri, version, sql, params, one)`` in, one pickled outcome out."""
    uri, version, sql, params, one = pickle.load(sys.stdin.buffer)
    try:
        outcome: tuple[Any, ...] = ("rows", query(uri, version, sql, params, one))
    except Moved:
        outcome = ("moved",)
    except sqlite3.Error as exc:
        outcome = ("error", str(exc), getattr(exc, "sqlite_errorcode", None))
    pickle.dump(outcome, sys.stdout.buffer, protocol=pickle.HIGHEST_PROTOCOL)


class _NoChild(Exception):
    """No child process could be started or it died without an answer: run the query here."""


def _in_child(uri: str, version: int, sql: str, params: Sequence[Any], one: bool) -> Any:
    if not sys.executable:  # an embedded interpreter: no Python to start
        raise _NoChild
    request = pickle.dumps((uri, version, sql, list(params), one), protocol=pickle.HIGHEST_PROTOCOL)
    try:
        child = subprocess.run([sys.executable, "-I", "-S", __file__], input=request, capture_output=True,
                               check=False)
    except OSError as exc:
        raise _NoChild from exc
    try:  # what our own child wrote just now
        outcome = pickle.loads(child.stdout) if child.returncode == 0 else None
    except Exception as exc:  # sys.executable was not this Python after all
        raise _NoChild from exc
    if not isinstance(outcome, tuple) or not outcome or outcome[0] not in ("rows", "moved", "error"):
        raise _NoChild
    if outcome[0] == "moved":
        raise Moved
    if outcome[0] == "error":
        error = sqlite3.OperationalError(outcome[1])
        error.sqlite_errorcode = outcome[2]  # read by SQLiteStore's error mapping
        raise error
    return outcome[1]


class Scanner:
    """Runs the queries of one build at one store version: in child processes (``processes``) or here.

    Called from several threads at once. Children run at once; here, queries run one at a time (see
    the module's docstring).
    """

    def __init__(self, uri: str, version: int, *, processes: bool) -> None:
        self.uri = uri
        self.version = version
        self.processes = processes
        self._here = threading.Lock()

    def __call__(self, sql: str, params: Sequence[Any] = (), *, one: bool = True, here: bool = False) -> Any:
        """The result of ``sql`` (see :func:`query`); ``here``: a quick query that allocates little, run here."""
        if self.processes:
            if here:
                return query(self.uri, self.version, sql, params, one)
            try:
                return _in_child(self.uri, self.version, sql, params, one)
            except _NoChild:
                self.processes = False
        with self._here:
            return query(self.uri, self.version, sql, params, one)


if __name__ == "__main__":
    _child()
