"""What-if edits: a copy of the snapshot with a few changes, and what they change in a cascade.

Four edits (docs/whatif.md), applied in order to a *copy* of the snapshot; the
store is never written:

* ``{"op": "add_buffer", "asset", "kind", "group"?, "hours"}``: every edge of the
  group gets buffer ``max(its own, hours)``; no such group is an error.
* ``{"op": "add_dependency", "dependent", "provider", "kind", "group"?, "buffer_hours"?}``:
  a dependency that already exists with that (dependent, provider, kind, group) is an error.
* ``{"op": "remove_dependency", "dependent", "provider", "kind", "group"?}``: one that
  does not exist is an error.
* ``{"op": "harden", "asset", "hazard"}``: the asset ignores its exposures to zones of that hazard.

``group`` defaults to the kind, as in a bundle. The copy is exactly the snapshot
of a bundle edited the same way (tests check the cascades are equal), so a
scenario can be compared before and after (:func:`compare`; the scenario runner,
:func:`kg.scenario.whatif`, runs both): what is *saved*, what fails that did not
(*new*), what fails later (*delayed*) or sooner (*earlier*), and whom each change
concerns. A fix that pushes the problem elsewhere shows up as ``new`` and ``earlier``.

Every problem names its JSON path (``edits[2].asset``) and what was expected.
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, ClassVar

import numpy as np

from kg.analysis.cascade import CascadeResult, Failure
from kg.errors import EditRejected, FieldPath, Problem, ValidationError, closest_id, not_found
from kg.i18n import Message, _l
from kg.ontology import did_you_mean, load_ontology
from kg.snapshot import GraphSnapshot, dependency_arrays

__all__ = [
    "EDIT_CLASSES",
    "EDIT_OPS",
    "AddBuffer",
    "AddDependency",
    "ChangeImpact",
    "Changes",
    "Edit",
    "Harden",
    "RemoveDependency",
    "WhatIfResult",
    "apply_edits",
    "compare",
    "parse_edits",
]


@dataclass(frozen=True)
class AddBuffer:
    """Every edge of ``asset``'s (kind, group) group gets at least ``hours`` of buffer."""

    op: ClassVar[str] = "add_buffer"
    asset: str
    kind: str
    hours: float
    group: str | None = None

    def to_dict(self) -> dict[str, Any]:
        return {"op": self.op, "asset": self.asset, "kind": self.kind, "group": self.group or self.kind,
                "hours": self.hours}


@dataclass(frozen=True)
class AddDependency:
    """A new DEPENDS_ON edge ``dependent -> provider`` of ``kind`` in ``group``."""

    op: ClassVar[str] = "add_dependency"
    dependent: str
    provider: str
    kind: str
    group: str | None = None
    buffer_hours: float = 0.0

    def to_dict(self) -> dict[str, Any]:
        return {"op": self.op, "dependent": self.dependent, "provider": self.provider, "kind": self.kind,
                "group": self.group or self.kind, "buffer_hours": self.buffer_hours}


@dataclass(frozen=True)
class RemoveDependency:
    """The DEPENDS_ON edge ``dependent -> provider`` of ``kind`` in ``group`` is gone."""

    op: ClassVar[str] = "remove_dependency"
    dependent: str
    provider: str
    kind: str
    group: str | None = None

    def to_dict(self) -> dict[str, Any]:
        return {"op": self.op, "dependent": self.dependent, "provider": self.provider, "kind": self.kind,
                "group": self.group or self.kind}


@dataclass(frozen=True)
class Harden:
    """``asset`` ignores its exposures to every zone of ``hazard`` (a flood wall, a seismic retrofit)."""

    op: ClassVar[str] = "harden"
    asset: str
    hazard: str

    def to_dict(self) -> dict[str, Any]:
        return {"op": self.op, "asset": self.asset, "hazard": self.hazard}


Edit = AddBuffer | AddDependency | RemoveDependency | Harden
EDIT_CLASSES: dict[str, type[AddBuffer] | type[AddDependency] | type[RemoveDependency] | type[Harden]] = {
    cls.op: cls for cls in (AddBuffer, AddDependency, RemoveDependency, Harden)}
"""Each edit's ``op`` -> its class; the classes' fields are the JSON fields of the edit."""
EDIT_OPS: tuple[str, ...] = tuple(EDIT_CLASSES)
"""The edit operations, in the order docs/whatif.md lists them."""

_TEXT = ("asset", "kind", "group", "dependent", "provider", "hazard")
_HOURS = ("hours", "buffer_hours")


