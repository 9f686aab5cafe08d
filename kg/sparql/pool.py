"""A few SPARQL worker processes, each answering one query at a time, killed at a query's deadline.

A query is sent to an idle worker (:mod:`kg.sparql.worker`) over a socket
pair. If its answer has not come by the deadline the worker is killed
(SIGKILL) and reaped, so the query stops using CPU at once; a new worker is
started the next time one is needed. Workers start on first use, and end by
themselves when the parent closes their socket (or dies).
"""

from __future__ import annotations

import json
import socket
import subprocess
import sys
import threading
import time
from dataclasses import dataclass, field
from multiprocessing.connection import Connection
from typing import Any

from kg.sparql.errors import QueryTimeout, WorkerFailed, WorkersBusy

__all__ = ["WorkerPool"]


@dataclass(eq=False)
class _Worker:
    process: subprocess.Popen[bytes]
    conn: Connection
    busy: bool = field(default=False)

    @classmethod
    def start(cls) -> _Worker:
        ours, theirs = socket.socketpair()
        try:
            process = subprocess.Popen([sys.executable, "-m", "kg.sparql.worker", "serve", str(theirs.fileno())],
                                       pass_fds=(theirs.fileno(),), stdin=subprocess.DEVNULL)
        finally:
            theirs.close()
        return cls(process, Connection(ours.detach()))

    def stop(self) -> None:
        """Kill the process (if it still runs) and reap it."""
        self.conn.close()
        if self.process.poll() is None:
            self.process.kill()
        self.process.wait()


class WorkerPool:
    """At most ``size`` worker processes; :meth:`run` hands a request to an idle one.

    Parameters
    ----------
    size
        How many queries may run at once.
    """

    def __init__(self, size: int = 2) -> None:
        if size < 1:
            raise ValueError("a worker pool needs at least one worker")
        self.size = size
        self._workers: list[_Worker] = []
        self._cond = threading.Condition()
        self._closed = False

    def pids(self) -> list[int]:
        """Process ids of the live workers."""
        with self._cond:
            return [w.process.pid for w in self._workers]

    def _acquire(self, deadline: float) -> _Worker:
        with self._cond:
            while True:
                if self._closed:
                    raise WorkerFailed("the SPARQL workers are shut down")
                idle = next((w for w in self._workers if not w.busy), None)
                if idle is None and len(self._workers) < self.size:
                    idle = _Worker.start()
                    self._workers.append(idle)
                if idle is not None:
                    idle.busy = True
                    return idle
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    raise WorkersBusy(f"all {self.size} SPARQL workers stayed busy; try again shortly")
                self._cond.wait(remaining)

    def _release(self, worker: _Worker, *, dead: bool) -> None:
        if dead:
            worker.stop()
        with self._cond:
            if dead and worker in self._workers:
                self._workers.remove(worker)
            worker.busy = False
            self._cond.notify()

    def run(self, request: dict[str, Any], *, timeout_s: float) -> tuple[dict[str, Any], bytes]:
        """Send ``request`` to a worker and return its answer (header, body) within ``timeout_s``.

        Raises
        ------
        QueryTimeout
            No answer by the deadline: the worker was killed.
        WorkersBusy
            No worker became free before the deadline.
        WorkerFailed
            The worker died without answering.
        """
        deadline = time.monotonic() + timeout_s
        worker = self._acquire(deadline)
        dead = True
        try:
            try:
                worker.conn.send_bytes(json.dumps(request).encode("utf-8"))
                if not worker.conn.poll(max(deadline - time.monotonic(), 0)):
                    raise QueryTimeout(timeout_s)
                header: dict[str, Any] = json.loads(worker.conn.recv_bytes())
                body = worker.conn.recv_bytes()
            except (EOFError, OSError) as exc:
                code = worker.process.poll()
                raise WorkerFailed(f"the SPARQL worker stopped without answering (exit code {code}); "
                                   "try again") from exc
            dead = False
            return header, body
        finally:
            self._release(worker, dead=dead)

    def close(self) -> None:
        """Stop every worker (a running query is killed)."""
        with self._cond:
            self._closed = True
            workers, self._workers = self._workers, []
            self._cond.notify_all()
        for worker in workers:
            worker.stop()
