"""``POST /v1/plans``: which candidate projects to fund within a budget (``kg plan --format json``)."""

from __future__ import annotations

from fastapi import APIRouter, Depends, Response

from api.deps import RunDep, SettingsDep, SnapshotDep, limit_concurrency, require_read
from api.problems import APIProblem, at_most, problem_responses
from api.routes.common import asset_index
from api.routes.whatif import rejected
from api.schemas import PlanPublic, PlanRequest
from kg.analysis.investment import (
    ScenarioSet,
    monte_carlo_scenarios,
    n_minus_one,
    parse_candidates,
    plan_investments,
    scenarios_from,
)
from kg.errors import EditRejected, not_found
from kg.snapshot import GraphSnapshot

__all__ = ["router"]

router = APIRouter(prefix="/v1/plans", tags=["what-if"],
                   dependencies=[Depends(require_read), Depends(limit_concurrency)],
                   responses=problem_responses(400, 401, 403, 404, 409, 413, 422, 429, 503, 504))

DEFAULT_SAMPLES = 1000


def _zones(snap: GraphSnapshot, zones: list[str], field: str) -> None:
    known = set(snap.zone_ids)
    for k, zone in enumerate(zones):
        if zone not in known:
            raise APIProblem(404, not_found(zone, "hazard zone"), field=f"{field}[{k}]")


def _scenario_set(snap: GraphSnapshot, body: PlanRequest) -> ScenarioSet:
    """The request's scenario set; unknown ids are 404 naming their field."""
    if body.hazard is not None:
        _zones(snap, body.hazard, "hazard")
        return monte_carlo_scenarios(snap, body.hazard, samples=body.samples or DEFAULT_SAMPLES, seed=body.seed or 0)
    if body.n_minus_one is not None:
        return n_minus_one(snap, [t.value for t in body.n_minus_one])
    for k, s in enumerate(body.scenarios):
        for j, item in enumerate(s.fail or []):
            asset_index(snap, item.id, field=f"scenarios[{k}].fail[{j}].id")
        _zones(snap, s.hazard or [], f"scenarios[{k}].hazard")
    return scenarios_from(snap, [s.model_dump(exclude_none=True) for s in body.scenarios])


@router.post("", response_model=PlanPublic, summary="Plan investments within a budget")
async def run_plan(body: PlanRequest, snap: SnapshotDep, settings: SettingsDep, run: RunDep) -> Response:
    """The candidates to fund, in order, to lower the expected impact of a scenario set the most.

    Scenario sets: ``scenarios`` (each with a ``probability`` and ``fail`` or ``hazard``), ``hazard``
    zone ids sampled ``samples`` times (Monte Carlo, seeded by ``seed``) or ``n_minus_one`` (every asset
    of those types failing alone). ``objective``: expected ``population`` affected (within
    ``horizon_hours``, if given: buffers only count with a horizon) or unserved ``people_hours``.

    The answer ranks the funded candidates with each one's marginal benefit, benefit per cost and the
    cumulative cost and objective; it lists every candidate's benefit alone. A candidate whose edit
    names something that does not exist answers 404, a repeated candidate id 409 (each names its path).
    """
    at_most("samples", body.samples, settings.max_samples)
    scenarios = _scenario_set(snap, body)
    raw = [c.model_dump(exclude_none=True) for c in body.candidates]
    try:
        candidates = await run(parse_candidates, snap, raw)
    except EditRejected as exc:
        raise rejected(exc) from None
    return await run.json(lambda: plan_investments(
        snap, candidates, body.budget, scenarios, objective=body.objective, horizon=body.horizon_hours,
        lazy=body.greedy == "lazy", local=body.local_improvement, cancel=run.cancel,
        executor=run.executor).to_dict())
