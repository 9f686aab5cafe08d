"""Status events from the field: their model, and reading them from files and JSON with exact locations.

A status event says that an asset went ``down`` or came back ``up`` at a
time (ISO 8601 with a UTC offset). Events arrive from files (``kg events
load``), from ``POST /v1/events`` and from MQTT; all three go through
:func:`parse_event`, so one event is judged the same way wherever it comes
from, and every problem names where it is: ``FILE:LINE`` for files, a JSON
path (``events[3].time``) for requests and messages.

Examples
--------
>>> e = parse_event({"id": "e1", "asset": "S1", "status": "down", "time": "2026-07-01T08:00:00+08:00"}, "events[0]")
>>> e.asset, e.status, e.micros
('S1', 'down', 1782864000000000)
>>> try:
...     parse_event({"id": "e2", "asset": "S1", "status": "down", "time": "2026-07-01T08:00"}, "events[1]")
... except ValidationError as exc:
...     print(exc.problems[0].where, "|", exc.problems[0].message.split(", got ")[1])
events[1].time | '2026-07-01T08:00' (no offset)
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Container, Iterable, Iterator, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from kg.errors import Problem, ValidationError
from kg.i18n import N_, Message, _l

__all__ = [
    "FIELDS",
    "MAX_PROBLEMS",
    "STATUSES",
    "Located",
    "StatusEvent",
    "check_assets",
    "field_problem",
    "iso",
    "parse_event",
    "parse_events",
    "parse_time",
    "read_event_file",
    "to_micros",
]

STATUSES = ("down", "up")
FIELDS = ("id", "asset", "status", "time", "source", "note")
"""An event's fields, in the order of a CSV header and of the stores' columns."""
_REQUIRED = ("id", "asset", "status", "time")
_TEXT_LIMIT = 2_000
MAX_PROBLEMS = 50
"""Problems reported at most per batch (the rest are summarised): fix these first."""

_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


@dataclass(frozen=True, slots=True)
class StatusEvent:
    """One status report: ``asset`` went ``status`` (``down`` / ``up``) at ``time``.

    ``time`` is kept as given (with its offset, for people); ``micros`` is the
    same instant in whole microseconds since 1970-01-01 UTC, what ordering,
    ``as_of`` and the duplicate check use (two spellings of one instant are
    the same time).
    """

    id: str
    asset: str
    status: str
    time: str
    micros: int
    source: str | None = None
    note: str | None = None

    def same_content(self, other: StatusEvent) -> bool:
        """True when ``other`` says the same thing (a duplicate, not a conflict)."""
        return (self.asset, self.status, self.micros, self.source, self.note) == (
            other.asset, other.status, other.micros, other.source, other.note)

    @property
    def at(self) -> datetime:
        """The event's instant, in its own offset."""
        return datetime.fromisoformat(self.time)

    def to_dict(self) -> dict[str, Any]:
        return {"id": self.id, "asset": self.asset, "status": self.status, "time": self.time,
                "source": self.source, "note": self.note}

    def row(self) -> tuple[Any, ...]:
        """The stores' row: :data:`FIELDS` then ``micros``."""
        return (self.id, self.asset, self.status, self.time, self.source, self.note, self.micros)


@dataclass(frozen=True, slots=True)
class Located:
    """An event and where it was read (``FILE:LINE`` or a JSON path), for messages about it."""

    where: str
    event: StatusEvent


def to_micros(moment: datetime) -> int:
    """Whole microseconds since 1970-01-01 UTC (exact: no float on the way)."""
    delta = moment - _EPOCH
    return (delta.days * 86_400 + delta.seconds) * 1_000_000 + delta.microseconds


def iso(micros: int, like: datetime | None = None) -> str:
    """The ISO 8601 text of ``micros``, in the offset of ``like`` (UTC when none), seconds precision or finer.

    >>> iso(1782864000000000)
    '2026-07-01T00:00:00+00:00'
    """
    moment = _EPOCH + timedelta(microseconds=micros)
    if like is not None and like.tzinfo is not None:
        moment = moment.astimezone(like.tzinfo)
    return moment.isoformat(timespec="microseconds" if micros % 1_000_000 else "seconds")


def parse_time(value: Any, where: str) -> datetime:
    """An ISO 8601 time that carries a UTC offset; anything else is a :class:`ValidationError` at ``where``.

    >>> parse_time("2026-07-01T08:00:00Z", "as_of").isoformat()
    '2026-07-01T08:00:00+00:00'
    """
    problem = _time_problem(value)
    if problem is not None:
        raise ValidationError([Problem(where, problem)])
    return datetime.fromisoformat(value)


