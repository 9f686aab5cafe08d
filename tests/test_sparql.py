"""SPARQL over the graph (kg.sparql): answers equal the store's, limits hold, updates are refused, the CLI."""

from __future__ import annotations

import io
import json
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from kg.analysis.traces import dependencies, dependents
from kg.ingest import load_paths
from kg.sparql import QuerySyntaxError, QueryTimeout, ResultTooLarge, UpdateRefused, negotiate
from kg.sparql.dataset import DatasetCache
from kg.sparql.engine import SparqlRequest, SparqlService
from kg.sparql.formats import GRAPH_FORMATS, RESULT_FORMATS, is_update
from kg.store import Store
from kg.store.sqlite import SQLiteStore
from kg.synth import city_rows, write_bundle, write_jsonl
from tests.helpers import run_kg

RUNAWAY = "SELECT (COUNT(*) AS ?n) WHERE { ?a ?b ?c . ?d ?e ?f . ?g ?h ?i }"
"""A cross product of the graph with itself, three times: never finishes."""


@pytest.fixture(scope="module")
def service() -> Iterator[SparqlService]:
    s = SparqlService(workers=2)
    yield s
    s.close()


def _city(folder: Path, assets: int, seed: int) -> SQLiteStore:
    write_bundle(city_rows(assets, seed=seed), folder / "bundle")
    store = SQLiteStore(str(folder / "city.db"), create=True)
    load_paths(store, [folder / "bundle"])
    return store


@pytest.fixture(scope="module")
def city(tmp_path_factory: pytest.TempPathFactory) -> SQLiteStore:
    return _city(tmp_path_factory.mktemp("sparql-city"), 200, 5)


def _select(service: SparqlService, store: Store, query: str, **kwargs: Any) -> list[dict[str, str]]:
    answer = service.query(store, SparqlRequest(query), timeout_s=60, **kwargs)
    data = json.loads(answer.body)
    return [{k: v["value"] for k, v in row.items()} for row in data["results"]["bindings"]]


def _district_counts(store: Store) -> dict[str, int]:
    """The reference: each asset's region, climbed to its district, counted (from the rows, not RDF)."""
    regions = {r[0]: (r[1], r[3]) for r in store.rows("regions")}

    def district(region: str | None) -> str | None:
        while region is not None and regions[region][0] != "district":
            region = regions[region][1]
        return region

    counts: dict[str, int] = {}
    for asset in store.rows("assets"):
        d = district(asset[3])
        if d is not None:
            counts[d] = counts.get(d, 0) + 1
    return counts


DEPENDENTS = 'SELECT DISTINCT ?id WHERE { ?x ckg:id "%s" . ?d ckg:dependsOn+ ?x ; ckg:id ?id }'
DEPENDENCIES = 'SELECT DISTINCT ?id WHERE { ?x ckg:id "%s" ; ckg:dependsOn+ ?p . ?p ckg:id ?id }'
PER_DISTRICT = """SELECT ?district (COUNT(?a) AS ?assets) WHERE {
  ?a a/rdfs:subClassOf* ckg:Asset ; ckg:locatedIn/ckg:partOf* ?d .
  ?d ckg:level ckg:level_district ; ckg:id ?district .
} GROUP BY ?district"""


@pytest.mark.parametrize(("assets", "seed"), [(150, 1), (220, 7), (300, 23)])
def test_answers_equal_the_stores_on_generated_cities(service: SparqlService, tmp_path: Path, assets: int,
                                                      seed: int) -> None:
    store = _city(tmp_path, assets, seed)
    snap = store.snapshot()
    # The providers with the most dependents, a hospital and a leaf: long, short and empty answers.
    ids = list(snap.asset_ids)
    probes = {r[0] for r in store.rows("assets") if r[1] in ("Substation", "PowerPlant", "Hospital")}
    probes = [*sorted(probes)[:6], ids[0], ids[-1]]
    for asset in probes:
        expected = {ids[i] for i, _ in dependents(snap, asset)}
        assert {r["id"] for r in _select(service, store, DEPENDENTS % asset)} == expected, f"dependents of {asset}"
        expected = {ids[i] for i, _ in dependencies(snap, asset)}
        assert {r["id"] for r in _select(service, store, DEPENDENCIES % asset)} == expected, f"dependencies of {asset}"
    got = {r["district"]: int(r["assets"]) for r in _select(service, store, PER_DISTRICT)}
    assert got == _district_counts(store) and sum(got.values()) == len(ids)


