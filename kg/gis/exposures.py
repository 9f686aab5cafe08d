"""Exposures derived from geometry: every asset inside a hazard zone's polygon is exposed to it.

Used by ``kg load`` for hazard zones that carry a polygon (``geometry``) and an
``intensity`` but no exposure rows: the assets whose geometry (their point, or
their own line or polygon) intersects the zone's are exposed at the zone's
intensity. A point on the zone's boundary counts as inside. One spatial index
(shapely's STRtree) over the assets answers every zone.

Examples
--------
>>> import shapely
>>> zone = shapely.from_wkt("POLYGON((0 0, 2 0, 2 2, 0 2, 0 0))")
>>> derive_exposures(["z"], [zone], [1.5], ["a", "b"], [shapely.Point(1, 1), shapely.Point(3, 3)])
[('a', 'z', 1.5)]
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import shapely

__all__ = ["derive_exposures"]


def derive_exposures(
    zone_ids: Sequence[str], zones: Sequence[shapely.Geometry], intensities: Sequence[float],
    asset_ids: Sequence[str], assets: Sequence[shapely.Geometry | None],
) -> list[tuple[str, str, float]]:
    """``(asset, zone, intensity)`` for every asset whose geometry intersects a zone's, by zone then asset order."""
    placed = [i for i, g in enumerate(assets) if g is not None]
    if not placed or not zones:
        return []
    tree = shapely.STRtree(np.array([assets[i] for i in placed], dtype=object))
    zone_index, asset_index = tree.query(np.array(zones, dtype=object), predicate="intersects")
    order = np.lexsort((asset_index, zone_index))
    return [(asset_ids[placed[a]], zone_ids[z], float(intensities[z]))
            for z, a in zip(zone_index[order].tolist(), asset_index[order].tolist(), strict=True)]
