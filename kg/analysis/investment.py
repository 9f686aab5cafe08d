"""Investment planning: which candidate projects buy the most safety per yuan, within a budget.

A **candidate** is a project: an id, a cost (> 0) and what-if edits
(:mod:`kg.analysis.whatif`: a generator is ``add_buffer``, a second feed
``add_dependency``, a flood wall ``harden``). A **scenario set** says what may
happen, each scenario with a probability:

* :func:`monte_carlo_scenarios`: hazard zones sampled over their fragility curves;
  sample ``s`` draws from its own seed, ``SeedSequence(seed, spawn_key=(s,))``
  (:func:`~kg.analysis.hazards.sample_draw`: the samples of ``kg cascade --samples``), so
  a sample does not depend on where or in which order it is computed. The draws
  are made once, on the city as it is (common random numbers): a hardened asset
  ignores its draw, everything else sees the same luck in every plan compared.
* :func:`scenarios_from`: explicit scenarios (initial failures or hazard zones),
  each with its probability (they need not sum to 1: annual probabilities of
  separate events give an expected annual impact).
* :func:`n_minus_one`: every asset of the chosen types failing alone, equally likely.

The **objective** (lower is better) of a set of chosen candidates is the
expected population affected, ``sum_s p_s * population failing in s`` on the
graph with the candidates' edits applied (:func:`~kg.analysis.whatif.apply_edits`),
or the expected unserved people-hours of the restoration plan of each
scenario's damaged assets (:func:`~kg.analysis.restoration.plan_restoration`).

:func:`plan_investments` runs a **lazy greedy** (Minoux, 1978) by benefit per
cost: a candidate's last known benefit bounds its next one when benefits only
shrink as the plan grows, so most candidates are not re-evaluated at every step.
Where projects complement each other that bound can be wrong; a **local
improvement** pass then tries every drop, add and swap within the budget and
keeps the best improving move until none is left. The steps are finally ranked
greedily within the chosen set, each with its marginal benefit and the
cumulative objective, which equals the objective recomputed from scratch on the
graph edited by the steps so far.
"""

from __future__ import annotations

import heapq
import math
import threading
import weakref
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import numpy.typing as npt

from kg.analysis.cancel import CancelToken, check
from kg.analysis.cascade import INF, Network, gather, network
from kg.analysis.hazards import exposed, fail_probability, sample_draw
from kg.analysis.restoration import plan_restoration
from kg.analysis.spread_kernel import reach_from
from kg.analysis.whatif import AddBuffer, AddDependency, Edit, Harden, RemoveDependency, apply_edits, parse_edits
from kg.errors import EditRejected, Problem, ValidationError, not_found
from kg.executor import Executor, InProcess
from kg.i18n import Message, _l
from kg.ontology import did_you_mean, load_ontology
from kg.snapshot import GraphSnapshot

__all__ = [
    "OBJECTIVES",
    "Candidate",
    "Objective",
    "PlanResult",
    "Scenario",
    "ScenarioSet",
    "Step",
    "greedy",
    "improve",
    "monte_carlo_scenarios",
    "n_minus_one",
    "parse_candidates",
    "plan_investments",
    "scenarios_from",
]

OBJECTIVES = ("population", "people_hours")
"""Expected population affected; expected unserved people-hours (docs/whatif.md, "Investment plans")."""


# ---------------------------------------------------------------------- inputs
@dataclass(frozen=True)
class Candidate:
    """A project: its id, cost and edits."""

    id: str
    cost: float
    edits: tuple[Edit, ...]
    name: str | None = None


def _number(value: Any) -> float | None:
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
        return None
    return float(value)


def parse_candidates(snap: GraphSnapshot, data: Any, *, where: str = "candidates",
                     places: Sequence[str] | None = None) -> tuple[Candidate, ...]:
    """Candidates from their JSON form (a list of ``{id, cost, edits, name?}``), each checked against ``snap``.

    ``places`` names where each item came from (``FILE:LINE`` for a CSV file);
    by default ``candidates[k]``. Each candidate's edits must apply to ``snap`` on
    their own.

    Raises
    ------
    EditRejected
        One problem per bad candidate field or edit, named by its place
        (``candidates[2].edits[0].asset``), with its reason; a repeated id is one
        too (reason ``exists``).
    """
    if not isinstance(data, list) or not data:
        raise ValidationError([Problem(where, _l("expected a non-empty list of candidates {{id, cost, edits}}"))])
    problems: list[Problem] = []
    reasons: list[str] = []

    def add(at: str, message: Message | str, reason: str = "invalid") -> None:
        problems.append(Problem(at, message))
        reasons.append(reason)

    out: list[Candidate] = []
    seen: dict[str, str] = {}
    for k, item in enumerate(data):
        at = places[k] if places is not None else f"{where}[{k}]"
        if not isinstance(item, Mapping):
            add(at, _l("expected an object {{id, cost, edits}}, got {type}", type=type(item).__name__))
            continue
        for name in sorted(set(item) - {"id", "cost", "edits", "name"}):
            add(f"{at}.{name}", _l("is not a field of a candidate (id, cost, edits, name)"))
        cid, cost, name = item.get("id"), _number(item.get("cost")), item.get("name")
        if not isinstance(cid, str) or not cid.strip():
            add(f"{at}.id", _l("expected a non-empty string, got {value}", value=repr(cid)))
        elif cid in seen:
            add(f"{at}.id", _l("candidate {id} is already defined at {where}", id=repr(cid), where=seen[cid]), "exists")
        else:
            seen[cid] = at
        if cost is None or cost <= 0:
            add(f"{at}.cost", _l("expected a finite number > 0, got {value}", value=repr(item.get("cost"))))
        if name is not None and not isinstance(name, str):
            add(f"{at}.name", _l("expected a string, got {value}", value=repr(name)))
        if "edits" not in item:
            add(f"{at}.edits", _l("missing (a list of edits)"))
            continue
        try:
            edits = parse_edits(item["edits"], where=f"{at}.edits")
            apply_edits(snap, edits, where=f"{at}.edits")
        except EditRejected as exc:
            problems.extend(exc.problems)
            reasons.extend(exc.reasons)
            continue
        except ValidationError as exc:
            for p in exc.problems:
                add(p.where, p.text)
            continue
        if isinstance(cid, str) and cost is not None:
            out.append(Candidate(cid, cost, edits, name))
    if problems:
        raise EditRejected(problems, reasons)
    return tuple(out)


