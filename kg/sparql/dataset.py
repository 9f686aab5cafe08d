"""The SPARQL dataset of a store: an on-disk Oxigraph store built from the export, once per version.

Its **default graph** holds every triple ``kg export`` writes for the whole
graph, plus the ontology (``citykg.ttl``), so that a query can climb the class
hierarchy (``?a a/rdfs:subClassOf* ckg:Asset``). Its **named graphs** are
``BASE graph/ontology`` (the ontology alone) and whatever
:class:`NamedGraphSource` objects add: that is the hook for the graph of live
status events, which changes without changing the graph's version and so
brings its own version into the dataset's key.

Building streams the export as N-Quads into a ``build`` process
(:mod:`kg.sparql.worker`) that bulk-loads it, so neither side holds the graph
in memory and the parse runs on another core. The store's version is read
before and after: a load in between means the export may mix two versions,
and it is read again.

:class:`DatasetCache` builds lazily, one build at a time, on a thread of its
own (a caller that stops waiting does not stop the build), keeps the newest
dataset, and deletes an older one once no query uses it.
"""

from __future__ import annotations

import contextlib
import io
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Protocol, TextIO

from kg.ontology import ontology_path
from kg.rdf.export import export_rdf
from kg.rdf.terms import scheme
from kg.sparql.errors import DatasetNotReady, SparqlError
from kg.store.base import Store

__all__ = ["Dataset", "DatasetCache", "NamedGraphSource", "build_dataset", "ontology_graph"]

_ATTEMPTS = 3


def ontology_graph() -> str:
    """IRI of the named graph holding the ontology alone (``BASE graph/ontology``)."""
    return scheme().graph("ontology")


class NamedGraphSource(Protocol):
    """A named graph the dataset holds beside the export, with its own version (e.g. live status events)."""

    graph: str
    """The graph's IRI."""

    def version(self, store: Store) -> int:
        """A number that changes whenever the graph's triples do."""
        ...

    def write(self, store: Store, out: TextIO) -> int:
        """Write the graph's triples to ``out`` as N-Quads lines naming :attr:`graph`; return how many."""
        ...


@dataclass(eq=False)
class Dataset:
    """One built dataset: where it lies and which versions it holds."""

    path: Path
    version: int
    """The store's version the export was read at."""
    store: int = 0
    """Which store object it was read from (its ``id``): versions of two stores are not comparable."""
    sources: tuple[int, ...] = ()
    """The versions of the named graph sources."""
    triples: int = 0
    built_s: float = 0.0
    users: int = field(default=0, repr=False)
    retired: bool = field(default=False, repr=False)


def build_dataset(store: Store, directory: Path, *, sources: Sequence[NamedGraphSource] = ()) -> Dataset:
    """Build the dataset of ``store`` in ``directory`` (absent or empty).

    Raises
    ------
    kg.sparql.errors.SparqlError
        The build process failed (its message is included).
    kg.errors.KGError
        Reading the store failed (e.g. :class:`~kg.errors.StoreUnavailable`).
    """
    started = time.monotonic()
    attempt = 1
    while True:
        version = store.version()
        source_versions = tuple(s.version(store) for s in sources)
        triples = _run_build(store, directory, sources)
        if store.version() == version or attempt == _ATTEMPTS:
            # After the last attempt a busy store still gets a dataset, labelled with the older
            # version, so that the next query asks for a newer one.
            return Dataset(directory, version, id(store), source_versions, triples, time.monotonic() - started)
        shutil.rmtree(directory, ignore_errors=True)
        attempt += 1


def _run_build(store: Store, directory: Path, sources: Sequence[NamedGraphSource]) -> int:
    with tempfile.TemporaryFile() as errors:
        process = subprocess.Popen(
            [sys.executable, "-m", "kg.sparql.worker", "build", str(directory), ontology_path("citykg.ttl"),
             ontology_graph()],
            stdin=subprocess.PIPE, stdout=subprocess.DEVNULL, stderr=errors)
        assert process.stdin is not None
        out = io.TextIOWrapper(process.stdin, encoding="utf-8", newline="\n")
        triples = 0
        try:
            triples = export_rdf(store, out, fmt="nt").triples
            for source in sources:
                triples += source.write(store, out)
            out.close()
        except BrokenPipeError:  # the build process died: its exit code and message say why
            with contextlib.suppress(OSError):
                out.close()
        except BaseException:
            process.kill()
            process.wait()
            shutil.rmtree(directory, ignore_errors=True)
            raise
        if process.wait() != 0:
            errors.seek(0)
            message = errors.read().decode("utf-8", "replace").strip().splitlines()
            shutil.rmtree(directory, ignore_errors=True)
            raise SparqlError("building the SPARQL dataset failed: " + (message[-1] if message else
                                                                        f"exit code {process.returncode}"))
        return triples


