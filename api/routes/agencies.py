"""``GET /v1/agencies/{agency_id}``: an agency, its assets, and what outside it depends on them."""

from __future__ import annotations

from fastapi import APIRouter, Depends, Response

from api.deps import RunDep, SnapshotDep, StoreDep, require_read
from api.problems import problem_responses
from api.routes.common import get_element
from api.schemas import AgencyPublic
from kg.answers import agency_answer

__all__ = ["router"]

router = APIRouter(prefix="/v1/agencies", tags=["agencies"], dependencies=[Depends(require_read)],
                   responses=problem_responses(401, 403, 404, 503, 504))


@router.get("/{agency_id}", response_model=AgencyPublic, summary="An agency and who depends on it")
async def get_agency(agency_id: str, store: StoreDep, snap: SnapshotDep, run: RunDep) -> Response:
    """The agency, its assets by type, and the other agencies whose assets depend directly on its assets.

    The assets themselves are listed, paged, by ``GET /v1/assets?agency=ID``.
    """
    record = await get_element(store, run, agency_id, "agencies", field="agency_id")
    return await run.json(agency_answer, snap, record)
