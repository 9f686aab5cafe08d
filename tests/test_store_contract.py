"""The store contract: SQLite and Neo4j behave the same, row for row and array for array.

Tests taking ``store`` run once per store (tests/conftest_stores.py); tests
taking both ``sqlite_store`` and ``neo4j_store`` compare them directly. The
Neo4j-only tests at the end cover what only that store has: its graph model,
interrupted loads, planners' Cypher (the cookbook in docs/neo4j.md, and
everything a read-only query must refuse).
"""

from __future__ import annotations

import contextlib
import re
import socket
import tempfile
import threading
from collections import Counter
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from neo4j import GraphDatabase

from kg.errors import CypherRefused, ElementNotFound, StoreUnavailable, ValidationError
from kg.load.plan import LoadPlan, build_plan
from kg.ontology import load_ontology
from kg.schema import TABLES
from kg.store.base import CypherStore, Store
from kg.store.neo4j import Neo4jStore
from kg.store.sqlite import SQLiteStore
from kg.synth import city_rows, write_bundle
from tests.conftest_stores import load
from tests.helpers import all_rows, assert_snapshots_equal

DOCS = Path(__file__).resolve().parents[1] / "docs" / "neo4j.md"

TINY = {
    "regions.csv": "id,level,name,parent,note\ncity,city,City,,\nd1,district,District 1,city,riverside\n"
                   "d2,district,District 2,city,\nc1,community,Community 1,d1,\n",
    "agencies.csv": "id,name,level,parent,jurisdiction,crews\npower,Power Co,city,,city,3\n"
                    "power-d1,Power D1,district,power,d1,0\nhealth,Health Bureau,city,,city,\n",
    "assets.csv": "id,type,name,region,agency,lat,lon,population,repair_hours,color\n"
                  "plant,PowerPlant,Plant,d2,power,29.5,106.5,0,,\n"
                  "sub,Substation,Sub 1,c1,power-d1,29.6,106.6,0,36.5,red\n"
                  "hosp,Hospital,General Hospital 总医院,c1,health,29.61,106.61,500,,\n"
                  "home,ResidentialArea,Homes,c1,,,,12000,,blue\n",
    "dependencies.csv": "dependent,provider,kind,group,buffer_hours\nsub,plant,power,,0\n"
                        "hosp,sub,power,,12\nhome,sub,power,,0\n",
    "hazard_zones.csv": "id,hazard,name,annual_probability,region,depth_m\nz1,Flood,River flood,0.02,d1,1.5\n",
    "exposures.csv": "asset,zone,intensity\nsub,z1,1.2\n",
    "fragilities.csv": "hazard,threshold,type,asset,beta\nFlood,1.0,Substation,,0.4\nFlood,0.5,,hosp,\n",
}
UPDATE = {
    "regions.csv": "id,level,name,parent\nc1,community,Community 1,d2\n",
    "assets.csv": "id,type,name,region,agency,lat,lon,population,size\n"
                  "sub,Hospital,Sub 1 (now a clinic),d2,,29.7,106.7,10,big\n",
    "dependencies.csv": "dependent,provider,kind,group,buffer_hours\nhosp,sub,power,,24\n",
    "exposures.csv": "asset,zone,intensity\nsub,z1,2.5\n",
}


def bundle(folder: Path, files: dict[str, str]) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    for name, text in files.items():
        (folder / name).write_text(text, encoding="utf-8")
    return folder





# ---------------------------------------------------------------------------------------------- both stores
def test_load_counts_stats_and_version(store: Store, city_bundle: Path) -> None:
    before = store.version()
    plan = load(store, city_bundle)
    stats = store.stats()
    assert stats.counts == plan.counts()
    assert stats.assets_by_type == dict(sorted(Counter(r[1] for r in plan.rows["assets"]).items()))
    assert stats.version == store.version() == before + 1


