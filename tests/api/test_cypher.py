"""``POST /v1/cypher``: read-only Cypher on Neo4j with row and time limits; 400 on SQLite."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient

from api.main import create_app
from kg.store import Store
from tests.api.conftest import auth, settings_for

# Each test runs on the one store it is about (instead of skipping on the other one).
neo4j_only = pytest.mark.parametrize("_loaded", ["neo4j"], indirect=True)


def _neo4j_only(store: Store) -> None:
    assert hasattr(store, "run_cypher"), "this test runs on the Neo4j store"


@pytest.mark.parametrize("_loaded", ["sqlite"], indirect=True)
def test_sqlite_store_answers_400(client: TestClient, store: Store) -> None:
    r = client.post("/v1/cypher", json={"query": "MATCH (n) RETURN n"}, headers=auth("read"))
    assert r.status_code == 400 and r.json()["title"] == "Unsupported operation"


@neo4j_only
def test_read_query_returns_rows(client: TestClient, store: Store) -> None:
    _neo4j_only(store)
    r = client.post("/v1/cypher", json={"query": "MATCH (a:Asset) WHERE a.type = $t RETURN a.id AS id ORDER BY id",
                                        "params": {"t": "PowerPlant"}}, headers=auth("read"))
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["columns"] == ["id"] and body["rows"] and not body["truncated"]
    assert all(set(row) == {"id"} for row in body["rows"])


@pytest.mark.parametrize("query", ["CREATE (n:Element {id: 'evil'})", "MATCH (n) DETACH DELETE n",
                                   "CREATE INDEX evil FOR (n:Asset) ON (n.name)"])
@neo4j_only
def test_writes_are_refused_with_422(client: TestClient, store: Store, query: str) -> None:
    _neo4j_only(store)
    version = store.version()
    r = client.post("/v1/cypher", json={"query": query}, headers=auth("admin"))
    assert r.status_code == 422 and r.json()["field"] == "query", r.text
    assert store.version() == version


@neo4j_only
def test_syntax_error_is_422(client: TestClient, store: Store) -> None:
    _neo4j_only(store)
    r = client.post("/v1/cypher", json={"query": "MATCH (n RETURN n"}, headers=auth("read"))
    assert r.status_code == 422 and r.json()["field"] == "query"


@neo4j_only
def test_row_limit_truncates(store: Store) -> None:
    _neo4j_only(store)
    with TestClient(create_app(settings_for(store.url, cypher_row_limit=5), store=store)) as c:
        r = c.post("/v1/cypher", json={"query": "MATCH (a:Asset) RETURN a.id"}, headers=auth("read"))
        assert r.status_code == 200 and len(r.json()["rows"]) == 5 and r.json()["truncated"]


@neo4j_only
def test_time_limit_is_504(store: Store) -> None:
    _neo4j_only(store)
    with TestClient(create_app(settings_for(store.url, cypher_timeout_s=0.5), store=store)) as c:
        slow = "UNWIND range(1, 100000000) AS x WITH x WHERE x % 7 = 0 RETURN count(*)"
        r = c.post("/v1/cypher", json={"query": slow}, headers=auth("read"))
        assert r.status_code == 504 and r.json()["field"] == "query", r.text


@pytest.mark.parametrize("body", [{}, {"query": ""}, {"query": "RETURN 1", "params": []}, {"query": 5}])
def test_bad_bodies_are_422(client: TestClient, body: object) -> None:
    r = client.post("/v1/cypher", json=body, headers=auth("read"))
    assert r.status_code == 422 and r.json()["field"] in {"query", "params"}


def test_needs_a_key(client: TestClient) -> None:
    assert client.post("/v1/cypher", json={"query": "RETURN 1"}).status_code == 401


def test_integers_beyond_64_bits_are_422_not_a_crash(client: TestClient) -> None:
    r = client.post("/v1/cypher", json={"query": "RETURN $x", "params": {"x": [1, 2**64]}}, headers=auth("read"))
    assert r.status_code == 422 and r.json()["field"] == "params"
    assert "params.x[1]" in r.json()["detail"]
