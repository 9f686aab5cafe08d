"""``kg whatif``: a scenario before and after a few edits, and what got better and what got worse.

The briefing leads with the balance (failures and people, before and after),
then lists what got better (saved, delayed) and, as prominently, what got worse
(new failures, earlier ones): a fix that pushes the problem elsewhere must be
seen. ``--format json`` prints the shape of docs/whatif.md.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.markup import escape
from rich.table import Table

from kg.analysis.cascade import Failure
from kg.analysis.whatif import AddBuffer, AddDependency, Edit, RemoveDependency, WhatIfResult, parse_edits
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
from kg.cli.cascade import clock, kind_name, type_name
from kg.cli.scenario_options import option_errors, require_one, scenario_options
from kg.errors import EditRejected, ValidationError
from kg.i18n import N_, _, ngettext
from kg.scenario import whatif
from kg.snapshot import GraphSnapshot

__all__ = ["describe", "read_edits", "read_json", "render_whatif"]

_SHOWN = 12


def read_json(path: Path, what: str) -> Any:
    """The JSON value in ``path``; a missing file or bad JSON exits 1 naming FILE:LINE:COLUMN."""
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        fail(_("{path}: no such {what} file").format(path=path, what=_(what)))
    except (OSError, UnicodeDecodeError) as exc:
        fail(_("{path}: cannot read the {what} file: {reason}").format(path=path, what=_(what), reason=exc))
    try:
        return json.loads(text)
    except json.JSONDecodeError as exc:
        fail(_("{where}: invalid JSON: {reason}").format(where=f"{path}:{exc.lineno}:{exc.colno}", reason=exc.msg))


def read_edits(path: Path) -> tuple[Edit, ...]:
    """The edits in ``path``: a JSON list of edits, or an object with an ``edits`` list (docs/whatif.md)."""
    data = read_json(path, N_("edits"))
    if isinstance(data, dict) and "edits" in data:
        data = data["edits"]
    try:
        return parse_edits(data)
    except ValidationError as exc:
        fail("\n".join(f"{path}: {p}" for p in exc.problems))


# ----------------------------------------------------------------------------- briefing
def describe(edit: Edit) -> str:
    """One edit in words, for the briefing's first line."""
    d = edit.to_dict()
    if isinstance(edit, AddBuffer):
        return _("{asset} gets {hours} h of {group} buffer").format(asset=edit.asset, hours=f"{edit.hours:g}",
                                                                  group=d["group"])
    if isinstance(edit, AddDependency):
        return _("{dependent} also draws {kind} from {provider} (group {group})").format(
            dependent=edit.dependent, kind=kind_name(edit.kind), provider=edit.provider, group=d["group"])
    if isinstance(edit, RemoveDependency):
        return _("{dependent} no longer draws {kind} from {provider}").format(
            dependent=edit.dependent, kind=kind_name(edit.kind), provider=edit.provider)
    return _("{asset} is hardened against {hazard}").format(asset=edit.asset, hazard=type_name(edit.hazard))


def _row_of(f: Failure, agency_name: dict[str, str]) -> list[str]:
    return [escape(f.id), type_name(f.type), escape(agency_name.get(f.agency or "", f.agency or "-")),
            f"{f.population:,}"]


def _section(title: str, style: str, ids: Sequence[str], failures: dict[str, Failure],
             times: dict[str, tuple[float, float]] | None, agency_name: dict[str, str]) -> None:
    if not ids:
        return
    people = sum(failures[i].population for i in ids)
    counts = _("{assets}, {people}").format(
        assets=ngettext("{n} asset", "{n} assets", len(ids)).format(n=f"{len(ids):,}"),
        people=ngettext("{n} person", "{n} people", people).format(n=f"{people:,}"))
    table = Table(title=f"[{style}]{escape(title)}[/]: {counts}", title_justify="left", show_edge=False)
    columns = [(_("asset"), False), (_("type"), False), (_("agency"), False), (_("people"), True)]
    if times is not None:
        columns += [(_("was"), True), (_("now"), True)]
    for col, right in columns:
        table.add_column(col, justify="right" if right else "left")
    ranked = sorted(ids, key=lambda i: (-failures[i].population, i))
    for i in ranked[:_SHOWN]:
        extra = [clock(times[i][0]), clock(times[i][1])] if times is not None else []
        table.add_row(*_row_of(failures[i], agency_name), *extra)
    if len(ranked) > _SHOWN:
        table.add_row("...", _("{n} more").format(n=len(ranked) - _SHOWN), "", "")
    console.print(table)


def _balance(failed: int, people: int) -> str:
    """``12 assets fail, 3,400 people affected.``"""
    return _("{assets}, {people}.").format(
        assets=ngettext("{n} asset fails", "{n} assets fail", failed).format(n=f"{failed:,}"),
        people=ngettext("{n} person affected", "{n} people affected", people).format(n=f"{people:,}"))


