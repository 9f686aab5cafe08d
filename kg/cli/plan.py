"""``kg plan``: which candidate projects to fund within a budget, ranked, with what each one buys.

Candidates come from a CSV file (columns ``id``, ``cost``, ``edits`` holding the
edits as JSON text, ``name`` optional; planners keep them in a spreadsheet) or a
JSON file (a list of ``{id, cost, edits, name?}``, or an object with a
``candidates`` list). ``--format json`` prints the shape of docs/whatif.md.
"""

from __future__ import annotations

import csv
import json
import math
from enum import StrEnum
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.markup import escape
from rich.table import Table

from kg.analysis.investment import (
    Candidate,
    PlanResult,
    ScenarioSet,
    monte_carlo_scenarios,
    n_minus_one,
    parse_candidates,
    plan_investments,
    scenarios_from,
)
from kg.cli.app import (
    ClusterOpt,
    FormatOpt,
    OutputFormat,
    StoreOpt,
    TimeoutOpt,
    app,
    bold,
    console,
    deadline,
    emit,
    executor_session,
    fail,
    store_session,
    warn,
)
from kg.cli.whatif import read_json
from kg.errors import ValidationError, closest_id
from kg.i18n import N_, _
from kg.snapshot import GraphSnapshot

__all__ = ["read_candidates", "render_plan"]


class ObjectiveName(StrEnum):
    population = "population"
    people_hours = "people_hours"


def _problems(path: Path, exc: ValidationError) -> str:
    return "\n".join(str(p) if str(p).startswith(str(path)) else f"{path}: {p}" for p in exc.problems)


def read_candidates(snap: GraphSnapshot, path: Path) -> tuple[Candidate, ...]:
    """Candidates from a CSV or JSON file; every problem names FILE:LINE (CSV) or FILE: JSON path."""
    if path.suffix.lower() == ".csv":
        try:
            with path.open(encoding="utf-8-sig", newline="") as stream:
                reader = csv.DictReader(stream)
                missing = {"id", "cost", "edits"} - set(reader.fieldnames or ())
                if missing:
                    fail(_("{where}: the header needs the columns id, cost, edits (missing {columns})").format(
                        where=f"{path}:1", columns=", ".join(sorted(missing))))
                items: list[Any] = []
                places = []
                for row in reader:
                    place = f"{path}:{reader.line_num}"
                    item: dict[str, Any] = {"id": row["id"], "edits": row["edits"]}
                    try:
                        item["cost"] = float(row["cost"])
                    except (TypeError, ValueError):
                        item["cost"] = row["cost"]
                    try:
                        item["edits"] = json.loads(row["edits"] or "")
                    except json.JSONDecodeError as exc:
                        fail(_("{where}: edits: invalid JSON at character {position}: {reason}").format(
                            where=place, position=exc.pos + 1, reason=exc.msg))
                    if row.get("name"):
                        item["name"] = row["name"]
                    items.append(item)
                    places.append(place)
        except FileNotFoundError:
            fail(_("{path}: no such {what} file").format(path=path, what=_("candidates")))
        except (OSError, UnicodeDecodeError, csv.Error) as exc:
            fail(_("{path}: cannot read the {what} file: {reason}").format(path=path, what=_("candidates"),
                                                                          reason=exc))
        try:
            return parse_candidates(snap, items, where=str(path), places=places)
        except ValidationError as exc:
            fail("\n".join(str(p) for p in exc.problems))
    data = read_json(path, N_("candidates"))
    if isinstance(data, dict) and "candidates" in data:
        data = data["candidates"]
    try:
        return parse_candidates(snap, data)
    except ValidationError as exc:
        fail(_problems(path, exc))


_KINDS = {"monte_carlo": N_("monte carlo"), "file": N_("file"), "n_minus_one": N_("n minus one")}
"""Scenario-set kinds as the plan's first line says them."""
_GREEDY = {"lazy": N_("lazy"), "plain": N_("plain")}


