"""Loading a city into Neo4j: CityKG's batched loader vs a naive one-MERGE-per-row loader.

    python bench/neo4j_load.py [--assets 1000000] [--store bolt://HOST:PORT] [--seed 7] [--sample 3000]

Needs a Neo4j it may empty (``--store``, default ``$KG_NEO4J_URL``; ``scripts/neo4j
start`` prints one). An *element* is one row of the load: a node (with the
references it carries, e.g. an asset's LOCATED_IN and OPERATED_BY) or a
relationship row (DEPENDS_ON, EXPOSED_TO) or a fragility.

0. Unless ``--warmup 0``, a smaller city is loaded and cleared first, so the
   numbers are those of a server that has run a while (a just-started JVM
   compiles the load path during its first load: 47-52k instead of 54-57k
   elements/s at 1M here).
1. Generate a synthetic city of ``--assets`` assets (``kg.synth``), clear the
   store, load it with :meth:`kg.store.neo4j.Neo4jStore.write` (batches of
   10,000 rows, one write transaction each, ``KG_NEO4J_WRITERS`` sessions at
   once; into the empty store this is the fresh-load path: ``CREATE``, and
   relationships found by internal id): elements/s.
2. Naive loader on a sample of the same rows: ``--sample`` rows drawn from every
   table in proportion, removed from the graph, then written back one row per
   auto-commit transaction with the loader's merging statements (``MERGE`` by
   key, what any load into a non-empty store runs); the rows' other
   relationships are restored afterwards and the counts checked. Ratio =
   batched / naive elements/s.
3. The time to build the analysis snapshot of the loaded graph from a fresh
   connection (one streaming query per table, then the arrays).

Targets: ratio >= 30x, batched >= 50,000 elements/s. The server and this
script share the machine; for 1M assets give the server room, e.g.
``KG_NEO4J_HEAP=4g KG_NEO4J_PAGECACHE=4g scripts/neo4j start``.
"""

from __future__ import annotations

import argparse
import os
import random
import sys
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from neo4j import WRITE_ACCESS

from kg.load.plan import LoadPlan
from kg.schema import NODE_TABLES
from kg.store.neo4j import Neo4jStore
from kg.store.neo4j_mapping import write_steps
from kg.synth import city_rows

__all__ = ["main"]


def _sample(plan: LoadPlan, size: int, seed: int) -> LoadPlan:
    rng = random.Random(seed)
    share = min(1.0, size / plan.total)
    rows = {t: sorted(rng.sample(r, round(len(r) * share))) for t, r in plan.rows.items()}
    return LoadPlan(rows=rows)


def _remove(store: Neo4jStore, sample: LoadPlan) -> None:
    """Delete the sample's nodes (with every relationship they have) and its relationship rows."""
    ids = [r[0] for t in NODE_TABLES for r in sample.rows[t]]
    deps = [{"d": r[0], "p": r[1], "k": r[2], "g": r[3]} for r in sample.rows["dependencies"]]
    exps = [{"a": r[0], "z": r[1]} for r in sample.rows["exposures"]]
    keys = [f"{h}|{t or ''}|{a or ''}" for h, _, t, a, _ in sample.rows["fragilities"]]
    with store._driver.session(database=store.database) as session:
        session.run("UNWIND $ids AS id MATCH (n:Element {id: id}) DETACH DELETE n", ids=ids).consume()
        session.run("UNWIND $rows AS r MATCH (:Element {id: r.d})-[x:DEPENDS_ON {kind: r.k, `group`: r.g}]->"
                    "(:Element {id: r.p}) DELETE x", rows=deps).consume()
        session.run("UNWIND $rows AS r MATCH (:Element {id: r.a})-[x:EXPOSED_TO]->(:Element {id: r.z}) DELETE x",
                    rows=exps).consume()
        session.run("UNWIND $keys AS k MATCH (f:Fragility {key: k}) DELETE f", keys=keys).consume()


def _naive(store: Neo4jStore, sample: LoadPlan) -> float:
    """Write ``sample`` one row per auto-commit transaction; returns the seconds taken."""
    steps = list(write_steps(sample, 1))
    start = time.perf_counter()
    with store._driver.session(database=store.database, default_access_mode=WRITE_ACCESS) as session:
        for step in steps:
            session.run(step.query, step.params, rows=step.rows).consume()
    return time.perf_counter() - start


