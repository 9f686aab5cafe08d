"""``kg cascade``, ``kg criticality``, ``kg paths``, ``kg spof``: what fails, what matters, what hangs on it.

Text output is written for people in an emergency command center; ``--format
json`` gives programs the shapes of docs/cli.md and docs/cascade.md (the REST API
returns the same).
"""

from __future__ import annotations

import math
from collections import Counter
from enum import StrEnum
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.markup import escape
from rich.table import Table

from kg.analysis.cascade import CascadeResult
from kg.analysis.coordination import coordination
from kg.analysis.criticality import Criticality, criticality
from kg.analysis.hazards import MonteCarloResult
from kg.answers import criticality_answer, paths_answer, spof_answer
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
)
from kg.cli.progress import batch_progress
from kg.cli.scenario_options import option_errors, scenario_options
from kg.errors import closest_id
from kg.i18n import _, current_language, ngettext
from kg.ontology import load_ontology
from kg.scenario import run
from kg.snapshot import GraphSnapshot

__all__ = ["clock", "kind_name", "render_briefing", "type_name"]


def clock(hours: float) -> str:
    """Cascade time as a clock: ``08:30``, then ``1d 02:00`` past the first day."""
    minutes = round(hours * 60)
    days, rest = divmod(minutes, 24 * 60)
    text = f"{rest // 60:02d}:{rest % 60:02d}"
    return f"{days}d {text}" if days else text


def _asset(snap: GraphSnapshot, asset_id: str, what: str) -> int:
    """The index of ``asset_id``; exits naming ``what`` (the argument that gave it) when there is none."""
    if asset_id not in snap.index:
        hint = closest_id(asset_id, snap.asset_ids)
        fail(_("{argument} {id}: no asset with this id").format(argument=what, id=repr(asset_id))
             + (f"; {hint}" if hint else ""))
    return snap.index[asset_id]


# ----------------------------------------------------------------------------- briefing
def _names(snap: GraphSnapshot) -> tuple[dict[str, str], dict[str, str]]:
    agencies = {a: n or a for a, n in zip(snap.agency_ids, snap.agency_names, strict=True)}
    regions = {r: n or r for r, n in zip(snap.region_ids, snap.region_names, strict=True)}
    return agencies, regions


_INITIAL_SHOWN = 8
"""Initial failures a briefing names before saying how many more there are."""


def _type(snap: GraphSnapshot, i: int) -> str:
    """An asset's type as people read it: the class name in English, its label in Chinese."""
    name = snap.type_of(i)
    return load_ontology().label(name, "zh") if current_language() == "zh" else name


def type_name(name: str) -> str:
    """An asset type as people read it: the class name in English, its label in Chinese."""
    return load_ontology().label(name, "zh") if current_language() == "zh" else name


def kind_name(kind: str) -> str:
    """A service kind as people read it: its name in English (``power``), its label in Chinese."""
    return load_ontology().kind_label(kind, "zh") if current_language() == "zh" else kind