class DatasetCache:
    """The newest dataset of a store, built on demand in ``root``.

    It keeps one dataset: asked about another store object than the last one, it builds anew.

    Parameters
    ----------
    root
        A folder for the datasets; by default a temporary one, removed by :meth:`close`.
    sources
        Named graphs to add beside the export (see :class:`NamedGraphSource`).
    """

    def __init__(self, root: Path | None = None, *, sources: Sequence[NamedGraphSource] = ()) -> None:
        self._owned = root is None
        self.root = Path(tempfile.mkdtemp(prefix="citykg-sparql-")) if root is None else root
        self.root.mkdir(parents=True, exist_ok=True)
        self.sources = tuple(sources)
        self._cond = threading.Condition()
        self._current: Dataset | None = None
        self._building = False
        self._builds = 0
        self._finished = 0
        self._failure: BaseException | None = None
        self._closed = False

    @property
    def current(self) -> Dataset | None:
        """The newest dataset built (None before the first build)."""
        return self._current

    def acquire(self, store: Store, *, min_version: int, timeout_s: float | None = None) -> Dataset:
        """A dataset holding at least ``min_version`` of ``store`` (built if need be); :meth:`release` it after.

        Raises
        ------
        kg.sparql.errors.DatasetNotReady
            The build did not end within ``timeout_s`` (it goes on in the background).
        kg.errors.KGError
            The build this call waited for failed.
        """
        deadline = None if timeout_s is None else time.monotonic() + timeout_s
        sources = tuple(s.version(store) for s in self.sources)
        with self._cond:
            finished_before: int | None = None
            while True:
                if self._closed:
                    raise SparqlError("the SPARQL datasets are shut down")
                current = self._current
                if current is not None and current.store == id(store) and current.version >= min_version and \
                        all(have >= want for have, want in zip(current.sources, sources, strict=True)):
                    current.users += 1
                    return current
                if finished_before is not None and self._finished > finished_before and self._failure is not None:
                    raise self._failure  # the build this call waited for failed
                if not self._building:
                    self._building = True
                    self._failure = None
                    threading.Thread(target=self._build, args=(store,), name="citykg-sparql-build",
                                     daemon=True).start()
                finished_before = self._finished
                remaining = None if deadline is None else deadline - time.monotonic()
                if remaining is not None and remaining <= 0:
                    raise DatasetNotReady(f"the SPARQL dataset of the graph's version {min_version} is still being "
                                          "built; try again in a few seconds")
                self._cond.wait(remaining)

    def release(self, dataset: Dataset) -> None:
        """A query is done with ``dataset``."""
        with self._cond:
            dataset.users -= 1
            delete = dataset.retired and dataset.users == 0
        if delete:
            shutil.rmtree(dataset.path, ignore_errors=True)

    def _build(self, store: Store) -> None:
        with self._cond:
            self._builds += 1
            number = self._builds
        directory: Path | None = None
        try:
            # A folder of its own even when several server processes share KG_SPARQL_DIR.
            directory = Path(tempfile.mkdtemp(prefix=f"dataset-{number}-", dir=self.root))
            dataset = build_dataset(store, directory, sources=self.sources)
        except BaseException as exc:
            if directory is not None:
                shutil.rmtree(directory, ignore_errors=True)
            with self._cond:
                self._failure = exc
                self._building = False
                self._finished += 1
                self._cond.notify_all()
            return
        with self._cond:
            old, self._current = self._current, dataset
            self._building = False
            self._finished += 1
            if self._closed:
                dataset.retired = True
            if old is not None:
                old.retired = True
            delete = [d for d in (old, dataset if self._closed else None) if d is not None and d.users == 0]
        for d in delete:
            shutil.rmtree(d.path, ignore_errors=True)
        with self._cond:  # waiters wake once the old dataset is gone (tests can tell)
            self._cond.notify_all()

    def close(self) -> None:
        """Forget the datasets and delete them (the root too, if this cache made it)."""
        with self._cond:
            self._closed = True
            current, self._current = self._current, None
            if current is not None:
                current.retired = True
            idle = current is not None and current.users == 0
        if idle:
            assert current is not None
            shutil.rmtree(current.path, ignore_errors=True)
        if self._owned:
            shutil.rmtree(self.root, ignore_errors=True)