@dataclass(frozen=True)
class Scenario:
    """What may happen, with its probability: failures at given hours, and hazard hits that hardening prevents."""

    id: str
    probability: float
    fail: tuple[tuple[int, float], ...] = ()
    """(asset index, hours)."""
    hits: tuple[tuple[int, str], ...] = ()
    """(asset index, hazard): the asset fails at hour 0 unless a chosen edit hardens it against that hazard."""


@dataclass(frozen=True)
class ScenarioSet:
    """Scenarios and how they were made (``kind``: ``monte_carlo``, ``file`` or ``n_minus_one``)."""

    kind: str
    scenarios: tuple[Scenario, ...]
    about: dict[str, Any] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        return {"kind": self.kind, "count": len(self.scenarios),
                "total_probability": math.fsum(s.probability for s in self.scenarios), **self.about}


def monte_carlo_scenarios(snap: GraphSnapshot, zones: Sequence[str], *, samples: int = 1000,
                          seed: int = 0) -> ScenarioSet:
    """``samples`` equally likely draws of the damage ``zones`` do (lognormal fragilities, as ``kg cascade``).

    Raises
    ------
    ElementNotFound
        For an unknown zone.
    ValidationError
        For ``samples < 1`` or ``seed < 0``.
    """
    problems = []
    if isinstance(samples, bool) or not isinstance(samples, int) or samples < 1:
        problems.append(Problem("samples", _l("expected a whole number >= 1, got {value}", value=repr(samples))))
    if isinstance(seed, bool) or not isinstance(seed, int) or seed < 0:
        problems.append(Problem("seed", _l("expected a whole number >= 0, got {value}", value=repr(seed))))
    if problems:
        raise ValidationError(problems)
    e = exposed(snap, zones)
    p = fail_probability(e)
    rows = list(zip(e.asset.tolist(), e.hazard, strict=True))
    out = []
    for s in range(samples):
        drawn = np.flatnonzero(sample_draw(p, seed, s)).tolist()
        out.append(Scenario(f"sample-{s}", 1.0 / samples, hits=tuple(rows[r] for r in drawn)))
    return ScenarioSet("monte_carlo", tuple(out), {"zones": list(zones), "samples": samples, "seed": seed})


def n_minus_one(snap: GraphSnapshot, types: Sequence[str], *, where: str = "n_minus_one") -> ScenarioSet:
    """Every asset whose type is one of ``types`` (or below it) failing alone at hour 0, equally likely.

    No asset of those types gives no scenario (nothing can fail, every plan is worth 0).

    Raises
    ------
    ValidationError
        For a name that is not an asset type (``n_minus_one[k]``), or no name at all.
    """
    onto = load_ontology()
    problems = []
    for k, t in enumerate(types):
        if t not in onto.asset_types:
            hint = did_you_mean(t, sorted(onto.asset_types))
            expected = _l("expected an asset type (an ontology class such as Substation)")
            problems.append(Problem(f"{where}[{k}]", _l("{message}; {hint}", message=expected, hint=hint) if hint
                                    else expected))
    if problems or not types:
        raise ValidationError(problems or [Problem(where, _l("expected at least one asset type"))])
    wanted = {c for t in types for c in onto.subclasses(t)}
    ids = sorted(snap.asset_ids[i] for i in range(snap.n) if snap.type_of(i) in wanted)
    scenarios = tuple(Scenario(a, 1.0 / len(ids), fail=((snap.index[a], 0.0),)) for a in ids)
    return ScenarioSet("n_minus_one", scenarios, {"types": list(types)})