def test_reload_leaves_the_same_data(store: Store, city_bundle: Path) -> None:
    load(store, city_bundle)
    first, counts, version = all_rows(store), store.stats().counts, store.version()
    load(store, city_bundle)
    assert store.stats().counts == counts
    assert all_rows(store) == first
    assert store.version() == version + 1


def test_rows_are_the_plan_sorted(store: Store, city_bundle: Path) -> None:
    plan = load(store, city_bundle)
    keys = {"dependencies": 4, "exposures": 2}
    for table, rows in plan.rows.items():
        if table == "fragilities":
            expected = sorted(rows, key=lambda r: (r[0], r[2] or "", r[3] or ""))
        else:
            expected = sorted(rows, key=lambda r: r[: keys.get(table, 1)])
        assert list(store.rows(table)) == expected, table


def test_get_returns_every_kind_of_element(store: Store, tmp_path: Path) -> None:
    load(store, bundle(tmp_path / "tiny", TINY))
    assert store.get("sub") == {"table": "assets", "id": "sub", "type": "Substation", "name": "Sub 1", "region": "c1",
                                "agency": "power-d1", "lat": 29.6, "lon": 106.6, "population": 0,
                                "repair_hours": 36.5, "props": {"color": "red"}}
    assert store.get("plant")["repair_hours"] is None
    assert store.get("hosp")["name"] == "General Hospital 总医院"
    assert store.get("home")["agency"] is None and store.get("home")["lat"] is None
    assert store.get("c1") == {"table": "regions", "id": "c1", "level": "community", "name": "Community 1",
                               "parent": "d1", "props": {}}
    assert store.get("d1")["props"] == {"note": "riverside"}
    assert store.get("power-d1") == {"table": "agencies", "id": "power-d1", "name": "Power D1", "level": "district",
                                     "parent": "power", "jurisdiction": "d1", "crews": 0, "props": {}}
    assert store.get("power")["crews"] == 3 and store.get("health")["crews"] is None
    assert store.get("z1") == {"table": "hazard_zones", "id": "z1", "hazard": "Flood", "name": "River flood",
                               "annual_probability": 0.02, "region": "d1", "props": {"depth_m": "1.5"}}
    for missing in ("nope", "Flood"):  # "Flood" is a hazard node in Neo4j, not an element of a table
        with pytest.raises(ElementNotFound, match=repr(missing)):
            store.get(missing)


def test_lookup_names_table_and_level(store: Store, tmp_path: Path) -> None:
    load(store, bundle(tmp_path / "tiny", TINY))
    found = store.lookup(["c1", "power-d1", "hosp", "z1", "nope", "Flood"])
    assert {k: (v.table, v.level) for k, v in found.items()} == {
        "c1": ("regions", "community"), "power-d1": ("agencies", "district"), "hosp": ("assets", None),
        "z1": ("hazard_zones", None)}


def test_upserts_replace_what_a_row_names(store: Store, tmp_path: Path) -> None:
    load(store, bundle(tmp_path / "tiny", TINY))
    load(store, bundle(tmp_path / "update", UPDATE))
    assert store.get("sub") == {"table": "assets", "id": "sub", "type": "Hospital", "name": "Sub 1 (now a clinic)",
                                "region": "d2", "agency": None, "lat": 29.7, "lon": 106.7, "population": 10,
                                "repair_hours": None, "props": {"size": "big"}}
    assert store.get("c1")["parent"] == "d2"
    assert ("hosp", "sub", "power", "power", 24.0) in list(store.rows("dependencies"))
    assert list(store.rows("exposures")) == [("sub", "z1", 2.5)]
    assert store.stats().assets_by_type == {"Hospital": 2, "PowerPlant": 1, "ResidentialArea": 1}
    assert [a["id"] for a in store.search(type="PowerAsset")] == ["plant"]
    assert [a["id"] for a in store.search(region="d1")] == []  # c1 moved to d2 with its assets
    assert [a["id"] for a in store.search(region="d2")] == ["home", "hosp", "plant", "sub"]


