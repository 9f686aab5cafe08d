"""``kg restore`` and the ``repair_hours`` / ``crews`` columns: from the bundle, through every store and format,
to the plan; the briefing; every bad input named."""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest

from kg.analysis.restoration import evaluate_schedule, plan_restoration
from kg.cli.cascade import clock
from kg.store import Store, open_store
from tests.helpers import run_kg, write_files

# A plant feeds two substations; S1 feeds homes R1 (district d1), S2 feeds homes R2 and the pump W that
# also serves R2 (district d2). The grid has 2 crews in the data; the water company none given (1).
BUNDLE = {
    "regions.csv": "id,level,name,parent\nc,city,City,\nd1,district,North,c\nd2,district,South,c\n",
    "agencies.csv": "id,name,level,parent,jurisdiction,crews\ngrid,Grid Co,city,,c,2\nwater,Water Co,city,,c,\n",
    "assets.csv": "id,type,name,region,agency,lat,lon,population,repair_hours\n"
                  "P,PowerPlant,Plant,d1,grid,,,0,10\n"
                  "S1,Substation,Sub 1,d1,grid,,,0,4\n"
                  "S2,Substation,Sub 2,d2,grid,,,0,\n"
                  "W,PumpingStation,Pump,d2,water,,,0,6\n"
                  "R1,ResidentialArea,Homes 1,d1,,,,1000,\n"
                  "R2,ResidentialArea,Homes 2,d2,,,,500,\n",
    "dependencies.csv": "dependent,provider,kind\nS1,P,power\nS2,P,power\nR1,S1,power\nR2,S2,power\nW,S2,power\n"
                        "R2,W,water\n",
}
DAMAGED = ("P", "S1", "S2", "W")


@contextmanager
def opened(url: str) -> Iterator[Store]:
    store = open_store(url)
    try:
        yield store
    finally:
        store.close()


@pytest.fixture
def url(tmp_path: Path) -> str:
    store_url = f"sqlite:///{tmp_path}/kg.db"
    result = run_kg("load", str(write_files(tmp_path / "b", BUNDLE)), "--store", store_url)
    assert result.exit_code == 0, result.stderr
    return store_url


def _plan(url: str, *args: str) -> dict[str, Any]:
    result = run_kg("restore", *(x for a in DAMAGED for x in ("--fail", a)), *args, "--store", url,
                    "--format", "json")
    assert result.exit_code == 0, result.stderr
    data: dict[str, Any] = json.loads(result.stdout)
    return data


def _hours(plan: dict[str, Any]) -> dict[str, float]:
    return {r["id"]: r["end"] - r["start"] for r in plan["schedule"]}


def test_the_columns_drive_the_plan_and_options_override_them(url: str) -> None:
    plan = _plan(url)
    # repair_hours from the column, else the ontology's default for Substation (S2)
    default = _hours(plan)["S2"]
    assert _hours(plan) == {"P": 10, "S1": 4, "S2": default, "W": 6} and default not in (4, 10)
    # crews from the column: the grid's two crews both start at hour 0
    assert sorted(r["crew"] for r in plan["schedule"] if r["agency"] == "grid" and r["start"] == 0) == [1, 2]
    # a type given on the command line wins over the asset's column; an id wins over a type
    assert _hours(_plan(url, "--repair-hours", "Substation=5")) == {"P": 10, "S1": 5, "S2": 5, "W": 6}
    assert _hours(_plan(url, "--repair-hours", "PowerAsset=5", "--repair-hours", "S1=2")) == \
        {"P": 5, "S1": 2, "S2": 5, "W": 6}
    one_crew = _plan(url, "--crews", "grid=1")
    assert {r["crew"] for r in one_crew["schedule"]} == {1}
    assert one_crew["unserved_people_hours"] >= plan["unserved_people_hours"]


def test_json_is_the_library_plan_and_its_value_holds(url: str) -> None:
    plan = _plan(url)
    with opened(url) as store:
        snap = store.snapshot()
        assert plan == plan_restoration(snap, list(DAMAGED)).to_dict()
        ends = {r["id"]: r["end"] for r in plan["schedule"]}
        assert evaluate_schedule(snap, ends).unserved_people_hours == pytest.approx(plan["unserved_people_hours"])
    exact = _plan(url, "--exact", "--time-limit", "20")
    assert exact["method"] == "exact" and exact["optimal"] and exact["time_limit"] == 20
    assert exact["unserved_people_hours"] <= plan["unserved_people_hours"] <= plan["naive"]["unserved_people_hours"]


def test_the_briefing_says_what_first_and_when_each_district_is_back(url: str) -> None:
    result = run_kg("restore", *(x for a in DAMAGED for x in ("--fail", a)), "--store", url)
    assert result.exit_code == 0, result.stderr
    text = result.stdout
    plan = _plan(url)
    ends = {r["id"]: r["end"] for r in plan["schedule"]}
    assert "Grid Co: 2 crews, 3 repairs" in text and "Water Co: 1 crew, 1 repair," in text
    assert f"{plan['unserved_people_hours']:,.0f}" in text and f"{plan['naive']['unserved_people_hours']:,.0f}" in text
    # South's power is back when S2 works (after P); its water when W works (after S2); its people then too
    south = next(line for line in text.splitlines() if line.lstrip().startswith("South"))
    power, water = max(ends["P"], ends["S2"]), max(ends["P"], ends["S2"], ends["W"])
    assert [c.strip() for c in south.split("│")] == ["South", "500", clock(power), clock(water), clock(water)], south


