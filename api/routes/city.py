"""``/v1/city``: what the web page draws — the whole city in one compact answer, a layered dependency
graph around one asset, and the coordination picture of a cascade.

``GET /v1/city`` answers with columns (one array per field, assets in snapshot
order) rather than one object per asset: 100k assets stay a few MB, gzip them
to a fraction of that, and the browser indexes them without building objects.
The body is built once per store version and cached, gzip included; its ETag
lets a browser revalidate it for free (304).
"""

from __future__ import annotations

import hashlib
import json
import threading
import weakref
import zlib
from typing import Annotated, Any

import numpy as np
from fastapi import APIRouter, Depends, Query, Request, Response
from pydantic import BaseModel, ConfigDict, Field

from api.deps import RunDep, SettingsDep, SnapshotDep, StoreDep, limit_concurrency, require_read
from api.problems import at_most, problem_responses
from api.routes.common import asset_index, scenario_fields, scenario_of
from api.schemas import ScenarioRequest, ServiceKind
from kg.analysis.cancel import CancelToken
from kg.answers import coordination_answer, graph_answer
from kg.ontology import load_ontology
from kg.schema import TABLES
from kg.snapshot import GraphSnapshot
from kg.store import Store

__all__ = ["CityPublic", "CoordinationPublic", "GraphPublic", "city_payload", "router"]

router = APIRouter(prefix="/v1/city", tags=["city"], dependencies=[Depends(require_read)],
                   responses=problem_responses(401, 403, 404, 422, 503, 504))


# ---------------------------------------------------------------- response shapes
class TypeInfo(BaseModel):
    """An asset type present in the data, its sector (the class just below Asset), label and how views show it."""

    name: str
    sector: str
    label: str
    label_zh: str | None = Field(None, description="Its Chinese label (`rdfs:label` @zh); null where none.")
    symbol: str | None = Field(None, description="The shape drawn for it (ontology `ckg:symbol`): circle, square, "
                                                 "diamond, triangle, triangleDown, hexagon, pentagon, star, cross.")
    key_rank: int | None = Field(None, description="Set for key facilities (`ckg:keyRank`): named in briefings, "
                                                   "shown first in crowded graph layers; 1 is offered first.")
    map_zoom: float | None = Field(None, description="Zoom (1 = whole city) from which the map draws it as a "
                                                     "symbol (`ckg:mapZoom`); null: a dot.")


class Labelled(BaseModel):
    """A name of the ontology with its English and Chinese labels (the page shows the one of its language)."""

    name: str
    label: str
    label_zh: str | None = None


class Swatch(Labelled):
    """A sector, hazard or service kind of the ontology with its short labels and colour (#rrggbb; null: none)."""

    colour: str | None = None


class Named(BaseModel):
    id: str
    name: str | None = None


class AgencyInfo(Named):
    parent: str | None = None


class AssetColumns(BaseModel):
    """Every asset, one array per field, index i describing asset i; -1 where there is none."""

    id: list[str]
    type: list[int] = Field(description="Index into `types`.")
    lat: list[float | None]
    lon: list[float | None]
    district: list[int] = Field(description="Index into `districts`, -1 if unknown.")
    agency: list[int] = Field(description="Index into `agencies`, -1 if none.")
    population: list[int]


class ZoneInfo(BaseModel):
    """A hazard zone and its exposed assets (indexes into the asset columns) with their intensity."""

    id: str
    hazard: str
    name: str | None = None
    annual_probability: float | None = None
    region: str | None = None
    assets: list[int]
    intensity: list[float]


class CityPublic(BaseModel):
    """The whole city, compactly, for a map."""

    version: int
    city: Named | None
    types: list[TypeInfo]
    kinds: list[str]
    sectors: list[Swatch] = Field(description="Every sector class of the ontology, in its display order.")
    hazards: list[Swatch] = Field(description="Every hazard class of the ontology; `colour` shades its zones.")
    service_kinds: list[Swatch] = Field(description="Every service kind; `colour` draws its dependencies.")
    levels: list[Labelled] = Field(description="Every region level of the ontology, city first.")
    districts: list[Named]
    agencies: list[AgencyInfo]
    assets: AssetColumns
    zones: list[ZoneInfo]


class GraphNode(BaseModel):
    """An asset of the graph; ``layer`` > 0: a dependent that many hops away, < 0: a dependency."""

    id: str
    type: str
    name: str | None = None
    district: str | None = None
    agency: str | None = None
    layer: int
    dependents: int = Field(description="Its direct dependents (DEPENDS_ON edges into it).")
    population: int


class GraphEdge(BaseModel):
    """A DEPENDS_ON edge: ``from`` depends on ``to`` for ``kind``."""

    model_config = ConfigDict(populate_by_name=True)

    from_: str = Field(alias="from")
    to: str
    kind: str
    group: str
    buffer_hours: float


class HiddenLink(BaseModel):
    id: str = Field(description="A shown asset linked to assets of the layer that are not shown.")
    kind: str
    count: int


class HiddenLayer(BaseModel):
    """The assets of a layer beyond ``limit``, summed up."""

    layer: int
    count: int
    population: int
    by_type: dict[str, int] = Field(description="The most common types among them.")
    links: list[HiddenLink]


