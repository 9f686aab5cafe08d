"""Rows as a reader finds them, before validation: the table, where the row is, and its values.

Every reader (CSV and JSON Lines in :mod:`kg.load.sources`, RDF in :mod:`kg.rdf.reader`) yields
:class:`RawRow` objects, and every problem names its place with :func:`location`.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

__all__ = ["RawRow", "location"]


@dataclass(frozen=True, slots=True)
class RawRow:
    """One row as read: the table it belongs to, where it is, and its non-empty values."""

    table: str
    source: str
    line: int
    values: dict[str, Any]
    node: str | None = None
    """The RDF node the row was read from (None for CSV and JSON Lines)."""

    @property
    def where(self) -> str:
        """``FILE:LINE`` of the row (the line where it starts), then ``<node>`` for RDF."""
        return location(self.source, self.line, self.node)


def location(source: str, line: int, node: str | None = None) -> str:
    """How a problem names a place: ``FILE:LINE``, then ``<node>`` for a row read from RDF."""
    where = f"{source}:{line}" if line else source
    return f"{where} <{node}>" if node is not None else where
