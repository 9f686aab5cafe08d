"""The Neo4j write steps carry every plan row exactly once, in the shapes the statements read.

These check the parameters the loader sends (no server needed); the store
contract tests (tests/test_store_contract.py) check what a real server makes of them.
"""

from __future__ import annotations

from collections import Counter
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from kg.load.plan import LoadPlan
from kg.schema import TABLES
from kg.store.neo4j_mapping import node_steps, relationship_steps
from kg.synth import city_rows

ASSETS = st.integers(200, 600)
SEED = st.integers(0, 10_000)
BATCH = st.sampled_from([1, 7, 50, 10_000])


def _asset_steps(plan: LoadPlan, batch: int, fresh: bool) -> list[Any]:
    return [s for s in node_steps(plan, batch, fresh=fresh) if (s.table, s.part) == ("assets", "nodes")]


@settings(max_examples=25, deadline=None)
@given(assets=ASSETS, seed=SEED, batch=BATCH, fresh=st.booleans())
def test_assets_travel_once_each_with_the_targets_of_their_group(assets: int, seed: int, batch: int,
                                                                 fresh: bool) -> None:
    plan = LoadPlan(rows=city_rows(assets, seed))
    columns = TABLES["assets"].columns
    region, agency = columns.index("region"), columns.index("agency")
    expected = Counter((r[0], r[region], r[agency]) for r in plan.rows["assets"])
    steps = _asset_steps(plan, batch, fresh)
    sent = Counter((node["id"], g[0], g[1]) for step in steps for g in step.rows for node in g[2])
    assert sent == expected
    assert sum(s.counted for s in steps) == len(plan.rows["assets"])
    # About `batch` nodes a step: groups are added until there are at least that many.
    sizes = [sum(len(g[2]) for g in s.rows) for s in steps]
    assert all(batch <= n < 2 * batch for n in sizes[:-1]) and 0 < sizes[-1] < 2 * batch
    # Node properties: the stored columns (nulls included) under their names.
    by_id = {r[0]: r for r in plan.rows["assets"]}
    for node in (n for s in steps for g in s.rows for n in g[2]):
        row = by_id[node["id"]]
        assert {k: node["props"][k] for k in ("type", "name", "lat", "lon", "population")} == {
            k: row[columns.index(k)] for k in ("type", "name", "lat", "lon", "population")}


@settings(max_examples=25, deadline=None)
@given(assets=ASSETS, seed=SEED, batch=BATCH)
def test_fresh_relationship_columns_are_the_rows_by_internal_id_sorted_by_target(assets: int, seed: int,
                                                                                 batch: int) -> None:
    plan = LoadPlan(rows=city_rows(assets, seed))
    ids = {r[0]: 1000 + i for i, r in enumerate(plan.rows["assets"] + plan.rows["hazard_zones"])}
    names = {v: k for k, v in ids.items()}
    steps = list(relationship_steps(plan, batch, fresh=True, node_ids=ids))
    for table in ("dependencies", "exposures"):
        mine = [s for s in steps if s.table == table]
        rows = [tuple(col[i] for col in s.rows) for s in mine for i in range(len(s.rows[0]))]
        assert Counter((names[r[0]], names[r[1]], *r[2:]) for r in rows) == Counter(plan.rows[table])
        targets = [r[1] for r in rows]
        assert targets == sorted(targets)
        assert [s.counted for s in mine] == [len(s.rows[0]) for s in mine]
        assert all(len(s.rows[0]) <= batch for s in mine)


def test_an_id_the_map_lacks_matches_no_node() -> None:
    plan = LoadPlan(rows=city_rows(200, 1))
    ids = {r[0]: i for i, r in enumerate(plan.rows["assets"])}
    gone = plan.rows["dependencies"][0][1]
    del ids[gone]
    steps = [s for s in relationship_steps(plan, 10_000, fresh=True, node_ids=ids) if s.table == "dependencies"]
    assert sum(s.rows[1].count(-1) for s in steps) == sum(r[1] == gone for r in plan.rows["dependencies"]) > 0


def test_internal_ids_are_refused_for_a_merging_load() -> None:
    with pytest.raises(ValueError, match="fresh load only"):
        list(relationship_steps(LoadPlan(rows=city_rows(200, 1)), 100, fresh=False, node_ids={}))
