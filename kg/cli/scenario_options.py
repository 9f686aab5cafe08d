"""The scenario options ``kg cascade``, ``kg whatif``, ``kg restore`` and ``kg export --cascade`` share.

``--fail`` and ``--hazard`` (and the fields beside them: ``--horizon``,
``--samples``, ...) go through the same steps in every command: refuse a
scenario given both ways or neither; build the :class:`~kg.scenario.Scenario`
before the store opens, so that a bad value costs no snapshot; read ``--fail
ID[@HOURS]`` against the snapshot; and say any error of a field as the option
that gave it (``--fail 'x': no asset with this id``), never as the engine's
field name.

Examples
--------
A command reads its options, then the snapshot::

    options = scenario_options(fail_, hazard, horizon=horizon)
    with store_session(store) as s:
        snap = s.snapshot()
        with option_errors():
            result = run(snap, options.scenario(snap))
"""

from __future__ import annotations

import math
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, replace
from typing import Any, NoReturn

from kg.cli.app import fail
from kg.errors import ElementNotFound, KGError, ValidationError
from kg.i18n import _
from kg.scenario import Scenario
from kg.snapshot import GraphSnapshot

__all__ = ["OPTIONS", "ScenarioOptions", "option_errors", "option_failed", "parse_fail", "require_one",
           "scenario_options"]

OPTIONS = {"fail": "--fail", "hazard": "--hazard", "samples": "--samples", "horizon": "--horizon"}
"""The option behind each field of a :class:`~kg.scenario.Scenario`."""


def parse_fail(snap: GraphSnapshot, spec: str) -> tuple[str, float]:
    """``ID`` or ``ID@HOURS`` (an id that itself contains '@' is taken whole when it exists).

    The id is not checked here: the scenario runner names an unknown one (see :func:`option_failed`).
    """
    if spec in snap.index or "@" not in spec:
        return spec, 0.0
    asset_id, _sep, hours = spec.rpartition("@")
    try:
        t = float(hours)
    except ValueError:
        fail(_("--fail {spec}: expected ID@HOURS with HOURS a number of hours, e.g. {example}").format(
            spec=repr(spec), example=f"{asset_id}@8"))
    if not math.isfinite(t) or t < 0:
        fail(_("--fail {spec}: the failure time must be a finite number of hours >= 0, got {hours}").format(
            spec=repr(spec), hours=hours))
    return asset_id, t


def option_failed(exc: KGError) -> NoReturn:
    """Exit with ``exc`` said in terms of the option that gave the field it concerns."""
    option = OPTIONS.get(str(exc.field[0])) if exc.field else None
    if option is not None and isinstance(exc, ElementNotFound):
        what = _("no {what} with this id").format(what=_(exc.what))
        fail(f"{option} {exc.element_id!r}: {what}" + (f"; {exc.hint}" if exc.hint else ""))
    if option is not None and isinstance(exc, ValidationError) and exc.problems:
        fail(f"{option} {exc.problems[0].message}")
    fail(str(exc))


@contextmanager
def option_errors() -> Iterator[None]:
    """Inside: an error of a scenario field exits 1 said as its option; other errors pass on."""
    try:
        yield
    except KGError as exc:
        if exc.field is None:
            raise
        option_failed(exc)


@dataclass(frozen=True, slots=True)
class ScenarioOptions:
    """A scenario as the options gave it: ``base`` is checked; ``fail`` waits for the snapshot."""

    base: Scenario
    fail: tuple[str, ...] = ()
    timed: bool = True
    """``--fail ID@HOURS`` is read (``kg cascade``, ``kg whatif``); else every id fails at hour 0."""

    def scenario(self, snap: GraphSnapshot) -> Scenario:
        """The scenario, its ``--fail`` read against ``snap`` (call inside :func:`option_errors`)."""
        if self.timed:
            failures = tuple(parse_fail(snap, spec) for spec in self.fail)
        else:
            failures = tuple((spec, 0.0) for spec in self.fail)
        return replace(self.base, fail=failures)


def require_one(fail_: Sequence[str] | None, hazard: Sequence[str] | None) -> None:
    """Exit 1 unless the scenario is given one way: ``--fail`` or ``--hazard``."""
    if bool(fail_) == bool(hazard):
        fail(_("give either --fail ID[@HOURS]... or --hazard ZONE..., not both and not neither"))


def scenario_options(fail_: Sequence[str] | None, hazard: Sequence[str] | None, *, timed: bool = True,
                     **fields: Any) -> ScenarioOptions:
    """Check ``--fail``/``--hazard`` and the other ``fields`` of a scenario before the store opens.

    Parameters
    ----------
    fail_, hazard
        The options as given (``None`` or empty: not given).
    timed
        Whether ``--fail`` reads ``ID@HOURS`` (see :class:`ScenarioOptions`).
    **fields
        Further :class:`~kg.scenario.Scenario` fields (``horizon``, ``samples``, ``seed``, ``edits``).
    """
    require_one(fail_, hazard)
    try:
        base = Scenario(hazard=tuple(hazard or ()), **fields)
    except KGError as exc:
        option_failed(exc)
    return ScenarioOptions(base, tuple(fail_ or ()), timed)
