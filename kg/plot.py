"""Static pictures for reports: a cascade (what fails, hour by hour, and where) and robustness curves.

:func:`plot_robustness` draws the JSON of ``kg robustness --format json`` (or of
``POST /v1/robustness``): the share of assets functional and of people served
against the share removed, one or several curves on the same axes.

:func:`plot_cascade` draws the JSON of ``kg cascade --format json`` (or of ``POST
/v1/cascades``) as three panels sharing the time axis:

1. the running count of failed assets, with the people affected on a second axis;
2. failures per hour, stacked by sector (the web page's colours);
3. one lane per district: when its first and last assets fail, every failure a tick.

Matplotlib is an optional dependency (``pip install 'citykg[plot]'``); without it
both raise :class:`PlotUnavailable` with that instruction, and nothing else in
CityKG needs it.

Examples
--------
>>> from kg.plot import plot_cascade
>>> result = {"initial": [{"id": "S", "time": 0.0}], "horizon_hours": None, "summary":
...           {"failed": 2, "population": 300, "agencies": 1, "regions": {"district": 1}},
...           "failures": [{"id": "S", "type": "Substation", "time": 0.0, "cause": None,
...                         "regions": {"district": "d1"}, "agency": "grid", "population": 0},
...                        {"id": "H", "type": "Hospital", "time": 8.0, "cause": {"kind": "power"},
...                         "regions": {"district": "d1"}, "agency": "grid", "population": 300}]}
>>> plot_cascade(result, "cascade.svg")  # doctest: +SKIP
PosixPath('cascade.svg')
"""

from __future__ import annotations

import math
import re
from collections import Counter, defaultdict
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from kg.errors import KGError, Problem, ValidationError
from kg.ontology import load_ontology

__all__ = ["FORMATS", "PlotUnavailable", "check_plot_path", "plot_cascade", "plot_robustness"]

FORMATS = (".svg", ".png", ".pdf")
"""File types the plots are written as, chosen by the file name's suffix."""

_FAILED = "#d62d20"
_NO_SECTOR = "#94a3b8"


class PlotUnavailable(KGError):
    """Matplotlib, the optional plotting dependency, is not installed."""


def check_plot_path(path: str | Path) -> Path:
    """``path`` as a :class:`~pathlib.Path` if its suffix is one of :data:`FORMATS`, else a ValidationError.

    Commands call it before any work, so a misspelt file name costs nothing.
    """
    out = Path(path)
    if out.suffix.lower() not in FORMATS:
        raise ValidationError([Problem(str(out), f"expected a file name ending in {', '.join(FORMATS)}")])
    return out


def _figure_module() -> Any:
    try:
        from matplotlib import figure
    except ImportError:
        raise PlotUnavailable("plotting needs matplotlib, an optional dependency: "
                              "pip install 'citykg[plot]' (or pip install matplotlib)") from None
    return figure


def _save(fig: Any, out: Path) -> Path:
    out.parent.mkdir(parents=True, exist_ok=True)
    # No dates in the files: the same result draws the same bytes.
    undated = {".svg": {"Date": None}, ".pdf": {"CreationDate": None}}.get(out.suffix.lower())
    fig.savefig(out, dpi=150, metadata=undated)
    return out


def _sector(asset_type: str) -> str:
    onto = load_ontology()
    return onto.sector(asset_type) if asset_type in onto.classes else "Asset"


def _sector_colour(sector: str) -> str:
    """The sector's ``ckg:printColour``: the page's colour, darker for white paper, so a report matches the screen."""
    info = load_ontology().classes.get(sector)
    return (info.print_colour if info else None) or _NO_SECTOR


def _sector_label(sector: str) -> str:
    onto = load_ontology()
    return onto.short_label(sector) if sector in onto.classes else sector


_CJK_FAMILIES = ("WenQuanYi Micro Hei", "WenQuanYi Zen Hei", "Noto Sans CJK SC", "Noto Sans SC", "Source Han Sans SC",
                 "Microsoft YaHei", "PingFang SC", "SimHei")
_CJK = re.compile(r"[\u2e80-\u9fff\uf900-\ufaff\uff00-\uffef]+")


def _label_fonts() -> tuple[list[str] | None, bool]:
    """Font families for labels that may hold Chinese, and whether such a font exists here.

    Without one, Chinese characters are left out of labels rather than drawn as empty boxes.
    """
    from matplotlib import font_manager

    installed = {f.name for f in font_manager.fontManager.ttflist}
    found = [f for f in _CJK_FAMILIES if f in installed]
    return (["DejaVu Sans", found[0]], True) if found else (None, False)


def _title(result: Mapping[str, Any]) -> str:
    initial = result.get("initial") or []
    s = result["summary"]
    districts = (s.get("regions") or {}).get("district", 0)
    if len(initial) == 1:
        start = f"{initial[0]['id']} fails at T+{initial[0]['time']:g} h"
    else:
        start = f"{len(initial):,} initial failures"
    return (f"Cascade after {start}: {s['failed']:,} assets fail, {s['population']:,} people affected, "
            f"{s['agencies']:,} agencies, {districts:,} districts")