def render_plan(plan: PlanResult, candidates: tuple[Candidate, ...]) -> None:
    """Print a plan: what to fund first, what each step buys, and what was left out and why."""
    unit = _("people affected") if plan.objective == "population" else _("unserved people-hours")
    sc = plan.scenarios.to_dict()
    objective = (_("expected {unit}").format(unit=unit) if plan.horizon is None
                 else _("expected {unit} within {hours} h").format(unit=unit, hours=f"{plan.horizon:g}"))
    console.print(bold(_("Scenarios:")) + " " + _("{count} ({kind}); objective: {objective}.").format(
        count=f"{sc['count']:,}", kind=_(_KINDS.get(sc["kind"], sc["kind"])), objective=objective))
    final = plan.final
    console.print(bold(_("Without investment:")) + " "
                  + _("{value} {unit}.").format(value=f"{plan.baseline:,.1f}", unit=unit)
                  + "  " + bold(_("With the plan:")) + " "
                  + _("{value} ({change}) for {cost} of a budget of {budget}.").format(
                      value=f"{final:,.1f}", change=f"{final - plan.baseline:+,.1f}",
                      cost=f"{sum(s.cost for s in plan.steps):,.4g}", budget=f"{plan.budget:,.4g}"))
    if plan.steps:
        table = Table(title=_("Fund in this order"), title_justify="left", show_edge=False)
        for k, col in enumerate(("#", _("candidate"), _("cost"), _("benefit"), _("per unit cost"), _("total cost"),
                                 _("expected {unit}").format(unit=unit))):
            table.add_column(col, justify="left" if k == 1 else "right")
        names = {c.id: c.name for c in candidates}
        for s in plan.steps:
            label = escape(s.id) + (f" [dim]{escape(names[s.id] or '')}[/]" if names.get(s.id) else "")
            style = "" if s.marginal_benefit > 0 else "[red]"
            table.add_row(str(s.rank), label, f"{s.cost:,.4g}", f"{style}{s.marginal_benefit:,.1f}",
                          f"{s.marginal_benefit / s.cost:,.1f}", f"{s.cumulative_cost:,.4g}",
                          f"{s.cumulative_objective:,.1f}")
        console.print(table)
    else:
        console.print(_("No candidate lowers the expected impact within the budget."))
    left = [(c, b) for c, b in plan.alone.items() if c not in {s.id for s in plan.steps}]
    room = plan.budget - sum(s.cost for s in plan.steps)
    if left:
        table = Table(title=_("Not funded"), title_justify="left", show_edge=False)
        for k, col in enumerate((_("candidate"), _("cost"), _("benefit alone"), _("why"))):
            table.add_column(col, justify="left" if k in {0, 3} else "right")
        for c, b in left:
            cost = plan.costs[c]
            why = _(N_("costs more than the budget") if cost > plan.budget else N_("buys nothing here") if b <= 0
                    else N_("the budget ran out") if cost > room else N_("adds nothing once the plan's steps are in"))
            table.add_row(escape(c), f"{cost:,.4g}", f"{'[red]' if b < 0 else ''}{b:,.1f}", why)
        console.print(table)
    m = plan.to_dict()["method"]
    method = _("{greedy} greedy, {moves} local improvement moves, {evaluations} plans evaluated").format(
        greedy=_(_GREEDY.get(m["greedy"], m["greedy"])), moves=m["local_moves"], evaluations=f"{m['evaluations']:,}")
    console.print(f"[dim]{method}[/]")