def _fail_items(snap: GraphSnapshot, value: Any, at: str, problems: list[Problem]) -> list[tuple[int, float]]:
    if not isinstance(value, list) or not value:
        problems.append(Problem(at, _l("expected a non-empty list of asset ids or {{id, time}} objects")))
        return []
    out = []
    for j, item in enumerate(value):
        here = f"{at}[{j}]"
        asset, time = (item, 0.0) if isinstance(item, str) else (
            (item.get("id"), item.get("time", 0.0)) if isinstance(item, Mapping) else (None, None))
        t = _number(time)
        if not isinstance(asset, str):
            problems.append(Problem(here, _l("expected an asset id or an object {{id, time}}")))
        elif asset not in snap.index:
            problems.append(Problem(here, not_found(str(asset), "asset")))
        elif t is None or t < 0:
            problems.append(Problem(f"{here}.time", _l("expected a finite number of hours >= 0, got {value}",
                                                       value=repr(time))))
        else:
            out.append((snap.index[asset], t))
    return out


def scenarios_from(snap: GraphSnapshot, data: Any, *, where: str = "scenarios") -> ScenarioSet:
    """Explicit scenarios: a list of ``{id?, probability, fail: [...]}`` or ``{id?, probability, hazard: [...]}``.

    ``fail`` lists asset ids (failing at hour 0) or ``{id, time}`` objects; ``hazard``
    lists zone ids, whose exposed assets at or over their fragility threshold fail at
    hour 0. ``probability`` is in (0, 1].

    Raises
    ------
    ValidationError
        One problem per bad scenario field, named ``scenarios[k].field``.
    """
    if not isinstance(data, list) or not data:
        raise ValidationError([Problem(where, _l("expected a non-empty list of scenarios "
                                                 "{{probability, fail|hazard}}"))])
    problems: list[Problem] = []
    out = []
    zone_ids = set(snap.zone_ids)
    for k, item in enumerate(data):
        at = f"{where}[{k}]"
        if not isinstance(item, Mapping):
            problems.append(Problem(at, _l("expected an object, got {type}", type=type(item).__name__)))
            continue
        problems += [Problem(f"{at}.{name}", _l("is not a field of a scenario (id, probability, fail, hazard)"))
                     for name in sorted(set(item) - {"id", "probability", "fail", "hazard"})]
        sid = item.get("id", f"scenario-{k}")
        p = _number(item.get("probability"))
        if not isinstance(sid, str) or not sid:
            problems.append(Problem(f"{at}.id", _l("expected a non-empty string, got {value}", value=repr(sid))))
        if p is None or not 0 < p <= 1:
            problems.append(Problem(f"{at}.probability", _l("expected a number in (0, 1], got {value}",
                                                             value=repr(item.get("probability")))))
        if ("fail" in item) == ("hazard" in item):
            problems.append(Problem(at, _l("give either fail (asset ids) or hazard (zone ids)")))
            continue
        fail: list[tuple[int, float]] = []
        hits: list[tuple[int, str]] = []
        if "fail" in item:
            fail = _fail_items(snap, item["fail"], f"{at}.fail", problems)
        else:
            zones = item["hazard"]
            if not isinstance(zones, list) or not zones or not all(isinstance(z, str) for z in zones):
                problems.append(Problem(f"{at}.hazard", _l("expected a non-empty list of hazard zone ids")))
                continue
            unknown = [j for j, z in enumerate(zones) if z not in zone_ids]
            problems += [Problem(f"{at}.hazard[{j}]", not_found(str(zones[j]), "hazard zone")) for j in unknown]
            if not unknown:
                e = exposed(snap, zones)
                hit = e.intensity >= e.threshold
                hits = [(a, h) for a, h, y in zip(e.asset.tolist(), e.hazard, hit.tolist(), strict=True) if y]
        if p is not None and isinstance(sid, str):
            out.append(Scenario(sid, p, tuple(fail), tuple(hits)))
    if problems:
        raise ValidationError(problems)
    return ScenarioSet("file", tuple(out))


# ---------------------------------------------------------------------- the objective
Start = tuple[tuple[int, float], ...]
"""A scenario's initial failures under a plan: (asset index, hours), sorted."""


@dataclass(frozen=True)
class _Run:
    """One start set's impact on one plan's graph, and every asset its cascade reached."""

    impact: float
    reached: npt.NDArray[np.int32]
    """Assets that failed or lost any supply (within the horizon): edits elsewhere cannot change this run."""


