"""Validated objects of the city graph: one pydantic model per kind of record.

The models check everything a single record can get wrong (types, ranges,
levels and classes known to the ontology, the characters text may hold, the
limits below). References between records are checked by :mod:`kg.load`,
which sees the whole bundle and the store.

What text may hold (docs/data-format.md, "Ids, text and limits"):

* an **id** (and every reference to one) and an extra column's **name**:
  no control character (Unicode Cc: NUL, ESC, line breaks, ...) and no
  invisible formatting character (Cf: bidirectional overrides such as U+202E,
  zero-width characters); at most :data:`MAX_ID_LENGTH` characters;
* other **text** (names, groups, extra columns' values): tabs and line breaks,
  but no other control character and no bidirectional override or isolate
  (U+202A-U+202E, U+2066-U+2069); at most :data:`MAX_TEXT_LENGTH` characters;
* an extra column's name may not start with ``_`` (names the stores keep for
  their own bookkeeping, such as Neo4j's ``_props``) nor be ``props``.

The character rules are regular expressions run by pydantic-core (Rust), so
they cost next to nothing per row.

Examples
--------
>>> Asset(id="S1", type="Substation", region="yz-01", population=0).sector
'PowerAsset'
>>> Dependency(dependent="H1", provider="S1", kind="power").group
'power'
>>> Asset(id="S2", type="变电站").type, Dependency(dependent="H1", provider="S1", kind="电力").group
('Substation', 'power')
"""

from __future__ import annotations

import math
import unicodedata
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Annotated, Any, ClassVar

from pydantic import AfterValidator, BaseModel, BeforeValidator, ConfigDict, Field, StringConstraints, model_validator

from kg.i18n import N_, Message, _l
from kg.ontology import did_you_mean, load_ontology

__all__ = [
    "GEOMETRY",
    "MAX_CREWS",
    "MAX_ID_LENGTH",
    "MAX_POPULATION",
    "MAX_TEXT_LENGTH",
    "NAME_ZH",
    "PROPS_FIELD",
    "RECORD_TYPES",
    "RESERVED_PREFIX",
    "TEXT_RULES",
    "Agency",
    "Asset",
    "Dependency",
    "Exposure",
    "Fragility",
    "HazardZone",
    "PropName",
    "Record",
    "Region",
    "TextRule",
]


def _one_of(what: str, choices: Sequence[str], example: Message | None = None) -> AfterValidator:
    """A validator accepting only ``choices`` (from the ontology), with a did-you-mean hint.

    Its ``ValueError`` holds a :class:`~kg.i18n.Message` (``what`` is marked for translation by the
    caller), which :func:`kg.load.problems.describe_pydantic_errors` passes on to be said when shown.
    """
    allowed = frozenset(choices)
    listed: Message | str = example or ", ".join(sorted(choices))

    def check(value: str) -> str:
        if value not in allowed:
            hint = did_you_mean(value, sorted(allowed))
            message = _l("unknown {what} {value}; expected {expected}", what=_l(what), value=repr(value),
                         expected=listed)
            raise ValueError(_l("{message}; {hint}", message=message, hint=hint) if hint else message)
        return value

    return AfterValidator(check)


def _finite(value: float) -> float:
    if not math.isfinite(value):
        raise ValueError(_l("must be a finite number"))
    return value


MAX_ID_LENGTH = 1_000
"""Longest id (characters): 4,000 UTF-8 bytes at most, well inside what Neo4j can index (8 kB)."""
MAX_TEXT_LENGTH = 131_072
"""Longest text value, in any format: the csv module's own field limit."""
MAX_POPULATION = 1_000_000_000
"""Most people one asset can serve (sums over a million assets stay far inside 64-bit integers)."""
MAX_CREWS = 1_000_000
"""Most repair crews of one agency (more than any city has; it keeps the planner's arrays small)."""
RESERVED_PREFIX = "_"
"""Extra column names starting with this are refused: the stores keep such names for their own use."""
NAME_ZH = "name_zh"
"""The optional extra column holding an element's Chinese name (searched like ``name``)."""
GEOMETRY = "geometry"
"""The optional extra column holding an element's geometry as WKT, WGS84 longitude/latitude (kg.gis)."""
PROPS_FIELD = "props"
"""The field that holds a node's extra columns; no column may have this name."""

# Patterns in pydantic-core's (Rust) regex syntax, each with the same rule in Python for messages.
_ID_PATTERN = r"^[^\p{Cc}\p{Cf}]*$"
_KEY_PATTERN = r"^(?:[^_\p{Cc}\p{Cf}][^\p{Cc}\p{Cf}]*)?$"
_TEXT_PATTERN = r"^[^\x00-\x08\x0B\x0C\x0E-\x1F\x7F-\x9F\u202A-\u202E\u2066-\u2069]*$"


def _hidden(char: str) -> bool:
    return unicodedata.category(char) in ("Cc", "Cf")


def _unsafe_in_text(char: str) -> bool:
    return (unicodedata.category(char) == "Cc" and char not in "\t\n\r") or "\u202a" <= char <= "\u202e" \
        or "\u2066" <= char <= "\u2069"


@dataclass(frozen=True)
class TextRule:
    """What one character rule applies to, what it refuses (in words and as a test of one character)."""

    applies_to: str
    refuses: str
    refused: Callable[[str], bool]


_ID_CHARS = N_("control characters (such as a line break, NUL or ESC) or invisible formatting characters (such as "
              "U+202E RIGHT-TO-LEFT OVERRIDE or a zero-width space)")
