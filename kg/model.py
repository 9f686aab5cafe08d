"""Validated objects of the city graph: one pydantic model per kind of record.

The models check everything a single record can get wrong (types, ranges,
levels and classes known to the ontology). References between records are
checked by :mod:`kg.load`, which sees the whole bundle and the store.

Examples
--------
>>> Asset(id="S1", type="Substation", region="yz-01", population=0).sector
'PowerAsset'
>>> Dependency(dependent="H1", provider="S1", kind="power").group
'power'
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Annotated, Any, ClassVar

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, StringConstraints, model_validator

from kg.ontology import did_you_mean, load_ontology

__all__ = [
    "RECORD_TYPES",
    "Agency",
    "Asset",
    "Dependency",
    "Exposure",
    "Fragility",
    "HazardZone",
    "Record",
    "Region",
]


def _one_of(what: str, choices: Sequence[str], example: str = "") -> AfterValidator:
    """A validator accepting only ``choices`` (from the ontology), with a did-you-mean hint."""
    allowed = frozenset(choices)
    listed = example or ", ".join(sorted(choices))

    def check(value: str) -> str:
        if value not in allowed:
            hint = did_you_mean(value, sorted(allowed))
            raise ValueError(f"unknown {what} {value!r}; expected {listed}" + (f"; {hint}" if hint else ""))
        return value

    return AfterValidator(check)


def _finite(value: float) -> float:
    if not math.isfinite(value):
        raise ValueError("must be a finite number")
    return value


_ONTOLOGY = load_ontology()
Id = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1)]
Level = Annotated[str, _one_of("level", _ONTOLOGY.levels, "one of " + ", ".join(_ONTOLOGY.levels))]
AssetType = Annotated[str, _one_of("asset type", sorted(_ONTOLOGY.asset_types),
                                   "an ontology Asset class such as Substation or Hospital")]
HazardType = Annotated[str, _one_of("hazard", sorted(_ONTOLOGY.hazard_types))]
Kind = Annotated[str, _one_of("service kind", _ONTOLOGY.service_kinds)]
Finite = Annotated[float, AfterValidator(_finite)]
Props = dict[str, str]


class Record(BaseModel):
    """Common configuration: immutable, strict about unknown fields (extras go in ``props``)."""

    model_config = ConfigDict(frozen=True, extra="forbid", str_strip_whitespace=True)
    table: ClassVar[str]
    """Bundle file stem (``assets`` for assets.csv) and store table name."""


class Region(Record):
    """An administrative area at one level of city > district > subdistrict > community > grid."""

    table: ClassVar[str] = "regions"
    id: Id
    level: Level
    name: str | None = None
    parent: Id | None = None
    props: Props = Field(default_factory=dict)

    @model_validator(mode="after")
    def _city_has_no_parent(self) -> Region:
        if self.parent == self.id:
            raise ValueError("a region cannot be its own parent")
        return self


class Agency(Record):
    """A government department or operator; ``parent`` makes it a branch of another agency."""

    table: ClassVar[str] = "agencies"
    id: Id
    name: str | None = None
    level: Level | None = None
    parent: Id | None = None
    jurisdiction: Id | None = None
    props: Props = Field(default_factory=dict)

    @model_validator(mode="after")
    def _not_own_parent(self) -> Agency:
        if self.parent == self.id:
            raise ValueError("an agency cannot be its own parent")
        return self


class Asset(Record):
    """An infrastructure asset of one ontology class, located in its lowest-level region."""

    table: ClassVar[str] = "assets"
    id: Id
    type: AssetType
    name: str | None = None
    region: Id | None = None
    agency: Id | None = None
    lat: Annotated[float, Field(ge=-90, le=90)] | None = None
    lon: Annotated[float, Field(ge=-180, le=180)] | None = None
    population: Annotated[int, Field(ge=0)] = 0
    props: Props = Field(default_factory=dict)

    @property
    def sector(self) -> str:
        """The sector class (PowerAsset, WaterAsset, ...) of this asset's type."""
        return load_ontology().sector(self.type)


class HazardZone(Record):
    """An area where one hazard reaches an intensity with an annual probability."""

    table: ClassVar[str] = "hazard_zones"
    id: Id
    hazard: HazardType
    name: str | None = None
    annual_probability: Annotated[float, Field(ge=0, le=1)] | None = None
    region: Id | None = None
    props: Props = Field(default_factory=dict)


class Dependency(Record):
    """``dependent`` needs ``kind`` from ``provider``; same (kind, group) edges are alternatives."""

    table: ClassVar[str] = "dependencies"
    dependent: Id
    provider: Id
    kind: Kind
    group: str = ""
    buffer_hours: Annotated[Finite, Field(ge=0)] = 0.0

    @model_validator(mode="before")
    @classmethod
    def _default_group(cls, data: Any) -> Any:
        if isinstance(data, dict) and not (data.get("group") or "").strip():
            data = {**data, "group": data.get("kind")}
        return data

    @model_validator(mode="after")
    def _not_self(self) -> Dependency:
        if self.dependent == self.provider:
            raise ValueError(f"asset {self.dependent!r} cannot depend on itself")
        return self


class Exposure(Record):
    """``asset`` lies in hazard zone ``zone`` where the hazard reaches ``intensity``."""

    table: ClassVar[str] = "exposures"
    asset: Id
    zone: Id
    intensity: Annotated[Finite, Field(ge=0)]


class Fragility(Record):
    """An asset type (or one asset) fails under ``hazard`` at ``threshold``.

    With ``beta`` the threshold is the median of a lognormal fragility curve.
    """

    table: ClassVar[str] = "fragilities"
    hazard: HazardType
    threshold: Annotated[Finite, Field(gt=0)]
    type: AssetType | None = None
    asset: Id | None = None
    beta: Annotated[Finite, Field(gt=0)] | None = None

    @model_validator(mode="after")
    def _one_target(self) -> Fragility:
        if (self.type is None) == (self.asset is None):
            raise ValueError("give exactly one of 'type' (an asset class) or 'asset' (an asset id)")
        return self


RECORD_TYPES: tuple[type[Record], ...] = (Region, Agency, Asset, HazardZone, Dependency, Exposure, Fragility)
"""Record types in load order: a record only refers to kinds earlier in this tuple (or to itself)."""
