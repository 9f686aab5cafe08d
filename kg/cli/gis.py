"""``kg export --geo``: the store (and a cascade's footprint) as GIS layers, GeoPackage or GeoJSON."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

from kg.analysis.cascade import CascadeResult
from kg.cli.app import OutputFormat, console, emit, fail, text_output
from kg.cli.scenario_options import option_errors, parse_fail
from kg.errors import KGError
from kg.gis.layers import LAYERS, Layer, cascade_layer, store_layers
from kg.gis.write import write_geojson, write_gpkg
from kg.i18n import N_, _
from kg.scenario import Scenario, cascade_of
from kg.snapshot import GraphSnapshot
from kg.store import Store

__all__ = ["export_geo", "geo_format_for_path", "parse_start"]

_SUFFIXES = {".gpkg": "gpkg", ".geojson": "geojson"}


def geo_format_for_path(path: Path | None) -> str | None:
    """``gpkg`` or ``geojson`` when ``path``'s suffix names one, else None."""
    return None if path is None else _SUFFIXES.get(path.suffix.lower())


def parse_start(text: str | None) -> datetime:
    """``--start``: an ISO 8601 time with a UTC offset (default: now, to the minute), as UTC."""
    if text is None:
        return datetime.now(UTC).replace(second=0, microsecond=0)
    try:
        when = datetime.fromisoformat(text)
    except ValueError:
        fail(_("--start {value}: expected an ISO 8601 time with its UTC offset, e.g. {example}").format(
            value=repr(text), example="2026-07-01T08:00+08:00"))
    if when.tzinfo is None:
        fail(_("--start {value}: give the UTC offset (e.g. +08:00 for Chongqing), so the time is unambiguous").format(
            value=repr(text)))
    return when.astimezone(UTC)


_LAYER_NAMES = {"assets": N_("assets"), "dependencies": N_("dependencies"), "hazard_zones": N_("hazard zones"),
                "regions": N_("regions"), "cascade": N_("cascade")}
"""Layers as the confirmation line says them (the files' layer names stay as they are)."""


def _cascade(store: Store, fail_: list[str], hazard: list[str],
             horizon: float | None) -> tuple[CascadeResult, GraphSnapshot]:
    """The cascade of ``--fail``/``--hazard`` through the one scenario runner, errors said as kg cascade says them."""
    if bool(fail_) == bool(hazard):
        fail(_("--cascade needs either --fail ID[@HOURS]... or --hazard ZONE..., not both and not neither"))
    snap = store.snapshot()
    with option_errors():
        scenario = Scenario(fail=tuple(parse_fail(snap, spec) for spec in fail_), hazard=tuple(hazard),
                            horizon=horizon)
        return cascade_of(snap, scenario), snap


def export_geo(store: Store, geo: str, output: Path | None, layers: list[str] | None, *, with_cascade: bool,
               fail_: list[str], hazard: list[str], horizon: float | None, start: str | None,
               fmt: OutputFormat) -> None:
    """Write the chosen layers (default: all, plus ``cascade`` with ``with_cascade``) to ``output``."""
    names = layers or list(LAYERS)
    for name in names:
        if name not in (*LAYERS, "cascade"):
            fail(_("--layer {name}: expected one of {layers}").format(name=repr(name),
                                                                      layers=", ".join((*LAYERS, "cascade"))))
    if "cascade" in names and not with_cascade:
        fail(_("--layer cascade needs --cascade (with --fail or --hazard)"))
    if with_cascade and "cascade" not in names:
        names.append("cascade")
    if output is None and geo == "gpkg":
        fail(_("a GeoPackage is a file: give -o FILE.gpkg"))
    when = parse_start(start) if with_cascade else None

    def chosen() -> list[Layer]:
        out = list(store_layers(store, [n for n in names if n != "cascade"]))
        if when is not None:
            result, snap = _cascade(store, fail_, hazard, horizon)
            out.append(cascade_layer(result, snap, when))
        return out

    try:
        if geo == "gpkg":
            assert output is not None
            counts = write_gpkg(chosen(), output)
        else:
            with text_output(output) as out:
                counts = write_geojson(chosen(), out)
    except KGError as exc:
        fail(str(exc))
    if output is not None:
        data = {"output": str(output), "format": geo, "layers": counts}
        what = _(", ").join(f"{n:,} {_(_LAYER_NAMES.get(k, k))}" for k, n in counts.items())
        emit(fmt, data, lambda d: console.print(_("wrote {what} to {path} ({format})").format(
            what=what, path=d["output"], format=geo), markup=False, soft_wrap=True))
