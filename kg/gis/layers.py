"""The store as GIS layers: assets, dependencies, hazard zones, regions, and a cascade's footprint.

A layer is columns (numpy arrays, one value per feature) and one geometry per
feature (shapely, WGS84 longitude/latitude; ``None`` where the data gives no
place). Every element of the store is a feature, placed or not, so a layer's
count is the store's.

Where geometry comes from:

* an element's ``geometry`` extra column, WKT in WGS84 (what ``kg load`` keeps
  from a GeoPackage, GeoJSON or Shapefile feature; a CSV bundle may carry it
  too);
* else, for assets, the point (``lon``, ``lat``);
* a dependency is the line from its provider's point to its dependent's point
  (supply flows along it), where both are placed.

Examples
--------
>>> import shapely
>>> geometry_of({"geometry": "POLYGON((0 0, 1 0, 1 1, 0 0))"}, None, None).geom_type
'Polygon'
>>> geometry_of({}, 29.5, 106.5).wkt
'POINT (106.5 29.5)'
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

import numpy as np
import numpy.typing as npt
import shapely

from kg.analysis.cascade import CascadeResult
from kg.gis.geometry import GEOMETRY, GeometryError, geometry_of
from kg.model import NAME_ZH, PROPS_FIELD
from kg.ontology import load_ontology
from kg.schema import TABLES, Row
from kg.snapshot import GraphSnapshot

__all__ = ["GEOMETRY", "LAYERS", "GeometryError", "Layer", "cascade_layer", "geometry_of", "store_layers"]

LAYERS = ("assets", "dependencies", "hazard_zones", "regions")
"""The layers of a store, in the order files list them."""


@dataclass
class Layer:
    """One GIS layer: fields as equal-length arrays, and one geometry (or None) per feature."""

    name: str
    geometry: npt.NDArray[np.object_]
    fields: dict[str, npt.NDArray[Any]] = field(default_factory=dict)

    def __len__(self) -> int:
        return len(self.geometry)

    @property
    def geometry_type(self) -> str:
        """``Point``, ``LineString``, ``Polygon``, ... when every placed feature has that type, else ``Unknown``."""
        kinds = set(shapely.get_type_id(self.geometry[shapely.is_geometry(self.geometry)]).tolist())
        names = {0: "Point", 1: "LineString", 3: "Polygon", 4: "MultiPoint", 5: "MultiLineString", 6: "MultiPolygon"}
        if len(kinds) == 1 and (kind := kinds.pop()) in names:
            return names[kind]
        if kinds <= {3, 6} and kinds:
            return "MultiPolygon"  # writers promote the polygons
        return "Unknown"


def _text(values: Iterable[Any]) -> npt.NDArray[np.object_]:
    return np.array([None if v is None else str(v) for v in values], dtype=object)


def _floats(values: Iterable[float | None]) -> npt.NDArray[np.float64]:
    return np.array([np.nan if v is None else v for v in values], dtype=np.float64)


def _columns(table: str, rows: Iterable[Row]) -> dict[str, list[Any]]:
    """A table's rows as one list of values per column, by name (:mod:`kg.schema`)."""
    columns = TABLES[table].columns
    values = list(zip(*rows, strict=True))
    return dict(zip(columns, map(list, values), strict=True)) if values else {c: [] for c in columns}


def _extra(props: list[dict[str, Any] | None], taken: Iterable[str]) -> dict[str, npt.NDArray[np.object_]]:
    """Every other extra column of the rows (``props``), as text fields."""
    skip = {*taken, GEOMETRY, NAME_ZH}
    keys = sorted({k for p in props for k in (p or {})} - skip)
    return {k: _text((p or {}).get(k) for p in props) for k in keys}


def _geometries(c: dict[str, list[Any]], table: str, *, points: bool = False) -> npt.NDArray[np.object_]:
    """Each row's ``geometry`` WKT, else (``points``) its point (lon, lat), else None."""
    out = np.empty(len(c["id"]), dtype=object)
    if points:  # points made all at once (shapely's vectorised constructor)
        ys, xs = _floats(c["lat"]), _floats(c["lon"])
        placed = np.isfinite(xs) & np.isfinite(ys)
        out[placed] = shapely.points(xs[placed], ys[placed])
    for i, (element, props) in enumerate(zip(c["id"], c[PROPS_FIELD], strict=True)):
        if props and props.get(GEOMETRY):
            out[i] = geometry_of(props, None, None, f"{table} id {element!r}")
    return out


def _name_zh(c: dict[str, list[Any]]) -> npt.NDArray[np.object_]:
    return _text((p or {}).get(NAME_ZH) for p in c[PROPS_FIELD])


def _assets(rows: Iterable[Row]) -> Layer:
    onto = load_ontology()
    c = _columns("assets", rows)
    fields: dict[str, npt.NDArray[Any]] = {
        "id": _text(c["id"]),
        "type": _text(c["type"]),
        "type_zh": _text(onto.label(t, "zh") for t in c["type"]),
        "sector": _text(onto.sector(t) for t in c["type"]),
        "name": _text(c["name"]),
        NAME_ZH: _name_zh(c),
        "region": _text(c["region"]),
        "agency": _text(c["agency"]),
        "lat": _floats(c["lat"]),
        "lon": _floats(c["lon"]),
        "population": np.array([p or 0 for p in c["population"]], dtype=np.int64),
    }
    fields.update(_extra(c[PROPS_FIELD], fields))
    return Layer("assets", _geometries(c, "assets", points=True), fields)


