"""``kg dependents`` / ``kg dependencies`` equal a plain BFS over DEPENDS_ON, on random bundles."""

from __future__ import annotations

import json
import tempfile
from collections import deque
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.helpers import run_kg, write_files

KINDS = ("power", "water", "telecom")


@st.composite
def bundles(draw: st.DrawFn) -> tuple[int, list[tuple[int, int, str]]]:
    n = draw(st.integers(2, 9))
    edges = draw(st.lists(st.tuples(st.integers(0, n - 1), st.integers(0, n - 1), st.sampled_from(KINDS)),
                          max_size=3 * n, unique=True))
    return n, [(d, p, k) for d, p, k in edges if d != p]


def _files(n: int, edges: list[tuple[int, int, str]]) -> dict[str, str]:
    assets = "id,type,region\n" + "".join(f"a{i},Substation,cq\n" for i in range(n))
    deps = "dependent,provider,kind\n" + "".join(f"a{d},a{p},{k}\n" for d, p, k in edges)
    return {"regions.csv": "id,level\ncq,city\n", "assets.csv": assets, "dependencies.csv": deps}


def _bfs(start: str, step: dict[str, set[str]], max_depth: int | None = None) -> dict[str, int]:
    depth = {start: 0}
    queue = deque([start])
    while queue:
        node = queue.popleft()
        if max_depth is not None and depth[node] >= max_depth:
            continue
        for nxt in sorted(step.get(node, ())):
            if nxt not in depth:
                depth[nxt] = depth[node] + 1
                queue.append(nxt)
    del depth[start]
    return depth


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(bundles(), st.sampled_from([None, 1, 2]), st.sampled_from([None, "power"]))
def test_cli_traces_equal_plain_bfs(case: tuple[int, list[tuple[int, int, str]]], depth: int | None,
                                    kind: str | None) -> None:
    n, edges = case
    with tempfile.TemporaryDirectory() as tmp:
        url = f"sqlite:///{tmp}/kg.db"
        assert run_kg("load", str(write_files(Path(tmp) / "b", _files(n, edges))), "--store", url).exit_code == 0
        up: dict[str, set[str]] = {}
        down: dict[str, set[str]] = {}
        for d, p, k in edges:
            if kind is None or k == kind:
                up.setdefault(f"a{p}", set()).add(f"a{d}")
                down.setdefault(f"a{d}", set()).add(f"a{p}")
        extra = [*(["--depth", str(depth)] if depth else []), *(["--kind", kind] if kind else [])]
        for i in range(n):
            for command, step in (("dependents", up), ("dependencies", down)):
                result = run_kg(command, f"a{i}", "--store", url, "--format", "json", *extra)
                assert result.exit_code == 0, result.output
                got = json.loads(result.stdout)
                expected = sorted(_bfs(f"a{i}", step, depth).items(), key=lambda kv: (kv[1], kv[0]))
                assert got["id"] == f"a{i}"
                assert [(x["id"], x["depth"]) for x in got[command]] == expected
                assert all(x["type"] == "Substation" for x in got[command])


def test_self_dependency_is_refused(tmp_path: Path) -> None:
    files = _files(2, [(0, 1, "power")])
    files["dependencies.csv"] += "a1,a1,power\n"
    result = run_kg("load", str(write_files(tmp_path / "b", files)), "--store", f"sqlite:///{tmp_path}/kg.db")
    assert result.exit_code == 1
    assert "dependencies.csv:3" in result.stderr and "cannot depend on itself" in result.stderr


def test_parallel_edges_of_different_kinds_are_kept(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path}/kg.db"
    files = _files(2, [(0, 1, "power"), (0, 1, "water")])
    assert run_kg("load", str(write_files(tmp_path / "b", files)), "--store", url).exit_code == 0
    water = json.loads(run_kg("dependents", "a1", "--kind", "water", "--store", url, "--format", "json").stdout)
    assert [d["id"] for d in water["dependents"]] == ["a0"]
    stats = json.loads(run_kg("stats", "--store", url, "--format", "json").stdout)
    assert stats["counts"]["dependencies"] == 2


def test_unknown_id_is_a_clean_error(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path}/kg.db"
    assert run_kg("load", str(write_files(tmp_path / "b", _files(2, []))), "--store", url).exit_code == 0
    result = run_kg("dependents", "a9", "--store", url)
    assert result.exit_code == 1
    assert "a9" in result.stderr and "Traceback" not in result.output
