"""``kg dependents`` and ``kg dependencies``: who needs this asset, and what it needs."""

from __future__ import annotations

from typing import Annotated

import typer
from rich.markup import escape
from rich.table import Table

from kg.analysis.traces import Reach, dependencies, dependents
from kg.answers import trace_answer
from kg.cli.app import FormatOpt, OutputFormat, StoreOpt, app, console, emit, fail, store_session
from kg.cli.cascade import type_name
from kg.i18n import _, ngettext
from kg.ontology import did_you_mean, load_ontology
from kg.snapshot import GraphSnapshot

__all__ = ["dependencies_command", "dependents_command"]

KindOpt = Annotated[
    list[str] | None, typer.Option("--kind", help="Follow only dependencies of this kind (repeatable).")
]
DepthOpt = Annotated[int | None, typer.Option("--depth", min=1, help="At most this many hops.")]
LimitOpt = Annotated[int, typer.Option("--limit", min=1, help="Rows to list in text output (JSON lists all).")]


def _check_kinds(kinds: list[str] | None) -> list[str] | None:
    known = load_ontology().service_kinds
    for kind in kinds or ():
        if kind not in known:
            hint = did_you_mean(kind, known)
            fail(_("--kind {kind}: not a service kind; expected one of {kinds}").format(
                kind=repr(kind), kinds=", ".join(known)) + (f"; {hint}" if hint else ""))
    return kinds or None


def _people(n: int) -> str:
    return ngettext("{n} person", "{n} people", n).format(n=f"{n:,}")


def _render(snap: GraphSnapshot, asset_id: str, direction: str, reach: Reach, limit: int) -> None:
    i = snap.node(asset_id)
    title = snap.names[i] or asset_id
    people = int(snap.population[reach.nodes].sum()) if len(reach) else 0
    what = {"title": escape(title), "id": escape(asset_id), "type": type_name(snap.type_of(i)), "n": f"{len(reach):,}"}
    if direction == "dependents":
        console.print(ngettext("[bold]{n} asset depends on {title}[/] ({id}, {type}), serving {people}.",
                               "[bold]{n} assets depend on {title}[/] ({id}, {type}), serving {people}.",
                               len(reach)).format(**what, people=_people(people)))
    else:
        console.print(ngettext("[bold]{title}[/] ({id}, {type}) depends on {n} asset.",
                               "[bold]{title}[/] ({id}, {type}) depends on {n} assets.", len(reach)).format(**what))
    if not len(reach):
        return
    district = snap.region[snap.level_index("district")]
    rows: list[tuple[int, str, str, str, int]] = []
    for j, depth in reach:
        r = int(district[j])
        place = (snap.region_names[r] or snap.region_ids[r]) if r >= 0 else _("(no district)")
        a = int(snap.agency[j])
        agency = (snap.agency_names[a] or snap.agency_ids[a]) if a >= 0 else _("(no agency)")
        rows.append((depth, place, agency, snap.asset_ids[j], j))
    # Fewest hops first, as the help says (the direct dependents are never hidden behind a long district);
    # within a hop, by district and agency, each named once.
    rows.sort()
    table = Table(show_edge=False, header_style="bold")
    for col, justify in ((_("hops"), "right"), (_("district"), "left"), (_("agency"), "left"), (_("id"), "left"),
                         (_("type"), "left"), (_("name"), "left")):
        table.add_column(col, justify=justify)  # type: ignore[arg-type]
    previous: tuple[int, str, str] | None = None
    for depth, place, agency, asset, j in rows[:limit]:
        same = previous is not None and previous == (depth, place, agency)
        table.add_row("" if same else str(depth), "" if same else escape(place), "" if same else escape(agency),
                      escape(asset), type_name(snap.type_of(j)), escape(snap.names[j] or ""))
        previous = (depth, place, agency)
    shown = min(limit, len(rows))
    console.print(table)
    if shown < len(reach):
        more = _("... {n} more (use --limit or --format json)").format(n=f"{len(reach) - shown:,}")
        console.print(f"[dim]{more}[/]")


def _trace(direction: str, asset_id: str, kind: list[str] | None, depth: int | None, store: str | None,
           fmt: OutputFormat, limit: int) -> None:
    kinds = _check_kinds(kind)
    with store_session(store) as s:
        snap = s.snapshot()
        if fmt is OutputFormat.json:
            emit(fmt, trace_answer(snap, asset_id, direction, kinds=kinds, max_depth=depth), print)
        else:
            fn = dependents if direction == "dependents" else dependencies
            _render(snap, asset_id, direction, fn(snap, asset_id, kinds=kinds, max_depth=depth), limit)


@app.command("dependents")
def dependents_command(
    asset_id: Annotated[str, typer.Argument(metavar="ID", help="The asset whose dependents to list.")],
    kind: KindOpt = None,
    depth: DepthOpt = None,
    store: StoreOpt = None,
    fmt: FormatOpt = OutputFormat.text,
    limit: LimitOpt = 50,
) -> None:
    """Every asset that depends on ID, directly or through others (fewest hops first)."""
    _trace("dependents", asset_id, kind, depth, store, fmt, limit)


@app.command("dependencies")
def dependencies_command(
    asset_id: Annotated[str, typer.Argument(metavar="ID", help="The asset whose dependencies to list.")],
    kind: KindOpt = None,
    depth: DepthOpt = None,
    store: StoreOpt = None,
    fmt: FormatOpt = OutputFormat.text,
    limit: LimitOpt = 50,
) -> None:
    """Every asset ID depends on, directly or through others (fewest hops first)."""
    _trace("dependencies", asset_id, kind, depth, store, fmt, limit)
