"""``POST /v1/cascades``: what fails after initial failures, or after a hazard hits its zones."""

from __future__ import annotations

from fastapi import APIRouter, Depends, Response

from api.deps import RunDep, SettingsDep, SnapshotDep, limit_concurrency, require_read
from api.problems import at_most, problem_responses
from api.routes.common import scenario_fields, scenario_of
from api.schemas import CascadePublic, CascadeRequest, MonteCarloPublic
from kg.answers import scenario_answer

__all__ = ["router"]

router = APIRouter(prefix="/v1/cascades", tags=["cascades"],
                   dependencies=[Depends(require_read), Depends(limit_concurrency)],
                   responses=problem_responses(400, 401, 403, 404, 413, 422, 429, 503, 504))


@router.post("", response_model=CascadePublic | MonteCarloPublic, summary="Run a cascade")
async def run_cascade(body: CascadeRequest, snap: SnapshotDep, settings: SettingsDep, run: RunDep) -> Response:
    """One of three scenarios, as ``kg cascade --format json``:

    * ``fail``: the given assets fail at the given hours; the cascade that follows.
    * ``hazard_zones``: the assets exposed there at or over their fragility threshold fail at hour 0;
      the cascade that follows (same shape).
    * ``hazard_zones`` with ``samples`` (and ``seed``): Monte Carlo over the fragility curves; the
      distribution of the impact (mean, p5, p95) city-wide and per district, and each asset's failure
      probability.

    ``horizon_hours`` bounds the failures counted (none: until nothing more fails). A cascade with more
    failures than this server describes (``KG_MAX_FAILURES``) answers 422.
    """
    at_most("samples", body.samples, settings.max_samples)
    scenario = scenario_of(body)
    with scenario_fields():
        return await run.json(scenario_answer, snap, scenario, cancel=run.cancel,
                              max_failures=settings.max_failures, executor=run.executor)