@app.command("plan")
def plan_command(
    candidates: Annotated[Path, typer.Option("--candidates", help="CSV or JSON file of candidates (id, cost, edits).",
                                             show_default=False)],
    budget: Annotated[float, typer.Option("--budget", help="Total cost allowed.", show_default=False)],
    hazard: Annotated[list[str] | None, typer.Option(
        "--hazard", help="Hazard zone id (repeatable): Monte Carlo samples of its damage.",
        show_default=False)] = None,
    samples: Annotated[int, typer.Option("--samples", help="Monte Carlo samples (with --hazard).")] = 1000,
    seed: Annotated[int, typer.Option("--seed", help="Random seed for --samples.")] = 0,
    scenarios: Annotated[Path | None, typer.Option(
        "--scenarios", help="JSON file of scenarios with probabilities.", show_default=False)] = None,
    n_1: Annotated[list[str] | None, typer.Option(
        "--n-1", help="Asset type (repeatable): every asset of it failing alone.", show_default=False)] = None,
    objective: Annotated[ObjectiveName, typer.Option(
        "--objective", help="Expected population affected, or unserved people-hours.")] = ObjectiveName.population,
    horizon: Annotated[float | None, typer.Option("--horizon", help="Count failures up to this many hours "
                                                  "(buffers only count with one).", show_default=False)] = None,
    plain: Annotated[bool, typer.Option("--plain-greedy", help="Re-evaluate every candidate at every step.")] = False,
    no_local: Annotated[bool, typer.Option("--no-local", help="Skip the local-improvement pass.")] = False,
    cluster: ClusterOpt = None,
    timeout: TimeoutOpt = None,
    store: StoreOpt = None,
    fmt: FormatOpt = OutputFormat.text,
) -> None:
    """Which candidate projects to fund within a budget to lower the expected impact the most."""
    if sum((bool(hazard), scenarios is not None, bool(n_1))) != 1:
        fail(_("give one scenario set: --hazard ZONE... (Monte Carlo), --scenarios FILE.json or --n-1 TYPE..."))
    if not (math.isfinite(budget) and budget >= 0):
        fail(_("{option} must be a finite number >= 0, got {value}").format(option="--budget", value=budget))
    if samples < 1:
        fail(_("{option} must be at least 1, got {value}").format(option="--samples", value=samples))
    if seed < 0:
        fail(_("{option} must be >= 0, got {value}").format(option="--seed", value=seed))
    if horizon is not None and not (math.isfinite(horizon) and horizon >= 0):
        fail(_("{option} must be a finite number of hours >= 0, got {value}").format(option="--horizon",
                                                                                     value=horizon))
    if horizon is not None and objective is ObjectiveName.people_hours:
        warn(_("--horizon counts failures for --objective population; people-hours run until every repair ends, "
               "so it is ignored"))
    with store_session(store) as s, executor_session(cluster) as ex:
        snap = s.snapshot()
        found = read_candidates(snap, candidates)
        chosen: ScenarioSet
        if hazard:
            for z in hazard:
                if z not in snap.zone_ids:
                    hint = closest_id(z, snap.zone_ids)
                    fail(_("{option} {id}: no {what} with this id").format(option="--hazard", id=repr(z),
                                                                          what=_("hazard zone"))
                         + (f"; {hint}" if hint else ""))
            chosen = monte_carlo_scenarios(snap, hazard, samples=samples, seed=seed)
        elif scenarios is not None:
            data = read_json(scenarios, N_("scenarios"))
            if isinstance(data, dict) and "scenarios" in data:
                data = data["scenarios"]
            try:
                chosen = scenarios_from(snap, data)
            except ValidationError as exc:
                fail(_problems(scenarios, exc))
        else:
            try:
                chosen = n_minus_one(snap, n_1 or [], where="--n-1")
            except ValidationError as exc:
                fail("\n".join(str(p) for p in exc.problems))
            if not chosen.scenarios:
                warn(_("no asset is of type {types}: nothing can fail, so no plan buys anything").format(
                    types=", ".join(n_1 or [])))
        plan = plan_investments(snap, found, budget, chosen, objective=objective.value, horizon=horizon,
                                lazy=not plain, local=not no_local, cancel=deadline(timeout), executor=ex)
        emit(fmt, plan.to_dict(), lambda _: render_plan(plan, found))