TEXT_RULES: dict[str, TextRule] = {
    _ID_PATTERN: TextRule(N_("ids"), _ID_CHARS, _hidden),
    _KEY_PATTERN: TextRule(N_("column names"), _ID_CHARS, _hidden),
    _TEXT_PATTERN: TextRule(N_("text"), N_("control characters other than tab and line breaks, or bidirectional "
                                           "overrides and isolates (U+202A to U+202E, U+2066 to U+2069)"),
                            _unsafe_in_text),
}
"""Pattern (as pydantic reports it) -> its rule, for the messages of :mod:`kg.load.problems`."""

_ONTOLOGY = load_ontology()
Id = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=MAX_ID_LENGTH,
                                      pattern=_ID_PATTERN)]
Text = Annotated[str, StringConstraints(max_length=MAX_TEXT_LENGTH, pattern=_TEXT_PATTERN)]
PropName = Annotated[str, StringConstraints(min_length=1, max_length=MAX_ID_LENGTH, pattern=_KEY_PATTERN)]


def _by_label(named: Callable[[str], str | None]) -> BeforeValidator:
    """A validator turning a label (``变电站``, ``power plant``) into the name it stands for; other text passes."""

    def resolve(value: Any) -> Any:
        return (named(value) or value) if isinstance(value, str) else value

    return BeforeValidator(resolve)


# People may name classes, hazards, kinds and levels by their English or Chinese label (the ontology's
# rdfs:label): the stores always hold the name.
Level = Annotated[str, _by_label(_ONTOLOGY.level_named),
                  _one_of(N_("level"), _ONTOLOGY.levels, _l("one of {names}", names=", ".join(_ONTOLOGY.levels)))]
AssetType = Annotated[str, _by_label(lambda t: _ONTOLOGY.named(t, _ONTOLOGY.asset_types)),
                      _one_of(N_("asset type"), sorted(_ONTOLOGY.asset_types),
                              _l("an ontology Asset class such as Substation or Hospital (or its label, such as "
                                 "变电站)"))]
HazardType = Annotated[str, _by_label(lambda t: _ONTOLOGY.named(t, _ONTOLOGY.hazard_types)),
                       _one_of(N_("hazard"), sorted(_ONTOLOGY.hazard_types))]
Kind = Annotated[str, _by_label(_ONTOLOGY.kind_named), _one_of(N_("service kind"), _ONTOLOGY.service_kinds)]
Finite = Annotated[float, AfterValidator(_finite)]
Props = dict[PropName, Text]


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
    name: Text | None = None
    parent: Id | None = None
    props: Props = Field(default_factory=dict)

    @model_validator(mode="after")
    def _city_has_no_parent(self) -> Region:
        if self.parent == self.id:
            raise ValueError(_l("a region cannot be its own parent"))
        return self


class Agency(Record):
    """A government department or operator; ``parent`` makes it a branch of another agency."""

    table: ClassVar[str] = "agencies"
    id: Id
    name: Text | None = None
    level: Level | None = None
    parent: Id | None = None
    jurisdiction: Id | None = None
    crews: Annotated[int, Field(ge=0, le=MAX_CREWS)] | None = None
    """Repair crews it can send at once (restoration planning); ``None``: not given, planned as 1."""
    props: Props = Field(default_factory=dict)

    @model_validator(mode="after")
    def _not_own_parent(self) -> Agency:
        if self.parent == self.id:
            raise ValueError(_l("an agency cannot be its own parent"))
        return self


class Asset(Record):
    """An infrastructure asset of one ontology class, located in its lowest-level region."""

    table: ClassVar[str] = "assets"
    id: Id
    type: AssetType
    name: Text | None = None
    region: Id | None = None
    agency: Id | None = None
    lat: Annotated[float, Field(ge=-90, le=90)] | None = None
    lon: Annotated[float, Field(ge=-180, le=180)] | None = None
    population: Annotated[int, Field(ge=0, le=MAX_POPULATION)] = 0
    repair_hours: Annotated[Finite, Field(gt=0)] | None = None
    """Hours one crew needs to bring it back after a failure; ``None``: its type's ontology default."""
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
    name: Text | None = None
    annual_probability: Annotated[float, Field(ge=0, le=1)] | None = None
    region: Id | None = None
    props: Props = Field(default_factory=dict)


class Dependency(Record):
    """``dependent`` needs ``kind`` from ``provider``; same (kind, group) edges are alternatives."""

    table: ClassVar[str] = "dependencies"
    dependent: Id
    provider: Id
    kind: Kind
    group: Text = ""
    buffer_hours: Annotated[Finite, Field(ge=0)] = 0.0

    @model_validator(mode="before")
    @classmethod
    def _default_group(cls, data: Any) -> Any:
        if isinstance(data, dict) and not (data.get("group") or "").strip():
            kind = data.get("kind")  # by its name, also when the row gave a label (电力 -> power)
            data = {**data, "group": (_ONTOLOGY.kind_named(kind) or kind) if isinstance(kind, str) else kind}
        return data

    @model_validator(mode="after")
    def _not_self(self) -> Dependency:
        if self.dependent == self.provider:
            raise ValueError(_l("asset {id} cannot depend on itself", id=repr(self.dependent)))
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
            raise ValueError(_l("give exactly one of 'type' (an asset class) or 'asset' (an asset id)"))
        return self


RECORD_TYPES: tuple[type[Record], ...] = (Region, Agency, Asset, HazardZone, Dependency, Exposure, Fragility)
"""Record types in load order: a record only refers to kinds earlier in this tuple (or to itself)."""