def test_refused_loads_leave_the_store_unchanged(store: Store, tmp_path: Path) -> None:
    load(store, bundle(tmp_path / "tiny", TINY))
    before = (store.version(), store.stats(), all_rows(store))
    bad = bundle(tmp_path / "bad", {
        "assets.csv": "id,type,region\nnew,Substation,c1\nother,Substation,nowhere\n",
        "dependencies.csv": "dependent,provider,kind\nnew,ghost,power\n",
    })
    with pytest.raises(ValidationError) as err:
        load(store, bad)
    assert "assets.csv:3" in str(err.value) and "'nowhere'" in str(err.value) and "'ghost'" in str(err.value)
    assert (store.version(), store.stats(), all_rows(store)) == before


ASCII_Q = ("sub", "SUB", "hospital 1", "-00", "%", "_", "总")
WORDS_Q = ("医院", "变电站", "渝中", "Yuzhong", "渝中 医院", "yuzhong hospital", "电力", "power", "供水 Jiangbei",
           "yuzhong-power", "chongqing", "Bureau", "总医院")


@pytest.mark.parametrize("query", [
    {"q": q} for q in ASCII_Q + WORDS_Q] + [
    {"type": "PowerAsset"}, {"type": "Hospital"}, {"type": "Asset", "limit": 7}, {"type": "NoSuchType"},
    {"region": "yuzhong"}, {"region": "chongqing", "after": "r-0300", "limit": 5}, {"agency": "yuzhong-power"},
    {"q": "area", "region": "jiangbei", "type": "ResidentialArea", "limit": 3},
    {"q": "变电站", "after": "s-", "limit": 4}, {"after": "s-", "limit": 4}, {"region": "nowhere"},
])
def test_search_matches_a_plain_python_filter(store: Store, city_bundle: Path, query: dict[str, Any]) -> None:
    plan = load(store, city_bundle)
    got = store.search(**query)
    assert [a["id"] for a in got] == _expected_search(plan, **query)
    assert all(a["table"] == "assets" and set(a) == {"table", *TABLES["assets"].columns} for a in got)


def test_search_finds_chinese_names_types_places_and_agencies(store: Store, tmp_path: Path) -> None:
    load(store, bundle(tmp_path / "tiny", {
        **TINY,
        "regions.csv": "id,level,name,parent,name_zh\ncity,city,Chongqing,,重庆市\nd1,district,Yuzhong,city,渝中区\n"
                       "d2,district,Jiangbei,city,江北区\nc1,community,Community 1,d1,\n",
        "agencies.csv": "id,name,level,parent,jurisdiction,name_zh\npower,Power Co,city,,city,国网重庆电力\n"
                        "power-d1,Power D1,district,power,d1,\nhealth,Health Bureau,city,,city,卫健委\n",
        "assets.csv": "id,type,name,region,agency,name_zh\nplant,发电厂,Plant,d2,power,火电厂\n"
                      "sub,变电站,Sub 1,c1,power-d1,解放碑变电站\nhosp,Hospital,General Hospital,c1,health,总医院\n"
                      "home,ResidentialArea,Homes,c1,,\n",
    }))
    found = {q: [a["id"] for a in store.search(q=q)] for q in (
        "医院", "变电站", "渝中", "Yuzhong", "yuzhong", "渝中 医院", "解放碑", "火电", "电力", "国网", "卫健委", "d1",
        "江北")}
    in_d1 = ["home", "hosp", "sub"]
    assert found == {"医院": ["hosp"], "变电站": ["sub"], "渝中": in_d1, "Yuzhong": in_d1, "yuzhong": in_d1,
                     "渝中 医院": ["hosp"],
                     "解放碑": ["sub"], "火电": ["plant"], "电力": ["plant", "sub"], "国网": ["plant"],
                     "卫健委": ["hosp"], "d1": in_d1, "江北": ["plant"]}
    assert store.get("sub")["type"] == "Substation" and store.get("sub")["props"]["name_zh"] == "解放碑变电站"


