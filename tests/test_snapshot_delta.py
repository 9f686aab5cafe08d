"""A small load updates the snapshot from the change log: the result equals a snapshot built from scratch.

Random small loads (new assets anywhere in id order, changed attributes, new
and changed dependencies with new kinds and group labels, exposures, agencies,
regions, hazard zones, fragilities) are written to a real store; the snapshot
the change log brings up to date must equal, field by field, the one
:func:`kg.snapshot.build_snapshot` makes from all the store's rows.
"""

from __future__ import annotations

import bisect
import pickle
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import kg.id_index
import kg.store.sqlite
from kg.id_index import ShiftedIndex, spliced_index
from kg.load.plan import LoadPlan
from kg.ontology import load_ontology
from kg.schema import TABLES
from kg.snapshot import GraphSnapshot, build_snapshot
from kg.snapshot_delta import Change, _first_rows, catch_up
from kg.store import Store
from kg.synth import city_rows
from tests.helpers import assert_snapshots_equal

BASE = city_rows(120, seed=3)
ASSETS = [r[0] for r in BASE["assets"]]
REGIONS = {r[0]: r[1] for r in BASE["regions"]}
AGENCIES = [r[0] for r in BASE["agencies"]]
ZONES = [r[0] for r in BASE["hazard_zones"]]
ONTOLOGY = load_ontology()
TYPES = sorted({r[1] for r in BASE["assets"]})[:6] + sorted(ONTOLOGY.asset_types)[:3]
KINDS = ["power", "water", "telecom", "cooling", "drainage"]
LABELS = ["", "a-first", "mains", "zz-last"]


def _plan(rows: dict[str, list[tuple[Any, ...]]]) -> LoadPlan:
    """A plan of ``rows``, one row per key (the last wins), as the planner would have refused duplicates."""
    plan = LoadPlan()
    for table, table_rows in rows.items():
        key = TABLES[table].getter(*TABLES[table].key)
        plan.rows[table] = list({key(r): r for r in table_rows}.values())
    return plan


@st.composite
def small_load(draw: st.DrawFn, n: int) -> dict[str, list[tuple[Any, ...]]]:
    """The rows of one small load: a few of each kind of change, ids new ones in any place of the order."""
    rows: dict[str, list[tuple[Any, ...]]] = {t: [] for t in TABLES}
    new_ids = [draw(st.sampled_from([f"{a}-n{n}{j}" for a in ASSETS[:8]] + [f"aa-{n}{j}", f"zz-{n}{j}"]))
               for j in range(draw(st.integers(0, 3)))]
    regions = list(REGIONS)
    for j in range(draw(st.integers(0, 1))):
        parent = draw(st.sampled_from(regions))
        rank = ONTOLOGY.levels.index(REGIONS[parent])
        if rank + 1 < len(ONTOLOGY.levels):
            rid = draw(st.sampled_from([f"{parent}-r{n}{j}", f"a-region-{n}{j}"]))
            rows["regions"].append((rid, ONTOLOGY.levels[rank + 1], f"Region {n}{j}", parent, None))
            regions.append(rid)
    for _ in range(draw(st.integers(0, 1))):
        rid = draw(st.sampled_from(list(REGIONS)))
        rows["regions"].append((rid, REGIONS[rid], f"renamed {n}", _parent(rid), None))
    agencies = list(AGENCIES)
    for j in range(draw(st.integers(0, 2))):
        aid = draw(st.sampled_from([*AGENCIES[:5], f"a-agency-{n}{j}", f"zz-agency-{n}{j}"]))
        crews = draw(st.one_of(st.none(), st.integers(0, 50)))
        rows["agencies"].append((aid, f"Agency {n}{j}", "city", None, None, crews, None))
        agencies.append(aid)
    touched = new_ids + draw(st.lists(st.sampled_from(ASSETS), max_size=3))
    for aid in touched:
        rows["assets"].append((
            aid, draw(st.sampled_from(TYPES)), draw(st.one_of(st.none(), st.text("ab", max_size=3))),
            draw(st.one_of(st.none(), st.sampled_from(regions))), draw(st.one_of(st.none(), st.sampled_from(agencies))),
            draw(st.one_of(st.none(), st.floats(29, 30))), draw(st.one_of(st.none(), st.floats(106, 107))),
            draw(st.integers(0, 1000)), draw(st.one_of(st.none(), st.floats(1, 100))), None))
    everyone = ASSETS + new_ids
    for _ in range(draw(st.integers(0, 5))):
        kind = draw(st.sampled_from(KINDS))
        label = draw(st.sampled_from(LABELS)) or kind
        rows["dependencies"].append((draw(st.sampled_from(everyone)), draw(st.sampled_from(everyone)), kind, label,
                                     draw(st.sampled_from([0.0, 2.0, 8.0]))))
    zones = list(ZONES)
    if draw(st.booleans()):
        zid = draw(st.sampled_from([f"a-zone-{n}", f"zz-zone-{n}", ZONES[0]]))
        rows["hazard_zones"].append((zid, "Flood", f"Zone {n}", 0.01, None, None))
        zones.append(zid)
    for _ in range(draw(st.integers(0, 3))):
        rows["exposures"].append((draw(st.sampled_from(everyone)), draw(st.sampled_from(zones)),
                                  draw(st.floats(0, 3))))
    if draw(st.booleans()):
        rows["fragilities"].append(("Flood", 0.5, draw(st.sampled_from(TYPES)), None, None))
    return rows


