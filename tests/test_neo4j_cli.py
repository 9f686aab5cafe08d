"""``kg cypher`` end to end through the CLI: output formats, limits, refusals, and SQLite's answer."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from kg.store.neo4j import Neo4jStore
from tests.conftest_stores import load
from tests.helpers import run_kg


def test_cypher_on_sqlite_explains_that_it_needs_neo4j(tmp_path: Path) -> None:
    result = run_kg("cypher", "MATCH (n) RETURN n", "--store", f"sqlite:///{tmp_path}/kg.db")
    assert result.exit_code == 1
    assert "kg cypher needs a Neo4j store" in result.stderr and "scripts/neo4j start" in result.stderr
    assert "Traceback" not in result.stderr
    assert not (tmp_path / "kg.db").exists()


def test_cypher_param_must_be_name_equals_value(tmp_path: Path) -> None:
    result = run_kg("cypher", "RETURN $x", "--param", "x", "--store", f"sqlite:///{tmp_path}/kg.db")
    assert result.exit_code == 1 and "--param 'x': expected NAME=VALUE" in result.stderr


def test_cypher_on_an_unreachable_server_says_what_to_do() -> None:
    result = run_kg("cypher", "RETURN 1", "--store", "bolt://127.0.0.1:1")
    assert result.exit_code == 1 and "scripts/neo4j start" in result.stderr and "bolt://127.0.0.1:1" in result.stderr


@pytest.fixture
def loaded(neo4j_store: Neo4jStore, city_bundle: Path) -> Neo4jStore:
    load(neo4j_store, city_bundle)
    return neo4j_store


@pytest.mark.neo4j
def test_cypher_json_is_a_list_of_row_objects(loaded: Neo4jStore) -> None:
    result = run_kg("cypher", "MATCH (a:Asset {type: $t}) RETURN a.id AS id, a.population AS people ORDER BY id",
                    "--param", "t=Hospital", "--store", loaded.url, "--format", "json")
    assert result.exit_code == 0, result.stderr
    rows = json.loads(result.stdout)
    expected = sorted(a["id"] for a in loaded.search(type="Hospital", limit=10_000))
    assert [r["id"] for r in rows] == expected and all(set(r) == {"id", "people"} for r in rows)


@pytest.mark.neo4j
def test_cypher_text_is_a_table_and_limit_warns(loaded: Neo4jStore) -> None:
    result = run_kg("cypher", "MATCH (r:Region {level: 'district'}) RETURN r.id AS district ORDER BY district",
                    "--store", loaded.url, "--limit", "2")
    assert result.exit_code == 0, result.stderr
    assert "district" in result.stdout and "banan" in result.stdout and "2 rows" in result.stdout
    assert "only the first 2 rows" in result.stderr


@pytest.mark.neo4j
@pytest.mark.parametrize("query", ["CREATE (n:Evil)", "MATCH (n) SET n.x = 1", "MATCH (n) DETACH DELETE n",
                                   "CREATE INDEX evil FOR (n:Asset) ON (n.name)", "CALL db.createLabel('Evil')"])
def test_cypher_refuses_writes_and_changes_nothing(loaded: Neo4jStore, query: str) -> None:
    before = (loaded.version(), loaded.stats())
    result = run_kg("cypher", query, "--store", loaded.url)
    assert result.exit_code == 1 and "refused" in result.stderr and "Traceback" not in result.stderr
    assert (loaded.version(), loaded.stats()) == before


@pytest.mark.neo4j
def test_cypher_reports_syntax_errors_and_timeouts(loaded: Neo4jStore) -> None:
    bad = run_kg("cypher", "MATCH (n RETURN n", "--store", loaded.url)
    assert bad.exit_code == 1 and "line 1, column 10" in bad.stderr
    slow = run_kg("cypher", "UNWIND range(1, 100000000000) AS x WITH x WHERE x < 0 RETURN count(x)",
                  "--store", loaded.url, "--timeout", "0.5")
    assert slow.exit_code == 1 and "--timeout" in slow.stderr