def _expected_search(plan: LoadPlan, *, q: str | None = None, type: str | None = None, region: str | None = None,
                     agency: str | None = None, after: str | None = None, limit: int = 50) -> list[str]:
    """The rule of kg.search, written out plainly: every term in the asset, its type, a region above it, its agency."""
    onto = load_ontology()
    regions = {r["id"]: r for r in map(TABLES["regions"].as_dict, plan.rows["regions"])}
    agencies = {r["id"]: r for r in map(TABLES["agencies"].as_dict, plan.rows["agencies"])}

    def inside(rid: str | None) -> bool:
        while rid is not None:
            if rid == region:
                return True
            rid = regions[rid]["parent"] if rid in regions else None
        return False

    def like(term: str, value: str | None) -> bool:  # SQLite LIKE: ASCII letters fold case, nothing else does
        fold = str.maketrans("ABCDEFGHIJKLMNOPQRSTUVWXYZ", "abcdefghijklmnopqrstuvwxyz")
        return value is not None and term.translate(fold) in value.translate(fold)

    def named(term: str, element: dict[str, Any]) -> bool:
        return element["id"] == term or like(term, element["name"]) or like(term, (element["props"] or {}).get(
            "name_zh"))

    def type_holds(term: str, asset_type: str) -> bool:
        for name in onto.ancestors(asset_type)[2:]:  # below Element and Asset
            c = onto.classes[name]
            if any(like(term, t) for t in (name, c.label_en, c.label_zh, c.short_label_en, c.short_label_zh)):
                return True
        return False

    def places(rid: str | None) -> list[dict[str, Any]]:
        out = []
        while rid is not None and rid in regions:
            out.append(regions[rid])
            rid = regions[rid]["parent"]
        return out

    def matches(term: str, a: dict[str, Any]) -> bool:
        return (like(term, a["id"]) or like(term, a["name"]) or like(term, (a["props"] or {}).get("name_zh"))
                or type_holds(term, a["type"]) or any(named(term, r) for r in places(a["region"]))
                or (a["agency"] in agencies and named(term, agencies[a["agency"]])))

    out = []
    for a in sorted(map(TABLES["assets"].as_dict, plan.rows["assets"]), key=lambda a: a["id"]):
        if q and not all(matches(term, a) for term in q.split()):
            continue
        if type and a["type"] not in (onto.subclasses(type) if type in onto.classes else (type,)):
            continue
        if region and not inside(a["region"]):
            continue
        if (agency and a["agency"] != agency) or (after and a["id"] <= after):
            continue
        out.append(a["id"])
    return out[:limit]


def test_clear_empties_and_counts_a_version(store: Store, tmp_path: Path) -> None:
    load(store, bundle(tmp_path / "tiny", TINY))
    version = store.version()
    store.clear()
    assert set(store.stats().counts.values()) == {0}
    assert store.version() == version + 1
    assert store.snapshot().n == 0


def test_snapshot_is_cached_per_version(store: Store, tmp_path: Path) -> None:
    load(store, bundle(tmp_path / "tiny", TINY))
    first = store.snapshot()
    assert store.snapshot() is first
    load(store, bundle(tmp_path / "update", UPDATE))
    assert store.snapshot() is not first and store.snapshot().version == store.version()


