"""Live operations: status events from the field, the state of every asset at any time, the live picture.

* :mod:`kg.live.events`: the event model and reading events with exact locations.
* :mod:`kg.live.state`: :func:`down_at` (what is down at a time) and :class:`EventLog`.
* :mod:`kg.live.picture`: :func:`live_picture`, the cascade from what is down and the forecast.
* :mod:`kg.live.record`: :func:`record_events`, validating and storing a batch, all or nothing.

docs/live.md describes the rules; the CLI (``kg events load``, ``kg status``,
``kg live``) and the REST API (``POST /v1/events``, ``GET /v1/live``) are thin
faces over these functions.
"""

from kg.live.events import Located, StatusEvent, parse_event, parse_events, parse_time, read_event_file
from kg.live.picture import Forecast, LivePicture, live_picture
from kg.live.record import Recorded, record_events
from kg.live.state import Down, EventLog, down_at, status_at

__all__ = [
    "Down",
    "EventLog",
    "Forecast",
    "LivePicture",
    "Located",
    "Recorded",
    "StatusEvent",
    "down_at",
    "live_picture",
    "parse_event",
    "parse_events",
    "parse_time",
    "read_event_file",
    "record_events",
    "status_at",
]
