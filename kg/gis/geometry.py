"""An element's geometry from its ``geometry`` extra column (WKT, WGS84 longitude/latitude) or its point.

Kept apart from :mod:`kg.gis.layers` (which draws a store and a cascade as layers) so that loading
(:mod:`kg.load.plan`, deriving exposures from zones' polygons) needs only shapely, not the analysis.

>>> geometry_of({"geometry": "POLYGON((0 0, 1 0, 1 1, 0 0))"}, None, None).geom_type
'Polygon'
>>> geometry_of({}, 29.5, 106.5).wkt
'POINT (106.5 29.5)'
"""

from __future__ import annotations

from typing import Any

import shapely
from shapely.errors import ShapelyError

from kg.errors import KGError
from kg.i18n import Message, _l
from kg.model import GEOMETRY

__all__ = ["GEOMETRY", "GeometryError", "geometry_of"]


class GeometryError(KGError):
    """An element's ``geometry`` is not WKT that makes a geometry: ``detail`` says why, ``where`` names it."""

    def __init__(self, where: str, detail: Message) -> None:
        super().__init__(_l("{where}: {detail}", where=where, detail=detail) if where else detail)
        self.where = where
        self.detail = detail


def geometry_of(props: dict[str, Any] | None, lat: float | None, lon: float | None,
                where: str = "") -> shapely.Geometry | None:
    """An element's geometry: its ``geometry`` WKT, else the point (lon, lat), else None.

    Raises
    ------
    GeometryError
        The WKT does not parse (``where`` names the element in the message).
    """
    wkt = (props or {}).get(GEOMETRY)
    if wkt:
        try:
            return shapely.from_wkt(wkt, on_invalid="raise")
        except (ShapelyError, ValueError) as exc:
            raise GeometryError(where, _l("the 'geometry' column is not WKT ({reason})", reason=exc)) from exc
    if lat is not None and lon is not None:
        return shapely.Point(lon, lat)
    return None
