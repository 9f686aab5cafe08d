"""Compact answers for a model: the CLI's and the API's answers, cut to what a briefing needs.

Each function computes exactly what ``kg.answers`` and ``kg.analysis`` compute for
the CLI and the REST API, then keeps ids, names and numbers, lists at most
``limit`` items and says so (``truncated``) when it cut: a model must never
take a shortened list for the whole answer. Errors name the tool argument they
are about (``asset_id: no asset with id 'x'``), so a model can correct itself.
"""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Protocol

from kg.analysis.cancel import CancelToken
from kg.analysis.cascade import CascadeResult
from kg.analysis.coordination import coordination
from kg.analysis.hazards import MonteCarloResult
from kg.analysis.restoration import plan_restoration
from kg.analysis.whatif import parse_edits
from kg.answers import paths_answer, spof_answer, trace_answer
from kg.errors import CypherRefused, ElementNotFound, KGError, UnsupportedOperation, ValidationError, closest_id
from kg.live import parse_time
from kg.ontology import did_you_mean, load_ontology
from kg.scenario import Scenario
from kg.scenario import damaged as damaged_by
from kg.scenario import run as run_scenario
from kg.scenario import whatif as run_whatif
from kg.snapshot import GraphSnapshot
from kg.sparql.engine import SparqlRequest, SparqlService
from kg.store import Store

__all__ = [
    "ArgumentError",
    "Limits",
    "Services",
    "cascade_brief",
    "criticality_brief",
    "cypher_rows",
    "live_brief",
    "paths_brief",
    "record_brief",
    "restoration_brief",
    "search_assets",
    "sparql_rows",
    "spof_brief",
    "trace_brief",
    "whatif_brief",
]


class ArgumentError(KGError):
    """A tool argument is wrong: ``field`` names it, the message says what was expected."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(f"{field}: {message}", field=(field,))


@dataclass(frozen=True)
class Limits:
    """How much one tool call may ask for; the defaults are the REST API's (``KG_MAX_*`` and friends)."""

    max_depth: int = 50
    max_top: int = 1000
    max_page: int = 1000
    max_failures: int = 200_000
    max_samples: int = 1000
    max_paths: int = 20
    cypher_timeout_s: float = 10.0
    cypher_row_limit: int = 10_000
    sparql_timeout_s: float = 10.0
    sparql_max_rows: int = 10_000


class Services(Protocol):
    """What a tool call may use: the face that serves the tools provides it (stdio or HTTP)."""

    limits: Limits

    def store(self) -> Store:
        """The open store (blocking: may connect)."""
        ...

    def snapshot(self) -> GraphSnapshot:
        """The snapshot of the store's current version (blocking: may build it)."""
        ...

    def sparql(self) -> SparqlService:
        """The SPARQL service (the one the REST API uses, over HTTP)."""
        ...

    def live(self, as_of: datetime | None, cancel: CancelToken | None) -> dict[str, Any]:
        """The live picture at ``as_of`` (None: now) as ``kg live --format json`` prints it (over HTTP, the
        server's live hub computes it, as for ``GET /v1/live``)."""
        ...

    def record(self, items: Sequence[tuple[str, Any]]) -> dict[str, Any]:
        """Check ``(JSON path, event object)`` items against the graph and store them all or nothing:
        ``{accepted, duplicates}`` (over HTTP through the server's live hub, so its stream and cached
        picture follow)."""
        ...

    def ranking(self, snap: GraphSnapshot, by: str | None, top: int, cancel: CancelToken | None) -> dict[str, Any]:
        """``kg criticality``'s answer (over HTTP from the API's per-snapshot cache: ranking every asset
        costs a cascade's worth of work per asset, once per graph version)."""
        ...


def _truncated(shown: int, total: int, what: str, how: str) -> str | None:
    """The note a cut list carries (None when nothing was cut)."""
    if shown >= total:
        return None
    return f"showing {shown} of {total} {what}; {how}"


def _asset(snap: GraphSnapshot, asset_id: str, field: str) -> int:
    i = snap.index.get(asset_id)
    if i is None:
        hint = closest_id(asset_id, snap.asset_ids)
        raise ArgumentError(field, f"no asset with id {asset_id!r}" + (f"; {hint}" if hint else "")
                            + " (search_assets finds ids by name)")
    return i


def _at_most(field: str, value: int | None, limit: int) -> None:
    if value is not None and value > limit:
        raise ArgumentError(field, f"at most {limit} on this server, got {value}")


