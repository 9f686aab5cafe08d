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

from kg.analysis.cascade import baseline_errors
from kg.errors import Problem
from kg.load.plan import LoadPlan, build_plan
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
    warnings = list(plan.warnings) + baseline_warnings(store)
    return LoadReport(counts=plan.counts(), warnings=warnings, sources=plan.sources, version=store.version())


def baseline_warnings(store: Store) -> list[Problem]:
    """Dependency groups that are unsupported with no failure at all (ungrounded supply loops)."""
    return [Problem("baseline", f"asset {error}") for error in baseline_errors(store.snapshot())]
