"""The table schema is the one place that orders columns: shuffle it, and every store and snapshot agree.

Rows are plain tuples; everything that reads one asks :mod:`kg.schema` where a column is. So a table whose
columns are declared in another order (what reordering a field of a record would once have done silently)
loads, stores, reads back and snapshots to exactly the same graph, in SQLite and in Neo4j.
"""

from __future__ import annotations

import io
import random
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest

from kg import schema
from kg.model import RECORD_TYPES, Asset
from kg.ontology import load_ontology
from kg.rdf.export import export_rdf
from kg.schema import TABLES, Table
from kg.store.base import Store
from kg.store.neo4j_mapping import node_tables
from kg.store.sqlite import SQLiteStore
from tests.conftest_stores import load
from tests.helpers import assert_snapshots_equal


@contextmanager
def _shuffled_schema(seed: int) -> Iterator[None]:
    """Every table's columns in another order (never the declared one) while the block runs."""
    rng = random.Random(seed)
    with pytest.MonkeyPatch.context() as patch:
        for name, table in list(TABLES.items()):
            columns = list(table.columns)
            while tuple(columns) == table.columns:
                rng.shuffle(columns)
            patch.setitem(schema.TABLES, name, table.reordered(tuple(columns)))
        node_tables.cache_clear()
        try:
            yield
        finally:
            node_tables.cache_clear()


def _graph(store: Store) -> dict[str, Any]:
    """What a store gives back, by column name: every row, some elements and searches, and its RDF."""
    rows = {name: sorted(map(TABLES[name].as_dict, store.rows(name)), key=lambda r: repr(sorted(r.items())))
            for name in TABLES}
    some = [rows[t][i]["id"] for t in ("regions", "agencies", "assets", "hazard_zones") for i in (0, -1)]
    rdf = io.StringIO()
    export_rdf(store, rdf, fmt="nt")
    return {"rows": rows, "elements": [store.get(i) for i in some], "rdf": rdf.getvalue(),
            "search": [store.search(q="s", limit=20), store.search(region=some[0], limit=20)]}


def test_tables_are_the_records_in_load_order_with_ontology_classes() -> None:
    assert [t.record for t in TABLES.values()] == list(RECORD_TYPES)
    classes = load_ontology().classes
    for table in TABLES.values():
        assert sorted(table.columns) == sorted(table.record.model_fields)
        assert table.ontology_class in classes
        assert all(target in TABLES for target in table.references.values())
        assert [table.position(c) for c in table.columns] == list(range(len(table.columns)))


def test_a_table_that_does_not_match_its_record_is_refused() -> None:
    assets = TABLES["assets"]
    with pytest.raises(RuntimeError, match="are not the fields of Asset"):
        Table("assets", Asset, assets.columns[:-1], ("id",), {}, "Asset", node=True)
    with pytest.raises(RuntimeError, match="are not columns"):
        Table("assets", Asset, assets.columns, ("id",), {"district": "regions"}, "Asset", node=True)
    with pytest.raises(KeyError, match="has no column 'height'"):
        assets.getter("id", "height")


def test_named_access_reads_the_right_values_whatever_the_order() -> None:
    assets = TABLES["assets"]
    values = {"id": "S1", "type": "Substation", "lat": 29.5, "lon": 106.5, "population": 7}
    shuffled = assets.reordered(tuple(reversed(assets.columns)))
    for table in (assets, shuffled):
        row = table.row(values)
        assert table.getter("lat", "id", "population")(row) == (29.5, "S1", 7)
        assert table.as_dict(row) == {c: values.get(c) for c in assets.columns}
    assert assets.row(values) != shuffled.row(values)


@pytest.mark.parametrize("seed", [1, 2])
def test_a_shuffled_schema_gives_the_same_snapshot_and_store(store: Store, city_bundle: Path, tmp_path: Path,
                                                             seed: int) -> None:
    reference = SQLiteStore(str(tmp_path / "reference.db"), create=True)
    load(reference, city_bundle)
    expected, expected_snapshot = _graph(reference), reference.snapshot()
    reference.close()
    with _shuffled_schema(seed):
        load(store, city_bundle)
        assert_snapshots_equal(store.snapshot(), expected_snapshot)
        assert _graph(store) == expected