# ---------------------------------------------------------------------------------------------- across stores
@pytest.mark.neo4j
def test_the_stores_hold_identical_data(sqlite_store: SQLiteStore, neo4j_store: Neo4jStore, city_bundle: Path,
                                        tmp_path: Path) -> None:
    for s in (sqlite_store, neo4j_store):
        load(s, city_bundle)
        load(s, bundle(tmp_path / "tiny", TINY))
    assert all_rows(neo4j_store) == all_rows(sqlite_store)
    assert_snapshots_equal(neo4j_store.snapshot(), sqlite_store.snapshot())
    assert neo4j_store.stats().counts == sqlite_store.stats().counts
    assert neo4j_store.stats().assets_by_type == sqlite_store.stats().assets_by_type
    for element in ("chongqing", "yuzhong", "cq-power", "hosp", "sub", "flood-yuzhong-50y"):
        assert neo4j_store.get(element) == sqlite_store.get(element)
    for q in ("a", "渝中 医院", "电力"):
        assert neo4j_store.search(q=q, limit=500) == sqlite_store.search(q=q, limit=500)


_CITY_SETTINGS = settings(max_examples=6, deadline=None, derandomize=True,
                          suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])


@pytest.mark.neo4j
@_CITY_SETTINGS
@given(assets=st.integers(150, 600), seed=st.integers(0, 10_000), picks=st.lists(st.integers(0, 10**6), min_size=5,
                                                                                  max_size=5))
def test_generated_cities_trace_the_same_on_both_stores(neo4j_server: Neo4jStore, assets: int, seed: int,
                                                         picks: list[int]) -> None:
    from kg.analysis.traces import dependencies, dependents

    rows = city_rows(assets, seed=seed)
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp) / "city"
        write_bundle(rows, folder)
        sqlite_store = SQLiteStore(str(Path(tmp) / "kg.db"), create=True)
        neo4j_server.clear()
        load(sqlite_store, folder)
        load(neo4j_server, folder)
        a, b = sqlite_store.snapshot(), neo4j_server.snapshot()
        sqlite_store.close()
    assert_snapshots_equal(b, a)
    for pick in picks:
        asset = rows["assets"][pick % len(rows["assets"])][0]
        for trace in (dependents, dependencies):
            assert trace(b, asset).to_list(b) == trace(a, asset).to_list(a)


# ---------------------------------------------------------------------------------------------- Neo4j only
def cypher_rows(store: Neo4jStore, query: str, **params: Any) -> list[dict[str, Any]]:
    return store.run_cypher(query, params).rows


@pytest.mark.neo4j
def test_graph_model_labels_and_relationships(neo4j_store: Neo4jStore, tmp_path: Path) -> None:
    load(neo4j_store, bundle(tmp_path / "tiny", TINY))
    rows = cypher_rows(neo4j_store, "MATCH (n:Element {id: $id}) RETURN labels(n) AS labels, "
                       "[(n)-[r]->(t) | type(r) + '>' + t.id] AS out", id="sub")
    assert sorted(rows[0]["labels"]) == sorted(["Element", "Asset", "PowerAsset", "Substation"])
    assert sorted(rows[0]["out"]) == ["DEPENDS_ON>plant", "EXPOSED_TO>z1", "LOCATED_IN>c1", "OPERATED_BY>power-d1"]
    zone = cypher_rows(neo4j_store, "MATCH (z:HazardZone {id: 'z1'})-[:OF_HAZARD]->(h) RETURN labels(h) AS l")
    assert sorted(zone[0]["l"]) == ["Element", "Flood", "Hazard"]
    assert cypher_rows(neo4j_store, "MATCH (f:Fragility) WHERE f:Element RETURN count(f) AS c") == [{"c": 0}]
    load(neo4j_store, bundle(tmp_path / "update", UPDATE))
    rows = cypher_rows(neo4j_store, "MATCH (n:Element {id: 'sub'}) RETURN labels(n) AS labels, "
                       "[(n)-[r:LOCATED_IN|OPERATED_BY]->(t) | type(r) + '>' + t.id] AS out")
    assert sorted(rows[0]["labels"]) == sorted(["Element", "Asset", "HealthAsset", "Hospital"])
    assert rows[0]["out"] == ["LOCATED_IN>d2"]
    parents = cypher_rows(neo4j_store, "MATCH (:Region {id: 'c1'})-[:PART_OF]->(p) RETURN p.id AS p")
    assert parents == [{"p": "d2"}]


