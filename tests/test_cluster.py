"""Batch work on a real Dask cluster gives the in-process answers, whatever the workers and the chunks.

The cluster is the one ``scripts/test`` starts with ``scripts/dask`` (``KG_DASK_URL``); without it this
module starts its own for the session (and stops it). When no cluster can start the tests skip, or fail
under ``KG_REQUIRE_DASK=1`` (CI). Tests that kill workers or need one worker start clusters of their own.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from fastapi.testclient import TestClient
from hypothesis import given, settings
from hypothesis import strategies as st

from kg.analysis.cancel import Cancelled, CancelToken
from kg.analysis.cascade import cascade
from kg.analysis.criticality import criticality, measures
from kg.analysis.hazards import exposed, fail_probability, monte_carlo, sample_draw
from kg.analysis.investment import Candidate, monte_carlo_scenarios, plan_investments
from kg.analysis.robustness import robustness
from kg.analysis.whatif import AddBuffer, Harden
from kg.errors import ValidationError
from kg.executor import ClusterError, DaskExecutor, Executor, InProcess, connect
from kg.ingest import load_paths
from kg.snapshot import GraphSnapshot, build_snapshot
from kg.store import open_store
from kg.synth import city_rows, write_bundle
from tests.helpers import run_kg
from tests.required import unavailable

SCRIPT = Path(__file__).resolve().parents[1] / "scripts" / "dask"


def _dask(state: Path, *args: str) -> str:
    done = subprocess.run([str(SCRIPT), *args], env={**os.environ, "KG_DASK_STATE": str(state)},
                          capture_output=True, text=True, timeout=180)
    if done.returncode != 0:
        raise RuntimeError(f"scripts/dask {' '.join(args)} failed: {done.stderr[-2000:]}")
    return done.stdout.strip().splitlines()[-1] if done.stdout.strip() else ""


@contextmanager
def own_cluster(state: Path, workers: int) -> Iterator[str]:
    """A cluster of this test's own, stopped afterwards; skips (or fails under KG_REQUIRE_DASK=1)."""
    try:
        url = _dask(state, "start", "--workers", str(workers))
    except RuntimeError as exc:
        unavailable("KG_REQUIRE_DASK", f"KG_REQUIRE_DASK=1 but scripts/dask could not start: {exc}",
                    f"no Dask cluster here: {exc}")
    try:
        yield url
    finally:
        _dask(state, "stop")


@pytest.fixture(scope="session")
def dask_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """The session's cluster (two workers): ``KG_DASK_URL``, or one started here."""
    url = os.environ.get("KG_DASK_URL")
    if url:
        yield url
        return
    with own_cluster(tmp_path_factory.mktemp("dask"), 2) as started:
        yield started


@pytest.fixture(scope="module")
def cluster(dask_url: str) -> Iterator[Executor]:
    with connect(dask_url) as ex:
        yield ex


@pytest.fixture(scope="module")
def city() -> tuple[GraphSnapshot, list[str]]:
    rows = city_rows(1500, seed=11)
    snap = build_snapshot(1, lambda t: rows.get(t, []))
    zones = sorted(z[0] for z in rows["hazard_zones"] if z[0].endswith("-100y"))[:3]
    assert zones
    return snap, zones


class Sliced(InProcess):
    """In-process, cut into as many chunks as asked (to show the chunks do not matter)."""

    def __init__(self, slots: int) -> None:
        self.slots = slots


# ---------------------------------------------------------------------- per-sample seeds
def _reference_monte_carlo(snap: GraphSnapshot, zones: list[str], samples: int, seed: int) -> dict[str, float]:
    """Each sample on its own: its draw from child s of SeedSequence(seed), the plain cascade, failures counted."""
    e = exposed(snap, zones)
    p = fail_probability(e)
    hits: dict[str, int] = {}
    for s in range(samples):
        drawn = np.random.default_rng(np.random.SeedSequence(seed).spawn(samples)[s]).random(len(p)) < p
        start = [(snap.asset_ids[a], 0.0) for a in sorted(set(e.asset[drawn].tolist()))]
        for a in [f.id for f in cascade(snap, start).failures] if start else []:
            hits[a] = hits.get(a, 0) + 1
    return {a: k / samples for a, k in hits.items()}


