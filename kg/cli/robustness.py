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


def _render(result: RobustnessResult, seed: int) -> None:
    runs = "one order" if result.samples == 1 else f"{result.samples} random orders (seed {seed})"
    console.print(f"[bold]Robustness, {result.model} model, {result.attack} attack:[/] {runs}, "
                  f"{len(result.points) - 1} steps")
    console.print(f"R = {result.R:.3f} (mean share functional; about 0.5 when only the removed assets fail), "
                  f"largest drop after {result.critical_removed:.0%} removed")
    table = Table(show_edge=False)
    for col in ("removed", "functional", "people served"):
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
            fail(f"{name} must be an integer >= {least}, got {value}")
    if plot is not None:
        from kg.plot import check_plot_path

        try:
            check_plot_path(plot)  # before the work: a misspelt file name costs nothing
        except KGError as exc:
            fail(str(exc))
    with store_session(store) as s, executor_session(cluster) as ex, batch_progress("robustness samples") as progress:
        snap = s.snapshot()
        result = robustness(snap, model=model.value, attack=attack.value, steps=steps, samples=samples, seed=seed,
                            cancel=deadline(timeout), executor=ex, progress=progress)
        if plot is not None:
            from kg.plot import plot_robustness

            plot_robustness(result.to_dict(), plot)
        emit(fmt, result.to_dict(), lambda _: _render(result, seed))
