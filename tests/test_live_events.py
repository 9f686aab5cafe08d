"""Status events: validation (FILE:LINE, JSON paths), all or nothing, idempotency, history, both stores."""

from __future__ import annotations

import json
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest

from kg.errors import ValidationError
from kg.live import down_at, live_picture, parse_events, read_event_file, record_events
from tests.conftest_stores import load
from tests.helpers import forget_events, run_kg, write_files

BUNDLE = {
    "agencies.csv": "id,name\ngrid,Power Supply Co.\nhealth,Health Commission\n",
    "assets.csv": "id,type,agency,population\nS1,Substation,grid,0\nS2,Substation,grid,0\nH1,Hospital,health,500\n",
    "dependencies.csv": "dependent,provider,kind,buffer_hours\nH1,S1,power,6\n",
}


def ev(i: str, asset: str, status: str, time: str, **more: Any) -> dict[str, Any]:
    return {"id": i, "asset": asset, "status": status, "time": time, **more}


def located(*items: dict[str, Any]) -> Any:
    return parse_events((f"events[{k}]", item) for k, item in enumerate(items))


@pytest.fixture
def city(store: Any, tmp_path: Path) -> Any:
    load(store, write_files(tmp_path / "bundle", BUNDLE))
    forget_events(store)
    return store


def test_bad_events_name_where_and_nothing_is_stored(city: Any) -> None:
    good = ev("e1", "S1", "down", "2026-07-01T08:00:00+08:00")
    with pytest.raises(ValidationError) as caught:
        parse_events([("events[0]", good), ("events[1]", ev("e2", "S1", "sideways", "2026-07-01T08:00:00")),
                      ("events[2]", {"id": "e3", "asset": "S1", "status": "down", "time": 5, "colour": "red"})])
    wheres = [p.where for p in caught.value.problems]
    assert wheres == ["events[1].status", "events[1].time", "events[2].colour", "events[2].time"]
    assert "no offset" in caught.value.problems[1].message
    with pytest.raises(ValidationError, match=r"events\[1\]\.asset: no asset with id 'X9'"):
        record_events(city, located(good, ev("e2", "X9", "down", "2026-07-01T08:00:00Z")))
    assert city.events() == []
    version = city.version()
    assert record_events(city, located(good)).accepted == 1
    with pytest.raises(ValidationError, match=r"events\[1\]\.id: event 'e1' is already recorded with other content"):
        record_events(city, located(ev("e5", "S2", "down", "2026-07-01T09:00:00Z"),
                                    ev("e1", "S1", "up", "2026-07-01T08:00:00+08:00")))
    assert [e.id for e in city.events()] == ["e1"]  # e5 was not stored either
    assert city.version() == version  # events never change the graph's version


def test_same_id_same_content_is_a_duplicate_counted_not_stored_twice(city: Any) -> None:
    first = record_events(city, located(ev("e1", "S1", "down", "2026-07-01T08:00:00+08:00", source="scada")))
    assert first.to_dict() == {"accepted": 1, "duplicates": 0}
    # The same instant written in another offset is the same content.
    again = located(ev("e1", "S1", "down", "2026-07-01T00:00:00Z", source="scada"),
                    ev("e2", "S2", "down", "2026-07-01T01:00:00Z"), ev("e2", "S2", "down", "2026-07-01T01:00:00Z"))
    assert record_events(city, again, given=3).to_dict() == {"accepted": 1, "duplicates": 2}
    assert [e.id for e in city.events()] == ["e1", "e2"]
    with pytest.raises(ValidationError, match=r"events\[1\]\.id: event id 'e2' was given at events\[0\]"):
        located(ev("e2", "S2", "down", "2026-07-01T01:00:00Z"), ev("e2", "S2", "up", "2026-07-01T01:00:00Z"))


def test_out_of_order_arrival_gives_the_same_state(city: Any) -> None:
    record_events(city, located(ev("e3", "S1", "up", "2026-07-01T10:00:00Z")))
    record_events(city, located(ev("e2", "S1", "down", "2026-07-01T09:00:00Z"),
                                ev("e1", "S1", "down", "2026-07-01T08:00:00Z")))
    at = datetime.fromisoformat
    assert {a: d.event.id for a, d in down_at(city, at("2026-07-01T09:30:00Z")).items()} == {"S1": "e1"}
    assert down_at(city, at("2026-07-01T10:00:00Z")) == {}
    assert down_at(city, at("2026-07-01T07:59:59Z")) == {}
    # ties at one instant: the greater event id wins
    record_events(city, located(ev("e9", "S2", "up", "2026-07-01T11:00:00Z"),
                                ev("e10", "S2", "down", "2026-07-01T11:00:00Z")))
    assert "S2" not in down_at(city, at("2026-07-01T11:00:00Z"))  # 'e9' > 'e10'
    record_events(city, located(ev("u2", "S2", "down", "2026-07-01T12:00:00Z"),
                                ev("u1", "S2", "up", "2026-07-01T12:00:00Z")))
    assert down_at(city, at("2026-07-01T12:00:00Z"))["S2"].event.id == "u2"


