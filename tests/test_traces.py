"""Traces equal plain graph algorithms (networkx); single points of failure equal brute force."""

from __future__ import annotations

from typing import Any

import networkx as nx
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from kg.analysis.traces import dependencies, dependents, path_kinds, paths, single_points_of_failure
from kg.errors import ElementNotFound, ResultTooLarge
from tests.reference_cascade import reference_cascade
from tests.test_cascade import KINDS, graphs, snap_of

SETTINGS = settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def digraph(assets: Any, deps: list[Any], kinds: set[str] | None = None) -> nx.DiGraph:
    g = nx.DiGraph()
    g.add_nodes_from(a for a, _, _ in assets)
    g.add_edges_from((d, p) for d, p, k, _, _ in deps if kinds is None or k in kinds)
    return g


@SETTINGS
@given(graphs(), st.sampled_from([None, 1, 2]), st.sampled_from([None, {"power"}, {"water", "telecom"}]))
def test_dependents_and_dependencies_equal_plain_bfs(case: Any, depth: int | None,
                                                     kinds: set[str] | None) -> None:
    assets, deps, _ = case
    snap = snap_of(assets, deps)
    down = digraph(assets, deps, kinds)  # dependent -> provider
    for a, _, _ in assets:
        for trace, graph in ((dependencies, down), (dependents, down.reverse())):
            lengths = nx.single_source_shortest_path_length(graph, a, cutoff=depth)
            expected = sorted(((n, d) for n, d in lengths.items() if n != a), key=lambda x: (x[1], x[0]))
            got = trace(snap, a, kinds=kinds, max_depth=depth)
            assert [(snap.asset_ids[i], d) for i, d in got] == expected
            assert len(got) == len(expected)


@SETTINGS
@given(graphs(), st.integers(1, 4))
def test_paths_are_the_k_shortest_simple_chains(case: Any, k: int) -> None:
    assets, deps, _ = case
    snap = snap_of(assets, deps)
    down = digraph(assets, deps)
    ids = [a for a, _, _ in assets]
    for y in ids:
        for x in ids:
            if x == y:
                continue
            every = sorted((tuple(p) for p in nx.all_simple_paths(down, y, x)), key=lambda p: (len(p), p))
            got = [tuple(snap.asset_ids[i] for i in p) for p in paths(snap, x, y, k=k)]
            assert got == every[:k]
            assert paths(snap, x, y, k=k, max_pending=10_000) == paths(snap, x, y, k=k)
            for p in paths(snap, x, y, k=1):
                assert all(kinds and set(kinds) <= set(KINDS) for kinds in path_kinds(snap, p))


def test_paths_around_a_loop_that_leads_back_up_are_bounded() -> None:
    # y -> e -> x is the one chain; e also depends on a cloud of assets that depend on each other and on e
    # again, so every partial chain into the cloud can only come back to e (already on it): a dead end,
    # reached through a number of simple chains that grows as the factorial of the cloud's size.
    cloud = [f"c{i}" for i in range(8)]
    deps = [("y", "e", "power", "power", 0.0), ("e", "x", "power", "power", 0.0)]
    deps += [("e", c, "water", "water", 0.0) for c in cloud]
    deps += [(c, d, "gas", "gas", 0.0) for c in cloud for d in cloud if c != d]
    deps += [(c, "e", "power", "power", 0.0) for c in cloud]
    snap = snap_of(["x", "y", "e", *cloud], deps)
    assert [[snap.asset_ids[i] for i in p] for p in paths(snap, "x", "y", k=1, max_pending=100)] == [["y", "e", "x"]]
    with pytest.raises(ResultTooLarge, match=r"more than 100 partial chains were pending after 1 found") as err:
        paths(snap, "x", "y", k=2, max_pending=100)
    assert err.value.parameter == "max_pending" and err.value.size > 100


@SETTINGS
@given(graphs())
def test_single_points_of_failure_equal_brute_force(case: Any) -> None:
    assets, deps, _ = case
    snap = snap_of(assets, deps)
    ids = [a for a, _, _ in assets]
    kills = {y: set(reference_cascade(ids, deps, [(y, 0.0)]).failed) for y in ids}
    for x in ids:
        got = {snap.asset_ids[i] for i, _ in single_points_of_failure(snap, x)}
        assert got == {y for y in ids if y != x and x in kills[y]}


def test_spof_respects_redundancy_and_grounding() -> None:
    #   P -> S1 -> H and P -> S2 -> H (OR): only P is a single point.
    #   R1 <-> R2 loop fed only by Q: Q is a single point of R2 even though R1 still "provides".
    deps = [("S1", "P", "power", "power", 0.0), ("S2", "P", "power", "power", 0.0),
            ("H", "S1", "power", "power", 24.0), ("H", "S2", "power", "power", 24.0),
            ("R1", "Q", "power", "power", 0.0), ("R1", "R2", "power", "power", 0.0),
            ("R2", "R1", "power", "power", 0.0)]
    snap = snap_of(["H", "P", "Q", "R1", "R2", "S1", "S2"], deps)
    assert [snap.asset_ids[i] for i, _ in single_points_of_failure(snap, "H")] == ["P"]
    assert [(snap.asset_ids[i], d) for i, d in single_points_of_failure(snap, "R2")] == [("R1", 1), ("Q", 2)]


def test_unknown_ids_raise() -> None:
    snap = snap_of(["A"], [])
    for call in (lambda: dependents(snap, "B"), lambda: paths(snap, "A", "B"),
                 lambda: single_points_of_failure(snap, "B")):
        with pytest.raises(ElementNotFound, match="'B'"):
            call()
