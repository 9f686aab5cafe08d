"""The tables of a city graph: their columns by name, keys, references and ontology classes.

This module is the one place that says what a table holds. A row travels as
a plain tuple (a million named tuples would cost too much) whose values are
in :attr:`Table.columns` order; every reader of a row asks its :class:`Table`
for the positions it needs, by name::

    >>> from kg.schema import TABLES
    >>> assets = TABLES["assets"]
    >>> asset_id, population = assets.getter("id", "population")(("S1", "Substation", None, None, None,
    ...                                                               None, None, 1200, None))
    >>> (asset_id, population)
    ('S1', 1200)
    >>> assets.key, assets.references["region"], assets.ontology_class
    (('id',), 'regions', 'Asset')

No other module indexes a row by position, so the column order may change
(it is checked against the record type, not taken from it) without any
reader noticing. Tables are listed in load order: a table refers only to
itself or to tables before it.
"""

from __future__ import annotations

import types
import typing
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, replace
from operator import itemgetter
from typing import Any, Literal

from kg.model import PROPS_FIELD, Agency, Asset, Dependency, Exposure, Fragility, HazardZone, Record, Region
from kg.ontology import load_ontology

__all__ = ["NODE_TABLES", "TABLES", "Row", "Table", "ValueKind", "table_for_name"]

Row = tuple[Any, ...]
"""One row of a table: its values in :attr:`Table.columns` order."""

ValueKind = Literal["text", "real", "integer", "json"]
"""What a column holds, for stores that type their columns: text, a float, an integer, or ``props`` (a map)."""


def _kind(record: type[Record], column: str) -> ValueKind:
    """The kind of value a record's field holds, read from its annotation (``None`` aside)."""
    annotation = record.model_fields[column].annotation
    union = typing.get_origin(annotation) in (typing.Union, types.UnionType)
    (python_type,) = [a for a in typing.get_args(annotation) if a is not type(None)] if union else [annotation]
    while typing.get_origin(python_type) is typing.Annotated:
        python_type = typing.get_args(python_type)[0]
    origin = typing.get_origin(python_type) or python_type
    if origin is float:
        return "real"
    if origin is int:
        return "integer"
    return "json" if origin is dict else "text"


@dataclass(frozen=True)
class Table:
    """One table of the bundle and of both stores.

    Parameters
    ----------
    name
        File stem in a bundle (``assets`` for assets.csv) and table name in the stores.
    record
        The pydantic record type that validates one row.
    columns
        Column names, in the order of the values of a row tuple.
    key
        The columns that identify a row (``("id",)`` for node tables).
    references
        Column -> the table whose id it names.
    ontology_class
        The ontology class of a row (a node's class, or the class of the relation it stands for).
    node
        Rows are graph nodes with an ``id``, unique across all node tables.
    """

    name: str
    record: type[Record]
    columns: tuple[str, ...]
    key: tuple[str, ...]
    references: Mapping[str, str]
    ontology_class: str
    node: bool
    _positions: dict[str, int] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        fields = set(self.record.model_fields)
        if set(self.columns) != fields or len(self.columns) != len(fields):
            raise RuntimeError(f"table {self.name}: columns {self.columns} are not the fields of "
                               f"{self.record.__name__} ({sorted(fields)})")
        unknown = (set(self.key) | set(self.references)) - fields
        if unknown:
            raise RuntimeError(f"table {self.name}: key or reference columns {sorted(unknown)} are not columns")
        if self.node != (self.key == ("id",)):
            raise RuntimeError(f"table {self.name}: a node table is keyed by its id, and only a node table")
        object.__setattr__(self, "_positions", {c: i for i, c in enumerate(self.columns)})

    @property
    def has_props(self) -> bool:
        """Rows carry a ``props`` column (a node's extra bundle columns, or None)."""
        return PROPS_FIELD in self._positions

    def position(self, column: str) -> int:
        """Where ``column``'s value is in a row tuple."""
        try:
            return self._positions[column]
        except KeyError:
            raise KeyError(f"table {self.name} has no column {column!r}; it has {', '.join(self.columns)}") from None

    def getter(self, *columns: str) -> Callable[[Row], Any]:
        """A function reading ``columns`` of a row: one value for one column, else a tuple in the order asked."""
        return itemgetter(*(self.position(c) for c in columns))

    def as_dict(self, row: Row) -> dict[str, Any]:
        """A row as ``{column: value}``."""
        return dict(zip(self.columns, row, strict=True))

    def row(self, values: Mapping[str, Any]) -> Row:
        """A row tuple from values by column name (a column not given is None)."""
        return tuple(values.get(c) for c in self.columns)

    def optional(self, column: str) -> bool:
        """A row may leave ``column`` empty (None)."""
        self.position(column)  # a KeyError naming the table's columns when it has no such column
        info = self.record.model_fields[column]
        return not info.is_required() and info.default is None and info.default_factory is None

    def kind(self, column: str) -> ValueKind:
        """What ``column`` holds, read from the record type (so the stores type their columns alike)."""
        self.position(column)
        return _kind(self.record, column)

    def reordered(self, columns: tuple[str, ...]) -> Table:
        """The same table with its columns in another order (rows of it are tuples in that order)."""
        return replace(self, columns=columns)