# ---------------------------------------------------------------------- parsing
def _field_value(item: Mapping[str, Any], name: str) -> tuple[Any, Message | None]:
    """The value of field ``name`` of an edit, or None and what was expected."""
    value = item[name]
    if name in _TEXT:
        if not isinstance(value, str) or not value.strip():
            return None, _l("expected a non-empty string, got {value}", value=repr(value))
        return value, None
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value) or value < 0:
        return None, _l("expected a finite number of hours >= 0, got {value}", value=repr(value))
    return float(value), None


def parse_edits(data: Any, *, where: str = "edits") -> tuple[Edit, ...]:
    """Edits from their JSON form (a list of objects with an ``op``), checked for shape only.

    Raises
    ------
    ValidationError
        One problem per bad edit or field, named by JSON path (``edits[1].hours``); its
        ``field`` is the first problem's (``("edits", 1, "hours")``).

    Examples
    --------
    >>> parse_edits([{"op": "harden", "asset": "S1", "hazard": "Flood"}])
    (Harden(asset='S1', hazard='Flood'),)
    >>> parse_edits([{"op": "add_buffer", "asset": "H1", "kind": "power"}])
    Traceback (most recent call last):
    ...
    kg.errors.ValidationError: edits[0].hours: missing (add_buffer needs asset, kind, hours; optional: group)
    """
    if not isinstance(data, list):
        raise ValidationError([Problem(where, _l("expected a list of edits, got {type}", type=type(data).__name__))],
                              field=("edits",))
    problems: list[Problem] = []
    fields: list[FieldPath] = []

    def add(k: int, name: str | None, message: Message) -> None:
        problems.append(Problem(f"{where}[{k}]" + (f".{name}" if name else ""), message))
        fields.append(("edits", k) + ((name,) if name else ()))

    edits: list[Edit] = []
    for k, item in enumerate(data):
        if not isinstance(item, Mapping):
            add(k, None, _l("expected an object with an op, got {type}", type=type(item).__name__))
            continue
        op = item.get("op")
        cls = EDIT_CLASSES.get(op) if isinstance(op, str) else None
        if cls is None:
            hint = did_you_mean(str(op), EDIT_OPS) if isinstance(op, str) else ""
            expected = _l("expected one of {names}, got {value}", names=", ".join(EDIT_OPS), value=repr(op))
            add(k, "op", _l("{message}; {hint}", message=expected, hint=hint) if hint else expected)
            continue
        required = [f.name for f in dataclasses.fields(cls) if f.default is dataclasses.MISSING]
        optional = [f.name for f in dataclasses.fields(cls) if f.default is not dataclasses.MISSING]
        before = len(problems)
        for name in item:
            if name not in {"op", *required, *optional}:
                add(k, name, _l("is not a field of {op} (it takes {fields})", op=op,
                                fields=", ".join(required + optional)))
        values: dict[str, Any] = {}
        for name in required + optional:
            if name not in item or (name in optional and item[name] is None):
                if name in required:
                    add(k, name, _l("missing ({op} needs {fields}; optional: {optional})", op=op,
                                    fields=", ".join(required), optional=", ".join(optional)) if optional
                        else _l("missing ({op} needs {fields})", op=op, fields=", ".join(required)))
                continue
            values[name], wrong = _field_value(item, name)
            if wrong is not None:
                add(k, name, wrong)
        if len(problems) == before:
            edits.append(cls(**values))
    if problems:
        raise ValidationError(problems, field=fields[0])
    return tuple(edits)


