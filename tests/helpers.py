"""Small shared test helpers: writing tiny bundles and running the CLI in-process."""

from __future__ import annotations

import dataclasses
from collections.abc import Awaitable, Callable, Mapping
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any, TypeVar

import anyio
import numpy as np
from typer.testing import CliRunner, Result

from kg.cli import _register, app
from kg.i18n import current_language, language
from kg.schema import TABLES
from kg.snapshot import GraphSnapshot
from kg.store import Store

__all__ = ["all_rows", "assert_snapshots_equal", "forget_events", "run_async", "run_kg", "write_files"]

T = TypeVar("T")


def run_async(fn: Callable[..., Awaitable[T]], *args: Any) -> T:
    """``anyio.run(fn, *args)`` on a thread of its own: the browser tests' session-wide Playwright keeps an
    event loop running on the main thread, where a second ``anyio.run`` is refused."""
    with ThreadPoolExecutor(max_workers=1) as pool:
        return pool.submit(anyio.run, fn, *args).result()

_register()
_runner = CliRunner()


def write_files(folder: Path, files: Mapping[str, str | bytes]) -> Path:
    """Write ``{name: content}`` into ``folder`` (created) and return it."""
    folder.mkdir(parents=True, exist_ok=True)
    for name, content in files.items():
        path = folder / name
        if isinstance(content, bytes):
            path.write_bytes(content)
        else:
            path.write_text(content, encoding="utf-8")
    return folder


def run_kg(*args: str) -> Result:
    """Run ``kg ARGS`` in-process and return the click result (stdout and stderr apart).

    The language the command chose (``--lang``) ends with it: lazy messages made by later tests in this
    process would otherwise be said in it.
    """
    with language(current_language()):
        return _runner.invoke(app, list(args), catch_exceptions=False)


def all_rows(store: Store) -> dict[str, list[tuple[Any, ...]]]:
    """Every row of every table, in the store's (sorted) order."""
    return {table: list(store.rows(table)) for table in TABLES}


def assert_snapshots_equal(a: GraphSnapshot, b: GraphSnapshot) -> None:
    """Every field of two snapshots is equal (arrays element-wise, NaN equal to NaN), except the version."""
    for f in dataclasses.fields(GraphSnapshot):
        if f.name == "version":
            continue
        x, y = getattr(a, f.name), getattr(b, f.name)
        if isinstance(x, np.ndarray):
            assert x.dtype == y.dtype and x.shape == y.shape, \
                f"snapshot.{f.name}: {x.dtype}{x.shape} vs {y.dtype}{y.shape}"
            assert np.array_equal(x, y, equal_nan=x.dtype.kind == "f"), f"snapshot.{f.name} differs"
        else:
            assert x == y, f"snapshot.{f.name} differs"


def forget_events(store: Any) -> None:
    """Delete every status event: the stores keep them for good (``clear`` too), tests start from none."""
    inner = getattr(store, "_store", store)  # the API's SerializedStore wraps the SQLite store
    db = getattr(inner, "_db", None)
    if db is not None:
        db.execute("DELETE FROM status_events")
    else:
        inner._driver.execute_query("MATCH (e:StatusEvent) DETACH DELETE e", database_=inner.database)
