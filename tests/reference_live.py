"""A plain reference of the live-state rules of docs/live.md, for the property tests.

Written from the rules, not from kg.live: sort an asset's events by (time, id),
keep those at or before T, read the last one's status; for an asset down,
its down period starts at the first ``down`` after the last ``up``.
"""

from __future__ import annotations

from collections.abc import Sequence

__all__ = ["Ev", "reference_down"]

Ev = tuple[str, str, str, int]  # id, asset, status, time (any integer clock)


def reference_down(events: Sequence[Ev], as_of: int) -> dict[str, int]:
    """Asset -> start of its current down period, for the assets down at ``as_of``."""
    out: dict[str, int] = {}
    for asset in sorted({e[1] for e in events}):
        mine = sorted((e for e in events if e[1] == asset and e[3] <= as_of), key=lambda e: (e[3], e[0]))
        if not mine or mine[-1][2] != "down":
            continue
        ups = [k for k, e in enumerate(mine) if e[2] == "up"]
        after = mine[ups[-1] + 1 :] if ups else mine
        out[asset] = after[0][3]
    return out
