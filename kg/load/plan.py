"""Validate every row and every reference of a load before anything is written.

:func:`build_plan` reads the sources once, turns each row into a validated
record (:mod:`kg.model`), checks references against the rest of the load and
against what the store already holds, and returns a :class:`LoadPlan`: the
rows as compact tuples, ready for one atomic write. If anything is wrong it
raises :class:`~kg.errors.ValidationError` listing every problem (up to a
limit) with its ``FILE:LINE``, and the store has not been touched.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

from pydantic import ValidationError as PydanticError

from kg.errors import LoadTimeout, Problem, ValidationError
from kg.i18n import N_, Localized, Message, _l
from kg.load.problems import describe_pydantic_errors
from kg.load.sources import SourceFile, discover, read_rows
from kg.model import GEOMETRY, PROPS_FIELD, Record
from kg.ontology import load_ontology
from kg.rows import RawRow, location
from kg.schema import NODE_TABLES, TABLES

__all__ = ["ExistingElement", "LoadPlan", "build_plan"]

MAX_PROBLEMS = 200
_CHECK_EVERY = 1024
"""Rows between two looks at the clock (a few milliseconds of work)."""

_FIELDS: dict[str, frozenset[str]] = {name: frozenset(table.columns) for name, table in TABLES.items()}
_SINGULAR = {"regions": N_("region"), "agencies": N_("agency"), "assets": N_("asset"),
             "hazard_zones": N_("hazard zone")}


def _level(level: str | None) -> Localized:
    """A region level as people read it: its name in English (``district``), its ontology label in Chinese."""
    return Localized({"en": level or "", "zh": load_ontology().level_label(level or "", "zh") if level else ""})


def _a(table: str) -> Message:
    """A row of ``table`` named as a thing (``region``), said in the reader's language."""
    return _l(_SINGULAR[table])


@dataclass(frozen=True, slots=True)
class ExistingElement:
    """What the store knows of an id already in it."""

    table: str
    level: str | None = None


class Lookup(Protocol):
    """The part of a store the planner needs: which of these ids exist already, and (to derive exposures
    from hazard zones' polygons) the assets it holds."""

    def lookup(self, ids: Iterable[str]) -> dict[str, ExistingElement]: ...

    def rows(self, table: str) -> Iterator[tuple[Any, ...]]: ...


@dataclass
class LoadPlan:
    """Validated rows per table (tuples in :attr:`kg.schema.Table.columns` order), ready to write."""

    rows: dict[str, list[tuple[Any, ...]]] = field(default_factory=lambda: {t: [] for t in TABLES})
    warnings: list[Problem] = field(default_factory=list)
    sources: list[str] = field(default_factory=list)

    def counts(self) -> dict[str, int]:
        """Rows per table, in load order."""
        return {table: len(rows) for table, rows in self.rows.items()}

    @property
    def total(self) -> int:
        return sum(len(r) for r in self.rows.values())


@dataclass(slots=True)
class _Pending:
    where: str
    field: str
    target: str
    table: str
    child_level: str | None = None


