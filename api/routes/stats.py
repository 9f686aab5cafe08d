"""``GET /v1/stats``: what the store holds, as ``kg stats --format json`` (and a load that has not finished)."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Depends

from api.deps import RunDep, StoreDep, require_read
from api.problems import problem_responses
from api.schemas import StatsPublic

__all__ = ["router"]

router = APIRouter(prefix="/v1/stats", tags=["stats"], dependencies=[Depends(require_read)],
                   responses=problem_responses(401, 403, 503, 504))


@router.get("", response_model=StatsPublic, summary="Rows per table and assets per type")
async def get_stats(store: StoreDep, run: RunDep) -> dict[str, Any]:
    """Counts by table and by asset type, the version, and ``unfinished_load`` when a load has not finished
    (Neo4j; the counts may then include only part of it)."""
    stats = await run(store.stats)
    return stats.to_dict(store.url)
