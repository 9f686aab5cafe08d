"""Read-only Cypher against a real Neo4j: tricks that once got past the check, the server's own limits, runaways.

The fuzz cases wrap statements that must never run (LOAD CSV of a marker file and of a
URL on a listener this test opens, ``db.stats.*``, ``dbms.*``, ``SHOW``/``TERMINATE``,
writes) in comment, string, line-terminator and prefix tricks, and send each through
the store (``run_cypher``); a sample goes through ``kg cypher`` and ``POST /v1/cypher``
too. While they run, Neo4j's own query collector (``db.stats.collect``, started by the
test itself, not through CityKG) records every statement the server executes: none of
them may use an operator or procedure outside the allowlists. docs/security.md
describes what each check stands for.
"""

from __future__ import annotations

import json
import socket
import threading
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from neo4j import GraphDatabase

from api.main import create_app
from kg.errors import CypherRefused, ValidationError
from kg.store.neo4j import Neo4jStore
from kg.store.neo4j_cypher import ALLOWED_PROCEDURES, READ_OPERATORS
from tests.api.conftest import auth, settings_for
from tests.conftest_stores import load, neo4j_url
from tests.helpers import run_kg
from tests.test_store_contract import TINY, bundle

pytestmark = pytest.mark.neo4j

TERMINATORS = ["\n", "\r", "\r\n", "\u2028", "\u2029", "\u0085"]
SECRET = f"SECRET-PARAM-{uuid.uuid4().hex}"


@dataclass
class Listener:
    """A TCP listener on loopback that counts the connections it gets."""

    port: int
    connections: list[tuple[str, int]] = field(default_factory=list)


@pytest.fixture
def listener() -> Iterator[Listener]:
    server = socket.create_server(("127.0.0.1", 0))
    server.settimeout(0.2)
    found = Listener(server.getsockname()[1])
    stop = threading.Event()

    def accept() -> None:
        while not stop.is_set():
            try:
                conn, peer = server.accept()
            except TimeoutError:
                continue
            except OSError:
                return
            found.connections.append(peer)
            conn.close()

    thread = threading.Thread(target=accept, daemon=True)
    thread.start()
    yield found
    stop.set()
    thread.join(timeout=5)
    server.close()


@pytest.fixture
def marker(tmp_path: Path) -> tuple[Path, str]:
    """A file whose content no query result may ever carry."""
    secret = f"marker-{uuid.uuid4().hex}"
    path = tmp_path / "marker.csv"
    path.write_text(f"{secret},x\n")
    path.chmod(0o644)
    tmp_path.chmod(0o755)
    return path, secret


def heads(marker: Path, port: int) -> list[str]:
    """Statements that must never run through CityKG (each returns rows when it does run)."""
    return [
        f"LOAD CSV FROM 'file://{marker}' AS l RETURN l[0] AS leak",
        f"LOAD CSV FROM 'http://127.0.0.1:{port}/x.csv' AS l RETURN l[0] AS leak",
        "CALL db.stats.retrieve('QUERIES') YIELD data RETURN data AS leak",
        "CALL db.stats.collect('QUERIES') YIELD section RETURN section AS leak",
        "CALL dbms.listConfig() YIELD name RETURN name AS leak",
        "CALL db.info() YIELD name RETURN name AS leak",
        "SHOW TRANSACTIONS YIELD currentQuery RETURN currentQuery AS leak",
        "TERMINATE TRANSACTIONS 'neo4j-transaction-1'",
        "CALL db.createLabel('Evil')",
        "UNWIND [1] AS x CALL (x) { RETURN x AS leak } IN TRANSACTIONS RETURN leak",
    ]


def tricks(head: str) -> Iterator[str]:
    """``head`` hidden or wrapped in ways a text-level check could misread."""
    for t in TERMINATORS:
        yield f"//x{t}{head} /*{t}EXPLAIN RETURN 1 // */"
        yield f"// EXPLAIN RETURN 1{t}{head}"
        yield f"/* {t} */{t}{head}"
        yield f"RETURN 1 AS one //{t}UNION ALL {head}"
    yield f"/* /* nested */ {head} /* */"
    yield f"{head} /* unterminated"
    yield f"/*/ {head} */"
    yield f"RETURN '//' AS a {head}"
    yield f"RETURN '\\'//' AS a\n{head}"
    yield f"MATCH (`//`) WITH 1 AS x {head}"
    for prefix in ["EXPLAIN ", "PROFILE ", "CYPHER runtime=slotted ", "CYPHER 5 ", "USE neo4j ",
                   "CYPHER expressionEngine=interpreted EXPLAIN ", "explain\r", "/**/PROFILE/**/"]:
        yield prefix + head
    yield f"CALL () {{ {head} }} RETURN *"
    yield f"RETURN COLLECT {{ {head} }} AS c"
    yield f"MATCH (n) WHERE EXISTS {{ {head} }} RETURN n"


def cases(marker: Path, port: int) -> list[str]:
    return [query for head in heads(marker, port) for query in tricks(head)]


