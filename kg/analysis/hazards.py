"""Hazard scenarios: which exposed assets a hazard zone knocks out, and the cascade that follows.

Fragility of an asset to a hazard: its own fragility row if there is one, else
the row of its type, else of the nearest ancestor class that has one (a row for
``PowerAsset`` covers every power asset without a more specific row). An
exposed asset without any fragility for the zone's hazard is not affected.

* Deterministic (:func:`hazard_failures`): an exposed asset fails at t=0 when
  its intensity is at least its threshold (the median, for lognormal rows).
* Monte Carlo (:func:`monte_carlo`): each sample draws, for every exposed
  (asset, hazard), a capacity from the lognormal curve
  (``P(fail | I) = Phi(ln(I / threshold) / beta)``; rows without beta stay
  deterministic); the asset fails when the highest intensity it sees of that
  hazard reaches its capacity. Draws are independent between assets, hazards
  and samples: sample ``s`` draws from its own seed, ``(seed, s)``, so the
  samples can run in chunks anywhere (:mod:`kg.executor`) with the same result.
  Each sample's failures start a cascade.

Examples
--------
>>> from kg.snapshot import build_snapshot
>>> rows = {
...     "assets": [("S", "Substation", None, None, None, None, None, 0, None, None),
...                ("H", "Hospital", None, None, None, None, None, 80, None, None)],
...     "dependencies": [("H", "S", "power", "power", 0.0)],
...     "hazard_zones": [("flood-50y", "Flood", None, 0.02, None, None)],
...     "exposures": [("S", "flood-50y", 1.2)],
...     "fragilities": [("Flood", 1.0, "PowerAsset", None, 0.4)]}
>>> snap = build_snapshot(1, lambda t: rows.get(t, []))
>>> hazard_failures(snap, ["flood-50y"])
['S']
>>> mc = monte_carlo(snap, ["flood-50y"], samples=2000, seed=1)
>>> round(mc.probability["H"], 1)  # Phi(ln(1.2) / 0.4) = 0.68
0.7
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt

from kg.analysis.cancel import CancelToken, check
from kg.analysis.cascade import CascadeResult, cascade, network
from kg.errors import ElementNotFound, Problem, ValidationError
from kg.executor import Executor, InProcess, Progress
from kg.i18n import _l
from kg.ontology import did_you_mean, load_ontology
from kg.snapshot import GraphSnapshot

__all__ = ["Band", "Exposed", "Impact", "MonteCarloResult", "exposed", "fail_probability", "hazard_cascade",
           "hazard_failures", "monte_carlo", "sample_draw"]

FloatArray = npt.NDArray[np.float64]

MEMO_BYTES = 64 << 20
"""Most bytes :func:`monte_carlo` spends remembering the cascades of start sets it has seen (see there)."""


@dataclass(frozen=True)
class Exposed:
    """Exposed assets with a fragility: one row per (asset, hazard), at the highest intensity seen."""

    asset: npt.NDArray[np.int64]
    hazard: tuple[str, ...]
    intensity: FloatArray
    threshold: FloatArray
    beta: FloatArray
    """0 where the fragility is deterministic."""


def _fragility_table(snap: GraphSnapshot) -> tuple[dict[tuple[str, str], tuple[float, float]],
                                                    dict[tuple[str, str], tuple[float, float]]]:
    by_asset: dict[tuple[str, str], tuple[float, float]] = {}
    by_type: dict[tuple[str, str], tuple[float, float]] = {}
    for hazard, asset_type, asset, threshold, beta in snap.fragilities:
        value = (float(threshold), float(beta or 0.0))
        if asset is not None:
            by_asset[(hazard, asset)] = value
        elif asset_type is not None:
            by_type[(hazard, asset_type)] = value
    return by_asset, by_type


def _zone_indexes(snap: GraphSnapshot, zones: Sequence[str]) -> list[int]:
    index = {z: i for i, z in enumerate(snap.zone_ids)}
    out = []
    for k, z in enumerate(zones):
        if z not in index:
            hint = did_you_mean(z, snap.zone_ids)
            expected = _l("expected the id of a hazard zone")
            raise ElementNotFound(z, _l("{message}; {hint}", message=expected, hint=hint) if hint else expected,
                                  field=("zones", k))
        out.append(index[z])
    return out


def exposed(snap: GraphSnapshot, zones: Sequence[str]) -> Exposed:
    """Assets exposed to ``zones`` that have a fragility for the zone's hazard (raises ElementNotFound)."""
    wanted = np.zeros(len(snap.zone_ids), dtype=bool)
    wanted[_zone_indexes(snap, zones)] = True
    by_asset, by_type = _fragility_table(snap)
    onto = load_ontology()
    worst: dict[tuple[int, str], float] = {}
    for a, z, intensity in zip(snap.exp_asset.tolist(), snap.exp_zone.tolist(), snap.exp_intensity.tolist(),
                               strict=True):
        if wanted[z]:
            key = (a, snap.zone_hazard[z])
            worst[key] = max(worst.get(key, -math.inf), intensity)
    rows: list[tuple[int, str, float, float, float]] = []
    for (a, hazard), intensity in sorted(worst.items()):
        curve = by_asset.get((hazard, snap.asset_ids[a]))
        if curve is None:
            asset_type = snap.type_of(a)
            chain = onto.ancestors(asset_type) if asset_type in onto.classes else (asset_type,)
            curve = next((by_type[(hazard, t)] for t in reversed(chain) if (hazard, t) in by_type), None)
        if curve is not None:
            rows.append((a, hazard, intensity, *curve))
    cols = list(zip(*rows, strict=True)) if rows else [(), (), (), (), ()]
    return Exposed(np.asarray(cols[0], dtype=np.int64), tuple(cols[1]),
                   *(np.asarray(c, dtype=np.float64) for c in cols[2:]))


