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
                    fail(f"{path}:1: the header needs the columns id, cost, edits "
                         f"(missing {', '.join(sorted(missing))})")
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
                        fail(f"{place}: edits: invalid JSON at character {exc.pos + 1}: {exc.msg}")
                    if row.get("name"):
                        item["name"] = row["name"]
                    items.append(item)
                    places.append(place)
        except FileNotFoundError:
            fail(f"{path}: no such candidates file")
        except (OSError, UnicodeDecodeError, csv.Error) as exc:
            fail(f"{path}: cannot read the candidates file: {exc}")
        try:
            return parse_candidates(snap, items, where=str(path), places=places)
        except ValidationError as exc:
            fail("\n".join(str(p) for p in exc.problems))
    data = read_json(path, "candidates")
    if isinstance(data, dict) and "candidates" in data:
        data = data["candidates"]
    try:
        return parse_candidates(snap, data)
    except ValidationError as exc:
        fail(_problems(path, exc))


def render_plan(plan: PlanResult, candidates: tuple[Candidate, ...]) -> None:
    """Print a plan: what to fund first, what each step buys, and what was left out and why."""
    unit = "people affected" if plan.objective == "population" else "unserved people-hours"
    sc = plan.scenarios.to_dict()
    console.print(f"[bold]Scenarios:[/] {sc['count']:,} ({sc['kind'].replace('_', ' ')}); objective: expected "
                  f"{unit}{'' if plan.horizon is None else f' within {plan.horizon:g} h'}.")
    final = plan.final
    console.print(f"[bold]Without investment:[/] {plan.baseline:,.1f} {unit}.  [bold]With the plan:[/] "
                  f"{final:,.1f} ({final - plan.baseline:+,.1f}) for {sum(s.cost for s in plan.steps):,.4g} of a "
                  f"budget of {plan.budget:,.4g}.")
    if plan.steps:
        table = Table(title="Fund in this order", title_justify="left", show_edge=False)
        for col in ("#", "candidate", "cost", "benefit", "per unit cost", "total cost", f"expected {unit}"):
            table.add_column(col, justify="left" if col == "candidate" else "right")
        names = {c.id: c.name for c in candidates}
        for s in plan.steps:
            label = escape(s.id) + (f" [dim]{escape(names[s.id] or '')}[/]" if names.get(s.id) else "")
            style = "" if s.marginal_benefit > 0 else "[red]"
            table.add_row(str(s.rank), label, f"{s.cost:,.4g}", f"{style}{s.marginal_benefit:,.1f}",
                          f"{s.marginal_benefit / s.cost:,.1f}", f"{s.cumulative_cost:,.4g}",
                          f"{s.cumulative_objective:,.1f}")
        console.print(table)
    else:
        console.print("No candidate lowers the expected impact within the budget.")
    left = [(c, b) for c, b in plan.alone.items() if c not in {s.id for s in plan.steps}]
    room = plan.budget - sum(s.cost for s in plan.steps)
    if left:
        table = Table(title="Not funded", title_justify="left", show_edge=False)
        for col in ("candidate", "cost", "benefit alone", "why"):
            table.add_column(col, justify="left" if col in {"candidate", "why"} else "right")
        for c, b in left:
            cost = plan.costs[c]
            why = ("costs more than the budget" if cost > plan.budget else "buys nothing here" if b <= 0
                   else "the budget ran out" if cost > room else "adds nothing once the plan's steps are in")
            table.add_row(escape(c), f"{cost:,.4g}", f"{'[red]' if b < 0 else ''}{b:,.1f}", why)
        console.print(table)
    m = plan.to_dict()["method"]
    console.print(f"[dim]{m['greedy']} greedy, {m['local_moves']} local improvement moves, {m['evaluations']:,} "
                  "plans evaluated[/]")


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
        fail("give one scenario set: --hazard ZONE... (Monte Carlo), --scenarios FILE.json or --n-1 TYPE...")
    if not (math.isfinite(budget) and budget >= 0):
        fail(f"--budget must be a finite number >= 0, got {budget}")
    if samples < 1:
        fail(f"--samples must be at least 1, got {samples}")
    if seed < 0:
        fail(f"--seed must be >= 0, got {seed}")
    if horizon is not None and not (math.isfinite(horizon) and horizon >= 0):
        fail(f"--horizon must be a finite number of hours >= 0, got {horizon}")
    if horizon is not None and objective is ObjectiveName.people_hours:
        warn("--horizon counts failures for --objective population; people-hours run until every repair ends, "
             "so it is ignored")
    with store_session(store) as s, executor_session(cluster) as ex:
        snap = s.snapshot()
        found = read_candidates(snap, candidates)
        chosen: ScenarioSet
        if hazard:
            for z in hazard:
                if z not in snap.zone_ids:
                    hint = closest_id(z, snap.zone_ids)
                    fail(f"--hazard {z!r}: no hazard zone with this id{f'; {hint}' if hint else ''}")
            chosen = monte_carlo_scenarios(snap, hazard, samples=samples, seed=seed)
        elif scenarios is not None:
            data = read_json(scenarios, "scenarios")
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
                warn(f"no asset is of type {', '.join(n_1 or [])}: nothing can fail, so no plan buys anything")
        plan = plan_investments(snap, found, budget, chosen, objective=objective.value, horizon=horizon,
                                lazy=not plain, local=not no_local, cancel=deadline(timeout), executor=ex)
        emit(fmt, plan.to_dict(), lambda _: render_plan(plan, found))