def _kinds(kinds: Sequence[str] | None) -> list[str] | None:
    known = load_ontology().service_kinds
    for k, kind in enumerate(kinds or ()):
        if kind not in known:
            hint = did_you_mean(kind, known)
            raise ArgumentError(f"kinds[{k}]", f"{kind!r} is not a service kind; expected one of {', '.join(known)}"
                                + (f"; {hint}" if hint else ""))
    return list(kinds) if kinds else None


def _named(snap: GraphSnapshot, item: Mapping[str, Any]) -> dict[str, Any]:
    """A ``{id, type, depth}`` item with the asset's name and district."""
    i = snap.index[item["id"]]
    return {**item, "name": snap.names[i], "district": snap.regions_of(i).get("district")}


def _label(snap: GraphSnapshot, i: int) -> dict[str, Any]:
    return {"id": snap.asset_ids[i], "name": snap.names[i], "type": snap.type_of(i)}


def search_assets(services: Services, *, query: str | None, type: str | None, region: str | None,
                  agency: str | None, limit: int) -> dict[str, Any]:
    """Assets matching every filter, by id, as ``GET /v1/assets`` finds them."""
    _at_most("limit", limit, services.limits.max_page)
    if type is not None and type not in load_ontology().asset_types:
        hint = did_you_mean(type, sorted(load_ontology().asset_types))
        raise ArgumentError("type", f"{type!r} is not an asset type" + (f"; {hint}" if hint else ""))
    rows = services.store().search(q=query or None, type=type, region=region or None, agency=agency or None,
                                   limit=limit + 1)
    assets = [{"id": r["id"], "type": r["type"], "name": r.get("name"), "region": r.get("region"),
               "agency": r.get("agency"), "population": r.get("population") or 0} for r in rows[:limit]]
    more = len(rows) > limit
    return {"count": len(assets), "assets": assets,
            "truncated": f"more than {limit} assets match; narrow the search or raise limit" if more else None}


def trace_brief(services: Services, direction: str, *, asset_id: str, kinds: Sequence[str] | None,
                max_depth: int | None, limit: int, cancel: CancelToken | None) -> dict[str, Any]:
    """``kg dependents`` / ``kg dependencies``, counted by type and depth, the nearest ``limit`` listed by name."""
    _at_most("max_depth", max_depth, services.limits.max_depth)
    checked = _kinds(kinds)
    snap = services.snapshot()
    i = _asset(snap, asset_id, "asset_id")
    full = trace_answer(snap, asset_id, direction, kinds=checked, max_depth=max_depth, cancel=cancel)[direction]
    people = int(snap.population[[snap.index[x["id"]] for x in full]].sum()) if full else 0
    return {
        **_label(snap, i),
        "direction": direction,
        "total": len(full),
        "population": people,
        "by_type": dict(Counter(x["type"] for x in full).most_common()),
        "by_depth": {str(d): n for d, n in sorted(Counter(x["depth"] for x in full).items())},
        direction: [_named(snap, x) for x in full[:limit]],
        "truncated": _truncated(min(limit, len(full)), len(full), direction, "nearest first; raise limit or "
                                "filter by kinds / max_depth"),
    }


MAX_PENDING_CHAINS = 200_000
"""Most partial chains a paths search keeps (as ``GET /v1/assets/{id}/paths/{other}``)."""


def paths_brief(services: Services, *, provider: str, dependent: str, k: int,
                cancel: CancelToken | None) -> dict[str, Any]:
    """``kg paths``: the ``k`` shortest dependency chains from ``dependent`` down to ``provider``, each hop with
    the kinds it carries and every asset with its name."""
    _at_most("k", k, services.limits.max_paths)
    snap = services.snapshot()
    _asset(snap, provider, "provider")
    _asset(snap, dependent, "dependent")
    answer = paths_answer(snap, provider, dependent, k=k, cancel=cancel, max_pending=MAX_PENDING_CHAINS)
    names = {a: snap.names[snap.index[a]] for chain in answer["paths"] for a in chain["assets"]}
    return {**answer, "names": names,
            "note": None if answer["paths"] else f"{dependent} does not depend on {provider}"}


def spof_brief(services: Services, *, asset_id: str, cancel: CancelToken | None) -> dict[str, Any]:
    """``kg spof``: the assets whose lone failure takes ``asset_id`` down, nearest first, with names."""
    snap = services.snapshot()
    i = _asset(snap, asset_id, "asset_id")
    found = spof_answer(snap, asset_id, cancel=cancel)["single_points_of_failure"]
    return {**_label(snap, i), "total": len(found), "single_points_of_failure": [_named(snap, x) for x in found]}