def render_briefing(result: CascadeResult, snap: GraphSnapshot, out: Console) -> None:
    """Print a cascade as a command-center briefing: situation, who acts first, who must talk, timeline.

    In the language of :mod:`kg.i18n` (``--lang``, ``KG_LANG``, ``LANG``); ids and names are the data's.
    """
    agency_name, region_name = _names(snap)
    s = result.summary
    # The situation comes first; a hazard's dozens of initial failures are summed up after a few.
    start = _(", ").join(_("{asset} ({type}) at {time}").format(asset=a, type=_type(snap, snap.index[a]),
                                                                 time=clock(t))
                         for a, t in result.initial[:_INITIAL_SHOWN])
    if len(result.initial) > _INITIAL_SHOWN:
        start += _(" and {n} more (--format json lists them all)").format(n=len(result.initial) - _INITIAL_SHOWN)
    label = ngettext("Initial failure", "Initial failures", len(result.initial))
    horizon = _("no horizon") if result.horizon is None else _("horizon {time}").format(time=clock(result.horizon))
    first = min((t for _a, t in result.initial), default=0.0)
    if result.horizon is not None and first > 0:
        # A horizon counts from 00:00, not from the first failure: say so, or `--fail X@8 --horizon 4` looks empty.
        horizon = _("horizon {time}, counted from 00:00, not from the first failure at {first}").format(
            time=clock(result.horizon), first=clock(first))
    districts = s.regions.get("district", 0)
    situation = _("{assets}, {people}, {agencies} and {districts} involved.").format(
        assets=ngettext("{n} asset fails", "{n} assets fail", s.failed).format(n=f"{s.failed:,}"),
        people=ngettext("{n} person affected", "{n} people affected", s.population).format(n=f"{s.population:,}"),
        agencies=ngettext("{n} agency", "{n} agencies", s.agencies).format(n=s.agencies),
        districts=ngettext("{n} district", "{n} districts", districts).format(n=districts))
    heading, data_warning = _("Situation"), _("data warning:")
    out.print(f"[bold]{heading} ({horizon}):[/] {situation}")
    out.print(f"[bold]{label}:[/] {escape(start)}")
    for e in result.baseline_errors[:5]:
        out.print(f"[yellow]{data_warning}[/] {e}", soft_wrap=True)
    if len(result.baseline_errors) > 5:
        more = _("{n} more unsourced supply loops").format(n=len(result.baseline_errors) - 5)
        out.print(f"[yellow]{data_warning}[/] {more}")
    picture = coordination(snap, result)

    acts = Table(title=_("Who must act first"), title_justify="left", show_edge=False)
    for col, right in (("#", True), (_("hit at"), False), (_("agency"), False), (_("first asset hit"), False),
                       (_("first failure"), False), (_("failures"), True)):
        acts.add_column(col, justify="right" if right else "left")
    for k, actor in enumerate(picture.act_first[:12], 1):
        name = agency_name.get(actor.agency, actor.agency)
        acts.add_row(str(k), clock(actor.first), name, actor.first_asset, clock(actor.first_failure),
                     f"{actor.failures:,}")
    if picture.act_first:
        out.print(acts)

    for title, contacts, names in ((_("Departments that must coordinate"), picture.agencies, agency_name),
                                   (_("Districts that must coordinate"), picture.regions, region_name)):
        if not contacts:
            continue
        table = Table(title=title, title_justify="left", show_edge=False)
        for col, right in ((_("talk from"), False), (_("upstream"), False), (_("downstream"), False),
                           (_("first failure"), False), (_("failures crossing"), True)):
            table.add_column(col, justify="right" if right else "left")
        for c in contacts[:15]:
            table.add_row(clock(c.first_contact), names.get(c.from_, c.from_), names.get(c.to, c.to),
                          clock(c.first_failure), f"{c.failures:,}")
        if len(contacts) > 15:
            table.add_row("...", _("{n} more pairs").format(n=len(contacts) - 15), "", "", "")
        out.print(table)

    timeline = Table(title=_("Timeline, hour by hour"), title_justify="left", show_edge=False)
    for col, right in ((_("hour"), False), (_("failures"), True), (_("people"), True), (_("what fails"), False),
                       (_("key assets"), False)):
        timeline.add_column(col, justify="right" if right else "left")
    key_types = frozenset(load_ontology().key_types)
    hours: dict[int, list[Any]] = {}
    for f in result.failures:
        hours.setdefault(math.floor(f.time), []).append(f)
    shown = sorted(hours)
    for h in shown[:24]:
        fs = hours[h]
        kinds = Counter(f.type for f in fs).most_common(3)
        key = [f"{f.id} ({type_name(f.type)})" for f in fs if f.type in key_types][:3]
        timeline.add_row(f"{clock(h)}-{clock(h + 1)}", f"{len(fs):,}", f"{sum(f.population for f in fs):,}",
                         ", ".join(f"{n} {type_name(t)}" for t, n in kinds), ", ".join(key))
    if len(shown) > 24:
        rest = [f for h in shown[24:] for f in hours[h]]
        timeline.add_row(f"{clock(shown[24])}-", f"{len(rest):,}", f"{sum(f.population for f in rest):,}",
                         _("later failures"), "")
    out.print(timeline)

    by_district: dict[str, list[int]] = {}
    for f in result.failures:
        d = f.regions.get("district")
        if d is not None:
            entry = by_district.setdefault(d, [0, 0])
            entry[0] += 1
            entry[1] += f.population
    if by_district:
        table = Table(title=_("Impact by district"), title_justify="left", show_edge=False)
        for col, right in ((_("district"), False), (_("failures"), True), (_("people"), True)):
            table.add_column(col, justify="right" if right else "left")
        for d, (n, people) in sorted(by_district.items(), key=lambda kv: (-kv[1][1], kv[0])):
            table.add_row(region_name.get(d, d), f"{n:,}", f"{people:,}")
        out.print(table)


