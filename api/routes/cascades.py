"""``POST /v1/cascades``: what fails after initial failures, or after a hazard hits its zones."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Depends, Response

from api.deps import RunDep, SettingsDep, SnapshotDep, limit_concurrency, require_read
from api.problems import APIProblem, at_most, problem_responses
from api.routes.common import asset_index
from api.schemas import CascadePublic, CascadeRequest, MonteCarloPublic
from kg.analysis.cancel import CancelToken
from kg.analysis.cascade import cascade
from kg.analysis.graph import GraphSnapshot
from kg.analysis.hazards import hazard_cascade, monte_carlo

__all__ = ["router"]

router = APIRouter(prefix="/v1/cascades", tags=["cascades"],
                   dependencies=[Depends(require_read), Depends(limit_concurrency)],
                   responses=problem_responses(400, 401, 403, 404, 413, 422, 429, 503, 504))


def _hazard_cascade(snap: GraphSnapshot, zones: list[str], horizon: float | None, cancel: CancelToken,
                    max_failures: int) -> dict[str, Any]:
    """Deterministic: the exposed assets at or over their fragility threshold fail at 0, then the cascade."""
    return hazard_cascade(snap, zones, horizon=horizon, cancel=cancel, max_failures=max_failures).to_dict()


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
    if body.fail is not None:
        for k, item in enumerate(body.fail):
            asset_index(snap, item.id, field=f"fail[{k}].id")
        initial = [(f.id, f.time) for f in body.fail]
        return await run.json(lambda: cascade(snap, initial, horizon=body.horizon_hours, cancel=run.cancel,
                                              max_failures=settings.max_failures).to_dict())
    zones = body.hazard_zones or []
    known = set(snap.zone_ids)
    for k, zone in enumerate(zones):
        if zone not in known:
            raise APIProblem(404, f"no hazard zone with id {zone!r}", field=f"hazard_zones[{k}]")
    if body.samples is None:
        return await run.json(_hazard_cascade, snap, zones, body.horizon_hours, run.cancel, settings.max_failures)
    samples, seed = body.samples, body.seed or 0
    return await run.json(lambda: monte_carlo(snap, zones, samples=samples, seed=seed, horizon=body.horizon_hours,
                                              cancel=run.cancel).to_dict())