def _failure(snap: GraphSnapshot, f: Mapping[str, Any]) -> dict[str, Any]:
    i = snap.index[f["id"]]
    cause = f["cause"]
    return {"id": f["id"], "name": snap.names[i], "type": f["type"], "time": f["time"],
            "cause": None if cause is None else {"kind": cause["kind"], "providers": cause["providers"]},
            "district": f["regions"].get("district"), "agency": f["agency"], "population": f["population"]}


def _briefing(snap: GraphSnapshot, result: CascadeResult, limit: int) -> dict[str, Any]:
    """A cascade as ``kg cascade --format json`` describes it, with names, the coordination picture and
    at most ``limit`` failures (the earliest) and coordination pairs."""
    full = result.to_dict()
    picture = coordination(snap, result)
    agency_name = dict(zip(snap.agency_ids, snap.agency_names, strict=True))
    region_name = dict(zip(snap.region_ids, snap.region_names, strict=True))
    failures = full["failures"]
    by_district: dict[str, list[int]] = {}
    for f in result.failures:
        d = f.regions.get("district")
        if d is not None:
            entry = by_district.setdefault(d, [0, 0])
            entry[0] += 1
            entry[1] += f.population
    districts = sorted(by_district.items(), key=lambda kv: (-kv[1][1], kv[0]))
    notes = [n for n in (
        _truncated(min(limit, len(failures)), len(failures), "failures", "the earliest first; raise limit or set "
                   "horizon_hours"),
        _truncated(min(limit, len(picture.agencies)), len(picture.agencies), "agency pairs", "the earliest first"),
        _truncated(min(limit, len(picture.act_first)), len(picture.act_first), "agencies that must act",
                   "the earliest first"),
    ) if n]
    return {
        "initial": full["initial"],
        "horizon_hours": full["horizon_hours"],
        "summary": full["summary"],
        "act_first": [{**a.to_dict(), "name": agency_name.get(a.agency)} for a in picture.act_first[:limit]],
        "agencies_must_coordinate": [{**c.to_dict(), "from_name": agency_name.get(c.from_),
                                      "to_name": agency_name.get(c.to)} for c in picture.agencies[:limit]],
        "districts": [{"id": d, "name": region_name.get(d), "failures": n, "population": p}
                      for d, (n, p) in districts[:limit]],
        "failures": [_failure(snap, f) for f in failures[:limit]],
        "crossings": len(full["crossings"]),
        "baseline_errors": len(full["baseline_errors"]),
        "truncated": "; ".join(notes) or None,
    }


_SCENARIO_ARGUMENTS = {"hazard": "hazard_zones", "horizon": "horizon_hours"}
"""The cascade tool's names for the scenario runner's fields (as ``POST /v1/cascades`` names them)."""


def _argument(field: tuple[str | int, ...]) -> str:
    """A scenario field as the tool argument's path: ``("fail", 2, "id")`` -> ``fail[2].id``."""
    path = ""
    for part in field:
        if isinstance(part, int):
            path += f"[{part}]"
        else:
            name = _SCENARIO_ARGUMENTS.get(part, part)
            path += f".{name}" if path else name
    return path


def cascade_brief(services: Services, *, fail: Sequence[tuple[str, float]] | None, hazard_zones: Sequence[str] | None,
                  horizon_hours: float | None, samples: int | None, seed: int, limit: int,
                  cancel: CancelToken | None) -> dict[str, Any]:
    """``kg cascade --fail ...`` or ``--hazard ... [--samples N --seed S]`` (exactly one of fail and
    hazard_zones) through the one scenario runner (:mod:`kg.scenario`), as a compact briefing, or the
    Monte Carlo distribution of the impact."""
    if bool(fail) == bool(hazard_zones):
        raise ArgumentError("fail", "give either fail (assets and hours) or hazard_zones, not both and not neither")
    _at_most("samples", samples, services.limits.max_samples)
    try:
        question = Scenario(fail=tuple(fail or ()), hazard=tuple(hazard_zones or ()), samples=samples, seed=seed,
                            horizon=horizon_hours)
        snap = services.snapshot()
        outcome = run_scenario(snap, question, cancel=cancel, max_failures=services.limits.max_failures)
    except (ElementNotFound, ValidationError) as exc:
        if exc.field is None:
            raise
        detail = "; ".join(p.message for p in exc.problems) if isinstance(exc, ValidationError) else str(exc)
        raise ArgumentError(_argument(exc.field), detail) from None
    if isinstance(outcome, MonteCarloResult):
        return _distribution(snap, outcome, limit)
    return _briefing(snap, outcome, limit)


