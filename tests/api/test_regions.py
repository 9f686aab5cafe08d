"""``GET /v1/regions/{id}``: the region and its assets' exposure, equal to a plain count over the rows."""

from __future__ import annotations

from collections import Counter

import pytest
from fastapi.testclient import TestClient

from tests.api.conftest import City, auth


def _descendants(city: City, region: str) -> set[str]:
    children: dict[str, set[str]] = {}
    for rid, _level, _name, parent, _props in city.rows["regions"]:
        if parent:
            children.setdefault(parent, set()).add(rid)
    out, todo = {region}, [region]
    while todo:
        for child in children.get(todo.pop(), ()):
            out.add(child)
            todo.append(child)
    return out


@pytest.mark.parametrize("level", ["city", "district", "community"])
def test_region_summary_matches_the_rows(client: TestClient, city: City, level: str) -> None:
    region = next(r[0] for r in city.rows["regions"] if r[1] == level)
    r = client.get(f"/v1/regions/{region}", headers=auth("read"))
    assert r.status_code == 200, r.text
    body = r.json()
    assert (body["id"], body["level"]) == (region, level)
    inside = _descendants(city, region)
    assets = [a for a in city.rows["assets"] if a[3] in inside]
    assert body["assets"]["count"] == len(assets)
    assert body["assets"]["population"] == sum(a[7] or 0 for a in assets)
    assert body["assets"]["by_type"] == dict(sorted(Counter(a[1] for a in assets).items()))
    ids = {a[0] for a in assets}
    hazard_of = {z[0]: z[1] for z in city.rows["hazard_zones"]}
    exposed: dict[str, set[str]] = {}
    for asset, zone, _intensity in city.rows["exposures"]:
        if asset in ids:
            exposed.setdefault(hazard_of[zone], set()).add(asset)
    assert {e["hazard"]: e["assets"] for e in body["exposure"]} == {h: len(a) for h, a in exposed.items()}
    counts = [e["assets"] for e in body["exposure"]]
    assert counts == sorted(counts, reverse=True)


def test_unknown_region_is_404(client: TestClient, city: City) -> None:
    for rid in ("no-such-region", city.ids()[0]):
        r = client.get(f"/v1/regions/{rid}", headers=auth("read"))
        assert r.status_code == 404 and r.json()["field"] == "region_id"


def test_needs_a_key(client: TestClient, city: City) -> None:
    assert client.get(f"/v1/regions/{city.ids('regions')[0]}").status_code == 401