def _dependencies(rows: Iterable[Row], points: dict[str, tuple[float, float]]) -> Layer:
    c = _columns("dependencies", rows)
    n = len(c["dependent"])
    nowhere = (math.nan, math.nan)
    ends = np.array([(*points.get(p, nowhere), *points.get(d, nowhere)) for d, p in
                     zip(c["dependent"], c["provider"], strict=True)], dtype=np.float64).reshape(n, 4)
    placed = np.isfinite(ends).all(axis=1)
    lines = np.empty(n, dtype=object)
    lines[placed] = shapely.linestrings(ends[placed].reshape(-1, 2, 2))
    return Layer("dependencies", lines, {
        "dependent": _text(c["dependent"]), "provider": _text(c["provider"]),
        "kind": _text(c["kind"]), "group": _text(c["group"]),
        "buffer_hours": _floats(c["buffer_hours"]),
    })


def _hazard_zones(rows: Iterable[Row]) -> Layer:
    onto = load_ontology()
    c = _columns("hazard_zones", rows)
    fields: dict[str, npt.NDArray[Any]] = {
        "id": _text(c["id"]), "hazard": _text(c["hazard"]),
        "hazard_zh": _text(onto.label(h, "zh") for h in c["hazard"]),
        "name": _text(c["name"]), NAME_ZH: _name_zh(c),
        "annual_probability": _floats(c["annual_probability"]), "region": _text(c["region"]),
    }
    fields.update(_extra(c[PROPS_FIELD], fields))
    return Layer("hazard_zones", _geometries(c, "hazard_zones"), fields)


def _regions(rows: Iterable[Row]) -> Layer:
    onto = load_ontology()
    c = _columns("regions", rows)
    fields: dict[str, npt.NDArray[Any]] = {
        "id": _text(c["id"]), "level": _text(c["level"]),
        "level_zh": _text(onto.level_label(v, "zh") for v in c["level"]),
        "name": _text(c["name"]), NAME_ZH: _name_zh(c),
        "parent": _text(c["parent"]),
    }
    fields.update(_extra(c[PROPS_FIELD], fields))
    return Layer("regions", _geometries(c, "regions"), fields)


def _points(assets: Layer) -> dict[str, tuple[float, float]]:
    """Each placed asset's point (a point on its line or polygon), by id: where its dependencies' lines end."""
    geometry = assets.geometry.copy()
    placed = shapely.is_geometry(geometry)
    other = placed.copy()
    other[placed] = shapely.get_type_id(geometry[placed]) != 0
    geometry[other] = shapely.point_on_surface(geometry[other])
    xs, ys = shapely.get_x(geometry[placed]), shapely.get_y(geometry[placed])
    return dict(zip(assets.fields["id"][placed].tolist(), zip(xs.tolist(), ys.tolist(), strict=True), strict=True))


def store_layers(store: Any, names: Iterable[str] = LAYERS) -> Iterator[Layer]:
    """The layers ``names`` (of :data:`LAYERS`) of a store, one at a time, read with ``store.rows``.

    Raises
    ------
    GeometryError
        An element's ``geometry`` is not WKT.
    """
    wanted = list(names)
    points: dict[str, tuple[float, float]] = {}
    if "assets" in wanted or "dependencies" in wanted:
        assets = _assets(store.rows("assets"))
        points = _points(assets)
    for name in wanted:
        if name == "assets":
            yield assets
        elif name == "dependencies":
            yield _dependencies(store.rows("dependencies"), points)
        elif name == "hazard_zones":
            yield _hazard_zones(store.rows("hazard_zones"))
        elif name == "regions":
            yield _regions(store.rows("regions"))
        else:
            raise ValueError(f"unknown layer {name!r}; expected one of {', '.join(LAYERS)}")


def cascade_layer(result: CascadeResult, snap: GraphSnapshot, start: datetime) -> Layer:
    """A cascade's footprint: one point per failed asset, with its failure hour and absolute time.

    ``time`` is ``start`` plus the failure hour (a timestamp field, so that a
    GIS's time controller can play the cascade); ``hour`` the hours since the
    cascade's hour 0; ``initial`` 1 for an initial failure.
    """
    failures = result.failures
    index = np.array([f.index for f in failures], dtype=np.int64)
    lat, lon = snap.lat[index], snap.lon[index]
    placed = np.isfinite(lat) & np.isfinite(lon)
    geometry = np.empty(len(failures), dtype=object)
    geometry[placed] = shapely.points(lon[placed], lat[placed])
    base = np.datetime64(start.replace(tzinfo=None), "ms")
    hours = np.array([f.time for f in failures], dtype=np.float64)
    times = base + np.array([timedelta(hours=h) for h in hours], dtype="timedelta64[ms]")
    district = "district" if "district" in snap.levels else None
    return Layer("cascade", geometry, {
        "id": _text(f.id for f in failures), "type": _text(f.type for f in failures),
        "name": _text(snap.names[f.index] for f in failures),
        "hour": hours, "time": times,
        "initial": np.array([f.cause is None for f in failures], dtype=np.int32),
        "cause_kind": _text(None if f.cause is None else f.cause.kind for f in failures),
        "providers": _text(None if f.cause is None else " ".join(f.cause.providers) for f in failures),
        "district": _text(f.regions.get(district) if district else None for f in failures),
        "agency": _text(f.agency for f in failures),
        "population": np.array([f.population for f in failures], dtype=np.int64),
    })