@pytest.mark.neo4j
def test_hazard_names_are_not_element_ids_in_neo4j(neo4j_store: Neo4jStore, tmp_path: Path) -> None:
    load(neo4j_store, bundle(tmp_path / "tiny", TINY))
    before = (neo4j_store.version(), neo4j_store.stats())
    with pytest.raises(ValidationError, match="'Flood' names the hazard node"):
        load(neo4j_store, bundle(tmp_path / "bad", {"assets.csv": "id,type\nFlood,Substation\n"}))
    assert (neo4j_store.version(), neo4j_store.stats()) == before


class CuttableProxy:
    """A TCP proxy in front of the Neo4j server whose connections can be cut (a network failure)."""

    def __init__(self, target: str) -> None:
        host, _, port = target.rpartition("://")[2].partition("/")[0].rpartition(":")
        self.target = (host, int(port))
        self.listener = socket.create_server(("127.0.0.1", 0))
        self.url = f"bolt://127.0.0.1:{self.listener.getsockname()[1]}"
        self.sockets: list[socket.socket] = []
        self.cut_off = False
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self) -> None:
        while not self.cut_off:
            try:
                client, _ = self.listener.accept()
            except OSError:
                return
            if self.cut_off:
                client.close()
                return
            server = socket.create_connection(self.target)
            self.sockets += [client, server]
            for a, b in ((client, server), (server, client)):
                threading.Thread(target=self._pipe, args=(a, b), daemon=True).start()

    @staticmethod
    def _pipe(src: socket.socket, dst: socket.socket) -> None:
        try:
            while data := src.recv(65536):
                dst.sendall(data)
        except OSError:
            pass
        finally:
            for s in (src, dst):
                with contextlib.suppress(OSError):
                    s.shutdown(socket.SHUT_RDWR)

    def cut(self) -> None:
        """Drop every connection and refuse new ones."""
        self.cut_off = True
        with contextlib.suppress(OSError):
            self.listener.shutdown(socket.SHUT_RDWR)  # wakes the accept() thread
        self.listener.close()
        for s in self.sockets:
            with contextlib.suppress(OSError):
                s.shutdown(socket.SHUT_RDWR)


@pytest.mark.neo4j
def test_an_interrupted_load_completes_when_run_again(neo4j_store: Neo4jStore, sqlite_store: SQLiteStore,
                                                      city_bundle: Path) -> None:
    plan = build_plan([city_bundle], neo4j_store)
    version = neo4j_store.version()
    proxy = CuttableProxy(neo4j_store.url)
    cut = Neo4jStore(proxy.url, batch_size=100, retry_s=0.5)
    calls = []

    def drop_connection(n: int) -> None:
        calls.append(n)
        if len(calls) == 3:
            proxy.cut()

    with pytest.raises(StoreUnavailable, match="run the same load again") as err:
        cut.write(plan, progress=drop_connection)
    cut.close()
    assert f"of {plan.total:,} rows" in str(err.value)
    assert neo4j_store.version() == version  # the version moves only when a load completes
    assert 0 < sum(neo4j_store.stats().counts.values()) < plan.total
    neo4j_store.write(build_plan([city_bundle], neo4j_store))
    sqlite_store.write(build_plan([city_bundle], sqlite_store))
    assert all_rows(neo4j_store) == all_rows(sqlite_store)
    assert neo4j_store.version() == version + 1


@pytest.mark.neo4j
@pytest.mark.parametrize("writers", [1, 3])
def test_concurrent_writers_give_the_same_graph(neo4j_store: Neo4jStore, sqlite_store: SQLiteStore,
                                                city_bundle: Path, writers: int) -> None:
    # Small batches, so that many transactions of one statement run at once (creates on the empty
    # store, then merges on the reload), sharing hub nodes such as substations and agencies.
    concurrent = Neo4jStore(neo4j_store.url, batch_size=40, writers=writers)
    try:
        for _ in range(2):
            concurrent.write(build_plan([city_bundle], concurrent))
        sqlite_store.write(build_plan([city_bundle], sqlite_store))
        assert all_rows(concurrent) == all_rows(sqlite_store)
        assert concurrent.stats().counts == sqlite_store.stats().counts
    finally:
        concurrent.close()