def _render_monte_carlo(mc: MonteCarloResult, snap: GraphSnapshot) -> None:
    region_name = _names(snap)[1]
    horizon = _("no horizon") if mc.horizon is None else _("horizon {time}").format(time=clock(mc.horizon))
    heading = _("Hazard {zones}:").format(zones=_(", ").join(mc.zones))
    samples = ngettext("{n} sample (seed {seed})", "{n} samples (seed {seed})", mc.samples).format(
        n=f"{mc.samples:,}", seed=mc.seed)
    console.print(f"[bold]{escape(heading)}[/] " + escape(_("{samples}, {horizon}").format(samples=samples,
                                                                                           horizon=horizon)))
    table = Table(show_edge=False)
    for k, col in enumerate((_("district"), _("failed mean"), _("p5"), _("p95"), _("people mean"), _("p5"),
                             _("p95"))):
        table.add_column(col, justify="left" if k == 0 else "right")
    for impact in (*mc.districts, mc.total):
        name = _("whole city") if impact.district is None else region_name.get(impact.district, impact.district)
        failed, people = impact.failed, impact.population
        table.add_row(name, f"{failed.mean:,.1f}", f"{failed.p5:,.0f}", f"{failed.p95:,.0f}",
                      f"{people.mean:,.0f}", f"{people.p5:,.0f}", f"{people.p95:,.0f}")
    console.print(table)
    likely = sorted(mc.probability.items(), key=lambda kv: (-kv[1], kv[0]))[:15]
    if likely:
        top = Table(title=_("Most likely to fail"), title_justify="left", show_edge=False)
        for col, right in ((_("asset"), False), (_("type"), False), (_("probability"), True)):
            top.add_column(col, justify="right" if right else "left")
        for a, p in likely:
            top.add_row(a, _type(snap, snap.index[a]), f"{p:.0%}")
        console.print(top)


# ----------------------------------------------------------------------------- commands
@app.command("cascade")
def cascade_command(
    fail_: Annotated[list[str] | None, typer.Option(
        "--fail", help="ID or ID@HOURS failing at that time (repeatable).", show_default=False)] = None,
    hazard: Annotated[list[str] | None, typer.Option(
        "--hazard", help="Hazard zone id (repeatable): its exposed, fragile assets fail at t=0.",
        show_default=False)] = None,
    horizon: Annotated[float | None, typer.Option("--horizon", help="Report failures up to this many hours.",
                                                  show_default=False)] = None,
    samples: Annotated[int | None, typer.Option("--samples", help="Monte Carlo samples (with --hazard).",
                                                show_default=False)] = None,
    seed: Annotated[int, typer.Option("--seed", help="Random seed for --samples.")] = 0,
    plot: Annotated[Path | None, typer.Option(
        "--plot", help="Also draw the timeline into FILE.svg|.png|.pdf (needs the plot extra).",
        show_default=False)] = None,
    cluster: ClusterOpt = None,
    timeout: TimeoutOpt = None,
    store: StoreOpt = None,
    fmt: FormatOpt = OutputFormat.text,
) -> None:
    """What fails after the given failures (or a hazard), when, why, and who must coordinate."""
    if plot is not None and samples is not None:
        fail(_("--plot draws one cascade; leave out --samples"))
    if samples is not None and fail_ and not hazard:
        fail(_("--samples needs --hazard (Monte Carlo draws hazard damage)"))
    options = scenario_options(fail_, hazard, samples=samples, seed=seed, horizon=horizon)
    with store_session(store) as s, executor_session(cluster if samples is not None else None) as ex, \
            batch_progress(_("Monte Carlo samples")) as progress:
        snap = s.snapshot()
        with option_errors():
            outcome = run(snap, options.scenario(snap), cancel=deadline(timeout), executor=ex, progress=progress)
        if isinstance(outcome, MonteCarloResult):
            emit(fmt, outcome.to_dict(), lambda _: _render_monte_carlo(outcome, snap))
            return
        result = outcome
        if hazard and not result.initial and fmt is OutputFormat.text:
            console.print(_("No exposed asset reaches its fragility threshold in {zones}.").format(
                zones=", ".join(hazard)), markup=False)
        if plot is not None:
            from kg.plot import plot_cascade

            names = dict(zip(snap.region_ids, snap.region_names, strict=True))
            plot_cascade(result.to_dict(), plot, district_names=names)
        emit(fmt, result.to_dict(), lambda _: render_briefing(result, snap, console))


class By(StrEnum):
    district = "district"


