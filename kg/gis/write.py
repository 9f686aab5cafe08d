"""Layers to files: GeoPackage through pyogrio (GDAL), GeoJSON (RFC 7946) streamed as text.

A GeoPackage holds every layer under its own name, in EPSG:4326. GeoJSON has
no layers: one layer is written as a plain FeatureCollection; several go into
one collection, each feature naming its layer in a ``layer`` property (QGIS
opens such a file as one sub-layer per geometry type; filter on ``layer``).
"""

from __future__ import annotations

import contextlib
import math
import os
import secrets
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any, TextIO

import numpy as np
import orjson
import pyogrio.raw
import shapely

from kg.gis.layers import Layer

__all__ = ["CRS", "GEO_FORMATS", "MEDIA_TYPES", "write_geojson", "write_gpkg"]

CRS = "EPSG:4326"
GEO_FORMATS = ("geojson", "gpkg")
MEDIA_TYPES = {"geojson": "application/geo+json", "gpkg": "application/geopackage+sqlite3"}


@contextlib.contextmanager
def _replaced(path: Path) -> Iterator[Path]:
    """A temporary path beside ``path``, renamed over it when the block ends without an error."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.{secrets.token_hex(4)}.part{path.suffix}")
    try:
        yield tmp
        os.replace(tmp, path)
    finally:
        tmp.unlink(missing_ok=True)


def write_gpkg(layers: Iterable[Layer], path: Path) -> dict[str, int]:
    """Write ``layers`` into a new GeoPackage at ``path`` (replacing it whole); returns features per layer."""
    counts: dict[str, int] = {}
    with _replaced(path) as tmp:
        for layer in layers:
            wkb = np.empty(len(layer), dtype=object)
            placed = shapely.is_geometry(layer.geometry)
            wkb[placed] = shapely.to_wkb(layer.geometry[placed])
            pyogrio.raw.write(
                tmp, wkb, list(layer.fields.values()), list(layer.fields), layer=layer.name, driver="GPKG",
                geometry_type=layer.geometry_type, crs=CRS, append=bool(counts),
                promote_to_multi=layer.geometry_type == "MultiPolygon",
                layer_options={"SPATIAL_INDEX": "YES"},
            )
            counts[layer.name] = len(layer)
    return counts


def _value(value: Any) -> Any:
    if isinstance(value, np.generic):
        value = value.item()
    if isinstance(value, float) and math.isnan(value):
        return None
    if hasattr(value, "isoformat"):
        return value.isoformat() + "Z"  # cascade times are UTC
    return value


def write_geojson(layers: Iterable[Layer], out: TextIO) -> dict[str, int]:
    """Write ``layers`` as one GeoJSON FeatureCollection (see the module docstring); returns features per layer."""
    layers = list(layers)
    tag = len(layers) > 1
    name = layers[0].name if len(layers) == 1 else "citykg"
    out.write('{"type": "FeatureCollection", "name": ' + orjson.dumps(name).decode() + ', "features": [\n')
    first = True
    counts: dict[str, int] = {}
    for layer in layers:
        placed = shapely.is_geometry(layer.geometry)
        shapes = np.full(len(layer), "null", dtype=object)
        shapes[placed] = shapely.to_geojson(layer.geometry[placed])
        columns = [(k, v.astype("datetime64[ms]").astype(object) if v.dtype.kind == "M" else v)
                   for k, v in layer.fields.items()]
        for i in range(len(layer)):
            props = {k: _value(v[i]) for k, v in columns}
            if tag:
                props = {"layer": layer.name, **props}
            feature = (b'{"type": "Feature", "geometry": ' + str(shapes[i]).encode() + b', "properties": '
                       + orjson.dumps(props) + b"}")
            out.write(("" if first else ",\n") + feature.decode())
            first = False
        counts[layer.name] = len(layer)
    out.write("\n]}\n")
    return counts
