"""``kg robustness``: how much of the city keeps working as more and more of it is removed.

The JSON (``--format json``) is ``{model, attack, points, critical_removed, R}``,
as ``POST /v1/robustness`` answers; the models, attacks and every decision are in
docs/robustness.md.
"""

from __future__ import annotations

from enum import StrEnum
from pathlib import Path
from typing import Annotated

import typer
from rich.table import Table

from kg.analysis.robustness import RobustnessResult, robustness
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
from kg.errors import KGError
from kg.i18n import N_, _

__all__ = ["Attack", "Model"]


class Model(StrEnum):
    """``--model``: when an asset counts as functional (see docs/robustness.md)."""

    supply = "supply"
    mutual_giant = "mutual-giant"


class Attack(StrEnum):
    """``--attack``: the order in which assets are removed."""

    random = "random"
    degree = "degree"
    criticality = "criticality"


_MODELS = {"supply": N_("supply"), "mutual-giant": N_("mutual-giant")}
_ATTACKS = {"random": N_("random"), "degree": N_("degree"), "criticality": N_("criticality")}
"""Model and attack names as the briefing says them (``--model``/``--attack`` take the English)."""


def _render(result: RobustnessResult, seed: int) -> None:
    runs = _("one order") if result.samples == 1 else _("{n} random orders (seed {seed})").format(
        n=result.samples, seed=seed)
    heading = _("Robustness, {model} model, {attack} attack:").format(model=_(_MODELS.get(result.model, result.model)),
                                                                      attack=_(_ATTACKS.get(result.attack,
                                                                                            result.attack)))
    console.print(f"[bold]{heading}[/] " + _("{runs}, {steps} steps").format(runs=runs, steps=len(result.points) - 1))
    console.print(_("R = {R} (mean share functional; about 0.5 when only the removed assets fail), largest drop after "
                    "{share} removed").format(R=f"{result.R:.3f}", share=f"{result.critical_removed:.0%}"))
    table = Table(show_edge=False)
    for col in (_("removed"), _("functional"), _("people served")):
        table.add_column(col, justify="right")
    steps = len(result.points) - 1
    shown = {round(i * steps / 10) for i in range(11)}
    shown |= {round(result.critical_removed * steps), round(result.critical_removed * steps) + 1}
    for i, p in enumerate(result.points):
        if i in shown:
            table.add_row(f"{p.removed:.0%}" if steps <= 100 else f"{p.removed:.1%}", f"{p.functional:.1%}",
                          f"{p.population:.1%}")
    console.print(table)


@app.command("robustness")
def robustness_command(
    model: Annotated[Model, typer.Option("--model", help="supply: round one's cascade; mutual-giant: "
                                         "interdependent percolation over the sectors.")] = Model.supply,
    attack: Annotated[Attack, typer.Option("--attack", help="random orders, or the most dependencies / the most "
                                           "critical first (one order).")] = Attack.random,
    steps: Annotated[int, typer.Option("--steps", help="Points at 0, 1/STEPS, ..., 1 of the assets removed.")] = 100,
    samples: Annotated[int, typer.Option("--samples", help="Random orders averaged (random attack only).")] = 1,
    seed: Annotated[int, typer.Option("--seed", help="Seed of the random orders (an integer >= 0).")] = 0,
    plot: Annotated[Path | None, typer.Option(
        "--plot", help="Also draw the curves into FILE.svg|.png|.pdf (needs the plot extra).",
        show_default=False)] = None,
    cluster: ClusterOpt = None,
    timeout: TimeoutOpt = None,
    store: StoreOpt = None,
    fmt: FormatOpt = OutputFormat.text,
) -> None:
    """The share of assets still functional, and of people served, as more and more assets are removed."""
    for name, value, least in (("--steps", steps, 1), ("--samples", samples, 1), ("--seed", seed, 0)):
        if value < least:
            fail(_("{option} must be an integer >= {least}, got {value}").format(option=name, least=least,
                                                                                  value=value))
    if plot is not None:
        from kg.plot import check_plot_path

        try:
            check_plot_path(plot)  # before the work: a misspelt file name costs nothing
        except KGError as exc:
            fail(str(exc))
    with store_session(store) as s, executor_session(cluster) as ex, \
            batch_progress(_("robustness samples")) as progress:
        snap = s.snapshot()
        result = robustness(snap, model=model.value, attack=attack.value, steps=steps, samples=samples, seed=seed,
                            cancel=deadline(timeout), executor=ex, progress=progress)
        if plot is not None:
            from kg.plot import plot_robustness

            plot_robustness(result.to_dict(), plot)
        emit(fmt, result.to_dict(), lambda _: _render(result, seed))
