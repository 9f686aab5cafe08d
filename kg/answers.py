"""The JSON answers of CityKG's queries, built in one place for the CLI and the REST API.

Each function returns plain JSON-ready data in the shape docs/cli.md,
docs/cascade.md and docs/api.md state, so ``kg dependents --format json`` and
``GET /v1/assets/{id}/dependents`` can never drift apart: traces, paths, single
points of failure, criticality, scenarios (through :mod:`kg.scenario`) and their
coordination, the page's layered dependency graph, and the summaries of a region
or an agency. The summaries are array arithmetic over the immutable snapshot (no
per-asset Python objects), so they stay fast on a million assets.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Sequence
from typing import Any

import numpy as np
import numpy.typing as npt

from kg.analysis.cancel import CancelToken, check
from kg.analysis.cascade import gather
from kg.analysis.coordination import coordination
from kg.analysis.criticality import Criticality
from kg.analysis.traces import dependencies, dependents, path_kinds, paths, single_points_of_failure
from kg.executor import Executor
from kg.ontology import load_ontology
from kg.scenario import Scenario, cascade_of, run, whatif
from kg.snapshot import GraphSnapshot

__all__ = ["agency_answer", "coordination_answer", "criticality_answer", "graph_answer", "paths_answer",
           "region_answer", "scenario_answer", "spof_answer", "trace_answer", "whatif_answer"]

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
                    max_failures: int | None = None, executor: Executor | None = None) -> dict[str, Any]:
    """The cascade (or Monte Carlo, on ``executor``) of ``scenario`` as ``kg cascade --format json`` prints it."""
    return run(snap, scenario, cancel=cancel, max_failures=max_failures, executor=executor).to_dict()


def coordination_answer(snap: GraphSnapshot, scenario: Scenario, *, cancel: CancelToken | None = None,
                        max_failures: int | None = None) -> dict[str, Any]:
    """Who must coordinate with whom in the cascade of ``scenario``: ``{level, agencies, regions, act_first}``."""
    result = cascade_of(snap, scenario, cancel=cancel, max_failures=max_failures)
    check(cancel)
    return coordination(snap, result).to_dict()


# ---------------------------------------------------------------- the page's dependency graph
def _score(snap: GraphSnapshot, nodes: np.ndarray[Any, Any]) -> np.ndarray[Any, Any]:
    """Larger is shown first: key facilities, then how much hangs on the asset directly, then its population."""
    key = np.isin(np.asarray(snap.types, dtype=object)[snap.type_code[nodes]], load_ontology().key_types)
    fan = np.diff(snap.rdep_ptr)[nodes]
    score: np.ndarray[Any, Any] = key * 1e12 + fan * 1e6 + np.minimum(snap.population[nodes], 999_999)
    return score


def graph_answer(snap: GraphSnapshot, asset_id: str, *, depth: int, limit: int,
               kinds: list[str] | None = None, cancel: CancelToken | None = None) -> dict[str, Any]:
    """The asset, its dependents (layers 1..depth) and dependencies (layers -1..-depth), at most ``limit``
    assets shown per layer, with the DEPENDS_ON edges among the shown ones; the rest of each layer summed up.
    ``cancel`` is checked once per layer."""
    center = snap.node(asset_id)
    down = dependents(snap, asset_id, kinds=kinds, max_depth=depth, cancel=cancel)
    up = dependencies(snap, asset_id, kinds=kinds, max_depth=depth, cancel=cancel)
    layer = np.zeros(snap.n, dtype=np.int64)
    layer[up.nodes] = -up.depths
    layer[down.nodes] = down.depths  # an asset on both sides (a loop) is drawn once, as a dependent
    shown = np.zeros(snap.n, dtype=bool)
    shown[center] = True
    kind_ok = np.ones(len(snap.kinds) or 1, dtype=bool)
    if kinds is not None:
        kind_ok[:] = False
        kind_ok[[snap.kinds.index(k) for k in kinds if k in snap.kinds]] = True
    rdep_kind = snap.dep_kind[snap.rdep_edge]
    hidden_layers = []
    for sign, reach in ((1, down), (-1, up)):
        for d in range(1, depth + 1):
            check(cancel)
            members = reach.nodes[(reach.depths == d) & (layer[reach.nodes] == sign * d)].astype(np.int64)
            if not len(members):
                continue
            # Prefer assets linked to what is shown one layer nearer the centre, then the best scored.
            ptr, nbr, ekind = (snap.dep_ptr, snap.dep_provider, snap.dep_kind) if sign > 0 else \
                (snap.rdep_ptr, snap.rdep_dependent, rdep_kind)
            pos = gather(ptr, members)
            owner = np.repeat(members, (ptr[members + 1] - ptr[members]))
            linked_edges = shown[nbr[pos]] & kind_ok[ekind[pos]]
            linked = np.zeros(snap.n, dtype=bool)
            linked[owner[linked_edges]] = True
            order = np.lexsort((members, -_score(snap, members), ~linked[members]))
            chosen, rest = members[order[:limit]], members[order[limit:]]
            if len(rest):
                rest_mask = np.zeros(snap.n, dtype=bool)
                rest_mask[rest] = True
                hit = rest_mask[owner] & linked_edges
                links = Counter(zip(nbr[pos][hit].tolist(), ekind[pos][hit].tolist(), strict=True))
                types = Counter(snap.types[t] for t in snap.type_code[rest].tolist())
                hidden_layers.append({
                    "layer": sign * d, "count": len(rest), "population": int(snap.population[rest].sum()),
                    "by_type": dict(types.most_common(6)),
                    "links": [{"id": snap.asset_ids[p], "kind": snap.kinds[k], "count": c}
                              for (p, k), c in sorted(links.items(), key=lambda x: -x[1])[:40]],
                })
            shown[chosen] = True
    nodes_idx = np.flatnonzero(shown)
    li = snap.level_index("district")
    fan = np.diff(snap.rdep_ptr)
    nodes = []
    for i in nodes_idx.tolist():
        r = int(snap.region[li, i])
        nodes.append({"id": snap.asset_ids[i], "type": snap.type_of(i), "name": snap.names[i],
                      "district": snap.region_ids[r] if r >= 0 else None, "agency": snap.agency_of(i),
                      "layer": int(layer[i]), "dependents": int(fan[i]), "population": int(snap.population[i])})
    edges = []
    for i in nodes_idx.tolist():
        for e in range(int(snap.dep_ptr[i]), int(snap.dep_ptr[i + 1])):
            p = int(snap.dep_provider[e])
            if shown[p] and kind_ok[snap.dep_kind[e]]:
                edges.append({"from": snap.asset_ids[i], "to": snap.asset_ids[p],
                              "kind": snap.kinds[snap.dep_kind[e]],
                              "group": snap.group_labels[snap.group_label[snap.dep_group[e]]],
                              "buffer_hours": float(snap.dep_buffer[e])})
    counts = Counter(layer[layer != 0].tolist())
    return {"id": asset_id, "depth": depth, "kinds": kinds, "nodes": nodes, "edges": edges,
            "hidden": hidden_layers, "layers": {str(k): v for k, v in sorted(counts.items())},
            "totals": {"dependents": len(down), "dependencies": len(up)}}


# ---------------------------------------------------------------- regions and agencies
def _element(record: dict[str, Any]) -> dict[str, Any]:
    """A stored element without the store's bookkeeping (``table``), ``props`` always an object."""
    out = {k: v for k, v in record.items() if k != "table"}
    out["props"] = out.get("props") or {}
    return out


