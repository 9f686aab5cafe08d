"""GIS in: ``kg load`` reads GeoPackage, GeoJSON and Shapefile layers; other CRSs land in WGS84; hazard polygons
give the exposures a plain point-in-polygon test gives; problems name the layer and feature."""

from __future__ import annotations

import itertools
import random
from pathlib import Path
from typing import Any

import numpy as np
import pyogrio.raw
import pytest
import shapely

from kg.store import open_store
from tests.helpers import run_kg, write_files

REGIONS = {"regions.csv": "id,level,name\ncq,city,Chongqing\n"}


def write_layer(path: Path, layer: str | None, rows: list[dict[str, Any]], geometry: list[str | None] | None,
                crs: str | None = "EPSG:4326", driver: str = "GPKG") -> None:
    """One layer of ``rows`` (same keys each) with WKT ``geometry`` (None: an attribute table)."""
    names = list(rows[0])
    fields = [np.array([r[n] for r in rows], dtype=object if isinstance(rows[0][n], str) else None) for n in names]
    wkb = None
    kind = None
    if geometry is not None:
        shapes = [None if g is None else shapely.from_wkt(g) for g in geometry]
        wkb = np.array([None if g is None else shapely.to_wkb(g) for g in shapes], dtype=object)
        kind = "Unknown" if len({g.geom_type for g in shapes if g is not None}) != 1 else next(
            g.geom_type for g in shapes if g is not None)
    pyogrio.raw.write(path, wkb, fields, names, layer=layer, driver=driver, geometry_type=kind, crs=crs,
                      append=path.exists() and driver == "GPKG")


def _load(tmp_path: Path, *paths: Path) -> tuple[int, str, str]:
    url = f"sqlite:///{tmp_path / 'kg.db'}"
    result = run_kg("load", *map(str, paths), "--store", url, "--quiet")
    return result.exit_code, result.stderr, url


def _ray_casting(x: float, y: float, ring: list[tuple[float, float]]) -> bool:
    """Point in polygon, the textbook way (crossings of a ray to the right)."""
    inside = False
    for (x1, y1), (x2, y2) in itertools.pairwise(ring):
        if (y1 > y) != (y2 > y) and x < x1 + (y - y1) * (x2 - x1) / (y2 - y1):
            inside = not inside
    return inside


def _star(rng: random.Random, cx: float, cy: float, size: float) -> list[tuple[float, float]]:
    """A random star-shaped (often concave) polygon ring around (cx, cy)."""
    angles = sorted(rng.uniform(0, 2 * np.pi) for _ in range(rng.randint(5, 12)))
    ring = [(cx + np.cos(a) * size * rng.uniform(0.3, 1), cy + np.sin(a) * size * rng.uniform(0.3, 1))
            for a in angles]
    return [*ring, ring[0]]


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_hazard_polygons_expose_the_assets_inside(tmp_path: Path, seed: int) -> None:
    rng = random.Random(seed)
    gpkg = tmp_path / "city.gpkg"
    points = [(rng.uniform(106.3, 106.7), rng.uniform(29.3, 29.7)) for _ in range(300)]
    write_layer(gpkg, "regions", [{"id": "cq", "level": "city", "name": "Chongqing"}], [None])
    write_layer(gpkg, "assets", [{"id": f"a{i:03d}", "type": "Substation", "region": "cq"} for i in range(300)],
                [f"POINT ({x} {y})" for x, y in points])
    rings = [_star(rng, rng.uniform(106.35, 106.65), rng.uniform(29.35, 29.65), 0.12) for _ in range(4)]
    write_layer(gpkg, "hazard_zones", [{"id": f"z{k}", "hazard": "洪涝", "intensity": 1.5 + k} for k in range(4)],
                ["POLYGON ((" + ", ".join(f"{x} {y}" for x, y in ring) + "))" for ring in rings])
    code, err, url = _load(tmp_path, gpkg)
    assert code == 0, err
    expected = sorted((f"a{i:03d}", f"z{k}", 1.5 + k) for k, ring in enumerate(rings)
                      for i, (x, y) in enumerate(points) if _ray_casting(x, y, ring))
    store = open_store(url)
    try:
        assert sorted(store.rows("exposures")) == expected and expected
        zone = store.get("z0")
        assert zone["hazard"] == "Flood" and shapely.from_wkt(zone["props"]["geometry"]).equals(
            shapely.Polygon(rings[0]))
    finally:
        store.close()


def test_given_exposures_win_over_the_polygon(tmp_path: Path) -> None:
    gpkg = tmp_path / "city.gpkg"
    write_layer(gpkg, "assets", [{"id": "a", "type": "Hospital"}, {"id": "b", "type": "Hospital"}],
                ["POINT (0.5 0.5)", "POINT (5 5)"])
    write_layer(gpkg, "hazard_zones", [{"id": "z", "hazard": "Flood", "intensity": 2.0}],
                ["POLYGON ((0 0, 1 0, 1 1, 0 1, 0 0))"])
    write_layer(gpkg, "exposures", [{"asset": "b", "zone": "z", "intensity": 0.4}], None)
    code, err, url = _load(tmp_path, gpkg)
    assert code == 0, err
    store = open_store(url)
    try:
        assert list(store.rows("exposures")) == [("b", "z", 0.4)]
    finally:
        store.close()


