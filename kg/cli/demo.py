"""``kg demo``: generate a synthetic Chongqing, load it, and show a planner what depends on what."""

from __future__ import annotations

import time
from collections import Counter
from pathlib import Path
from typing import Annotated

import numpy as np
import typer
from rich.panel import Panel
from rich.table import Table

from kg.analysis.criticality import criticality
from kg.answers import trace_answer
from kg.cli.app import FormatOpt, OutputFormat, StoreOpt, app, console, fail, print_json, store_session
from kg.cli.cascade import render_briefing, type_name
from kg.cli.data import _TABLE_COUNTS
from kg.cli.progress import LoadProgress
from kg.i18n import _, current_language
from kg.ingest import load_paths
from kg.ontology import load_ontology
from kg.scenario import Scenario, cascade_of
from kg.snapshot import GraphSnapshot
from kg.synth import city_rows, write_bundle, write_jsonl

__all__ = ["demo", "synth"]


@app.command()
def demo(
    assets: Annotated[int, typer.Option("--assets", min=300, help="Size of the synthetic city.")] = 20_000,
    seed: Annotated[int, typer.Option("--seed", help="Random seed: the same seed gives the same city.")] = 7,
    out: Annotated[Path, typer.Option("--out", help="Folder for the generated bundle and the demo store.")] = Path(
        "citykg-demo"),
    store: StoreOpt = None,
    fmt: FormatOpt = OutputFormat.text,
    replace: Annotated[bool, typer.Option("--replace", help="Clear a non-empty --store first.")] = False,
) -> None:
    """Generate a synthetic Chongqing, load it, and show the city and a cascade briefing."""
    started = time.perf_counter()
    own_url = f"sqlite:///{out / 'citykg.db'}"
    url = store or own_url
    own_store = url == own_url
    text = fmt is OutputFormat.text
    if text:
        console.print(Panel.fit(
            "[bold]" + _("CityKG demo") + "[/] — " + _("a synthetic Chongqing of {assets} assets (seed {seed})").format(
                assets=f"{assets:,}", seed=seed) + "\n"
            "[dim]" + _("District names are real; every asset, figure and dependency is invented.") + "[/]"))
    bundle = out / "bundle"
    write_bundle(city_rows(assets, seed=seed), bundle)
    with store_session(url, load=True) as s:
        if any(s.stats().counts.values()):
            if not (own_store or replace):
                fail(_("the store {store} already holds data; pass --replace to clear it, or omit --store to use "
                       "the demo's own store").format(store=url))
            s.clear()
        with LoadProgress([bundle], quiet=not text) as progress:
            report = load_paths(s, [bundle], phase=progress)
        snap = s.snapshot()
    substation = _most_depended_on(snap, "Substation")
    target = _most_critical_substation(snap)
    briefing = cascade_of(snap, Scenario.failures([(target, 8.0)]))
    if not text:
        print_json({**report.to_dict(url), "bundle": str(bundle),
                    "most_depended_on": trace_answer(snap, snap.asset_ids[substation], "dependents"),
                    "briefing": briefing.to_dict()})
        return
    console.print(_("Wrote the bundle to {folder} (open the CSV files to see the format).").format(
        folder=f"[cyan]{bundle}/[/]"))
    parts = _(", ").join(_TABLE_COUNTS[t](n) for t, n in report.counts.items() if n)
    console.print(_("Loaded {what} into {store}.").format(what=parts, store=f"[cyan]{url}[/]") + "\n")
    _city_picture(snap)
    _what_depends_on(snap, substation)
    console.rule("[bold]" + _("Cascade briefing: the most critical substation, {id}, fails at 08:00").format(id=target))
    render_briefing(briefing, snap, console)
    elapsed = time.perf_counter() - started
    export = "" if not own_store else f"export KG_STORE={url}\n"
    sub = snap.asset_ids[substation]
    console.print(Panel.fit(
        f"{export}kg dependents {sub} --depth 2\nkg cascade --fail {target}@8\nkg criticality --top 10 --by district\n"
        f"kg cascade --hazard {snap.zone_ids[0] if snap.zone_ids else 'ZONE'}",
        title=_("try next"), title_align="left"))
    console.print("[dim]" + _("demo finished in {seconds} s").format(seconds=f"{elapsed:.1f}") + "[/]")


def _district_names(snap: GraphSnapshot) -> dict[int, str]:
    li = snap.level_index("district")
    present = sorted({int(r) for r in snap.region[li] if r >= 0})
    return {r: snap.region_names[r] or snap.region_ids[r] for r in present}


