"""How the API renders what is not an analysis answer: stored assets as rows, any data as JSON bytes.

The answers of analysis (traces, cascades, region and agency summaries, the page's
graph) are built in :mod:`kg.answers`, for the CLI and the API alike.
"""

from __future__ import annotations

from typing import Any

import orjson
from fastapi import Response

__all__ = ["asset_view", "json_response"]

_ASSET_FIELDS = ("id", "type", "name", "region", "agency", "lat", "lon", "population", "repair_hours", "props")


def json_response(data: Any, status_code: int = 200) -> Response:
    """``data`` as compact UTF-8 JSON, encoded by orjson (a tenth of the standard library's time on a
    500-item trace, which is most of an answer's cost after computing it).

    Non-finite floats would be written as ``null`` (orjson's rule); no answer holds one, since every
    input number is checked finite on load or by its request model.
    """
    return Response(orjson.dumps(data), status_code=status_code, media_type="application/json")


def asset_view(record: dict[str, Any]) -> dict[str, Any]:
    """A stored asset in the shape of :class:`api.schemas.AssetPublic`."""
    out = {k: record.get(k) for k in _ASSET_FIELDS}
    out["population"] = out["population"] or 0
    out["props"] = out["props"] or {}
    return out