class _Planner:
    def __init__(self, store: Lookup) -> None:
        self.store = store
        self.plan = LoadPlan()
        self.problems: list[Problem] = []
        self.ids: dict[str, tuple[str, str | None]] = {}  # id -> (table, level) in this load
        self.first_seen: dict[str, tuple[str, int, str | None]] = {}  # id -> (source, line, RDF node)
        self.keys: dict[str, dict[tuple[Any, ...], int]] = {t: {} for t in TABLES if not TABLES[t].node}
        self.pending: list[_Pending] = []
        self.warned_columns: set[tuple[str, str]] = set()
        self.rank = {level: i for i, level in enumerate(load_ontology().levels)}

    def report(self, problem: Problem) -> None:
        self.problems.append(problem)

    @property
    def full(self) -> bool:
        return len(self.problems) >= MAX_PROBLEMS

    def add(self, raw: RawRow) -> None:
        table = TABLES[raw.table]
        known = _FIELDS[raw.table]
        values = raw.values
        if PROPS_FIELD in values:
            self.report(Problem(raw.where, _l("column {column} is reserved (a row's extra columns are kept as its "
                                               "props); rename it", column=repr(PROPS_FIELD))))
            return
        if not known >= values.keys():
            values = self._split_extra(raw, known)
        try:
            record: Record = table.record.model_validate(values)
        except PydanticError as exc:
            for message in describe_pydantic_errors(exc, raw.values):
                self.report(Problem(raw.where, message))
            return
        fields = record.__dict__
        if not self._check_identity(raw, fields):
            return
        for name, target_table in table.references.items():
            target = fields[name]
            if target is not None and not self._resolved_now(target, target_table, raw.table, fields):
                level = fields["level"] if raw.table == "regions" else None
                self.pending.append(_Pending(raw.where, name, target, target_table, level))
        row = tuple(fields[name] for name in table.columns)
        if table.has_props and not fields[PROPS_FIELD]:
            at = table.position(PROPS_FIELD)
            row = (*row[:at], None, *row[at + 1 :])
        self.plan.rows[raw.table].append(row)

    def _split_extra(self, raw: RawRow, known: frozenset[str]) -> dict[str, Any]:
        """Extra columns become ``props`` of node rows; on relation rows they are ignored, with a warning."""
        values = {k: v for k, v in raw.values.items() if k in known}
        extra = [k for k in raw.values if k not in known]
        if "props" in known:
            values["props"] = {k: raw.values[k] for k in extra}
            return values
        for col in extra:
            if (raw.source, col) not in self.warned_columns:
                self.warned_columns.add((raw.source, col))
                self.plan.warnings.append(
                    Problem(raw.source, _l("column {column} is not part of {table} and was ignored",
                                           column=repr(col), table=raw.table))
                )
        return values

    def _resolved_now(self, target: str, table: str, child_table: str, fields: dict[str, Any]) -> bool:
        """True when ``target`` is already known in this load and right; otherwise it waits for resolve()."""
        known = self.ids.get(target)
        if known is None or known[0] != table:
            return False
        if child_table == "regions":
            level = known[1]
            return level is not None and self.rank[level] < self.rank[fields["level"]]
        return True

    def _check_identity(self, raw: RawRow, fields: dict[str, Any]) -> bool:
        if raw.table in NODE_TABLES:
            rid: str = fields["id"]
            if rid in self.ids:
                self.report(Problem(raw.where, _l("duplicate id {id}: already defined at {where}", id=repr(rid),
                                                  where=location(*self.first_seen[rid]))))
                return False
            self.ids[rid] = (raw.table, fields.get("level"))
            self.first_seen[rid] = (raw.source, raw.line, raw.node)
        else:
            columns = TABLES[raw.table].key
            key = tuple(fields[k] for k in columns)
            seen = self.keys[raw.table]
            if key in seen:
                self.report(Problem(raw.where, _l("duplicate row: the same {columns} as the row at line {line}",
                                                  columns=", ".join(columns), line=seen[key])))
                return False
            seen[key] = raw.line
        return True

    def derive_exposures(self) -> None:
        """Exposures of zones with a polygon and an ``intensity`` but no exposure rows (:mod:`kg.gis.exposures`).

        The assets considered are those of this load and, unless this load
        replaces them, those already in the store.
        """
        zone_of = TABLES["hazard_zones"].getter("id", PROPS_FIELD)
        exposures = TABLES["exposures"]
        given = {key[exposures.key.index("zone")] for key in self.keys["exposures"]}
        zones = [(zid, props) for zid, props in map(zone_of, self.plan.rows["hazard_zones"])
                 if (props or {}).get(GEOMETRY) and props.get("intensity") is not None and zid not in given]
        if not zones:
            return
        from kg.gis.exposures import derive_exposures  # GIS libraries load only for loads that need them
        from kg.gis.geometry import GeometryError, geometry_of

        shapes, intensities = [], []
        for zid, props in zones:
            where = location(*self.first_seen[zid])
            try:
                intensity = float(props["intensity"])
                if not (math.isfinite(intensity) and intensity >= 0):
                    raise ValueError
                shapes.append(geometry_of(props, None, None, where))
                intensities.append(intensity)
            except ValueError:
                self.report(Problem(where, _l("intensity {value}: expected a finite number >= 0 (the hazard's "
                                              "intensity everywhere in the zone's polygon)",
                                              value=repr(props["intensity"]))))
            except GeometryError as exc:
                self.report(Problem(where, exc.detail))
        if self.problems:
            return
        asset_of = TABLES["assets"].getter("id", PROPS_FIELD, "lat", "lon")
        assets = {a[0]: a for a in map(asset_of, self.store.rows("assets"))}
        assets.update((a[0], a) for a in map(asset_of, self.plan.rows["assets"]))
        ids = list(assets)
        geometries = [geometry_of(props, lat, lon, aid) for aid, props, lat, lon in assets.values()]
        zone_ids = [zid for zid, _ in zones]
        for asset, zone, intensity in derive_exposures(zone_ids, shapes, intensities, ids, geometries):
            values = {"asset": asset, "zone": zone, "intensity": intensity}
            self.keys["exposures"][tuple(values[c] for c in exposures.key)] = 0
            self.plan.rows["exposures"].append(exposures.row(values))
            if asset not in self.ids:
                self.pending.append(_Pending(location(*self.first_seen[zone]), "asset", asset, "assets"))

    def resolve(self) -> None:
        unknown = {p.target for p in self.pending if p.target not in self.ids}
        existing = self.store.lookup(sorted(unknown)) if unknown else {}
        for p in self.pending:
            if self.full:
                return
            if p.target in self.ids:
                table, level = self.ids[p.target]
            elif p.target in existing:
                table, level = existing[p.target].table, existing[p.target].level
            else:
                self.report(Problem(p.where, _l("{column} {id} does not exist; expected the id of a {what} in this "
                                                "load or already in the store", column=p.field, id=repr(p.target),
                                                what=_a(p.table))))
                continue
            if table != p.table:
                self.report(Problem(p.where, _l("{column} {id} is a {what}, expected a {expected}", column=p.field,
                                                id=repr(p.target), what=_a(table), expected=_a(p.table))))
            elif p.child_level is not None and level is not None and self.rank[level] >= self.rank[p.child_level]:
                self.report(Problem(p.where, _l("parent {id} is a {level}; a {child} must be part of a region at a "
                                                "higher level (city > district > subdistrict > community > grid)",
                                                id=repr(p.target), level=_level(level), child=_level(p.child_level))))
        self._check_cross_table_ids()

    def _check_cross_table_ids(self) -> None:
        existing = self.store.lookup(self.ids)
        for rid, element in existing.items():
            table = self.ids[rid][0]
            if element.table != table and not self.full:
                self.report(Problem(location(*self.first_seen[rid]),
                                    _l("id {id} is already used by a {what} in the store; ids are unique across "
                                       "regions, agencies, assets and zones", id=repr(rid), what=_a(element.table))))
        region = TABLES["regions"].getter("id", "level", "parent")
        for row in self.plan.rows["regions"]:
            rid, level, parent = region(row)
            if level == "city" and parent is not None and not self.full:
                self.report(Problem(location(*self.first_seen[rid]),
                                    _l("region {id} is the city and cannot have a parent", id=repr(rid))))


