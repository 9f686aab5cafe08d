"""The one scenario runner: what a question about failures asks (:class:`Scenario`) and its answer (:func:`run`).

Every face asks its cascade questions here: ``kg cascade``, ``POST /v1/cascades``,
``POST /v1/city/coordination`` and the page's cascade view. A :class:`Scenario`
says what happens; :func:`run` checks it against a snapshot and runs the engine:

* **initial failures** (``fail``): the given assets fail at the given hours, then the
  cascade (:func:`kg.analysis.cascade.cascade`);
* **hazard** (``hazard``): the exposed assets at or over their fragility threshold fail
  at hour 0, then the cascade (:func:`kg.analysis.hazards.hazard_cascade`);
* **Monte Carlo** (``hazard`` with ``samples``): draws over the fragility curves, a
  cascade per draw, the distribution of the impact (:func:`kg.analysis.hazards.monte_carlo`).

``horizon`` bounds all three. Round two adds:

* ``as_of`` with ``down`` (**live**, docs/live.md): the assets down at that time
  (:func:`kg.live.down_at`) are initial failures, each at the start of its current
  down period; hour 0 is the earliest of those starts (:func:`live_start`).
* ``edits`` (**what-if**, :mod:`kg.analysis.whatif`): edits applied, in order, to a
  copy of the snapshot before the scenario runs; the store is never written.
  :func:`whatif` runs a scenario with and without its edits and compares the two cascades.

Errors carry the field of the scenario they are about (:attr:`kg.errors.KGError.field`),
so that each face can name it in its own words without checking anything itself:

==============================  ==================================================
``("fail", k, "id")``           :class:`~kg.errors.ElementNotFound` (``what="asset"``)
``("fail", k, "time")``         :class:`~kg.errors.ValidationError`
``("hazard", k)``               :class:`~kg.errors.ElementNotFound` (``what="hazard zone"``)
``("samples",)``                :class:`~kg.errors.ValidationError`
``("horizon",)``                :class:`~kg.errors.ValidationError`
``("down",)``                   :class:`~kg.errors.ValidationError` (down without as_of)
``("edits", k, NAME)``          :class:`~kg.errors.EditRejected` (``reasons``: not_found, exists, invalid)
==============================  ==================================================

Checks that need no snapshot (times, horizon, samples) run when the scenario is made,
the rest (ids) in :func:`run`, before any work.

Examples
--------
>>> from kg.snapshot import build_snapshot
>>> assets = [("S", "Substation", None, None, None, None, None, 0, None),
...           ("H", "Hospital", None, None, None, None, None, 300, None)]
>>> snap = build_snapshot(1, lambda t: {"assets": assets,
...                                     "dependencies": [("H", "S", "power", "power", 8.0)]}.get(t, []))
>>> result = run(snap, Scenario(fail=(("S", 1.0),)))
>>> [(f.id, f.time) for f in result.failures]
[('S', 1.0), ('H', 9.0)]
>>> run(snap, Scenario(fail=(("X", 0.0),)))
Traceback (most recent call last):
...
kg.errors.ElementNotFound: no asset with id 'X'
>>> try:
...     run(snap, Scenario(fail=(("S", 0.0), ("s", 2.0))))
... except ElementNotFound as exc:
...     exc.field, exc.hint
(('fail', 1, 'id'), "did you mean 'S'?")
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from dataclasses import dataclass, replace
from datetime import datetime
from typing import Literal

from kg.analysis.cancel import CancelToken
from kg.analysis.cascade import CascadeResult, cascade
from kg.analysis.hazards import MonteCarloResult, hazard_cascade, hazard_failures, monte_carlo
from kg.analysis.whatif import Edit, WhatIfResult, apply_edits, compare
from kg.errors import ElementNotFound, Problem, ValidationError, closest_id
from kg.executor import Executor, Progress
from kg.i18n import Message, _l
from kg.snapshot import GraphSnapshot

__all__ = ["HOUR_US", "Kind", "Outcome", "Scenario", "cascade_of", "damaged", "live_start", "run", "whatif"]

HOUR_US = 3_600_000_000
"""Microseconds in an hour: live times are whole microseconds since 1970-01-01 UTC, cascade times hours."""

Kind = Literal["fail", "hazard", "monte_carlo"]
"""What a scenario runs: the cascade of initial failures, of a hazard, or Monte Carlo over a hazard."""

Outcome = CascadeResult | MonteCarloResult
"""What :func:`run` returns: a cascade, or the distribution of Monte Carlo."""


def _invalid(field: tuple[str | int, ...], where: str, message: Message) -> ValidationError:
    return ValidationError([Problem(where, message)], field=field)


def _check_hours(value: float, field: tuple[str | int, ...], where: str) -> float:
    hours = float(value)
    if not (math.isfinite(hours) and hours >= 0):
        raise _invalid(field, where, _l("must be a finite number of hours >= 0, got {value}", value=repr(value)))
    return hours


@dataclass(frozen=True)
class Scenario:
    """One question about failures: what fails first, how far to look, and how.

    Give ``fail`` or ``hazard`` (not both); ``samples`` (with ``hazard``) asks for
    Monte Carlo. The scenario checks its values when made (raising
    :class:`~kg.errors.ValidationError` with its ``field``), so a face can check them
    before it opens a store and fill ``fail`` in later (:func:`dataclasses.replace`);
    :func:`run` checks the ids, and refuses a scenario with nothing failing.

    Parameters
    ----------
    fail : tuple of (str, float)
        ``(asset id, hours)`` initial failures; an asset given twice fails at the earlier time.
    hazard : tuple of str
        Hazard zone ids.
    samples : int, optional
        Monte Carlo samples (with ``hazard``); ``None``: the deterministic hazard scenario.
    seed : int
        Seed of the Monte Carlo draws (the same seed gives the same answer).
    horizon : float, optional
        Report failures up to this many hours; ``None``: until the cascade stops.
    as_of : datetime, optional
        **Live state.** Start from the assets down at this time, given in ``down``.
    down : tuple of (str, int)
        With ``as_of``: ``(asset id, start of its current down period)`` of every asset
        down then, times in microseconds since 1970-01-01 UTC (what :func:`kg.live.down_at`
        gives). They fail at their start's hour after hour 0, the earliest start; ``fail``
        times then count from hour 0 too.
    edits : tuple of Edit, optional
        What-if edits (:func:`kg.analysis.whatif.parse_edits` gives them from JSON),
        applied in order to a copy of the snapshot before the scenario runs.
    """

    fail: tuple[tuple[str, float], ...] = ()
    hazard: tuple[str, ...] = ()
    samples: int | None = None
    seed: int = 0
    horizon: float | None = None
    as_of: datetime | None = None
    down: tuple[tuple[str, int], ...] = ()
    edits: tuple[Edit, ...] = ()

    def __post_init__(self) -> None:
        object.__setattr__(self, "fail", tuple((str(a), float(t)) for a, t in self.fail))
        object.__setattr__(self, "down", tuple((str(a), int(t)) for a, t in self.down))
        if self.down and self.as_of is None:
            raise _invalid(("down",), "down", _l("the assets down are those at a time: give as_of with them"))
        object.__setattr__(self, "hazard", tuple(self.hazard))
        object.__setattr__(self, "edits", tuple(self.edits))
        if self.fail and self.hazard:
            raise _invalid(("hazard",), "hazard", _l("cannot be combined with fail (initial failures)"))
        for k, (_, hours) in enumerate(self.fail):
            _check_hours(hours, ("fail", k, "time"), f"fail[{k}].time")
        if self.samples is not None:
            if not self.hazard:
                raise _invalid(("samples",), "samples", _l("needs hazard zones (Monte Carlo draws hazard damage)"))
            if self.samples < 1:
                raise _invalid(("samples",), "samples", _l("must be at least 1, got {value}", value=self.samples))
        if self.horizon is not None:
            object.__setattr__(self, "horizon", _check_hours(self.horizon, ("horizon",), "horizon"))

    @classmethod
    def failures(cls, fail: Iterable[tuple[str, float]], *, horizon: float | None = None) -> Scenario:
        """The scenario of initial failures ``(asset id, hours)``."""
        return cls(fail=tuple(fail), horizon=horizon)

    @classmethod
    def hazards(cls, zones: Iterable[str], *, samples: int | None = None, seed: int = 0,
                horizon: float | None = None) -> Scenario:
        """The hazard scenario of ``zones``; Monte Carlo with ``samples``."""
        return cls(hazard=tuple(zones), samples=samples, seed=seed, horizon=horizon)

    @property
    def kind(self) -> Kind:
        """``fail``, ``hazard`` or ``monte_carlo``: which engine :func:`run` calls."""
        if self.hazard:
            return "hazard" if self.samples is None else "monte_carlo"
        return "fail"


def _check_ids(snap: GraphSnapshot, scenario: Scenario) -> None:
    """ElementNotFound, naming the field, for the first id the snapshot does not hold."""
    if not scenario.fail and not scenario.hazard and scenario.as_of is None:
        raise _invalid(("fail",), "fail", _l("give initial failures (fail) or hazard zones (hazard)"))
    for k, (asset_id, _) in enumerate(scenario.fail):
        if asset_id not in snap.index:
            raise ElementNotFound(asset_id, closest_id(asset_id, snap.asset_ids), what="asset",
                                  field=("fail", k, "id"))
    if scenario.hazard:
        zones = frozenset(snap.zone_ids)
        for k, zone in enumerate(scenario.hazard):
            if zone not in zones:
                raise ElementNotFound(zone, closest_id(zone, snap.zone_ids), what="hazard zone", field=("hazard", k))


def live_start(snap: GraphSnapshot, scenario: Scenario) -> tuple[int | None, tuple[tuple[str, float], ...]]:
    """Hour 0 of a live scenario (microseconds; None when nothing is down) and its initial failures in hours.

    Assets the snapshot does not hold (a later load removed them) are left out: they
    cannot fail in this graph (the live picture lists them apart).

    >>> from kg.snapshot import build_snapshot
    >>> from datetime import UTC, datetime
    >>> snap = build_snapshot(1, lambda t: {"assets": [(i, "Substation", None, None, None, None, None, 0, None)
    ...                                                for i in "AB"]}.get(t, []))
    >>> live_start(snap, Scenario(as_of=datetime.now(UTC), down=(("A", 7_200_000_000), ("B", 0), ("Z", 0))))
    (0, (('A', 2.0), ('B', 0.0)))
    """
    down = [(a, t) for a, t in scenario.down if a in snap.index]
    origin = min((t for _, t in down), default=None)
    if origin is None:
        return None, ()
    return origin, tuple((a, (t - origin) / HOUR_US) for a, t in down)


def run(snap: GraphSnapshot, scenario: Scenario, *, cancel: CancelToken | None = None,
        max_failures: int | None = None, executor: Executor | None = None,
        progress: Progress | None = None) -> Outcome:
    """Run ``scenario`` on ``snap``: a :class:`CascadeResult`, or a :class:`MonteCarloResult` with samples.

    Parameters
    ----------
    snap : GraphSnapshot
    scenario : Scenario
    cancel : CancelToken, optional
        Checked as the work goes (every sample, every few thousand failures).
    max_failures : int, optional
        Refuse a cascade of more failures than this (:class:`~kg.errors.ResultTooLarge`);
        Monte Carlo keeps one cascade at a time and is bounded by its samples instead.
    executor : Executor, optional
        Where Monte Carlo samples run (:mod:`kg.executor`; in-process by default); ``progress`` follows them.

    Returns
    -------
    CascadeResult or MonteCarloResult
        Their ``to_dict()`` is the JSON of ``kg cascade --format json``.

    Raises
    ------
    ElementNotFound
        For an unknown asset or zone, with its ``field`` (see the module).
    EditRejected
        For edits that do not fit the graph, with the field of the first (``("edits", k, NAME)``).
    Cancelled, ResultTooLarge
        As the engine's functions.
    """
    _check_ids(snap, scenario)
    if scenario.edits:
        snap = apply_edits(snap, scenario.edits)
    if scenario.samples is not None:  # Monte Carlo (the scenario holds hazard zones)
        return monte_carlo(snap, scenario.hazard, samples=scenario.samples, seed=scenario.seed,
                           horizon=scenario.horizon, cancel=cancel, executor=executor, progress=progress)
    if scenario.hazard:
        return hazard_cascade(snap, scenario.hazard, horizon=scenario.horizon, cancel=cancel,
                              max_failures=max_failures)
    initial = scenario.fail
    if scenario.as_of is not None:  # live: the assets down then, from hour 0 = the earliest start
        initial = live_start(snap, scenario)[1] + initial
    return cascade(snap, initial, horizon=scenario.horizon, cancel=cancel, max_failures=max_failures)


def cascade_of(snap: GraphSnapshot, scenario: Scenario, *, cancel: CancelToken | None = None,
               max_failures: int | None = None) -> CascadeResult:
    """:func:`run` for the questions that need one cascade (coordination, a plot): refuses ``samples``."""
    if scenario.samples is not None:
        raise _invalid(("samples",), "samples", _l("asks for Monte Carlo; this needs one cascade"))
    result = run(snap, scenario, cancel=cancel, max_failures=max_failures)
    assert isinstance(result, CascadeResult)
    return result



def damaged(snap: GraphSnapshot, scenario: Scenario) -> list[str]:
    """The assets ``scenario`` damages, sorted, each once: what a restoration plan repairs.

    Its initial failures' ids (their hours dropped: every repair starts at hour 0; with ``as_of``,
    the assets down then, see :func:`kg.live.down_at`), or the
    exposed assets a hazard takes over their fragility threshold. The cascade that follows is
    not damage: what it cut off comes back when its supply is repaired. Checks the scenario as
    :func:`run` does (errors carry their field) and refuses ``samples`` (a plan needs one damage).

    Examples
    --------
    >>> from kg.snapshot import build_snapshot
    >>> snap = build_snapshot(1, lambda t: {"assets": [("S", "Substation", None, None, None, None, None, 0,
    ...                                                  None, None)]}.get(t, []))
    >>> damaged(snap, Scenario(fail=(("S", 4.0), ("S", 0.0))))
    ['S']
    """
    if scenario.samples is not None:
        raise _invalid(("samples",), "samples", _l("asks for Monte Carlo; a restoration plan needs one damage"))
    _check_ids(snap, scenario)
    if scenario.hazard:
        return hazard_failures(snap, scenario.hazard)
    down = {asset_id for asset_id, _ in live_start(snap, scenario)[1]} if scenario.as_of is not None else set()
    return sorted(down | {asset_id for asset_id, _ in scenario.fail})


def whatif(snap: GraphSnapshot, scenario: Scenario, *, cancel: CancelToken | None = None,
           max_failures: int | None = None) -> WhatIfResult:
    """``scenario`` without its edits (the baseline) and with them, and what changed for whom.

    Returns
    -------
    WhatIfResult
        ``baseline`` and ``modified`` cascades and the ``changes`` (saved, new, delayed,
        earlier) with whom each concerns; :meth:`~kg.analysis.whatif.WhatIfResult.to_dict`
        is the JSON of ``kg whatif --format json``.

    Raises
    ------
    ValidationError
        With ``field=("samples",)`` for a Monte Carlo scenario (a what-if compares two cascades).
    ElementNotFound, EditRejected, Cancelled, ResultTooLarge
        As :func:`run`; the edits are checked before either cascade runs.

    Examples
    --------
    >>> from kg.snapshot import build_snapshot
    >>> from kg.analysis.whatif import AddDependency
    >>> assets = [(i, "Substation", None, None, None, None, None, 5, None) for i in ("S", "T", "H")]
    >>> snap = build_snapshot(1, lambda t: {"assets": assets,
    ...                                     "dependencies": [("H", "S", "power", "power", 0.0)]}.get(t, []))
    >>> result = whatif(snap, Scenario(fail=(("S", 0.0),), edits=(AddDependency("H", "T", "power"),)))
    >>> result.changes.saved, result.modified.summary.failed
    (('H',), 1)
    """
    if scenario.samples is not None:
        raise _invalid(("samples",), "samples", _l("asks for Monte Carlo; a what-if compares two cascades"))
    _check_ids(snap, scenario)
    edited = apply_edits(snap, scenario.edits)  # checked before any work
    baseline = cascade_of(snap, replace(scenario, edits=()), cancel=cancel, max_failures=max_failures)
    modified = cascade_of(edited, replace(scenario, edits=()), cancel=cancel, max_failures=max_failures)
    changes, impact = compare(baseline, modified)
    return WhatIfResult(scenario.edits, baseline, modified, changes, impact)