def plot_cascade(result: Mapping[str, Any], path: str | Path, *, title: str | None = None,
                 district_names: Mapping[str, str | None] | None = None) -> Path:
    """Draw the cascade ``result`` (the JSON shape of ``kg cascade``) into ``path`` (.svg, .png or .pdf).

    ``district_names`` maps district ids to the names shown on their lanes (default: the ids).
    Returns the path written. Raises :class:`PlotUnavailable` without matplotlib and
    :class:`~kg.errors.ValidationError` for another file type or a result that is not one cascade
    (a Monte Carlo summary has no timeline).
    """
    out = check_plot_path(path)
    if "failures" not in result or "summary" not in result:
        raise ValidationError([Problem(str(out), "a plot needs one cascade (failures over time); Monte Carlo "
                                                 "results (--samples) have no timeline")])
    Figure = _figure_module().Figure
    from matplotlib.ticker import FuncFormatter, MaxNLocator

    failures = sorted(result["failures"], key=lambda f: (f["time"], f["id"]))
    times = [float(f["time"]) for f in failures]
    horizon = result.get("horizon_hours")
    end = max([*times, float(horizon) if horizon is not None else 0.0, 1.0])
    end = end * 1.03 + 0.5

    fig = Figure(figsize=(11, 8.5), layout="constrained")
    grid = fig.add_gridspec(3, 1, height_ratios=(1.1, 1.0, 1.25))
    ax_count = fig.add_subplot(grid[0])
    ax_hours = fig.add_subplot(grid[1], sharex=ax_count)
    ax_lanes = fig.add_subplot(grid[2], sharex=ax_count)
    fig.suptitle(title or _title(result), fontsize=12, fontweight="bold", ha="left", x=0.01)
    thousands = FuncFormatter(lambda v, _: f"{v:,.0f}")

    # 1. running totals
    steps_t = [0.0, *times, end]
    counts = [0, *range(1, len(times) + 1), len(times)]
    people = [0]
    for f in failures:
        people.append(people[-1] + int(f["population"]))
    people.append(people[-1])
    ax_count.step(steps_t, counts, where="post", color=_FAILED, linewidth=2, label="assets failed")
    ax_count.fill_between(steps_t, counts, step="post", color=_FAILED, alpha=0.12)
    ax_count.set_ylabel("assets failed", color=_FAILED)
    ax_count.yaxis.set_major_formatter(thousands)
    ax_count.set_ylim(0, max(1, len(times)) * 1.08)
    ax_people = ax_count.twinx()
    ax_people.step(steps_t, people, where="post", color="#334155", linewidth=1.4, linestyle="--",
                   label="people affected")
    ax_people.set_ylabel("people affected", color="#334155")
    ax_people.yaxis.set_major_formatter(thousands)
    ax_people.set_ylim(0, max(1, people[-1]) * 1.08)
    if horizon is not None:
        ax_count.axvline(float(horizon), color="#64748b", linewidth=1, linestyle=":")
        ax_count.annotate(f"horizon T+{float(horizon):g} h", (float(horizon), len(times) * 1.02), fontsize=8,
                          color="#64748b", ha="right")
    handles = ax_count.get_legend_handles_labels()[0] + ax_people.get_legend_handles_labels()[0]
    ax_count.legend(handles=handles, loc="lower right", fontsize=8, frameon=False)
    ax_count.grid(axis="y", alpha=0.25)

    # 2. failures per hour, by sector
    per_hour: dict[str, Counter[int]] = defaultdict(Counter)
    for f in failures:
        per_hour[_sector(f["type"])][math.floor(f["time"])] += 1
    hours = sorted({h for c in per_hour.values() for h in c})
    bottom = dict.fromkeys(hours, 0)
    order = sorted(per_hour, key=lambda sec: -sum(per_hour[sec].values()))
    for sector in order:
        heights = [per_hour[sector].get(h, 0) for h in hours]
        ax_hours.bar([h + 0.5 for h in hours], heights, width=0.9, bottom=[bottom[h] for h in hours],
                     color=_sector_colour(sector), label=_sector_label(sector), linewidth=0)
        for h, v in zip(hours, heights, strict=True):
            bottom[h] += v
    ax_hours.set_ylabel("failures in the hour")
    ax_hours.yaxis.set_major_locator(MaxNLocator(integer=True))
    ax_hours.grid(axis="y", alpha=0.25)
    if order:
        ax_hours.legend(loc="upper right", fontsize=8, ncol=min(5, len(order)), frameon=False)

    # 3. one lane per district, in the order they are hit
    lanes: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for f in failures:
        lanes[(f.get("regions") or {}).get("district") or "(no district)"].append(f)
    ordered = sorted(lanes, key=lambda d: (lanes[d][0]["time"], -len(lanes[d]), d))
    names = district_names or {}
    for y, district in enumerate(ordered):
        hits = lanes[district]
        first, last = hits[0]["time"], hits[-1]["time"]
        ax_lanes.hlines(y, first, last, color="#94a3b8", linewidth=6, alpha=0.35)
        ax_lanes.scatter([f["time"] for f in hits], [y] * len(hits), marker="|", s=120, color=_FAILED,
                         linewidths=1, alpha=0.6)
        people_hit = sum(int(f["population"]) for f in hits)
        ax_lanes.annotate(f"{len(hits):,} failed · {people_hit:,} people, T+{first:g} h to T+{last:g} h",
                          (first, y), xytext=(0, 7), textcoords="offset points", fontsize=8, color="#334155")
    families, cjk = _label_fonts()
    labels = [names.get(d) or d for d in ordered]
    if not cjk:
        labels = [_CJK.sub("", label).strip() or label for label in labels]
    ax_lanes.set_yticks(range(len(ordered)), labels, fontsize=9, fontfamily=families)
    ax_lanes.set_ylim(len(ordered) - 0.5 if ordered else 0.5, -0.7)
    ax_lanes.set_ylabel("district (first hit on top)")
    ax_lanes.set_xlabel("hours after the start (T+h)")
    ax_lanes.grid(axis="x", alpha=0.25)
    ax_lanes.set_xlim(-end * 0.012, end)  # a tick at T+0 stays clear of the axis
    if not failures:
        ax_count.text(end / 2, 0.5, "nothing fails", ha="center", va="center", fontsize=14, color="#64748b")
    for ax in (ax_count, ax_hours):
        ax.tick_params(labelbottom=False)
    for ax in (ax_count, ax_hours, ax_lanes, ax_people):
        ax.spines["top"].set_visible(False)

    return _save(fig, out)