class TraceTotals(BaseModel):
    dependents: int
    dependencies: int


class GraphPublic(BaseModel):
    """A layered dependency graph around ``id``."""

    id: str
    depth: int
    kinds: list[str] | None
    nodes: list[GraphNode]
    edges: list[GraphEdge]
    hidden: list[HiddenLayer]
    layers: dict[str, int] = Field(description="Assets per layer (all of them, shown or not).")
    totals: TraceTotals


class ContactPublic(BaseModel):
    """Failures crossing from one agency (or district) to another."""

    model_config = ConfigDict(populate_by_name=True)

    from_: str = Field(alias="from")
    to: str
    first_contact: float = Field(description="When the downstream side first loses supply from the upstream one.")
    first_failure: float
    failures: int


class ActorPublic(BaseModel):
    """An agency hit by the cascade: when, first by what, and how hard."""

    agency: str
    first: float
    first_asset: str
    first_failure: float
    failures: int


class CoordinationPublic(BaseModel):
    """Who must coordinate with whom, from when (regions compared at ``level``)."""

    level: str
    agencies: list[ContactPublic]
    regions: list[ContactPublic]
    act_first: list[ActorPublic]


# ---------------------------------------------------------------- GET /v1/city
_GZIP_CHUNK = 1 << 20  # compressed a MiB at a time, checking the request's deadline in between


class _Body:
    """The encoded city of one snapshot: JSON bytes, their gzip, and an ETag."""

    def __init__(self, raw: bytes, cancel: CancelToken) -> None:
        self.raw = raw
        packer = zlib.compressobj(6, zlib.DEFLATED, 16 + zlib.MAX_WBITS)  # gzip framing, no name, no time
        parts = []
        for at in range(0, len(raw), _GZIP_CHUNK):
            cancel.check()
            parts.append(packer.compress(raw[at:at + _GZIP_CHUNK]))
        parts.append(packer.flush())
        self.gzipped = b"".join(parts)
        self.etag = f'"city-{hashlib.sha256(raw).hexdigest()[:24]}"'


_BODIES: weakref.WeakKeyDictionary[GraphSnapshot, _Body] = weakref.WeakKeyDictionary()
_BODIES_LOCK = threading.Lock()


def _type_info(name: str) -> dict[str, Any]:
    onto = load_ontology()
    info = onto.classes.get(name)
    if info is None:  # not an ontology class (the store predates it): drawn as a plain asset
        return {"name": name, "sector": "Asset", "label": name, "label_zh": None, "symbol": None, "key_rank": None,
                "map_zoom": None}
    return {"name": name, "sector": onto.sector(name), "label": onto.label(name), "label_zh": info.label_zh or None,
            "symbol": info.symbol, "key_rank": info.key_rank, "map_zoom": info.map_zoom}


def city_payload(snap: GraphSnapshot, store: Store) -> dict[str, Any]:
    """The city as the page needs it: types with their sector, districts, agencies, asset columns, zones."""
    onto = load_ontology()
    li = snap.level_index("district")
    district_rows = [r for r in range(len(snap.region_ids)) if snap.region_level[r] == li]
    code = np.full(len(snap.region_ids) + 1, -1, dtype=np.int64)  # region index -> district code; -1 stays -1
    code[district_rows] = np.arange(len(district_rows))
    city = next((r for r in range(len(snap.region_ids)) if snap.levels[snap.region_level[r]] == "city"), None)
    agency_parent = dict(map(TABLES["agencies"].getter("id", "parent"), store.rows("agencies")))
    zone_rows = {row["id"]: row for row in map(TABLES["hazard_zones"].as_dict, store.rows("hazard_zones"))}
    members: dict[int, tuple[list[int], list[float]]] = {z: ([], []) for z in range(len(snap.zone_ids))}
    for a, z, intensity in zip(snap.exp_asset.tolist(), snap.exp_zone.tolist(), snap.exp_intensity.tolist(),
                               strict=True):
        members[z][0].append(a)
        members[z][1].append(round(intensity, 3))
    zones = []
    for z, zone_id in enumerate(snap.zone_ids):
        row = zone_rows.get(zone_id)
        zones.append({"id": zone_id, "hazard": snap.zone_hazard[z], "name": snap.zone_names[z],
                      "annual_probability": row["annual_probability"] if row else None,
                      "region": row["region"] if row else None,
                      "assets": members[z][0], "intensity": members[z][1]})

    def rounded(values: np.ndarray[Any, Any]) -> list[float | None]:
        return [None if v != v else v for v in np.round(values, 5).tolist()]  # NaN (unknown) -> null

    return {
        "version": snap.version,
        "city": None if city is None else {"id": snap.region_ids[city], "name": snap.region_names[city]},
        "types": [_type_info(t) for t in snap.types],
        "kinds": list(snap.kinds),
        "sectors": [{"name": s, "label": onto.short_label(s), "label_zh": onto.short_label(s, "zh"),
                     "colour": onto.classes[s].colour} for s in onto.sectors],
        "hazards": [{"name": h, "label": onto.label(h), "label_zh": onto.label(h, "zh"),
                     "colour": onto.classes[h].colour} for h in sorted(onto.hazard_types)],
        "service_kinds": [{"name": k, "label": k, "label_zh": onto.kind_label(k, "zh"),
                           "colour": onto.kind_colours.get(k)} for k in onto.service_kinds],
        "levels": [{"name": lv, "label": onto.level_label(lv), "label_zh": onto.level_label(lv, "zh")}
                   for lv in onto.levels],
        "districts": [{"id": snap.region_ids[r], "name": snap.region_names[r]} for r in district_rows],
        "agencies": [{"id": a, "name": n, "parent": agency_parent.get(a)}
                     for a, n in zip(snap.agency_ids, snap.agency_names, strict=True)],
        "assets": {
            "id": list(snap.asset_ids),
            "type": snap.type_code.tolist(),
            "lat": rounded(snap.lat),
            "lon": rounded(snap.lon),
            "district": code[snap.region[li]].tolist(),
            "agency": snap.agency.tolist(),
            "population": snap.population.tolist(),
        },
        "zones": zones,
    }