def test_every_sample_draws_from_its_own_seed(city: tuple[GraphSnapshot, list[str]]) -> None:
    snap, zones = city
    mc = monte_carlo(snap, zones, samples=40, seed=3)
    assert mc.probability == _reference_monte_carlo(snap, zones, 40, 3)
    p = fail_probability(exposed(snap, zones))
    assert np.array_equal(sample_draw(p, 3, 17), np.random.default_rng(np.random.SeedSequence(3).spawn(18)[17])
                          .random(len(p)) < p)


@settings(max_examples=8, deadline=None)
@given(slots=st.integers(1, 9), samples=st.integers(1, 60), seed=st.integers(0, 2**32))
def test_any_chunking_gives_the_same_monte_carlo(city: tuple[GraphSnapshot, list[str]], slots: int, samples: int,
                                                 seed: int) -> None:
    snap, zones = city
    whole = monte_carlo(snap, zones, samples=samples, seed=seed, executor=Sliced(1)).to_dict()
    assert monte_carlo(snap, zones, samples=samples, seed=seed, executor=Sliced(slots)).to_dict() == whole


@settings(max_examples=5, deadline=None)
@given(slots=st.integers(2, 40))
def test_any_chunking_gives_the_same_criticality(city: tuple[GraphSnapshot, list[str]], slots: int) -> None:
    snap, _ = city
    one = measures(snap, executor=Sliced(1))
    many = measures(snap, executor=Sliced(slots))
    for name in ("failed", "population", "districts", "agencies"):
        assert np.array_equal(getattr(one, name), getattr(many, name)), name


# ---------------------------------------------------------------------- the cluster gives the same answers
def test_monte_carlo_on_the_cluster(city: tuple[GraphSnapshot, list[str]], cluster: Executor) -> None:
    snap, zones = city
    here = monte_carlo(snap, zones, samples=200, seed=9, horizon=12.0)
    seen: list[tuple[int, int]] = []
    there = monte_carlo(snap, zones, samples=200, seed=9, horizon=12.0, executor=cluster,
                        progress=lambda done, total: seen.append((done, total)))
    assert there.to_dict() == here.to_dict()
    assert here.total.failed.mean > 0  # the comparison is not between two empty results
    assert seen[0][0] == 0 and seen[-1][0] == seen[-1][1] > 1  # progress went chunk by chunk to the end


def test_criticality_on_the_cluster(city: tuple[GraphSnapshot, list[str]], cluster: Executor) -> None:
    snap, _ = city
    here = criticality(snap)
    assert criticality(snap, executor=cluster) == here
    assert here[0].failed > 1
    assert criticality(snap, by="district", top=3, executor=cluster) == criticality(snap, by="district", top=3)


@pytest.mark.parametrize("model", ["supply", "mutual-giant"])
def test_robustness_on_the_cluster(city: tuple[GraphSnapshot, list[str]], cluster: Executor, model: str) -> None:
    snap, _ = city
    here = robustness(snap, model=model, attack="random", steps=25, samples=6, seed=4)
    assert robustness(snap, model=model, attack="random", steps=25, samples=6, seed=4, executor=cluster) == here
    assert robustness(snap, model=model, attack="degree", steps=25, executor=cluster) == robustness(
        snap, model=model, attack="degree", steps=25)


def test_a_plan_on_the_cluster(city: tuple[GraphSnapshot, list[str]], cluster: Executor) -> None:
    snap, zones = city
    e = exposed(snap, zones)
    hazard = e.hazard[0]
    exposed_ids = sorted({snap.asset_ids[a] for a in e.asset.tolist()})
    hospitals = [a for a in snap.asset_ids if snap.type_of(snap.index[a]) == "Hospital"][:3]
    candidates = [Candidate(f"wall-{a}", 1.0 + k % 3, (Harden(a, hazard),)) for k, a in enumerate(exposed_ids[:6])]
    candidates += [Candidate(f"generator-{h}", 2.0, (AddBuffer(h, "power", 24.0),)) for h in hospitals]
    scenarios = monte_carlo_scenarios(snap, zones, samples=60, seed=2)
    here = plan_investments(snap, candidates, 5.0, scenarios, horizon=12.0)
    there = plan_investments(snap, candidates, 5.0, scenarios, horizon=12.0, executor=cluster)
    assert there.to_dict() == here.to_dict()
    assert here.baseline > 0


