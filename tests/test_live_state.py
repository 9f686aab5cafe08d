"""The state at any time and the live picture, against plain references (hypothesis)."""

from __future__ import annotations

import math
from datetime import UTC, datetime, timedelta, timezone
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from kg.live import EventLog, StatusEvent, down_at, live_picture
from kg.live.events import iso, to_micros
from tests.reference_cascade import reference_cascade
from tests.reference_live import Ev, reference_down
from tests.test_cascade import graphs, snap_of

T0 = datetime(2026, 7, 1, 8, 0, tzinfo=UTC)
HOUR_US = 3_600_000_000
FAST = settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def micros(quarter_hours: int) -> int:
    return to_micros(T0) + quarter_hours * HOUR_US // 4


def event(e: Ev, offset_h: int = 0) -> StatusEvent:
    """``e`` as a StatusEvent; its time written in the offset ``offset_h`` (the instant is the same)."""
    zone = timedelta(hours=offset_h)
    at = (T0 + timedelta(minutes=15 * e[3])).astimezone(timezone(zone))
    return StatusEvent(e[0], e[1], e[2], at.isoformat(), micros(e[3]))


@st.composite
def histories(draw: st.DrawFn, assets: tuple[str, ...] = ("a0", "a1", "a2")) -> list[Ev]:
    n = draw(st.integers(0, 12))
    ids = draw(st.lists(st.text("abcdef0123456789", min_size=1, max_size=3), min_size=n, max_size=n, unique=True))
    return [(i, draw(st.sampled_from(assets)), draw(st.sampled_from(["down", "down", "up"])),
             draw(st.integers(0, 16))) for i in ids]


@FAST
@given(histories(), st.integers(-1, 18), st.randoms(use_true_random=False), st.integers(-12, 14))
def test_down_at_equals_the_reference_whatever_the_arrival_order(history: list[Ev], at: int, rnd: Any,
                                                                   offset: int) -> None:
    expected = {a: micros(t) for a, t in reference_down(history, at).items()}
    arrived = [event(e, offset) for e in history]
    rnd.shuffle(arrived)
    as_of = micros(at)
    assert {a: d.since for a, d in down_at(arrived, as_of).items()} == expected
    log = EventLog()
    for e in arrived:  # one at a time, out of order: each lands in its place
        log.add([e])
    assert {a: d.since for a, d in log.down_at(as_of).items()} == expected
    moment = T0 + timedelta(minutes=15 * at)
    assert {a: d.since for a, d in down_at(arrived, moment).items()} == expected


@FAST
@given(graphs(), st.data())
def test_live_picture_is_the_cascade_from_the_down_set_with_offsets(graph: Any, data: st.DataObject) -> None:
    assets, deps, agencies = graph
    ids = tuple(a for a, _, _ in assets)
    history = data.draw(histories(ids))
    at = data.draw(st.integers(0, 18))
    snap = snap_of(assets, deps, agencies=agencies)
    picture = live_picture(snap, down_at([event(e) for e in history], micros(at)), T0 + timedelta(minutes=15 * at))
    down = reference_down(history, at)
    out = picture.to_dict()
    assert [(d["id"], d["since"]) for d in out["down"]] == sorted(
        ((a, event(("x", a, "down", t)).time) for a, t in down.items()), key=lambda x: (micros(down[x[0]]), x[0]))
    if not down:
        assert out["origin"] is None and out["failures"] == [] and out["forecast"] == []
        return
    origin = min(down.values())
    initial = [(a, (t - origin) / 4) for a, t in down.items()]
    ref = reference_cascade(ids, deps, initial)
    assert {f["id"]: f["time"] for f in out["failures"]} == ref.failed
    assert out["origin"] == iso(micros(origin), T0)
    now = (at - origin) / 4
    for f in out["failures"]:
        assert f["at"] == iso(micros(origin) + round(f["time"] * HOUR_US), T0)
    expected_forecast = sorted((a for a, t in ref.failed.items() if t > now and math.isfinite(t)),
                               key=lambda a: (ref.failed[a], a))
    assert [f["id"] for f in out["forecast"]] == expected_forecast
    for f in out["forecast"]:
        assert math.isclose(f["in_hours"], ref.failed[f["id"]] - now)
