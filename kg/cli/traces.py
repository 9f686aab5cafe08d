"""``kg dependents`` and ``kg dependencies``: who needs this asset, and what it needs."""

from __future__ import annotations

from typing import Annotated

import typer
from rich.table import Table

from kg.analysis.traces import Reach, dependencies, dependents
from kg.answers import trace_answer
from kg.cli.app import FormatOpt, OutputFormat, StoreOpt, app, console, emit, fail, store_session
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
            fail(f"--kind {kind!r} is not a service kind; expected one of {', '.join(known)}"
                 + (f"; {hint}" if hint else ""))
    return kinds or None


def _render(snap: GraphSnapshot, asset_id: str, direction: str, reach: Reach, limit: int) -> None:
    i = snap.node(asset_id)
    title = snap.names[i] or asset_id
    people = int(snap.population[reach.nodes].sum()) if len(reach) else 0
    if direction == "dependents":
        console.print(f"[bold]{len(reach):,} assets depend on {title}[/] ({asset_id}, {snap.type_of(i)}), "
                      f"serving {people:,} people.")
    else:
        console.print(f"[bold]{title}[/] ({asset_id}, {snap.type_of(i)}) depends on {len(reach):,} assets.")
    if not len(reach):
        return
    district = snap.region[snap.level_index("district")]
    rows: list[tuple[int, str, str, str, int]] = []
    for j, depth in reach:
        r = int(district[j])
        place = (snap.region_names[r] or snap.region_ids[r]) if r >= 0 else "(no district)"
        a = int(snap.agency[j])
        agency = (snap.agency_names[a] or snap.agency_ids[a]) if a >= 0 else "(no agency)"
        rows.append((depth, place, agency, snap.asset_ids[j], j))
    # Fewest hops first, as the help says (the direct dependents are never hidden behind a long district);
    # within a hop, by district and agency, each named once.
    rows.sort()
    table = Table(show_edge=False, header_style="bold")
    for col, justify in (("hops", "right"), ("district", "left"), ("agency", "left"), ("id", "left"),
                         ("type", "left"), ("name", "left")):
        table.add_column(col, justify=justify)  # type: ignore[arg-type]
    previous: tuple[int, str, str] | None = None
    for depth, place, agency, asset, j in rows[:limit]:
        same = previous is not None and previous == (depth, place, agency)
        table.add_row("" if same else str(depth), "" if same else place, "" if same else agency, asset,
                      snap.type_of(j), snap.names[j] or "")
        previous = (depth, place, agency)
    shown = min(limit, len(rows))
    console.print(table)
    if shown < len(reach):
        console.print(f"[dim]... {len(reach) - shown:,} more (use --limit or --format json)[/]")


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