class Objective:
    """The objective of a set of chosen candidates (by index), memoised; :attr:`evaluations` counts real ones.

    Scenarios that start from the same failures under a plan are run once, with
    their probabilities added (many Monte Carlo samples repeat when few assets are
    uncertain). A plan is evaluated from the runs of a plan it contains (the
    largest of the :attr:`keep` last used, or no investment at all): a start
    set is run again on the plan's graph only when the added candidates' edits
    touch an asset its run there reached (failed, or lost a supply) — a buffer's
    asset, a feed's dependent (and its provider for a new need, a group without
    a source until then, or a feed replacing a removed one), a removed dependency's dependent and the group's providers,
    any member of a supply loop through an added or removed dependency, with its
    providers — or when the start set is new (a flood
    wall removed a draw), or, for every start set, when the added edits change which
    supply loops lack a source anywhere (:attr:`reruns` counts the runs again). A
    cascade that never reaches an edit cannot see it, so an inherited run is exactly
    the run on the plan's graph.
    """

    SNAPSHOTS = 8
    """Edited copies of the city kept (a plan's, and its base's when its edits add or remove dependencies)."""

    def __init__(self, snap: GraphSnapshot, candidates: Sequence[Candidate], scenarios: ScenarioSet, *,
                 objective: str = "population", horizon: float | None = None,
                 cancel: CancelToken | None = None, executor: Executor | None = None) -> None:
        self.snap = snap
        self.executor = executor or InProcess()
        self.candidates = tuple(candidates)
        self.scenarios = scenarios.scenarios
        self.objective = objective
        self.horizon = horizon
        self.cancel = cancel
        self.evaluations = 0
        self.reruns = 0
        self._memo: dict[frozenset[int], float] = {}
        self.keep = len(self.candidates) + 8
        """Evaluated plans whose runs are kept to evaluate plans that contain them, the least recently used
        dropped first (the plan without investment is always kept): enough for the plain greedy's current
        plan through a step and the local pass's drops through a round. Runs shared by plans are held once."""
        self._tables: dict[frozenset[int], dict[int, _Run]] = {}  # plan -> start set number -> run; LRU first
        # Start sets are numbered, each by a recipe (a scenario, and the hits of it that walls remove), not
        # by its failures: hundreds of them per sample, in every plan's walls, would fill the memory.
        plain: dict[Start, int] = {}
        self._plain = [plain.setdefault(self._start_of(s, set()), k) for k, s in enumerate(self.scenarios)]
        """Each scenario's start set with nothing hardened: the first scenario with the same failures."""
        self._nothing = plain.get((), -1)
        same: dict[tuple[Any, ...], int] = {}
        self._same = [same.setdefault((s.fail, s.hits), k) for k, s in enumerate(self.scenarios)]
        """The first scenario with the same failures and hits (walls remove hits: the same hits, the same rest)."""
        del plain, same
        self._hit_assets: dict[int, npt.NDArray[np.int64]] = {}  # a scenario's hits' assets, once made
        self._numbers: dict[tuple[int, tuple[tuple[int, str], ...]], int] = {}
        self._recipes: list[tuple[int, tuple[tuple[int, str], ...]]] = []
        walls = {(snap.index[e.asset], e.hazard) for c in self.candidates for e in c.edits if isinstance(e, Harden)}
        self._hit_by: dict[tuple[int, str], list[int]] = {}
        """The scenarios with each hit some candidate hardens against."""
        for k, s in enumerate(self.scenarios):
            for hit in sorted(set(s.hits) & walls):
                self._hit_by.setdefault(hit, []).append(k)

    def edited(self, chosen: Iterable[int]) -> GraphSnapshot:
        """The snapshot with the edits of ``chosen`` applied (in candidate order; shared edits once)."""
        edits = [e for c in sorted(chosen) for e in self.candidates[c].edits]
        return apply_edits(self.snap, edits, strict=False) if edits else self.snap

    def _edited(self, plan: frozenset[int]) -> GraphSnapshot:
        """The city edited by ``plan``'s edits but its walls, from the last few made: cascades never read
        exposures (walls act on the start sets), so plans with the same feeds and buffers share one copy,
        and its network. The copies are the ones the scenario runs use in this process (:func:`_edited`)."""
        return _edited(self.snap, self._graph_edits(plan))

    def _graph_edits(self, plan: frozenset[int]) -> tuple[Edit, ...]:
        """``plan``'s edits but its walls (which act on the start sets, not on the graph)."""
        return tuple(e for c in sorted(plan) for e in self.candidates[c].edits if not isinstance(e, Harden))

    def __call__(self, chosen: frozenset[int]) -> float:
        value = self._memo.get(chosen)
        if value is None:
            value = self._memo[chosen] = self._evaluate(chosen)
            self.evaluations += 1
        elif chosen in self._tables:  # asked again (the plain greedy's pick): likely the next plans' base
            self._tables[chosen] = self._tables.pop(chosen)
        return value

    def _number(self, scenario: int, removed: tuple[tuple[int, str], ...]) -> int:
        """The number of the start set of ``scenario`` without the hits ``removed``."""
        recipe = (self._same[scenario] if removed else self._plain[scenario], removed)
        number = self._numbers.get(recipe)
        if number is None:
            number = self._numbers[recipe] = len(self._recipes)
            self._recipes.append(recipe)
        return number

    def _start(self, number: int) -> tuple[npt.NDArray[np.int64], npt.NDArray[np.float64]]:
        """The failing assets of start set ``number`` and their hours (a sample's draw, as arrays: faster to
        filter than a tuple of hundreds of pairs is to build)."""
        scenario, removed = self._recipes[number]
        s = self.scenarios[scenario]
        if s.fail:
            start = self._start_of(s, set(removed))
            return (np.fromiter((a for a, _ in start), dtype=np.int64, count=len(start)),
                    np.fromiter((t for _, t in start), dtype=np.float64, count=len(start)))
        hits = self._hit_assets.get(scenario)
        if hits is None:
            hits = self._hit_assets[scenario] = np.fromiter((a for a, _ in s.hits), dtype=np.int64,
                                                            count=len(s.hits))
        if removed:
            keep = np.ones(len(hits), dtype=bool)
            for a, hazard in removed:
                keep[[j for j in np.flatnonzero(hits == a).tolist() if s.hits[j][1] == hazard]] = False
            hits = hits[keep]
        assets = np.unique(hits)  # an asset hit twice (two zones, two hazards) fails once
        return assets, np.zeros(len(assets))

    @staticmethod
    def _start_of(s: Scenario, hardened: set[tuple[int, str]]) -> Start:
        start = dict(s.fail)
        for a, hazard in s.hits:
            if (a, hazard) not in hardened:
                start[a] = 0.0
        return tuple(sorted(start.items()))

    def _starts(self, hardened: set[tuple[int, str]]) -> dict[int, list[float]]:
        """The start sets (by number) of the scenarios under ``hardened``, with their probabilities."""
        removed: dict[int, list[tuple[int, str]]] = {}
        for hit in sorted(hardened):
            for k in self._hit_by.get(hit, ()):
                removed.setdefault(k, []).append(hit)
        weights: dict[int, list[float]] = {}
        for k, s in enumerate(self.scenarios):
            if self._plain[k] != self._nothing:  # nothing fails: nothing to count
                weights.setdefault(self._number(k, tuple(removed.get(k, ()))), []).append(s.probability)
        return weights

    def _touched(self, base_plan: frozenset[int], plan: frozenset[int]) -> tuple[set[int], bool]:
        """Assets whose groups differ between the graphs of ``base_plan`` and ``plan`` (which contains it)
        or whose runs may (their providers; every member of a supply loop through an added or removed
        dependency, before or after, with its providers), and whether the added edits change which loops
        lack a source."""
        edits = [e for c in sorted(plan - base_plan) for e in self.candidates[c].edits]
        index = self.snap.index
        touched = {index[e.asset] for e in edits if isinstance(e, AddBuffer)}
        dependencies = [e for e in edits if isinstance(e, AddDependency | RemoveDependency)]
        if not dependencies:
            return touched, False
        base, snap = self._edited(base_plan), self._edited(plan)
        ends: set[int] = set()
        thinned = {index[e.dependent] for e in dependencies if isinstance(e, RemoveDependency)}
        for e in dependencies:
            d, p = index[e.dependent], index[e.provider]
            ends.update((d, p))
            touched.add(d)
            if isinstance(e, RemoveDependency):
                # The group's other providers: one of them stopping may now leave it without support.
                touched.update(base.providers(d).tolist())
            else:
                # One more provider in a group supported with nothing failed changes nothing while the
                # dependent is not reached (the group never loses support); a new need fails with its
                # provider, and so does a group that was unsupported (counted as supplied) until now, or
                # one whose other providers these edits remove.
                g = _group(base, d, e.kind, e.group or e.kind)
                if g < 0 or d in thinned or self._network(base).forced[g]:
                    touched.add(p)
        # A dependency added or removed may close or open a supply loop: every member of a loop
        # through either end, before or after, now depends on how its loop is fed from outside.
        before, after = self._network(base), self._network(snap)
        loops = self._loops_of(before, ends) | self._loops_of(after, ends)
        for a in loops:
            touched.update(base.providers(a).tolist())
            touched.update(snap.providers(a).tolist())
        touched |= loops
        return touched, self._unsourced(before, touched) != self._unsourced(after, touched)

    @staticmethod
    def _loops_of(net: Network, assets: set[int]) -> set[int]:
        """Every asset in a supply loop (a strongly connected set of delivery units) with one of ``assets``."""
        units_ptr = np.asarray(net.node_units_ptr)  # views of the network's arrays, no copies
        unit_loop = np.asarray(net.unit_loop)
        units = gather(units_ptr, np.fromiter(sorted(assets), dtype=np.int64, count=len(assets)))
        loops = np.unique(unit_loop[units])
        loops = loops[loops >= 0]
        if not len(loops):
            return set()
        unit_asset = np.repeat(np.arange(len(units_ptr) - 1), np.diff(units_ptr))  # units of an asset are consecutive
        return set(unit_asset[np.isin(unit_loop, loops)].tolist())

    @staticmethod
    def _unsourced(net: Network, touched: set[int]) -> set[tuple[int, str, str]]:
        """The groups of untouched assets that lack a source, by (owner, kind, group label): names, not
        numbers, since two edited copies may number the kinds and labels they add differently."""
        snap = net.snap
        return {(int(snap.group_owner[g]), snap.kinds[int(snap.group_kind[g])],
                 snap.group_labels[int(snap.group_label[g])])
                for g in np.flatnonzero(net.forced).tolist() if int(snap.group_owner[g]) not in touched}

    def _base(self, chosen: frozenset[int]) -> frozenset[int]:
        """The kept plan inside ``chosen`` with the most candidates (the most recent among equals)."""
        best = frozenset[int]()
        for plan in reversed(self._tables):
            if len(plan) > len(best) and plan < chosen:
                best = plan
        return best

    def _evaluate(self, chosen: frozenset[int]) -> float:
        hardened = {(self.snap.index[e.asset], e.hazard) for c in chosen for e in self.candidates[c].edits
                    if isinstance(e, Harden)}
        starts = self._starts(hardened)
        if chosen and frozenset() not in self._tables:
            self(frozenset())
        if not chosen:
            runs: dict[int, _Run] = {}
            rerun = list(starts)
        else:
            base = self._base(chosen)
            table = self._tables[base] = self._tables.pop(base)  # used: the most recent now
            touched, everything = self._touched(base, chosen)
            mask = np.zeros(self.snap.n, dtype=bool)
            mask[list(touched)] = True
            runs = {k: r for k, r in table.items() if k in starts and not everything and not mask[r.reached].any()}
            rerun = [k for k in starts if k not in runs]
            self.reruns += len(rerun)
        if rerun:
            runs.update(zip(rerun, self._runs_of(self._graph_edits(chosen), rerun), strict=True))
        self._tables[chosen] = runs
        while len(self._tables) > self.keep + 1:
            del self._tables[next(plan for plan in self._tables if plan)]
        return math.fsum(math.fsum(p) * runs[k].impact for k, p in starts.items())

    def _network(self, snap: GraphSnapshot) -> Network:
        """The network of ``snap``; the city's own when only buffers differ (buffers are not part of it)."""
        return network(self.snap if snap.dep_group is self.snap.dep_group else snap)

    def _runs_of(self, edits: tuple[Edit, ...], numbers: list[int]) -> list[_Run]:
        """The runs of the start sets ``numbers`` on the city edited by ``edits`` (no walls), in chunks
        through the executor (:mod:`kg.executor`): each chunk carries its start sets and the edits, and
        the worker edits its own copy of the city once (:func:`_edited`)."""
        work = _Work(edits, self.objective, self.horizon)
        cuts = self.executor.chunks(len(numbers), per_slot=2, min_size=16)
        chunks = [(work, [self._start(k) for k in numbers[r.start:r.stop]]) for r in cuts]
        return [run for part in self.executor.map(_runs_chunk, chunks, shared=self.snap, cancel=self.cancel)
                for run in part]


