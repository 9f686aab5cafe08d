"""The compiled propagation answers exactly as the interpreted one: failure times, and each lost group's
time and round, on random graphs (rings, AND/OR groups, buffers) and on a generated city."""

from __future__ import annotations

from functools import cache
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from kg.analysis.cascade import INF, Network, network
from kg.analysis.spread_kernel import reach
from kg.snapshot import GraphSnapshot, build_snapshot
from kg.synth import city_rows
from tests.test_cascade import TIMES, graphs, snap_of


def same(net: Network, initial: dict[int, float], horizon: float, static: bool) -> None:
    expected = net.spread(initial, horizon=horizon, static=static)
    got = reach(net, initial, horizon=horizon, static=static)
    assert dict(zip(got.failed.tolist(), got.failed_times.tolist(), strict=True)) == expected.failed
    assert len(got.failed) == len(expected.failed)
    lost = zip(got.lost.tolist(), got.lost_times.tolist(), got.lost_rounds.tolist(), strict=True)
    assert {g: (t, r) for g, t, r in lost} == expected.lost
    owners = {int(net.snap.group_owner[g]) for g in expected.lost}
    assert sorted(got.reached.tolist()) == sorted(set(expected.failed) | owners)


@settings(max_examples=1500, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(graphs(), st.data())
def test_compiled_spread_equals_the_interpreted_one_on_random_graphs(graph: Any, data: st.DataObject) -> None:
    assets, deps, agencies = graph
    snap = snap_of(assets, deps, agencies=agencies)
    start = data.draw(st.dictionaries(st.integers(0, snap.n - 1), st.sampled_from(TIMES), max_size=3))
    horizon = data.draw(st.sampled_from([INF, INF, 0.0, 1.0, 2.5, 4.0]))
    net = network(snap)
    same(net, start, horizon, data.draw(st.booleans()))
    same(net, start, horizon, False)  # again on the same scratch arrays: the first call left them clean


@cache
def _city() -> GraphSnapshot:
    rows = city_rows(3000, 5)
    return build_snapshot(1, lambda t: rows[t])


@settings(max_examples=60, deadline=None)
@given(st.lists(st.integers(0, 2999), min_size=1, max_size=40), st.sampled_from([INF, 6.0, 24.0]), st.booleans())
def test_compiled_spread_equals_the_interpreted_one_on_a_generated_city(assets: list[int], horizon: float,
                                                                       static: bool) -> None:
    net = network(_city())
    same(net, {a: float(a % 3) for a in assets}, horizon, static)
