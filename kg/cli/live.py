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
from rich.table import Table

from kg.analysis.coordination import coordination
from kg.cli.app import FormatOpt, OutputFormat, StoreOpt, app, console, emit, fail, store_session
from kg.errors import ValidationError
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
        return f"{minutes} min"
    h, m = divmod(minutes, 60)
    return f"{h} h {m:02d} min" if m else f"{h} h"


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
            fail(f"no events stored:\n{exc}")
        emit(fmt, done.to_dict(), lambda d: console.print(
            f"{d['accepted']:,} events recorded, {d['duplicates']:,} duplicates (already recorded) skipped"))


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
                    fail(f"asset {asset!r}: no asset with this id")
            rows = [{"id": a, "status": "down" if a in down else "up",
                     "since": down[a].event.time if a in down else None} for a in ids]
            data: dict[str, Any] = {"as_of": moment.isoformat(), "status": rows}
        else:
            data = {"as_of": moment.isoformat(), "down": [d.to_dict() for d in down.values()]}

    def text(d: dict[str, Any]) -> None:
        items = d.get("status", d.get("down", []))
        console.print(f"[bold]Status at {moment.isoformat()}[/]: "
                      + (f"{len(items)} asset(s) down" if "down" in d else f"{len(items)} asset(s)"))
        table = Table(show_edge=False)
        for col in ("asset", "status", "since", "source"):
            table.add_column(col)
        for item in items:
            table.add_row(item["id"], item.get("status", "down"), item.get("since") or "", item.get("source") or "")
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


def _names(snap: GraphSnapshot) -> dict[str, str]:
    return {a: n or a for a, n in zip(snap.agency_ids, snap.agency_names, strict=True)}


def _and(names: list[str]) -> str:
    return names[0] if len(names) == 1 else ", ".join(names[:-1]) + " and " + names[-1]


def render_live(picture: LivePicture, snap: GraphSnapshot, out: Console, *, deadlines: int = 10) -> None:
    """Print the live picture as a briefing: the next deadlines first, then what is down and who must talk."""
    agency = _names(snap)
    as_of = picture.as_of
    result = picture.cascade
    now_down = len(result.failures) - len(picture.forecast)
    out.print(f"[bold]Live picture at {as_of.isoformat()}[/]")
    if not picture.down:
        out.print("Nothing is reported down: no cascade under way.")
        return
    people = sum(f.failure.population for f in picture.forecast)
    out.print(f"{len(picture.down):,} asset(s) reported down, {now_down:,} down now with the cascade; "
              f"{len(picture.forecast):,} more will fail ({people:,} people) unless supply returns.")
    for asset in picture.unknown:
        out.print(f"[yellow]warning:[/] {asset} is reported down but is not in the graph")
    if picture.forecast:
        out.print("\n[bold]Next deadlines[/]")
        # At one deadline, key facilities (hospitals, command centres, ...) first, then by people affected.
        key = frozenset(load_ontology().key_types)
        first = sorted(picture.forecast, key=lambda f: (f.failure.time, f.failure.type not in key,
                                                         -f.failure.population, f.failure.id))
        for f in first[:deadlines]:
            failure = f.failure
            cause = failure.cause
            what = f"loses {cause.kind}" if cause else "fails"
            why = (f"when its {_span(f.backup_hours)} backup runs out" if f.backup_hours > 0
                   else "at once (no backup)")
            talk = [agency.get(a, a) for a in f.agencies]
            must = (f"; {_and(talk)} must talk before then" if len(talk) > 1 else
                    f"; {talk[0]} must act before then" if talk else "")
            out.print(f"  {_when(f.at, as_of)} (in {_span(f.in_hours)})  {failure.id} ({failure.type}) {what} "
                      f"{why}{must}", soft_wrap=True)
        if len(picture.forecast) > deadlines:
            out.print(f"  ... {len(picture.forecast) - deadlines:,} later failures (--format json lists them all)")
    table = Table(title="Reported down", title_justify="left", show_edge=False)
    for col in ("asset", "type", "since", "source"):
        table.add_column(col)
    for d in picture.down[:15]:
        kind = snap.type_of(snap.index[d.asset]) if d.asset in snap.index else "?"
        table.add_row(d.asset, kind, _when(d.event.time, as_of), d.event.source or "")
    out.print(table)
    contacts = coordination(snap, result).agencies
    if contacts:
        pairs = Table(title="Departments that must coordinate", title_justify="left", show_edge=False)
        for col in ("talk from", "upstream", "downstream", "first failure", "failures"):
            pairs.add_column(col, justify="right" if col == "failures" else "left")
        for c in contacts[:15]:
            pairs.add_row(_when(picture.at(c.first_contact), as_of), agency.get(c.from_, c.from_),
                          agency.get(c.to, c.to), _when(picture.at(c.first_failure), as_of), f"{c.failures:,}")
        out.print(pairs)