def hazard_failures(snap: GraphSnapshot, zones: Sequence[str]) -> list[str]:
    """Ids of exposed assets whose intensity meets their fragility threshold (they fail at t=0), sorted."""
    e = exposed(snap, zones)
    hit = e.asset[e.intensity >= e.threshold]
    return sorted({snap.asset_ids[i] for i in hit.tolist()})


def hazard_cascade(snap: GraphSnapshot, zones: Sequence[str], *, horizon: float | None = None,
                   cancel: CancelToken | None = None, max_failures: int | None = None) -> CascadeResult:
    """The deterministic scenario: :func:`hazard_failures` fail at t=0, then the cascade runs
    (``cancel`` and ``max_failures`` as in :func:`~kg.analysis.cascade.cascade`)."""
    return cascade(snap, [(a, 0.0) for a in hazard_failures(snap, zones)], horizon=horizon, cancel=cancel,
                   max_failures=max_failures)


@dataclass(frozen=True)
class Band:
    """Mean and 5th/95th percentiles (linear interpolation) of a quantity over the samples."""

    mean: float
    p5: float
    p95: float

    @classmethod
    def of(cls, values: FloatArray) -> Band:
        """The band of ``values`` (one per sample)."""
        p5, p95 = np.percentile(values, [5, 95])
        return cls(float(values.mean()), float(p5), float(p95))

    def to_dict(self) -> dict[str, float]:
        """``{mean, p5, p95}``."""
        return {"mean": self.mean, "p5": self.p5, "p95": self.p95}


@dataclass(frozen=True)
class Impact:
    """Failed assets and population affected in one district (``None``: the whole city)."""

    district: str | None
    failed: Band
    population: Band

    def to_dict(self) -> dict[str, Any]:
        """``{district, failed, population}`` (``district`` null: the whole city)."""
        return {"district": self.district, "failed": self.failed.to_dict(),
                "population": self.population.to_dict()}


@dataclass(frozen=True)
class MonteCarloResult:
    """Distribution of a hazard scenario's impact over ``samples`` seeded draws."""

    zones: tuple[str, ...]
    samples: int
    seed: int
    horizon: float | None
    total: Impact
    districts: tuple[Impact, ...]
    probability: dict[str, float]
    """Probability each asset fails (directly or in the cascade); assets that never failed are left out."""

    def to_dict(self) -> dict[str, Any]:
        """The JSON of ``kg cascade --hazard ... --samples N --format json``: assets by falling
        probability, then id."""
        ranked = sorted(self.probability.items(), key=lambda kv: (-kv[1], kv[0]))
        return {"zones": list(self.zones), "samples": self.samples, "seed": self.seed,
                "horizon_hours": self.horizon, "total": self.total.to_dict(),
                "districts": [d.to_dict() for d in self.districts],
                "probability": [{"id": a, "probability": p} for a, p in ranked]}


