"""``POST /v1/cypher``: a planner's read-only Cypher query (Neo4j stores only), with time and row limits."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Depends

from api.deps import RunDep, SettingsDep, StoreDep, limit_concurrency, require_read
from api.problems import APIProblem, problem_responses
from api.schemas import CypherPublic, CypherRequest
from kg.errors import UnsupportedOperation, ValidationError
from kg.i18n import _l

__all__ = ["router"]

router = APIRouter(prefix="/v1/cypher", tags=["cypher"],
                   dependencies=[Depends(require_read), Depends(limit_concurrency)],
                   responses=problem_responses(400, 401, 403, 413, 422, 429, 503, 504))


@router.post("", response_model=CypherPublic, summary="Run a read-only Cypher query")
async def run_cypher(body: CypherRequest, store: StoreDep, settings: SettingsDep, run: RunDep) -> dict[str, Any]:
    """Rows of ``query`` run in a read transaction. Anything that would write, change the schema or
    administer the server is refused (422); a query over the time limit is stopped (504); at most the
    row limit of rows come back, with ``truncated`` true when there were more. 400 on a SQLite store.
    """
    cypher = getattr(store, "run_cypher", None)
    if cypher is None:
        raise UnsupportedOperation("Cypher needs a Neo4j store (bolt:// or neo4j://); this server's store is "
                                   f"{store.url.partition('://')[0]}")
    try:
        result = await run(cypher, body.query, body.params, timeout_s=settings.cypher_timeout_s,
                           row_limit=settings.cypher_row_limit)
    except ValidationError as exc:
        if any(p.where == "timeout" for p in exc.problems):
            raise APIProblem(504, _l("the query ran longer than {seconds} s and was stopped; narrow it (a LIMIT, a "
                                     "shorter path length)", seconds=f"{settings.cypher_timeout_s:g}"),
                             field="query") from None
        raise
    return {"columns": result.columns, "rows": result.rows, "truncated": result.truncated}