def _parent(region_id: str) -> str | None:
    return next(r[3] for r in BASE["regions"] if r[0] == region_id)


def _scratch(store: Store) -> GraphSnapshot:
    return build_snapshot(store.version(), store.rows)


def _followed(store: Store, before: GraphSnapshot) -> GraphSnapshot:
    after = catch_up(before, store)
    assert after is not None, "the change log should say what changed"
    assert after.version == store.version()
    assert_snapshots_equal(after, _scratch(store))
    return after


def _check_random_loads(store: Store, loads: list[dict[str, list[tuple[Any, ...]]]]) -> None:
    store.clear()
    store.write(_plan(BASE))
    snap = _scratch(store)
    for rows in loads:
        store.write(_plan(rows))
        snap = _followed(store, snap)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.data())
def test_small_loads_follow_sqlite(sqlite_store: Store, data: st.DataObject) -> None:
    _check_random_loads(sqlite_store, [data.draw(small_load(i)) for i in range(data.draw(st.integers(1, 3)))])


@pytest.mark.neo4j
@settings(max_examples=12, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.data())
def test_small_loads_follow_neo4j(neo4j_store: Store, data: st.DataObject) -> None:
    _check_random_loads(neo4j_store, [data.draw(small_load(i)) for i in range(data.draw(st.integers(1, 3)))])


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.data())
def test_first_rows_of_kinds_and_labels(sqlite_store: Store, data: st.DataObject) -> None:
    """Each kind's and label's first dependency row in key order, as a sort of every row finds it."""
    sqlite_store.clear()
    sqlite_store.write(_plan(BASE))
    # One dependent with two rows of a kind of its own whose labels sort against the providers' order.
    low, high = sorted([ASSETS[3], ASSETS[5]])
    sqlite_store.write(_plan({"dependencies": [(ASSETS[0], low, "steam", "steam-b", 0.0),
                                               (ASSETS[0], high, "steam", "steam-a", 0.0)]}))
    for i in range(data.draw(st.integers(0, 2))):
        sqlite_store.write(_plan(data.draw(small_load(i))))
    snap = _scratch(sqlite_store)
    rows = sorted((d, int(snap.dep_provider[e]), snap.kinds[int(snap.dep_kind[e])],
                   snap.group_labels[int(snap.group_label[snap.dep_group[e]])])
                  for d in range(snap.n) for e in range(int(snap.dep_ptr[d]), int(snap.dep_ptr[d + 1])))
    first_kind: dict[str, tuple[int, int, str, str]] = {}
    first_label: dict[str, tuple[int, int, str, str]] = {}
    for row in rows:
        first_kind.setdefault(row[2], row)
        first_label.setdefault(row[3], row)
    assert _first_rows(snap) == ([first_kind[k] for k in snap.kinds], [first_label[g] for g in snap.group_labels])


def test_two_loads_caught_up_at_once(store: Store) -> None:
    """A reader two versions behind merges both loads' changes."""
    store.write(_plan(BASE))
    before = _scratch(store)
    store.write(_plan({"assets": [("aa-first", "Substation", "first", None, None, None, None, 5, None, None)]}))
    store.write(_plan({"dependencies": [("aa-first", ASSETS[0], "power", "power", 1.0)]}))
    after = _followed(store, before)
    assert after.version == before.version + 2