def test_one_worker_and_two_agree(city: tuple[GraphSnapshot, list[str]], cluster: Executor,
                                  tmp_path: Path) -> None:
    snap, zones = city
    two = monte_carlo(snap, zones, samples=120, seed=1, executor=cluster).to_dict()
    with own_cluster(tmp_path / "dask1", 1) as url, connect(url) as one:
        assert isinstance(one, DaskExecutor) and one.workers() == 1
        assert monte_carlo(snap, zones, samples=120, seed=1, executor=one).to_dict() == two
        assert measures(snap, executor=one).failed.tolist() == measures(snap, executor=cluster).failed.tolist()


# ---------------------------------------------------------------------- failures
def test_a_worker_killed_mid_run_changes_nothing(city: tuple[GraphSnapshot, list[str]], tmp_path: Path) -> None:
    snap, zones = city
    expected = monte_carlo(snap, zones, samples=400, seed=5).to_dict()
    with own_cluster(tmp_path / "dask2", 2) as url, connect(url) as ex:
        assert isinstance(ex, DaskExecutor)
        pids: dict[str, int] = ex._client.run(os.getpid)
        victim = sorted(pids.values())[0]
        killed = threading.Event()

        def kill_after_first(done: int, total: int) -> None:
            if done >= 1 and not killed.is_set():
                killed.set()
                os.kill(victim, signal.SIGKILL)

        try:
            got = monte_carlo(snap, zones, samples=400, seed=5, executor=ex, progress=kill_after_first).to_dict()
        except ClusterError as exc:  # allowed: a clear message, never a wrong answer
            assert "nothing was returned" in str(exc)
        else:
            assert got == expected
        assert killed.is_set()

        def dies(shared: object, chunk: int, cancel: object) -> int:  # sent by value: a local function
            os._exit(1)

        # A chunk that kills every worker it runs on: an error naming it, not a hang or a result.
        with pytest.raises(ClusterError, match=r"(died again and again|dropped the work) of? ?(running )?dies"):
            ex.map(dies, [0], shared=snap)
        # The workers restarted without the snapshot: the executor ships it again and answers the same.
        assert monte_carlo(snap, zones, samples=100, seed=5, executor=ex).to_dict() == monte_carlo(
            snap, zones, samples=100, seed=5).to_dict()


def test_cancelling_stops_the_work_on_the_cluster(city: tuple[GraphSnapshot, list[str]],
                                                  cluster: Executor) -> None:
    snap, zones = city
    token = CancelToken()

    def cancel_at_first(done: int, total: int) -> None:
        if done >= 1:
            token.cancel("enough")

    with pytest.raises(Cancelled, match="enough"):
        monte_carlo(snap, zones, samples=2000, seed=5, executor=cluster, progress=cancel_at_first, cancel=token)


def test_no_scheduler_is_a_clear_error() -> None:
    with pytest.raises(ClusterError, match=r"cannot reach the Dask scheduler at tcp://127\.0\.0\.1:9 "):
        connect("tcp://127.0.0.1:9", timeout=1.0)
    with pytest.raises(ClusterError, match="expected a Dask scheduler address"):
        connect("127.0.0.1:8786")


# ---------------------------------------------------------------------- the CLI and the API
@pytest.fixture(scope="module")
def city_store(tmp_path_factory: pytest.TempPathFactory) -> tuple[str, list[str]]:
    work = tmp_path_factory.mktemp("city")
    rows = city_rows(1500, seed=11)
    write_bundle(rows, work / "bundle")
    url = f"sqlite:///{work / 'city.db'}"
    store = open_store(url, create=True)
    try:
        load_paths(store, [work / "bundle"])
    finally:
        store.close()
    return url, sorted(z[0] for z in rows["hazard_zones"] if z[0].endswith("-100y"))[:3]


def _json(*args: str) -> Any:
    result = run_kg(*args, "--format", "json")
    assert result.exit_code == 0, result.stderr
    return json.loads(result.stdout)


