"""``/healthz`` (the process answers) and ``/readyz`` (the store answers, intact); no key needed.

``/readyz`` answers within :data:`READY_TIMEOUT_S` whatever the store does: a
probe that hangs on a store that does not answer tells an orchestrator
nothing. Ready means the store can be opened, read and is intact; a store
that can only be read, or holds a load that has not finished, is still ready
(it answers) and the body says so: taking every replica out of service
while a load runs would turn each load into an outage.
"""

from __future__ import annotations

import logging

import anyio
import anyio.to_thread
from fastapi import APIRouter
from fastapi.responses import JSONResponse

from api.deps import StoreHolderDep
from api.problems import STORE_PROBLEMS
from api.schemas import Health, UnfinishedLoadPublic
from kg.errors import StoreUnavailable
from kg.i18n import language

__all__ = ["READY_TIMEOUT_S", "router"]

READY_TIMEOUT_S = 1.5
"""Longest time ``/readyz`` waits for the store before answering 503 ``timeout``."""

router = APIRouter(tags=["health"])
_log = logging.getLogger("citykg.api")


@router.get("/healthz", response_model=Health, summary="Liveness: the process answers")
async def healthz() -> Health:
    """Always ``{"status": "ok"}`` while the process serves requests."""
    return Health(status="ok")


@router.get("/readyz", response_model=Health, summary="Readiness: the store answers and is intact",
            responses={503: {"model": Health, "description": "The store cannot be used; `reason` says why"}})
async def readyz(holder: StoreHolderDep) -> Health | JSONResponse:
    """``ok`` with the store's scheme, version, whether it can only be read and any unfinished load;
    else 503 ``unavailable`` with a ``reason`` (within 1.5 s)."""
    scheme = holder.url.partition("://")[0]
    try:
        with anyio.fail_after(READY_TIMEOUT_S):
            status = await anyio.to_thread.run_sync(holder.readiness, abandon_on_cancel=True)
    except TimeoutError:
        _log.error("store not ready: no answer within %s s", READY_TIMEOUT_S)
        return _unavailable(scheme, "timeout")
    except StoreUnavailable as exc:
        with language("en"):  # the log is the operator's: the code's own words, whatever the caller reads
            _log.error("store not ready (%s): %s", exc.reason, exc)
        return _unavailable(scheme, exc.reason)
    except Exception:  # whatever else the store or its driver raises, it is not ready
        _log.exception("store not ready")
        return _unavailable(scheme, "unreachable")
    unfinished = status.unfinished_load
    return Health(status="ok", store=scheme, version=status.version, read_only=status.read_only,
                  unfinished_load=UnfinishedLoadPublic(**unfinished.to_dict()) if unfinished else None)


def _unavailable(scheme: str, reason: str) -> JSONResponse:
    detail = STORE_PROBLEMS.get(reason, STORE_PROBLEMS["unreachable"])[1]
    body = Health(status="unavailable", store=scheme, reason=reason, detail=detail)
    return JSONResponse(body.model_dump(), status_code=503)