def _time_problem(value: Any) -> Message | None:
    expected = N_("expected an ISO 8601 time with a UTC offset (like 2026-07-01T08:00:00+08:00 or ...Z), got {value}")
    if not isinstance(value, str):
        return _l(expected, value=_shown(value))
    try:
        moment = datetime.fromisoformat(value)
    except ValueError:
        return _l(expected, value=_shown(value))
    if moment.tzinfo is None or moment.utcoffset() is None:
        return _l("expected an ISO 8601 time with a UTC offset (like 2026-07-01T08:00:00+08:00 or ...Z), got {value} "
                  "(no offset)", value=_shown(value))
    return None


def _shown(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 60 else f"{text[:60]}..."


def field_problem(where: str, name: str, message: Message) -> Problem:
    """A problem with field ``name`` of the event at ``where``: ``events[3].time`` in JSON, or
    ``FILE:LINE`` with the field named in the message."""
    if where.endswith("]") or where in ("", "$"):
        return Problem(f"{where}.{name}" if where else name, message)
    return Problem(where, _l("{field}: {message}", field=name, message=message))


def _text(value: Any, where: str, name: str, problems: list[Problem], *, required: bool) -> str | None:
    if value is None or value == "":
        if required:
            problems.append(field_problem(where, name, _l("required, missing")))
        return None
    if not isinstance(value, str):
        problems.append(field_problem(where, name, _l("expected text, got {value}", value=_shown(value))))
        return None
    if len(value) > _TEXT_LIMIT:
        problems.append(field_problem(where, name, _l("at most {limit} characters, got {count}",
                                                      limit=f"{_TEXT_LIMIT:,}", count=f"{len(value):,}")))
        return None
    return value


def _check(item: Any, where: str, problems: list[Problem]) -> StatusEvent | None:
    """The event in ``item``, or None with its problems appended (every field checked, not just the first)."""
    if not isinstance(item, dict):
        problems.append(Problem(where, _l("expected an object with {fields}, got {value}", fields=", ".join(_REQUIRED),
                                          value=_shown(item))))
        return None
    before = len(problems)
    unknown = sorted(set(item) - set(FIELDS))
    if unknown:
        problems.append(field_problem(where, unknown[0], _l("unknown field; an event has {fields}",
                                                            fields=", ".join(FIELDS))))
    event_id = _text(item.get("id"), where, "id", problems, required=True)
    asset = _text(item.get("asset"), where, "asset", problems, required=True)
    status = item.get("status")
    if status is None or status == "":
        problems.append(field_problem(where, "status", _l("required, missing")))
    elif status not in STATUSES:
        problems.append(field_problem(where, "status", _l("expected 'down' or 'up', got {value}",
                                                          value=_shown(status))))
    time = item.get("time")
    if time is None or time == "":
        problems.append(field_problem(where, "time", _l("required, missing")))
    else:
        problem = _time_problem(time)
        if problem is not None:
            problems.append(field_problem(where, "time", problem))
    source = _text(item.get("source"), where, "source", problems, required=False)
    note = _text(item.get("note"), where, "note", problems, required=False)
    if len(problems) > before or event_id is None or asset is None:
        return None
    return StatusEvent(event_id, asset, str(status), str(time), to_micros(datetime.fromisoformat(str(time))),
                       source, note)


def parse_event(item: Any, where: str) -> StatusEvent:
    """One event from a JSON object; :class:`ValidationError` naming ``where.FIELD`` for each problem."""
    problems: list[Problem] = []
    event = _check(item, where, problems)
    if event is None:
        raise ValidationError(problems)
    return event


def parse_events(items: Iterable[tuple[str, Any]], *, assets: Container[str] | None = None) -> list[Located]:
    """Events from ``(where, object)`` pairs, all or nothing, with repeated ids within the batch checked.

    The same id twice with the same content is kept once (a duplicate);
    with other content it is an error at the second place, naming the first.
    With ``assets`` (the graph's ids), an event of another asset is a problem
    too, reported with the others in one pass.

    Raises
    ------
    ValidationError
        Listing every problem (up to :data:`MAX_PROBLEMS`).
    """
    problems: list[Problem] = []
    out: list[Located] = []
    seen: dict[str, Located] = {}
    for where, item in items:
        event = _check(item, where, problems)
        if event is None:
            if len(problems) >= MAX_PROBLEMS:
                raise ValidationError(problems[:MAX_PROBLEMS], truncated=True)
            continue
        if assets is not None and event.asset not in assets:
            problems.append(field_problem(where, "asset", _l("no asset with id {id} in the graph",
                                                             id=repr(event.asset))))
        first = seen.get(event.id)
        if first is None:
            seen[event.id] = located = Located(where, event)
            out.append(located)
        elif not first.event.same_content(event):
            problems.append(field_problem(where, "id", _l("event id {id} was given at {where} with other content; an "
                                                          "event id names one report", id=repr(event.id),
                                                          where=first.where)))
    if problems:
        raise ValidationError(problems[:MAX_PROBLEMS], truncated=len(problems) > MAX_PROBLEMS)
    return out


def read_event_file(path: Path, *, assets: Container[str] | None = None) -> list[Located]:
    """Events from a ``.jsonl`` file (one object per line) or a ``.csv`` file (header :data:`FIELDS`).

    Blank lines of a JSON Lines file are skipped. Locations are ``FILE:LINE``; ``assets`` as
    for :func:`parse_events`.

    Raises
    ------
    ValidationError
        For a file that cannot be read, a malformed line, or any invalid event.
    """
    name = str(path)
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise ValidationError([Problem(name, _l("cannot read: {reason}", reason=exc.strerror))]) from exc
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = data[: exc.start].count(b"\n") + 1
        raise ValidationError([Problem(f"{name}:{line}", _l("not UTF-8 text"))]) from exc
    suffix = path.suffix.lower()
    if suffix == ".csv":
        return parse_events(_csv_items(name, text), assets=assets)
    if suffix in (".jsonl", ".ndjson"):
        return parse_events(_jsonl_items(name, text), assets=assets)
    raise ValidationError([Problem(name, _l("expected a .jsonl or .csv file of events, got {suffix}",
                                            suffix=repr(suffix or "no suffix")))])


def _jsonl_items(name: str, text: str) -> Iterator[tuple[str, Any]]:
    problems: list[Problem] = []
    items: list[tuple[str, Any]] = []
    for number, line in enumerate(text.splitlines(), start=1):
        if not line.strip():
            continue
        try:
            items.append((f"{name}:{number}", json.loads(line)))
        except json.JSONDecodeError as exc:
            problems.append(Problem(f"{name}:{number}", _l("not a JSON object: {detail} at column {column}",
                                                           detail=exc.msg, column=exc.colno)))
    if problems:
        raise ValidationError(problems[:MAX_PROBLEMS], truncated=len(problems) > MAX_PROBLEMS)
    return iter(items)


def _csv_items(name: str, text: str) -> Iterator[tuple[str, Any]]:
    reader = csv.reader(io.StringIO(text, newline=""))
    try:
        header = next(reader)
    except StopIteration:
        raise ValidationError([Problem(f"{name}:1", _l("empty file; expected a header {header}",
                                                       header=",".join(FIELDS)))]) from None
    header = [h.strip() for h in header]
    missing = [c for c in _REQUIRED if c not in header]
    extra = [c for c in header if c not in FIELDS]
    if missing or extra:
        what = (_l("missing column(s) {columns}", columns=", ".join(missing)) if missing
                else _l("unknown column(s) {columns}", columns=", ".join(extra)))
        raise ValidationError([Problem(f"{name}:1", _l("{what}; expected the header {header}", what=what,
                                                       header=",".join(FIELDS)))])
    items: list[tuple[str, Any]] = []
    try:
        for row in reader:
            if not any(cell.strip() for cell in row):
                continue
            where = f"{name}:{reader.line_num}"
            if len(row) != len(header):
                raise ValidationError([Problem(where, _l("expected {expected} cells, got {count}",
                                                         expected=len(header), count=len(row)))])
            items.append((where, {k: v for k, v in zip(header, row, strict=True) if v != ""}))
    except csv.Error as exc:
        raise ValidationError([Problem(f"{name}:{reader.line_num}", _l("malformed CSV: {detail}",
                                                                       detail=str(exc)))]) from exc
    return iter(items)


def check_assets(events: Sequence[Located], known: Any) -> None:
    """Raise :class:`ValidationError` for every event whose asset is not in ``known`` (a container of ids)."""
    problems = [field_problem(e.where, "asset", _l("no asset with id {id} in the graph", id=repr(e.event.asset)))
                for e in events if e.event.asset not in known]
    if problems:
        raise ValidationError(problems[:MAX_PROBLEMS], truncated=len(problems) > MAX_PROBLEMS)
