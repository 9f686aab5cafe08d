"""The id -> position index of a snapshot that follows small changes, without renumbering a million ids.

A snapshot numbers its assets densely in id order, so one new id in the
middle of that order moves every later asset up by one. Rebuilding the
``index`` dict for that rewrites up to a million entries while holding the
interpreter. :class:`ShiftedIndex` instead keeps the dict of an earlier
snapshot (its *base*, never modified) and the few ids inserted since, each
with its *point*: how many base ids sort before it. A base id at base
position ``b`` now sits at ``b`` plus the inserted ids whose point is at most
``b`` (a binary search over the points); the ``j``-th inserted id (in id
order) at its point plus ``j``. Making one costs O(k log k) for k inserted
ids, a lookup O(log k), and a chain of follows keeps one base: past
:data:`MAX_INSERTED` inserted ids the index is flattened into a plain dict
again (one pass, rare).
"""

from __future__ import annotations

import bisect
import heapq
from collections.abc import Iterator, Mapping, Sequence

__all__ = ["MAX_INSERTED", "ShiftedIndex", "spliced_index"]

MAX_INSERTED = 65_536
"""Inserted ids a :class:`ShiftedIndex` holds at most; beyond, the index is one dict again."""


class ShiftedIndex(Mapping[str, int]):
    """``{id: position}`` over ``ids`` (the snapshot's ids, in order): a base dict plus inserted ids.

    Build one with :func:`spliced_index`. It reads like the dict a scratch
    build makes: ``[]``, ``get``, ``in``, ``len``, iteration in position
    order, equality with any mapping.
    """

    __slots__ = ("_added", "_base", "_ids", "_inserted", "_points")

    def __init__(self, base: Mapping[str, int], inserted: Sequence[str], points: Sequence[int],
                 ids: Sequence[str]) -> None:
        self._base = base
        self._inserted = list(inserted)  # sorted
        self._points = list(points)  # nondecreasing: base ids before each inserted id
        self._added = {x: p + j for j, (x, p) in enumerate(zip(self._inserted, self._points, strict=True))}
        self._ids = ids

    def __getitem__(self, key: str) -> int:
        at = self._added.get(key)
        if at is not None:
            return at
        b = self._base[key]
        return b + bisect.bisect_right(self._points, b)

    def get(self, key: str, default: int | None = None) -> int | None:  # type: ignore[override]
        at = self._added.get(key)
        if at is not None:
            return at
        b = self._base.get(key)
        return default if b is None else b + bisect.bisect_right(self._points, b)

    def __contains__(self, key: object) -> bool:
        return key in self._added or key in self._base

    def __iter__(self) -> Iterator[str]:
        return iter(self._ids)

    def __len__(self) -> int:
        return len(self._ids)

    def __repr__(self) -> str:
        return f"ShiftedIndex({len(self._ids)} ids, {len(self._inserted)} inserted)"

    def __reduce__(self) -> tuple[type[ShiftedIndex], tuple[Mapping[str, int], list[str], list[int], Sequence[str]]]:
        return ShiftedIndex, (self._base, self._inserted, self._points, self._ids)


def spliced_index(old: Mapping[str, int], new_ids: Sequence[str], positions: Sequence[int],
                  ids: Sequence[str]) -> Mapping[str, int]:
    """The index of ``ids``: ``old`` (the index of the earlier snapshot's ids) with ``new_ids`` inserted.

    Parameters
    ----------
    old : Mapping[str, int]
        The index of the earlier snapshot, a dict or a :class:`ShiftedIndex` (never modified; shared).
    new_ids : Sequence[str]
        Ids not in ``old``, sorted.
    positions : Sequence[int]
        For each new id, the position among the earlier snapshot's ids it goes before (``bisect_left``).
    ids : Sequence[str]
        The ids after the insertion, in order (iterated by the index; kept, not copied).

    Returns
    -------
    Mapping[str, int]
        A :class:`ShiftedIndex` over ``old``'s base, or a plain dict when more than
        :data:`MAX_INSERTED` ids have been inserted since that base.
    """
    if not new_ids:
        return old
    if isinstance(old, ShiftedIndex):
        base, inserted, points = old._base, old._inserted, old._points
    else:
        base, inserted, points = old, [], []
    # A new id goes before positions[j] old ids, of which bisect_left(inserted, x) were inserted ones.
    fresh = [(x, p - bisect.bisect_left(inserted, x)) for x, p in zip(new_ids, positions, strict=True)]
    merged = list(heapq.merge(zip(inserted, points, strict=True), fresh))
    if len(merged) > MAX_INSERTED:
        return dict(zip(ids, range(len(ids)), strict=True))
    return ShiftedIndex(base, [x for x, _ in merged], [p for _, p in merged], ids)