def _city_picture(snap: GraphSnapshot) -> None:
    onto = load_ontology()
    sectors = onto.sectors
    sector_of_type = np.array([sectors.index(onto.sector(t)) if onto.sector(t) in sectors else -1
                               for t in snap.types], dtype=np.int64)
    sector = sector_of_type[snap.type_code]
    district = snap.region[snap.level_index("district")]
    table = Table(title=_("The city by district and sector (assets)"), show_edge=False, header_style="bold",
                  pad_edge=False)
    table.add_column(_("district"), no_wrap=True)
    zh = current_language() == "zh"
    for sec in sectors:
        table.add_column(onto.label(sec, "zh") if zh else onto.column_label(sec), justify="right")
    table.add_column(_("people"), justify="right")
    for r, name in _district_names(snap).items():
        name = name.split(" ")[0] if " " in name else name
        here = district == r
        counts = np.bincount(sector[here & (sector >= 0)], minlength=len(sectors))
        table.add_row(name, *(f"{c:,}" for c in counts), f"{int(snap.population[here].sum()):,}")
    counts = np.bincount(sector[sector >= 0], minlength=len(sectors))
    table.add_row("[bold]" + _("all") + "[/]", *(f"[bold]{c:,}[/]" for c in counts),
                  f"[bold]{int(snap.population.sum()):,}[/]")
    console.print(table)

    by_agency = Counter(int(a) for a in snap.agency if a >= 0)
    agencies = Table(title=_("Agencies operating the most assets"), show_edge=False, header_style="bold")
    agencies.add_column(_("agency"))
    agencies.add_column(_("assets"), justify="right")
    for a, n in by_agency.most_common(8):
        agencies.add_row(snap.agency_names[a] or snap.agency_ids[a], f"{n:,}")
    console.print(agencies)
    console.print(_(", ").join((_TABLE_COUNTS["agencies"](len(snap.agency_ids)),
                                 _TABLE_COUNTS["regions"](len(snap.region_ids)),
                                 _TABLE_COUNTS["dependencies"](snap.m),
                                 _TABLE_COUNTS["hazard_zones"](len(snap.zone_ids)))) + _(".") + "\n")


def _most_depended_on(snap: GraphSnapshot, asset_type: str) -> int:
    from kg.analysis.traces import dependents

    candidates = [i for i in range(snap.n) if snap.type_of(i) == asset_type]
    if not candidates:
        fail(_("the city has no {type}").format(type=type_name(asset_type)))
    return max(candidates, key=lambda i: (len(dependents(snap, snap.asset_ids[i])), -i))


def _what_depends_on(snap: GraphSnapshot, i: int) -> None:
    from kg.analysis.traces import dependents

    found = dependents(snap, snap.asset_ids[i])
    idx = found.nodes
    district = snap.region[snap.level_index("district")]
    home = int(district[i])
    name = snap.names[i] or snap.asset_ids[i]
    agency = snap.agency_of(i)
    console.print(Panel.fit(
        "[bold]" + _("What depends on {name} ({id})").format(name=name, id=snap.asset_ids[i]) + "[/]"
        + _(", the most depended-on substation\nin {district}, operated by {agency}:\n"
            "{count} assets depend on it, directly or through others, serving {people} people.").format(
            district=snap.region_names[home] if home >= 0 else "?",
            agency=snap.agency_names[snap.agency_ids.index(agency)] if agency else "?",
            count=f"{len(found):,}", people=f"{int(snap.population[idx].sum()) if len(idx) else 0:,}")))
    by_depth = Counter(found.depths.tolist())
    depth_table = Table(title=_("by hops"), show_edge=False, header_style="bold")
    depth_table.add_column(_("hops"), justify="right")
    depth_table.add_column(_("assets"), justify="right")
    for depth, n in sorted(by_depth.items()):
        depth_table.add_row(str(depth), f"{n:,}")
    type_table = Table(title=_("by type"), show_edge=False, header_style="bold")
    type_table.add_column(_("type"))
    type_table.add_column(_("assets"), justify="right")
    for t, n in Counter(snap.type_of(j) for j in idx.tolist()).most_common(8):
        type_table.add_row(load_ontology().label(t, current_language()), f"{n:,}")
    place_table = Table(title=_("by district"), show_edge=False, header_style="bold")
    place_table.add_column(_("district"))
    place_table.add_column(_("assets"), justify="right")
    names = _district_names(snap)
    for r, n in Counter(int(district[j]) for j in idx).most_common(6):
        place_table.add_row(names.get(r, _("(unknown)")), f"{n:,}")
    grid = Table.grid(padding=(0, 4))
    grid.add_row(depth_table, type_table, place_table)
    console.print(grid)
    console.print()


def _most_critical_substation(snap: GraphSnapshot) -> str:
    ranking = criticality(snap)
    substations = [r for r in ranking if snap.type_of(snap.index[r.id]) == "Substation"]
    return substations[0].id if substations else ranking[0].id


@app.command()
def synth(
    out: Annotated[Path, typer.Argument(help="Folder for the bundle (CSV files), or a .jsonl file.",
                                        show_default=False)],
    assets: Annotated[int, typer.Option("--assets", min=300, help="Size of the synthetic city.")] = 20_000,
    seed: Annotated[int, typer.Option("--seed", help="Random seed: the same seed gives the same city.")] = 7,
    fmt: FormatOpt = OutputFormat.text,
) -> None:
    """Generate a synthetic Chongqing of any size as a bundle (or JSON Lines), without loading it."""
    rows = city_rows(assets, seed=seed)
    jsonl = out.suffix.lower() in (".jsonl", ".ndjson")
    files = [write_jsonl(rows, out)] if jsonl else write_bundle(rows, out)
    counts = {table: len(r) for table, r in rows.items()}
    data = {"output": str(out), "files": [str(f) for f in files], "counts": counts}
    if fmt is OutputFormat.json:
        print_json(data)
    else:
        what = ", ".join(f"{n:,} {table.replace('_', ' ')}" for table, n in counts.items() if n)
        console.print(f"wrote {what} to {out} (seed {seed}); load it with: kg load {out}", markup=False,
                      soft_wrap=True)
