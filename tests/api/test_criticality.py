"""``GET /v1/criticality``: the ranking of ``kg criticality --format json`` (the same kg function)."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient

from kg.analysis.criticality import criticality
from kg.store import Store
from tests.api.conftest import auth


@pytest.mark.parametrize(("params", "by", "top"), [({}, None, 20), ({"top": 7}, None, 7),
                                                   ({"top": 3, "by": "district"}, "district", 3)])
def test_ranking_equals_the_library(client: TestClient, store: Store, params: dict[str, object], by: str | None,
                                    top: int) -> None:
    r = client.get("/v1/criticality", params=params, headers=auth("read"))
    assert r.status_code == 200, r.text
    expected = [c.to_dict() for c in criticality(store.snapshot(), by=by, top=top)]
    assert r.json() == {"by": by, "assets": expected}
    assert all(a["rank"] <= top for a in expected)


@pytest.mark.parametrize(("params", "field"), [({"top": 0}, "top"), ({"top": 1001}, "top"), ({"by": "agency"}, "by"),
                                               ({"top": "all"}, "top")])
def test_bad_parameters_are_422(client: TestClient, params: dict[str, object], field: str) -> None:
    r = client.get("/v1/criticality", params=params, headers=auth("read"))
    assert r.status_code == 422 and r.json()["field"] == field


def test_needs_a_key(client: TestClient) -> None:
    assert client.get("/v1/criticality").status_code == 401