def _direct(url: str, query: str, **params: Any) -> list[dict[str, Any]]:
    with GraphDatabase.driver(url) as driver:
        return [r.data() for r in driver.execute_query(query, params).records]


def _operators(plan: dict[str, Any]) -> Iterator[str]:
    if "operator" in plan:
        yield str(plan["operator"])
    for side in ("lhs", "rhs"):
        if isinstance(plan.get(side), dict):
            yield from _operators(plan[side])


def _executed(url: str) -> list[tuple[str, set[str]]]:
    """Statements the server executed since collection started, with their plans' operators."""
    rows = _direct(url, "CALL db.stats.retrieve('QUERIES') YIELD data RETURN data")
    return [(row["data"]["query"], set(_operators(row["data"].get("queryExecutionPlan", {})))) for row in rows]


def _assert_leaks_nothing(text: str, secret: str) -> None:
    assert secret not in text and SECRET not in text, text[:500]


def test_the_read_only_check_holds_against_tricks(neo4j_store: Neo4jStore, marker: tuple[Path, str],
                                                  listener: Listener) -> None:
    url = neo4j_url()
    path, secret = marker
    queries = cases(path, listener.port)
    assert len(queries) > 300
    _direct(url, "CALL db.stats.clear('QUERIES')")
    _direct(url, "CALL db.stats.collect('QUERIES', {durationSeconds: 600})")
    try:
        _direct(url, "RETURN $p AS p", p=SECRET)  # another caller's parameter
        outcomes: dict[str, int] = {}
        for query in queries:
            try:
                result = neo4j_store.run_cypher(query, timeout_s=20)
            except (CypherRefused, ValidationError) as exc:
                outcomes[type(exc).__name__] = outcomes.get(type(exc).__name__, 0) + 1
                _assert_leaks_nothing(str(exc), secret)
                continue
            outcomes["ran"] = outcomes.get("ran", 0) + 1
            _assert_leaks_nothing(json.dumps(result.rows), secret)
            assert all("leak" not in row for row in result.rows), (query, result.rows)
        executed = _executed(url)
    finally:
        _direct(url, "CALL db.stats.stop('QUERIES')")
        _direct(url, "CALL db.stats.clear('QUERIES')")
    assert outcomes.get("CypherRefused", 0) > len(queries) // 2, outcomes
    assert not listener.connections, "a query reached the test's TCP listener"
    assert "Evil" not in {r["label"] for r in _direct(url, "CALL db.labels() YIELD label RETURN label")}
    assert any(q == "RETURN $p AS p" for q, _ in executed), "the collector records what the server runs"
    # what the server really executed on CityKG's behalf (EXPLAIN plans nothing)
    allowed = READ_OPERATORS - {"ProcedureCall"}
    ran = [(q, ops) for q, ops in executed if q in queries]
    for query, operators in ran:
        assert operators <= allowed, (query, operators - allowed)


def test_the_faces_refuse_the_tricks_too(neo4j_store: Neo4jStore, marker: tuple[Path, str],
                                         listener: Listener) -> None:
    path, secret = marker
    sample = [f"//x{t}{head} /*{t}EXPLAIN RETURN 1 // */" for t in TERMINATORS
              for head in heads(path, listener.port)[:3]]
    with TestClient(create_app(settings_for(neo4j_store.url), store=neo4j_store)) as client:
        for query in sample:
            r = client.post("/v1/cypher", json={"query": query}, headers=auth("read"))
            assert r.status_code == 422 and r.json()["field"] == "query", (query, r.text)
            _assert_leaks_nothing(r.text, secret)
    for query in sample[::3]:
        result = run_kg("cypher", query, "--store", neo4j_store.url, "--format", "json")
        assert result.exit_code == 1 and not result.stdout, (query, result.stdout, result.stderr)
        assert "refused" in result.stderr or "Neo4j cannot run it" in result.stderr, result.stderr
        _assert_leaks_nothing(result.stdout + result.stderr, secret)
    assert not listener.connections


def test_only_allowlisted_procedures_are_callable(neo4j_store: Neo4jStore) -> None:
    procedures = {r["name"]: r["mode"] for r in _direct(neo4j_url(), "SHOW PROCEDURES YIELD name, mode")}
    assert set(procedures) >= ALLOWED_PROCEDURES
    for name, mode in procedures.items():
        call = f"CALL {name}()"
        if name in ALLOWED_PROCEDURES:
            assert neo4j_store.run_cypher(call).columns, name
            continue
        with pytest.raises((CypherRefused, ValidationError)) as info:
            neo4j_store.run_cypher(call)
        # a procedure of mode READ is refused for not being listed, not for its mode
        if mode == "READ" and isinstance(info.value, CypherRefused):
            assert f"procedure {name} is not one a planner may call" in str(info.value)


