"""``kg events load``, ``kg status``, ``kg live``: status from the field, and the live picture.

``kg live`` prints a briefing led by the next deadlines: what fails next, at
what clock time, and which departments must talk before then.
"""

from __future__ import annotations

from datetime import datetime
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.markup import escape
from rich.table import Table

from kg.analysis.coordination import coordination
from kg.cli.app import FormatOpt, OutputFormat, StoreOpt, app, bold, console, emit, fail, store_session
from kg.cli.cascade import kind_name, type_name
from kg.errors import ValidationError
from kg.i18n import N_, _
from kg.live import LivePicture, down_at, live_picture, parse_time, read_event_file, record_events
from kg.ontology import load_ontology
from kg.snapshot import GraphSnapshot

__all__ = ["live_time", "render_live"]

events_app = typer.Typer(help="Status events from the field (down / up reports).", no_args_is_help=True)
app.add_typer(events_app, name="events")

AsOfOpt = Annotated[str | None, typer.Option(
    "--as-of", help="Look at this time (ISO 8601 with offset, e.g. 2026-07-01T14:00:00+08:00); default now.",
    show_default=False)]


def live_time(value: str | None) -> datetime:
    """The time of ``--as-of`` (ISO 8601 with its offset; exit 1 otherwise), now when not given."""
    if value is None:
        return datetime.now().astimezone()
    try:
        return parse_time(value, "--as-of")
    except ValidationError as exc:
        fail(str(exc))


def _when(iso_time: str, as_of: datetime) -> str:
    """An ISO time for people: ``14:20`` on as_of's day, else ``07-02 14:20`` (in as_of's offset)."""
    moment = datetime.fromisoformat(iso_time).astimezone(as_of.tzinfo)
    return moment.strftime("%H:%M") if moment.date() == as_of.date() else moment.strftime("%m-%d %H:%M")


def _span(hours: float) -> str:
    minutes = round(hours * 60)
    if minutes < 60:
        return _("{minutes} min").format(minutes=minutes)
    h, m = divmod(minutes, 60)
    return _("{hours} h {minutes} min").format(hours=h, minutes=f"{m:02d}") if m else _("{hours} h").format(hours=h)


@events_app.command("load")
def events_load(
    files: Annotated[list[Path], typer.Argument(help="FILE.jsonl or FILE.csv of events (id, asset, status, time, "
                                                     "source, note).", show_default=False)],
    store: StoreOpt = None,
    fmt: FormatOpt = OutputFormat.text,
) -> None:
    """Record status events, all or nothing: any bad event (FILE:LINE) and nothing is stored."""
    with store_session(store) as s:
        assets = s.snapshot().index
        try:
            located = [e for path in files for e in read_event_file(path, assets=assets)]
            done = record_events(s, located, assets=assets)
        except ValidationError as exc:
            fail(_("no events stored:") + f"\n{exc}")
        emit(fmt, done.to_dict(), lambda d: console.print(
            _("{accepted} events recorded, {duplicates} duplicates (already recorded) skipped").format(
                accepted=f"{d['accepted']:,}", duplicates=f"{d['duplicates']:,}")))


@app.command("status")
def status_command(
    ids: Annotated[list[str] | None, typer.Argument(help="Assets to report (default: every asset down).",
                                                    show_default=False)] = None,
    as_of: AsOfOpt = None,
    store: StoreOpt = None,
    fmt: FormatOpt = OutputFormat.text,
) -> None:
    """The status of assets at a time, from the recorded events (default: what is down now)."""
    moment = live_time(as_of)
    with store_session(store) as s:
        down = down_at(s, moment)
        if ids:
            snap = s.snapshot()
            for asset in ids:
                if asset not in snap.index:
                    fail(_("asset {id}: no asset with this id").format(id=repr(asset)))
            rows = [{"id": a, "status": "down" if a in down else "up",
                     "since": down[a].event.time if a in down else None} for a in ids]
            data: dict[str, Any] = {"as_of": moment.isoformat(), "status": rows}
        else:
            data = {"as_of": moment.isoformat(), "down": [d.to_dict() for d in down.values()]}

    def text(d: dict[str, Any]) -> None:
        items = d.get("status", d.get("down", []))
        heading = _("Status at {time}").format(time=moment.isoformat())
        count = _("{n} asset(s) down") if "down" in d else _("{n} asset(s)")
        console.print(bold(heading) + ": " + count.format(n=len(items)))
        table = Table(show_edge=False)
        for col in (_("asset"), _("status"), _("since"), _("source")):
            table.add_column(col)
        for item in items:
            table.add_row(escape(item["id"]), _(_STATUS[item.get("status", "down")]), item.get("since") or "",
                          escape(item.get("source") or ""))
        if items:
            console.print(table)

    emit(fmt, data, text)


