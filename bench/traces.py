"""Dependents of the most depended-on assets: CityKG's snapshot BFS vs networkx, scipy and Neo4j Cypher.

    python bench/traces.py [--assets 1000000] [--seed 7] [--top 20] [--cypher-timeout 300]

On one generated city, for the ``--top`` assets with the most transitive
dependents (found exactly among the ``10 * top`` assets with the widest two-hop
fan-out), every system computes the full set of transitive dependents:

* CityKG: :func:`kg.analysis.traces.dependents` on the snapshot (vectorised
  BFS over CSR, also giving each dependent's depth, sorted by depth then id);
* networkx: ``nx.descendants`` on a DiGraph provider -> dependent (target:
  CityKG >= 10x faster);
* scipy: ``csgraph.breadth_first_order`` on the same CSR (the floor: a C BFS
  returning bare indexes; target: CityKG within 3x);
* Neo4j, when ``KG_NEO4J_URL`` is set (e.g. from ``scripts/neo4j start``):
  ``MATCH (s:Element {id:$id})<-[:DEPENDS_ON*]-(d) RETURN count(DISTINCT d)``
  vs CityKG on the store's warm snapshot (target: >= 20x faster). The city is
  loaded into that database first unless it already holds it (the database is
  cleared: never point this at data you want to keep). A query that runs past
  ``--cypher-timeout`` seconds counts as that long, so its ratio is a lower bound.

All systems must find the same number of dependents. Graph building is timed
apart; the ratios compare query time only, measured in the same run.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

import networkx as nx
import numpy as np
from scipy.sparse import csr_matrix
from scipy.sparse.csgraph import breadth_first_order

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from kg.analysis.traces import dependents
from kg.snapshot import GraphSnapshot, build_snapshot
from kg.synth import city_rows

CYPHER = "MATCH (s:Element {id:$id})<-[:DEPENDS_ON*]-(d) RETURN count(DISTINCT d) AS n"


def _timed(label: str, fn: object) -> float:
    start = time.perf_counter()
    fn()  # type: ignore[operator]
    seconds = time.perf_counter() - start
    print(f"  {label:<44} {seconds:8.2f} s")
    return seconds


def _ours(snap: GraphSnapshot, ids: list[str]) -> tuple[float, list[int]]:
    dependents(snap, ids[0])  # first call builds the per-snapshot id ranking (cached)
    counts: list[int] = []
    start = time.perf_counter()
    for a in ids:
        counts.append(len(dependents(snap, a)))
    return time.perf_counter() - start, counts


def _in_memory(snap: GraphSnapshot, ids: list[str], top: list[int]) -> tuple[float, list[int]]:
    print("building the peers' graphs (not part of the query times):")
    graph = nx.DiGraph()
    _timed("networkx DiGraph provider -> dependent", lambda: (
        graph.add_nodes_from(range(snap.n)),
        graph.add_edges_from(zip(snap.dep_provider.tolist(), np.repeat(
            np.arange(snap.n), np.diff(snap.dep_ptr)).tolist(), strict=True))))
    dependent = np.repeat(np.arange(snap.n, dtype=np.int32), np.diff(snap.dep_ptr))
    matrix = csr_matrix((np.ones(snap.m, dtype=np.int8), (snap.dep_provider, dependent)), shape=(snap.n, snap.n))

    ours, counts = _ours(snap, ids)
    start = time.perf_counter()
    nx_counts = [len(nx.descendants(graph, i)) for i in top]
    t_nx = time.perf_counter() - start
    start = time.perf_counter()
    sp_counts = [len(breadth_first_order(matrix, i, directed=True, return_predecessors=False)) - 1 for i in top]
    t_sp = time.perf_counter() - start
    if not counts == nx_counts == sp_counts:
        raise SystemExit(f"disagreement: ours {counts} networkx {nx_counts} scipy {sp_counts}")
    print(f"dependents of the {len(ids)} most depended-on assets ({sum(counts):,} dependents in all, same in every "
          "system):")
    print(f"  CityKG dependents()          {ours * 1000:9.1f} ms")
    print(f"  networkx descendants()       {t_nx * 1000:9.1f} ms   CityKG is {t_nx / ours:6.1f}x faster "
          f"(target >= 10x: {'met' if t_nx / ours >= 10 else 'MISSED'})")
    print(f"  scipy breadth_first_order()  {t_sp * 1000:9.1f} ms   CityKG takes {ours / t_sp:6.2f}x the floor "
          f"(target <= 3x: {'met' if ours / t_sp <= 3 else 'MISSED'})")
    return ours, counts


def _neo4j(url: str, rows: dict[str, list[tuple[object, ...]]], ids: list[str], counts: list[int],
           timeout: float) -> None:
    from kg.load.plan import LoadPlan
    from kg.store import open_store

    store = open_store(url)
    try:
        print(f"Neo4j at {url}:")
        held = store.stats().counts
        want = {t: len(r) for t, r in rows.items()}
        if any(held.get(t, 0) != n for t, n in want.items()):
            _timed("clear and load the same city", lambda: (store.clear(), store.write(LoadPlan(rows=rows))))  # type: ignore[arg-type]
        _timed("snapshot from the store (cold)", store.snapshot)
        snap = store.snapshot()
        ours, ours_counts = _ours(snap, ids)
        if ours_counts != counts:
            raise SystemExit(f"the store's snapshot disagrees: {ours_counts} vs {counts}")
        total, timed_out = 0.0, 0
        for a, expected in zip(ids, counts, strict=True):
            start = time.perf_counter()
            try:
                result = store.run_cypher(CYPHER, {"id": a}, timeout_s=timeout, row_limit=1)  # type: ignore[attr-defined]
                got = int(result.rows[0]["n"])
                if got != expected:
                    raise SystemExit(f"Cypher counts {got} dependents of {a}, CityKG {expected}")
                total += time.perf_counter() - start
            except Exception as exc:  # a timeout: count the full timeout, the ratio becomes a lower bound
                if isinstance(exc, SystemExit):
                    raise
                timed_out += 1
                total += timeout
        bound = ">=" if timed_out else ""
        print(f"  CityKG dependents() on the warm snapshot {ours * 1000:9.1f} ms")
        print(f"  Cypher DEPENDS_ON* count(DISTINCT d)     {total * 1000:9.1f} ms"
              f"{f'  ({timed_out} queries hit the {timeout:g} s timeout)' if timed_out else ''}")
        print(f"  CityKG is {bound}{total / ours:,.0f}x faster than Cypher "
              f"(target >= 20x: {'met' if total / ours >= 20 else 'MISSED'})")
    finally:
        store.close()


def _most_depended_on(snap: GraphSnapshot, k: int) -> list[int]:
    """The ``k`` assets with the most transitive dependents (exact among the 10 * k with the widest two-hop fan-out)."""
    degree = np.diff(snap.rdep_ptr)
    reach = degree[snap.rdep_dependent].astype(np.int64) + 1
    nonzero = degree > 0
    two_hop = np.zeros(snap.n, dtype=np.int64)
    two_hop[nonzero] = np.add.reduceat(reach, snap.rdep_ptr[:-1][nonzero])
    candidates = np.argsort(-two_hop, kind="stable")[:10 * k].tolist()
    size = {i: len(dependents(snap, snap.asset_ids[i])) for i in candidates}
    return sorted(candidates, key=lambda i: (-size[i], i))[:k]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--assets", type=int, default=1_000_000)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--top", type=int, default=20)
    parser.add_argument("--cypher-timeout", type=float, default=300.0)
    args = parser.parse_args()
    start = time.perf_counter()
    rows = city_rows(args.assets, args.seed)
    snap = build_snapshot(1, lambda t: rows[t])
    print(f"city: {snap.n:,} assets, {snap.m:,} dependencies (generated and snapshotted in "
          f"{time.perf_counter() - start:.0f} s)")
    top = _most_depended_on(snap, args.top)
    ids = [snap.asset_ids[i] for i in top]
    _, counts = _in_memory(snap, ids, top)
    url = os.environ.get("KG_NEO4J_URL")
    if url:
        _neo4j(url, rows, ids, counts, args.cypher_timeout)
    else:
        print("Neo4j: skipped (set KG_NEO4J_URL, e.g. from scripts/neo4j start, to compare with Cypher)")


if __name__ == "__main__":
    main()