def fail_probability(e: Exposed) -> FloatArray:
    """P(fail | intensity) of each row of ``e``: 0 or 1 where deterministic, ``Phi(ln(I / threshold) / beta)`` else."""
    with np.errstate(divide="ignore"):
        z = np.log(e.intensity / e.threshold)
    out = (z >= 0).astype(np.float64)
    curved = e.beta > 0
    out[curved] = [0.5 * math.erfc(-v / math.sqrt(2)) for v in (z[curved] / e.beta[curved]).tolist()]
    return out


@dataclass(frozen=True)
class _Draws:
    """What every Monte Carlo chunk needs besides the snapshot (small: one row per exposed asset)."""

    asset: npt.NDArray[np.int64]
    p: FloatArray
    seed: int
    horizon: float | None
    level: int
    column: npt.NDArray[np.int64]
    """Region index -> column of the per-region impact, -1 for regions not reported (and for none)."""
    districts: int


@dataclass(frozen=True, eq=False)
class _Tallies:
    """One chunk's samples: per-sample, per-region counts and each hit asset's number of failing samples."""

    failed_by: FloatArray
    people_by: FloatArray
    total_failed: FloatArray
    total_people: FloatArray
    hit: npt.NDArray[np.int64]
    hits: npt.NDArray[np.int64]


def sample_draw(p: FloatArray, seed: int, sample: int) -> npt.NDArray[np.bool_]:
    """Which exposed rows (failing with probabilities ``p``) fail in sample ``sample``.

    The sample draws from its own stream, child ``sample`` of ``numpy.random.SeedSequence(seed)``
    (``SeedSequence(seed, spawn_key=(sample,))``, the derivation robustness orders use too), so a
    draw depends only on (seed, sample index): any chunking of the samples, on any number of
    workers, draws the same, and an investment plan's Monte Carlo scenarios are these very samples.
    """
    rng = np.random.default_rng(np.random.SeedSequence(seed, spawn_key=(sample,)))
    return rng.random(len(p)) < p


def _sample_chunk(snap: GraphSnapshot, work: tuple[_Draws, range], cancel: CancelToken | None) -> _Tallies:
    """The samples of one chunk: draws, cascades (memoised by start set within the chunk) and tallies."""
    d, samples = work
    net = network(snap)
    n = len(samples)
    failed_by = np.zeros((n, d.districts), dtype=np.float64)
    people_by = np.zeros((n, d.districts), dtype=np.float64)
    total_failed = np.zeros(n, dtype=np.float64)
    total_people = np.zeros(n, dtype=np.float64)
    found: list[npt.NDArray[np.int64]] = []
    # Keyed by the packed draw (a bit per exposed asset): compact, and equal draws give equal start sets.
    memo: dict[bytes, npt.NDArray[np.int64]] = {}
    memo_room = MEMO_BYTES
    limit = math.inf if d.horizon is None else float(d.horizon)
    for row, s in enumerate(samples):
        check(cancel)
        drawn = sample_draw(d.p, d.seed, s)
        key = np.packbits(drawn).tobytes()
        idx = memo.get(key)
        if idx is None:
            start = dict.fromkeys(d.asset[drawn].tolist(), 0.0)
            run = net.spread(start, static=d.horizon is None, horizon=limit, cancel=cancel)
            idx = np.fromiter(sorted(run.failed), dtype=np.int64, count=len(run.failed))
            cost = idx.nbytes + len(key) + 200  # the entry's own overhead, roughly
            if cost <= memo_room:
                memo[key] = idx
                memo_room -= cost
        found.append(idx)
        pop = snap.population[idx].astype(np.float64)
        cols = d.column[snap.region[d.level, idx]]
        known = cols >= 0
        np.add.at(failed_by[row], cols[known], 1.0)
        np.add.at(people_by[row], cols[known], pop[known])
        total_failed[row], total_people[row] = len(idx), pop.sum()
    hit, hits = np.unique(np.concatenate(found) if found else np.zeros(0, np.int64), return_counts=True)
    return _Tallies(failed_by, people_by, total_failed, total_people, hit.astype(np.int64), hits.astype(np.int64))


