"""``POST /v1/restorations``: the plan of ``kg restore --format json`` (the same kg function); 4xx naming the field."""

from __future__ import annotations

from typing import Any

import pytest
from fastapi.testclient import TestClient

from api.main import create_app
from kg.analysis.hazards import hazard_failures
from kg.analysis.restoration import evaluate_schedule, plan_restoration
from kg.store import Store
from tests.api.conftest import City, auth, settings_for
from tests.helpers import forget_events


def _post(client: TestClient, body: Any, role: str = "read") -> Any:
    return client.post("/v1/restorations", json=body, headers=auth(role))


def _damaged(city: City) -> list[str]:
    return [city.first("Substation"), city.first("PumpingStation"), city.first("DistributionFeeder")]


def test_plan_equals_the_library_and_its_value_holds(client: TestClient, store: Store, city: City) -> None:
    damaged = _damaged(city)
    body = {"fail": damaged, "crews": {city.rows["agencies"][0][0]: 2}, "repair_hours": {"Substation": 30}}
    r = _post(client, body)
    assert r.status_code == 200, r.text
    snap = store.snapshot()
    expected = plan_restoration(snap, damaged, crews=body["crews"], repair_hours=body["repair_hours"]).to_dict()
    assert r.json() == expected
    plan = r.json()
    assert sorted(plan["damaged"]) == sorted(damaged) and {s["id"] for s in plan["schedule"]} == set(damaged)
    assert next(s for s in plan["schedule"] if s["id"] == damaged[0])["end"] - \
        next(s for s in plan["schedule"] if s["id"] == damaged[0])["start"] == 30
    # The reported objective is what the returned schedule is worth.
    value = evaluate_schedule(snap, {s["id"]: s["end"] for s in plan["schedule"]}).unserved_people_hours
    assert value == pytest.approx(plan["unserved_people_hours"])
    assert plan["unserved_people_hours"] <= plan["naive"]["unserved_people_hours"]


def test_hazard_zones_damage_their_fragile_assets(client: TestClient, store: Store, city: City) -> None:
    zones = [z[0] for z in city.rows["hazard_zones"]]
    r = _post(client, {"hazard_zones": zones})
    assert r.status_code == 200, r.text
    assert r.json()["damaged"] == hazard_failures(store.snapshot(), zones)


def test_exact_method_reports_proof(client: TestClient, city: City) -> None:
    r = _post(client, {"fail": _damaged(city), "method": "exact", "time_limit": 10})
    assert r.status_code == 200, r.text
    plan = r.json()
    assert plan["method"] == "exact" and plan["optimal"] is True and plan["gap"] == 0.0 and plan["time_limit"] == 10


def _event(i: str, asset: str, status: str, time: str) -> dict[str, Any]:
    return {"id": i, "asset": asset, "status": status, "time": time, "source": "test"}


def test_live_plans_what_the_events_say_is_down(client: TestClient, store: Store, city: City) -> None:
    forget_events(store)
    try:
        sub, pump, feeder = _damaged(city)
        r = client.post("/v1/events", headers=auth("write"), json={"events": [
            _event("e1", sub, "down", "2026-07-01T08:00:00+08:00"),
            _event("e2", pump, "down", "2026-07-01T09:00:00+08:00"),
            _event("e3", feeder, "down", "2026-07-01T09:30:00+08:00"),
            _event("e4", pump, "up", "2026-07-01T11:00:00+08:00")]})
        assert r.status_code == 200, r.text
        crews = {city.rows["agencies"][0][0]: 2}
        for as_of, down in [("2026-07-01T10:00:00+08:00", [sub, pump, feeder]),
                            ("2026-07-01T02:00:00Z", [sub, pump, feeder]),  # the same moment, another offset
                            ("2026-07-01T08:30:00+08:00", [sub]), (None, [sub, feeder])]:
            live = _post(client, {"live": True, "crews": crews} | ({} if as_of is None else {"as_of": as_of}))
            assert live.status_code == 200, live.text
            assert live.json() == _post(client, {"fail": down, "crews": crews}).json(), as_of
        nothing = _post(client, {"live": True, "as_of": "2026-07-01T07:00:00+08:00"})
        assert nothing.status_code == 200 and nothing.json()["damaged"] == [] and nothing.json()["schedule"] == []
    finally:
        forget_events(store)