@pytest.mark.parametrize(("args", "message"), [
    ((), "give one of --fail ID..., --hazard ZONE... or --live"),
    (("--fail", "P", "--hazard", "Z"), "give one of"),
    (("--fail", "P", "--as-of", "2026-07-01T08:00:00+08:00"), "--as-of is the time of --live: add --live"),
    (("--live", "--as-of", "2026-07-01T08:00:00"), "--as-of"),
    (("--fail", "nope"), "--fail 'nope': no asset with this id"),
    (("--hazard", "nope"), "--hazard 'nope': no hazard zone with this id"),
    (("--fail", "P", "--crews", "grid"), "--crews 'grid': expected AGENCY=N"),
    (("--fail", "P", "--crews", "grid=two"), "--crews 'grid=two': expected AGENCY=N, e.g. grid=3 with a whole number"),
    (("--fail", "P", "--crews", "gird=2"), "--crews gird: expected the id of an agency; did you mean 'grid'?"),
    (("--fail", "P", "--crews", "grid=0"), "--crews grid: agency grid has 0 crews but 1 damaged asset to repair (P)"),
    (("--fail", "P", "--repair-hours", "Substaton=3"), "--repair-hours Substaton: expected the id of an asset or"),
    (("--fail", "P", "--repair-hours", "P=-1"), "--repair-hours P: expected a number of hours > 0, got -1.0"),
    (("--fail", "P", "--time-limit", "3"), "--time-limit is the exact solver's limit: add --exact"),
])
def test_bad_input_is_one_clear_line(url: str, args: tuple[str, ...], message: str) -> None:
    result = run_kg("restore", *args, "--store", url)
    assert result.exit_code == 1 and not result.stdout
    assert message in result.stderr and "Traceback" not in result.stderr, result.stderr


@pytest.mark.parametrize(("file", "row", "where", "message"), [
    ("assets.csv", "X,Substation,,d1,grid,,,0,0\n", "assets.csv:8", "repair_hours"),
    ("assets.csv", "X,Substation,,d1,grid,,,0,soon\n", "assets.csv:8", "repair_hours"),
    ("agencies.csv", "x,X,city,,c,-1\n", "agencies.csv:4", "crews"),
    ("agencies.csv", "x,X,city,,c,1.5\n", "agencies.csv:4", "crews"),
])
def test_bad_columns_are_refused_with_file_and_line(tmp_path: Path, file: str, row: str, where: str,
                                                    message: str) -> None:
    files = dict(BUNDLE)
    files[file] += row
    result = run_kg("load", str(write_files(tmp_path / "b", files)), "--store", f"sqlite:///{tmp_path}/kg.db")
    assert result.exit_code == 1
    assert where in result.stderr and message in result.stderr, result.stderr


def test_the_columns_survive_rdf_and_json_lines(url: str, tmp_path: Path) -> None:
    ttl = tmp_path / "city.ttl"
    assert run_kg("export", "--rdf", "ttl", "-o", str(ttl), "--store", url).exit_code == 0
    text = ttl.read_text(encoding="utf-8")
    assert "ckg:repairHours" in text and "ckg:crews" in text
    jsonl = tmp_path / "city.jsonl"
    jsonl.write_text('{"file": "agencies", "id": "grid", "name": "Grid Co", "crews": 2}\n'
                     '{"file": "agencies", "id": "water", "name": "Water Co"}\n'
                     + "".join(json.dumps({"file": "assets", "id": a, "type": t, "agency": g, "repair_hours": h})
                               + "\n" for a, t, g, h in (("P", "PowerPlant", "grid", 10), ("S1", "Substation",
                                                                                          "grid", 4))),
                     encoding="utf-8")
    with opened(url) as store:
        want = store.snapshot()
    for source in (ttl, jsonl):
        other = f"sqlite:///{tmp_path}/{source.suffix[1:]}.db"
        result = run_kg("load", str(source), "--store", other)
        assert result.exit_code == 0, result.stderr
        with opened(other) as store:
            got = store.snapshot()
            assert store.get("S1")["repair_hours"] == 4 and store.get("grid")["crews"] == 2
            assert store.get("water")["crews"] is None
        for asset in ("P", "S1"):
            assert got.repair_hours[got.index[asset]] == want.repair_hours[want.index[asset]]
        assert got.agency_crews[got.agency_ids.index("grid")] == 2


def test_live_repairs_what_the_status_events_say_is_down(url: str, tmp_path: Path) -> None:
    """--live plans the repair of the assets down at --as-of: the same plan as --fail with those assets."""
    events = tmp_path / "events.jsonl"
    lines = [{"id": f"e{k}", "asset": a, "status": "down", "time": f"2026-07-01T0{k}:00:00+08:00", "source": "field"}
             for k, a in enumerate(DAMAGED)]
    lines.append({"id": "e9", "asset": "W", "status": "up", "time": "2026-07-01T09:00:00+08:00", "source": "field"})
    events.write_text("".join(json.dumps(line) + "\n" for line in lines))
    assert run_kg("events", "load", str(events), "--store", url).exit_code == 0

    def live(as_of: str) -> dict[str, Any]:
        result = run_kg("restore", "--live", "--as-of", as_of, "--store", url, "--format", "json")
        assert result.exit_code == 0, result.stderr
        data: dict[str, Any] = json.loads(result.stdout)
        return data

    assert live("2026-07-01T08:30:00+08:00") == _plan(url)  # all four down: the plan of --fail P S1 S2 W
    later = live("2026-07-01T09:30:00+08:00")  # W reported up again
    assert later["damaged"] == ["P", "S1", "S2"] and sorted(r["id"] for r in later["schedule"]) == ["P", "S1", "S2"]
