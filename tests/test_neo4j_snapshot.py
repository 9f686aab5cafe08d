"""The Neo4j snapshot reader: node positions, nodes that are no asset, and when it reads rows instead.

``tests/test_snapshot_columns.py`` checks random cities as the loader writes them; here the graph is
also edited by hand, as a planner with write access could: relationships from nodes that are no asset,
``:Asset`` nodes without an id, a reference to a node without one, and nulls where a key forbids them.
"""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from kg.load.plan import LoadPlan
from kg.snapshot import build_snapshot
from kg.store.neo4j import Neo4jStore
from kg.store.neo4j_snapshot import Positions, read_columns
from kg.synth import city_rows
from tests.reference_snapshot import reference_snapshot
from tests.test_snapshot_columns import assert_same

DENSE_IDS = st.lists(st.integers(0, 300), unique=True, max_size=60)
SPARSE_IDS = st.lists(st.integers(0, 2**40), unique=True, min_size=1, max_size=60)


@settings(max_examples=200, deadline=None)
@given(st.one_of(DENSE_IDS, SPARSE_IDS), st.lists(st.integers(0, 2**41) | st.integers(0, 400), max_size=40),
       st.randoms())
def test_positions_are_the_index_of_each_node(nodes: list[int], others: list[int], random: Any) -> None:
    wanted = nodes + others
    random.shuffle(wanted)
    index = {node: i for i, node in enumerate(nodes)}
    assert Positions(nodes)(wanted).tolist() == [index.get(node, -1) for node in wanted]


def _edit(store: Neo4jStore, *statements: str) -> None:
    for statement in statements:
        store._driver.execute_query(statement, database_=store.database)


def _columns(store: Neo4jStore) -> Any:
    return read_columns(lambda query, params: store._records(query, **params))


def _same_as_rows(store: Neo4jStore) -> None:
    version = store.version()
    assert_same(store.build_snapshot(version), reference_snapshot(version, store.rows))


@pytest.mark.neo4j
def test_nodes_that_are_no_asset_are_left_out(neo4j_store: Neo4jStore) -> None:
    neo4j_store.write(LoadPlan(rows=city_rows(120, 3)))
    _edit(neo4j_store,
          # a region that depends on an asset, an asset that depends on a region
          "MATCH (r:Region) WITH r LIMIT 1 MATCH (a:Asset) WITH r, a ORDER BY a.id LIMIT 1 "
          "CREATE (r)-[:DEPENDS_ON {kind: 'power', group: 'power', buffer_hours: 2.0}]->(a), "
          "(a)-[:DEPENDS_ON {kind: 'zeta', group: 'z'}]->(r)",
          # an :Asset without an id (nor :Element) with relationships of every kind
          "MATCH (a:Asset) WITH a ORDER BY a.id LIMIT 1 MATCH (z:HazardZone) WITH a, z LIMIT 1 "
          "MATCH (r:Region) WITH a, z, r LIMIT 1 "
          "CREATE (g:Asset:PowerAsset:HandMade {type: 'Substation', name: 'ghost', lat: 1.0, population: 5}), "
          "(g)-[:DEPENDS_ON {kind: 'power', group: 'power'}]->(a), "
          "(g)-[:EXPOSED_TO {intensity: 1.0}]->(z), (g)-[:LOCATED_IN]->(r)",
          # a region reference to a node without an id
          "MATCH (a:Asset)-[l:LOCATED_IN]->() WITH a, l ORDER BY a.id SKIP 3 LIMIT 1 DELETE l "
          "CREATE (a)-[:LOCATED_IN]->(:HandMade)")
    try:
        assert _columns(neo4j_store) is not None
        _same_as_rows(neo4j_store)
    finally:  # clear() removes elements only: these would stay for the next test
        _edit(neo4j_store, "MATCH (n:HandMade) DETACH DELETE n")


@pytest.mark.neo4j
@pytest.mark.parametrize("edit", [
    "MATCH ()-[r:DEPENDS_ON]->() WITH r LIMIT 1 REMOVE r.kind",
    "MATCH ()-[r:DEPENDS_ON]->() WITH r LIMIT 1 REMOVE r.group",
    "MATCH (a:Asset) WITH a ORDER BY a.id LIMIT 1 REMOVE a.type",
], ids=["kind", "group", "type"])
def test_a_null_key_reads_rows(neo4j_store: Neo4jStore, edit: str) -> None:
    neo4j_store.write(LoadPlan(rows=city_rows(100, 4)))
    assert _columns(neo4j_store) is not None
    _edit(neo4j_store, edit)
    assert _columns(neo4j_store) is None
    version = neo4j_store.version()
    # the rows' builder (on data no loader writes, it and the reference differ: str(None) for a kind)
    assert_same(neo4j_store.build_snapshot(version), build_snapshot(version, neo4j_store.rows))
