"""Which repairs bring each asset back: its minimal sets of repairs, and the plan's value from them.

"Asset ``b`` works once the repairs in ``R`` are done" is a monotone Boolean function of ``R``.
:meth:`Recovery.solve` with :class:`Dnf` writes it as its *minimal sets* ``S_1 .. S_m`` (a
monotone DNF: the same fixed points as the evaluator, supply loops included). With ``C_j`` the
end of repair ``j``, ``b`` works again at ``T_b = min_s max_{j in S_s} C_j``, and the unserved
people-hours of a plan are ``sum_b pop_b T_b`` (every asset works at the last repair's end).
Assets with the same sets form one *class* weighing their total population (:class:`Classes`);
classes without people are dropped. The exact method's program and the heuristic's local moves
both work on classes.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from kg.analysis.recovery import Recovery

__all__ = ["Classes", "Dnf", "Terms", "TooLarge", "jobs_in"]

Terms = tuple[int, ...]
"""A monotone DNF: its minimal sets of jobs as bit masks, sorted; ``()`` is false, ``(0,)`` true."""


class TooLarge(Exception):
    """Some asset comes back through more minimal sets than the limit allows; ``str()`` says how many."""


def jobs_in(mask: int) -> list[int]:
    """The jobs of a bit mask, in increasing order.

    Examples
    --------
    >>> jobs_in(0b1010), jobs_in(2**40 - 2) == list(range(1, 40))
    ([1, 3], True)
    """
    if mask.bit_count() > 32:  # many bits: unpack them in C rather than peel them off one by one
        raw = np.frombuffer(mask.to_bytes((mask.bit_length() + 7) // 8, "little"), dtype=np.uint8)
        found: list[int] = np.flatnonzero(np.unpackbits(raw, bitorder="little")).tolist()
        return found
    out = []
    while mask:
        low = mask & -mask
        out.append(low.bit_length() - 1)
        mask ^= low
    return out


class Dnf:
    """The exact algebra for :meth:`Recovery.solve`: monotone Boolean functions as minimal sets.

    ``limit`` caps the sets of any one value (:class:`TooLarge` beyond).

    Examples
    --------
    >>> d = Dnf(limit=10)
    >>> d.both(d.either(d.job(0), d.job(1)), d.job(2))  # (0 or 1) and 2
    (5, 6)
    >>> d.either(d.job(0), d.both(d.job(0), d.job(1)))  # 0 or (0 and 1) is 0
    (1,)
    """

    true: Terms = (0,)
    false: Terms = ()

    def __init__(self, limit: int) -> None:
        self.limit = limit

    def job(self, job: int) -> Terms:
        return (1 << job,)

    def either(self, a: Terms, b: Terms) -> Terms:
        if not a or b == self.true:
            return b
        if not b or a == self.true:
            return a
        return self._minimal(a + b)

    def both(self, a: Terms, b: Terms) -> Terms:
        if not a or b == self.true:
            return a
        if not b or a == self.true:
            return b
        if len(a) == 1 and len(b) == 1:
            return (a[0] | b[0],)
        return self._minimal(tuple({x | y for x in a for y in b}))

    def _minimal(self, terms: Sequence[int]) -> Terms:
        kept: list[int] = []
        for t in sorted(set(terms), key=lambda m: (m.bit_count(), m)):
            if not any(s & t == s for s in kept):
                kept.append(t)
                if len(kept) > self.limit:
                    raise TooLarge(f"an asset comes back through more than {self.limit:,} minimal sets of repairs")
        return tuple(sorted(kept))


class Classes:
    """The people-weighted classes of one recovery, and the value of a plan computed from them.

    Raises :class:`TooLarge` when the sets of all classes together exceed ``limit``.
    """

    def __init__(self, recovery: Recovery, k: int, *, limit: int) -> None:
        weight: dict[Terms, int] = {}
        for i, terms in enumerate(recovery.solve(Dnf(limit))):
            if recovery.population[i] > 0:
                weight[terms] = weight.get(terms, 0) + recovery.population[i]
        if sum(len(t) for t in weight) > limit:
            raise TooLarge(f"the assets cut off come back through more than {limit:,} minimal sets of repairs")
        self.weighted: list[tuple[Terms, int]] = sorted(weight.items())
        self.sets: list[list[list[int]]] = [[jobs_in(t) for t in terms] for terms, _ in self.weighted]
        self.weight: list[int] = [people for _, people in self.weighted]
        self.of_job: list[list[int]] = [[] for _ in range(k)]
        """The classes each job appears in."""
        for c, sets in enumerate(self.sets):
            for j in sorted({j for s in sets for j in s}):
                self.of_job[j].append(c)
        self.work = len(self.sets) + sum(len(s) for sets in self.sets for s in sets)
        """A deterministic measure of the cost of one :meth:`value`."""

    def time(self, c: int, end: Sequence[float]) -> float:
        """When class ``c`` works again if repair ``j`` ends at ``end[j]``."""
        return min(max(end[j] for j in s) for s in self.sets[c])

    def value(self, end: Sequence[float]) -> float:
        """Unserved people-hours of a plan whose repair ``j`` ends at ``end[j]``."""
        return sum(w * self.time(c, end) for c, w in enumerate(self.weight))