def test_unchanged_arrays_are_shared(sqlite_store: Store) -> None:
    """A change of names touches no dependency, exposure, coordinate or region array: the new snapshot shares them."""
    sqlite_store.write(_plan(BASE))
    before = _scratch(sqlite_store)
    row = BASE["assets"][5]
    sqlite_store.write(_plan({"assets": [(*row[:2], "a new name", *row[3:])]}))
    after = _followed(sqlite_store, before)
    assert after.names[after.index[row[0]]] == "a new name"
    for name in ("dep_ptr", "dep_provider", "rdep_edge", "group_ptr", "exp_asset", "region_ids", "agency_ids",
                 "index", "asset_ids", "fragilities"):
        assert getattr(after, name) is getattr(before, name), name


def test_clear_is_not_followed(store: Store) -> None:
    """A clear leaves nothing to follow: catch_up says so (None) and the snapshot is built anew."""
    store.write(_plan(BASE))
    before = _scratch(store)
    store.clear()
    assert catch_up(before, store) is None
    assert store.snapshot().n == 0


def test_too_large_a_load_is_rebuilt(sqlite_store: Store, monkeypatch: pytest.MonkeyPatch) -> None:
    """A load touching more keys than the log lists makes readers rebuild; the store's snapshot stays right."""
    sqlite_store.write(_plan(BASE))
    before = sqlite_store.snapshot()
    monkeypatch.setattr(kg.store.sqlite, "LOGGED_KEYS", 2)
    sqlite_store.write(_plan({"assets": [(f"zz-{i}", "Substation", None, None, None, None, None, 0, None, None)
                                         for i in range(3)]}))
    assert catch_up(before, sqlite_store) is None
    assert_snapshots_equal(sqlite_store.snapshot(), _scratch(sqlite_store))


def test_change_round_trips() -> None:
    change = Change.of_rows(_plan(BASE).rows)
    assert Change.from_json(change.to_json()) == change
    assert change.dependents == {r[0] for r in BASE["dependencies"]}


@pytest.mark.parametrize("stride", [10, 1])
def test_many_insertions_at_once(store: Store, stride: int) -> None:
    """More than a few new assets and touched dependents (the binary-search path of renumbering).

    Every asset gets a new neighbour at stride 1: more insertions than are copied slice by slice.
    """
    store.write(_plan(BASE))
    before = _scratch(store)
    new = [f"{a}-many" for a in ASSETS[::stride]]
    store.write(_plan({
        "assets": [(a, "Substation", None, None, None, None, None, 0, None, None) for a in new],
        "dependencies": [(a, ASSETS[i], "power", "power", 1.0) for i, a in enumerate(new)]
        + [(ASSETS[(i + 1) % len(ASSETS)], a, "water", "many", 0.0) for i, a in enumerate(new)],
    }))
    _followed(store, before)


def _check_index(index: Any, ids: list[str], missing: list[str]) -> None:
    """``index`` answers every question the way the dict a scratch build makes does."""
    expected = {a: i for i, a in enumerate(ids)}
    assert len(index) == len(expected)
    assert list(index) == ids
    assert index == expected and expected == index
    for a, i in expected.items():
        assert a in index and index[a] == i and index.get(a) == i and index.get(a, -1) == i
    for a in missing:
        assert a not in index and index.get(a) is None and index.get(a, -1) == -1
        with pytest.raises(KeyError):
            index[a]
    assert pickle.loads(pickle.dumps(index)) == expected


@settings(max_examples=200, deadline=None)
@given(st.lists(st.text("abc", min_size=1, max_size=4), unique=True, max_size=30),
       st.lists(st.lists(st.text("abcd", min_size=1, max_size=5), max_size=6), min_size=1, max_size=6),
       st.sampled_from([2, 5, 1000]))
def test_shifted_index_equals_a_dict(base: list[str], loads: list[list[str]], limit: int) -> None:
    """Ids inserted anywhere over several follows: the index reads like a dict of the ids in order.

    ``limit`` (the most inserted ids kept beside the base) is small in some draws, so chains of follows
    also cross into a flattened dict and start a new base from it.
    """
    ids = sorted(base)
    index: Any = dict(zip(ids, range(len(ids)), strict=True))
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(kg.id_index, "MAX_INSERTED", limit)
        for added in loads:
            new = sorted(set(added) - set(ids))
            positions = [bisect.bisect_left(ids, a) for a in new]
            ids = sorted([*ids, *new])
            index = spliced_index(index, new, positions, tuple(ids))
            _check_index(index, ids, ["", "a-", "b0", "zzzzzz"])  # none of them an id (ids are over "abcd")
            if new and isinstance(index, ShiftedIndex):
                assert len(new) <= limit
