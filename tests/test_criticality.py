"""Criticality: the shortcuts (leaves, dominator chains) equal brute force, and the ranking is as documented."""

from __future__ import annotations

from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from kg.analysis.cascade import network
from kg.analysis.criticality import cascade_sets, criticality, measures
from kg.snapshot import build_snapshot
from kg.synth import city_rows
from tests.reference_cascade import reference_cascade
from tests.test_cascade import graphs, snap_of


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(graphs())
def test_cascade_sets_equal_the_reference_with_and_without_shortcuts(case: Any) -> None:
    assets, deps, _ = case
    snap = snap_of(assets, deps)
    ids = [a for a, _, _ in assets]
    expected = [frozenset(snap.index[a] for a in reference_cascade(ids, deps, [(x, 0.0)]).failed) for x in ids]
    assert cascade_sets(snap) == expected
    assert cascade_sets(snap, shortcuts=False) == expected


def _measured_by_brute_force(snap: Any) -> list[tuple[int, int, int, int]]:
    district = snap.region[snap.level_index("district")].tolist()
    agency, people = snap.agency.tolist(), snap.population.tolist()
    return [(len(s), sum(people[a] for a in s), len({district[a] for a in s} - {-1}),
             len({agency[a] for a in s} - {-1})) for s in cascade_sets(snap, shortcuts=False)]


def _measured(snap: Any) -> list[tuple[int, int, int, int]]:
    m = measures(snap)
    return list(zip(m.failed.tolist(), m.population.tolist(), m.districts.tolist(), m.agencies.tolist(),
                    strict=True))


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(graphs())
def test_measures_equal_the_brute_force(case: Any) -> None:
    assets, deps, agencies = case
    snap = snap_of(assets, deps, agencies=agencies)
    assert _measured(snap) == _measured_by_brute_force(snap)


def _reference_ranking(snap: Any, by: str | None, top: int | None) -> list[tuple[Any, ...]]:
    """The documented order, spelled out: failures, population, districts, agencies (descending), then id."""
    district = snap.region[snap.level_index("district")].tolist()
    rows = sorted((-f, -p, -d, -g, snap.asset_ids[x], x)
                  for x, (f, p, d, g) in enumerate(_measured_by_brute_force(snap)))
    groups: dict[str | None, list[tuple[Any, ...]]] = {}
    for f, p, d, g, asset, x in rows:
        name = snap.region_ids[district[x]] if district[x] >= 0 else None
        ranked = groups.setdefault(name if by else None, [])
        ranked.append((len(ranked) + 1, asset, name, -f, -p, -d, -g))
    order = sorted(groups, key=lambda k: (k is None, k or ""))
    return [r for k in order for r in groups[k] if top is None or r[0] <= top]


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(graphs(), st.sampled_from([None, "district"]), st.sampled_from([None, 1, 2]))
def test_ranking_equals_the_reference(case: Any, by: str | None, top: int | None) -> None:
    assets, deps, agencies = case
    snap = snap_of(assets, deps, agencies=agencies)
    got = [(c.rank, c.id, c.district, c.failed, c.population, c.districts, c.agencies)
           for c in criticality(snap, by=by, top=top)]
    assert got == _reference_ranking(snap, by, top)


def test_measures_on_loops_of_sole_dependents_and_long_chains() -> None:
    # A and B are each other's only dependent and sole provider (a loop in the dominator forest); a chain
    # of 300 hangs below A, each link the only dependent of the next one down: a deep tree.
    chain = [f"c{i:03d}" for i in range(300)]
    deps = [("A", "S", "power", "power", 0.0), ("A", "B", "water", "water", 0.0),
            ("B", "A", "power", "power", 0.0), ("A", chain[0], "gas", "gas", 0.0)]
    deps += [(chain[i], chain[i + 1], "gas", "gas", 0.0) for i in range(len(chain) - 1)]
    snap = snap_of(["A", "B", "S", *chain], deps)
    assert _measured(snap) == _measured_by_brute_force(snap)
    failed = measures(snap).failed
    assert [failed[snap.index[a]] for a in ("A", "B", "S", "c000", "c299")] == [2, 2, 3, 3, 302]


def test_dominator_shortcut_equals_brute_force_on_a_synthetic_city() -> None:
    rows = city_rows(1500, seed=11)
    snap = build_snapshot(1, lambda t: rows[t])
    assert cascade_sets(snap) == cascade_sets(snap, shortcuts=False)
    assert _measured(snap) == _measured_by_brute_force(snap)


def test_dominator_chains_are_taken_and_exact() -> None:
    #   P -> L -> S -> F -> {H1, H2}; H1 also needs water from W. Each of P, L, S feeds one asset alone.
    deps = [("L", "P", "power", "power", 0.0), ("S", "L", "power", "power", 0.0),
            ("F", "S", "power", "power", 0.0), ("H1", "F", "power", "power", 5.0),
            ("H2", "F", "power", "power", 0.0), ("H1", "W", "water", "water", 0.0)]
    snap = snap_of(["F", "H1", "H2", "L", "P", "S", "W"], deps)
    calls = []
    net = network(snap)
    original = net.spread

    def counting(initial: dict[int, float], **kw: Any) -> Any:
        calls.append(snap.asset_ids[next(iter(initial))])
        return original(initial, **kw)

    net.spread = counting  # type: ignore[method-assign]
    try:
        sets = cascade_sets(snap)
    finally:
        del net.spread
    assert calls == ["F"]  # P, L, S reuse F's cascade, W reuses H1's; H1, H2 are leaves
    names = {snap.asset_ids[x]: sorted(snap.asset_ids[i] for i in s) for x, s in enumerate(sets)}
    assert names["P"] == ["F", "H1", "H2", "L", "P", "S"]
    assert sets == cascade_sets(snap, shortcuts=False)


def test_ranking_and_per_district_ranking() -> None:
    assets = [("P", "d1", 0), ("A", "d1", 10), ("B", "d2", 500), ("Q", "d2", 0), ("C", "d2", 5)]
    deps = [("A", "P", "power", "power", 0.0), ("B", "P", "power", "power", 3.0), ("C", "Q", "water", "water", 0.0)]
    snap = snap_of(assets, deps, agencies={"P": "grid", "A": "housing", "B": "health"})
    ranked = criticality(snap)
    assert [(c.rank, c.id, c.failed, c.population, c.districts, c.agencies) for c in ranked] == [
        (1, "P", 3, 510, 2, 3), (2, "Q", 2, 5, 1, 0), (3, "B", 1, 500, 1, 1), (4, "A", 1, 10, 1, 1),
        (5, "C", 1, 5, 1, 0)]
    per = criticality(snap, by="district", top=2)
    assert [(c.district, c.rank, c.id) for c in per] == [("d1", 1, "P"), ("d1", 2, "A"), ("d2", 1, "Q"),
                                                         ("d2", 2, "B")]
    assert [c.id for c in criticality(snap, top=1)] == ["P"]