def render_whatif(result: WhatIfResult, snap: GraphSnapshot) -> None:
    """Print a what-if as a briefing: the balance, what got better, what got worse, who gains and who loses."""
    agency_name = {a: n or a for a, n in zip(snap.agency_ids, snap.agency_names, strict=True)}
    b, m = result.baseline.summary, result.modified.summary
    console.print(bold(_("Edits:")) + " " + _("; ").join(escape(describe(e)) for e in result.edits),
                  soft_wrap=True)
    console.print(bold(_("Before:")) + f" {_balance(b.failed, b.population)}  "
                  + bold(_("After:")) + f" {_balance(m.failed, m.population)} "
                  + _("({change} people).").format(change=f"{m.population - b.population:+,}"))
    c, impact = result.changes, result.impact
    before = {f.id: f for f in result.baseline.failures}
    after = {f.id: f for f in result.modified.failures}
    worse = impact["new"].assets + impact["earlier"].assets
    if worse:
        new, sooner = impact["new"], impact["earlier"]
        agencies = _(", ").join(escape(a) for a in new.agencies + sooner.agencies) or "-"
        console.print(bold(_("Worse:"), "bold red") + " " + _(
            "{new} new failures ({new_people} people), {earlier} earlier ({earlier_people} people); agencies "
            "concerned: {agencies}").format(new=f"{new.assets:,}", new_people=f"{new.population:,}",
                                            earlier=f"{sooner.assets:,}", earlier_people=f"{sooner.population:,}",
                                            agencies=agencies), soft_wrap=True)
    else:
        console.print(bold(_("Nothing got worse:")) + " " + _("no new failure, none earlier."))
    if not (c.saved or c.delayed or c.new or c.earlier):
        console.print(_("The edits change nothing in this scenario."))
        return
    delayed = {i: (a, z) for i, a, z in c.delayed}
    earlier = {i: (a, z) for i, a, z in c.earlier}
    _section(_("Saved (fail before, not after)"), "green", c.saved, before, None, agency_name)
    _section(_("Delayed (fail later)"), "green", list(delayed), after, delayed, agency_name)
    _section(_("New failures (fail only after the edits)"), "red", c.new, after, None, agency_name)
    _section(_("Earlier (fail sooner)"), "red", list(earlier), after, earlier, agency_name)
    balance: dict[str, list[int]] = {}
    for name, sign in (("saved", 1), ("delayed", 1), ("new", -1), ("earlier", -1)):
        source = before if name == "saved" else after
        ids = c.saved if name == "saved" else c.new if name == "new" else list(delayed if sign > 0 else earlier)
        for i in ids:
            f = source[i]
            entry = balance.setdefault(f.agency or "-", [0, 0])
            entry[0 if sign > 0 else 1] += f.population
    if balance:
        table = Table(title=_("Who gains and who loses (people)"), title_justify="left", show_edge=False)
        for k, col in enumerate((_("agency"), _("better"), _("worse"))):
            table.add_column(col, justify="left" if k == 0 else "right")
        for agency, (good, bad) in sorted(balance.items(), key=lambda kv: (-kv[1][1], -kv[1][0], kv[0])):
            table.add_row(escape(agency_name.get(agency, agency)), f"{good:,}", f"[red]{bad:,}[/]" if bad else "0")
        console.print(table)


# ----------------------------------------------------------------------------- command
@app.command("whatif")
def whatif_command(
    edits: Annotated[Path, typer.Option("--edits", help="JSON file of edits (docs/whatif.md).",
                                        show_default=False)],
    fail_: Annotated[list[str] | None, typer.Option(
        "--fail", help="ID or ID@HOURS failing at that time (repeatable).", show_default=False)] = None,
    hazard: Annotated[list[str] | None, typer.Option(
        "--hazard", help="Hazard zone id (repeatable): its exposed, fragile assets fail at t=0.",
        show_default=False)] = None,
    horizon: Annotated[float | None, typer.Option("--horizon", help="Count failures up to this many hours.",
                                                  show_default=False)] = None,
    timeout: TimeoutOpt = None,
    store: StoreOpt = None,
    fmt: FormatOpt = OutputFormat.text,
) -> None:
    """A scenario before and after edits (buffers, feeds, hardening): what is saved, what gets worse."""
    require_one(fail_, hazard)  # before the edits file is read
    options = scenario_options(fail_, hazard, horizon=horizon, edits=read_edits(edits))
    with store_session(store) as s:
        snap = s.snapshot()
        with option_errors():
            try:
                result = whatif(snap, options.scenario(snap), cancel=deadline(timeout))
            except EditRejected as exc:  # said with the file that holds the edits
                fail("\n".join(f"{edits}: {p}" for p in exc.problems))
        emit(fmt, result.to_dict(), lambda _: render_whatif(result, snap))