def _distribution(snap: GraphSnapshot, mc: MonteCarloResult, limit: int) -> dict[str, Any]:
    """``kg cascade --hazard ... --samples N --format json``: the impact's mean, p5 and p95 city-wide and per
    district, and the assets most likely to fail (at most ``limit``), with names."""
    full = mc.to_dict()
    region_name = dict(zip(snap.region_ids, snap.region_names, strict=True))
    likely = full["probability"]
    return {
        "zones": full["zones"], "samples": full["samples"], "seed": full["seed"],
        "horizon_hours": full["horizon_hours"], "total": full["total"],
        "districts": [{**d, "name": region_name.get(d["district"])} for d in full["districts"]],
        "most_likely_to_fail": [{**p, "name": snap.names[snap.index[p["id"]]],
                                 "type": snap.type_of(snap.index[p["id"]])} for p in likely[:limit]],
        "truncated": _truncated(min(limit, len(likely)), len(likely), "assets that may fail",
                                "the most likely first; raise limit"),
    }


def whatif_brief(services: Services, *, edits: Sequence[Mapping[str, Any]], fail: Sequence[tuple[str, float]] | None,
                 hazard_zones: Sequence[str] | None, horizon_hours: float | None, limit: int,
                 cancel: CancelToken | None) -> dict[str, Any]:
    """``kg whatif``: a scenario on the graph as stored and on a copy with ``edits`` applied in order (the
    store is never written), through the one scenario runner; what is saved, what newly fails, what fails
    later or sooner, and whom each concerns, with names."""
    if bool(fail) == bool(hazard_zones):
        raise ArgumentError("fail", "give either fail (assets and hours) or hazard_zones, not both and not neither")
    try:
        parsed = parse_edits(list(edits), where="edits")
        question = Scenario(fail=tuple(fail or ()), hazard=tuple(hazard_zones or ()), horizon=horizon_hours,
                            edits=parsed)
        snap = services.snapshot()
        result = run_whatif(snap, question, cancel=cancel, max_failures=services.limits.max_failures)
    except ValidationError as exc:  # EditRejected too: each problem is named by its path (edits[2].asset)
        if exc.field is None and not exc.problems:
            raise
        first = exc.problems[0]
        more = f" (and {len(exc.problems) - 1} more problems)" if len(exc.problems) > 1 else ""
        where = first.where if first.where.startswith("edits") or exc.field is None else _argument(exc.field)
        raise ArgumentError(where, first.message + more) from None
    except ElementNotFound as exc:
        if exc.field is None:
            raise
        raise ArgumentError(_argument(exc.field), str(exc)) from None
    full = result.to_dict()
    changes = full["changes"]

    def named(asset_id: str) -> dict[str, Any]:
        return {"id": asset_id, "name": snap.names[snap.index[asset_id]]}

    lists = {
        "saved": [named(i) for i in changes["saved"][:limit]],
        "new": [named(i) for i in changes["new"][:limit]],
        "delayed": [{**named(c["id"]), "from": c["from"], "to": c["to"]} for c in changes["delayed"][:limit]],
        "earlier": [{**named(c["id"]), "from": c["from"], "to": c["to"]} for c in changes["earlier"][:limit]],
    }
    notes = [n for name in lists if (n := _truncated(len(lists[name]), len(changes[name]), f"{name} assets",
                                                     "raise limit"))]
    return {
        "edits": full["edits"],
        "baseline": full["baseline"]["summary"],
        "modified": full["modified"]["summary"],
        "counts": {name: len(changes[name]) for name in lists},
        "impact": full["impact"],
        **lists,
        "truncated": "; ".join(notes) or None,
    }


