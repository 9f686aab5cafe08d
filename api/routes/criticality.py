"""``GET /v1/criticality``: assets ranked by the cascade their lone failure causes."""

from __future__ import annotations

import threading
import weakref
from enum import StrEnum
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query, Response

from api.deps import RunDep, SettingsDep, SnapshotDep, limit_concurrency, require_read
from api.problems import at_most, problem_responses
from api.schemas import CriticalityPublic
from kg.analysis.cancel import CancelToken
from kg.analysis.criticality import Criticality, Measures, measures, rank
from kg.answers import criticality_answer
from kg.executor import Executor
from kg.snapshot import GraphSnapshot

__all__ = ["ranking_answer", "router"]

router = APIRouter(prefix="/v1/criticality", tags=["criticality"],
                   dependencies=[Depends(require_read), Depends(limit_concurrency)],
                   responses=problem_responses(401, 403, 422, 429, 503, 504))


class By(StrEnum):
    district = "district"


# Measuring every asset costs one cascade per asset (most skipped by shortcuts), so it is done once per
# snapshot and kept while that snapshot lives (four integers per asset), with each ranking down to this
# server's largest top. A request past its time limit stops measuring (the next one starts over).
_RANKINGS: weakref.WeakKeyDictionary[GraphSnapshot, dict[tuple[str | None, int], list[Criticality]]] = (
    weakref.WeakKeyDictionary())
_MEASURES: weakref.WeakKeyDictionary[GraphSnapshot, Measures] = weakref.WeakKeyDictionary()
_LOCK = threading.Lock()


def ranking_answer(snap: GraphSnapshot, by: str | None, top: int, max_top: int,
                   cancel: CancelToken, executor: Executor | None = None) -> dict[str, Any]:
    """``kg criticality``'s answer, from this process's per-snapshot cache (also the MCP tool's over HTTP)."""
    while not _LOCK.acquire(timeout=0.05):  # another request is computing it: wait, but not past our deadline
        cancel.check()
    try:
        per_snapshot = _RANKINGS.setdefault(snap, {})
        if (by, max_top) not in per_snapshot:
            measured = _MEASURES.get(snap)
            if measured is None:
                measured = _MEASURES[snap] = measures(snap, cancel=cancel, executor=executor)
            per_snapshot[by, max_top] = rank(snap, measured, by=by, top=max_top, cancel=cancel)
        ranked = per_snapshot[by, max_top]
    finally:
        _LOCK.release()
    return criticality_answer(ranked, by, top)


@router.get("", response_model=CriticalityPublic, summary="The most critical assets")
async def get_criticality(
    snap: SnapshotDep,
    settings: SettingsDep,
    run: RunDep,
    top: Annotated[int, Query(ge=1, description="How many assets (per district with by=district).")] = 20,
    by: Annotated[By | None, Query(description="Rank within each district.")] = None,
) -> Response:
    """Every asset's lone failure at hour 0, ranked by failures, then population, districts and agencies."""
    at_most("top", top, settings.max_top)
    return await run.json(ranking_answer, snap, None if by is None else by.value, top, settings.max_top, run.cancel,
                          run.executor)