def test_the_dataset_follows_the_stores_version(service: SparqlService, tmp_path: Path) -> None:
    store = _city(tmp_path, 120, 3)
    count = 'SELECT (COUNT(*) AS ?n) WHERE { ?a ckg:id ?id . FILTER(?id = "late-1") }'
    assert _select(service, store, count) == [{"n": "0"}]
    rows: dict[str, list[tuple[Any, ...]]] = {t: [] for t in ("regions", "agencies", "assets", "hazard_zones",
                                                              "dependencies", "exposures", "fragilities")}
    region = next(r[0] for r in store.rows("regions") if r[1] == "community")
    rows["assets"].append(("late-1", "Hospital", "Late Hospital", region, None, None, None, 0, None, None))
    load_paths(store, [write_jsonl(rows, tmp_path / "late.jsonl")])
    first = service.datasets.current
    assert first is not None and first.version < store.version()
    assert _select(service, store, count) == [{"n": "1"}], "a load must be seen by the next query"
    assert service.datasets.current is not None and service.datasets.current.version == store.version()
    assert not first.path.exists(), "the older dataset is deleted once no query uses it"


def test_update_is_refused_in_every_form(service: SparqlService, city: SQLiteStore) -> None:
    for update in ("INSERT DATA { <urn:a> <urn:b> <urn:c> }", "LOAD <file:///etc/passwd>", "clear all",
                   "PREFIX x: <urn:x#> # a comment\nDELETE WHERE { ?s ?p ?o }", "DROP GRAPH <urn:g>"):
        with pytest.raises(UpdateRefused, match="read-only"):
            service.query(city, SparqlRequest(update), timeout_s=30)
    assert _select(service, city, "SELECT (COUNT(*) AS ?n) WHERE { ?s a ckg:Hospital }")[0]["n"] != "0"


def test_syntax_errors_say_where(service: SparqlService, city: SQLiteStore) -> None:
    with pytest.raises(QuerySyntaxError, match=r"error at 1:25: expected") as exc:
        service.query(city, SparqlRequest("SELECT * WHERE { ?a ?b }"), timeout_s=30)
    assert "'\\u{" not in str(exc.value), "character classes are shortened"
    with pytest.raises(QuerySyntaxError, match="undeclared prefix"):
        service.query(city, SparqlRequest("SELECT * WHERE { ?a nowhere:b ?c }"), timeout_s=30)


def _alive(pid: int) -> bool:
    return Path(f"/proc/{pid}").exists()


def test_a_runaway_query_is_stopped_at_the_deadline(service: SparqlService, city: SQLiteStore) -> None:
    service.query(city, SparqlRequest("ASK {}"), timeout_s=30)  # the dataset is built, a worker started
    before = set(service.pool.pids())
    started = time.monotonic()
    with pytest.raises(QueryTimeout, match=r"longer than 1\.5 s"):
        service.query(city, SparqlRequest(RUNAWAY), timeout_s=1.5)
    assert time.monotonic() - started < 10
    killed = before - set(service.pool.pids())
    assert killed, "the worker that ran the query is gone from the pool"
    assert not any(_alive(pid) for pid in killed), "and its process is dead and reaped"
    assert _select(service, city, "SELECT (COUNT(*) AS ?n) WHERE { ?s a ckg:Region }")[0]["n"] != "0"


