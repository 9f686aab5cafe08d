"""Fixtures of the API tests: a small synthetic city loaded into each store, and clients with keys.

Every test that takes ``store`` (directly or through ``app``/``client``) runs
twice: on SQLite and on the real Neo4j at ``KG_NEO4J_URL``, through the suite's
shared ``neo4j_server`` fixture (tests/conftest_stores.py): without that
variable the Neo4j runs skip with a one-line reason, or fail when
``KG_REQUIRE_NEO4J=1`` (CI never skips silently). Unlike the shared ``store``
fixture (emptied for every test), this one keeps the city loaded across tests
and reloads it only when something changed it.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from api.main import create_app
from kg.ingest import load_paths
from kg.settings import Settings
from kg.store import Store, open_store
from kg.synth import city_rows, write_bundle, write_jsonl

KEYS = {
    "read": "test-read-key-0123456789",
    "write": "test-write-key-0123456789",
    "admin": "test-admin-key-0123456789",
}
"""One key per role; the keys are never expected in any log line or error body."""

CITY_ASSETS = 300
CITY_SEED = 11


def auth(role: str) -> dict[str, str]:
    """Headers that authenticate with the key of ``role``."""
    return {"Authorization": f"Bearer {KEYS[role]}"}


def settings_for(store_url: str, **overrides: Any) -> Settings:
    """Settings with the test keys for ``store_url`` (``overrides`` e.g. smaller limits)."""
    keys = ",".join(f"{key}:{role}" for role, key in KEYS.items())
    return Settings(api_keys=keys, store=store_url, **overrides)


@dataclass
class City:
    """The test city: its rows (as :func:`kg.synth.city_rows` gives them) and files."""

    rows: dict[str, list[tuple[Any, ...]]]
    bundle: Path
    jsonl: Path

    def ids(self, table: str = "assets") -> list[str]:
        return [r[0] for r in self.rows[table]]

    def first(self, asset_type: str) -> str:
        return next(r[0] for r in self.rows["assets"] if r[1] == asset_type)


@pytest.fixture(scope="session")
def city(tmp_path_factory: pytest.TempPathFactory) -> City:
    rows = city_rows(CITY_ASSETS, seed=CITY_SEED)
    root = tmp_path_factory.mktemp("city")
    write_bundle(rows, root / "bundle")
    return City(rows, root / "bundle", write_jsonl(rows, root / "city.jsonl"))


class _Loaded:
    """A store holding the test city, reloaded when something else changed it."""

    def __init__(self, store: Store, city: City) -> None:
        self.store = store
        self.city = city
        self.version = -1

    def ensure(self) -> Store:
        if self.store.version() != self.version:
            self.store.clear()
            load_paths(self.store, [self.city.bundle])
            self.version = self.store.version()
        return self.store


@pytest.fixture(scope="session", params=["sqlite", pytest.param("neo4j", marks=pytest.mark.neo4j)])
def _loaded(request: pytest.FixtureRequest, city: City, tmp_path_factory: pytest.TempPathFactory) -> Iterator[_Loaded]:
    if request.param == "neo4j":
        # The suite's one Neo4j connection (tests/conftest_stores.py): it skips, or fails under
        # KG_REQUIRE_NEO4J=1, when KG_NEO4J_URL is not set. Other tests clear that database; _Loaded
        # notices (the version moves) and loads the city again.
        yield _Loaded(request.getfixturevalue("neo4j_server"), city)
        return
    store = open_store(f"sqlite:///{tmp_path_factory.mktemp('sqlite')}/api.db", create=True)
    try:
        yield _Loaded(store, city)
    finally:
        store.close()


@pytest.fixture
def store(_loaded: _Loaded) -> Store:
    """The test city's store (SQLite, then Neo4j), exactly the city's data at the start of each test."""
    return _loaded.ensure()


@pytest.fixture
def app(store: Store) -> FastAPI:
    """An app with the test keys over ``store``."""
    return create_app(settings_for(store.url), store=store)


@pytest.fixture
def client(app: FastAPI) -> Iterator[TestClient]:
    """A client of ``app``; errors the app cannot render are raised in the test, not hidden as 500s."""
    with TestClient(app) as c:
        yield c
