"""A plain reference of the robustness curves, written from the contract (docs/robustness.md).

Every point is recomputed from scratch: ``supply`` with the reference cascade
(removed assets failing at t = 0, no horizon), ``mutual-giant`` with sets and
networkx components, round after round until nothing changes. Means, drops and
``R`` are exact fractions. Slow, and meant for graphs of a dozen assets.
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Mapping, Sequence
from fractions import Fraction
from typing import Any

import networkx as nx

from kg.ontology import load_ontology
from tests.reference_cascade import Dep, reference_cascade

__all__ = ["degree_order", "mutual_giant_functional", "reference_robustness", "supply_functional"]


def removal_count(i: int, n: int, steps: int) -> int:
    """round(i * n / steps), halves rounded up."""
    return math.floor(Fraction(i * n, steps) + Fraction(1, 2))


def degree_order(ids: Sequence[str], deps: Sequence[Dep]) -> list[str]:
    """Most dependencies first (each dependency counted at both of its ends), ties by the smaller id."""
    degree = Counter[str]()
    for d, p, *_ in deps:
        degree[d] += 1
        degree[p] += 1
    return sorted(ids, key=lambda a: (-degree[a], a))


def supply_functional(ids: Sequence[str], deps: Sequence[Dep], removed: set[str]) -> set[str]:
    """Assets neither removed nor failed in the cascade of the removed assets failing at t = 0."""
    failed = reference_cascade(ids, deps, [(a, 0.0) for a in sorted(removed)]).failed
    return set(ids) - set(failed)


def mutual_giant_functional(types: Mapping[str, str], deps: Sequence[Dep], removed: set[str]) -> set[str]:
    """Interdependent percolation over sectors, recomputed from every asset not removed."""
    ontology = load_ontology()
    layer = {a: ontology.sector(t) for a, t in types.items()}
    links = nx.Graph()
    links.add_nodes_from(types)
    linked = set()
    groups: dict[tuple[str, str, str], set[str]] = {}
    for d, p, kind, group, _ in deps:
        if layer[d] == layer[p]:
            links.add_edge(d, p)
            linked.add(layer[d])
        else:
            groups.setdefault((d, kind, group), set()).add(p)
    alive = set(types) - removed
    while True:
        while True:  # dependencies: fail every asset with a group none of whose providers is alive
            lost = {d for (d, _, _), providers in groups.items() if d in alive and not providers & alive}
            if not lost:
                break
            alive -= lost
        kept = set()
        for x in set(layer.values()):
            members = {a for a in alive if layer[a] == x}
            if x not in linked or not members:
                kept |= members
                continue
            parts = nx.connected_components(links.subgraph(members))
            kept |= min(parts, key=lambda c: (-len(c), min(c)))
        if kept == alive:
            return alive
        alive = kept


def reference_robustness(model: str, attack: str, types: Mapping[str, str], population: Mapping[str, int],
                         deps: Sequence[Dep], orders: Sequence[Sequence[str]], steps: int) -> dict[str, Any]:
    """The JSON of a curve: one removal order per sample, every point from scratch."""
    ids = sorted(types)
    n, people = len(ids), sum(population.values())
    functional = [Fraction(0)] * (steps + 1)
    served = [Fraction(0)] * (steps + 1)
    for order in orders:
        for i in range(steps + 1):
            removed = set(order[: removal_count(i, n, steps)])
            if model == "supply":
                alive = supply_functional(ids, deps, removed)
            else:
                alive = mutual_giant_functional(types, deps, removed)
            if n:
                functional[i] += Fraction(len(alive), n * len(orders))
            if people:
                served[i] += Fraction(sum(population[a] for a in alive), people * len(orders))
    drops = [functional[i] - functional[i + 1] for i in range(steps)]
    worst = max(drops)
    return {
        "model": model,
        "attack": attack,
        "points": [{"removed": float(Fraction(i, steps)), "functional": float(f), "population": float(p)}
                   for i, (f, p) in enumerate(zip(functional, served, strict=True))],
        "critical_removed": float(Fraction(drops.index(worst), steps)),
        "R": float(sum(functional) / (steps + 1)),
    }
