"""``/healthz`` (the process answers) and ``/readyz`` (the store answers); no key needed."""

from __future__ import annotations

from fastapi import APIRouter
from fastapi.responses import JSONResponse

from api.deps import RunDep, StoreHolderDep
from api.problems import problem_responses
from api.schemas import Health

__all__ = ["router"]

router = APIRouter(tags=["health"])


@router.get("/healthz", response_model=Health, summary="Liveness: the process answers")
async def healthz() -> Health:
    """Always ``{"status": "ok"}`` while the process serves requests."""
    return Health(status="ok")


@router.get("/readyz", response_model=Health, summary="Readiness: the store answers",
            responses={503: {"model": Health, "description": "The store cannot be reached"},
                       **problem_responses(504)})
async def readyz(holder: StoreHolderDep, run: RunDep) -> Health | JSONResponse:
    """``ok`` with the store's scheme and version when the store answers, else 503 ``unavailable``."""
    scheme = holder.url.partition("://")[0]
    try:
        store = await run(holder.get)
        version = await run(store.version)
    except Exception:  # whatever the store or its driver raises, it is not ready
        body = Health(status="unavailable", store=scheme)
        return JSONResponse(body.model_dump(), status_code=503)
    return Health(status="ok", store=scheme, version=version)
