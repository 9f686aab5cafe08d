"""GIS layers in: GeoPackage, GeoJSON and Shapefile features as bundle rows (pyogrio, shapely, pyproj).

A layer feeds the table it is named like: a GeoPackage's layers by their
names (``assets``, ``hazard_zones``, ...), a GeoJSON or Shapefile by its file
name (``assets.geojson``, ``hazard_zones.shp``). A feature's attributes are
the row's columns; its geometry, transformed to WGS84 longitude/latitude:

* **assets**: a point gives ``lat``/``lon``; a line or polygon is kept as WKT
  in the ``geometry`` column, with ``lat``/``lon`` a point on it
  (:func:`shapely.point_on_surface`);
* **regions**, **hazard zones**: kept as WKT in ``geometry``;
* other tables carry no geometry (a GeoPackage attribute table, or the
  geometry is ignored).

A layer with geometry but no coordinate reference system is an error: the
place would be a guess. Problems name ``FILE:LAYER:FEATURE`` (GeoPackage) or
``FILE:FEATURE`` (1-based), where a CSV file would name its line.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pyogrio
import pyogrio.raw
import shapely
from pyogrio.errors import DataLayerError, DataSourceError
from pyproj import CRS, Transformer
from pyproj.exceptions import CRSError

from kg.errors import Problem
from kg.i18n import _l
from kg.model import GEOMETRY
from kg.rows import RawRow
from kg.schema import TABLES, table_for_name

__all__ = ["read_gis_rows"]

_WGS84 = CRS.from_epsg(4326)
_PLACED = frozenset({"assets", "regions", "hazard_zones"})
"""Tables whose rows keep a geometry."""


def _to_wgs84(geometry: np.ndarray, crs_text: str) -> np.ndarray:
    crs = CRS.from_user_input(crs_text)
    if crs.equals(_WGS84, ignore_axis_order=True):
        return geometry
    transformer = Transformer.from_crs(crs, _WGS84, always_xy=True)

    def move(coords: np.ndarray) -> np.ndarray:
        x, y = transformer.transform(coords[:, 0], coords[:, 1])
        return np.column_stack([x, y])

    moved: np.ndarray = shapely.transform(geometry, move)
    return moved


def _value(value: Any) -> Any:
    """An attribute as a bundle value: None for empty, numbers kept, dates as ISO text, the rest as text."""
    if value is None:
        return None
    if isinstance(value, np.generic):
        value = value.item()
    if isinstance(value, float) and math.isnan(value):
        return None
    if isinstance(value, bytes):
        return None
    if hasattr(value, "isoformat"):
        return value.isoformat()
    if isinstance(value, str) and not value.strip():
        return None
    return value


def _layer_rows(path: Path, layer: str | None, table: str, source: str,
                report: Callable[[Problem], None]) -> Iterator[RawRow]:
    try:
        meta, _, wkb, fields = pyogrio.raw.read(path, layer=layer, read_geometry=table in _PLACED)
    except (DataSourceError, DataLayerError) as exc:
        report(Problem(source, _l("cannot read this layer: {reason}", reason=exc)))
        return
    names = [str(n) for n in meta["fields"]]
    geometry = None
    if wkb is not None and table in _PLACED:
        geometry = shapely.from_wkb(wkb)
        if shapely.is_geometry(geometry).any():
            if not meta.get("crs"):
                report(Problem(source, _l("the layer has geometry but no coordinate reference system (CRS); say "
                                          "which one it is in (for a Shapefile, its .prj file), e.g. EPSG:4326 for "
                                          "WGS84 longitude/latitude or EPSG:4547 for CGCS2000 / 3-degree "
                                          "Gauss-Kruger")))
                return
            try:
                geometry = _to_wgs84(geometry, meta["crs"])
            except CRSError as exc:
                report(Problem(source, _l("unknown coordinate reference system {crs}: {reason}",
                                          crs=repr(meta["crs"]), reason=exc)))
                return
    known = TABLES[table].record.model_fields
    # Extra attributes become text columns (props hold text), as they would from a CSV file.
    text = [n not in known for n in names]
    for i in range(len(fields[0]) if fields else (0 if geometry is None else len(geometry))):
        values = {n: (str(v) if as_text else v) for n, col, as_text in zip(names, fields, text, strict=True)
                  if (v := _value(col[i])) is not None}
        shape = geometry[i] if geometry is not None else None
        if shape is not None and not shape.is_empty:
            if table == "assets" and shape.geom_type == "Point":
                values["lon"], values["lat"] = shape.x, shape.y
            else:
                values[GEOMETRY] = shape.wkt
                if table == "assets":
                    point = shapely.point_on_surface(shape)
                    values["lon"], values["lat"] = point.x, point.y
        yield RawRow(table, source, i + 1, values)


def read_gis_rows(path: Path, table: str | None, report: Callable[[Problem], None]) -> Iterator[RawRow]:
    """The rows of a GeoPackage (every layer named like a table, in load order), GeoJSON or Shapefile.

    ``table`` is the table a single-layer file feeds (from its name), None for a GeoPackage.
    """
    if table is not None:
        yield from _layer_rows(path, None, table, str(path), report)
        return
    try:
        layers = [str(name) for name, _ in pyogrio.list_layers(path)]
    except (DataSourceError, DataLayerError) as exc:
        report(Problem(str(path), _l("cannot read this file as GIS layers: {reason}", reason=exc)))
        return
    for name in layers:
        if table_for_name(name) is None:
            report(Problem(f"{path}:{name}", _l("not a bundle layer name; expected one of {tables}",
                                                tables=", ".join(TABLES))))
    for name in sorted((n for n in layers if table_for_name(n)), key=lambda n: list(TABLES).index(n.lower())):
        yield from _layer_rows(path, name, str(table_for_name(name)), f"{path}:{name}", report)
