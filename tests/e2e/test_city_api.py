"""The API the page stands on: ``/v1/city``, ``/v1/city/graph/{id}``, ``/v1/city/coordination``, ``/``.

In-process (no browser): these run wherever the API tests run.
"""

from __future__ import annotations

import gzip
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from rdflib import Literal

from api.main import create_app
from kg.analysis.cascade import cascade
from kg.analysis.coordination import coordination
from kg.namespaces import CKG, RDF, RDFS, SKOS
from kg.ontology import load_ontology
from kg.settings import Settings
from kg.store import open_store
from tests.e2e.server import KEYS, build_city

READ = {"Authorization": f"Bearer {KEYS['read']}"}


@pytest.fixture(scope="module")
def client(tmp_path_factory: pytest.TempPathFactory) -> Iterator[TestClient]:
    url = build_city(tmp_path_factory.mktemp("city-api"), 1_500, 5)
    app = create_app(Settings(api_keys=f"{KEYS['read']}:read", store=url))
    with TestClient(app) as c:
        yield c


@pytest.fixture(scope="module")
def city(client: TestClient) -> dict[str, Any]:
    response = client.get("/v1/city", headers=READ)
    assert response.status_code == 200
    body: dict[str, Any] = response.json()
    return body


def test_the_city_is_columns_of_every_asset(client: TestClient, city: dict[str, Any]) -> None:
    assets = city["assets"]
    n = len(assets["id"])
    assert n == 1_500
    assert all(len(assets[k]) == n for k in ("type", "lat", "lon", "district", "agency", "population"))
    assert {d["id"] for d in city["districts"]} >= {"yuzhong", "jiangbei"}
    assert all(-1 <= d < len(city["districts"]) for d in assets["district"])
    types = city["types"]
    assert {t["name"]: t["sector"] for t in types}["Hospital"] == "HealthAsset"
    first = client.get(f"/v1/assets/{assets['id'][0]}", headers=READ).json()
    assert types[assets["type"][0]]["name"] == first["type"]
    assert assets["lat"][0] == pytest.approx(first["lat"], abs=1e-5)
    parents = {a["id"]: a["parent"] for a in city["agencies"]}
    assert parents["yuzhong-power"] == "cq-power"
    zone = next(z for z in city["zones"] if z["id"] == "flood-yuzhong-100y")
    assert zone["hazard"] == "Flood" and zone["annual_probability"] == 0.01 and zone["region"] == "yuzhong"
    assert len(zone["assets"]) == len(zone["intensity"]) > 0


def test_the_city_carries_how_the_ontology_shows_things(city: dict[str, Any]) -> None:
    onto = load_ontology()
    for t in city["types"]:
        info = onto.classes[t["name"]]
        assert (t["symbol"], t["key_rank"], t["map_zoom"]) == (info.symbol, info.key_rank, info.map_zoom), t
    assert any(t["key_rank"] for t in city["types"]) and any(t["map_zoom"] for t in city["types"])
    assert [s["name"] for s in city["sectors"]] == list(onto.sectors)
    for s in city["sectors"]:
        assert (s["label"], s["colour"]) == (onto.short_label(s["name"]), onto.classes[s["name"]].colour)
    assert {h["name"]: h["colour"] for h in city["hazards"]} == {h: onto.classes[h].colour for h in onto.hazard_types}
    assert {k["name"]: k["colour"] for k in city["service_kinds"]} == {
        k: onto.kind_colours.get(k) for k in onto.service_kinds}
    assert set(city["kinds"]) <= {k["name"] for k in city["service_kinds"]}


def _rdfs_labels(notation_class: str) -> dict[str, dict[str | None, str]]:
    """{notation: {language: rdfs:label}} of the ontology's individuals of ``notation_class``, read from the graph."""
    graph = load_ontology().graph
    return {str(graph.value(node, SKOS.notation)): {v.language: str(v) for v in graph.objects(node, RDFS.label)
                                                    if isinstance(v, Literal)}
            for node in graph.subjects(RDF.type, CKG[notation_class])}


