"""``GET /v1/agencies/{id}``: its assets, and who outside it depends on them, equal to a plain count."""

from __future__ import annotations

from collections import Counter

from fastapi.testclient import TestClient

from tests.api.conftest import City, auth


def test_agency_summary_matches_the_rows(client: TestClient, city: City) -> None:
    agency_of = {a[0]: a[4] for a in city.rows["assets"]}
    busiest = Counter(a[4] for a in city.rows["assets"] if a[4]).most_common(1)[0][0]
    r = client.get(f"/v1/agencies/{busiest}", headers=auth("read"))
    assert r.status_code == 200, r.text
    body = r.json()
    mine = [a for a in city.rows["assets"] if a[4] == busiest]
    assert body["assets"]["count"] == len(mine)
    assert body["assets"]["by_type"] == dict(sorted(Counter(a[1] for a in mine).items()))
    outside: dict[str | None, set[str]] = {}
    kinds: dict[str | None, set[str]] = {}
    for dependent, provider, kind, _group, _buffer in city.rows["dependencies"]:
        if agency_of[provider] == busiest and agency_of[dependent] != busiest:
            outside.setdefault(agency_of[dependent], set()).add(dependent)
            kinds.setdefault(agency_of[dependent], set()).add(kind)
    got = body["dependents_outside"]
    assert got["assets"] == len(set().union(*outside.values())) if outside else got["assets"] == 0
    assert {x["agency"]: (x["assets"], x["kinds"]) for x in got["by_agency"]} == {
        a: (len(ids), sorted(kinds[a])) for a, ids in outside.items()}


def test_unknown_agency_is_404(client: TestClient, city: City) -> None:
    for aid in ("no-such-agency", city.ids("regions")[0]):
        r = client.get(f"/v1/agencies/{aid}", headers=auth("read"))
        assert r.status_code == 404 and r.json()["field"] == "agency_id"


def test_needs_a_key(client: TestClient, city: City) -> None:
    assert client.get(f"/v1/agencies/{city.ids('agencies')[0]}").status_code == 401
