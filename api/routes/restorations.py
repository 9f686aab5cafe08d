"""``POST /v1/restorations``: which crew repairs what, in which order, so the fewest people go unserved."""

from __future__ import annotations

from datetime import UTC, datetime

from fastapi import APIRouter, Depends, Response

from api.deps import RunDep, SettingsDep, SnapshotDep, StoreDep, limit_concurrency, require_read
from api.problems import APIProblem, problem_responses
from api.routes.common import asset_index, scenario_fields
from api.schemas import RestorationPublic, RestorationRequest
from kg.analysis.restoration import plan_restoration
from kg.i18n import _l
from kg.live import down_at
from kg.scenario import Scenario, damaged

__all__ = ["router"]

router = APIRouter(prefix="/v1/restorations", tags=["restorations"],
                   dependencies=[Depends(require_read), Depends(limit_concurrency)],
                   responses=problem_responses(400, 401, 403, 404, 413, 422, 429, 503, 504))


@router.post("", response_model=RestorationPublic, summary="Plan the repairs after an event")
async def plan(body: RestorationRequest, snap: SnapshotDep, store: StoreDep, settings: SettingsDep,
               run: RunDep) -> Response:
    """The restoration plan of ``kg restore --format json`` (docs/restoration.md).

    The damaged assets are ``fail`` (their ids), what ``hazard_zones`` damage (their exposed assets at
    or over their fragility threshold), or with ``live`` what the status events say is down at ``as_of``
    (default now), as ``kg restore --live``. ``repair_hours`` (per asset id or type) and ``crews`` (per agency)
    override the data; ``method`` is ``heuristic`` (default) or ``exact`` within ``time_limit`` seconds,
    at most (and by default) this server's request time limit (``KG_REQUEST_TIMEOUT_S``).
    """
    time_limit = settings.request_timeout_s if body.time_limit is None else body.time_limit
    if time_limit > settings.request_timeout_s:
        raise APIProblem(422, _l("time_limit must be at most {limit} s on this server (its request time limit), "
                                 "got {value}", limit=f"{settings.request_timeout_s:g}", value=f"{time_limit:g}"),
                         field="time_limit")
    if body.fail is not None:
        for k, asset_id in enumerate(body.fail):
            asset_index(snap, asset_id, field=f"fail[{k}]")  # the body gives ids, not the runner's {id, time}
    moment = datetime.fromisoformat(body.as_of) if body.as_of is not None else datetime.now(UTC)

    def damage() -> list[str]:
        if body.live:  # what the status events say is down at that time, as ``kg restore --live``
            down = tuple((d.asset, d.since) for d in down_at(store, moment).values())
            return damaged(snap, Scenario(as_of=moment, down=down))
        return damaged(snap, Scenario(fail=tuple((a, 0.0) for a in body.fail or ()),
                                      hazard=tuple(body.hazard_zones or ())))

    def work() -> dict[str, object]:
        # The damage is found in the worker: the exposures of a hazard over a large city take a moment,
        # and the events are read from the store.
        return plan_restoration(snap, damage(), repair_hours=body.repair_hours, crews=body.crews,
                                method=body.method, time_limit=time_limit, cancel=run.cancel).to_dict()

    with scenario_fields():
        return await run.json(work)