@app.command("live")
def live_command(
    as_of: AsOfOpt = None,
    store: StoreOpt = None,
    fmt: FormatOpt = OutputFormat.text,
) -> None:
    """The live picture: what is down, and what fails next, when, and who must talk before then."""
    moment = live_time(as_of)
    with store_session(store) as s:
        snap = s.snapshot()
        picture = live_picture(snap, down_at(s, moment), moment)
        emit(fmt, picture.to_dict(), lambda _: render_live(picture, snap, console))


_STATUS = {"down": N_("down"), "up": N_("up")}
"""Statuses as the text output says them (JSON keeps ``down``/``up``)."""


def _names(snap: GraphSnapshot) -> dict[str, str]:
    return {a: n or a for a, n in zip(snap.agency_ids, snap.agency_names, strict=True)}


def _and(names: list[str]) -> str:
    if len(names) == 1:
        return names[0]
    return _("{names} and {last}").format(names=_(", ").join(names[:-1]), last=names[-1])


def render_live(picture: LivePicture, snap: GraphSnapshot, out: Console, *, deadlines: int = 10) -> None:
    """Print the live picture as a briefing: the next deadlines first, then what is down and who must talk."""
    agency = _names(snap)
    as_of = picture.as_of
    result = picture.cascade
    now_down = len(result.failures) - len(picture.forecast)
    out.print(bold(_("Live picture at {time}").format(time=as_of.isoformat())))
    if not picture.down:
        out.print(_("Nothing is reported down: no cascade under way."))
        return
    people = sum(f.failure.population for f in picture.forecast)
    out.print(_("{down} asset(s) reported down, {now} down now with the cascade; {more} more will fail ({people} "
                "people) unless supply returns.").format(down=f"{len(picture.down):,}", now=f"{now_down:,}",
                                                         more=f"{len(picture.forecast):,}", people=f"{people:,}"))
    for asset in picture.unknown:
        out.print(bold(_("warning:"), "yellow") + " "
                  + escape(_("{id} is reported down but is not in the graph").format(id=asset)))
    if picture.forecast:
        out.print("\n" + bold(_("Next deadlines")))
        # At one deadline, key facilities (hospitals, command centres, ...) first, then by people affected.
        key = frozenset(load_ontology().key_types)
        first = sorted(picture.forecast, key=lambda f: (f.failure.time, f.failure.type not in key,
                                                         -f.failure.population, f.failure.id))
        for f in first[:deadlines]:
            failure = f.failure
            cause = failure.cause
            what = _("loses {kind}").format(kind=kind_name(cause.kind)) if cause else _("fails")
            why = (_("when its {span} backup runs out").format(span=_span(f.backup_hours)) if f.backup_hours > 0
                   else _("at once (no backup)"))
            talk = [agency.get(a, a) for a in f.agencies]
            must = (_("; {agencies} must talk before then").format(agencies=_and(talk)) if len(talk) > 1 else
                    _("; {agency} must act before then").format(agency=talk[0]) if talk else "")
            line = _("{time} (in {span})  {asset} ({type}) {what} {why}{must}").format(
                time=_when(f.at, as_of), span=_span(f.in_hours), asset=failure.id, type=type_name(failure.type),
                what=what, why=why, must=must)
            out.print("  " + escape(line), soft_wrap=True)
        if len(picture.forecast) > deadlines:
            out.print("  " + _("... {n} later failures (--format json lists them all)").format(
                n=f"{len(picture.forecast) - deadlines:,}"))
    table = Table(title=_("Reported down"), title_justify="left", show_edge=False)
    for col in (_("asset"), _("type"), _("since"), _("source")):
        table.add_column(col)
    for d in picture.down[:15]:
        kind = type_name(snap.type_of(snap.index[d.asset])) if d.asset in snap.index else "?"
        table.add_row(escape(d.asset), kind, _when(d.event.time, as_of), escape(d.event.source or ""))
    out.print(table)
    contacts = coordination(snap, result).agencies
    if contacts:
        pairs = Table(title=_("Departments that must coordinate"), title_justify="left", show_edge=False)
        for k, col in enumerate((_("talk from"), _("upstream"), _("downstream"), _("first failure"), _("failures"))):
            pairs.add_column(col, justify="right" if k == 4 else "left")
        for c in contacts[:15]:
            pairs.add_row(_when(picture.at(c.first_contact), as_of), agency.get(c.from_, c.from_),
                          agency.get(c.to, c.to), _when(picture.at(c.first_failure), as_of), f"{c.failures:,}")
        out.print(pairs)