def test_the_city_names_things_in_english_and_chinese_from_the_ontology(city: dict[str, Any]) -> None:
    onto = load_ontology()
    for t in city["types"]:
        assert (t["label"], t["label_zh"]) == (onto.classes[t["name"]].label_en, onto.classes[t["name"]].label_zh)
    for s in city["sectors"]:
        info = onto.classes[s["name"]]
        assert (s["label"], s["label_zh"]) == (info.short_label_en, info.short_label_zh)
    for h in city["hazards"]:
        assert (h["label"], h["label_zh"]) == (onto.classes[h["name"]].label_en, onto.classes[h["name"]].label_zh)
    kinds = _rdfs_labels("ServiceKind")
    assert {k["name"]: (k["label"], k["label_zh"]) for k in city["service_kinds"]} == {
        name: (labels["en"], labels["zh"]) for name, labels in kinds.items()}
    levels = _rdfs_labels("RegionLevel")
    assert [lv["name"] for lv in city["levels"]] == list(onto.levels)
    assert {lv["name"]: (lv["label"], lv["label_zh"]) for lv in city["levels"]} == {
        name: (labels["en"], labels["zh"]) for name, labels in levels.items()}
    assert next(lv for lv in city["levels"] if lv["name"] == "district")["label_zh"] == "区县"


def test_the_city_is_gzipped_and_revalidated_by_etag(client: TestClient, city: dict[str, Any]) -> None:
    raw = client.get("/v1/city", headers={**READ, "Accept-Encoding": "identity"})
    assert "content-encoding" not in raw.headers
    zipped = client.get("/v1/city", headers={**READ, "Accept-Encoding": "gzip"})
    assert zipped.headers["content-encoding"] == "gzip"
    assert len(zipped.content) == len(raw.content)  # httpx decoded it: the same document
    etag = raw.headers["etag"]
    again = client.get("/v1/city", headers={**READ, "If-None-Match": etag})
    assert again.status_code == 304 and again.content == b""
    assert json.loads(gzip.decompress(gzip.compress(raw.content))) == city


def test_the_city_needs_a_key(client: TestClient) -> None:
    assert client.get("/v1/city").status_code == 401
    wrong = client.get("/v1/city", headers={"Authorization": "Bearer not-a-key-of-this-server"})
    assert wrong.status_code == 401
    assert wrong.headers["content-type"].startswith("application/problem+json")


def _substation_with_dependents(client: TestClient) -> str:
    for row in client.get("/v1/assets?type=Substation&limit=100", headers=READ).json()["data"]:
        if len(client.get(f"/v1/assets/{row['id']}/dependents?depth=2", headers=READ).json()["dependents"]) > 30:
            return str(row["id"])
    raise AssertionError("no substation with 30 dependents")


def test_the_graph_agrees_with_the_traces(client: TestClient) -> None:
    asset = _substation_with_dependents(client)
    graph = client.get(f"/v1/city/graph/{asset}?depth=2&limit=5", headers=READ).json()
    down = client.get(f"/v1/assets/{asset}/dependents?depth=2", headers=READ).json()["dependents"]
    up = client.get(f"/v1/assets/{asset}/dependencies?depth=2", headers=READ).json()["dependencies"]
    assert graph["totals"] == {"dependents": len(down), "dependencies": len(up)}
    depth_of = {d["id"]: d["depth"] for d in down} | {d["id"]: -d["depth"] for d in up}
    for node in graph["nodes"]:
        assert node["layer"] == (0 if node["id"] == asset else depth_of[node["id"]])
    hidden = {h["layer"]: h["count"] for h in graph["hidden"]}
    for layer, total in graph["layers"].items():
        shown = sum(1 for n in graph["nodes"] if n["layer"] == int(layer))
        assert shown <= 5 and shown + hidden.get(int(layer), 0) == total
    ids = {n["id"] for n in graph["nodes"]}
    assert graph["edges"] and all(e["from"] in ids and e["to"] in ids for e in graph["edges"])
    # the first layer holds direct dependents only, each with an edge to the asset
    assert all(any(e["from"] == n["id"] and e["to"] == asset for e in graph["edges"])
               for n in graph["nodes"] if n["layer"] == 1)
    power = client.get(f"/v1/city/graph/{asset}?depth=2&kind=power", headers=READ).json()
    assert {e["kind"] for e in power["edges"]} == {"power"}
    assert power["totals"]["dependents"] == len(
        client.get(f"/v1/assets/{asset}/dependents?depth=2&kind=power", headers=READ).json()["dependents"])