def test_writers_setting_is_checked(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("KG_NEO4J_WRITERS", "two")
    with pytest.raises(StoreUnavailable, match="KG_NEO4J_WRITERS='two'"):
        Neo4jStore("bolt://127.0.0.1:1")


@pytest.mark.neo4j
def test_neo4j_routing_urls_work(neo4j_server: Neo4jStore) -> None:
    routed = Neo4jStore(neo4j_server.url.replace("bolt://", "neo4j://", 1))
    try:
        assert routed.version() == neo4j_server.version()
        assert routed.run_cypher("RETURN 1 AS one").rows == [{"one": 1}]
    finally:
        routed.close()


def test_unreachable_server_says_what_to_do() -> None:
    with pytest.raises(StoreUnavailable) as err:
        Neo4jStore("bolt://someone:s3cret@127.0.0.1:1")
    message = str(err.value)
    assert "bolt://127.0.0.1:1" in message and "scripts/neo4j start" in message and "s3cret" not in message


def _cookbook() -> list[str]:
    text = DOCS.read_text(encoding="utf-8")
    section = text.split("## Cypher cookbook for planners", 1)[1]
    return re.findall(r"```cypher\n(.*?)```", section, flags=re.S)


@pytest.mark.neo4j
@pytest.mark.parametrize("number", range(len(_cookbook())))
def test_cookbook_queries_answer_on_a_real_server(neo4j_store: Neo4jStore, city_bundle: Path, number: int) -> None:
    plan = load(neo4j_store, city_bundle)
    snap = neo4j_store.snapshot()
    substation = max((i for i in range(snap.n) if snap.type_of(i) == "Substation"),
                     key=lambda i: (len(snap.dependents_of(i)), snap.asset_ids[i]))
    hospital = next(i for i in range(snap.n) if snap.type_of(i) == "Hospital")
    district = snap.region_ids[snap.region[snap.level_index("district"), hospital]]
    params = {"substation": snap.asset_ids[substation], "hospital": snap.asset_ids[hospital], "district": district,
              "agency": "cq-health", "zone": plan.rows["exposures"][0][1]}
    query = _cookbook()[number]
    assert set(re.findall(r"\$(\w+)", query)) <= set(params), "the test gives every parameter the cookbook uses"
    result = neo4j_store.run_cypher(query, params, timeout_s=60)
    assert result.rows, f"no rows for cookbook query:\n{query}"


REFUSED = [
    "CREATE (n:Element {id: 'evil'})",
    "MERGE (n:Element {id: 'evil'}) RETURN n",
    "MATCH (n:Asset) SET n.name = 'evil'",
    "MATCH (n:Asset) REMOVE n:Asset",
    "MATCH (n:Asset) DETACH DELETE n",
    "MATCH (a:Asset) WITH a LIMIT 1 CALL { WITH a SET a.x = 1 } RETURN a",
    "FOREACH (i IN [1] | CREATE (:Evil))",
    "CREATE INDEX evil FOR (n:Asset) ON (n.name)",
    "DROP CONSTRAINT citykg_element_id",
    "CREATE USER evil SET PASSWORD 'evil-evil-evil'",
    "CALL db.createLabel('Evil')",
    "CALL db.createProperty('evil')",
    "CALL db.clearQueryCaches()",
    "CALL dbms.listConfig()",
    "TERMINATE TRANSACTIONS 'neo4j-transaction-1'",
    "SHOW SETTINGS",
    "LOAD CSV FROM 'file:///etc/passwd' AS line RETURN line",
    "PROFILE CREATE (n:Evil)",
    "// a comment first\nEXPLAIN CREATE (n:Evil)",
]


@pytest.mark.neo4j
def test_cypher_refuses_everything_but_reads(neo4j_store: Neo4jStore, tmp_path: Path) -> None:
    load(neo4j_store, bundle(tmp_path / "tiny", TINY))

    def state() -> Any:
        with GraphDatabase.driver(neo4j_store.url) as driver:  # SHOW is refused to planners; the test asks itself
            schema = driver.execute_query("SHOW INDEXES YIELD name RETURN collect(name) AS names").records[0].data()
        everything = cypher_rows(neo4j_store, "MATCH (n) OPTIONAL MATCH (n)-[r]->() RETURN count(DISTINCT n) AS nodes, "
                                 "count(r) AS rels, collect(DISTINCT labels(n)) AS labels")
        return neo4j_store.version(), neo4j_store.stats(), all_rows(neo4j_store), schema, everything

    before = state()
    for query in REFUSED:
        with pytest.raises(CypherRefused, match="refused"):
            neo4j_store.run_cypher(query)
    assert state() == before


@pytest.mark.neo4j
def test_cypher_values_limits_and_errors(neo4j_store: Neo4jStore, tmp_path: Path) -> None:
    load(neo4j_store, bundle(tmp_path / "tiny", TINY))
    assert isinstance(neo4j_store, CypherStore)
    result = neo4j_store.run_cypher(
        "MATCH p = (h:Hospital {id: $id})-[r:DEPENDS_ON]->(s) RETURN h, r, p, h.lat AS lat, date('2024-05-01') AS d",
        {"id": "hosp"})
    assert result.columns == ["h", "r", "p", "lat", "d"] and not result.truncated
    row = result.rows[0]
    assert row["h"] == {"id": "hosp", "labels": ["Element", "Asset", "HealthAsset", "Hospital"],
                        "properties": {"id": "hosp", "lat": 29.61,
                                       "location": {"srid": 4326, "coordinates": [106.61, 29.61]},
                                       "lon": 106.61, "name": "General Hospital 总医院",
                                       "population": 500, "type": "Hospital"}}
    assert row["r"] == {"type": "DEPENDS_ON", "start": "hosp", "end": "sub",
                        "properties": {"buffer_hours": 12.0, "group": "power", "kind": "power"}}
    assert [n["id"] for n in row["p"]["nodes"]] == ["hosp", "sub"] and row["p"]["relationships"] == [row["r"]]
    assert row["lat"] == 29.61 and row["d"] == "2024-05-01"
    only_rel = neo4j_store.run_cypher("MATCH ()-[r:OPERATED_BY]->() RETURN r ORDER BY r LIMIT 1").rows[0]["r"]
    assert only_rel["start"] in {"plant", "sub", "hosp"} and only_rel["end"] in {"power", "power-d1", "health"}
    limited = neo4j_store.run_cypher("UNWIND range(1, 10) AS x RETURN x", row_limit=3)
    assert limited.rows == [{"x": 1}, {"x": 2}, {"x": 3}] and limited.truncated
    assert neo4j_store.run_cypher("CALL db.labels() YIELD label RETURN count(label) > 0 AS ok").rows == [{"ok": True}]
    with pytest.raises(ValidationError, match=r"timeout: the query ran longer than 0.5 s"):
        neo4j_store.run_cypher("UNWIND range(1, 100000000000) AS x WITH x WHERE x < 0 RETURN count(x)",
                               timeout_s=0.5)
    with pytest.raises(ValidationError, match=r"query: .*line 1, column 10"):
        neo4j_store.run_cypher("MATCH (n RETURN n")
    with pytest.raises(ValidationError, match=r"Expected parameter\(s\): id"):
        neo4j_store.run_cypher("MATCH (n:Element {id: $id}) RETURN n")