# ---------------------------------------------------------------------- applying
class _Draft:
    """The dependency edges and exposures of a snapshot, editable in place (few edits, cheap lookups)."""

    def __init__(self, snap: GraphSnapshot) -> None:
        self.snap = snap
        self.kinds = list(snap.kinds)
        self.labels = list(snap.group_labels)
        self.kind_code = {k: i for i, k in enumerate(self.kinds)}
        self.label_code = {g: i for i, g in enumerate(self.labels)}
        self.edge_label = snap.group_label[snap.dep_group]
        self.gone: set[int] = set()
        self.raised: dict[int, float] = {}
        self.added: dict[tuple[int, int, int, int], float] = {}
        self.hardened: set[tuple[int, str]] = set()

    def code(self, table: dict[str, int], names: list[str], value: str) -> int:
        if value not in table:
            table[value] = len(names)
            names.append(value)
        return table[value]

    def original(self, d: int, p: int | None, kind: str, label: str) -> list[int]:
        """Positions of the snapshot's edges of ``d`` in (kind, label), from provider ``p`` (any if None)."""
        k, g = self.kind_code.get(kind), self.label_code.get(label)
        if k is None or g is None:
            return []
        snap = self.snap
        lo, hi = int(snap.dep_ptr[d]), int(snap.dep_ptr[d + 1])
        return [e for e in range(lo, hi) if e not in self.gone and snap.dep_kind[e] == k
                and self.edge_label[e] == g and (p is None or snap.dep_provider[e] == p)]

    def extra(self, d: int, p: int | None, kind: str, label: str) -> list[tuple[int, int, int, int]]:
        k, g = self.kind_code.get(kind), self.label_code.get(label)
        return [key for key in self.added if key[0] == d and key[2] == k and key[3] == g
                and (p is None or key[1] == p)]

    def groups_of(self, d: int) -> list[str]:
        snap = self.snap
        seen = {f"{self.kinds[int(snap.dep_kind[e])]}/{self.labels[int(self.edge_label[e])]}"
                for e in range(int(snap.dep_ptr[d]), int(snap.dep_ptr[d + 1])) if e not in self.gone}
        seen |= {f"{self.kinds[k]}/{self.labels[g]}" for dd, _, k, g in self.added if dd == d}
        return sorted(seen)

    def build(self) -> GraphSnapshot:
        snap = self.snap
        changes: dict[str, Any] = {}
        if self.raised and not (self.gone or self.added):
            # Buffers only grow, and a group's buffer is the largest of its edges': no re-sorting needed.
            buf = snap.dep_buffer.copy()
            group_buf = snap.group_buffer.copy()
            for e, hours in self.raised.items():
                buf[e] = max(buf[e], hours)
                g = snap.dep_group[e]
                group_buf[g] = max(group_buf[g], buf[e])
            changes.update(dep_buffer=buf, group_buffer=group_buf)
        elif self.gone or self.raised or self.added:
            keep = np.ones(snap.m, dtype=bool)
            keep[list(self.gone)] = False
            buf = snap.dep_buffer.copy()
            for e, hours in self.raised.items():
                buf[e] = max(buf[e], hours)
            dependent = np.repeat(np.arange(snap.n, dtype=np.int32), np.diff(snap.dep_ptr))
            extra = np.asarray(list(self.added), dtype=np.int32).reshape(-1, 4)
            changes.update(dependency_arrays(
                snap.n,
                np.concatenate([dependent[keep], extra[:, 0]]),
                np.concatenate([snap.dep_provider[keep], extra[:, 1]]),
                np.concatenate([snap.dep_kind[keep], extra[:, 2]]),
                np.concatenate([self.edge_label[keep].astype(np.int32), extra[:, 3]]),
                np.concatenate([buf[keep], np.asarray(list(self.added.values()), dtype=np.float64)]),
            ))
            changes.update(kinds=tuple(self.kinds), group_labels=tuple(self.labels))
        if self.hardened:
            keep = np.ones(len(snap.exp_asset), dtype=bool)
            for a, hazard in self.hardened:
                of_hazard = np.asarray([h == hazard for h in snap.zone_hazard], dtype=bool)
                keep &= ~((snap.exp_asset == a) & of_hazard[snap.exp_zone])
            changes.update(exp_asset=snap.exp_asset[keep], exp_zone=snap.exp_zone[keep],
                           exp_intensity=snap.exp_intensity[keep])
        return dataclasses.replace(snap, **changes) if changes else dataclasses.replace(snap)


class _Rejections:
    """Problems found while applying edits, each with its reason (see :class:`~kg.errors.EditRejected`)."""

    def __init__(self, where: str) -> None:
        self.where = where
        self.problems: list[Problem] = []
        self.reasons: list[str] = []
        self.fields: list[FieldPath] = []
        self.k = 0

    def add(self, name: str | None, message: Message, reason: str = "invalid") -> None:
        """A problem with edit :attr:`k` (its field ``name``, or the whole edit with ``None``)."""
        at = f"{self.where}[{self.k}]" + (f".{name}" if name else "")
        self.problems.append(Problem(at, message))
        self.reasons.append(reason)
        self.fields.append(("edits", self.k) + ((name,) if name else ()))

    def error(self) -> EditRejected:
        return EditRejected(self.problems, self.reasons, field=self.fields[0])


def _asset(snap: GraphSnapshot, asset_id: str, name: str, problems: _Rejections) -> int | None:
    i = snap.index.get(asset_id)
    if i is None:
        hint = closest_id(asset_id, snap.asset_ids)
        problems.add(name, not_found(asset_id, "asset", hint), "not_found")
    return i


