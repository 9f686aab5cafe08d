"""``POST /v1/whatif``: a scenario before and after edits to a copy of the graph (the store is never written)."""

from __future__ import annotations

from fastapi import APIRouter, Depends, Response

from api.deps import RunDep, SettingsDep, SnapshotDep, limit_concurrency, require_read
from api.problems import APIProblem, FieldError, field_problem, problem_responses
from api.schemas import WhatIfPublic, WhatIfRequest
from kg.analysis.whatif import parse_edits
from kg.answers import whatif_answer
from kg.errors import EditRejected, KGError
from kg.i18n import _
from kg.scenario import Scenario

__all__ = ["WHATIF_FIELDS", "rejected", "router"]

router = APIRouter(prefix="/v1/whatif", tags=["what-if"],
                   dependencies=[Depends(require_read), Depends(limit_concurrency)],
                   responses=problem_responses(400, 401, 403, 404, 409, 413, 422, 429, 503, 504))

WHATIF_FIELDS = {"horizon": "horizon_hours"}
"""The names the body gives the fields of a :class:`~kg.scenario.Scenario` (``hazard`` keeps its name here)."""

_STATUS = {"not_found": 404, "exists": 409, "invalid": 422}


def rejected(exc: EditRejected) -> APIProblem:
    """The answer to edits that do not fit the graph: 404 (not there), 409 (already there), else 422."""
    errors = [FieldError(field=p.where, message=p.message) for p in exc.problems]
    detail = str(exc.problems[0]) + (_(" (and {n} more)").format(n=len(errors) - 1) if len(errors) > 1 else "")
    return APIProblem(_STATUS.get(exc.reasons[0], 422), detail, field=errors[0].field, errors=errors)


@router.post("", response_model=WhatIfPublic, summary="Compare a scenario before and after edits")
async def run_whatif(body: WhatIfRequest, snap: SnapshotDep, settings: SettingsDep, run: RunDep) -> Response:
    """``kg whatif --format json``: the cascade of ``fail`` (or of the hazard zones ``hazard``) on the graph
    as stored (``baseline``) and on a copy with ``edits`` applied in order (``modified``), and the
    ``changes``: ``saved`` (fail before, not after), ``new`` (the reverse), ``delayed`` and ``earlier``
    (fail in both, later or sooner), with the people, agencies and districts each concerns (``impact``).

    An edit naming an asset, group or dependency that does not exist answers 404, one adding a
    dependency that exists 409, any other bad edit 422; each names its path (``edits[2].asset``).
    """
    scenario = Scenario(fail=tuple((f.id, f.time) for f in body.fail or ()), hazard=tuple(body.hazard or ()),
                        horizon=body.horizon_hours, edits=parse_edits(body.edits))  # 422 naming edits[i].field
    try:
        return await run.json(whatif_answer, snap, scenario, cancel=run.cancel, max_failures=settings.max_failures)
    except EditRejected as exc:
        raise rejected(exc) from None
    except KGError as exc:
        problem = field_problem(exc, WHATIF_FIELDS)
        if problem is None:
            raise
        raise problem from None
