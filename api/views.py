"""JSON views the API renders that the CLI has no command for: stored rows and region/agency summaries.

The summaries are array arithmetic over the immutable snapshot (no per-asset
Python objects), so they stay fast on a million assets.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import numpy.typing as npt
import orjson
from fastapi import Response

from kg.snapshot import GraphSnapshot

__all__ = ["agency_view", "asset_view", "element_view", "json_response", "region_view"]

_ASSET_FIELDS = ("id", "type", "name", "region", "agency", "lat", "lon", "population", "repair_hours", "props")


def json_response(data: Any, status_code: int = 200) -> Response:
    """``data`` as compact UTF-8 JSON, encoded by orjson (a tenth of the standard library's time on a
    500-item trace, which is most of an answer's cost after computing it).

    Non-finite floats would be written as ``null`` (orjson's rule); no answer holds one, since every
    input number is checked finite on load or by its request model.
    """
    return Response(orjson.dumps(data), status_code=status_code, media_type="application/json")


def element_view(record: dict[str, Any]) -> dict[str, Any]:
    """A stored element without the store's bookkeeping (``table``), ``props`` always an object."""
    out = {k: v for k, v in record.items() if k != "table"}
    out["props"] = out.get("props") or {}
    return out


def asset_view(record: dict[str, Any]) -> dict[str, Any]:
    """A stored asset in the shape of :class:`api.schemas.AssetPublic`."""
    out = {k: record.get(k) for k in _ASSET_FIELDS}
    out["population"] = out["population"] or 0
    out["props"] = out["props"] or {}
    return out


def _assets_summary(snap: GraphSnapshot, members: npt.NDArray[np.intp]) -> dict[str, Any]:
    counts: list[int] = (np.bincount(snap.type_code[members], minlength=len(snap.types)).tolist()
                         if len(members) else [])
    return {
        "count": len(members),
        "population": int(snap.population[members].sum()),
        "by_type": {snap.types[t]: int(c) for t, c in sorted(enumerate(counts), key=lambda tc: snap.types[tc[0]])
                    if c},
    }


def _exposure(snap: GraphSnapshot, member: npt.NDArray[np.bool_]) -> list[dict[str, Any]]:
    hit = member[snap.exp_asset] if len(snap.exp_asset) else np.zeros(0, dtype=bool)
    by_hazard: dict[str, dict[str, Any]] = {}
    for asset, zone, intensity in zip(snap.exp_asset[hit], snap.exp_zone[hit], snap.exp_intensity[hit], strict=True):
        entry = by_hazard.setdefault(snap.zone_hazard[zone], {"zones": set(), "assets": set(), "max": 0.0})
        entry["zones"].add(snap.zone_ids[zone])
        entry["assets"].add(int(asset))
        entry["max"] = max(entry["max"], float(intensity))
    out = [
        {
            "hazard": hazard,
            "zones": sorted(e["zones"]),
            "assets": len(e["assets"]),
            "population": int(snap.population[sorted(e["assets"])].sum()),
            "max_intensity": e["max"],
        }
        for hazard, e in by_hazard.items()
    ]
    return sorted(out, key=lambda x: (-x["assets"], x["hazard"]))


def region_view(snap: GraphSnapshot, record: dict[str, Any]) -> dict[str, Any]:
    """A stored region with its assets (at every lower level) summarised, and their exposure per hazard."""
    out = element_view(record)
    r = snap.region_ids.index(record["id"]) if record["id"] in snap.region_ids else -1
    member = np.zeros(snap.n, dtype=bool) if r < 0 else snap.region[int(snap.region_level[r])] == r
    out["assets"] = _assets_summary(snap, np.flatnonzero(member))
    out["exposure"] = _exposure(snap, member)
    return out


def agency_view(snap: GraphSnapshot, record: dict[str, Any]) -> dict[str, Any]:
    """A stored agency, its assets summarised, and the assets of other agencies that depend directly on them."""
    out = element_view(record)
    a = snap.agency_ids.index(record["id"]) if record["id"] in snap.agency_ids else -2
    member = snap.agency == a
    out["assets"] = _assets_summary(snap, np.flatnonzero(member))
    dependent = np.repeat(np.arange(snap.n, dtype=np.int64), np.diff(snap.dep_ptr))
    crossing = member[snap.dep_provider] & ~member[dependent] if snap.m else np.zeros(0, dtype=bool)
    users = dependent[crossing]
    kinds = snap.dep_kind[crossing]
    by_agency: dict[int, tuple[set[int], set[str]]] = {}
    for user, kind in zip(users.tolist(), kinds.tolist(), strict=True):
        assets, names = by_agency.setdefault(int(snap.agency[user]), (set(), set()))
        assets.add(user)
        names.add(snap.kinds[kind])
    refs: list[dict[str, Any]] = [
        {
            "agency": snap.agency_ids[other] if other >= 0 else None,
            "name": snap.agency_names[other] if other >= 0 else None,
            "assets": len(assets),
            "kinds": sorted(names),
        }
        for other, (assets, names) in by_agency.items()
    ]
    refs.sort(key=lambda x: (-x["assets"], x["agency"] or ""))
    out["dependents_outside"] = {"assets": len(set(users.tolist())), "by_agency": refs}
    return out