@dataclass(frozen=True)
class _Work:
    """What a chunk of runs needs besides the city and its start sets."""

    edits: tuple[Edit, ...]
    objective: str
    horizon: float | None


_EDITED: weakref.WeakKeyDictionary[GraphSnapshot, dict[tuple[Edit, ...], GraphSnapshot]] = (
    weakref.WeakKeyDictionary())
_EDITED_KEEP = Objective.SNAPSHOTS
_EDITED_LOCK = threading.Lock()


def _edited(snap: GraphSnapshot, edits: tuple[Edit, ...]) -> GraphSnapshot:
    """``snap`` with ``edits`` applied, from a small per-process cache (every chunk of an evaluation needs it;
    on a cluster, each worker makes its own)."""
    if not edits:
        return snap
    with _EDITED_LOCK:
        kept = _EDITED.setdefault(snap, {})
        out = kept.pop(edits, None)
        if out is None:
            out = apply_edits(snap, list(edits), strict=False)
        kept[edits] = out
        while len(kept) > _EDITED_KEEP:
            del kept[next(iter(kept))]
        return out


def _runs_chunk(snap: GraphSnapshot, work: tuple[_Work, list[tuple[npt.NDArray[np.int64], npt.NDArray[np.float64]]]],
                cancel: CancelToken | None) -> list[_Run]:
    """One chunk of start sets run on the city edited by the work's edits (the function the executor runs)."""
    w, starts = work
    edited = _edited(snap, w.edits)
    # The city's own network when only buffers differ (buffers are not part of it).
    net = network(snap if edited.dep_group is snap.dep_group else edited)
    return [_run(edited, net, start, w.objective, w.horizon, cancel) for start in starts]