def _apply(draft: _Draft, edit: Edit, problems: _Rejections, *, strict: bool) -> None:
    snap = draft.snap
    onto = load_ontology()
    if isinstance(edit, Harden):
        a = _asset(snap, edit.asset, "asset", problems)
        if edit.hazard not in onto.hazard_types:
            hint = did_you_mean(edit.hazard, sorted(onto.hazard_types))
            expected = _l("expected a hazard class such as Flood or Earthquake")
            problems.add("hazard", _l("{message}; {hint}", message=expected, hint=hint) if hint else expected)
        elif a is not None:
            draft.hardened.add((a, edit.hazard))
        return
    if isinstance(edit, AddBuffer):
        a = _asset(snap, edit.asset, "asset", problems)
        if a is None:
            return
        label = edit.group or edit.kind
        edges, extra = draft.original(a, None, edit.kind, label), draft.extra(a, None, edit.kind, label)
        if not edges and not extra:
            if not strict:
                return
            groups = draft.groups_of(a)
            has = (_l("its groups (kind/group): {groups}", groups=", ".join(groups)) if groups
                   else _l("it depends on nothing"))
            problems.add(None, _l("{asset} has no dependency group of kind {kind} and group {group} to add a buffer "
                                  "to; {has}", asset=edit.asset, kind=repr(edit.kind), group=repr(label), has=has),
                         "not_found")
            return
        for e in edges:
            draft.raised[e] = max(draft.raised.get(e, 0.0), edit.hours)
        for key in extra:
            draft.added[key] = max(draft.added[key], edit.hours)
        return
    d = _asset(snap, edit.dependent, "dependent", problems)
    p = _asset(snap, edit.provider, "provider", problems)
    if isinstance(edit, AddDependency) and edit.kind not in onto.service_kinds:
        hint = did_you_mean(edit.kind, onto.service_kinds)
        expected = _l("expected a service kind ({kinds})", kinds=", ".join(onto.service_kinds))
        problems.add("kind", _l("{message}; {hint}", message=expected, hint=hint) if hint else expected)
        return
    if d is None or p is None:
        return
    label = edit.group or edit.kind
    edges, extra = draft.original(d, p, edit.kind, label), draft.extra(d, p, edit.kind, label)
    named = _l("{dependent} -> {provider} ({kind}, group {group})", dependent=edit.dependent,
               provider=edit.provider, kind=edit.kind, group=repr(label))
    if isinstance(edit, AddDependency):
        if d == p:
            problems.add(None, _l("asset {id} cannot depend on itself", id=repr(edit.dependent)))
        elif edges or extra:
            if strict:
                problems.add(None, _l("the dependency {named} already exists", named=named), "exists")
        else:
            k = draft.code(draft.kind_code, draft.kinds, edit.kind)
            g = draft.code(draft.label_code, draft.labels, label)
            draft.added[(d, p, k, g)] = edit.buffer_hours
        return
    if not edges and not extra:
        if strict:
            problems.add(None, _l("there is no dependency {named} to remove", named=named), "not_found")
        return
    draft.gone.update(edges)
    for e in edges:
        draft.raised.pop(e, None)
    for k4 in extra:
        del draft.added[k4]


def apply_edits(snap: GraphSnapshot, edits: Sequence[Edit], *, where: str = "edits",
                strict: bool = True) -> GraphSnapshot:
    """A copy of ``snap`` with ``edits`` applied in order; ``snap`` itself is unchanged.

    The copy equals the snapshot of a bundle edited the same way, up to the numbering
    of kinds and group labels (a cascade on either gives the same answer). It keeps
    ``snap``'s version: it describes that version of the store, edited.

    Parameters
    ----------
    snap : GraphSnapshot
    edits : sequence of Edit
        As :func:`parse_edits` gives them.
    where : str
        JSON path of the edit list, for the problems' locations.
    strict : bool
        With ``False``, adding a dependency that an earlier edit already added,
        removing one already removed, or adding a buffer to a group an earlier edit
        removed is skipped rather than an error (investment plans combine candidates,
        each checked alone, that may share or undo an edit).

    Raises
    ------
    EditRejected
        One problem per edit naming what does not exist (``edits[0].asset``) or what
        already exists, with what was expected, and the reason of each; its ``field``
        is the first problem's (``("edits", 0, "asset")``).

    Examples
    --------
    >>> from kg.snapshot import build_snapshot
    >>> assets = [(i, "Substation", None, None, None, None, None, 0, None) for i in "SH"]
    >>> snap = build_snapshot(1, lambda t: {"assets": assets, "dependencies": [
    ...     ("H", "S", "power", "power", 0.0)]}.get(t, []))
    >>> edited = apply_edits(snap, [AddBuffer("H", "power", 8.0)])
    >>> edited.dep_buffer.tolist(), snap.dep_buffer.tolist()
    ([8.0], [0.0])
    """
    draft = _Draft(snap)
    rejections = _Rejections(where)
    for k, edit in enumerate(edits):
        rejections.k = k
        _apply(draft, edit, rejections, strict=strict)
    if rejections.problems:
        raise rejections.error()
    return draft.build()


