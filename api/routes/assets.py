"""``/v1/assets``: search, one asset, and the simple traces (dependents, dependencies, paths, SPOF)."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query, Response

from api.deps import RunDep, SettingsDep, SnapshotDep, StoreDep, limit_concurrency, require_read
from api.problems import at_most, problem_responses
from api.routes.common import asset_index, get_element
from api.schemas import (
    AssetPublic,
    AssetsPublic,
    AssetType,
    DependenciesPublic,
    DependentsPublic,
    PathsPublic,
    ServiceKind,
    SpofPublic,
)
from api.views import asset_view
from kg.analysis.cancel import CancelToken
from kg.answers import paths_answer, spof_answer, trace_answer
from kg.snapshot import GraphSnapshot

__all__ = ["router"]

router = APIRouter(prefix="/v1/assets", tags=["assets"], dependencies=[Depends(require_read)],
                   responses=problem_responses(401, 403, 404, 422, 503, 504))


@router.get("", response_model=AssetsPublic, summary="Search assets (paged)")
async def list_assets(
    store: StoreDep,
    settings: SettingsDep,
    run: RunDep,
    q: Annotated[str | None, Query(description=(
        "Words, all of which must be found: in the id, name or name_zh, the type's English or Chinese label "
        "(变电站, power), the name of a region above the asset (渝中, Yuzhong) or of its agency."))] = None,
    type: Annotated[AssetType | None, Query(description="An asset class; its subclasses match too.")] = None,
    region: Annotated[str | None, Query(description="A region id; assets at any level below it match.")] = None,
    agency: Annotated[str | None, Query(description="An agency id.")] = None,
    cursor: Annotated[str | None, Query(description="The `next` of the previous page.")] = None,
    limit: Annotated[int, Query(ge=1, description="Assets per page.")] = 50,
) -> dict[str, Any]:
    """Assets matching every filter given, sorted by id, ``limit`` at a time."""
    at_most("limit", limit, settings.max_page)
    rows = await run(store.search, q=q or None, type=type.value if type else None, region=region or None,
                     agency=agency or None, after=cursor or None, limit=limit + 1)
    data = [asset_view(r) for r in rows[:limit]]
    return {"data": data, "count": len(data), "next": data[-1]["id"] if len(rows) > limit else None}


@router.get("/{asset_id}", response_model=AssetPublic, summary="One asset")
async def get_asset(asset_id: str, store: StoreDep, run: RunDep) -> dict[str, Any]:
    """The asset as stored (extra bundle columns in ``props``)."""
    return asset_view(await get_element(store, run, asset_id, "assets", field="asset_id"))


Kinds = Annotated[list[ServiceKind] | None, Query(description="Only follow dependencies of these kinds (repeat).")]
Depth = Annotated[int | None, Query(ge=1, description="At most this many DEPENDS_ON hops.")]


def _trace(snap: GraphSnapshot, asset_id: str, key: str, kind: list[ServiceKind] | None,
           depth: int | None, cancel: CancelToken) -> dict[str, Any]:
    return trace_answer(snap, asset_id, key, kinds=[k.value for k in kind] if kind else None, max_depth=depth,
                        cancel=cancel)


@router.get("/{asset_id}/dependents", response_model=DependentsPublic, summary="What depends on an asset")
async def get_dependents(asset_id: str, snap: SnapshotDep, settings: SettingsDep, run: RunDep, kind: Kinds = None,
                         depth: Depth = None) -> Response:
    """Every asset with a DEPENDS_ON path to this one (redundancy and time ignored), as ``kg dependents``."""
    at_most("depth", depth, settings.max_depth)
    asset_index(snap, asset_id, field="asset_id")
    return await run.json(_trace, snap, asset_id, "dependents", kind, depth, run.cancel)


@router.get("/{asset_id}/dependencies", response_model=DependenciesPublic, summary="What an asset depends on")
async def get_dependencies(asset_id: str, snap: SnapshotDep, settings: SettingsDep, run: RunDep,
                           kind: Kinds = None, depth: Depth = None) -> Response:
    """Every asset this one has a DEPENDS_ON path to, as ``kg dependencies``."""
    at_most("depth", depth, settings.max_depth)
    asset_index(snap, asset_id, field="asset_id")
    return await run.json(_trace, snap, asset_id, "dependencies", kind, depth, run.cancel)


MAX_PENDING_CHAINS = 200_000
"""Most partial chains a paths search keeps (a few hundred bytes each): tens of MB at most."""


def _paths(snap: GraphSnapshot, asset_id: str, other: str, k: int, cancel: CancelToken) -> dict[str, Any]:
    return paths_answer(snap, other, asset_id, k=k, cancel=cancel, max_pending=MAX_PENDING_CHAINS)


@router.get("/{asset_id}/paths/{other}", response_model=PathsPublic, summary="How an asset depends on another",
            dependencies=[Depends(limit_concurrency)], responses=problem_responses(429))
async def get_paths(asset_id: str, other: str, snap: SnapshotDep, settings: SettingsDep, run: RunDep,
                    k: Annotated[int, Query(ge=1, description="At most this many chains.")] = 5) -> Response:
    """The ``k`` shortest dependency chains from ``asset_id`` down to ``other`` (empty if it does not depend
    on it), shortest first, with the kinds taken at each hop."""
    at_most("k", k, settings.max_paths)
    asset_index(snap, asset_id, field="asset_id")
    asset_index(snap, other, field="other")
    return await run.json(_paths, snap, asset_id, other, k, run.cancel)


def _spof(snap: GraphSnapshot, asset_id: str, cancel: CancelToken) -> dict[str, Any]:
    return spof_answer(snap, asset_id, cancel=cancel)


@router.get("/{asset_id}/spof", response_model=SpofPublic, summary="Single points of failure of an asset",
            dependencies=[Depends(limit_concurrency)], responses=problem_responses(429))
async def get_spof(asset_id: str, snap: SnapshotDep, run: RunDep) -> Response:
    """The assets whose lone failure makes this one fail, under cascade semantics (redundancy and
    grounding count, time does not), nearest first."""
    asset_index(snap, asset_id, field="asset_id")
    return await run.json(_spof, snap, asset_id, run.cancel)
