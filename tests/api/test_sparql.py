"""``GET/POST /v1/sparql``: the SPARQL 1.1 Protocol over the test city, on both stores."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import pytest
from fastapi.testclient import TestClient

from api.main import create_app
from kg.store import Store
from tests.api.conftest import City, auth, settings_for

COUNT_HOSPITALS = "SELECT (COUNT(?h) AS ?n) WHERE { ?h a ckg:Hospital }"
ONTOLOGY = "https://data.citykg.example/id/graph/ontology"


def _value(response: Any) -> str:
    assert response.status_code == 200, response.text
    return str(response.json()["results"]["bindings"][0]["n"]["value"])


def test_get_post_and_form_give_the_same_answer(client: TestClient, city: City) -> None:
    hospitals = sum(1 for r in city.rows["assets"] if r[1] == "Hospital")
    r = client.get("/v1/sparql", params={"query": COUNT_HOSPITALS}, headers=auth("read"))
    assert _value(r) == str(hospitals)
    assert r.headers["content-type"] == "application/sparql-results+json" and r.headers["vary"] == "Accept"
    r = client.post("/v1/sparql", content=COUNT_HOSPITALS.encode(),
                    headers={**auth("read"), "Content-Type": "application/sparql-query"})
    assert _value(r) == str(hospitals)
    r = client.post("/v1/sparql", data={"query": COUNT_HOSPITALS}, headers=auth("read"))
    assert _value(r) == str(hospitals)


def test_answers_follow_the_accept_header(client: TestClient, city: City) -> None:
    substation = city.first("Substation")
    ask = f'ASK {{ ?s ckg:id "{substation}" ; a ckg:Substation }}'
    r = client.get("/v1/sparql", params={"query": ask},
                   headers={**auth("read"), "Accept": "application/sparql-results+xml"})
    assert r.status_code == 200 and "<boolean>true</boolean>" in r.text
    describe = f'DESCRIBE ?s WHERE {{ ?s ckg:id "{substation}" }}'
    r = client.get("/v1/sparql", params={"query": describe},
                   headers={**auth("read"), "Accept": "application/n-triples"})
    assert r.status_code == 200 and r.headers["content-type"] == "application/n-triples"
    assert f'<https://w3id.org/citykg#id> "{substation}" .' in r.text
    r = client.get("/v1/sparql", params={"query": describe}, headers={**auth("read"), "Accept": "image/png"})
    assert r.status_code == 406 and r.json()["field"] == "Accept"


def test_dataset_parameters_make_the_dataset(client: TestClient) -> None:
    in_ontology = client.get("/v1/sparql", params={"query": f"SELECT (COUNT(*) AS ?n) WHERE {{ GRAPH <{ONTOLOGY}> "
                                                            "{ ?s ?p ?o } }"}, headers=auth("read"))
    as_default = client.get("/v1/sparql", params={"query": "SELECT (COUNT(*) AS ?n) WHERE { ?s ?p ?o }",
                                                  "default-graph-uri": ONTOLOGY}, headers=auth("read"))
    assert _value(as_default) == _value(in_ontology) and int(_value(in_ontology)) > 500
    # The protocol's parameters replace the query's FROM, and may repeat.
    r = client.post("/v1/sparql", data={"query": "SELECT (COUNT(*) AS ?n) FROM <urn:nothing> WHERE { ?s ?p ?o }",
                                        "default-graph-uri": [ONTOLOGY, "urn:none"]}, headers=auth("read"))
    assert _value(r) == _value(in_ontology)
    whole = client.get("/v1/sparql", params={"query": "SELECT (COUNT(*) AS ?n) WHERE { ?s ?p ?o }"},
                       headers=auth("read"))
    assert int(_value(whole)) > int(_value(in_ontology)), "the default graph is the export plus the ontology"


@pytest.mark.parametrize("how", ["update field", "sparql-update body", "query field"])
def test_updates_are_refused(client: TestClient, how: str) -> None:
    update = "INSERT DATA { <urn:a> <urn:b> <urn:c> }"
    if how == "update field":
        r = client.post("/v1/sparql", data={"update": update}, headers=auth("admin"))
    elif how == "sparql-update body":
        r = client.post("/v1/sparql", content=update.encode(),
                        headers={**auth("admin"), "Content-Type": "application/sparql-update"})
    else:
        r = client.get("/v1/sparql", params={"query": update}, headers=auth("admin"))
    assert r.status_code == 422 and r.headers["content-type"] == "application/problem+json"
    body = r.json()
    assert body["type"].endswith("/sparql-update-refused") and "read-only" in body["detail"]
    r = client.get("/v1/sparql", params={"query": "ASK { <urn:a> <urn:b> <urn:c> }"}, headers=auth("read"))
    assert r.json()["boolean"] is False


def test_bad_requests_are_named(client: TestClient) -> None:
    r = client.get("/v1/sparql", params={"query": "SELECT * WHERE { ?a ?b }"}, headers=auth("read"))
    assert r.status_code == 400 and r.json()["field"] == "query" and "error at 1:25" in r.json()["detail"]
    r = client.get("/v1/sparql", params=[("query", "ASK {}"), ("query", "ASK {}")], headers=auth("read"))
    assert r.status_code == 400 and r.json()["detail"] == "give query exactly once"
    r = client.post("/v1/sparql", content=b"ASK {}", headers={**auth("read"), "Content-Type": "text/plain"})
    assert r.status_code == 415 and "application/sparql-query" in r.json()["detail"]
    r = client.post("/v1/sparql", data={"query": " "}, headers=auth("read"))
    assert r.status_code == 400 and r.json()["field"] == "query"
    assert client.get("/v1/sparql", params={"query": "ASK {}"}).status_code == 401


@pytest.fixture
def small_limits(store: Store) -> Iterator[TestClient]:
    app = create_app(settings_for(store.url, sparql_max_rows=5, sparql_timeout_s=1.0), store=store)
    with TestClient(app) as c:
        yield c


def test_row_limit_and_timeout(small_limits: TestClient) -> None:
    r = small_limits.get("/v1/sparql", params={"query": "SELECT ?r WHERE { ?r a ckg:Region }"}, headers=auth("read"))
    assert r.status_code == 422 and r.json()["type"].endswith("/sparql-result-too-large")
    assert "more than 5 rows" in r.json()["detail"] and "KG_SPARQL_MAX_ROWS" in r.json()["detail"]
    r = small_limits.get("/v1/sparql", params={"query": "SELECT ?r WHERE { ?r a ckg:Region } LIMIT 5"},
                         headers=auth("read"))
    assert r.status_code == 200 and len(r.json()["results"]["bindings"]) == 5
    runaway = "SELECT (COUNT(*) AS ?n) WHERE { ?a ?b ?c . ?d ?e ?f . ?g ?h ?i }"
    r = small_limits.get("/v1/sparql", params={"query": runaway}, headers=auth("read"))
    assert r.status_code == 504 and "longer than 1 s and was stopped" in r.json()["detail"]


def test_a_load_through_the_api_is_seen_at_once(client: TestClient, city: City) -> None:
    query = 'SELECT (COUNT(*) AS ?n) WHERE { ?a ckg:id "late-hospital" }'
    assert _value(client.get("/v1/sparql", params={"query": query}, headers=auth("read"))) == "0"
    region = next(r[0] for r in city.rows["regions"] if r[1] == "community")
    line = {"file": "assets", "id": "late-hospital", "type": "Hospital", "region": region, "population": 0}
    r = client.post("/v1/loads", content=json.dumps(line).encode(),
                    headers={**auth("write"), "content-type": "application/x-ndjson"})
    assert r.status_code == 200, r.text
    assert _value(client.get("/v1/sparql", params={"query": query}, headers=auth("read"))) == "1"
