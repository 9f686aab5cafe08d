"""Robustness curves: how much of the city keeps working as more and more assets are removed.

A curve has ``steps + 1`` points; point ``i`` removes the first ``k_i`` assets of
an attack order, ``k_i = round(i * n / steps)`` rounded half up, and reports
the fraction of all assets still functional and the fraction of the population
they carry. ``R`` is the mean functional fraction over the points (Schneider et
al., PNAS 2011) and ``critical_removed`` the removed fraction just before the
largest drop. Models, attacks and every decision: docs/robustness.md.

Models
------
``supply``
    Round one's cascade with the removed assets failing at t = 0 and no
    horizon: functional = neither removed nor failed. Removal sets along one
    order are nested and the static cascade is monotone and order-independent,
    so one propagation gives every point: the assets removed at point ``i``
    fail at "time" ``i`` and the static cascade stamps each failure with the
    point that caused it.
``mutual-giant``
    Interdependent percolation over the sectors; see :mod:`kg.analysis.mutual_giant`.

Batch work
----------
A curve is the reduction of independent samples: :func:`sample_curve` computes
one (a function of the snapshot, the :class:`RobustnessSpec` and the sample
index only; the random order of sample ``i`` comes from child ``i`` of
``numpy.random.SeedSequence(seed)``) and :func:`combine` reduces them with exact
integer sums, so the result does not depend on where or in which order the
samples ran. :func:`robustness` does both through an executor (:mod:`kg.executor`):
in-process by default, or on a Dask cluster.

Examples
--------
Two substations feeding a hospital, one of them enough:

>>> from kg.snapshot import build_snapshot
>>> assets = [(i, t, None, None, None, None, None, p, None)
...           for i, t, p in (("S1", "Substation", 0), ("S2", "Substation", 0), ("H", "Hospital", 900))]
>>> deps = [("H", "S1", "power", "power", 0.0), ("H", "S2", "power", "power", 0.0)]
>>> snap = build_snapshot(1, lambda t: {"assets": assets, "dependencies": deps}.get(t, []))
>>> result = robustness(snap, model="supply", attack="degree", steps=3)
>>> [(p.removed, p.functional, p.population) for p in result.points][:3]
[(0.0, 1.0, 1.0), (0.3333333333333333, 0.6666666666666666, 0.0), (0.6666666666666666, 0.3333333333333333, 0.0)]
>>> result.critical_removed, result.R
(0.0, 0.5)
"""

from __future__ import annotations

import itertools
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt

from kg.analysis.cancel import CancelToken, check
from kg.analysis.cascade import network
from kg.analysis.criticality import criticality
from kg.analysis.mutual_giant import coupling
from kg.errors import Problem, ValidationError
from kg.executor import Executor, InProcess, Progress
from kg.snapshot import GraphSnapshot

__all__ = [
    "ATTACKS",
    "MODELS",
    "RobustnessPoint",
    "RobustnessResult",
    "RobustnessSpec",
    "SampleCurve",
    "attack_order",
    "combine",
    "curve",
    "removal_counts",
    "robustness",
    "sample_curve",
]

IntArray = npt.NDArray[np.int64]

MODELS = ("supply", "mutual-giant")
ATTACKS = ("random", "degree", "criticality")
DETERMINISTIC = frozenset({"degree", "criticality"})


def _integer(value: object) -> bool:
    return isinstance(value, int | np.integer) and not isinstance(value, bool)


@dataclass(frozen=True)
class RobustnessSpec:
    """What to compute: model, attack, number of steps, samples and seed (validated on creation).

    Raises
    ------
    ValidationError
        One problem per bad field, named ``model``, ``attack``, ``steps``, ``samples`` or ``seed``.
    """

    model: str = "supply"
    attack: str = "random"
    steps: int = 100
    samples: int = 1
    seed: int = 0

    def __post_init__(self) -> None:
        problems = []
        if self.model not in MODELS:
            problems.append(Problem("model", f"expected one of {', '.join(MODELS)}, got {self.model!r}"))
        if self.attack not in ATTACKS:
            problems.append(Problem("attack", f"expected one of {', '.join(ATTACKS)}, got {self.attack!r}"))
        for name, least in (("steps", 1), ("samples", 1), ("seed", 0)):
            value = getattr(self, name)
            if not _integer(value) or value < least:
                problems.append(Problem(name, f"expected an integer >= {least}, got {value!r}"))
        if problems:
            raise ValidationError(problems)

    @property
    def runs(self) -> int:
        """Samples actually run: ``samples`` for the random attack, one for the deterministic ones."""
        return 1 if self.attack in DETERMINISTIC else int(self.samples)


@dataclass(frozen=True)
class RobustnessPoint:
    """One point of a curve: the fraction removed, and the mean fractions of assets and people still served."""

    removed: float
    functional: float
    population: float

    def to_dict(self) -> dict[str, float]:
        return {"removed": self.removed, "functional": self.functional, "population": self.population}


