"""``GET /v1/regions/{region_id}``: a region and its assets' exposure summary."""

from __future__ import annotations

from fastapi import APIRouter, Depends, Response

from api.deps import RunDep, SnapshotDep, StoreDep, require_read
from api.problems import problem_responses
from api.routes.common import get_element
from api.schemas import RegionPublic
from kg.answers import region_answer

__all__ = ["router"]

router = APIRouter(prefix="/v1/regions", tags=["regions"], dependencies=[Depends(require_read)],
                   responses=problem_responses(401, 403, 404, 503, 504))


@router.get("/{region_id}", response_model=RegionPublic, summary="A region and its assets' exposure")
async def get_region(region_id: str, store: StoreDep, snap: SnapshotDep, run: RunDep) -> Response:
    """The region, how many assets (at any level below it) of each type, and their exposure per hazard."""
    record = await get_element(store, run, region_id, "regions", field="region_id")
    return await run.json(region_answer, snap, record)