def _assets_summary(snap: GraphSnapshot, members: npt.NDArray[np.intp]) -> dict[str, Any]:
    counts: list[int] = (np.bincount(snap.type_code[members], minlength=len(snap.types)).tolist()
                         if len(members) else [])
    return {
        "count": len(members),
        "population": int(snap.population[members].sum()),
        "by_type": {snap.types[t]: int(c) for t, c in sorted(enumerate(counts), key=lambda tc: snap.types[tc[0]])
                    if c},
    }


def _exposure(snap: GraphSnapshot, member: npt.NDArray[np.bool_]) -> list[dict[str, Any]]:
    hit = member[snap.exp_asset] if len(snap.exp_asset) else np.zeros(0, dtype=bool)
    by_hazard: dict[str, dict[str, Any]] = {}
    for asset, zone, intensity in zip(snap.exp_asset[hit], snap.exp_zone[hit], snap.exp_intensity[hit], strict=True):
        entry = by_hazard.setdefault(snap.zone_hazard[zone], {"zones": set(), "assets": set(), "max": 0.0})
        entry["zones"].add(snap.zone_ids[zone])
        entry["assets"].add(int(asset))
        entry["max"] = max(entry["max"], float(intensity))
    out = [
        {
            "hazard": hazard,
            "zones": sorted(e["zones"]),
            "assets": len(e["assets"]),
            "population": int(snap.population[sorted(e["assets"])].sum()),
            "max_intensity": e["max"],
        }
        for hazard, e in by_hazard.items()
    ]
    return sorted(out, key=lambda x: (-x["assets"], x["hazard"]))