def test_the_result_size_limit(service: SparqlService, city: SQLiteStore) -> None:
    regions = len(list(city.rows("regions")))
    query = "SELECT ?r WHERE { ?r a ckg:Region }"
    assert len(_select(service, city, query, max_rows=regions)) == regions
    with pytest.raises(ResultTooLarge, match=f"more than {regions - 1:,} rows"):
        service.query(city, SparqlRequest(query), timeout_s=30, max_rows=regions - 1)
    with pytest.raises(ResultTooLarge, match="more than 5 triples"):
        service.query(city, SparqlRequest("CONSTRUCT WHERE { ?s ?p ?o }"), timeout_s=30, max_rows=5)


_WHERE = "{ ?r a ckg:Region ; rdfs:label ?name ; ckg:level ckg:level_district }"


def _parsed(body: bytes, media: str) -> set[tuple[str, ...]]:
    """An answer read back with pyoxigraph: solutions as tuples of terms, or triples."""
    import pyoxigraph as ox

    results = ox.QueryResultsFormat.from_media_type(media)
    if results is not None:
        return {tuple(str(term) for term in row) for row in ox.parse_query_results(body, results)}  # type: ignore[union-attr]
    return {(str(t),) for t in ox.parse(body, ox.RdfFormat.from_media_type(media))}


@pytest.mark.parametrize(("accept", "media"), [
    ("application/sparql-results+xml", "application/sparql-results+xml"),
    ("text/tab-separated-values", "text/tab-separated-values; charset=utf-8"),
    ("application/n-triples", "application/n-triples"),
    ("application/rdf+xml", "application/rdf+xml"),
    ("application/ld+json", "application/ld+json"),
    ("text/turtle", "text/turtle"),
])
def test_every_format_carries_the_same_answer(service: SparqlService, city: SQLiteStore, accept: str,
                                              media: str) -> None:
    """Each format, read back, equals the default one (SPARQL JSON for SELECT, Turtle for CONSTRUCT)."""
    query = f"SELECT ?r ?name WHERE {_WHERE}" if "sparql" in media or "tab" in media else \
        f"CONSTRUCT {_WHERE} WHERE {_WHERE}"
    reference = service.query(city, SparqlRequest(query), timeout_s=30)
    answer = service.query(city, SparqlRequest(query, accept=accept), timeout_s=30)
    assert answer.media_type == media and answer.rows == reference.rows > 0
    assert _parsed(answer.body, media) == _parsed(reference.body, reference.media_type)
    if answer.kind == "solutions":
        names = {row[1] for row in _parsed(answer.body, media)}
        assert '"巴南区"@zh' in names and "\"Ba'nan\"@en" in names, "names are language-tagged"


def test_csv_answers_have_one_line_per_row(service: SparqlService, city: SQLiteStore) -> None:
    answer = service.query(city, SparqlRequest(f"SELECT ?r ?name WHERE {_WHERE}", accept="text/csv"), timeout_s=30)
    assert answer.media_type == "text/csv; charset=utf-8"
    assert answer.body.startswith(b"r,name\r\n") and answer.body.count(b"\r\n") == answer.rows + 1


def test_negotiation_and_update_shape() -> None:
    assert negotiate("text/turtle;q=0.5, application/rdf+xml", GRAPH_FORMATS) == "rdfxml"
    assert negotiate("application/*", RESULT_FORMATS) == "json"
    assert negotiate("application/json;q=0, */*", RESULT_FORMATS) == "xml"
    assert negotiate("image/png", RESULT_FORMATS) is None
    assert not is_update("SELECT * { ?s <urn:insert> ?o }") and is_update("  with <urn:g> DELETE { ?s ?p ?o } "
                                                                          "WHERE { ?s ?p ?o }")


