"""A small load into a big store does work in proportion to its rows, and is still all or nothing.

The baseline check of a small load (supply loops with no source) reads only
the kinds' upstream of its dependency rows; the groups it reports are those
the whole-graph check reports among what those rows touch.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from kg.analysis.cascade import baseline_errors
from kg.errors import ValidationError
from kg.ingest import baseline_warnings, load_paths
from kg.load.plan import LoadPlan
from kg.snapshot import GraphSnapshot, build_snapshot
from kg.snapshot_delta import catch_up
from kg.store.sqlite import SQLiteStore
from kg.synth import city_rows
from tests.helpers import all_rows, assert_snapshots_equal, write_files

BASE = city_rows(120, seed=5)
ASSETS = [r[0] for r in BASE["assets"]]


class CountingStore(SQLiteStore):
    """A real SQLite store that counts the whole-graph reads a load makes (snapshots, full table scans)."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.snapshots = 0
        self.scans: list[str] = []

    def snapshot(self) -> GraphSnapshot:
        self.snapshots += 1
        return super().snapshot()

    def rows(self, table: str) -> Any:
        self.scans.append(table)
        return super().rows(table)


@pytest.fixture
def big(tmp_path: Path) -> CountingStore:
    store = CountingStore(str(tmp_path / "kg.db"), create=True)
    store.write(LoadPlan(rows={t: list(BASE.get(t, [])) for t in LoadPlan().rows}))
    store.snapshots, store.scans = 0, []
    return store


def test_a_small_load_reads_no_whole_table(big: CountingStore, tmp_path: Path) -> None:
    """Validation, writing and the baseline check of a few rows: indexed lookups only."""
    first = BASE["assets"][0]
    bundle = write_files(tmp_path / "b", {
        "assets.csv": f"id,type,name,region,agency\nnew-sub,Substation,New,{first[3]},{first[4]}\n",
        "dependencies.csv": f"dependent,provider,kind\nnew-sub,{ASSETS[0]},power\n{ASSETS[3]},new-sub,power\n",
    })
    report = load_paths(big, [bundle])
    assert report.counts["assets"] == 1 and report.counts["dependencies"] == 2
    assert big.snapshots == 0 and big.scans == []


def test_a_small_loads_errors_are_all_or_nothing(big: CountingStore, tmp_path: Path) -> None:
    """One bad reference among good rows: nothing is written, the version stays, the snapshot has nothing to follow."""
    before_rows, version = all_rows(big), big.version()
    snap = big.snapshot()
    bundle = write_files(tmp_path / "b", {
        "assets.csv": "id,type,name\ngood-1,Substation,Good\ngood-2,Substation,Good\n",
        "dependencies.csv": f"dependent,provider,kind\ngood-1,{ASSETS[0]},power\ngood-2,no-such-asset,power\n",
    })
    with pytest.raises(ValidationError) as caught:
        load_paths(big, [bundle])
    assert "no-such-asset" in str(caught.value)
    assert all_rows(big) == before_rows and big.version() == version
    assert catch_up(snap, big) is snap


@st.composite
def dependency_rows(draw: st.DrawFn) -> list[tuple[Any, ...]]:
    """Dependency rows among a few of the city's assets, of kinds they mostly had none of: loops with no source."""
    pool = draw(st.lists(st.sampled_from(ASSETS), min_size=2, max_size=4, unique=True))
    kinds = st.sampled_from(["power", "cooling", "fuel"])
    return [(draw(st.sampled_from(pool)), draw(st.sampled_from(pool)), draw(kinds),
             draw(st.sampled_from(["", "b"])) or "main", 0.0) for _ in range(draw(st.integers(2, 8)))]


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(rows=dependency_rows())
def test_upstream_check_reports_what_the_whole_graph_check_reports_there(tmp_path_factory: pytest.TempPathFactory,
                                                                         rows: list[tuple[Any, ...]]) -> None:
    store = SQLiteStore(str(tmp_path_factory.mktemp("kg") / "kg.db"), create=True)
    try:
        store.write(LoadPlan(rows={t: list(BASE.get(t, [])) for t in LoadPlan().rows}))
        plan = LoadPlan()
        plan.rows["dependencies"] = list({r[:4]: r for r in rows if r[0] != r[1]}.values())
        if not plan.rows["dependencies"]:
            return
        store.write(plan)
        whole = baseline_errors(build_snapshot(store.version(), store.rows))
        local = [str(p) for p in baseline_warnings(store, plan)]
        assert set(local) <= {f"baseline: asset {e}" for e in whole}
        touched = {(r[0], r[2]) for r in plan.rows["dependencies"]}
        assert {f"baseline: asset {e}" for e in whole if (e.id, e.kind) in touched} <= set(local)
    finally:
        store.close()


def test_a_large_load_is_checked_whole(big: CountingStore, monkeypatch: pytest.MonkeyPatch) -> None:
    """Past the small-load size the baseline check reads the snapshot, as before."""
    import kg.ingest

    monkeypatch.setattr(kg.ingest, "SMALL_LOAD", 0)
    plan = LoadPlan()
    plan.rows["dependencies"] = [(ASSETS[1], ASSETS[2], "power", "power", 0.0)]
    big.write(plan)
    baseline_warnings(big, plan)
    assert big.snapshots == 1
    assert_snapshots_equal(big.snapshot(), build_snapshot(big.version(), big.rows))
