"""Exposures derived from geometry: every asset inside a hazard zone's polygon is exposed to it.

Used by ``kg load`` for hazard zones that carry a polygon (``geometry``) and an
``intensity`` but no exposure rows: the assets whose geometry (their point, or
their own line or polygon) intersects the zone's are exposed at the zone's
intensity. A point on the zone's boundary counts as inside.

How, on a million assets: points (nearly every asset) are kept as two
coordinate arrays; each zone takes the points inside its bounding box (a numpy
comparison) and tests only those with shapely's vectorised, prepared
``intersects_xy``. Lines and polygons go into one STRtree, queried once per
zone. ``bench/geo.py`` measures it against testing every point for every zone.

Examples
--------
>>> import shapely
>>> zone = shapely.from_wkt("POLYGON((0 0, 2 0, 2 2, 0 2, 0 0))")
>>> road = shapely.from_wkt("LINESTRING(-1 1, 1 1)")
>>> derive_exposures(["z"], [zone], [1.5], ["a", "b", "r"], [shapely.Point(1, 1), shapely.Point(3, 3), road])
[('a', 'z', 1.5), ('r', 'z', 1.5)]
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import shapely

__all__ = ["derive_exposures"]

_POINT = 0
"""shapely's type id of a Point."""


def derive_exposures(
    zone_ids: Sequence[str], zones: Sequence[shapely.Geometry], intensities: Sequence[float],
    asset_ids: Sequence[str], assets: Sequence[shapely.Geometry | None],
) -> list[tuple[str, str, float]]:
    """``(asset, zone, intensity)`` for every asset whose geometry intersects a zone's, by zone then asset order."""
    geometry = np.empty(len(assets), dtype=object)
    geometry[:] = assets
    placed = shapely.is_geometry(geometry)
    is_point = np.zeros(len(assets), dtype=bool)
    is_point[placed] = shapely.get_type_id(geometry[placed]) == _POINT
    points = np.flatnonzero(is_point)
    x, y = shapely.get_x(geometry[points]), shapely.get_y(geometry[points])
    others = np.flatnonzero(placed & ~is_point)
    tree = shapely.STRtree(geometry[others]) if len(others) else None
    out: list[tuple[str, str, float]] = []
    for zone_id, zone, intensity in zip(zone_ids, zones, intensities, strict=True):
        shapely.prepare(zone)
        west, south, east, north = zone.bounds
        box = np.flatnonzero((x >= west) & (x <= east) & (y >= south) & (y <= north))
        hit = points[box[shapely.intersects_xy(zone, x[box], y[box])]]
        if tree is not None:
            hit = np.concatenate([hit, others[tree.query(zone, predicate="intersects")]])
        hit.sort()
        value = float(intensity)
        out.extend((asset_ids[a], zone_id, value) for a in hit.tolist())
    return out