def test_clear_keeps_the_history(city: Any) -> None:
    record_events(city, located(ev("e1", "S1", "down", "2026-07-01T08:00:00+08:00", source="scada",
                                   note="transformer fire")))
    city.clear()
    assert [e.note for e in city.events()] == ["transformer fire"]  # history is kept for good


def test_picture_in_clock_time(city: Any) -> None:
    record_events(city, located(ev("e1", "S1", "down", "2026-07-01T08:00:00+08:00", source="scada")))
    now = datetime.fromisoformat("2026-07-01T09:00:00+08:00")
    out = live_picture(city.snapshot(), down_at(city, now), now).to_dict()
    assert out["origin"] == "2026-07-01T08:00:00+08:00" and out["as_of"] == "2026-07-01T09:00:00+08:00"
    assert out["down"] == [{"id": "S1", "since": "2026-07-01T08:00:00+08:00", "source": "scada"}]
    assert [(f["id"], f["time"], f["at"]) for f in out["failures"]] == [
        ("S1", 0.0, "2026-07-01T08:00:00+08:00"), ("H1", 6.0, "2026-07-01T14:00:00+08:00")]
    assert [(f["id"], f["in_hours"], f["coordinate"]) for f in out["forecast"]] == [("H1", 5.0, ["health", "grid"])]


@pytest.mark.neo4j
def test_neo4j_event_nodes_are_linked_to_their_asset(neo4j_store: Any, tmp_path: Path) -> None:
    load(neo4j_store, write_files(tmp_path / "bundle", BUNDLE))
    record_events(neo4j_store, located(ev("e1", "S1", "down", "2026-07-01T08:00:00Z")))
    records, _, _ = neo4j_store._driver.execute_query(
        "MATCH (e:StatusEvent)-[:STATUS_OF]->(a:Asset) RETURN e.id AS e, a.id AS a", database_=neo4j_store.database)
    assert [(r["e"], r["a"]) for r in records] == [("e1", "S1")]


# ---------------------------------------------------------------------------- files and the CLI
def test_files_name_file_and_line(tmp_path: Path) -> None:
    folder = write_files(tmp_path, {
        "ev.jsonl": json.dumps(ev("e1", "S1", "down", "2026-07-01T08:00:00Z")) + "\n\n{oops\n"
                    + json.dumps(ev("e2", "S1", "down", "2026-07-01")) + "\n",
        "ev.csv": "id,asset,status,time,source,note\ne1,S1,down,2026-07-01T08:00:00Z,scada,\ne2,S1,maybe,"
                  "2026-07-01T09:00:00Z,,\n",
    })
    with pytest.raises(ValidationError, match=r"ev\.jsonl:3: not a JSON object"):
        read_event_file(folder / "ev.jsonl")
    with pytest.raises(ValidationError, match=r"ev\.csv:3: status: expected 'down' or 'up', got 'maybe'"):
        read_event_file(folder / "ev.csv")


def test_cli_events_load_status_and_live(tmp_path: Path) -> None:
    db = tmp_path / "kg.db"
    url = f"sqlite:///{db}"
    assert run_kg("load", str(write_files(tmp_path / "bundle", BUNDLE)), "--store", url).exit_code == 0
    events = write_files(tmp_path, {
        "good.csv": "id,asset,status,time,source,note\ne1,S1,down,2026-07-01T08:00:00+08:00,scada,fire\n",
        "bad.jsonl": json.dumps(ev("e2", "S2", "down", "2026-07-01T08:00:00")) + "\n",
    })
    bad = run_kg("events", "load", str(events / "good.csv"), str(events / "bad.jsonl"), "--store", url)
    assert bad.exit_code == 1 and "bad.jsonl:1: time: expected an ISO 8601 time with a UTC offset" in bad.stderr
    assert "Traceback" not in bad.stderr
    status = run_kg("status", "--store", url, "--format", "json")
    assert json.loads(status.stdout)["down"] == []  # nothing stored: the good file was not either
    loaded = run_kg("events", "load", str(events / "good.csv"), "--store", url, "--format", "json")
    assert json.loads(loaded.stdout) == {"accepted": 1, "duplicates": 0}
    status = run_kg("status", "S1", "S2", "--as-of", "2026-07-01T09:00:00+08:00", "--store", url, "--format", "json")
    assert json.loads(status.stdout)["status"] == [
        {"id": "S1", "status": "down", "since": "2026-07-01T08:00:00+08:00"},
        {"id": "S2", "status": "up", "since": None}]
    live = run_kg("live", "--as-of", "2026-07-01T09:00:00+08:00", "--store", url)
    assert live.exit_code == 0
    assert ("14:00 (in 5 h)  H1 (Hospital) loses power when its 6 h backup runs out; Health Commission and Power "
            "Supply Co. must talk before then") in " ".join(live.stdout.split("\n"))
    early = run_kg("live", "--as-of", "2026-07-01T07:00:00+08:00", "--store", url, "--format", "json")
    assert json.loads(early.stdout)["down"] == []
    wrong = run_kg("live", "--as-of", "2026-07-01T07:00:00", "--store", url)
    assert wrong.exit_code == 1 and "--as-of: expected an ISO 8601 time with a UTC offset" in wrong.stderr
