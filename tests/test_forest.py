"""SpanningForest: after any deletions, its components are the graph's (networkx), with their sizes."""

from __future__ import annotations

import networkx as nx
import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from kg.analysis.forest import SpanningForest


@st.composite
def graphs_and_deletions(draw: st.DrawFn) -> tuple[int, list[tuple[int, int]], list[int], list[list[int]]]:
    n = draw(st.integers(1, 14))
    edges = draw(st.lists(st.tuples(st.integers(0, n - 1), st.integers(0, n - 1)), max_size=3 * n))
    edges = sorted({(min(u, v), max(u, v)) for u, v in edges if u != v})
    absent = draw(st.lists(st.integers(0, n - 1), max_size=n // 3))
    rounds = draw(st.lists(st.lists(st.integers(0, n - 1), min_size=1, max_size=4), max_size=6))
    return n, edges, absent, rounds


def components(forest: SpanningForest) -> set[frozenset[int]]:
    members = np.flatnonzero(forest.member)
    out = {frozenset(members[forest.comp[members] == label].tolist()) for label in set(forest.comp[members].tolist())}
    for part in out:
        assert forest.size[forest.comp[next(iter(part))]] == len(part)
    return out


@settings(max_examples=1500, deadline=None)
@given(graphs_and_deletions())
def test_components_after_deletions_equal_networkx(case: tuple[int, list[tuple[int, int]], list[int], list[list[int]]]
                                                   ) -> None:
    n, edges, absent, rounds = case
    graph = nx.Graph()
    graph.add_nodes_from(range(n))
    graph.add_edges_from(edges)
    ends = np.array([u for u, v in edges] + [v for u, v in edges], dtype=np.int64)
    others = np.array([v for u, v in edges] + [u for u, v in edges], dtype=np.int64)
    ptr = np.zeros(n + 1, dtype=np.int64)
    np.cumsum(np.bincount(ends, minlength=n), out=ptr[1:])
    member = np.ones(n, dtype=bool)
    member[absent] = False
    forest = SpanningForest(ptr, others[np.argsort(ends, kind="stable")], member)
    alive = set(range(n)) - set(absent)
    for dead in [[], *rounds]:
        cut = forest.delete(np.array(dead, dtype=np.int64))
        alive = alive - set(dead)
        assert set(cut.tolist()) <= alive
        assert components(forest) == {frozenset(c) for c in nx.connected_components(graph.subgraph(alive))}
        roots = {v for v in alive if forest.parent[v] < 0}
        assert len(roots) == len(components(forest))
        for v in alive:  # parents are alive neighbours in the same component, leading to its root
            path = [v]
            while forest.parent[path[-1]] >= 0 and len(path) <= n:
                up = int(forest.parent[path[-1]])
                assert up in alive and graph.has_edge(path[-1], up) and forest.comp[up] == forest.comp[v]
                path.append(up)
            assert path[-1] in roots