def region_answer(snap: GraphSnapshot, record: dict[str, Any]) -> dict[str, Any]:
    """A stored region with its assets (at every lower level) summarised, and their exposure per hazard."""
    out = _element(record)
    r = snap.region_ids.index(record["id"]) if record["id"] in snap.region_ids else -1
    member = np.zeros(snap.n, dtype=bool) if r < 0 else snap.region[int(snap.region_level[r])] == r
    out["assets"] = _assets_summary(snap, np.flatnonzero(member))
    out["exposure"] = _exposure(snap, member)
    return out


def agency_answer(snap: GraphSnapshot, record: dict[str, Any]) -> dict[str, Any]:
    """A stored agency, its assets summarised, and the assets of other agencies that depend directly on them."""
    out = _element(record)
    a = snap.agency_ids.index(record["id"]) if record["id"] in snap.agency_ids else -2
    member = snap.agency == a
    out["assets"] = _assets_summary(snap, np.flatnonzero(member))
    dependent = np.repeat(np.arange(snap.n, dtype=np.int64), np.diff(snap.dep_ptr))
    crossing = member[snap.dep_provider] & ~member[dependent] if snap.m else np.zeros(0, dtype=bool)
    users = dependent[crossing]
    kinds = snap.dep_kind[crossing]
    by_agency: dict[int, tuple[set[int], set[str]]] = {}
    for user, kind in zip(users.tolist(), kinds.tolist(), strict=True):
        assets, names = by_agency.setdefault(int(snap.agency[user]), (set(), set()))
        assets.add(user)
        names.add(snap.kinds[kind])
    refs: list[dict[str, Any]] = [
        {
            "agency": snap.agency_ids[other] if other >= 0 else None,
            "name": snap.agency_names[other] if other >= 0 else None,
            "assets": len(assets),
            "kinds": sorted(names),
        }
        for other, (assets, names) in by_agency.items()
    ]
    refs.sort(key=lambda x: (-x["assets"], x["agency"] or ""))
    out["dependents_outside"] = {"assets": len(set(users.tolist())), "by_agency": refs}
    return out


def whatif_answer(snap: GraphSnapshot, scenario: Scenario, *, cancel: CancelToken | None = None,
                  max_failures: int | None = None) -> dict[str, Any]:
    """``scenario`` before and after its edits, as ``kg whatif --format json`` prints it."""
    return whatif(snap, scenario, cancel=cancel, max_failures=max_failures).to_dict()
