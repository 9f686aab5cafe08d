"""``kg restore``: which crew repairs what, in which order, so that the fewest people go unserved.

Text output is a briefing for a command centre: the plan against the naive order, then per
agency what its crews do first, then when each district has its power, its water and all its
people back. ``--format json`` prints the plan of docs/restoration.md (the REST API returns the
same).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Annotated

import typer
from rich.console import Console
from rich.markup import escape
from rich.table import Table

from kg.analysis.restoration import RestorationResult, plan_restoration
from kg.analysis.restoration_summary import RestorationSummary, summarise
from kg.cli.app import (
    FormatOpt,
    OutputFormat,
    StoreOpt,
    TimeoutOpt,
    app,
    bold,
    console,
    deadline,
    emit,
    fail,
    store_session,
)
from kg.cli.cascade import clock, type_name
from kg.cli.live import live_time
from kg.cli.scenario_options import option_errors, scenario_options
from kg.errors import KGError, ValidationError
from kg.i18n import N_, _, ngettext
from kg.live import down_at
from kg.scenario import Scenario, damaged
from kg.snapshot import GraphSnapshot

__all__ = ["parse_assignments", "render_restoration"]

_METHODS = (N_("heuristic"), N_("exact"))
"""Solver names as the briefing says them (the ``method`` of the plan's JSON stays as it is)."""

_FLAGS = {"repair_hours": "--repair-hours", "crews": "--crews", "time_limit": "--time-limit", "method": "--exact"}
"""Engine fields -> the option that sets them, so an engine error names what the user typed."""


def parse_assignments(option: str, specs: Sequence[str], what: str, convert: type[int] | type[float]
                      ) -> dict[str, int | float]:
    """``KEY=VALUE`` options as a mapping (the last of repeated keys wins); exits 1 on a bad one."""
    out: dict[str, int | float] = {}
    for spec in specs:
        key, sep, value = spec.rpartition("=")
        key = key.strip()
        if not sep or not key:
            fail(_("{option} {spec}: expected {what}").format(option=option, spec=repr(spec), what=what))
        try:
            out[key] = convert(value.strip())
        except ValueError:
            kind = _("a whole number") if convert is int else _("a number")
            fail(_("{option} {spec}: expected {what} with {kind} after '=', got {value}").format(
                option=option, spec=repr(spec), what=what, kind=kind, value=repr(value.strip())))
    return out


def _option_error(exc: ValidationError) -> str:
    """An engine error with its fields (``crews.grid``) spelled as the options that set them."""
    lines = []
    for problem in exc.problems:
        field, _, key = problem.where.partition(".")
        flag = _FLAGS.get(field)
        where = f"{flag} {key}" if flag and key else (flag or problem.where)
        lines.append(f"{where}: {problem.message}")
    return "\n".join(lines)


# ----------------------------------------------------------------------------- briefing
def render_restoration(result: RestorationResult, summary: RestorationSummary, snap: GraphSnapshot,
                       out: Console) -> None:
    """Print a plan as a command-centre briefing: the gain, each agency's first repairs, districts back."""
    agency_name = {a: n or a for a, n in zip(snap.agency_ids, snap.agency_names, strict=True)}
    region_name = {r: n or r for r, n in zip(snap.region_ids, snap.region_names, strict=True)}
    if not result.damaged:
        out.print(_("Nothing is damaged: nothing to repair."))
        return
    end = max(r.end for r in result.schedule)
    naive = result.naive_unserved_people_hours
    saved = naive - result.unserved_people_hours
    if result.method == "exact" and result.optimal:
        method = _("exact, proven optimal")
    elif result.method == "exact":
        method = (_("exact (time limit reached)") if result.gap is None
                  else _("exact (time limit reached, gap {gap})").format(gap=f"{result.gap:.1%}"))
    else:
        method = _(result.method)
    heading = _("Restoration plan ({method}):").format(method=method)
    out.print(f"[bold]{heading}[/] " + _(
        "{damaged} damaged assets, all repaired by {time}; {people} people without service at hour 0.").format(
        damaged=f"{len(result.damaged):,}", time=clock(end), people=f"{summary.affected_population:,}"))
    share = _(", {share}").format(share=f"{saved / naive:.0%}") if naive > 0 else ""
    out.print(bold(_("Unserved people-hours:")) + " " + _(
        "{value}, against {naive} repairing in id order ({saved} saved{share}).").format(
        value=f"{result.unserved_people_hours:,.0f}", naive=f"{naive:,.0f}", saved=f"{saved:,.0f}", share=share),
        soft_wrap=True)

    for agency in summary.agencies:
        name = agency_name.get(agency.agency, agency.agency) if agency.agency else _("(no agency)")
        crews = ngettext("{n} crew", "{n} crews", agency.crews).format(n=agency.crews)
        repairs = ngettext("{n} repair", "{n} repairs", agency.repairs).format(n=f"{agency.repairs:,}")
        title = _("{agency}: {crews}, {repairs}, done by {time}").format(agency=escape(name), crews=crews,
                                                                          repairs=repairs, time=clock(agency.done))
        table = Table(title=title, title_justify="left", show_edge=False)
        for k, col in enumerate((_("crew"), _("from"), _("to"), _("repair"), _("type"), _("people back then"))):
            table.add_column(col, justify="right" if k in {0, 5} else "left")
        for r in agency.first:
            table.add_row(str(r.crew), clock(r.start), clock(r.end), escape(r.id),
                          type_name(snap.type_of(snap.index[r.id])), f"{summary.people_back.get(r.id, 0):,}")
        if agency.repairs > len(agency.first):
            table.add_row("", "", "", _("... {n} more").format(n=f"{agency.repairs - len(agency.first):,}"), "", "")
        out.print(table)

    if summary.districts:
        table = Table(title=_("When each district is back"), title_justify="left", show_edge=False)
        for k, col in enumerate((_("district"), _("people cut off"), _("power back"), _("water back"),
                                 _("everyone served"))):
            table.add_column(col, justify="left" if k == 0 else "right")
        for d in summary.districts:
            table.add_row(escape(region_name.get(d.district, d.district)) if d.district else _("(no district)"),
                          f"{d.population:,}", _at(d.power), _at(d.water), _at(d.everyone))
        out.print(table)


def _at(hours: float | None) -> str:
    return "-" if hours is None else clock(hours)


# ----------------------------------------------------------------------------- command
@app.command("restore")
def restore_command(
    fail_: Annotated[list[str] | None, typer.Option(
        "--fail", help="A damaged asset id (repeatable).", show_default=False)] = None,
    hazard: Annotated[list[str] | None, typer.Option(
        "--hazard", help="Hazard zone id (repeatable): its exposed, fragile assets are damaged.",
        show_default=False)] = None,
    live: Annotated[bool, typer.Option("--live", help="Repair what is down now (live status events).")] = False,
    as_of: Annotated[str | None, typer.Option(
        "--as-of", help="With --live: what was down at this time (ISO 8601 with offset); default now.",
        show_default=False)] = None,
    repair_hours: Annotated[list[str] | None, typer.Option(
        "--repair-hours", metavar="TYPE_OR_ID=H", show_default=False,
        help="Repair hours of an asset, or of every asset of a type (an ontology class); repeatable.")] = None,
    crews: Annotated[list[str] | None, typer.Option(
        "--crews", metavar="AGENCY=N", show_default=False,
        help="Crews of an agency (else its crews column, else 1); repeatable.")] = None,
    exact: Annotated[bool, typer.Option("--exact", help="Solve exactly (MILP on HiGHS) within --time-limit.")
                     ] = False,
    time_limit: Annotated[float | None, typer.Option(
        "--time-limit", metavar="S", help="Seconds the exact solver may spend (default 60).",
        show_default=False)] = None,
    timeout: TimeoutOpt = None,
    store: StoreOpt = None,
    fmt: FormatOpt = OutputFormat.text,
) -> None:
    """Plan the repairs after an event: per agency what first, when each district has power and water back."""
    if sum((bool(fail_), bool(hazard), live)) != 1:
        fail(_("give one of --fail ID..., --hazard ZONE... or --live"))
    if as_of is not None and not live:
        fail(_("--as-of is the time of --live: add --live"))
    if time_limit is not None and not exact:
        fail(_("--time-limit is the exact solver's limit: add --exact"))
    hours = parse_assignments("--repair-hours", repair_hours or [],
                              _("TYPE_OR_ID=HOURS, e.g. Substation=48"), float)
    crew_counts = {k: int(v) for k, v in parse_assignments(
        "--crews", crews or [], _("AGENCY=N, e.g. {example}").format(example="grid=3"), int).items()}
    options = None if live else scenario_options(fail_, hazard, timed=False)
    with store_session(store) as s:
        snap = s.snapshot()
        if options is None:  # what the status events say is down at that time (docs/live.md)
            moment = live_time(as_of)
            scenario = Scenario(as_of=moment, down=tuple((d.asset, d.since) for d in down_at(s, moment).values()))
        else:
            scenario = options.scenario(snap)
        with option_errors():
            broken = damaged(snap, scenario)
        try:
            result = plan_restoration(snap, broken, repair_hours=hours, crews=crew_counts,
                                      method="exact" if exact else "heuristic",
                                      time_limit=60.0 if time_limit is None else time_limit,
                                      cancel=deadline(timeout))
        except ValidationError as exc:
            fail(_option_error(exc))
        except KGError as exc:
            fail(str(exc))
        if fmt is OutputFormat.json:
            emit(fmt, result.to_dict(), lambda _: None)
            return
        summary = summarise(snap, result)
        render_restoration(result, summary, snap, console)
