"""Exact string interning over packed UTF-8 text, without a Python object per value.

A store can hand a column of a million strings over as one buffer: the
values joined by a separator byte (SQLite's ``group_concat``). Making a
Python ``str`` of each value and looking it up in a ``dict`` costs about half
a microsecond per value; here the buffer is cut at the separators with
numpy and the values are hashed and compared byte by byte in compiled code
(Numba), so numbering the types of a million assets, or finding the two ends
of three million dependencies among the assets, takes milliseconds. The
results are exact: equal bytes, never merely equal hashes, make equal values.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from kg.compiled import compiled

__all__ = ["NULL", "SEPARATOR", "KeyIndex", "Packed", "lookup", "pack_strings", "parse_ints"]

IntArray = npt.NDArray[np.int64]
Int32Array = npt.NDArray[np.int32]
U8Array = npt.NDArray[np.uint8]

SEPARATOR = "\x1f"
"""The byte between values (ASCII unit separator); UTF-8 never uses it inside a multi-byte character."""
NULL = ""
"""A missing value of a nullable column; present values carry a one-character prefix (see :class:`Packed`)."""


@compiled
def _hash(data: U8Array, start: int, end: int) -> int:
    """FNV-1a of ``data[start:end]``, folded to a non-negative int64."""
    h = np.uint64(14695981039346656037)
    for i in range(start, end):
        h = (h ^ np.uint64(data[i])) * np.uint64(1099511628211)
    return int(h >> np.uint64(1))


@compiled
def _same(a: U8Array, sa: int, ea: int, b: U8Array, sb: int, eb: int) -> bool:
    if ea - sa != eb - sb:
        return False
    for i in range(ea - sa):  # noqa: SIM110 (compiled: a plain loop)
        if a[sa + i] != b[sb + i]:
            return False
    return True


@compiled
def _intern(data: U8Array, starts: IntArray, ends: IntArray, size: int) -> tuple[Int32Array, IntArray]:
    """Codes numbered by first appearance, and the position of each code's first value (open addressing)."""
    n = len(starts)
    mask = size - 1
    table = np.full(size, -1, dtype=np.int64)
    first = np.empty(n, dtype=np.int64)
    codes = np.empty(n, dtype=np.int32)
    k = 0
    for t in range(n):
        slot = _hash(data, starts[t], ends[t]) & mask
        while True:
            c = table[slot]
            if c < 0:
                table[slot] = k
                first[k] = t
                codes[t] = k
                k += 1
                break
            f = first[c]
            if _same(data, starts[f], ends[f], data, starts[t], ends[t]):
                codes[t] = c
                break
            slot = (slot + 1) & mask
    return codes, first[:k]


@compiled
def _key_table(kdata: U8Array, kstarts: IntArray, kends: IntArray, size: int) -> IntArray:
    """Open-addressing table of the keys' positions (the first of equal keys)."""
    mask = size - 1
    table = np.full(size, -1, dtype=np.int64)
    for key in range(len(kstarts)):
        slot = _hash(kdata, kstarts[key], kends[key]) & mask
        while True:
            c = table[slot]
            if c < 0:
                table[slot] = key
                break
            if _same(kdata, kstarts[c], kends[c], kdata, kstarts[key], kends[key]):
                break
            slot = (slot + 1) & mask
    return table


@compiled
def _probe(table: IntArray, kdata: U8Array, kstarts: IntArray, kends: IntArray, data: U8Array, starts: IntArray,
           ends: IntArray) -> Int32Array:
    """Position of each value among the keys of ``table``, -1 where it is none of them."""
    mask = len(table) - 1
    out = np.full(len(starts), -1, dtype=np.int32)
    for t in range(len(starts)):
        slot = _hash(data, starts[t], ends[t]) & mask
        while True:
            c = table[slot]
            if c < 0:
                break
            if _same(kdata, kstarts[c], kends[c], data, starts[t], ends[t]):
                out[t] = c
                break
            slot = (slot + 1) & mask
    return out


@compiled
def _ascending(data: U8Array, starts: IntArray, ends: IntArray) -> bool:
    """Whether the values are in strictly increasing byte order (SQLite's ``BINARY`` collation)."""
    for t in range(1, len(starts)):
        a, b = starts[t - 1], starts[t]
        la, lb = ends[t - 1] - a, ends[t] - b
        k = 0
        while k < la and k < lb and data[a + k] == data[b + k]:
            k += 1
        if k < la and k < lb:
            if data[a + k] > data[b + k]:
                return False
        elif la >= lb:
            return False
    return True


@compiled
def _cut(data: U8Array, separator: int, count: int) -> tuple[IntArray, IntArray, bool]:
    """``(starts, ends, ok)`` of the values between ``separator`` bytes; ``ok`` False unless there are ``count``."""
    starts = np.empty(count, dtype=np.int64)
    ends = np.empty(count, dtype=np.int64)
    if count == 0:
        return starts, ends, len(data) == 0
    k = 0
    starts[0] = 0
    for i in range(len(data)):
        if data[i] == separator:
            if k + 1 >= count:
                return starts, ends, False
            ends[k] = i
            k += 1
            starts[k] = i + 1
    ends[k] = len(data)
    return starts, ends, k == count - 1


