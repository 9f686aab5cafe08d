"""docs/rdf.md runs as written on the demo city, and its SPARQL cookbook answers as the Cypher one does.

The demo city is the one ``scripts/demo`` builds (``kg demo`` with its defaults),
so every id the docs use must exist in it.
"""

from __future__ import annotations

import json
import re
import shlex
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pyoxigraph as ox
import pytest

from kg.analysis.traces import dependencies, dependents
from kg.sparql.engine import SparqlRequest, SparqlService
from kg.store import Store, open_store
from kg.store.neo4j import Neo4jStore
from tests.conftest_stores import load
from tests.helpers import run_kg

DOCS = Path(__file__).resolve().parents[1] / "docs"
DEMO_IDS = {"substation": "s-00163", "hospital": "h-06386", "district": "yuzhong", "agency": "cq-health",
            "zone": "flood-banan-100y"}
"""The demo city's ids the SPARQL cookbook uses, by the Cypher cookbook's parameter names."""


def _recipes(doc: str, section: str, language: str) -> dict[str, list[str]]:
    """``{heading: [code blocks]}`` of one section of a doc."""
    text = (DOCS / doc).read_text(encoding="utf-8").split(f"## {section}\n", 1)[1]
    text = re.split(r"\n## ", text, maxsplit=1)[0]
    found: dict[str, list[str]] = {}
    for part in re.split(r"\n### ", text)[1:]:
        heading = part.split("\n", 1)[0]
        found[heading] = re.findall(rf"```{language}\n(.*?)```", part, flags=re.S)
    return found


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Path, str]]:
    folder = tmp_path_factory.mktemp("demo")
    result = run_kg("demo", "--out", str(folder / "citykg-demo"), "--format", "json")
    assert result.exit_code == 0, result.output
    yield folder, f"sqlite:///{folder / 'citykg-demo' / 'citykg.db'}"


@pytest.fixture(scope="module")
def service() -> Iterator[SparqlService]:
    s = SparqlService(workers=1)
    yield s
    s.close()


def _rows(service: SparqlService, store: Store, query: str) -> list[dict[str, str]]:
    answer = service.query(store, SparqlRequest(query), timeout_s=300, max_rows=100_000)
    return [{k: v["value"] for k, v in row.items()} for row in json.loads(answer.body)["results"]["bindings"]]


def test_rdf_md_commands_run_as_written(demo: tuple[Path, str], monkeypatch: pytest.MonkeyPatch) -> None:
    folder, url = demo
    monkeypatch.chdir(folder)
    monkeypatch.setenv("KG_STORE", url)
    block = re.search(r"```\n(kg export.*?)```", (DOCS / "rdf.md").read_text(encoding="utf-8"), flags=re.S)
    assert block is not None
    commands = [shlex.split(line, comments=True) for line in block.group(1).splitlines() if line.strip()]
    assert len(commands) >= 8
    for command in commands:
        assert command[0] == "kg"
        result = run_kg(*command[1:])
        assert result.exit_code == 0, f"{shlex.join(command)}:\n{result.output}"
    for name, fmt in (("s163.nt", ox.RdfFormat.N_TRIPLES), ("power.rdf", ox.RdfFormat.RDF_XML),
                      ("yz.jsonld", ox.RdfFormat.JSON_LD), ("city.ttl", ox.RdfFormat.TURTLE)):
        assert sum(1 for _ in ox.parse(path=folder / name, format=fmt)) > 100, name