def restoration_brief(services: Services, *, damaged: Sequence[str] | None, hazard_zones: Sequence[str] | None,
                      crews: Mapping[str, int] | None, repair_hours: Mapping[str, float] | None,
                      limit: int, cancel: CancelToken | None) -> dict[str, Any]:
    """A restoration plan (:func:`kg.analysis.restoration.plan_restoration`, the heuristic) for the ``damaged``
    assets, or for those a hazard damages (its exposed assets at or over their fragility threshold): the
    repairs in order with names and agencies, the served-population curve, unserved people-hours against
    the naive order (each agency's assets in id order)."""
    if bool(damaged) == bool(hazard_zones):
        raise ArgumentError("damaged", "give either damaged (asset ids) or hazard_zones, not both and not neither")
    snap = services.snapshot()
    try:  # the damage of a scenario, as kg restore takes it (the one scenario runner)
        hit = damaged_by(snap, Scenario(fail=tuple((a, 0.0) for a in damaged or ()), hazard=tuple(hazard_zones or ())))
    except (ElementNotFound, ValidationError) as exc:
        if exc.field is None:
            raise
        field = ("damaged", *exc.field[1:2]) if exc.field[0] == "fail" else exc.field
        detail = "; ".join(p.message for p in exc.problems) if isinstance(exc, ValidationError) else str(exc)
        raise ArgumentError(_argument(field), detail) from None
    if not hit:
        return {"damaged": 0, "note": "no exposed asset reaches its fragility threshold in these zones"}
    try:
        plan = plan_restoration(snap, hit, repair_hours=repair_hours, crews=crews, cancel=cancel)
    except ValidationError as exc:
        raise ArgumentError(exc.problems[0].where, exc.problems[0].message) from None
    agency_name = dict(zip(snap.agency_ids, snap.agency_names, strict=True))
    full = plan.to_dict()
    schedule = [{**r, "name": snap.names[snap.index[r["id"]]], "type": snap.type_of(snap.index[r["id"]]),
                 "agency_name": agency_name.get(r["agency"]) if r["agency"] else None}
                for r in full["schedule"][:limit]]
    curve = full["curve"]
    shown_curve = curve if len(curve) <= limit else [*curve[:limit - 1], curve[-1]]
    naive = full["naive"]["unserved_people_hours"]
    notes = [n for n in (
        _truncated(len(schedule), len(full["schedule"]), "repairs", "in order of start; raise limit"),
        _truncated(len(shown_curve), len(curve), "curve points", "the first ones and the last"),
    ) if n]
    return {
        "damaged": len(full["damaged"]),
        "unserved_people_hours": full["unserved_people_hours"],
        "naive_unserved_people_hours": naive,
        "saved_vs_naive": None if not naive else round(1 - full["unserved_people_hours"] / naive, 4),
        "method": full["method"], "optimal": full["optimal"], "gap": full["gap"],
        "all_restored_at": curve[-1]["time"] if curve else 0.0,
        "schedule": schedule,
        "curve": shown_curve,
        "truncated": "; ".join(notes) or None,
    }


def live_brief(services: Services, *, as_of: str | None, limit: int, cancel: CancelToken | None) -> dict[str, Any]:
    """``kg live``: what is down at ``as_of`` (reported, and through the cascade) and the next deadlines (what
    fails next, at what clock time, losing what, and which agencies must talk before then), with names."""
    moment = None
    if as_of is not None:
        try:
            moment = parse_time(as_of, "as_of")
        except ValidationError as exc:
            raise ArgumentError("as_of", exc.problems[0].message) from None
    full = services.live(moment, cancel)
    snap = services.snapshot()
    agency_name = dict(zip(snap.agency_ids, snap.agency_names, strict=True))

    def named(asset_id: str) -> dict[str, Any]:
        i = snap.index.get(asset_id)
        return {"id": asset_id, "name": None if i is None else snap.names[i],
                "type": None if i is None else snap.type_of(i)}

    reported = full["down"]
    forecast = full["forecast"]
    later = {f["id"] for f in forecast}
    down_now = [f for f in full["failures"] if f["id"] not in later]
    notes = [n for n in (
        _truncated(min(limit, len(reported)), len(reported), "reported down", "the earliest first"),
        _truncated(min(limit, len(forecast)), len(forecast), "deadlines", "the soonest first; raise limit"),
    ) if n]
    return {
        "as_of": full["as_of"], "origin": full["origin"],
        "reported_down": [{**named(d["id"]), "since": d["since"], "source": d["source"]} for d in reported[:limit]],
        "down_now": len(down_now),
        "people_affected_now": sum(f["population"] for f in down_now),
        "summary_with_forecast": full["summary"],
        "next_deadlines": [{**named(f["id"]), "at": f["at"], "in_hours": f["in_hours"], "loses": f["kind"],
                            "backup_hours": f["backup_hours"], "providers": f["providers"], "agency": f["agency"],
                            "coordinate": [{"agency": a, "name": agency_name.get(a)} for a in f["coordinate"]],
                            "population": f["population"]} for f in forecast[:limit]],
        "unknown_assets": full["unknown_assets"],
        "truncated": "; ".join(notes) or None,
    }