LEGITIMATE = [
    "MATCH (h:Hospital) RETURN h.id AS id ORDER BY id",
    "MATCH (h:Hospital) OPTIONAL MATCH (h)-[r:DEPENDS_ON]->(p) RETURN h.id, collect(p.id) AS providers",
    "MATCH p = shortestPath((h:Hospital {id: 'hosp'})-[:DEPENDS_ON*]->(x:PowerPlant)) RETURN length(p) AS hops",
    "MATCH p = SHORTEST 1 (h:Hospital {id: 'hosp'})-[:DEPENDS_ON]->+(x:Asset) RETURN x.id, length(p)",
    "CALL db.labels() YIELD label RETURN collect(label) AS labels",
    "CALL db.relationshipTypes()",
    "CALL db.schema.nodeTypeProperties()",
    "MATCH (a:Asset) RETURN a.type AS type, count(*) AS n, sum(a.population) AS people ORDER BY n DESC",
    "MATCH (a:Asset) WHERE EXISTS { (a)-[:DEPENDS_ON]->() } RETURN a.id, COUNT { (a)-->() } AS out, "
    "COLLECT { MATCH (a)-->(b) RETURN b.id } AS next",
    "MATCH (a:Asset) CALL (a) { MATCH (a)-[:LOCATED_IN]->(r) RETURN r.id AS region } RETURN a.id, region",
    "MATCH (a:Hospital) RETURN a.id AS id UNION MATCH (a:Substation) RETURN a.id AS id",
    "CYPHER runtime=slotted USE neo4j MATCH (n:Element) RETURN count(n)",
    "// a planner's note\r\nMATCH (n:Element) /* why */ RETURN count(n) AS n",
    "RETURN reduce(total = 0, x IN [1, 2, 3] | total + x) AS six, [x IN range(1, 3) | x * x] AS squares",
]


def test_legitimate_queries_still_run(neo4j_store: Neo4jStore, tmp_path: Path) -> None:
    load(neo4j_store, bundle(tmp_path / "tiny", TINY))
    for query in LEGITIMATE:
        result = neo4j_store.run_cypher(query)
        assert result.columns and result.rows, query
    assert neo4j_store.run_cypher("EXPLAIN MATCH (n) RETURN n").rows == []


def test_server_settings_are_in_force(listener: Listener, marker: tuple[Path, str]) -> None:
    """The server refuses on its own what the check refuses (straight through the driver, no CityKG check)."""
    url = neo4j_url()
    settings = {r["name"]: r["value"] for r in _direct(
        url, "SHOW SETTINGS YIELD name, value WHERE name STARTS WITH 'dbms.security.' "
             "OR name CONTAINS 'memory.transaction' OR name = 'db.transaction.timeout' RETURN name, value")}
    assert settings["dbms.security.allow_csv_import_from_file_urls"] == "false"
    assert set(settings["dbms.security.procedures.allowlist"].split(",")) >= {"db.labels", "db.awaitIndexes"}
    assert settings["db.memory.transaction.max"] not in {"", "0B"}
    assert settings["dbms.memory.transaction.total.max"] not in {"", "0B"}
    assert settings["db.transaction.timeout"] not in {"", "0s"}
    path, secret = marker
    for source in [f"file://{path}", f"http://127.0.0.1:{listener.port}/x.csv",
                   f"http://localhost:{listener.port}/x.csv", f"http://[::1]:{listener.port}/x.csv"]:
        with pytest.raises(Exception, match="Cannot load from URL") as info:
            _direct(url, f"LOAD CSV FROM '{source}' AS l RETURN l")
        assert secret not in str(info.value)
    assert not listener.connections


def _running(url: str, text: str) -> list[dict[str, Any]]:
    return _direct(url, "SHOW TRANSACTIONS YIELD currentQuery, status WHERE currentQuery CONTAINS $text "
                        "RETURN currentQuery, status", text=text)


def test_a_runaway_expression_gets_504_on_time_and_stops_on_the_server(neo4j_store: Neo4jStore) -> None:
    url = neo4j_url()
    tag = uuid.uuid4().hex[:8]
    # quadratic string building inside one expression: minutes of work, no row boundary where Neo4j checks
    runaway = f"RETURN size(reduce(s = '{tag}', i IN range(1, 2000000) | s + 'xxxxxxxxxx')) AS n"
    limit = 2.0
    with TestClient(create_app(settings_for(neo4j_store.url, cypher_timeout_s=limit), store=neo4j_store)) as c:
        started = time.monotonic()
        r = c.post("/v1/cypher", json={"query": runaway}, headers=auth("read"))
        answered = time.monotonic() - started
    assert r.status_code == 504 and r.json()["field"] == "query", r.text
    assert answered < limit + 3, f"answered after {answered:.1f} s for a {limit} s limit"
    # the server stops the work too: the query leaves the transaction list soon after its limit
    deadline = time.monotonic() + 30
    while _running(url, tag) and time.monotonic() < deadline:
        time.sleep(0.5)
    assert not _running(url, tag), "the runaway query still runs on the server"
    assert neo4j_store.run_cypher("RETURN 1 AS ok").rows == [{"ok": 1}]
