"""The W3C RDF 1.1 Turtle and N-Triples test suites through :func:`kg.rdf.parse.parse_file`.

The suites live outside the repository, in ``../shared/data/w3c-rdf-tests``
(each folder's ``manifest.ttl`` lists its tests); they are read in place,
never copied. Every positive test must parse (an evaluation test to exactly
its expected triples), every negative test must be refused with a
``FILE:LINE:COLUMN`` location, and each within a second: the cases run in a
worker process that is killed if one hangs (:mod:`tests.guard`).
"""

from __future__ import annotations

import os
import re
from pathlib import Path
from typing import Any

import pytest
from rdflib import Graph, Literal, Namespace, URIRef
from rdflib.compare import isomorphic

from kg.errors import ValidationError
from kg.rdf.index import to_rdflib
from kg.rdf.parse import parse_file
from tests.guard import Guard

SUITES = Path(__file__).resolve().parents[1].parent / "shared" / "data" / "w3c-rdf-tests"
BASES = {
    "rdf-turtle": "https://w3c.github.io/rdf-tests/rdf/rdf11/rdf-turtle/",
    "rdf-n-triples": "https://w3c.github.io/rdf-tests/rdf/rdf11/rdf-n-triples/",
}
MF = Namespace("http://www.w3.org/2001/sw/DataAccess/tests/test-manifest#")
RDFT = "http://www.w3.org/ns/rdftest#"
RDF_TYPE = URIRef("http://www.w3.org/1999/02/22-rdf-syntax-ns#type")
SECONDS = 1.0


def _cases() -> list[Any]:
    """(folder, kind, file name, expected result file or None) for every test of both manifests."""
    if not SUITES.is_dir():
        if os.environ.get("CI"):
            raise RuntimeError(f"the W3C test suites are missing: expected {SUITES}")
        return [pytest.param(None, None, None, None, marks=pytest.mark.skip(reason=f"no {SUITES}"))]
    cases = []
    for folder, base in BASES.items():
        manifest = Graph().parse(SUITES / folder / "manifest.ttl", publicID=base + "manifest.ttl")
        for test, kind in sorted(manifest.subject_objects(RDF_TYPE)):
            kind = str(kind).removeprefix(RDFT)
            if not kind.startswith(("TestTurtle", "TestNTriples")):
                continue
            action = str(manifest.value(test, MF.action)).removeprefix(base)
            result = manifest.value(test, MF.result)
            cases.append(pytest.param(folder, kind, action, str(result).removeprefix(base) if result else None,
                                      id=f"{folder}/{action}"))
    return cases


def parse_case(folder: str, name: str) -> tuple[str, Any]:
    """In the worker: ``("triples", [...])`` or ``("refused", [(where, message), ...])``."""
    path = SUITES / folder / name
    try:
        index = parse_file(path, base=BASES[folder] + name)
    except ValidationError as exc:
        return "refused", [(p.where, p.message) for p in exc.problems]
    return "triples", [(s, p, o) for s in index.nodes for s_, p, o in index.triples(s)]


def _graph(triples: list[Any]) -> Graph:
    graph = Graph()
    for s, p, o in triples:
        graph.add((to_rdflib(s), to_rdflib(p), to_rdflib(o)))
    return graph


def _expected(path: Path) -> Graph:
    """The expected N-Triples, language tags lower-cased (they are case-insensitive; pyoxigraph lowers them)."""
    graph = Graph()
    for s, p, o in Graph().parse(path, format="nt"):
        if isinstance(o, Literal) and o.language:
            o = Literal(str(o), lang=o.language.lower())
        graph.add((s, p, o))
    return graph


@pytest.mark.parametrize(("folder", "kind", "name", "result"), _cases())
def test_w3c_case(guard: Guard, folder: str, kind: str, name: str, result: str | None) -> None:
    outcome, detail = guard.call(SECONDS, parse_case, folder, name)
    path = SUITES / folder / name
    if "Negative" in kind:
        assert outcome == "refused", f"{name} is invalid {kind.removeprefix('Test').split('Negative')[0]}, " \
                                     f"but was read as {len(detail)} triples"
        (where, message), = detail
        assert re.fullmatch(rf"{re.escape(str(path))}:\d+(:\d+)?", where), f"{name}: located at {where!r}"
        assert "syntax error" in message or "UTF-8" in message, message
        return
    assert outcome == "triples", f"{name} is valid, but was refused: {detail}"
    if result is not None:
        ours, expected = _graph(detail), _expected(SUITES / folder / result)
        assert isomorphic(ours, expected), f"{name}: {len(ours)} triples, expected {len(expected)} ({result})"
