"""``POST /v1/robustness``: how much of the city keeps working as more and more of it is removed."""

from __future__ import annotations

from fastapi import APIRouter, Depends, Response

from api.deps import RunDep, SettingsDep, SnapshotDep, limit_concurrency, require_read
from api.problems import at_most, problem_responses
from api.schemas import RobustnessPublic, RobustnessRequest
from kg.analysis.robustness import robustness

__all__ = ["router"]

router = APIRouter(prefix="/v1/robustness", tags=["robustness"],
                   dependencies=[Depends(require_read), Depends(limit_concurrency)],
                   responses=problem_responses(400, 401, 403, 413, 422, 429, 503, 504))


@router.post("", response_model=RobustnessPublic, summary="A robustness curve")
async def run_robustness(body: RobustnessRequest, snap: SnapshotDep, settings: SettingsDep, run: RunDep) -> Response:
    """The share of assets still functional, and of people served, as assets are removed in an attack order.

    As ``kg robustness --format json``: ``steps + 1`` points at removed fractions ``i / steps``,
    ``critical_removed`` (just before the largest drop) and ``R`` (the mean functional share).
    ``model``: ``supply`` (round one's cascade) or ``mutual-giant`` (interdependent percolation over
    the sectors); ``attack``: ``random`` (``samples`` orders from ``seed``), ``degree`` or
    ``criticality`` (one order each). ``steps`` and ``samples`` are bounded by this server
    (``KG_MAX_STEPS``, ``KG_MAX_CURVE_SAMPLES``); a curve past the request's time limit answers 504.
    """
    at_most("steps", body.steps, settings.max_steps)
    at_most("samples", body.samples, settings.max_curve_samples)
    return await run.json(lambda: robustness(snap, model=body.model, attack=body.attack, steps=body.steps,
                                             samples=body.samples, seed=body.seed, cancel=run.cancel,
                                             executor=run.executor).to_dict())
