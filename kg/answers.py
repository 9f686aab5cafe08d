"""The JSON answers of CityKG's queries, built in one place for the CLI and the REST API.

Each function returns plain JSON-ready data in the shape docs/cli.md and
docs/cascade.md state, so ``kg dependents --format json`` and ``GET /v1/assets/{id}/dependents`` can
never drift apart.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

from kg.analysis.cancel import CancelToken, check
from kg.analysis.coordination import coordination
from kg.analysis.criticality import Criticality
from kg.analysis.traces import dependencies, dependents, path_kinds, paths, single_points_of_failure
from kg.scenario import Scenario, cascade_of, run
from kg.snapshot import GraphSnapshot

__all__ = ["coordination_answer", "criticality_answer", "paths_answer", "scenario_answer", "spof_answer",
           "trace_answer"]

_TRACES = {"dependents": dependents, "dependencies": dependencies}


def trace_answer(snap: GraphSnapshot, asset_id: str, direction: str, *, kinds: Iterable[str] | None = None,
                 max_depth: int | None = None, cancel: CancelToken | None = None) -> dict[str, Any]:
    """``{"id": ID, direction: [{id, type, depth}]}`` with ``direction`` dependents or dependencies."""
    reach = _TRACES[direction](snap, asset_id, kinds=kinds, max_depth=max_depth, cancel=cancel)
    return {"id": asset_id, direction: reach.to_list(snap)}


def paths_answer(snap: GraphSnapshot, provider: str, dependent: str, *, k: int = 5,
                 cancel: CancelToken | None = None, max_pending: int | None = None) -> dict[str, Any]:
    """The ``k`` shortest chains from ``dependent`` down to ``provider``, with the kinds of each hop."""
    chains = paths(snap, provider, dependent, k=k, cancel=cancel, max_pending=max_pending)
    return {
        "provider": provider,
        "dependent": dependent,
        "paths": [{"assets": [snap.asset_ids[i] for i in chain], "kinds": [list(h) for h in path_kinds(snap, chain)]}
                  for chain in chains],
    }


def spof_answer(snap: GraphSnapshot, asset_id: str, *, cancel: CancelToken | None = None) -> dict[str, Any]:
    """``{"id": ID, "single_points_of_failure": [{id, type, depth}]}``."""
    found = single_points_of_failure(snap, asset_id, cancel=cancel)
    return {"id": asset_id, "single_points_of_failure": found.to_list(snap)}


def criticality_answer(ranking: Sequence[Criticality], by: str | None, top: int) -> dict[str, Any]:
    """``{"by": by, "assets": [...]}``: the ranked assets down to rank ``top`` (per district with ``by``)."""
    return {"by": by, "assets": [c.to_dict() for c in ranking if c.rank <= top]}


def scenario_answer(snap: GraphSnapshot, scenario: Scenario, *, cancel: CancelToken | None = None,
                    max_failures: int | None = None) -> dict[str, Any]:
    """The cascade (or Monte Carlo) of ``scenario`` as ``kg cascade --format json`` prints it."""
    return run(snap, scenario, cancel=cancel, max_failures=max_failures).to_dict()


def coordination_answer(snap: GraphSnapshot, scenario: Scenario, *, cancel: CancelToken | None = None,
                        max_failures: int | None = None) -> dict[str, Any]:
    """Who must coordinate with whom in the cascade of ``scenario``: ``{level, agencies, regions, act_first}``."""
    result = cascade_of(snap, scenario, cancel=cancel, max_failures=max_failures)
    check(cancel)
    return coordination(snap, result).to_dict()
