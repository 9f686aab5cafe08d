"""``/v1/sparql`` from SPARQL clients (SPARQLWrapper, rdflib's SPARQLStore) against a real uvicorn process.

The server runs as a subprocess (``uvicorn api.main:app``, configured through
the environment as in production), so what is checked is what clients meet:
HTTP, content negotiation, the problem bodies, and that a runaway query is
really stopped: the answer is 504 and no process of the server keeps using CPU.
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from rdflib import Graph, URIRef
from rdflib.plugins.stores.sparqlstore import SPARQLStore
from SPARQLWrapper import JSON, N3, RDFXML, TURTLE, SPARQLWrapper
from SPARQLWrapper.SPARQLExceptions import QueryBadFormed

from kg.ingest import load_paths
from kg.store import open_store
from kg.synth import city_rows, write_bundle

KEY = "sparql-clients-read-key-0123456789"
RUNAWAY = "SELECT (COUNT(*) AS ?n) WHERE { ?a ?b ?c . ?d ?e ?f . ?g ?h ?i }"


@dataclass(frozen=True)
class Server:
    url: str
    process: subprocess.Popen[bytes]

    @property
    def endpoint(self) -> str:
        return self.url + "/v1/sparql"


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    folder = tmp_path_factory.mktemp("sparql-server")
    write_bundle(city_rows(200, seed=4), folder / "bundle")
    store_url = f"sqlite:///{folder / 'city.db'}"
    store = open_store(store_url, create=True)
    load_paths(store, [folder / "bundle"])
    store.close()
    port = _free_port()
    env = {**os.environ, "KG_STORE": store_url, "KG_API_KEYS": f"{KEY}:read", "KG_SPARQL_TIMEOUT_S": "2",
           "KG_REQUEST_TIMEOUT_S": "20", "KG_SPARQL_DIR": str(folder / "datasets")}
    env.pop("KG_INSECURE_DEV", None)
    process = subprocess.Popen([sys.executable, "-m", "uvicorn", "api.main:app", "--host", "127.0.0.1", "--port",
                                str(port), "--no-access-log"], env=env, cwd=Path(__file__).resolve().parents[2],
                               stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 60
    while True:
        try:
            urllib.request.urlopen(url + "/healthz", timeout=2)
            break
        except OSError:
            if process.poll() is not None or time.monotonic() > deadline:
                process.kill()
                pytest.fail(f"the server did not start (exit code {process.poll()})")
            time.sleep(0.2)
    try:
        yield Server(url, process)
    finally:
        process.terminate()
        process.wait(timeout=30)


def _wrapper(server: Server, query: str, fmt: str) -> SPARQLWrapper:
    client = SPARQLWrapper(server.endpoint)
    client.addCustomHttpHeader("Authorization", f"Bearer {KEY}")
    client.setQuery(query)
    client.setReturnFormat(fmt)
    return client


def test_sparqlwrapper_select_ask_and_construct(server: Server) -> None:
    rows = _wrapper(server, "SELECT ?d WHERE { ?d ckg:level ckg:level_district } ORDER BY ?d", JSON).queryAndConvert()
    districts = [b["d"]["value"] for b in rows["results"]["bindings"]]  # type: ignore[index]
    assert "https://data.citykg.example/id/yuzhong" in districts and districts == sorted(districts)
    assert _wrapper(server, "ASK { id:yuzhong a ckg:Region }", JSON).queryAndConvert()["boolean"] is True  # type: ignore[index]
    construct = "CONSTRUCT { id:yuzhong ?p ?o } WHERE { id:yuzhong ?p ?o }"
    for fmt in (TURTLE, RDFXML, N3):  # RDF/XML makes SPARQLWrapper repeat its format parameter
        graph = _wrapper(server, construct, fmt).queryAndConvert()
        if isinstance(graph, bytes):
            graph = Graph().parse(data=graph, format="turtle")
        assert (URIRef("https://data.citykg.example/id/yuzhong"), URIRef("https://w3id.org/citykg#id"),
                None) in graph, fmt
    post = _wrapper(server, "SELECT ?d WHERE { ?d ckg:level ckg:level_district }", JSON)
    post.setMethod("POST")
    assert len(post.queryAndConvert()["results"]["bindings"]) == len(districts)  # type: ignore[index]


def test_sparqlwrapper_sees_errors(server: Server) -> None:
    with pytest.raises(QueryBadFormed):
        _wrapper(server, "SELECT * WHERE { ?a ?b }", JSON).queryAndConvert()
    update = _wrapper(server, "INSERT DATA { <urn:a> <urn:b> <urn:c> }", JSON)
    update.setMethod("POST")  # SPARQLWrapper sends it as update=..., and passes a 422 on as the HTTP error
    with pytest.raises(urllib.error.HTTPError) as exc:
        update.query()
    assert exc.value.code == 422 and b"read-only" in exc.value.read()


def test_rdflib_sparqlstore_reads_the_graph(server: Server) -> None:
    store = SPARQLStore(server.endpoint, headers={"Authorization": f"Bearer {KEY}"})
    graph = Graph(store=store)
    yuzhong = URIRef("https://data.citykg.example/id/yuzhong")
    labels = {(str(o), o.language) for o in graph.objects(yuzhong, URIRef("http://www.w3.org/2000/01/rdf-schema#label"))}
    assert labels == {("Yuzhong", "en"), ("渝中区", "zh")}
    result = graph.query("PREFIX ckg: <https://w3id.org/citykg#> "
                         "SELECT (COUNT(?h) AS ?n) WHERE { ?h a ckg:Hospital }")
    assert int(next(iter(result))[0]) > 0  # type: ignore[index, arg-type]


def _children(pid: int) -> set[int]:
    found: set[int] = set()
    for task in Path(f"/proc/{pid}/task").iterdir():
        text = (task / "children").read_text()
        found.update(int(p) for p in text.split())
    return found


def _cpu_ticks(pids: set[int]) -> int:
    total = 0
    for pid in pids:
        try:
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        except FileNotFoundError:
            continue
        total += int(fields[11]) + int(fields[12])  # utime + stime
    return total


def test_a_runaway_query_answers_504_and_stops_burning_cpu(server: Server) -> None:
    request = urllib.request.Request(server.endpoint + "?query=" + urllib.request.quote("ASK {}"),
                                     headers={"Authorization": f"Bearer {KEY}"})
    urllib.request.urlopen(request, timeout=60).read()  # the dataset is built, a worker started
    before = _children(server.process.pid)
    started = time.monotonic()
    request = urllib.request.Request(server.endpoint + "?query=" + urllib.request.quote(RUNAWAY),
                                     headers={"Authorization": f"Bearer {KEY}"})
    with pytest.raises(urllib.error.HTTPError) as exc:
        urllib.request.urlopen(request, timeout=60)
    assert exc.value.code == 504 and b"longer than 2 s and was stopped" in exc.value.read()
    assert time.monotonic() - started < 15
    after = _children(server.process.pid)
    assert before - after, "the worker that ran the query was killed"
    assert not any(Path(f"/proc/{pid}").exists() for pid in before - after), "and reaped"
    everyone = {server.process.pid, *after}
    first = _cpu_ticks(everyone)
    time.sleep(1.0)
    burnt = _cpu_ticks(everyone) - first
    ticks = os.sysconf("SC_CLK_TCK")
    assert burnt < 0.3 * ticks, f"the server used {burnt / ticks:.2f} CPU s in the second after the 504"