@pytest.mark.parametrize(("epsg", "x", "y"), [
    # Jiefangbei, Chongqing (106.577 E, 29.557 N), as GDAL's gdaltransform gives it in each CRS.
    (4547, -220417.406273568, 3294109.95240908),  # CGCS2000 / 3-degree Gauss-Kruger CM 114E
    (4545, 362086.981208508, 3271852.33500695),  # CGCS2000 / 3-degree Gauss-Kruger CM 108E
])
def test_a_projected_layer_lands_at_the_right_wgs84_place(tmp_path: Path, epsg: int, x: float, y: float) -> None:
    gpkg = tmp_path / "assets.gpkg"
    write_layer(gpkg, "assets", [{"id": "jfb", "type": "Substation", "name_zh": "解放碑变电站"}], [f"POINT ({x} {y})"],
                crs=f"EPSG:{epsg}")
    code, err, url = _load(tmp_path, gpkg)
    assert code == 0, err
    store = open_store(url)
    try:
        asset = store.get("jfb")
        assert (asset["lat"], asset["lon"]) == (pytest.approx(29.557, abs=1e-7), pytest.approx(106.577, abs=1e-7))
        assert asset["props"] == {"name_zh": "解放碑变电站"}
    finally:
        store.close()


def test_lines_and_polygons_keep_their_geometry_and_get_a_point_on_them(tmp_path: Path) -> None:
    path = tmp_path / "assets.geojson"
    write_layer(path, None, [{"id": "road", "type": "Road"}, {"id": "park", "type": "ResidentialArea"}],
                ["LINESTRING (106.5 29.5, 106.6 29.5)", "POLYGON ((106 29, 106.2 29, 106.2 29.2, 106 29.2, 106 29))"],
                driver="GeoJSON")
    code, err, url = _load(tmp_path, path)
    assert code == 0, err
    store = open_store(url)
    try:
        for asset_id in ("road", "park"):
            asset = store.get(asset_id)
            shape = shapely.from_wkt(asset["props"]["geometry"])
            assert shape.intersects(shapely.Point(asset["lon"], asset["lat"]))
        assert shapely.from_wkt(store.get("road")["props"]["geometry"]).length == pytest.approx(0.1)
    finally:
        store.close()
    out = tmp_path / "out.gpkg"
    assert run_kg("export", "-o", str(out), "--store", url, "--layer", "assets").exit_code == 0
    _, _, wkb, _ = pyogrio.raw.read(out, layer="assets")
    assert sorted(shapely.from_wkb(wkb), key=lambda g: g.geom_type)[0].geom_type == "LineString"


@pytest.mark.filterwarnings("ignore:'crs' was not provided")
def test_a_layer_without_a_crs_is_a_clear_error(tmp_path: Path) -> None:
    shp = tmp_path / "assets.shp"
    write_layer(shp, None, [{"id": "a", "type": "Substation"}], ["POINT (500000 3300000)"], crs=None,
                driver="ESRI Shapefile")
    code, err, _url = _load(tmp_path, shp)
    assert code == 1 and f"{shp}: the layer has geometry but no coordinate reference system" in err
    assert not (tmp_path / "kg.db").exists()


def test_problems_name_the_layer_and_feature(tmp_path: Path) -> None:
    gpkg = tmp_path / "city.gpkg"
    write_layer(gpkg, "assets", [{"id": "a", "type": "Substation"}, {"id": "b", "type": "变压站"}],
                ["POINT (106.5 29.5)", "POINT (106.6 29.6)"])
    write_layer(gpkg, "roads", [{"id": "r"}], ["POINT (0 0)"])
    write_layer(gpkg, "hazard_zones", [{"id": "z", "hazard": "Flood", "intensity": "deep"}],
                ["POLYGON ((0 0, 1 0, 1 1, 0 0))"])
    code, err, _ = _load(tmp_path, gpkg)
    assert code == 1
    assert f"{gpkg}:assets:2: " in err and "'变压站'" in err
    assert f"{gpkg}:roads: not a bundle layer name" in err


def test_intensity_must_be_a_number(tmp_path: Path) -> None:
    gpkg = tmp_path / "city.gpkg"
    write_layer(gpkg, "hazard_zones", [{"id": "z", "hazard": "Flood", "intensity": "deep"}],
                ["POLYGON ((0 0, 1 0, 1 1, 0 0))"])
    code, err, _ = _load(tmp_path, gpkg)
    assert code == 1 and f"{gpkg}:hazard_zones:1: intensity 'deep'" in err


def test_a_gis_layer_beside_csv_files_and_a_later_zone_exposes_stored_assets(tmp_path: Path) -> None:
    bundle = write_files(tmp_path / "b", {**REGIONS, "assets.csv": "id,type,region,lat,lon\nh,医院,cq,29.5,106.5\n"
                                                                   "x,School,cq,10,10\n"})
    write_layer(bundle / "hazard_zones.geojson", None, [{"id": "z", "hazard": "Flood", "intensity": 1.0}],
                ["POLYGON ((106 29, 107 29, 107 30, 106 30, 106 29))"], driver="GeoJSON")
    code, err, url = _load(tmp_path, bundle)
    assert code == 0, err
    later = tmp_path / "later" / "hazard_zones.geojson"
    later.parent.mkdir()
    write_layer(later, None, [{"id": "z2", "hazard": "Landslide", "intensity": 0.5}],
                ["POLYGON ((9 9, 11 9, 11 11, 9 11, 9 9))"], driver="GeoJSON")
    code, err, _ = _load(tmp_path, later)
    assert code == 0, err
    store = open_store(url)
    try:
        assert list(store.rows("exposures")) == [("h", "z", 1.0), ("x", "z2", 0.5)]
    finally:
        store.close()