def test_sparql_cookbook_runs_on_the_demo_and_equals_the_store(demo: tuple[Path, str],
                                                               service: SparqlService) -> None:
    store = open_store(demo[1])
    try:
        recipes = _recipes("rdf.md", "SPARQL cookbook", "sparql")
        assert sum(map(len, recipes.values())) >= 7
        answers = {heading: [_rows(service, store, q) for q in queries] for heading, queries in recipes.items()}
        for heading, rows in answers.items():
            assert all(rows), f"a recipe under {heading!r} gives no rows on the demo city"
        snap = store.snapshot()
        ids = snap.asset_ids
        depending, upstream = answers["What depends on this substation?"][0], answers[
            "What does this hospital depend on?"][1]
        assert [r["id"] for r in depending] == sorted(ids[i] for i, _ in dependents(snap, DEMO_IDS["substation"]))
        assert [r["id"] for r in upstream] == sorted(ids[i] for i, _ in dependencies(snap, DEMO_IDS["hospital"]))
        direct = {(r["kind"], r["group"]): set(r["providers"].split()) for r in
                  answers["What does this hospital depend on?"][0]}
        expected: dict[tuple[str, str], set[str]] = {}
        for dependent, provider, kind, group, _ in store.rows("dependencies"):
            if dependent == DEMO_IDS["hospital"]:
                expected.setdefault((kind, group), set()).add(provider)
        assert direct == expected
        per_district = {r["district"]: int(r["assets"]) for r in answers["Assets and people per district"][0]}
        assert sum(per_district.values()) == snap.n and len(per_district) == 9
    finally:
        store.close()


def test_kg_sparql_runs_the_documented_command(demo: tuple[Path, str]) -> None:
    text = (DOCS / "rdf.md").read_text(encoding="utf-8")
    command = shlex.split(re.search(r"^kg sparql '.*'$", text, flags=re.M).group(0))  # type: ignore[union-attr]
    result = run_kg(*command[1:], "--store", demo[1])
    assert result.exit_code == 0 and "5 rows" in result.stdout, result.output


@pytest.mark.neo4j
def test_sparql_and_cypher_cookbooks_agree(neo4j_store: Neo4jStore, city_bundle: Path,
                                           service: SparqlService) -> None:
    """The same questions, in both languages, on the same Neo4j store (SPARQL reads its export)."""
    load(neo4j_store, city_bundle)
    snap = neo4j_store.snapshot()
    substation = max((i for i in range(snap.n) if snap.type_of(i) == "Substation"),
                     key=lambda i: (len(snap.dependents_of(i)), snap.asset_ids[i]))
    hospital = next(i for i in range(snap.n) if snap.type_of(i) == "Hospital")
    params = {"substation": snap.asset_ids[substation], "hospital": snap.asset_ids[hospital]}
    cypher = _recipes("neo4j.md", "Cypher cookbook for planners", "cypher")
    sparql = _recipes("rdf.md", "SPARQL cookbook", "sparql")

    def ask_sparql(heading: str, number: int) -> list[dict[str, str]]:
        query = sparql[heading][number]
        for name, value in params.items():
            query = query.replace(f"id:{DEMO_IDS[name]}", f"id:{value}")
        return _rows(service, neo4j_store, query)

    def ask_cypher(heading: str, number: int) -> list[dict[str, Any]]:
        return neo4j_store.run_cypher(cypher[heading][number], params, timeout_s=60, row_limit=100_000).rows

    heading = "What depends on this substation?"
    assert [r["id"] for r in ask_sparql(heading, 0)] == sorted(r["id"] for r in ask_cypher(heading, 0))
    by_district = {(r["district"], r.get("agency")): (int(r["assets"]), int(r["people"]))
                   for r in ask_sparql(heading, 1)}
    assert by_district == {(r["district"], r["agency"]): (r["assets"], r["population"]) for r in ask_cypher(heading, 1)}
    heading = "What does this hospital depend on?"
    assert {(r["kind"], r["group"], float(r["buffer_hours"]), frozenset(r["providers"].split()))
            for r in ask_sparql(heading, 0)} == {(r["kind"], r["group"], float(r["buffer_hours"]),
                                                 frozenset(r["providers"])) for r in ask_cypher(heading, 0)}
    assert [r["id"] for r in ask_sparql(heading, 1)] == sorted(r["id"] for r in ask_cypher(heading, 1))
    heading = "Assets and people per district"
    assert {r["district"]: (int(r["assets"]), int(r["people"])) for r in ask_sparql(heading, 0)} == {
        r["district"]: (r["assets"], r["people"]) for r in ask_cypher(heading, 0)}