def _group(snap: GraphSnapshot, a: int, kind: str, label: str) -> int:
    """Asset ``a``'s dependency group of ``kind`` and ``label`` in ``snap``, or -1."""
    for g in range(int(snap.group_ptr[a]), int(snap.group_ptr[a + 1])):
        if snap.kinds[int(snap.group_kind[g])] == kind and snap.group_labels[int(snap.group_label[g])] == label:
            return g
    return -1


def _run(snap: GraphSnapshot, net: Network, start: tuple[npt.NDArray[np.int64], npt.NDArray[np.float64]],
         objective: str, horizon: float | None, cancel: CancelToken | None) -> _Run:
    """The cascade of ``start`` (assets, hours) on ``snap`` (whose dependencies ``net`` holds; buffers are
    ``snap``'s)."""
    check(cancel)
    assets, hours = start
    if not len(assets):  # walls removed every hit
        return _Run(0.0, np.zeros(0, dtype=np.int32))
    if objective == "people_hours":
        run = reach_from(net, assets, hours, static=True, buffers=snap.group_buffer)
        damaged = sorted(snap.asset_ids[a] for a in assets.tolist())
        impact = plan_restoration(snap, damaged).unserved_people_hours
    else:
        run = reach_from(net, assets, hours, horizon=INF if horizon is None else horizon, static=horizon is None,
                         buffers=snap.group_buffer)
        impact = float(snap.population[run.failed].sum())
    return _Run(impact, run.reached)


# ---------------------------------------------------------------------- search
Value = Callable[[frozenset[int]], float]


def _tolerance(value: float) -> float:
    """Improvements smaller than this are rounding, not benefit."""
    return 1e-9 * max(1.0, abs(value))