def _body(snap: GraphSnapshot, store: Store, cancel: CancelToken) -> _Body:
    with _BODIES_LOCK:
        found = _BODIES.get(snap)
    if found is None:
        payload = city_payload(snap, store)
        cancel.check()
        raw = json.dumps(payload, separators=(",", ":"), ensure_ascii=False).encode()
        found = _Body(raw, cancel)
        with _BODIES_LOCK:
            _BODIES[snap] = found
    return found


@router.get("", summary="The whole city, compactly, for the map",
            responses={200: {"model": CityPublic, "description": "Every asset as columns; zones with their exposed "
                                                                 "assets (indexes). Gzipped when accepted."},
                       304: {"description": "Not modified (If-None-Match matched the ETag)."}})
async def get_city(request: Request, snap: SnapshotDep, store: StoreDep, run: RunDep) -> Response:
    """Asset types (with their sector and how views show them), districts, agencies, every asset as columns
    (``id``, ``type`` index, ``lat``, ``lon``, ``district`` index, ``agency`` index, ``population``; -1 for
    none) and every hazard zone with the indexes and intensities of its exposed assets; the ontology's
    sectors, hazards and service kinds with their colours. Gzipped when the client accepts it."""
    body = await run(_body, snap, store, run.cancel)
    headers = {"ETag": body.etag, "Cache-Control": "private, no-cache", "Vary": "Accept-Encoding, Authorization"}
    if request.headers.get("if-none-match") == body.etag:
        return Response(status_code=304, headers=headers)
    if "gzip" in request.headers.get("accept-encoding", ""):
        return Response(body.gzipped, media_type="application/json", headers={**headers, "Content-Encoding": "gzip"})
    return Response(body.raw, media_type="application/json", headers=headers)


# ---------------------------------------------------------------- GET /v1/city/graph/{asset_id}
@router.get("/graph/{asset_id}", response_model=GraphPublic, summary="A layered dependency graph around one asset")
async def get_graph(
    asset_id: str, snap: SnapshotDep, settings: SettingsDep, run: RunDep,
    depth: Annotated[int, Query(ge=1, description="Layers on each side (DEPENDS_ON hops).")] = 2,
    limit: Annotated[int, Query(ge=1, le=200, description="Most assets shown per layer; the rest are summed.")] = 12,
    kind: Annotated[list[ServiceKind] | None, Query(description="Only these kinds of dependency (repeat).")] = None,
) -> dict[str, Any]:
    """Nodes (``layer`` > 0: dependents that many hops away, < 0: dependencies, 0: the asset), the
    DEPENDS_ON edges among them (``from`` the dependent ``to`` the provider), and per layer the assets
    not shown (``hidden``: count, types, links to shown ones). ``totals`` are as ``/v1/assets/{id}/dependents``."""
    at_most("depth", depth, settings.max_depth)
    asset_index(snap, asset_id, field="asset_id")
    return await run(graph_answer, snap, asset_id, depth=depth, limit=limit,
                     kinds=[k.value for k in kind] if kind else None, cancel=run.cancel)


# ---------------------------------------------------------------- POST /v1/city/coordination
@router.post("/coordination", response_model=CoordinationPublic, responses=problem_responses(400, 413, 429),
             dependencies=[Depends(limit_concurrency)],
             summary="Who must coordinate with whom in a cascade, from when")
async def post_coordination(body: ScenarioRequest, snap: SnapshotDep, settings: SettingsDep,
                            run: RunDep) -> dict[str, Any]:
    """For the scenario of ``POST /v1/cascades`` (``fail``, or ``hazard_zones`` deterministically): agency
    pairs and district pairs with ``first_contact`` (when the downstream side first loses supply from the
    upstream one: when they must start talking), ``first_failure`` and ``failures``; and ``act_first``,
    the agencies in the order they are hit."""
    with scenario_fields():
        return await run(coordination_answer, snap, scenario_of(body), cancel=run.cancel,
                         max_failures=settings.max_failures)