def _tables() -> dict[str, Table]:
    tables = (
        Table("regions", Region, ("id", "level", "name", "parent", "props"), ("id",),
              {"parent": "regions"}, "Region", node=True),
        Table("agencies", Agency, ("id", "name", "level", "parent", "jurisdiction", "crews", "props"), ("id",),
              {"parent": "agencies", "jurisdiction": "regions"}, "Agency", node=True),
        Table("assets", Asset, ("id", "type", "name", "region", "agency", "lat", "lon", "population",
                                    "repair_hours", "props"),
              ("id",), {"region": "regions", "agency": "agencies"}, "Asset", node=True),
        Table("hazard_zones", HazardZone, ("id", "hazard", "name", "annual_probability", "region", "props"),
              ("id",), {"region": "regions"}, "HazardZone", node=True),
        Table("dependencies", Dependency, ("dependent", "provider", "kind", "group", "buffer_hours"),
              ("dependent", "provider", "kind", "group"), {"dependent": "assets", "provider": "assets"},
              "Dependency", node=False),
        Table("exposures", Exposure, ("asset", "zone", "intensity"), ("asset", "zone"),
              {"asset": "assets", "zone": "hazard_zones"}, "Exposure", node=False),
        Table("fragilities", Fragility, ("hazard", "threshold", "type", "asset", "beta"), ("hazard", "type", "asset"),
              {"asset": "assets"}, "Fragility", node=False),
    )
    classes = load_ontology().classes
    names = [t.name for t in tables]
    for i, table in enumerate(tables):
        if table.ontology_class not in classes:
            raise RuntimeError(f"table {table.name}: the ontology has no class {table.ontology_class!r}")
        if table.record.table != table.name:
            raise RuntimeError(f"table {table.name}: {table.record.__name__}.table is {table.record.table!r}")
        later = [t for t in table.references.values() if names.index(t) > i]
        if later:
            raise RuntimeError(f"table {table.name} refers to {later}, which load after it")
    return {t.name: t for t in tables}


TABLES: dict[str, Table] = _tables()
"""Every table, by name, in load order."""

NODE_TABLES: tuple[str, ...] = tuple(name for name, table in TABLES.items() if table.node)
"""Tables whose rows are graph nodes with an ``id`` (ids are unique across all of them)."""


def table_for_name(name: str) -> str | None:
    """The table a file, layer or ``file`` field names (``assets``, ``assets.csv``, ``Assets.geojson``), or None."""
    stem = name.strip().lower()
    for suffix in (".csv", ".jsonl", ".ndjson", ".geojson", ".shp"):
        stem = stem.removesuffix(suffix)
    return stem if stem in TABLES else None