def _fill(value: Any, names: dict[str, str]) -> Any:
    """``value`` with the placeholders ``names`` (keys and strings) replaced by the test city's ids."""
    if isinstance(value, dict):
        return {names.get(k, k): _fill(v, names) for k, v in value.items()}
    if isinstance(value, list):
        return [_fill(v, names) for v in value]
    return names.get(value, value) if isinstance(value, str) else value


@pytest.mark.parametrize(("body", "status", "field"), [
    ({}, 422, "body"),
    ({"fail": []}, 422, "fail"),
    ({"fail": ["X"], "hazard_zones": ["Z"]}, 422, "hazard_zones"),
    ({"fail": [""]}, 422, "fail[0]"),
    ({"fail": ["SUB"], "crews": {"AGENCY": -1}}, 422, "crews.AGENCY"),
    ({"fail": ["SUB"], "crews": {"AGENCY": 1.5}}, 422, "crews.AGENCY"),
    ({"fail": ["SUB"], "repair_hours": {"Substation": 0}}, 422, "repair_hours.Substation"),
    ({"fail": ["SUB"], "method": "fast"}, 422, "method"),
    ({"fail": ["SUB"], "time_limit": 0}, 422, "time_limit"),
    ({"fail": ["SUB"], "method": "exact", "time_limit": 3600}, 422, "time_limit"),
    ({"fail": ["SUB"], "horizon_hours": 3}, 422, "horizon_hours"),
    ({"fail": ["SUB"], "live": True}, 422, "live"),
    ({"hazard_zones": ["Z"], "live": True}, 422, "live"),
    ({"live": False}, 422, "live"),
    ({"live": None}, 422, "live"),
    ({"live": True, "as_of": "2026-07-01T08:00:00"}, 422, "as_of"),
    ({"live": True, "as_of": "yesterday"}, 422, "as_of"),
    ({"fail": ["SUB"], "as_of": "2026-07-01T08:00:00Z"}, 422, "as_of"),
    ({"as_of": "2026-07-01T08:00:00Z"}, 422, "body"),
    ({"fail": ["SUB", "no-such-asset"]}, 404, "fail[1]"),
    ({"hazard_zones": ["no-such-zone"]}, 404, "hazard_zones[0]"),
    ({"fail": ["SUB"], "crews": {"no-such-agency": 2}}, 422, "crews.no-such-agency"),
    ({"fail": ["SUB"], "repair_hours": {"Substaton": 2}}, 422, "repair_hours.Substaton"),
    ({"fail": ["SUB"], "crews": {"AGENCY": 0}}, 422, "crews.AGENCY"),
])
def test_bad_requests_name_the_field(client: TestClient, city: City, body: dict[str, Any], status: int,
                                     field: str) -> None:
    sub = city.first("Substation")
    agency = next(r[4] for r in city.rows["assets"] if r[0] == sub)
    r = _post(client, _fill(body, {"SUB": sub, "AGENCY": agency}))
    assert r.status_code == status, r.text
    assert r.headers["content-type"] == "application/problem+json"
    assert r.json()["field"] == field.replace("AGENCY", agency), r.json()


def test_needs_a_key_and_a_time_limit(store: Store, city: City) -> None:
    with TestClient(create_app(settings_for(store.url, request_timeout_s=1e-9), store=store)) as c:
        assert c.post("/v1/restorations", json={"fail": _damaged(city)}).status_code == 401
        r = c.post("/v1/restorations", json={"fail": _damaged(city)}, headers=auth("read"))
        assert r.status_code == 504 and "time limit" in r.json()["detail"]


def test_openapi_describes_the_plan(app: Any) -> None:
    schema = app.openapi()
    op = schema["paths"]["/v1/restorations"]["post"]
    assert set(op["responses"]) >= {"200", "404", "422", "429", "504"}
    plan = schema["components"]["schemas"]["RestorationPublic"]
    assert set(plan["required"]) == {"damaged", "schedule", "curve", "unserved_people_hours", "method", "optimal",
                                     "naive", "gap", "time_limit"}
    # the exact method's time limit is bounded by the request's, and the schema says so
    request = schema["components"]["schemas"]["RestorationRequest"]
    # exactly one way to give the damage; as_of a date-time, and only with live
    assert [b["required"] for b in request["oneOf"]] == [["fail"], ["hazard_zones"], ["live"]]
    assert [{"required": ["as_of"]} in b["not"]["anyOf"] for b in request["oneOf"]] == [True, True, False]
    assert request["properties"]["as_of"]["format"] == "date-time"
    limit = request["properties"]["time_limit"]
    assert limit["maximum"] == app.state.settings.request_timeout_s and "default" not in limit