def test_graph_errors_name_the_field(client: TestClient) -> None:
    missing = client.get("/v1/city/graph/no-such-asset", headers=READ)
    assert missing.status_code == 404 and missing.json()["field"] == "asset_id"
    deep = client.get("/v1/city/graph/pp-0001?depth=51", headers=READ)
    assert deep.status_code == 422 and deep.json()["field"] == "depth"


def test_coordination_is_the_library_s(client: TestClient, tmp_path: Path) -> None:
    asset = _substation_with_dependents(client)
    body = {"fail": [{"id": asset, "time": 2}], "horizon_hours": 48}
    answer = client.post("/v1/city/coordination", headers=READ, json=body)
    assert answer.status_code == 200
    store = open_store(client.app.state.settings.store)  # type: ignore[attr-defined]
    try:
        snap = store.snapshot()
        expected = coordination(snap, cascade(snap, [(asset, 2.0)], horizon=48)).to_dict()
    finally:
        store.close()
    assert answer.json() == expected
    zones = client.post("/v1/city/coordination", headers=READ, json={"hazard_zones": ["flood-yuzhong-100y"]})
    assert zones.status_code == 200 and zones.json()["level"] == "district"
    unknown = client.post("/v1/city/coordination", headers=READ, json={"hazard_zones": ["flood-nowhere"]})
    assert unknown.status_code == 404 and unknown.json()["field"] == "hazard_zones[0]"
    sampled = client.post("/v1/city/coordination", headers=READ, json={"hazard_zones": ["flood-yuzhong-100y"],
                                                                       "samples": 10})
    assert sampled.status_code == 422


def test_the_page_is_served_without_a_key_and_only_from_its_folder(client: TestClient) -> None:
    page = client.get("/")
    assert page.status_code == 200 and page.headers["content-type"].startswith("text/html")
    assert "default-src 'self'" in page.headers["content-security-policy"]
    assert '<script type="module" src="/static/js/app.js">' in page.text
    script = client.get("/static/js/app.js")
    assert script.status_code == 200 and script.headers["content-type"].startswith("text/javascript")
    assert client.get("/static/js/app.js", headers={"If-None-Match": script.headers["etag"]}).status_code == 304
    for bad in ("/static/..%2fmain.py", "/static/..%2f..%2fpyproject.toml", "/static/nothing.js", "/static/js"):
        assert client.get(bad).status_code == 404, bad
    assert "/" not in client.get("/openapi.json").json()["paths"]  # the page is not an API operation


def test_the_page_refers_to_its_own_origin_only() -> None:
    """No CDN: every script, style and image the page names is one of its own files.

    The third-party bundles of /docs and /redoc (``static/vendor``) carry addresses in their text (licences,
    links); that they load nothing from elsewhere is checked in a browser by ``test_api_docs.py``."""
    static = Path(__file__).resolve().parents[2] / "api" / "static"
    for path in static.rglob("*"):
        if path.suffix in {".html", ".js", ".css"} and not path.is_relative_to(static / "vendor"):
            text = path.read_text(encoding="utf-8")
            assert "http://" not in text.replace("http://www.w3.org/2000/svg", ""), path
            assert "https://" not in text, path
            assert "//cdn" not in text and "@import" not in text, path
