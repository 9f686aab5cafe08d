"""Store fixtures: one contract suite runs against SQLite and against a real Neo4j.

``store`` is parametrised over ``sqlite`` (a fresh file per test) and ``neo4j``
(the server at ``KG_NEO4J_URL``, cleared before each test). Without
``KG_NEO4J_URL`` the Neo4j cases are skipped with a one-line reason, unless
``KG_REQUIRE_NEO4J=1`` (CI), where they fail. Registered through
``pytest_plugins`` in tests/conftest.py.
"""

from __future__ import annotations

import os
import subprocess
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from kg.errors import StoreUnavailable
from kg.load.plan import LoadPlan, build_plan
from kg.store.base import Store
from kg.store.neo4j import Neo4jStore
from kg.store.sqlite import SQLiteStore
from kg.synth import city_rows, write_bundle
from tests.required import unavailable

__all__ = [
    "city_bundle",
    "load",
    "neo4j_server",
    "neo4j_store",
    "neo4j_url",
    "sqlite_store",
    "store",
    "tmpfs",
]

URL_ENV = "KG_NEO4J_URL"
REQUIRE_ENV = "KG_REQUIRE_NEO4J"


def neo4j_url() -> str:
    """The Neo4j URL to test against; skips (or fails under ``KG_REQUIRE_NEO4J=1``) when there is none."""
    url = os.environ.get(URL_ENV)
    if url:
        return url
    unavailable(REQUIRE_ENV, f"{REQUIRE_ENV}=1 but {URL_ENV} is not set: start Neo4j with `scripts/neo4j start` and "
                f"export {URL_ENV}=<the bolt:// URL it prints>",
                f"Neo4j not configured: set {URL_ENV} (scripts/neo4j start prints one)")


def load(store: Store, *paths: Path | str) -> LoadPlan:
    """Validate ``paths`` against ``store`` and write them, as ``kg load`` does; returns the plan."""
    plan = build_plan(list(paths), store)
    store.write(plan)
    return plan


@pytest.fixture(scope="session")
def neo4j_server() -> Iterator[Neo4jStore]:
    """One connection to the test server for the whole session (tests clear it themselves)."""
    url = neo4j_url()
    try:
        server = Neo4jStore(url)
    except StoreUnavailable as exc:
        pytest.fail(f"{URL_ENV}={url} is set but unusable: {exc}", pytrace=False)
    yield server
    server.close()


@pytest.fixture
def neo4j_store(neo4j_server: Neo4jStore) -> Neo4jStore:
    """The Neo4j test database, emptied (its status events too, which ``clear`` keeps)."""
    from tests.helpers import forget_events

    neo4j_server.clear()
    forget_events(neo4j_server)
    return neo4j_server


@pytest.fixture
def sqlite_store(tmp_path: Path) -> Iterator[SQLiteStore]:
    """A fresh SQLite store file."""
    store = SQLiteStore(str(tmp_path / "kg.db"), create=True)
    yield store
    store.close()


@pytest.fixture(params=["sqlite", pytest.param("neo4j", marks=pytest.mark.neo4j)])
def store(request: pytest.FixtureRequest) -> Any:
    """Each store in turn, empty."""
    return request.getfixturevalue(f"{request.param}_store")


@pytest.fixture(scope="session")
def city_bundle(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A small synthetic city written as a CSV bundle (props, Chinese names, hazards included)."""
    folder = tmp_path_factory.mktemp("city")
    write_bundle(city_rows(400, seed=11), folder)
    return folder


@pytest.fixture
def tmpfs() -> Iterator[Path]:
    """A 2 MiB tmpfs of the test's own: a disk that fills up, and can be remounted read-only.

    Mounting needs root (the suite runs as root in CI); elsewhere the test is skipped, saying why.
    """
    folder = Path(tempfile.mkdtemp(prefix="citykg-tmpfs-"))
    mounted = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=2m,mode=0755", "tmpfs", str(folder)],
                             capture_output=True, text=True)
    if mounted.returncode != 0:
        folder.rmdir()
        pytest.skip(f"cannot mount a tmpfs here (needs root): {mounted.stderr.strip()}")
    try:
        yield folder
    finally:
        subprocess.run(["umount", "-l", str(folder)], check=True)
        folder.rmdir()