def record_brief(services: Services, *, events: Sequence[Mapping[str, Any]]) -> dict[str, Any]:
    """``POST /v1/events``: status events checked whole (errors name ``events[k].FIELD``), stored all or nothing."""
    try:
        return services.record([(f"events[{k}]", dict(item)) for k, item in enumerate(events)])
    except ValidationError as exc:
        first = exc.problems[0]
        more = f" (and {len(exc.problems) - 1} more problems)" if len(exc.problems) > 1 else ""
        raise ArgumentError(first.where, f"{first.message}{more}; nothing was stored") from None


def criticality_brief(services: Services, *, top: int, by_district: bool,
                      cancel: CancelToken | None) -> dict[str, Any]:
    """``kg criticality``: the assets whose lone failure does the most harm, with names."""
    _at_most("top", top, services.limits.max_top)
    snap = services.snapshot()
    answer = services.ranking(snap, "district" if by_district else None, top, cancel)
    region_name = dict(zip(snap.region_ids, snap.region_names, strict=True))
    for item in answer["assets"]:
        item["name"] = snap.names[snap.index[item["id"]]]
        item["district_name"] = region_name.get(item["district"]) if item["district"] else None
    return answer


def cypher_rows(services: Services, *, query: str, params: Mapping[str, Any] | None, limit: int) -> dict[str, Any]:
    """A read-only Cypher query with exactly the checks of ``POST /v1/cypher`` (the store's
    :class:`~kg.store.neo4j_cypher.ReadOnlyCypher`), its rows cut to ``limit``."""
    store = services.store()
    run = getattr(store, "run_cypher", None)
    if run is None:
        raise UnsupportedOperation("Cypher needs a Neo4j store (bolt:// or neo4j://); this server's store is "
                                   f"{store.url.partition('://')[0]}; use the sparql tool instead")
    limits = services.limits
    try:
        result = run(query, params, timeout_s=limits.cypher_timeout_s, row_limit=limits.cypher_row_limit)
    except ValidationError as exc:
        if any(p.where == "timeout" for p in exc.problems):
            raise ArgumentError("query", f"the query ran longer than {limits.cypher_timeout_s:g} s and was "
                                "stopped; narrow it (a LIMIT, a shorter path length)") from None
        raise ArgumentError("query", str(exc)) from None
    except CypherRefused as exc:
        raise ArgumentError("query", str(exc)) from None
    rows = result.rows
    note = _truncated(min(limit, len(rows)), len(rows), "rows", "add a LIMIT or raise limit")
    if result.truncated:
        note = f"the query has more than {limits.cypher_row_limit} rows (this server's row limit)" + (
            f"; {note}" if note else "")
    return {"columns": result.columns, "rows": rows[:limit], "count": min(limit, len(rows)), "truncated": note}


def sparql_rows(services: Services, *, query: str, limit: int, deadline: float | None) -> dict[str, Any]:
    """A SPARQL query through the same :class:`~kg.sparql.engine.SparqlService` and limits as
    ``/v1/sparql`` (updates refused, worker killed at the time limit); bindings cut to ``limit``."""
    limits = services.limits
    snap = services.snapshot()
    request = SparqlRequest(query, accept="application/sparql-results+json, application/n-triples")
    answer = services.sparql().query(services.store(), request, timeout_s=limits.sparql_timeout_s,
                                     max_rows=limits.sparql_max_rows, min_version=snap.version,
                                     deadline=deadline)
    if answer.kind == "graph":
        triples = answer.body.decode("utf-8").splitlines()
        return {"kind": "graph", "count": min(limit, len(triples)), "triples": triples[:limit],
                "truncated": _truncated(min(limit, len(triples)), len(triples), "triples", "add a LIMIT")}
    data = json.loads(answer.body)
    if answer.kind == "boolean":
        return {"kind": "boolean", "boolean": data["boolean"]}
    names = data["head"]["vars"]
    bindings = data["results"]["bindings"]
    rows = [{v: b[v]["value"] for v in names if v in b} for b in bindings[:limit]]
    return {"kind": "solutions", "columns": names, "rows": rows, "count": len(rows),
            "truncated": _truncated(len(rows), len(bindings), "rows", "add a LIMIT or raise limit")}