@app.command("criticality")
def criticality_command(
    top: Annotated[int, typer.Option("--top", help="How many assets to list (per district with --by).")] = 20,
    by: Annotated[By | None, typer.Option("--by", help="Rank within each district.",
                                          show_default=False)] = None,
    cluster: ClusterOpt = None,
    timeout: TimeoutOpt = None,
    store: StoreOpt = None,
    fmt: FormatOpt = OutputFormat.text,
) -> None:
    """Assets ranked by the cascade their lone failure causes (failures, people, districts, agencies)."""
    if top < 1:
        fail(_("{option} must be at least 1, got {value}").format(option="--top", value=top))
    with store_session(store) as s, executor_session(cluster) as ex, batch_progress(_("criticality")) as progress:
        snap = s.snapshot()
        ranking = criticality(snap, by=None if by is None else by.value, top=top, cancel=deadline(timeout),
                              executor=ex, progress=progress)
        data = criticality_answer(ranking, None if by is None else by.value, top)
        emit(fmt, data, lambda _: _render_criticality(ranking, snap, by is not None))


def _render_criticality(ranking: list[Criticality], snap: GraphSnapshot, per_district: bool) -> None:
    region_name = _names(snap)[1]
    groups: dict[str | None, list[Criticality]] = {}
    for c in ranking:
        groups.setdefault(c.district if per_district else None, []).append(c)
    for district, rows in groups.items():
        if per_district:
            title = region_name.get(district, district) if district else _("(no district)")
        else:
            title = _("Most critical assets")
        table = Table(show_edge=False, title=escape(title), title_justify="left")
        table.add_column("#", justify="right")
        table.add_column(_("asset"), overflow="fold")
        table.add_column(_("type"), overflow="fold")
        for col in (_("failures"), _("people"), _("districts"), _("agencies")):
            table.add_column(col, justify="right")
        for c in rows:
            name = snap.names[snap.index[c.id]]
            asset = f"{escape(c.id)} [dim]{escape(name)}[/]" if name else escape(c.id)
            table.add_row(str(c.rank), asset, type_name(c.type), f"{c.failed:,}",
                          f"{c.population:,}", str(c.districts), str(c.agencies))
        console.print(table)


@app.command("paths")
def paths_command(
    x: Annotated[str, typer.Argument(help="The provider at the bottom of the chains.", show_default=False)],
    y: Annotated[str, typer.Argument(help="The dependent at the top of the chains.", show_default=False)],
    k: Annotated[int, typer.Option("--k", help="How many chains, shortest first.")] = 5,
    timeout: TimeoutOpt = None,
    store: StoreOpt = None,
    fmt: FormatOpt = OutputFormat.text,
) -> None:
    """The k shortest dependency chains from Y down to X."""
    if k < 1:
        fail(_("{option} must be at least 1, got {value}").format(option="--k", value=k))
    with store_session(store) as s:
        snap = s.snapshot()
        _asset(snap, x, "X")
        _asset(snap, y, "Y")
        data = paths_answer(snap, x, y, k=k, cancel=deadline(timeout))
        chains: list[dict[str, list[Any]]] = data["paths"]

        def text(_data: Any) -> None:
            if not chains:
                console.print(_("{dependent} does not depend on {provider}.").format(dependent=y, provider=x),
                              markup=False)
            for n, chain in enumerate(chains, 1):
                hops = [chain["assets"][0]]
                for kinds, asset in zip(chain["kinds"], chain["assets"][1:], strict=True):
                    hops.append(f"-{'/'.join(map(kind_name, kinds))}-> {asset}")
                console.print(f"{n}. " + " ".join(hops), soft_wrap=True, markup=False)

        emit(fmt, data, text)


@app.command("spof")
def spof_command(
    asset_id: Annotated[str, typer.Argument(metavar="ID", help="The asset to protect.", show_default=False)],
    timeout: TimeoutOpt = None,
    store: StoreOpt = None,
    fmt: FormatOpt = OutputFormat.text,
) -> None:
    """Single points of failure: assets whose lone failure takes ID down (redundancy and loops count)."""
    with store_session(store) as s:
        snap = s.snapshot()
        _asset(snap, asset_id, "ID")
        data = spof_answer(snap, asset_id, cancel=deadline(timeout))
        found = data["single_points_of_failure"]

        def text(_data: Any) -> None:
            if not found:
                console.print(_("{id} has no single point of failure.").format(id=asset_id), markup=False)
                return
            table = Table(title=escape(_("Single points of failure of {id}").format(id=asset_id)),
                          title_justify="left", show_edge=False)
            for col, right in ((_("asset"), False), (_("type"), False), (_("hops"), True)):
                table.add_column(col, justify="right" if right else "left")
            for item in found:
                table.add_row(escape(item["id"]), type_name(item["type"]), str(item["depth"]))
            console.print(table)

        emit(fmt, data, text)
