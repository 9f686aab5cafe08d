"""``GET /v1/export``: streamed RDF in the four formats, filters checked before the first byte; GIS layers."""

from __future__ import annotations

import json
from pathlib import Path

import pyogrio
import pytest
from fastapi.testclient import TestClient
from rdflib import Graph

from tests.api.conftest import City, auth


@pytest.mark.parametrize(("fmt", "media", "rdflib_format"), [
    ("ttl", "text/turtle", "turtle"), ("nt", "application/n-triples", "nt"), ("jsonld", "application/ld+json", None),
    ("rdfxml", "application/rdf+xml", "xml")])
def test_export_parses_and_holds_every_asset(client: TestClient, city: City, fmt: str, media: str,
                                             rdflib_format: str | None) -> None:
    r = client.get("/v1/export", params={"format": fmt}, headers=auth("read"))
    assert r.status_code == 200, r.text
    assert r.headers["content-type"].startswith(media)
    extension = "rdf" if fmt == "rdfxml" else fmt
    assert r.headers["content-disposition"] == f'attachment; filename="citykg.{extension}"'
    if rdflib_format is None:
        doc = json.loads(r.text)
        assert "@context" in doc
        return
    graph = Graph().parse(data=r.text, format=rdflib_format)
    subjects = {str(s).rsplit("/", 1)[-1] for s in graph.subjects()}
    assert set(city.ids()) <= subjects


def test_region_subgraph_is_smaller(client: TestClient, city: City) -> None:
    whole = client.get("/v1/export", params={"format": "nt"}, headers=auth("read"))
    district = next(r[0] for r in city.rows["regions"] if r[1] == "district")
    part = client.get("/v1/export", params={"format": "nt", "region": district}, headers=auth("read"))
    assert part.status_code == 200 and 0 < len(part.content) < len(whole.content)


@pytest.mark.parametrize(("params", "status", "field"), [
    ({"format": "xml"}, 422, "format"),
    ({"region": "no-such-region"}, 404, "region"),
    ({"around": "no-such-asset"}, 404, "around"),
    ({"around": "x", "depth": -1}, 422, "depth"),
    ({"around": "x", "depth": 10_000}, 422, "depth"),
])
def test_bad_parameters(client: TestClient, params: dict[str, object], status: int, field: str) -> None:
    r = client.get("/v1/export", params=params, headers=auth("read"))
    assert r.status_code == status and r.json()["field"] == field, r.text


def test_needs_a_key(client: TestClient) -> None:
    assert client.get("/v1/export").status_code == 401


def test_geojson_layers(client: TestClient, city: City) -> None:
    r = client.get("/v1/export", params={"format": "geojson"}, headers=auth("read"))
    assert r.status_code == 200, r.text
    assert r.headers["content-type"].startswith("application/geo+json")
    assert r.headers["content-disposition"] == 'attachment; filename="citykg.geojson"'
    layers = [f["properties"]["layer"] for f in r.json()["features"]]
    assert {n: layers.count(n) for n in set(layers)} == {
        t: len(city.rows[t]) for t in ("assets", "dependencies", "hazard_zones", "regions")}
    one = client.get("/v1/export", params={"format": "geojson", "layer": "assets"}, headers=auth("read")).json()
    assert one["name"] == "assets" and sorted(f["properties"]["id"] for f in one["features"]) == sorted(city.ids())
    point = next(f for f in one["features"] if f["properties"]["id"] == city.rows["assets"][0][0])
    assert point["geometry"]["coordinates"] == [city.rows["assets"][0][6], city.rows["assets"][0][5]]


def test_geopackage(client: TestClient, city: City, tmp_path: Path) -> None:
    r = client.get("/v1/export", params={"format": "gpkg", "layer": ["regions", "assets"]}, headers=auth("read"))
    assert r.status_code == 200, r.text
    assert r.headers["content-type"] == "application/geopackage+sqlite3"
    path = tmp_path / "city.gpkg"
    path.write_bytes(r.content)
    assert [tuple(x) for x in pyogrio.list_layers(path)] == [("regions", "Unknown"), ("assets", "Point")]
    assert pyogrio.read_info(path, layer="assets")["features"] == len(city.rows["assets"])
    bad = client.get("/v1/export", params={"format": "gpkg", "layer": "roads"}, headers=auth("read"))
    assert bad.status_code == 422 and bad.json()["field"] == "layer"


def test_geojson_cascade_footprint(client: TestClient, city: City) -> None:
    substation = city.first("Substation")
    expected = client.post("/v1/cascades", json={"fail": [{"id": substation, "time": 2}]}, headers=auth("read")).json()
    r = client.get("/v1/export", params={"format": "geojson", "layer": "assets", "fail": f"{substation}@2",
                                         "start": "2026-07-01T08:00:00+08:00"}, headers=auth("read"))
    assert r.status_code == 200, r.text
    footprint = [f["properties"] for f in r.json()["features"] if f["properties"]["layer"] == "cascade"]
    assert [(p["id"], p["hour"]) for p in footprint] == [(f["id"], f["time"]) for f in expected["failures"]]
    assert footprint[0]["time"] == "2026-07-01T02:00:00Z"


@pytest.mark.parametrize(("params", "status", "field"), [
    ({"format": "geojson", "fail": "no-such-asset"}, 404, "fail[0].id"),
    ({"format": "geojson", "hazard": "no-such-zone"}, 404, "hazard[0]"),
    ({"format": "geojson", "fail": "x@soon"}, 422, "fail[0]"),
    ({"format": "ttl", "hazard": "x"}, 422, "format"),
    ({"format": "gpkg", "fail": "x", "start": "2026-07-01T08:00:00"}, 422, "start"),
])
def test_bad_footprints(client: TestClient, city: City, params: dict[str, str], status: int, field: str) -> None:
    r = client.get("/v1/export", params=params, headers=auth("read"))
    assert r.status_code == status and r.json()["field"] == field, r.text
