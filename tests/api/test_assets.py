"""``/v1/assets``: paging, filters, one asset, and the traces (the same JSON as the CLI, from the same kg functions)."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient

from kg.analysis.traces import dependencies, dependents, single_points_of_failure
from kg.store import Store
from tests.api.conftest import City, auth

R = auth("read")


def test_paging_walks_every_asset_once_in_id_order(client: TestClient, city: City) -> None:
    seen: list[str] = []
    cursor = None
    while True:
        params = {"limit": 37, **({"cursor": cursor} if cursor else {})}
        page = client.get("/v1/assets", params=params, headers=R).json()
        assert page["count"] == len(page["data"]) <= 37
        seen += [a["id"] for a in page["data"]]
        cursor = page["next"]
        if cursor is None:
            break
    assert seen == sorted(city.ids())


def test_filters(client: TestClient, city: City) -> None:
    power = {"PowerPlant", "TransmissionLine", "Substation", "DistributionFeeder"}
    got = client.get("/v1/assets", params={"type": "PowerAsset", "limit": 1000}, headers=R).json()["data"]
    assert {a["id"] for a in got} == {r[0] for r in city.rows["assets"] if r[1] in power}
    agency = city.rows["assets"][0][4]
    got = client.get("/v1/assets", params={"agency": agency, "limit": 1000}, headers=R).json()["data"]
    assert {a["id"] for a in got} == {r[0] for r in city.rows["assets"] if r[4] == agency}
    got = client.get("/v1/assets", params={"q": "Hospital", "limit": 1000}, headers=R).json()["data"]
    assert got and all("Hospital" in (a["name"] or "") + a["type"] for a in got)
    assert client.get("/v1/assets", params={"region": "no-such-region"}, headers=R).json() == {
        "data": [], "count": 0, "next": None}


@pytest.mark.parametrize(("params", "field"), [
    ({"limit": 0}, "limit"), ({"limit": 100_000}, "limit"), ({"type": "Substatoin"}, "type"),
    ({"limit": "many"}, "limit")])
def test_bad_list_parameters_are_422(client: TestClient, params: dict[str, object], field: str) -> None:
    r = client.get("/v1/assets", params=params, headers=R)
    assert r.status_code == 422 and r.json()["field"] == field, r.text


def test_one_asset(client: TestClient, city: City) -> None:
    row = city.rows["assets"][5]
    body = client.get(f"/v1/assets/{row[0]}", headers=R).json()
    assert (body["id"], body["type"], body["region"], body["agency"], body["population"]) == (
        row[0], row[1], row[3], row[4], row[7])


@pytest.mark.parametrize("suffix", ["", "/dependents", "/dependencies", "/spof", "/paths/x"])
def test_unknown_asset_is_404(client: TestClient, city: City, suffix: str) -> None:
    r = client.get(f"/v1/assets/no-such-asset{suffix}", headers=R)
    assert r.status_code == 404 and r.json()["field"] == "asset_id"
    assert "no-such-asset" in r.json()["detail"]


def test_a_region_is_not_an_asset(client: TestClient, city: City) -> None:
    r = client.get(f"/v1/assets/{city.ids('regions')[0]}", headers=R)
    assert r.status_code == 404 and "that id is a region" in r.json()["detail"]


@pytest.mark.parametrize("key", ["dependents", "dependencies"])
@pytest.mark.parametrize(("kind", "depth"), [(None, None), ("power", None), (None, 2)])
def test_traces_equal_the_library(client: TestClient, store: Store, city: City, key: str, kind: str | None,
                                  depth: int | None) -> None:
    asset = city.first("Substation") if key == "dependents" else city.first("Hospital")
    params = {k: v for k, v in (("kind", kind), ("depth", depth)) if v is not None}
    r = client.get(f"/v1/assets/{asset}/{key}", params=params, headers=R)
    assert r.status_code == 200, r.text
    trace = dependents if key == "dependents" else dependencies
    snap = store.snapshot()
    expected = trace(snap, asset, kinds=[kind] if kind else None, max_depth=depth).to_list(snap)
    assert r.json() == {"id": asset, key: expected}
    assert expected  # the test city is wired: something is found


def test_several_kinds(client: TestClient, city: City) -> None:
    hospital = city.first("Hospital")
    both = client.get(f"/v1/assets/{hospital}/dependencies", params=[("kind", "power"), ("kind", "water")],
                      headers=R).json()["dependencies"]
    power = client.get(f"/v1/assets/{hospital}/dependencies", params={"kind": "power"}, headers=R).json()
    assert {d["id"] for d in power["dependencies"]} < {d["id"] for d in both}


@pytest.mark.parametrize(("params", "field"), [
    ({"kind": "electricity"}, "kind"), ({"depth": 0}, "depth"), ({"depth": 51}, "depth"), ({"depth": "x"}, "depth")])
def test_bad_trace_parameters_are_422(client: TestClient, city: City, params: dict[str, object], field: str) -> None:
    r = client.get(f"/v1/assets/{city.first('Hospital')}/dependencies", params=params, headers=R)
    assert r.status_code == 422 and r.json()["field"] == field, r.text


def test_paths_go_from_the_asset_down_to_the_other(client: TestClient, city: City) -> None:
    hospital, plant = city.first("Hospital"), city.first("PowerPlant")
    body = client.get(f"/v1/assets/{hospital}/paths/{plant}", params={"k": 3}, headers=R).json()
    assert body["dependent"] == hospital and body["provider"] == plant and 0 < len(body["paths"]) <= 3
    for p in body["paths"]:
        assert p["assets"][0] == hospital and p["assets"][-1] == plant
        assert len(p["kinds"]) == len(p["assets"]) - 1 and all(p["kinds"])
    lengths = [len(p["assets"]) for p in body["paths"]]
    assert lengths == sorted(lengths)
    backwards = client.get(f"/v1/assets/{plant}/paths/{hospital}", headers=R).json()
    assert backwards["paths"] == []  # a plant does not depend on a hospital


def test_paths_parameters(client: TestClient, city: City) -> None:
    hospital = city.first("Hospital")
    r = client.get(f"/v1/assets/{hospital}/paths/no-such", headers=R)
    assert r.status_code == 404 and r.json()["field"] == "other"
    r = client.get(f"/v1/assets/{hospital}/paths/{hospital}", params={"k": 21}, headers=R)
    assert r.status_code == 422 and r.json()["field"] == "k"


def test_spof_equals_the_library(client: TestClient, store: Store, city: City) -> None:
    hospital = city.first("Hospital")
    snap = store.snapshot()
    body = client.get(f"/v1/assets/{hospital}/spof", headers=R).json()
    assert body == {"id": hospital,
                    "single_points_of_failure": single_points_of_failure(snap, hospital).to_list(snap)}


@pytest.mark.parametrize("suffix", ["", "/x", "/x/dependents", "/x/dependencies", "/x/spof", "/x/paths/y"])
def test_needs_a_key(client: TestClient, suffix: str) -> None:
    assert client.get(f"/v1/assets{suffix}").status_code == 401


@pytest.mark.parametrize("words", ["{zh} 医院", "{en} hospital", "医院 {en}"])
def test_search_in_chinese_or_english_finds_a_districts_hospitals(client: TestClient, city: City, words: str) -> None:
    regions = {r[0]: r for r in city.rows["regions"]}

    def district(rid: str | None) -> str | None:
        while rid is not None and regions[rid][1] != "district":
            rid = regions[rid][3]
        return rid

    hospitals = [r for r in city.rows["assets"] if r[1] == "Hospital"]
    home = district(hospitals[0][3])
    en, zh = regions[home][2].split(" ")  # the synthetic city's district names: "Yuzhong 渝中区"
    expected = sorted(r[0] for r in hospitals if district(r[3]) == home)
    got = client.get("/v1/assets", params={"q": words.format(en=en, zh=zh[:2]), "limit": 1000}, headers=R).json()
    assert [a["id"] for a in got["data"]] == expected


def test_search_by_chinese_type_label(client: TestClient, city: City) -> None:
    got = client.get("/v1/assets", params={"q": "变电站", "limit": 1000}, headers=R).json()["data"]
    assert [a["id"] for a in got] == sorted(r[0] for r in city.rows["assets"] if r[1] == "Substation")