@compiled
def _parse_ints(data: U8Array, count: int) -> tuple[IntArray, bool]:
    """``(values, ok)`` of ``count`` decimal integers joined by commas; ``ok`` False for any other text.

    Digits are accumulated as a negative number, so that the smallest int64 parses too.
    """
    out = np.empty(count, dtype=np.int64)
    k = 0
    i = 0
    n = len(data)
    if count == 0:
        return out, n == 0
    while True:
        negative = i < n and data[i] == 45  # "-"
        if negative:
            i += 1
        start = i
        acc = 0
        while i < n and 48 <= data[i] <= 57:
            digit = int(data[i]) - 48
            if acc < -922337203685477580 or (acc == -922337203685477580 and digit > 8):  # below int64's least
                return out, False
            acc = acc * 10 - digit
            i += 1
        if i == start or k >= count or (not negative and acc == -9223372036854775807 - 1):
            return out, False
        out[k] = acc if negative else -acc
        k += 1
        if i == n:
            return out, k == count
        if data[i] != 44:  # ","
            return out, False
        i += 1


def parse_ints(text: bytes | None, count: int) -> IntArray | None:
    """``count`` decimal integers joined by commas (SQLite's ``group_concat`` of integers); None for other text."""
    if count < 0:
        return None
    values, ok = _parse_ints(np.frombuffer(text or b"", dtype=np.uint8), count)
    return values if ok else None


def _table_size(n: int) -> int:
    """A power of two at least twice ``n`` (open addressing stays short)."""
    return 1 << max(4, (2 * n).bit_length())


@dataclass(frozen=True)
class Packed:
    """A column of ``count`` strings joined by :data:`SEPARATOR` into one UTF-8 buffer.

    ``nullable`` columns prefix every present value with one character (any)
    and give a missing one as the empty string, so that no value is lost
    (``group_concat`` skips NULLs) and None stays distinct from ``""``.
    """

    data: U8Array
    starts: IntArray
    ends: IntArray
    nullable: bool = False

    @classmethod
    def of(cls, text: bytes | None, count: int, *, nullable: bool = False) -> Packed | None:
        """Cut ``text`` into ``count`` values; None unless it holds exactly that many (a value held the separator)."""
        if count < 0:
            return None
        data = np.frombuffer(text or b"", dtype=np.uint8)
        starts, ends, ok = _cut(data, ord(SEPARATOR), count)
        return cls(data, starts, ends, nullable) if ok else None

    def __len__(self) -> int:
        return len(self.starts)

    def part(self, start: int, stop: int) -> Packed:
        """Values ``start:stop`` (sharing this column's buffer)."""
        return Packed(self.data, self.starts[start:stop], self.ends[start:stop], self.nullable)

    def value(self, i: int) -> str | None:
        """The ``i``-th value as Python text (None for a missing one of a nullable column)."""
        start, end = int(self.starts[i]), int(self.ends[i])
        if self.nullable:
            if start == end:
                return None
            start += 1
        return self.data[start:end].tobytes().decode()

    def strings(self) -> list[str | None]:
        """Every value as Python text, in order."""
        if not len(self):
            return []
        values: list[str | None] = list(self.data.tobytes().decode().split(SEPARATOR))
        if self.nullable:
            values = [v[1:] if v else None for v in values]
        return values

    def ascending(self) -> bool:
        """Whether the values are strictly increasing in byte order (for UTF-8: code point order)."""
        return bool(_ascending(self.data, self.starts, self.ends))

    def intern(self) -> tuple[Int32Array, list[str | None]]:
        """``(codes, values)``: each value's code, codes numbered in order of first appearance."""
        codes, first = _intern(self.data, self.starts, self.ends, _table_size(len(self)))
        return codes, [self.value(int(i)) for i in first]


def pack_strings(values: list[str]) -> Packed:
    """Pack Python strings (none holding the separator), to look them up in a :class:`Packed` column."""
    packed = Packed.of(SEPARATOR.join(values).encode(), len(values))
    if packed is None:
        raise ValueError("a value holds the separator byte")
    return packed


class KeyIndex:
    """The positions of distinct keys (a :class:`Packed` column), to look many columns up in at once.

    Lookups release Python's lock, so several can run on threads in parallel.
    """

    def __init__(self, keys: Packed) -> None:
        self.keys = keys
        self._table = _key_table(keys.data, keys.starts, keys.ends, _table_size(len(keys)))

    def positions(self, values: Packed) -> Int32Array:
        """Position of each of ``values`` among the keys (the first of equal keys), -1 where it is not a key."""
        k = self.keys
        return _probe(self._table, k.data, k.starts, k.ends, values.data, values.starts, values.ends)


def lookup(keys: Packed, values: Packed) -> Int32Array:
    """Position of each of ``values`` among ``keys`` (the first of equal keys), -1 where it is not a key."""
    return KeyIndex(keys).positions(values)