def monte_carlo(snap: GraphSnapshot, zones: Sequence[str], *, samples: int = 1000, seed: int = 0,
                horizon: float | None = None, level: str = "district",
                cancel: CancelToken | None = None, executor: Executor | None = None,
                progress: Progress | None = None) -> MonteCarloResult:
    """Monte Carlo over lognormal fragilities: the distribution of a hazard's impact.

    Parameters
    ----------
    snap : GraphSnapshot
    zones : sequence of str
        Hazard zone ids.
    samples : int
        Independent draws (each followed by its cascade).
    seed : int
        Sample ``s`` draws from its own stream, derived from (seed, s) (:func:`sample_draw`): the same
        seed gives the same result, however the samples are cut into chunks and wherever they run.
    horizon : float, optional
        Count failures up to this many hours; ``None``: every eventual failure.
    level : str
        Region level of the per-region impact (``"district"``).
    cancel : CancelToken, optional
        Checked before every sample and as its cascade spreads.
    executor : Executor, optional
        Where the samples run, in chunks (:mod:`kg.executor`); in-process by default.
    progress : callable, optional
        ``progress(chunks done, chunks)``.

    Returns
    -------
    MonteCarloResult
        Mean, p5 and p95 of failed assets and population per region and city-wide,
        and the probability each asset fails.

    Raises
    ------
    ElementNotFound
        For an unknown zone (``field``: ``("zones", k)``).
    ValidationError
        For ``samples < 1`` (``("samples",)``), ``seed < 0`` (``("seed",)``) or a bad horizon (``("horizon",)``).
    Cancelled
        When ``cancel`` is cancelled before the last sample.

    Notes
    -----
    Memory beyond the snapshot: two ``samples x regions`` float arrays, one int
    per asset, one sample's cascade at a time, and per chunk a memo of the
    cascades of start sets already seen (they repeat when few exposed assets
    are uncertain), kept within :data:`MEMO_BYTES`: once full, new start sets
    are computed without being remembered.
    """
    if samples < 1:
        raise ValidationError([Problem("samples", _l("must be at least 1, got {value}", value=samples))],
                              field=("samples",))
    if horizon is not None and not (math.isfinite(horizon) and horizon >= 0):
        raise ValidationError([Problem("horizon", _l("must be a finite number of hours >= 0, got {value}",
                                                     value=repr(horizon)))], field=("horizon",))
    if seed < 0:
        raise ValidationError([Problem("seed", _l("must be a whole number >= 0, got {value}", value=seed))],
                              field=("seed",))
    e = exposed(snap, zones)
    li = snap.level_index(level)
    districts = sorted({int(r) for r in snap.region[li].tolist() if r >= 0}, key=lambda r: snap.region_ids[r])
    column = np.full(len(snap.region_ids) + 1, -1, dtype=np.int64)  # region index -> column; -1 (none) stays -1
    column[districts] = np.arange(len(districts), dtype=np.int64)
    draws = _Draws(e.asset, fail_probability(e), seed, horizon, li, column, len(districts))
    ex = executor or InProcess()
    chunks = [(draws, r) for r in ex.chunks(samples, min_size=8)]
    parts = ex.map(_sample_chunk, chunks, shared=snap, progress=progress, cancel=cancel)
    failed_by = np.concatenate([t.failed_by for t in parts])
    people_by = np.concatenate([t.people_by for t in parts])
    total_failed = np.concatenate([t.total_failed for t in parts])
    total_people = np.concatenate([t.total_people for t in parts])
    hits = np.zeros(snap.n, dtype=np.int64)
    for t in parts:
        hits[t.hit] += t.hits
    per = tuple(Impact(snap.region_ids[r], Band.of(failed_by[:, k]), Band.of(people_by[:, k]))
                for k, r in enumerate(districts) if failed_by[:, k].any())
    probability = {snap.asset_ids[i]: float(hits[i]) / samples for i in np.flatnonzero(hits).tolist()}
    return MonteCarloResult(tuple(zones), samples, seed, None if horizon is None else float(horizon),
                            Impact(None, Band.of(total_failed), Band.of(total_people)), per, probability)