# ---------------------------------------------------------------------- comparing
@dataclass(frozen=True)
class Changes:
    """How a modified cascade differs from the baseline (ids sorted; times in hours)."""

    saved: tuple[str, ...]
    new: tuple[str, ...]
    delayed: tuple[tuple[str, float, float], ...]
    earlier: tuple[tuple[str, float, float], ...]

    def to_dict(self) -> dict[str, Any]:
        return {"saved": list(self.saved), "new": list(self.new),
                "delayed": [{"id": i, "from": a, "to": b} for i, a, b in self.delayed],
                "earlier": [{"id": i, "from": a, "to": b} for i, a, b in self.earlier]}


@dataclass(frozen=True)
class ChangeImpact:
    """Whom one kind of change concerns: how many assets, people, and which agencies and districts."""

    assets: int
    population: int
    agencies: tuple[str, ...]
    districts: tuple[str, ...]

    def to_dict(self) -> dict[str, Any]:
        return {"assets": self.assets, "population": self.population, "agencies": list(self.agencies),
                "districts": list(self.districts)}


def _impact(failures: Sequence[Failure]) -> ChangeImpact:
    return ChangeImpact(len(failures), sum(f.population for f in failures),
                        tuple(sorted({f.agency for f in failures if f.agency is not None})),
                        tuple(sorted({d for f in failures if (d := f.regions.get("district")) is not None})))


@dataclass(frozen=True)
class WhatIfResult:
    """A scenario before and after the edits; :meth:`to_dict` is the JSON of ``kg whatif --format json``."""

    edits: tuple[Edit, ...]
    baseline: CascadeResult
    modified: CascadeResult
    changes: Changes
    impact: dict[str, ChangeImpact]
    """``saved``, ``new``, ``delayed``, ``earlier`` -> whom they concern."""

    def to_dict(self) -> dict[str, Any]:
        return {"edits": [e.to_dict() for e in self.edits], "baseline": self.baseline.to_dict(),
                "modified": self.modified.to_dict(), "changes": self.changes.to_dict(),
                "impact": {name: i.to_dict() for name, i in self.impact.items()}}


def compare(baseline: CascadeResult, modified: CascadeResult) -> tuple[Changes, dict[str, ChangeImpact]]:
    """Saved, new, delayed and earlier failures of ``modified`` against ``baseline``, and whom each concerns.

    Examples
    --------
    >>> from kg.analysis.cascade import cascade
    >>> from kg.snapshot import build_snapshot
    >>> assets = [(i, "Substation", None, None, None, None, None, 10, None) for i in "SHC"]
    >>> deps = [("H", "S", "power", "power", 0.0), ("C", "S", "power", "power", 2.0)]
    >>> snap = build_snapshot(1, lambda t: {"assets": assets, "dependencies": deps}.get(t, []))
    >>> edited = apply_edits(snap, [AddBuffer("H", "power", 4.0), RemoveDependency("C", "S", "power")])
    >>> changes, impact = compare(cascade(snap, [("S", 0.0)]), cascade(edited, [("S", 0.0)]))
    >>> changes.saved, changes.delayed, impact["saved"].population
    (('C',), (('H', 0.0, 4.0),), 10)
    """
    before = {f.id: f for f in baseline.failures}
    after = {f.id: f for f in modified.failures}
    saved = sorted(i for i in before if i not in after)
    new = sorted(i for i in after if i not in before)
    both = sorted(i for i in before if i in after)
    delayed = [(i, before[i].time, after[i].time) for i in both if after[i].time > before[i].time]
    earlier = [(i, before[i].time, after[i].time) for i in both if after[i].time < before[i].time]
    changes = Changes(tuple(saved), tuple(new), tuple(delayed), tuple(earlier))
    impact = {"saved": _impact([before[i] for i in saved]), "new": _impact([after[i] for i in new]),
              "delayed": _impact([after[i] for i, _, _ in delayed]),
              "earlier": _impact([after[i] for i, _, _ in earlier])}
    return changes, impact