def _restore(store: Neo4jStore, plan: LoadPlan, sample: LoadPlan) -> None:
    """Write back the relationships that removing the sample's nodes took with them."""
    gone = {r[0] for t in NODE_TABLES for r in sample.rows[t]}
    rows: dict[str, list[tuple[Any, ...]]] = {t: [] for t in plan.rows}
    rows["dependencies"] = [r for r in plan.rows["dependencies"] if r[0] in gone or r[1] in gone]
    rows["exposures"] = [r for r in plan.rows["exposures"] if r[0] in gone or r[1] in gone]
    for table in ("regions", "agencies", "assets", "hazard_zones"):  # children whose parent/region was removed
        rows[table] = [r for r in plan.rows[table] if any(v in gone for v in r[1:-1] if isinstance(v, str))]
    store.write(LoadPlan(rows=rows))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--assets", type=int, default=1_000_000)
    parser.add_argument("--store", default=os.environ.get("KG_NEO4J_URL"))
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--sample", type=int, default=3000, help="rows for the naive loader")
    parser.add_argument("--warmup", type=int, default=100_000,
                        help="assets of a city loaded and cleared first, so the server's JIT has compiled the "
                             "load path (0: measure a cold server)")
    args = parser.parse_args()
    if not args.store:
        parser.error("give --store bolt://HOST:PORT or set KG_NEO4J_URL (scripts/neo4j start prints one)")

    start = time.perf_counter()
    plan = LoadPlan(rows=city_rows(args.assets, args.seed))
    print(f"city: {args.assets:,} assets, {plan.total:,} elements "
          f"({', '.join(f'{n:,} {t}' for t, n in plan.counts().items())}); generated in "
          f"{time.perf_counter() - start:.1f} s", flush=True)

    store = Neo4jStore(args.store)
    if args.warmup:
        warmup = LoadPlan(rows=city_rows(args.warmup, args.seed + 1))
        store.clear()
        start = time.perf_counter()
        store.write(warmup)
        warmup_s = time.perf_counter() - start
        print(f"warm-up         {warmup_s:8.1f} s  {warmup.total / warmup_s:10,.0f} elements/s  ({args.warmup:,}-asset "
              "city, then cleared: the server's JIT compiles the load path; --warmup 0 to skip)", flush=True)
    store.clear()
    start = time.perf_counter()
    store.write(plan)
    batched_s = time.perf_counter() - start
    batched = plan.total / batched_s
    counts = store.stats().counts
    assert counts == plan.counts(), f"the graph holds {counts}, the plan {plan.counts()}"
    print(f"CityKG loader   {batched_s:8.1f} s  {batched:10,.0f} elements/s  ({store.writers} write sessions)",
          flush=True)

    sample = _sample(plan, args.sample, args.seed)
    _remove(store, sample)
    naive_s = _naive(store, sample)
    naive = sample.total / naive_s
    _restore(store, plan, sample)
    counts = store.stats().counts
    assert counts == plan.counts(), f"after the naive run the graph holds {counts}, the plan {plan.counts()}"
    print(f"naive loader    {naive_s:8.1f} s  {naive:10,.0f} elements/s  ({sample.total:,} sampled rows, "
          "one MERGE per row, one transaction each)", flush=True)
    store.close()

    fresh = Neo4jStore(args.store)
    start = time.perf_counter()
    snap = fresh.snapshot()
    snapshot_s = time.perf_counter() - start
    fresh.close()
    print(f"snapshot        {snapshot_s:8.1f} s  ({snap.n:,} assets, {snap.m:,} dependencies, from a fresh "
          "connection)")

    ratio = batched / naive
    print(f"ratio {ratio:,.1f}x (target >= 30x: {'met' if ratio >= 30 else 'NOT met'}); "
          f"{batched:,.0f} elements/s (target >= 50,000: {'met' if batched >= 50_000 else 'NOT met'})")


if __name__ == "__main__":
    main()
