"""``kg cypher`` end to end through the CLI: output formats, limits, refusals, and SQLite's answer."""

from __future__ import annotations

import csv
import json
import math
import shutil
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


def _haversine_m(lat1: float, lon1: float, lat2: float, lon2: float) -> float:
    # Neo4j's WGS-84 point.distance: haversine on a sphere of radius 6378140 m
    p1, p2, dp, dl = map(math.radians, (lat1, lat2, lat2 - lat1, lon2 - lon1))
    h = math.sin(dp / 2) ** 2 + math.cos(p1) * math.cos(p2) * math.sin(dl / 2) ** 2
    return 2 * 6378140 * math.asin(math.sqrt(h))


@pytest.mark.neo4j
def test_spatial_cypher_finds_the_nearest_asset(loaded: Neo4jStore) -> None:
    assets = [a for a in loaded.search(limit=100_000) if a["lat"] is not None and a["lon"] is not None]
    assert len(assets) > 10
    # a point between two assets, nearer the first
    here = {axis: (2 * assets[3][axis] + assets[7][axis]) / 3 for axis in ("lat", "lon")}
    metres = {a["id"]: _haversine_m(here["lat"], here["lon"], a["lat"], a["lon"]) for a in assets}
    query = ("MATCH (a:Asset) WHERE a.location IS NOT NULL "
             "RETURN a.id AS id, a.name AS name, "
             "point.distance(a.location, point({latitude: $lat, longitude: $lon})) AS m "
             "ORDER BY m, id LIMIT 3")
    result = run_kg("cypher", query, "--param", f"lat={here['lat']}", "--param", f"lon={here['lon']}",
                    "--store", loaded.url, "--format", "json")
    assert result.exit_code == 0, result.stderr
    rows = json.loads(result.stdout)
    assert [r["m"] for r in rows] == pytest.approx(sorted(metres.values())[:3], rel=1e-9)
    assert rows[0]["id"] == min(metres, key=lambda k: (metres[k], k))
    counted = run_kg("cypher", "MATCH (a:Asset) RETURN count(a.location) AS located, "
                     "count(CASE WHEN a.lat IS NOT NULL AND a.lon IS NOT NULL THEN 1 END) AS both, "
                     "count(CASE WHEN a.location.latitude = a.lat AND a.location.longitude = a.lon "
                     "AND a.location.srid = 4326 THEN 1 END) AS agreeing", "--store", loaded.url, "--format", "json")
    assert json.loads(counted.stdout) == [{"located": len(assets), "both": len(assets), "agreeing": len(assets)}]
    # the store reads its columns back, never the derived point
    element = loaded.get(assets[3]["id"])
    assert "location" not in element and "location" not in (element["props"] or {})


@pytest.mark.neo4j
def test_a_reload_moves_the_location_and_every_hazard_has_a_name(loaded: Neo4jStore, city_bundle: Path,
                                                                 tmp_path: Path) -> None:
    moved = tmp_path / "moved"
    shutil.copytree(city_bundle, moved)
    with (moved / "assets.csv").open(encoding="utf-8", newline="") as f:
        rows = list(csv.DictReader(f))
    rows[0]["lat"], rows[0]["lon"] = "1.5", "2.5"
    with (moved / "assets.csv").open("w", encoding="utf-8", newline="") as f:
        writer = csv.DictWriter(f, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)
    load(loaded, moved)  # an upsert: the MERGE path of the writer
    result = run_kg("cypher", "MATCH (a:Asset {id: $id}) "
                    "RETURN a.location.latitude AS lat, a.location.longitude AS lon",
                    "--param", f"id={rows[0]['id']}", "--store", loaded.url, "--format", "json")
    assert json.loads(result.stdout) == [{"lat": 1.5, "lon": 2.5}]
    hazards = run_kg("cypher", "MATCH (h:Hazard) RETURN h.id = h.name AS named, count(*) AS n",
                     "--store", loaded.url, "--format", "json")
    assert [r["named"] for r in json.loads(hazards.stdout)] == [True]
