"""Live state: ``POST /v1/events``, ``GET /v1/live``, ``GET /v1/live/stream``, ``GET /v1/events/dead-letters``.

See docs/live.md for the rules: an event batch is stored all or nothing; the
live picture is the cascade from what is down at ``as_of`` with the forecast
in clock time; the stream sends a ``live`` event with the same body whenever
the state changes (a burst of events gives one update).
"""

from __future__ import annotations

import time
from collections.abc import AsyncIterator
from datetime import datetime
from typing import Annotated, Any

import anyio
import anyio.to_thread
from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import StreamingResponse
from pydantic import BaseModel, Field

from api.deps import RunDep, SettingsDep, require_admin, require_read, require_write
from api.live import REFRESH_S, LiveHub
from api.problems import APIProblem, problem_responses
from api.views import json_response
from kg.errors import ValidationError
from kg.live import parse_time
from kg.live.ngsi import NgsiRule, notification_items

__all__ = ["MAX_EVENTS", "router"]

MAX_EVENTS = 10_000
"""Most events in one ``POST /v1/events``."""
POLL_S = 0.02
"""How often a stream looks for a change (a counter read: no I/O)."""
KEEPALIVE_S = 15.0
"""A comment line this often keeps proxies from closing a quiet stream."""

router = APIRouter(tags=["live"], responses=problem_responses(400, 401, 403, 413, 422, 503))


class EventsRequest(BaseModel):
    """A batch of status events, stored all or nothing."""

    events: list[dict[str, Any]] = Field(
        max_length=MAX_EVENTS,
        description="Each `{id, asset, status: down|up, time: ISO 8601 with offset, source?, note?}`.",
        json_schema_extra={"items": {"type": "object", "required": ["id", "asset", "status", "time"], "properties": {
            "id": {"type": "string"}, "asset": {"type": "string"}, "status": {"enum": ["down", "up"]},
            "time": {"type": "string", "format": "date-time"}, "source": {"type": "string"},
            "note": {"type": "string"}}}})


class EventsPublic(BaseModel):
    """What a batch did."""

    accepted: int = Field(description="Events stored now.")
    duplicates: int = Field(description="Events already stored (or repeated in the batch) with the same content.")


async def get_hub(request: Request) -> LiveHub:
    """The app's :class:`~api.live.LiveHub`."""
    hub: LiveHub = request.app.state.live
    return hub


HubDep = Annotated[LiveHub, Depends(get_hub)]


def _as_of(value: str | None) -> datetime | None:
    if value is None:
        return None
    try:
        return parse_time(value, "as_of")
    except ValidationError as exc:
        raise APIProblem(422, exc.problems[0].message, field="as_of") from None  # said in the request's language


@router.post("/v1/events", response_model=EventsPublic, summary="Record status events (all or nothing)",
             dependencies=[Depends(require_write)])
async def post_events(body: EventsRequest, hub: HubDep, run: RunDep) -> Any:
    """Store the batch: an unknown asset, a time without offset, an unknown status or an id already
    used for other content answers 422 naming each `events[k].FIELD`, and nothing is stored. The
    same id with the same content again counts as a duplicate. Events never change the graph's
    version."""
    items = [(f"events[{k}]", item) for k, item in enumerate(body.events)]
    return json_response((await run(hub.record, items)).to_dict())


@router.get("/v1/live", summary="The live picture at a time", dependencies=[Depends(require_read)])
async def get_live(hub: HubDep, run: RunDep, settings: SettingsDep,
                   as_of: Annotated[str | None, Query(description="ISO 8601 time with offset; default now.",
                                                      json_schema_extra={"format": "date-time"})] = None,
                   ) -> Any:
    """What is down at `as_of` (reported, and through the cascade), and the forecast: what fails next, at
    what time (`at`), and which agencies must coordinate. The cascade object of `POST /v1/cascades`
    plus `as_of`, `origin`, `down`, `forecast` and `at` on every failure."""
    moment = _as_of(as_of)
    return await run.json(hub.picture, moment, cancel=run.cancel)


@router.get("/v1/live/stream", summary="The live picture, pushed on every change (Server-Sent Events)",
            dependencies=[Depends(require_read)], response_class=StreamingResponse,
            responses={200: {"content": {"text/event-stream": {}},
                             "description": "`event: live` with the body of GET /v1/live, on every change."}})
async def stream_live(request: Request, hub: HubDep, settings: SettingsDep) -> StreamingResponse:
    """A `live` event at once, then one whenever events change the state, at most one per
    `KG_LIVE_COALESCE_MS`: a lone event is sent at once, a burst gives one update per window."""
    coalesce = settings.live_coalesce_ms / 1000
    changes, first = await anyio.to_thread.run_sync(hub.current)

    async def events() -> AsyncIterator[bytes]:
        seen = changes
        yield _sse(seen, first)
        quiet_since = sent = time.monotonic()
        next_refresh = time.monotonic() + REFRESH_S
        while True:  # ends when the client goes: the response cancels this generator
            await anyio.sleep(POLL_S)
            now = time.monotonic()
            if now >= next_refresh:  # events stored by other processes
                next_refresh = now + REFRESH_S
                await anyio.to_thread.run_sync(hub.refresh)
            if hub.changes == seen:
                if now - quiet_since >= KEEPALIVE_S:
                    quiet_since = now
                    yield b": keepalive\n\n"
                continue
            # Leading edge: a change after a quiet window goes out at once; within a burst the rest of
            # the window's changes join one update. A window is at least as long as computing a picture
            # takes, so that pictures never take more than half the process's time from recording events.
            window = max(coalesce, hub.compute_s)
            if now - sent < window:
                await anyio.sleep(window - (now - sent))
            seen, body = await anyio.to_thread.run_sync(hub.current)
            quiet_since = sent = time.monotonic()
            yield _sse(seen, body)

    return StreamingResponse(events(), media_type="text/event-stream",
                             headers={"Cache-Control": "no-store", "X-Accel-Buffering": "no"})


def _sse(changes: int, body: bytes) -> bytes:
    return b"event: live\nid: %d\ndata: %s\n\n" % (changes, body)


@router.post("/v1/ngsi-ld/notify", response_model=EventsPublic, summary="Record an NGSI-LD notification",
             dependencies=[Depends(require_write)])
async def ngsi_notify(body: dict[str, Any], hub: HubDep, run: RunDep, settings: SettingsDep) -> Any:
    """What a FIWARE context broker (Orion-LD, Scorpio, Stellio) sends for a subscription: `{"subscriptionId",
    "notifiedAt", "data": [entities]}`, normalized or key-values. Each entity becomes a status event by the
    rule of `KG_NGSI_*` (docs/live.md); all or nothing, 422 naming `data[k]...`."""
    rule = NgsiRule(settings.ngsi_id_pattern, settings.ngsi_attribute, _values(settings.ngsi_down_values),
                    _values(settings.ngsi_up_values))

    return json_response((await run(lambda: hub.record(notification_items(body, rule)))).to_dict())


def _values(listed: str) -> tuple[str, ...]:
    return tuple(v.strip() for v in listed.split(",") if v.strip())


@router.get("/v1/events/dead-letters", summary="MQTT messages that could not be recorded",
            dependencies=[Depends(require_admin)])
async def dead_letters(hub: HubDep) -> Any:
    """The latest 1,000 messages this server received and could not record, newest last, each with
    `received`, `topic`, `reason` and the start of its `payload`."""
    return {"dead_letters": list(hub.dead_letters)}
