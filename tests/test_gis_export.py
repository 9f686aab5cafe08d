"""GIS out: ``kg export --geo`` and ``GET /v1/export?format=geojson|gpkg`` give the store's layers, read back
with pyogrio and GDAL's ``ogrinfo``; a cascade's footprint carries each failure's hour and time."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from datetime import UTC, datetime, timedelta
from pathlib import Path

import numpy as np
import pyogrio
import pyogrio.raw
import pytest
import shapely

from kg.analysis.hazards import hazard_cascade
from kg.schema import TABLES
from kg.store import open_store
from kg.synth import city_rows, write_bundle
from tests.helpers import run_kg, write_files

ASSETS, ZONES = TABLES["assets"], TABLES["hazard_zones"]


@pytest.fixture(scope="module")
def city(tmp_path_factory: pytest.TempPathFactory) -> tuple[str, dict[str, list[tuple[object, ...]]]]:
    root = tmp_path_factory.mktemp("gis")
    rows = city_rows(600, seed=3)
    first = ZONES.as_dict(rows["hazard_zones"][0])
    rows["hazard_zones"][0] = ZONES.row({**first, "props": {
        **(first["props"] or {}),
        "geometry": "POLYGON((106.5 29.5, 106.6 29.5, 106.6 29.6, 106.5 29.6, 106.5 29.5))", "name_zh": "洪涝区"}})
    write_bundle(rows, root / "bundle")
    url = f"sqlite:///{root / 'kg.db'}"
    assert run_kg("load", str(root / "bundle"), "--store", url, "--quiet").exit_code == 0
    return url, rows


def _layer(path: Path, name: str) -> tuple[dict[str, object], np.ndarray, list[np.ndarray]]:
    meta, _, geometry, fields = pyogrio.raw.read(path, layer=name)
    return meta, geometry, fields


def test_geopackage_layers_fields_crs_and_counts_equal_the_store(city: tuple[str, dict], tmp_path: Path) -> None:
    url, rows = city
    out = tmp_path / "city.gpkg"
    result = run_kg("export", "--geo", "gpkg", "-o", str(out), "--store", url, "--format", "json")
    assert result.exit_code == 0, result.stderr
    counts = {t: len(rows[t]) for t in ("assets", "dependencies", "hazard_zones", "regions")}
    assert json.loads(result.stdout)["layers"] == counts
    assert [tuple(x) for x in pyogrio.list_layers(out)] == [
        ("assets", "Point"), ("dependencies", "LineString"), ("hazard_zones", "Polygon"), ("regions", "Unknown")]
    for name, n in counts.items():
        info = pyogrio.read_info(out, layer=name)
        assert info["features"] == n and info["crs"] == "EPSG:4326"
    meta, geometry, fields = _layer(out, "assets")
    got = dict(zip(meta["fields"], fields, strict=True))
    ordered = sorted(map(ASSETS.as_dict, rows["assets"]), key=lambda a: a["id"])
    assert list(got["id"]) == [a["id"] for a in ordered] and list(got["type"]) == [a["type"] for a in ordered]
    assert list(got["population"]) == [a["population"] for a in ordered]
    points = shapely.from_wkb(geometry)
    assert np.allclose(shapely.get_x(points), [a["lon"] for a in ordered])
    assert np.allclose(shapely.get_y(points), [a["lat"] for a in ordered])
    meta, geometry, fields = _layer(out, "hazard_zones")
    zones = dict(zip(meta["fields"], fields, strict=True))
    k = list(zones["id"]).index(ZONES.as_dict(rows["hazard_zones"][0])["id"])
    assert zones["name_zh"][k] == "洪涝区" and shapely.from_wkb(geometry[k]).area == pytest.approx(0.01)
    props = map(ZONES.getter("props"), rows["hazard_zones"])
    assert sum(g is not None for g in geometry) == sum(1 for p in props if (p or {}).get("geometry"))
    meta, geometry, fields = _layer(out, "dependencies")
    deps = dict(zip(meta["fields"], fields, strict=True))
    assert set(meta["fields"]) >= {"dependent", "provider", "kind", "group", "buffer_hours"}
    where = {a["id"]: (a["lon"], a["lat"]) for a in map(ASSETS.as_dict, rows["assets"])}
    line = shapely.from_wkb(geometry[0])
    assert list(line.coords) == [where[deps["provider"][0]], where[deps["dependent"][0]]]


@pytest.mark.skipif(shutil.which("ogrinfo") is None and os.environ.get("KG_REQUIRE_GDAL") != "1",
                    reason="GDAL's ogrinfo (Debian gdal-bin) is not installed")
def test_ogrinfo_reads_the_geopackage(city: tuple[str, dict], tmp_path: Path) -> None:
    url, rows = city
    out = tmp_path / "city.gpkg"
    assert run_kg("export", "-o", str(out), "--store", url).exit_code == 0
    info = subprocess.run(["ogrinfo", "-ro", "-so", "-al", str(out)], capture_output=True, text=True, check=True)
    for name in ("assets", "dependencies", "hazard_zones", "regions"):
        assert f"Layer name: {name}" in info.stdout
        assert f"Feature Count: {len(rows[name])}" in info.stdout
    assert 'ID["EPSG",4326]' in info.stdout and "name_zh: String" in info.stdout


def test_cascade_footprint_has_hours_and_absolute_times(city: tuple[str, dict], tmp_path: Path) -> None:
    url, rows = city
    zone = next(z["id"] for z in map(ZONES.as_dict, rows["hazard_zones"]) if z["hazard"] == "Flood")
    out = tmp_path / "cascade.gpkg"
    result = run_kg("export", "-o", str(out), "--store", url, "--layer", "assets", "--cascade", "--hazard", zone,
                    "--start", "2026-07-01T08:00+08:00")
    assert result.exit_code == 0, result.stderr
    store = open_store(url)
    try:
        expected = hazard_cascade(store.snapshot(), [zone])
    finally:
        store.close()
    assert [tuple(x) for x in pyogrio.list_layers(out)] == [("assets", "Point"), ("cascade", "Point")]
    meta, _, fields = _layer(out, "cascade")
    got = dict(zip(meta["fields"], fields, strict=True))
    assert list(got["id"]) == [f.id for f in expected.failures] and expected.failures
    assert list(got["hour"]) == [f.time for f in expected.failures]
    start = datetime(2026, 7, 1, 0, 0, tzinfo=UTC)
    times = [datetime.fromisoformat(str(t)[:23]).replace(tzinfo=UTC) for t in got["time"]]
    assert times == [start + timedelta(hours=f.time) for f in expected.failures]


def test_geojson_to_stdout_and_file(city: tuple[str, dict], tmp_path: Path) -> None:
    url, rows = city
    result = run_kg("export", "--geo", "geojson", "--layer", "regions", "--store", url)
    doc = json.loads(result.stdout)
    assert doc["type"] == "FeatureCollection" and doc["name"] == "regions"
    regions = map(TABLES["regions"].getter("id"), rows["regions"])
    assert sorted(f["properties"]["id"] for f in doc["features"]) == sorted(regions)
    out = tmp_path / "city.geojson"
    assert run_kg("export", "-o", str(out), "--store", url).exit_code == 0
    layers = [f["properties"]["layer"] for f in json.loads(out.read_text(encoding="utf-8"))["features"]]
    assert {n: layers.count(n) for n in set(layers)} == {
        t: len(rows[t]) for t in ("assets", "dependencies", "hazard_zones", "regions")}
    info = pyogrio.read_info(out)
    assert info["crs"] == "EPSG:4326"


@pytest.mark.parametrize(("args", "message"), [
    (["--geo", "gpkg"], "give -o FILE.gpkg"),
    (["--geo", "gpkg", "--rdf", "ttl", "-o", "x.gpkg"], "not both"),
    (["--geo", "geojson", "-o", "x.gpkg"], "suffix of another format"),
    (["-o", "x.gpkg", "--layer", "roads"], "--layer 'roads'"),
    (["-o", "x.gpkg", "--cascade"], "--cascade needs either --fail"),
    (["-o", "x.gpkg", "--cascade", "--hazard", "nowhere"], "--hazard 'nowhere'"),
    (["-o", "x.gpkg", "--cascade", "--fail", "x", "--start", "2026-07-01T08:00"], "UTC offset"),
    (["--cascade", "--fail", "x"], "go with --geo"),
    (["-o", "x.gpkg", "--region", "yuzhong"], "RDF subgraph"),
])
def test_bad_options_are_one_clear_error(city: tuple[str, dict], tmp_path: Path, args: list[str],
                                         message: str) -> None:
    url, _ = city
    args = [str(tmp_path / a) if a.startswith("x.") else a for a in args]
    result = run_kg("export", *args, "--store", url)
    assert result.exit_code == 1 and message in result.stderr, result.stderr
    assert not list(tmp_path.iterdir())


def test_bad_geometry_names_the_element(tmp_path: Path) -> None:
    bundle = write_files(tmp_path / "b", {"regions.csv": "id,level,geometry\ncq,city,POLYGON((0 0\n"})
    url = f"sqlite:///{tmp_path / 'kg.db'}"
    assert run_kg("load", str(bundle), "--store", url, "--quiet").exit_code == 0
    result = run_kg("export", "-o", str(tmp_path / "out.gpkg"), "--store", url)
    assert result.exit_code == 1 and "regions id 'cq'" in result.stderr and "WKT" in result.stderr
    assert not (tmp_path / "out.gpkg").exists()

