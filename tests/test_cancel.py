"""Cancellation: every long analysis stops at its next check once its token is cancelled, and a token that
is never cancelled changes nothing.

"Promptly" is counted in units of work, not seconds: a function whose token is
cancelled while it propagates one cascade starts no other (tests/api/test_bounds_server.py
checks the seconds on a real server).
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings

from kg.analysis.cancel import CHECK_EVERY, Cancelled, CancelToken
from kg.analysis.cascade import cascade, network
from kg.analysis.criticality import cascade_sets, criticality, measures
from kg.analysis.hazards import hazard_cascade, monte_carlo
from kg.analysis.traces import dependencies, dependents, paths, single_points_of_failure
from kg.errors import ResultTooLarge
from kg.snapshot import GraphSnapshot, build_snapshot
from kg.synth import city_rows, write_bundle
from tests.helpers import run_kg
from tests.test_cascade import graphs, snap_of


class Counting(CancelToken):
    """A token that counts its checks and cancels itself at the ``at``-th (never, without ``at``)."""

    def __init__(self, at: int | None = None) -> None:
        super().__init__()
        self.at = at
        self.checks = 0

    def check(self) -> None:
        self.checks += 1
        if self.checks == self.at:
            self.cancel("cancelled by the test")
        super().check()


@contextmanager
def spreads(snap: GraphSnapshot, cancel_during: int | None = None,
            token: CancelToken | None = None) -> Iterator[list[int]]:
    """Count the propagations run on ``snap`` (their start assets); cancel ``token`` during the given one."""
    net = network(snap)
    original = net.spread
    started: list[int] = []

    def spread(initial: dict[int, float], **kw: Any) -> Any:
        started.append(next(iter(initial), -1))
        if token is not None and len(started) == cancel_during:
            token.cancel("cancelled by the test")
        return original(initial, **kw)

    net.spread = spread  # type: ignore[method-assign]
    try:
        yield started
    finally:
        del net.spread


@pytest.fixture(scope="module")
def city() -> GraphSnapshot:
    rows = city_rows(400, seed=5)
    return build_snapshot(1, lambda t: rows[t])


def _hospital(snap: GraphSnapshot) -> str:
    return next(a for a in snap.asset_ids if a.startswith("h-") and len(dependencies(snap, a)) > 3)


def _plant(snap: GraphSnapshot) -> str:
    return next(a for a in snap.asset_ids if a.startswith("pp-"))


# Every long analysis, as a call of (snapshot, token).
CALLS: dict[str, Callable[[GraphSnapshot, CancelToken | None], Any]] = {
    "monte_carlo": lambda s, c: monte_carlo(s, list(s.zone_ids), samples=40, seed=3, cancel=c).to_dict(),
    "criticality": lambda s, c: [x.to_dict() for x in criticality(s, cancel=c)],
    "criticality_by_district": lambda s, c: [x.to_dict() for x in criticality(s, by="district", top=3, cancel=c)],
    "cascade_sets": lambda s, c: cascade_sets(s, cancel=c),
    "cascade_sets_brute_force": lambda s, c: cascade_sets(s, shortcuts=False, cancel=c),
    "cascade": lambda s, c: cascade(s, [(_plant(s), 1.0)], cancel=c).to_dict(),
    "hazard_cascade": lambda s, c: hazard_cascade(s, list(s.zone_ids), horizon=12.0, cancel=c).to_dict(),
    "dependents": lambda s, c: dependents(s, _plant(s), cancel=c).to_list(s),
    "dependencies": lambda s, c: dependencies(s, _hospital(s), cancel=c).to_list(s),
    "paths": lambda s, c: paths(s, _plant(s), _hospital(s), k=50, cancel=c),
    "single_points_of_failure": lambda s, c: single_points_of_failure(s, _hospital(s), cancel=c).to_list(s),
}
# Those that propagate one cascade per unit of work (a sample, an asset).
PER_PROPAGATION = ["monte_carlo", "criticality", "cascade_sets", "cascade_sets_brute_force",
                   "single_points_of_failure"]


@pytest.mark.parametrize("name", list(CALLS))
def test_a_token_never_cancelled_changes_nothing(city: GraphSnapshot, name: str) -> None:
    token = Counting()
    assert CALLS[name](city, token) == CALLS[name](city, None)
    assert token.checks > 0  # it was looked at


@pytest.mark.parametrize("name", list(CALLS))
def test_cancelled_at_any_check_it_stops_there(city: GraphSnapshot, name: str) -> None:
    checks = Counting()
    CALLS[name](city, checks)
    for at in sorted({1, 2, checks.checks // 2, checks.checks} - {0}):
        token = Counting(at)
        with pytest.raises(Cancelled, match="cancelled by the test"):
            CALLS[name](city, token)
        assert token.checks == at  # nothing swallowed the first refusal and went on checking


@pytest.mark.parametrize("name", PER_PROPAGATION)
def test_cancelled_during_a_propagation_it_starts_no_other(city: GraphSnapshot, name: str) -> None:
    with spreads(city) as every:
        CALLS[name](city, None)
    assert len(every) > 3
    token = CancelToken()
    with spreads(city, cancel_during=3, token=token) as started, pytest.raises(Cancelled):
        CALLS[name](city, token)
    assert len(started) == 3


def test_a_cascade_cancelled_while_it_spreads_stops_before_describing(city: GraphSnapshot) -> None:
    token = CancelToken()
    with spreads(city, cancel_during=1, token=token) as started, pytest.raises(Cancelled):
        cascade(city, [(_plant(city), 0.0)], cancel=token)
    assert len(started) == 1


def test_a_long_propagation_checks_as_it_goes() -> None:
    # A chain of 3 * CHECK_EVERY substations: one propagation fails them all, checking every CHECK_EVERY.
    ids = [f"s{i:05d}" for i in range(3 * CHECK_EVERY)]
    deps = [(ids[i + 1], ids[i], "power", "power", 0.0) for i in range(len(ids) - 1)]
    snap = snap_of(ids, deps)
    token = Counting()
    assert len(cascade(snap, [(ids[0], 0.0)], cancel=token).failures) == len(ids)
    inside = token.checks
    token = Counting(at=3)  # the third check falls inside the propagation
    with spreads(snap) as started, pytest.raises(Cancelled):
        cascade(snap, [(ids[0], 0.0)], cancel=token)
    assert len(started) == 1 and token.checks == 3 < inside


def test_a_cascade_past_its_failure_limit_stops_as_it_spreads() -> None:
    ids = [f"s{i:05d}" for i in range(3 * CHECK_EVERY)]
    deps = [(ids[i + 1], ids[i], "power", "power", 0.0) for i in range(len(ids) - 1)]
    snap = snap_of(ids, deps)
    with pytest.raises(ResultTooLarge, match="more than the 100 that can be described") as err:
        cascade(snap, [(ids[0], 0.0)], max_failures=100)
    assert 100 < err.value.size <= CHECK_EVERY  # stopped at the first check past the limit, not at the end
    assert len(cascade(snap, [(ids[0], 0.0)], max_failures=len(ids)).failures) == len(ids)


def test_cancel_from_another_thread_and_deadlines() -> None:
    token = CancelToken()
    assert not token.cancelled
    token.cancel("gone")
    assert token.cancelled and token.deadline == float("-inf")
    with pytest.raises(Cancelled, match="gone"):
        token.check()
    expired = CancelToken.after(-1)
    with pytest.raises(Cancelled, match="time limit"):
        expired.check()
    assert not CancelToken.after(3600).cancelled


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(graphs())
def test_a_live_token_changes_nothing_on_random_graphs(case: Any) -> None:
    assets, deps, agencies = case
    snap = snap_of(assets, deps, agencies=agencies)
    ids = [a for a, _, _ in assets]
    live = CancelToken.after(3600)
    assert [c.to_dict() for c in criticality(snap, cancel=live)] == [c.to_dict() for c in criticality(snap)]
    assert cascade(snap, [(ids[0], 0.0)], cancel=live).to_dict() == cascade(snap, [(ids[0], 0.0)]).to_dict()
    for a in ids:
        assert single_points_of_failure(snap, a, cancel=live).to_list(snap) == \
            single_points_of_failure(snap, a).to_list(snap)
        assert paths(snap, ids[0], a, k=3, cancel=live) == paths(snap, ids[0], a, k=3)
    m = measures(snap, cancel=live)
    assert m.failed.tolist() == measures(snap).failed.tolist()


def test_the_cli_timeout_stops_the_analysis_with_a_clear_message(tmp_path: Path) -> None:
    write_bundle(city_rows(300, seed=5), tmp_path / "bundle")
    url = f"sqlite:///{tmp_path}/kg.db"
    assert run_kg("load", str(tmp_path / "bundle"), "--store", url).exit_code == 0
    zone = json.loads(run_kg("stats", "--store", url, "--format", "json").stdout)["counts"]["hazard_zones"]
    assert zone > 0
    snap = build_snapshot(1, lambda t: city_rows(300, seed=5)[t])
    result = run_kg("cascade", "--hazard", snap.zone_ids[0], "--samples", "1000000", "--timeout", "0.001",
                    "--store", url)
    assert result.exit_code == 1
    assert "stopped after --timeout 0.001 s" in result.stderr and "Traceback" not in result.stderr
    done = run_kg("cascade", "--hazard", snap.zone_ids[0], "--samples", "5", "--timeout", "600", "--store", url,
                  "--format", "json")
    assert done.exit_code == 0 and json.loads(done.stdout)["samples"] == 5