class _Notes:
    """A named graph beside the export, with its own version: the shape of the live status hook."""

    graph = "urn:citykg:test:notes"

    def __init__(self) -> None:
        self.notes = ["first"]

    def version(self, store: Store) -> int:
        return len(self.notes)

    def write(self, store: Store, out: io.TextIOBase | Any) -> int:
        for i, note in enumerate(self.notes):
            out.write(f'<urn:note:{i}> <urn:says> "{note}" <{self.graph}> .\n')
        return len(self.notes)


def test_named_graph_sources_are_added_and_followed(city: SQLiteStore, tmp_path: Path) -> None:
    notes = _Notes()
    service = SparqlService(workers=1, root=tmp_path / "datasets", sources=[notes])
    try:
        query = f"SELECT ?says WHERE {{ GRAPH <{notes.graph}> {{ ?n <urn:says> ?says }} }} ORDER BY ?says"
        assert [r["says"] for r in _select(service, city, query)] == ["first"]
        notes.notes.append("second")
        assert [r["says"] for r in _select(service, city, query)] == ["first", "second"]
        graphs = _select(service, city, "SELECT DISTINCT ?g WHERE { GRAPH ?g { ?s ?p ?o } }")
        assert {r["g"] for r in graphs} == {notes.graph, "https://data.citykg.example/id/graph/ontology"}
        only = service.query(city, SparqlRequest("SELECT (COUNT(*) AS ?n) WHERE { ?s ?p ?o }",
                                                 default_graphs=(notes.graph,)), timeout_s=30)
        assert json.loads(only.body)["results"]["bindings"][0]["n"]["value"] == "2"
    finally:
        service.close()
    assert not list((tmp_path / "datasets").iterdir()), "closing deletes the datasets"


def test_a_build_that_cannot_read_the_store_fails_every_waiter(tmp_path: Path) -> None:
    store = SQLiteStore(str(tmp_path / "x.db"), create=True)
    store.close()
    cache = DatasetCache(tmp_path / "d")
    with pytest.raises(Exception, match="closed"):
        cache.acquire(store, min_version=0, timeout_s=30)
    assert cache.current is None and not list((tmp_path / "d").iterdir())
    cache.close()


# ---------------------------------------------------------------------- kg sparql


def test_cli_prints_a_table_or_sparql_json(city: SQLiteStore) -> None:
    url = f"sqlite:///{city.path}"
    result = run_kg("sparql", PER_DISTRICT + " ORDER BY DESC(?assets) LIMIT 3", "--store", url)
    assert result.exit_code == 0, result.output
    assert "district" in result.stdout and "3 rows" in result.stdout
    result = run_kg("sparql", "SELECT ?r WHERE { ?r a ckg:Region ; ckg:level ckg:level_city }", "--store", url,
                    "--format", "json")
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout)["results"]["bindings"] == [
        {"r": {"type": "uri", "value": "https://data.citykg.example/id/chongqing"}}]
    result = run_kg("sparql", "ASK { id:chongqing a ckg:Region }", "--store", url)
    assert result.stdout.strip() == "true"
    result = run_kg("sparql", "CONSTRUCT WHERE { id:chongqing ckg:level ?l }", "--store", url)
    assert "id:chongqing ckg:level ckg:level_city" in result.stdout


def test_cli_errors_are_one_line(city: SQLiteStore, tmp_path: Path) -> None:
    url = f"sqlite:///{city.path}"
    result = run_kg("sparql", "DELETE WHERE { ?s ?p ?o }", "--store", url)
    assert result.exit_code == 1 and "SPARQL Update is not accepted" in result.stderr
    result = run_kg("sparql", RUNAWAY, "--store", url, "--timeout", "1")
    assert result.exit_code == 1 and "longer than 1 s" in result.stderr
    query = tmp_path / "q.rq"
    query.write_text("SELECT ?r WHERE { ?r a ckg:Region }", encoding="utf-8")
    result = run_kg("sparql", "--file", str(query), "--store", url, "--max-rows", "2")
    assert result.exit_code == 1 and "more than 2 rows" in result.stderr