class _Clock:
    """The deadline of a validation, checked at safe points (a clock read each)."""

    def __init__(self, timeout_s: float | None, progress: Callable[[int], None] | None) -> None:
        self.timeout_s = timeout_s
        self.deadline = math.inf if timeout_s is None else time.monotonic() + timeout_s
        self.progress = progress
        self.source = ""

    def check(self) -> None:
        if time.monotonic() > self.deadline:
            raise LoadTimeout(self.timeout_s or 0.0, self.source)

    def tick(self, n: int) -> None:
        """The progress callback handed to the readers: report ``n`` bytes read, then check the deadline."""
        if self.progress is not None and n:
            self.progress(n)
        self.check()

    def reading(self, source: SourceFile) -> Callable[[int], None] | None:
        self.source = str(source.path)
        return self.tick if self.timeout_s is not None else self.progress


def build_plan(
    paths: Iterable[Path | str],
    store: Lookup,
    *,
    progress: Callable[[int], None] | None = None,
    timeout_s: float | None = None,
) -> LoadPlan:
    """Read and validate ``paths`` (bundle folders, CSV, JSON Lines or RDF files) into a plan.

    Raises :class:`~kg.errors.ValidationError` with every problem found (up to
    a limit), or :class:`~kg.errors.LoadTimeout` when validation takes longer
    than ``timeout_s`` seconds (checked every thousand rows or so, and during
    RDF parsing and SHACL); nothing is written by this function.
    """
    clock = _Clock(timeout_s, progress)
    planner = _Planner(store)
    sources = discover([Path(p) for p in paths], planner.report)
    planner.plan.sources = [str(s.path) for s in sources]
    for source in sources:
        for count, raw in enumerate(read_rows(source, planner.report, clock.reading(source)), start=1):
            planner.add(raw)
            if planner.full:
                break
            if count % _CHECK_EVERY == 0:
                clock.check()
        if planner.full:
            break
    clock.source = ""
    clock.check()
    if not planner.problems:
        planner.derive_exposures()
    if not planner.problems:
        planner.resolve()
    if planner.problems:
        raise ValidationError(planner.problems[:MAX_PROBLEMS], truncated=planner.full)
    if planner.plan.total == 0:
        raise ValidationError([Problem(", ".join(planner.plan.sources) or "load", _l("no rows to load"))])
    return planner.plan