def greedy(value: Value, costs: Sequence[float], budget: float, *, lazy: bool = True,
           among: Iterable[int] | None = None, cancel: CancelToken | None = None) -> list[int]:
    """Candidates in the order greedy picks them by benefit per cost, within ``budget``.

    At each step the affordable candidate with the largest ``(value(S) - value(S + c)) / cost``
    is added (ties: the smaller index), while that benefit is positive. ``lazy`` keeps
    each candidate's last benefit as a bound and re-evaluates only the candidate on top
    (Minoux's accelerated greedy): the same picks as the plain greedy whenever benefits
    never grow as the plan grows (a submodular objective), with far fewer evaluations.

    Examples
    --------
    Three projects covering numbered people; cover as many as possible for 2 units:

    >>> cover = [{1, 2, 3}, {3, 4}, {5}]
    >>> value = lambda s: -len(set().union(*(cover[c] for c in s)))
    >>> greedy(value, [1.0, 1.0, 1.0], 2.0), greedy(value, [1.0, 1.0, 1.0], 2.0, lazy=False)
    ([0, 1], [0, 1])
    """
    pool = sorted(range(len(costs)) if among is None else among)
    chosen: frozenset[int] = frozenset()
    current = value(chosen)
    left = budget
    order: list[int] = []
    if not lazy:
        while True:
            check(cancel)
            best: tuple[float, int] | None = None
            for c in pool:
                if c in chosen or costs[c] > left:
                    continue
                gain = current - value(chosen | {c})
                if gain > _tolerance(current) and (best is None or gain / costs[c] > best[0]):
                    best = (gain / costs[c], c)
            if best is None:
                return order
            c = best[1]
            chosen, left, current = chosen | {c}, left - costs[c], value(chosen | {c})
            order.append(c)
    # (-bound on benefit per cost, index, step the bound was computed at)
    heap = [(-(current - value(frozenset({c}))) / costs[c], c, 0) for c in pool if costs[c] <= left]
    heapq.heapify(heap)
    step = 0
    while heap:
        check(cancel)
        bound, c, at = heapq.heappop(heap)
        if costs[c] > left:
            continue  # the budget only shrinks: never affordable again
        if at != step:
            heapq.heappush(heap, (-(current - value(chosen | {c})) / costs[c], c, step))
            continue
        if -bound * costs[c] <= _tolerance(current):
            continue  # no benefit now, so none later either (benefits only shrink, as the bounds assume)
        chosen, left, current = chosen | {c}, left - costs[c], value(chosen | {c})
        order.append(c)
        step += 1
    return order


def improve(value: Value, costs: Sequence[float], budget: float, chosen: frozenset[int], *,
            max_rounds: int = 20, cancel: CancelToken | None = None) -> tuple[frozenset[int], int]:
    """Local improvement of ``chosen``: the best drop, add or swap within budget, until none improves.

    Returns the improved set and the number of moves made; its value is never worse
    than ``value(chosen)`` (only strictly improving moves are taken).

    Examples
    --------
    >>> value = lambda s: {frozenset({0}): 5.0, frozenset({1}): 4.0, frozenset({1, 2}): 1.0}.get(s, 9.0)
    >>> improve(value, [2.0, 1.0, 1.0], 2.0, frozenset({0}))
    (frozenset({1, 2}), 2)
    """
    current = value(chosen)
    moves = 0
    everything = range(len(costs))
    for _ in range(max_rounds):
        check(cancel)
        spent = math.fsum(costs[c] for c in chosen)
        options: list[frozenset[int]] = [chosen - {c} for c in sorted(chosen)]
        for d in everything:
            if d in chosen:
                continue
            if spent + costs[d] <= budget:
                options.append(chosen | {d})
            options += [(chosen - {c}) | {d} for c in sorted(chosen) if spent - costs[c] + costs[d] <= budget]
        best = min(options, key=lambda s: (value(s), math.fsum(costs[c] for c in s), sorted(s)), default=None)
        if best is None or value(best) >= current - _tolerance(current):
            break
        chosen, current = best, value(best)
        moves += 1
    return chosen, moves


# ---------------------------------------------------------------------- the plan
@dataclass(frozen=True)
class Step:
    """One chosen candidate, in rank order, with what it adds to the steps before it."""

    rank: int
    id: str
    cost: float
    marginal_benefit: float
    cumulative_cost: float
    cumulative_objective: float

    def to_dict(self) -> dict[str, Any]:
        per = self.marginal_benefit / self.cost
        return {"rank": self.rank, "id": self.id, "cost": self.cost, "marginal_benefit": self.marginal_benefit,
                "benefit_per_cost": per, "cumulative_cost": self.cumulative_cost,
                "cumulative_objective": self.cumulative_objective}


@dataclass(frozen=True)
class PlanResult:
    """A plan; :meth:`to_dict` is the JSON of ``kg plan --format json`` (docs/whatif.md)."""

    objective: str
    horizon: float | None
    budget: float
    scenarios: ScenarioSet
    baseline: float
    steps: tuple[Step, ...]
    alone: dict[str, float]
    """Each candidate's benefit on its own."""
    costs: dict[str, float]
    greedy: str
    local_moves: int
    evaluations: int

    @property
    def final(self) -> float:
        return self.steps[-1].cumulative_objective if self.steps else self.baseline

    def to_dict(self) -> dict[str, Any]:
        chosen = {s.id for s in self.steps}
        return {
            "objective": self.objective, "horizon_hours": self.horizon, "budget": self.budget,
            "scenarios": self.scenarios.to_dict(), "baseline": self.baseline, "final": self.final,
            "spent": self.steps[-1].cumulative_cost if self.steps else 0.0,
            "steps": [s.to_dict() for s in self.steps],
            "candidates": [{"id": c, "cost": self.costs[c], "chosen": c in chosen, "benefit_alone": b}
                           for c, b in self.alone.items()],
            "method": {"greedy": self.greedy, "local_moves": self.local_moves, "evaluations": self.evaluations},
        }