def test_cli_cluster_option(city_store: tuple[str, list[str]], dask_url: str) -> None:
    url, zones = city_store
    hazard = [a for z in zones for a in ("--hazard", z)]
    mc = ["cascade", *hazard, "--samples", "80", "--seed", "3", "--store", url]
    assert _json(*mc, "--cluster", dask_url) == _json(*mc)
    crit = ["criticality", "--top", "15", "--store", url]
    assert _json(*crit, "--cluster", dask_url) == _json(*crit)
    rob = ["robustness", "--samples", "3", "--steps", "20", "--store", url]
    assert _json(*rob, "--cluster", dask_url) == _json(*rob)


def test_cli_unreachable_cluster_exits_1(city_store: tuple[str, list[str]]) -> None:
    result = run_kg("criticality", "--store", city_store[0], "--cluster", "tcp://127.0.0.1:9")
    assert result.exit_code == 1
    assert "cannot reach the Dask scheduler at tcp://127.0.0.1:9" in result.stderr
    assert "Traceback" not in result.stderr
    result = run_kg("criticality", "--store", city_store[0], "--cluster", "nonsense")
    assert result.exit_code == 1 and "expected a Dask scheduler address" in result.stderr


def test_serve_refuses_a_bad_kg_cluster(city_store: tuple[str, list[str]], monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("KG_CLUSTER", "localhost:8786")
    for name in ("KG_STORE", "KG_INSECURE_DEV", "KG_MCP"):  # kg serve sets them: undone after the test
        monkeypatch.setenv(name, "")
    result = run_kg("serve", "--insecure-dev", "--store", city_store[0])
    assert result.exit_code == 1
    assert "KG_CLUSTER: expected a Dask scheduler address tcp://HOST:PORT, got 'localhost:8786'" in result.stderr


def test_api_uses_kg_cluster(city_store: tuple[str, list[str]], dask_url: str) -> None:
    from api.main import create_app
    from tests.api.conftest import auth, settings_for

    url, zones = city_store
    body = {"hazard_zones": zones, "samples": 60, "seed": 2}
    answers = []
    for cluster_url in (None, dask_url):
        with TestClient(create_app(settings_for(url, cluster=cluster_url))) as client:
            mc = client.post("/v1/cascades", json=body, headers=auth("read"))
            crit = client.get("/v1/criticality?top=10", headers=auth("read"))
            assert mc.status_code == crit.status_code == 200, (mc.text, crit.text)
            answers.append((mc.json(), crit.json()))
    assert answers[0] == answers[1]
    with TestClient(create_app(settings_for(url, cluster="tcp://127.0.0.1:9"))) as client:
        answer = client.post("/v1/cascades", json=body, headers=auth("read"))
        assert answer.status_code == 503
        assert answer.headers["content-type"].startswith("application/problem+json")
        assert "127.0.0.1:9" not in answer.text  # the scheduler's address is for the log, not the caller


# ---------------------------------------------------------------------- scripts/dask
def _session_pids(leaders: list[int]) -> set[int]:
    """Every live process in the sessions of ``leaders`` (what the nannies forked included)."""
    out = set()
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
            except OSError:
                continue
            if int(fields[3]) in leaders and fields[0] != "Z":  # field 6 of stat: the session id
                out.add(int(entry.name))
    return out


def test_scripts_dask_stop_ends_everything_it_started(tmp_path: Path) -> None:
    state = tmp_path / "dask"
    with pytest.raises(RuntimeError, match="--workers expects a whole number >= 1"):
        _dask(state, "start", "--workers", "0")
    with own_cluster(state, 1) as url:
        assert _dask(state, "status") == url
        assert _dask(state, "start") == url  # already running: the same URL
        leaders = [int(x) for x in (state / "pids").read_text().split()]
        started = _session_pids(leaders)
        assert len(started) >= 3  # scheduler, nanny, worker
    assert not _session_pids(leaders)
    assert not state.exists()
    done = subprocess.run([str(SCRIPT), "status"], env={**os.environ, "KG_DASK_STATE": str(state)},
                          capture_output=True, text=True, timeout=60)
    assert done.returncode == 3


def test_a_negative_seed_is_refused_by_name(city: tuple[GraphSnapshot, list[str]]) -> None:
    snap, zones = city
    with pytest.raises(ValidationError, match="seed: must be a whole number >= 0, got -1") as caught:
        monte_carlo(snap, zones, samples=3, seed=-1)
    assert caught.value.field == ("seed",)