_CURVE_COLOURS = ("#d62d20", "#1d4ed8", "#15803d", "#a16207", "#7e22ce", "#0f766e")


def plot_robustness(results: Mapping[str, Any] | Sequence[Mapping[str, Any]], path: str | Path, *,
                    title: str | None = None) -> Path:
    """Draw robustness curves (the JSON shape of ``kg robustness``) into ``path`` (.svg, .png or .pdf).

    Each curve gets one colour: the share of assets functional as a solid line, the share of people
    served dashed, its ``critical_removed`` as a dotted vertical line, its ``R`` in the legend. The
    diagonal ``1 - removed`` is what is left when nothing but the removed assets fails.

    Returns the path written. Raises :class:`PlotUnavailable` without matplotlib and
    :class:`~kg.errors.ValidationError` for another file type or a result that is not a curve.

    Examples
    --------
    >>> curve = {"model": "supply", "attack": "degree", "critical_removed": 0.0, "R": 0.5,
    ...          "points": [{"removed": 0.0, "functional": 1.0, "population": 1.0},
    ...                     {"removed": 1.0, "functional": 0.0, "population": 0.0}]}
    >>> plot_robustness(curve, "robustness.svg")  # doctest: +SKIP
    PosixPath('robustness.svg')
    """
    out = check_plot_path(path)
    curves = [results] if isinstance(results, Mapping) else list(results)
    for k, c in enumerate(curves):
        if not isinstance(c, Mapping) or not c.get("points") or not {"model", "attack", "R"} <= c.keys():
            raise ValidationError([Problem(f"results[{k}]", "expected a robustness curve: {model, attack, points, "
                                                            "critical_removed, R}")])
    figure = _figure_module()
    from matplotlib.ticker import PercentFormatter

    fig = figure.Figure(figsize=(9, 5.5), layout="constrained")
    ax = fig.add_subplot()
    ax.plot([0, 1], [1, 0], color="#94a3b8", linewidth=1, linestyle=":", label="only the removed assets fail")
    for k, c in enumerate(curves):
        colour = _CURVE_COLOURS[k % len(_CURVE_COLOURS)]
        removed = [float(p["removed"]) for p in c["points"]]
        name = f"{c['model']}, {c['attack']} attack"
        ax.plot(removed, [float(p["functional"]) for p in c["points"]], color=colour, linewidth=2,
                label=f"{name}: assets functional (R = {float(c['R']):.3f})")
        ax.plot(removed, [float(p["population"]) for p in c["points"]], color=colour, linewidth=1.3,
                linestyle="--", label=f"{name}: people served")
        if c.get("critical_removed") is not None:
            ax.axvline(float(c["critical_removed"]), color=colour, linewidth=1, linestyle=":", alpha=0.8)
    ax.set_xlim(0, 1)
    ax.set_ylim(0, 1.02)
    ax.xaxis.set_major_formatter(PercentFormatter(1.0))
    ax.yaxis.set_major_formatter(PercentFormatter(1.0))
    ax.set_xlabel("assets removed")
    ax.set_ylabel("share of the city still working")
    ax.grid(alpha=0.25)
    ax.legend(loc="upper right", fontsize=8, frameon=False)
    for side in ("top", "right"):
        ax.spines[side].set_visible(False)
    if title is None:
        title = "Robustness: what keeps working as assets are removed" if len(curves) > 1 else (
            f"Robustness, {curves[0]['model']} model, {curves[0]['attack']} attack: R = {float(curves[0]['R']):.3f}, "
            f"largest drop after {float(curves[0].get('critical_removed') or 0):.0%} removed")
    fig.suptitle(title, fontsize=12, fontweight="bold", ha="left", x=0.01)
    return _save(fig, out)