def plan_investments(snap: GraphSnapshot, candidates: Sequence[Candidate], budget: float, scenarios: ScenarioSet,
                     *, objective: str = "population", horizon: float | None = None, lazy: bool = True,
                     local: bool = True, cancel: CancelToken | None = None,
                     executor: Executor | None = None) -> PlanResult:
    """The candidates to fund within ``budget`` to lower the expected impact of ``scenarios`` the most.

    Parameters
    ----------
    snap : GraphSnapshot
    candidates : sequence of Candidate
        From :func:`parse_candidates`.
    budget : float
        Total cost allowed (>= 0).
    scenarios : ScenarioSet
        From :func:`monte_carlo_scenarios`, :func:`scenarios_from` or :func:`n_minus_one`.
    objective : {"population", "people_hours"}
        Expected population affected, or expected unserved people-hours of each scenario's
        restoration plan (repair hours and crews as in ``kg restore``).
    horizon : float, optional
        Count failures up to this hour (``population`` only). Without one, a buffer
        only delays failures, so it buys nothing: give a horizon to value buffers.
    lazy, local : bool
        Lazy (``True``) or plain greedy; run the local-improvement pass.
    cancel : CancelToken, optional
        Checked before every scenario run.
    executor : Executor, optional
        Where the scenario runs of each evaluation go, in chunks (:mod:`kg.executor`); in-process by default.

    Returns
    -------
    PlanResult
        The baseline objective, the ranked steps with marginal benefit, cumulative cost
        and cumulative objective, each candidate's benefit alone, and how many distinct
        plans were evaluated.

    Raises
    ------
    ValidationError
        For a bad ``objective``, ``budget`` or ``horizon``.

    Examples
    --------
    A hospital on one substation; a second feed (cost 3) or a generator (cost 1, 8 h):

    >>> from kg.snapshot import build_snapshot
    >>> from kg.analysis.whatif import AddBuffer, AddDependency
    >>> A = lambda i, t, pop: (i, t, None, None, None, None, None, pop, None)
    >>> rows = {"assets": [A("S", "Substation", 0), A("T", "Substation", 0), A("H", "Hospital", 500)],
    ...         "dependencies": [("H", "S", "power", "power", 0.0)]}
    >>> snap = build_snapshot(1, lambda t: rows.get(t, []))
    >>> feed = Candidate("feed", 3.0, (AddDependency("H", "T", "power"),))
    >>> generator = Candidate("generator", 1.0, (AddBuffer("H", "power", 8.0),))
    >>> s_fails = scenarios_from(snap, [{"probability": 0.1, "fail": ["S"]}])
    >>> plan = plan_investments(snap, [feed, generator], 3.0, s_fails, horizon=6.0)
    >>> [(s.id, s.marginal_benefit, s.cumulative_objective) for s in plan.steps]
    [('generator', 50.0, 0.0)]
    >>> [s.id for s in plan_investments(snap, [feed, generator], 3.0, s_fails).steps]
    ['feed']
    """
    problems = []
    if objective not in OBJECTIVES:
        problems.append(Problem("objective", _l("expected one of {names}, got {value}", names=", ".join(OBJECTIVES),
                                                value=repr(objective))))
    b = _number(budget)
    if b is None or b < 0:
        problems.append(Problem("budget", _l("expected a finite number >= 0, got {value}", value=repr(budget))))
    if horizon is not None and not (math.isfinite(horizon) and horizon >= 0):
        problems.append(Problem("horizon", _l("expected a finite number of hours >= 0, got {value}",
                                              value=repr(horizon))))
    if problems:
        raise ValidationError(problems)
    assert b is not None
    value = Objective(snap, candidates, scenarios, objective=objective, horizon=horizon, cancel=cancel,
                      executor=executor)
    costs = [c.cost for c in candidates]
    baseline = value(frozenset())
    order = greedy(value, costs, b, lazy=lazy, cancel=cancel)
    chosen, moves = improve(value, costs, b, frozenset(order), cancel=cancel) if local else (frozenset(order), 0)
    ranked = order if chosen == frozenset(order) else greedy(value, costs, math.inf, lazy=False, among=chosen)
    ranked += sorted(chosen - set(ranked))  # members that add nothing on their own come last
    steps = []
    current, spent, so_far = baseline, 0.0, frozenset[int]()
    for k, c in enumerate(ranked, 1):
        so_far = so_far | {c}
        after = value(so_far)
        spent += costs[c]
        steps.append(Step(k, candidates[c].id, costs[c], current - after, spent, after))
        current = after
    alone = {c.id: baseline - value(frozenset({k})) for k, c in enumerate(candidates)}
    return PlanResult(objective, horizon, b, scenarios, baseline, tuple(steps), alone,
                      {c.id: c.cost for c in candidates}, "lazy" if lazy else "plain", moves, value.evaluations)
