"""A load from start to end: read and validate everything, write it in one go, then look at the result.

Typical use::

    from kg.ingest import load_paths
    from kg.store import open_store

    report = load_paths(open_store("sqlite:///city.db", create=True), ["bundle/"])
    print(report.counts, report.warnings)

Reading and validating is :mod:`kg.load`'s part, writing the store's; the
warnings about the loaded graph (supply loops with no source) come from the
cascade engine, so the whole of a load sits above all three.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from kg.analysis.cascade import BaselineError, baseline_errors
from kg.errors import Problem
from kg.load.plan import LoadPlan, build_plan
from kg.schema import TABLES
from kg.snapshot import build_snapshot
from kg.store.base import Store

__all__ = ["LoadReport", "Phase", "baseline_warnings", "load_paths"]


@dataclass(frozen=True)
class LoadReport:
    """What a load wrote and what it noticed without refusing the data."""

    counts: dict[str, int]
    warnings: list[Problem] = field(default_factory=list)
    sources: list[str] = field(default_factory=list)
    version: int = 0

    def to_dict(self, store_url: str) -> dict[str, Any]:
        """The JSON answer of ``kg load --format json`` and ``POST /v1/loads``."""
        return {
            "store": store_url,
            "loaded": self.counts,
            "version": self.version,
            "warnings": [str(w) for w in self.warnings],
        }


class Phase:
    """Progress callbacks for the two phases of a load (bytes read, rows written)."""

    def reading(self, n: int) -> None:  # pragma: no cover - overridden by the CLI's progress bar
        """Called with the number of bytes just read."""

    def start_writing(self, rows: int) -> None:  # pragma: no cover
        """Called once before writing ``rows`` rows."""

    def writing(self, n: int) -> None:  # pragma: no cover
        """Called with the number of rows just written."""


def load_paths(store: Store, paths: Iterable[Path | str], *, phase: Phase | None = None,
               timeout_s: float | None = None) -> LoadReport:
    """Validate ``paths`` completely, then upsert them into ``store`` in one write.

    Raises :class:`~kg.errors.ValidationError` (and writes nothing) when any
    row or reference is wrong, :class:`~kg.errors.LoadTimeout` (and writes
    nothing) when validation takes longer than ``timeout_s`` seconds; the
    write itself is never cut short. Supply loops with no source in the data
    are returned as warnings, not errors (docs/cascade.md, "Baseline errors").
    """
    phase = phase or Phase()
    plan: LoadPlan = build_plan(paths, store, progress=phase.reading, timeout_s=timeout_s)
    phase.start_writing(plan.total)
    store.write(plan, progress=phase.writing)
    warnings = list(plan.warnings) + baseline_warnings(store, plan)
    return LoadReport(counts=plan.counts(), warnings=warnings, sources=plan.sources, version=store.version())


def baseline_warnings(store: Store, plan: LoadPlan | None = None) -> list[Problem]:
    """Dependency groups that are unsupported with no failure at all (ungrounded supply loops).

    Without ``plan``, or for a large one, the whole graph is checked (a
    snapshot). For a small ``plan`` (at most :data:`SMALL_LOAD` dependency
    rows) only what its dependency rows can change is read: the groups of
    the kinds they give their dependents and, per kind, everything upstream
    of those (indexed lookups); the errors reported are those among them.
    """
    errors = None
    if plan is not None and len(plan.rows.get("dependencies", ())) <= SMALL_LOAD:
        errors = _upstream_baseline_errors(store, plan)
    if errors is None:
        errors = baseline_errors(store.snapshot())
    return [Problem("baseline", f"asset {error}") for error in errors]


SMALL_LOAD = 10_000
"""Dependency rows up to which a load's baseline check reads only what the rows touch."""
_UPSTREAM_LIMIT = 200_000
"""Assets an upstream check may read before the whole graph is checked instead (a snapshot is cheaper then)."""


def _upstream_baseline_errors(store: Store, plan: LoadPlan) -> tuple[BaselineError, ...] | None:
    """The baseline errors among the groups a small load's dependency rows touch and all they rest on.

    A group's support at baseline depends only on the units upstream of it
    in its own kind (a unit is a provider delivering one kind and needs only
    its own groups of that kind: docs/cascade.md), so the graph of (asset,
    kind) pairs reachable upstream from the loaded rows' (dependent, kind)
    decides it. None when that graph grows past :data:`_UPSTREAM_LIMIT`.
    """
    dependency = TABLES["dependencies"]
    dependent_of, provider_of, kind_of = (dependency.getter(c) for c in ("dependent", "provider", "kind"))
    pending = {(dependent_of(r), kind_of(r)) for r in plan.rows.get("dependencies", ())}
    if not pending:
        return ()
    seen: set[tuple[str, str]] = set()
    rows_of: dict[str, list[tuple[Any, ...]]] = {}
    while pending:
        seen |= pending
        unread = sorted({a for a, _ in pending if a not in rows_of})
        if len(rows_of) + len(unread) > _UPSTREAM_LIMIT:
            return None
        for a in unread:
            rows_of[a] = []
        for row in store.rows_of("dependencies", unread):
            rows_of[dependent_of(row)].append(row)
        pending = {(provider_of(r), k) for a, k in pending for r in rows_of[a] if kind_of(r) == k} - seen
    rows = [r for a, k in sorted(seen) for r in rows_of[a] if kind_of(r) == k]
    assets = TABLES["assets"]
    ids = sorted({a for a, _ in seen})
    graph = {"assets": [assets.row({"id": a, "type": "Asset", "population": 0}) for a in ids], "dependencies": rows}
    return baseline_errors(build_snapshot(0, lambda table: graph.get(table, [])))
