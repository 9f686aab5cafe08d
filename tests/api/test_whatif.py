"""``POST /v1/whatif``: the same JSON as ``kg whatif --format json``; the store is never written; bad edits named."""

from __future__ import annotations

from typing import Any

import pytest
from fastapi.testclient import TestClient

from kg.analysis.cascade import cascade
from kg.analysis.whatif import parse_edits
from kg.scenario import Scenario, whatif
from kg.schema import TABLES
from kg.store import Store
from tests.api.conftest import City, auth


def _post(client: TestClient, body: Any) -> Any:
    return client.post("/v1/whatif", json=body, headers=auth("read"))


def _dependent_of(store: Store, provider: str) -> tuple[str, str]:
    """An asset that fails when ``provider`` does, for want of it alone, and the kind it draws from it."""
    for f in cascade(store.snapshot(), [(provider, 0.0)]).failures:
        if f.cause is not None and f.cause.providers == (provider,):
            return f.id, f.cause.kind
    raise AssertionError(f"nothing depends on {provider} alone")


def test_whatif_equals_the_library_and_leaves_the_store_alone(client: TestClient, store: Store, city: City) -> None:
    sub = city.first("Substation")
    dependent, kind = _dependent_of(store, sub)
    edits = [{"op": "add_buffer", "asset": dependent, "kind": kind, "hours": 12},
             {"op": "remove_dependency", "dependent": dependent, "provider": sub, "kind": kind}]
    version = store.version()
    r = _post(client, {"edits": edits, "fail": [{"id": sub, "time": 1}], "horizon_hours": 24})
    assert r.status_code == 200, r.text
    expected = whatif(store.snapshot(), Scenario(fail=((sub, 1.0),), horizon=24, edits=parse_edits(edits))).to_dict()
    assert r.json() == expected
    assert dependent in r.json()["changes"]["saved"]
    assert store.version() == version
    stored = map(TABLES["dependencies"].getter("dependent", "provider"), store.rows("dependencies"))
    assert (dependent, sub) in set(stored)


def test_hazard_scenarios_take_hazard_zone_ids(client: TestClient, city: City) -> None:
    zone = city.ids("hazard_zones")[0]
    r = _post(client, {"edits": [], "hazard": [zone]})
    assert r.status_code == 200, r.text
    assert r.json()["baseline"] == r.json()["modified"]
    assert r.json()["changes"] == {"saved": [], "new": [], "delayed": [], "earlier": []}


@pytest.mark.parametrize(("edit", "status", "field"), [
    ({"op": "add_buffer", "asset": "nope", "kind": "power", "hours": 1}, 404, "edits[0].asset"),
    ({"op": "add_buffer", "asset": "SUB", "kind": "medical", "hours": 1}, 404, "edits[0]"),
    ({"op": "remove_dependency", "dependent": "SUB", "provider": "SUB2", "kind": "gas"}, 404, "edits[0]"),
    ({"op": "add_dependency", "dependent": "DEP", "provider": "SUB", "kind": "KIND"}, 409, "edits[0]"),
    ({"op": "add_dependency", "dependent": "SUB", "provider": "SUB", "kind": "power"}, 422, "edits[0]"),
    ({"op": "harden", "asset": "SUB", "hazard": "Meteor"}, 422, "edits[0].hazard"),
    ({"op": "add_buffer", "asset": "SUB", "kind": "power", "hours": -2}, 422, "edits[0].hours"),
    ({"op": "add_buffer", "asset": "SUB", "kind": "power"}, 422, "edits[0].hours"),
    ({"op": "paint", "asset": "SUB"}, 422, "edits[0].op"),
])
def test_bad_edits_are_4xx_naming_their_path(client: TestClient, store: Store, city: City, edit: dict[str, Any],
                                            status: int, field: str) -> None:
    sub = city.first("Substation")
    dependent, kind = _dependent_of(store, sub)
    names = {"SUB": sub, "SUB2": next(a for a in city.ids() if a != sub), "DEP": dependent, "KIND": kind}
    edit = {k: names.get(v, v) if isinstance(v, str) else v for k, v in edit.items()}
    r = _post(client, {"edits": [edit], "fail": [{"id": sub}]})
    assert r.status_code == status, r.text
    assert r.headers["content-type"].startswith("application/problem+json")
    assert r.json()["field"] == field


@pytest.mark.parametrize(("body", "field"), [
    ({"edits": []}, "body"),
    ({"edits": [], "fail": [{"id": "X"}], "hazard": ["Z"]}, "hazard"),
    ({"fail": [{"id": "X"}]}, "edits"),
    ({"edits": [], "fail": [{"id": "X"}], "hazard_zones": ["Z"]}, "hazard_zones"),
])
def test_bad_bodies_are_422_naming_the_field(client: TestClient, body: Any, field: str) -> None:
    r = _post(client, body)
    assert r.status_code == 422, r.text
    assert r.json()["field"] == field


def test_unknown_scenario_ids_are_404(client: TestClient) -> None:
    assert _post(client, {"edits": [], "fail": [{"id": "nope"}]}).json()["field"] == "fail[0].id"
    assert _post(client, {"edits": [], "hazard": ["nope"]}).json()["field"] == "hazard[0]"
