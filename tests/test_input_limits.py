"""Hostile and malformed input at the CLI and the library: a located message, exit 1, no traceback, quickly.

The cases are in :mod:`tests.hostile` (the API tests use them too). ``kg load``
runs in a worker process that is killed if it hangs (:mod:`tests.guard`), since
some of these inputs once kept a parser busy for minutes.
"""

from __future__ import annotations

import json
import re
import socket
from pathlib import Path
from typing import Any

import pytest

from kg.errors import ValidationError
from kg.ingest import load_paths
from kg.model import RESERVED_PREFIX
from kg.rdf.parse import parse_file
from kg.store import Store, open_store
from kg.store.neo4j_mapping import PROPS_KEY
from kg.synth import city_rows, write_bundle
from tests.guard import Guard
from tests.helpers import all_rows, run_kg, write_files
from tests.hostile import CASES, TURTLE_ONE_LINERS

CLI_SECONDS = 30.0
"""Limit of one guarded ``kg load`` (start-up included): only a hang comes near it."""
PARSE_SECONDS = 1.0


def kg_in_worker(*args: str) -> tuple[int, str, str]:
    """``kg ARGS`` in the worker process: (exit code, stdout, stderr); an uncaught exception propagates."""
    result = run_kg(*args)
    return result.exit_code, result.stdout, result.stderr


def parse_in_worker(path: str) -> list[str]:
    """The problems :func:`parse_file` finds in ``path`` (empty when it parses)."""
    try:
        parse_file(Path(path))
    except ValidationError as exc:
        return [str(p) for p in exc.problems]
    return []


def _state(url: str) -> tuple[int, dict[str, int]]:
    store = open_store(url, create=True)  # the first call makes the empty store a refused load must leave as is
    try:
        stats = store.stats()
        return stats.version, stats.counts
    finally:
        store.close()


@pytest.mark.parametrize("name", sorted(CASES))
def test_kg_load_refuses_with_location(guard: Guard, tmp_path: Path, name: str) -> None:
    case = CASES[name]
    bundle = write_files(tmp_path / "bundle", case.files)
    url = f"sqlite:///{tmp_path}/kg.db"
    before = _state(url)
    code, _, stderr = guard.call(CLI_SECONDS, kg_in_worker, "load", str(bundle), "--store", url, "--quiet")
    assert code == 1, stderr
    assert "Traceback" not in stderr
    assert re.search(re.escape(f"{bundle}/") + case.where + r"\b", stderr), f"expected {case.where}:\n{stderr}"
    assert case.words in stderr, stderr
    assert "\x1b" not in stderr and "\u202e" not in stderr, "the message must not carry the raw character"
    assert _state(url) == before


@pytest.mark.parametrize("name", sorted(TURTLE_ONE_LINERS))
def test_one_line_turtle_is_answered_within_a_second(guard: Guard, tmp_path: Path, name: str) -> None:
    path = tmp_path / "city.ttl"
    path.write_text(TURTLE_ONE_LINERS[name], encoding="utf-8")
    problems = guard.call(PARSE_SECONDS, parse_in_worker, str(path))
    assert len(problems) == 1 and re.match(rf"{re.escape(str(path))}:1:\d+: Turtle syntax error: ", problems[0]), \
        problems


def test_kg_validate_names_a_bad_first_token(tmp_path: Path) -> None:
    path = write_files(tmp_path, {"city.ttl": TURTLE_ONE_LINERS["bad first token"]}) / "city.ttl"
    result = run_kg("validate", str(path), "--format", "json")
    assert result.exit_code == 1, result.output
    report = json.loads(result.stdout)
    assert [p["where"] for p in report["problems"]] == [f"{path}:1:1"], report


# ---------------------------------------------------------------------- JSON-LD contexts are never fetched


def _jsonld(context: Any) -> str:
    return json.dumps({"@context": context, "@id": "http://x.example/s", "http://x.example/p": "o"})


def test_jsonld_context_by_url_is_never_fetched(guard: Guard, tmp_path: Path) -> None:
    with socket.socket() as listener:
        listener.bind(("127.0.0.1", 0))
        listener.listen(8)
        listener.setblocking(False)
        url = f"http://127.0.0.1:{listener.getsockname()[1]}/context.jsonld"
        path = write_files(tmp_path, {"city.jsonld": _jsonld(url)}) / "city.jsonld"
        code, _, stderr = guard.call(CLI_SECONDS, kg_in_worker, "load", str(path), "--store",
                                     f"sqlite:///{tmp_path}/kg.db", "--quiet")
        with pytest.raises(BlockingIOError):
            listener.accept()  # nothing ever connected
    assert code == 1 and f"{path}:1: JSON-LD error: the context {url!r} is given by reference" in stderr, stderr


def test_jsonld_file_context_reads_the_same_whether_the_file_exists_or_not(guard: Guard, tmp_path: Path) -> None:
    present = write_files(tmp_path / "ctx", {"context.jsonld": json.dumps({"@context": {"p": "http://x/p"}})})
    answers = []
    for target in (present / "context.jsonld", present / "missing.jsonld"):
        url = target.as_uri()
        path = write_files(tmp_path / target.stem, {"city.jsonld": _jsonld([url, {"q": "http://x/q"}])})
        code, _, stderr = guard.call(CLI_SECONDS, kg_in_worker, "load", str(path / "city.jsonld"), "--store",
                                     f"sqlite:///{tmp_path}/kg.db", "--quiet")
        assert code == 1 and "never fetched" in stderr, stderr
        answers.append(stderr.replace(url, "URL").replace(str(path), "DIR"))
    assert answers[0] == answers[1]


# ---------------------------------------------------------------------- both stores, the same answer


def test_reserved_column_is_refused_alike_by_every_store(store: Store, tmp_path: Path) -> None:
    """``store`` is SQLite, then Neo4j (which keeps extra columns' names in ``_props``)."""
    assert PROPS_KEY.startswith(RESERVED_PREFIX), "the Neo4j store's own property must be a reserved name"
    bundle = write_files(tmp_path / "b", {"regions.csv": f"id,level,{PROPS_KEY},river\ncq,city,x,Yangtze\n"})
    before = all_rows(store)
    with pytest.raises(ValidationError) as exc:
        load_paths(store, [bundle])
    assert [str(p) for p in exc.value.problems] == [
        f"{bundle}/regions.csv:1: column '_props': names starting with '_' are reserved for the stores' own "
        "bookkeeping (such as _props); rename the column"]
    assert all_rows(store) == before


# ---------------------------------------------------------------------- the deadline


def test_kg_load_stops_at_its_timeout_and_writes_nothing(tmp_path: Path) -> None:
    bundle = tmp_path / "bundle"
    write_bundle(city_rows(300, seed=3), bundle)
    url = f"sqlite:///{tmp_path}/kg.db"
    before = _state(url)
    result = run_kg("load", str(bundle), "--store", url, "--quiet", "--timeout", "0.001")
    assert result.exit_code == 1
    assert "validation did not finish within the time limit of 0.001 s" in result.stderr, result.stderr
    assert _state(url) == before
    assert run_kg("load", str(bundle), "--store", url, "--quiet").exit_code == 0