@dataclass(frozen=True)
class RobustnessResult:
    """A robustness curve; :meth:`to_dict` is the JSON of ``kg robustness --format json``."""

    model: str
    attack: str
    points: tuple[RobustnessPoint, ...]
    critical_removed: float
    R: float
    """Mean of ``functional`` over the points (Schneider et al., PNAS 2011)."""
    samples: int
    """Samples the means are over (1 for a deterministic attack)."""

    def to_dict(self) -> dict[str, Any]:
        return {"model": self.model, "attack": self.attack, "points": [p.to_dict() for p in self.points],
                "critical_removed": self.critical_removed, "R": self.R}


@dataclass(frozen=True, eq=False)
class SampleCurve:
    """One sample's curve as exact counts: the partial result that :func:`combine` reduces."""

    functional: IntArray
    """Functional assets at each point."""
    served: IntArray
    """Population of the functional assets at each point."""
    assets: int
    population: int
    """Totals of the snapshot (the denominators)."""
    recomputed: int = 0
    """Points computed from scratch (``mutual-giant`` only; a measure of the incremental method's reach)."""


def removal_counts(n: int, steps: int) -> list[int]:
    """Assets removed at each point: ``round(i * n / steps)`` rounded half up, for ``i = 0..steps``.

    Examples
    --------
    >>> removal_counts(5, 4)  # 1.25, 2.5, 3.75 -> 1, 3, 4 (half up, not Python's half-to-even 2)
    [0, 1, 3, 4, 5]
    """
    return [(2 * i * n + steps) // (2 * steps) for i in range(steps + 1)]


def _id_rank(snap: GraphSnapshot) -> IntArray:
    rank = np.empty(snap.n, dtype=np.int64)
    rank[np.argsort(np.asarray(snap.asset_ids, dtype=str), kind="stable")] = np.arange(snap.n, dtype=np.int64)
    return rank


def attack_order(snap: GraphSnapshot, attack: str, *, seed: int = 0, sample: int = 0,
                 cancel: CancelToken | None = None) -> IntArray:
    """The order in which ``attack`` removes the assets (asset indexes, first removed first).

    ``random``: a permutation drawn from child ``sample`` of ``SeedSequence(seed)``;
    ``degree``: most dependencies first, counted at both ends, ties by the smaller id;
    ``criticality``: the criticality ranking, most critical first. ``seed`` and
    ``sample`` matter only for ``random``; ``cancel`` is checked while ranking by criticality.

    Examples
    --------
    >>> from kg.snapshot import build_snapshot
    >>> assets = [(i, "Substation", None, None, None, None, None, 0, None) for i in "ABC"]
    >>> snap = build_snapshot(1, lambda t: {"assets": assets, "dependencies": [
    ...     ("A", "C", "power", "power", 0.0), ("B", "C", "power", "power", 0.0)]}.get(t, []))
    >>> [snap.asset_ids[i] for i in attack_order(snap, "degree")]
    ['C', 'A', 'B']
    """
    RobustnessSpec(attack=attack, seed=seed)
    if attack == "random":
        rng = np.random.default_rng(np.random.SeedSequence(seed, spawn_key=(sample,)))
        return rng.permutation(snap.n).astype(np.int64)
    if attack == "degree":
        degree = np.diff(snap.dep_ptr) + np.diff(snap.rdep_ptr)
        return np.lexsort((_id_rank(snap), -degree)).astype(np.int64)
    return np.fromiter((snap.index[c.id] for c in criticality(snap, cancel=cancel)), dtype=np.int64,
                       count=snap.n)


def _supply(snap: GraphSnapshot, order: IntArray, counts: Sequence[int],
            cancel: CancelToken | None) -> tuple[IntArray, IntArray]:
    """Functional assets and their population at each point, from one static propagation."""
    n, points = snap.n, len(counts)
    removed_at = np.repeat(np.arange(points, dtype=np.int64), np.diff(counts, prepend=0))
    initial = dict(zip(order[: counts[-1]].tolist(), removed_at.astype(np.float64).tolist(), strict=True))
    failed = network(snap).spread(initial, static=True, cancel=cancel).failed
    failed_at = np.full(n, points, dtype=np.int64)  # `points`: never fails within the curve
    failed_at[np.fromiter(failed.keys(), dtype=np.int64, count=len(failed))] = np.fromiter(
        failed.values(), dtype=np.float64, count=len(failed)).astype(np.int64)
    lost = np.cumsum(np.bincount(failed_at, minlength=points + 1)[:points])
    people = np.zeros(points + 1, dtype=np.int64)
    np.add.at(people, failed_at, snap.population)
    return n - lost, int(snap.population.sum()) - np.cumsum(people[:points])


def curve(snap: GraphSnapshot, model: str, order: IntArray, steps: int, *, incremental: bool = True,
          cancel: CancelToken | None = None) -> SampleCurve:
    """One sample: the functional assets and population at each of ``steps + 1`` points along ``order``.

    ``order`` lists asset indexes, first removed first (every asset once; see :func:`attack_order`).
    ``incremental=False`` computes every ``mutual-giant`` point from scratch (the plain method).
    ``cancel`` is checked between points (``mutual-giant``) or during the propagation (``supply``).
    """
    RobustnessSpec(model=model, steps=steps)
    counts = removal_counts(snap.n, steps)
    recomputed = 0
    if model == "supply":
        functional, served = _supply(snap, np.asarray(order, dtype=np.int64), counts, cancel)
    else:
        sweep = list(coupling(snap).sweep(order, counts, incremental=incremental, cancel=cancel))
        functional = np.fromiter((p.functional for p in sweep), dtype=np.int64, count=len(sweep))
        served = np.fromiter((p.population for p in sweep), dtype=np.int64, count=len(sweep))
        recomputed = sum(p.recomputed for p in sweep)
    return SampleCurve(functional, served, snap.n, int(snap.population.sum()), recomputed)


def sample_curve(snap: GraphSnapshot, spec: RobustnessSpec, index: int, *,
                 cancel: CancelToken | None = None) -> SampleCurve:
    """Sample ``index`` (``0 <= index < spec.runs``) of ``spec``: the unit of work of a batch executor."""
    check(cancel)
    order = attack_order(snap, spec.attack, seed=spec.seed, sample=index, cancel=cancel)
    return curve(snap, spec.model, order, spec.steps, cancel=cancel)


def _ratio(part: int, whole: int) -> float:
    """``part / whole``, and 0 for an empty whole (no assets, or no population)."""
    return part / whole if whole else 0.0


def combine(spec: RobustnessSpec, samples: Sequence[SampleCurve]) -> RobustnessResult:
    """The curve of ``spec`` from its samples (exact integer sums, so their order does not matter)."""
    if len(samples) != spec.runs or any(len(s.functional) != spec.steps + 1 for s in samples):
        raise ValueError(f"expected {spec.runs} samples of {spec.steps + 1} points each")
    functional = np.sum([s.functional for s in samples], axis=0).tolist()
    served = np.sum([s.served for s in samples], axis=0).tolist()
    assets = len(samples) * samples[0].assets
    people = len(samples) * samples[0].population
    points = tuple(RobustnessPoint(i / spec.steps, _ratio(f, assets), _ratio(p, people))
                   for i, (f, p) in enumerate(zip(functional, served, strict=True)))
    drops = [a - b for a, b in itertools.pairwise(functional)]
    before = drops.index(max(drops))
    return RobustnessResult(spec.model, spec.attack, points, before / spec.steps,
                            _ratio(sum(functional), (spec.steps + 1) * assets), len(samples))


def _samples_chunk(snap: GraphSnapshot, work: tuple[RobustnessSpec, range],
                   cancel: CancelToken | None) -> list[SampleCurve]:
    """The samples of one chunk (the function the executor runs)."""
    spec, indexes = work
    return [sample_curve(snap, spec, i, cancel=cancel) for i in indexes]


def robustness(snap: GraphSnapshot, *, model: str = "supply", attack: str = "random", steps: int = 100,
               samples: int = 1, seed: int = 0, cancel: CancelToken | None = None,
               executor: Executor | None = None, progress: Progress | None = None) -> RobustnessResult:
    """The robustness curve of ``snap`` under ``attack``, for the ``model`` of functioning.

    Parameters
    ----------
    snap : GraphSnapshot
    model : {"supply", "mutual-giant"}
    attack : {"random", "degree", "criticality"}
    steps : int
        Points at removed fractions ``0, 1/steps, ..., 1``.
    samples : int
        Random orders averaged (the deterministic attacks run once).
    seed : int
        Seed (>= 0) of the random orders: the same seed gives the same curve.
    cancel : CancelToken, optional
        Checked between samples and points; a cancelled call raises
        :class:`~kg.analysis.cancel.Cancelled` and returns nothing.
    executor : Executor, optional
        Where the samples run, in chunks (:mod:`kg.executor`); in-process by default.
    progress : callable, optional
        ``progress(chunks done, chunks)``.

    Returns
    -------
    RobustnessResult
        :meth:`RobustnessResult.to_dict` is ``{model, attack, points, critical_removed, R}``.

    Raises
    ------
    ValidationError
        For an unknown model or attack, or steps, samples or seed out of range.
    """
    spec = RobustnessSpec(model, attack, steps, samples, seed)
    ex = executor or InProcess()
    chunks = [(spec, r) for r in ex.chunks(spec.runs)]
    parts = ex.map(_samples_chunk, chunks, shared=snap, progress=progress, cancel=cancel)
    return combine(spec, [c for part in parts for c in part])
