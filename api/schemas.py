"""Request and response models: the OpenAPI schema is generated from these, so they are exact.

One family per resource, named like the template's (``...Public`` for what is
returned, ``...Request`` for what is posted, a list type with ``data`` and
``count``). Response shapes are the CLI's ``--format json`` shapes (docs/cli.md,
docs/cascade.md); the models only describe them.

Enumerations (service kinds, asset types, region levels) come from the
ontology, the one source of those names.
"""

from __future__ import annotations

import dataclasses
from enum import Enum
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator
from pydantic_core import PydanticCustomError

from kg.analysis.whatif import EDIT_CLASSES, AddDependency
from kg.errors import ValidationError
from kg.live import parse_time
from kg.ontology import load_ontology

__all__ = [
    "MAX_SCENARIO_ITEMS",
    "AgencyPublic",
    "AgencyRef",
    "AssetPublic",
    "AssetType",
    "AssetsPublic",
    "AssetsSummary",
    "BandPublic",
    "BaselineErrorPublic",
    "CascadePublic",
    "CascadeRequest",
    "CausePublic",
    "CriticalityItem",
    "CriticalityPublic",
    "CrossingPublic",
    "CurvePointPublic",
    "CypherPublic",
    "CypherRequest",
    "DependenciesPublic",
    "DependentsPublic",
    "ExposureSummary",
    "FailPublic",
    "FailRequest",
    "FailurePublic",
    "Health",
    "ImpactPublic",
    "LoadPublic",
    "MonteCarloPublic",
    "NaivePublic",
    "OutsideDependents",
    "PathPublic",
    "PathsPublic",
    "PlanPublic",
    "PlanRequest",
    "ProbabilityPublic",
    "RegionPublic",
    "RepairPublic",
    "RestorationPublic",
    "RestorationRequest",
    "RobustnessPointPublic",
    "RobustnessPublic",
    "RobustnessRequest",
    "ScenarioRequest",
    "ServiceKind",
    "SpofPublic",
    "StatsPublic",
    "SummaryPublic",
    "TraceItem",
    "UnfinishedLoadPublic",
    "WhatIfChangesPublic",
    "WhatIfImpactPublic",
    "WhatIfPublic",
    "WhatIfRequest",
]

_ONTOLOGY = load_ontology()
ServiceKind = Enum("ServiceKind", {k: k for k in _ONTOLOGY.service_kinds}, type=str)  # type: ignore[misc]
"""What flows along a dependency (power, water, ...), from the ontology."""
AssetType = Enum("AssetType", {t: t for t in sorted(_ONTOLOGY.asset_types)}, type=str)  # type: ignore[misc]
"""An asset class or a class above it (``PowerAsset`` matches every power asset)."""

MAX_SCENARIO_ITEMS = 10_000
"""Most initial failures or hazard zones in one cascade request."""


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


# ---------------------------------------------------------------- health and stats
class UnfinishedLoadPublic(BaseModel):
    """A load that began writing and has not finished (Neo4j): the store may hold only part of it."""

    state: Literal["running", "stalled"] = Field(
        description="running: it committed a batch within the last minute; stalled: it has most likely stopped, "
                    "and running the same load again completes it.")
    by: str = Field(description="Who ran it: user@host (pid N).")
    what: str = Field(description="Its row count and sources.")
    started: str = Field(description="When it began writing (ISO 8601, the store's clock).")
    updated: str = Field(description="When it last committed a batch.")
    rows: int
    written: int = Field(description="Rows committed by `updated`.")


class Health(BaseModel):
    """Liveness or readiness."""

    status: Literal["ok", "unavailable"]
    store: str | None = Field(None, description="The store's scheme (sqlite, bolt, neo4j), for readiness.")
    version: int | None = Field(None, description="The store's version counter, for readiness.")
    reason: str | None = Field(
        None, description="Why the store is unavailable: unreachable, missing, corrupt, misconfigured, read-only, "
                          "full, busy or timeout (the server's log has the details).")
    detail: str | None = Field(None, description="The reason, for people.")
    read_only: bool | None = Field(None, description="The store can be read but not loaded into.")
    unfinished_load: UnfinishedLoadPublic | None = Field(
        None, description="A load that has not finished: answers may miss part of the graph until it completes.")


class StatsPublic(BaseModel):
    """What the store holds: ``kg stats --format json``."""

    store: str
    version: int
    counts: dict[str, int] = Field(description="Rows per table.")
    assets_by_type: dict[str, int]
    unfinished_load: UnfinishedLoadPublic | None = Field(
        None, description="A load that has not finished: the counts may include only part of it.")


# ---------------------------------------------------------------- assets
class AssetPublic(BaseModel):
    """One asset as stored: the columns of assets.csv, extra columns in ``props``."""

    id: str
    type: str
    name: str | None = None
    region: str | None = None
    agency: str | None = None
    lat: float | None = None
    lon: float | None = None
    population: int = 0
    repair_hours: float | None = Field(None, description="Hours one crew needs to repair it (restoration "
                                                         "planning); null: its type's default.")
    props: dict[str, Any] = Field(default_factory=dict)


class AssetsPublic(BaseModel):
    """A page of assets sorted by id; pass ``next`` as ``cursor`` for the following page."""

    data: list[AssetPublic]
    count: int = Field(description="Assets on this page.")
    next: str | None = Field(description="The cursor of the next page, or null on the last page.")


class TraceItem(BaseModel):
    """An asset reached by a trace, ``depth`` DEPENDS_ON hops away (the fewest)."""

    id: str
    type: str
    depth: int


class DependentsPublic(BaseModel):
    """Every asset with a DEPENDS_ON path to ``id``, sorted by depth then id."""

    id: str
    dependents: list[TraceItem]


class DependenciesPublic(BaseModel):
    """Every asset ``id`` has a DEPENDS_ON path to, sorted by depth then id."""

    id: str
    dependencies: list[TraceItem]


class PathPublic(BaseModel):
    """One dependency chain: ``assets`` from the dependent down to the provider, ``kinds`` per hop."""

    assets: list[str]
    kinds: list[list[str]]


class PathsPublic(BaseModel):
    """The shortest chains by which ``dependent`` depends on ``provider``, shortest first (``kg paths``)."""

    provider: str
    dependent: str
    paths: list[PathPublic]


class SpofPublic(BaseModel):
    """Assets whose lone failure makes ``id`` fail (cascade semantics), sorted by depth then id."""

    id: str
    single_points_of_failure: list[TraceItem]


# ---------------------------------------------------------------- cascades
class FailRequest(_Strict):
    """An initial failure: asset ``id`` fails at ``time`` hours."""

    id: str = Field(min_length=1)
    time: float = Field(0.0, ge=0, allow_inf_nan=False, description="Hours from the start, >= 0.")


def _one_of(*extra_with_fail: str) -> dict[str, Any]:
    """JSON Schema: exactly one of ``fail`` / ``hazard_zones``; ``extra_with_fail`` only go with hazard zones."""
    excluded = [{"required": ["hazard_zones"]}, *({"required": [name]} for name in extra_with_fail)]
    return {"oneOf": [{"required": ["fail"], "not": {"anyOf": excluded}},
                      {"required": ["hazard_zones"], "not": {"required": ["fail"]}}]}


def _no_default(schema: dict[str, Any]) -> None:
    schema.pop("default", None)


class ScenarioRequest(_Strict):
    """One deterministic scenario: initial failures (``fail``) or hazard zones (``hazard_zones``)."""

    model_config = ConfigDict(extra="forbid", json_schema_extra=_one_of())

    # Optional but never null: absent is None, an explicit null is refused (the schema has no null either).
    # A plain type with a None default, not `X | None`, so errors name the field without union branches.
    fail: Annotated[list[FailRequest], Field(min_length=1, max_length=MAX_SCENARIO_ITEMS,
                                             json_schema_extra=_no_default)] = None  # type: ignore[assignment]
    hazard_zones: Annotated[list[str], Field(min_length=1, max_length=MAX_SCENARIO_ITEMS,
                                             json_schema_extra=_no_default)] = None  # type: ignore[assignment]
    horizon_hours: float | None = Field(None, ge=0, allow_inf_nan=False,
                                        description="Report failures up to this hour; null or absent: no limit.")

    @model_validator(mode="after")
    def _one_scenario(self) -> ScenarioRequest:
        sent = self.model_fields_set
        if ("fail" in sent) == ("hazard_zones" in sent):
            if "fail" in sent:
                raise PydanticCustomError("scenario", "{name} cannot be combined with fail", {"name": "hazard_zones"})
            raise PydanticCustomError("scenario", "send either fail (initial failures) or hazard_zones")
        return self


class CascadeRequest(ScenarioRequest):
    """A scenario; with ``hazard_zones``, ``samples`` (and ``seed``) ask for Monte Carlo."""

    model_config = ConfigDict(extra="forbid", json_schema_extra=_one_of("samples", "seed"))

    samples: Annotated[int, Field(ge=1, description="Monte Carlo samples (with hazard_zones).",
                                  json_schema_extra=_no_default)] = None  # type: ignore[assignment]
    # 2**53 - 1: the largest integer every JSON client carries exactly.
    seed: Annotated[int, Field(ge=0, le=2**53 - 1, description="Seed of the Monte Carlo sampling (default 0).",
                               json_schema_extra=_no_default)] = None  # type: ignore[assignment]

    @model_validator(mode="after")
    def _sampling_needs_hazards(self) -> CascadeRequest:
        if "fail" in self.model_fields_set:
            for name in ("samples", "seed"):
                if name in self.model_fields_set:
                    raise PydanticCustomError("scenario", "{name} cannot be combined with fail", {"name": name})
        return self


class FailPublic(BaseModel):
    id: str
    time: float


class CausePublic(BaseModel):
    """The dependency group whose loss failed the asset, and all its providers."""

    kind: str
    group: str
    providers: list[str]


class FailurePublic(BaseModel):
    """One failed asset; ``cause`` is null for an initial failure."""

    id: str
    type: str
    time: float
    cause: CausePublic | None
    regions: dict[str, str]
    agency: str | None
    population: int


class CrossingPublic(BaseModel):
    """The earliest time the cascade crosses from one region (at a level) or agency into another."""

    model_config = ConfigDict(populate_by_name=True)

    from_: str = Field(alias="from")
    to: str
    boundary: str = Field(description='"region:LEVEL" or "agency".')
    time: float


class BaselineErrorPublic(BaseModel):
    """A dependency group with no grounded source even before any failure (treated as supplied)."""

    id: str
    kind: str
    group: str
    providers: list[str]


class SummaryPublic(BaseModel):
    failed: int
    population: int
    agencies: int
    regions: dict[str, int] = Field(description="Distinct regions touched, per level.")


class CascadePublic(BaseModel):
    """A cascade (docs/cascade.md): failures sorted by time then id, crossings, totals."""

    initial: list[FailPublic]
    horizon_hours: float | None
    failures: list[FailurePublic]
    crossings: list[CrossingPublic]
    baseline_errors: list[BaselineErrorPublic]
    summary: SummaryPublic


class BandPublic(BaseModel):
    """Mean and 5th/95th percentiles over the Monte Carlo samples."""

    mean: float
    p5: float
    p95: float


class ImpactPublic(BaseModel):
    """Failed assets and population affected in one district (null: the whole city)."""

    district: str | None
    failed: BandPublic
    population: BandPublic


class ProbabilityPublic(BaseModel):
    id: str
    probability: float


class MonteCarloPublic(BaseModel):
    """A hazard scenario sampled ``samples`` times: the impact distribution and each asset's failure probability."""

    zones: list[str]
    samples: int
    seed: int
    horizon_hours: float | None
    total: ImpactPublic
    districts: list[ImpactPublic]
    probability: list[ProbabilityPublic] = Field(description="Assets that failed in some sample, most likely first.")


NOT_BLANK = r"[^\s\u0085\ufeff]"
r"""A pattern for text holding something besides white space, read alike by every regex engine on the way.

``\S`` alone is not: the schema's readers (ECMA-262: U+FEFF is white space, U+0085 is not) and the
server's validator (Unicode's White_Space: the other way round) disagree on two characters, so a
client could send what the schema allows and be refused. Naming both makes the sets equal.
"""

# ---------------------------------------------------------------- what-if
MAX_EDITS = 1_000
"""Most edits in one what-if request."""


def _edit_schema() -> dict[str, Any]:
    """JSON Schema of one edit, from the edit classes of kg.analysis.whatif (their fields are the contract)."""
    text = {"type": "string", "pattern": NOT_BLANK}
    hours = {"type": "number", "minimum": 0}
    shapes = []
    for op, cls in EDIT_CLASSES.items():
        fields = dataclasses.fields(cls)
        props: dict[str, Any] = {"op": {"const": op}}
        for f in fields:
            value: dict[str, Any] = hours if f.name in ("hours", "buffer_hours") else dict(text)
            if f.name == "hazard":
                value = {"type": "string", "enum": sorted(_ONTOLOGY.hazard_types)}
            if f.name == "kind" and cls is AddDependency:
                value = {"type": "string", "enum": list(_ONTOLOGY.service_kinds)}
            props[f.name] = value if f.default is dataclasses.MISSING else {"anyOf": [value, {"type": "null"}]}
        required = ["op", *(f.name for f in fields if f.default is dataclasses.MISSING)]
        shapes.append({"type": "object", "title": op, "properties": props, "required": required,
                       "additionalProperties": False})
    return {"oneOf": shapes}


class WhatIfRequest(_Strict):
    """Edits (docs/whatif.md) and one scenario: initial failures (``fail``) or hazard zones (``hazard``)."""

    model_config = ConfigDict(extra="forbid", json_schema_extra={"oneOf": [
        {"required": ["fail"], "not": {"required": ["hazard"]}},
        {"required": ["hazard"], "not": {"required": ["fail"]}}]})

    # Checked by kg (parse_edits) so that the CLI and the API name the same paths (edits[0].hours).
    edits: list[dict[str, Any]] = Field(max_length=MAX_EDITS, json_schema_extra={"items": _edit_schema()},
                                        description="Applied in order to a copy of the graph; never stored.")
    fail: Annotated[list[FailRequest], Field(min_length=1, max_length=MAX_SCENARIO_ITEMS,
                                             json_schema_extra=_no_default)] = None  # type: ignore[assignment]
    hazard: Annotated[list[str], Field(min_length=1, max_length=MAX_SCENARIO_ITEMS, description="Hazard zone ids.",
                                       json_schema_extra=_no_default)] = None  # type: ignore[assignment]
    horizon_hours: float | None = Field(None, ge=0, allow_inf_nan=False,
                                        description="Count failures up to this hour; null or absent: no limit.")

    @model_validator(mode="after")
    def _one_scenario(self) -> WhatIfRequest:
        sent = self.model_fields_set
        if ("fail" in sent) == ("hazard" in sent):
            if "fail" in sent:
                raise PydanticCustomError("scenario", "{name} cannot be combined with fail", {"name": "hazard"})
            raise PydanticCustomError("scenario", "send either fail (initial failures) or hazard (zone ids)")
        return self


class FromToPublic(BaseModel):
    """An asset failing in both cascades, at another time (hours)."""

    model_config = ConfigDict(populate_by_name=True)

    id: str
    from_: float = Field(alias="from")
    to: float


class WhatIfChangesPublic(BaseModel):
    """Saved: fail before, not after; new: the reverse; delayed / earlier: fail in both, later / sooner."""

    saved: list[str]
    new: list[str]
    delayed: list[FromToPublic]
    earlier: list[FromToPublic]


class WhatIfImpactPublic(BaseModel):
    """Whom one kind of change concerns."""

    assets: int
    population: int
    agencies: list[str]
    districts: list[str]


class WhatIfPublic(BaseModel):
    """A scenario before (``baseline``) and after (``modified``) the edits, and what changed for whom."""

    edits: list[dict[str, Any]] = Field(description="The edits as applied (group filled in).")
    baseline: CascadePublic
    modified: CascadePublic
    changes: WhatIfChangesPublic
    impact: dict[str, WhatIfImpactPublic] = Field(description="saved, new, delayed, earlier: whom each concerns.")


# ---------------------------------------------------------------- investment plans
MAX_CANDIDATES = 500
"""Most candidates in one plan request."""


class CandidateRequest(_Strict):
    """A project: an id, a cost (> 0) and the what-if edits it makes."""

    id: str = Field(min_length=1, pattern=NOT_BLANK)
    cost: float = Field(gt=0, allow_inf_nan=False)
    edits: list[dict[str, Any]] = Field(max_length=MAX_EDITS, json_schema_extra={"items": _edit_schema()})
    name: str | None = None


class PlanScenarioRequest(_Strict):
    """One explicit scenario with its probability: initial failures (``fail``) or hazard zones (``hazard``)."""

    model_config = ConfigDict(extra="forbid", json_schema_extra={"oneOf": [
        {"required": ["fail"], "not": {"required": ["hazard"]}},
        {"required": ["hazard"], "not": {"required": ["fail"]}}]})

    id: str | None = Field(None, min_length=1)
    probability: float = Field(gt=0, le=1, allow_inf_nan=False)
    fail: Annotated[list[FailRequest], Field(min_length=1, max_length=MAX_SCENARIO_ITEMS,
                                             json_schema_extra=_no_default)] = None  # type: ignore[assignment]
    hazard: Annotated[list[str], Field(min_length=1, max_length=MAX_SCENARIO_ITEMS,
                                       json_schema_extra=_no_default)] = None  # type: ignore[assignment]

    @model_validator(mode="after")
    def _one_kind(self) -> PlanScenarioRequest:
        if ("fail" in self.model_fields_set) == ("hazard" in self.model_fields_set):
            raise PydanticCustomError("scenario", "send either fail (initial failures) or hazard (zone ids)")
        return self


_SCENARIO_SETS = ("scenarios", "hazard", "n_minus_one")


def _one_scenario_set() -> dict[str, Any]:
    """JSON Schema: exactly one scenario set; ``samples`` and ``seed`` only with ``hazard``."""
    shapes = []
    for name in _SCENARIO_SETS:
        others: list[dict[str, Any]] = [{"required": [o]} for o in _SCENARIO_SETS if o != name]
        if name != "hazard":
            others += [{"required": ["samples"]}, {"required": ["seed"]}]
        shapes.append({"required": [name], "not": {"anyOf": others}})
    return {"oneOf": shapes}


class PlanRequest(_Strict):
    """Candidates, a budget and one scenario set: ``scenarios``, ``hazard`` (Monte Carlo) or ``n_minus_one``."""

    model_config = ConfigDict(extra="forbid", json_schema_extra=_one_scenario_set())

    candidates: list[CandidateRequest] = Field(min_length=1, max_length=MAX_CANDIDATES)
    budget: float = Field(ge=0, allow_inf_nan=False)
    scenarios: Annotated[list[PlanScenarioRequest], Field(min_length=1, max_length=MAX_SCENARIO_ITEMS,
                                                          json_schema_extra=_no_default)] = None  # type: ignore[assignment]
    hazard: Annotated[list[str], Field(min_length=1, max_length=MAX_SCENARIO_ITEMS, description="Hazard zone ids.",
                                       json_schema_extra=_no_default)] = None  # type: ignore[assignment]
    samples: Annotated[int, Field(ge=1, description="Monte Carlo samples (with hazard; default 1000).",
                                  json_schema_extra=_no_default)] = None  # type: ignore[assignment]
    seed: Annotated[int, Field(ge=0, le=2**53 - 1, description="Seed of the samples (default 0).",
                               json_schema_extra=_no_default)] = None  # type: ignore[assignment]
    n_minus_one: Annotated[list[AssetType], Field(min_length=1, max_length=100,
                                                  json_schema_extra=_no_default)] = None  # type: ignore[assignment]
    objective: Literal["population", "people_hours"] = "population"
    horizon_hours: float | None = Field(None, ge=0, allow_inf_nan=False,
                                        description="Count failures up to this hour (the population objective; "
                                                    "people_hours runs until every repair ends and ignores it).")
    greedy: Literal["lazy", "plain"] = "lazy"
    local_improvement: bool = True

    @model_validator(mode="after")
    def _one_scenario_set(self) -> PlanRequest:
        sent = [name for name in _SCENARIO_SETS if name in self.model_fields_set]
        if len(sent) != 1:
            if sent:
                raise PydanticCustomError("scenario", "{name} cannot be combined with " + sent[0], {"name": sent[1]})
            raise PydanticCustomError("scenario", "send one scenario set: scenarios, hazard or n_minus_one")
        for name in ("samples", "seed"):
            if name in self.model_fields_set and sent[0] != "hazard":
                raise PydanticCustomError("scenario", "{name} goes with hazard", {"name": name})
        return self


class PlanStepPublic(BaseModel):
    """One funded candidate, in rank order, with what it adds to the steps before it."""

    rank: int
    id: str
    cost: float
    marginal_benefit: float
    benefit_per_cost: float
    cumulative_cost: float
    cumulative_objective: float


class PlanCandidatePublic(BaseModel):
    id: str
    cost: float
    chosen: bool
    benefit_alone: float


class PlanPublic(BaseModel):
    """A plan (docs/whatif.md): the objective before and after, the ranked steps, every candidate's fate."""

    objective: str
    horizon_hours: float | None
    budget: float
    scenarios: dict[str, Any] = Field(description="kind, count, total_probability and how they were made.")
    baseline: float
    final: float
    spent: float
    steps: list[PlanStepPublic]
    candidates: list[PlanCandidatePublic]
    method: dict[str, Any] = Field(description="greedy (lazy or plain), local_moves, evaluations.")


# ---------------------------------------------------------------- criticality
class CriticalityItem(BaseModel):
    """One asset's lone-failure cascade and its rank (city-wide, or within its district)."""

    rank: int
    id: str
    type: str
    district: str | None
    failed: int = Field(description="Assets that fail, itself included.")
    population: int
    districts: int
    agencies: int


class CriticalityPublic(BaseModel):
    """Assets ranked by the cascade their lone failure causes, as ``kg criticality --format json``."""

    by: Literal["district"] | None
    assets: list[CriticalityItem]


# ---------------------------------------------------------------- robustness
class RobustnessRequest(BaseModel):
    """A robustness curve to compute, as ``kg robustness``'s options."""

    model_config = ConfigDict(extra="forbid")

    model: Literal["supply", "mutual-giant"] = Field(
        "supply", description="supply: round one's cascade; mutual-giant: interdependent percolation over the sectors.")
    attack: Literal["random", "degree", "criticality"] = Field(
        "random", description="random orders; or most dependencies / most critical first (deterministic, one run).")
    steps: int = Field(100, ge=1, description="Points at removed fractions 0, 1/steps, ..., 1.")
    samples: int = Field(1, ge=1, description="Random orders averaged (the deterministic attacks run once).")
    # 2**53 - 1: the largest integer every JSON client carries exactly.
    seed: int = Field(0, ge=0, le=2**53 - 1, description="Seed of the random orders.")


class RobustnessPointPublic(BaseModel):
    """One point: the fraction of assets removed, and the mean fractions of assets functional and people served."""

    removed: float
    functional: float
    population: float


class RobustnessPublic(BaseModel):
    """A robustness curve, as ``kg robustness --format json``."""

    model: Literal["supply", "mutual-giant"]
    attack: Literal["random", "degree", "criticality"]
    points: list[RobustnessPointPublic] = Field(description="steps + 1 points, removed = i / steps.")
    critical_removed: float = Field(description="removed just before the largest drop of functional.")
    R: float = Field(description="Mean of functional over the points (Schneider et al., PNAS 2011).")


# ---------------------------------------------------------------- regions and agencies
class AssetsSummary(BaseModel):
    """How many assets, their population, and how many of each type."""

    count: int
    population: int
    by_type: dict[str, int]


class ExposureSummary(BaseModel):
    """Assets exposed to one hazard through the zones listed."""

    hazard: str
    zones: list[str]
    assets: int
    population: int
    max_intensity: float


class RegionPublic(BaseModel):
    """A region with a summary of the assets in it (at any lower level) and their hazard exposure."""

    id: str
    level: str
    name: str | None = None
    parent: str | None = None
    props: dict[str, Any] = Field(default_factory=dict)
    assets: AssetsSummary
    exposure: list[ExposureSummary] = Field(description="Per hazard, sorted by exposed assets, most first.")


class AgencyRef(BaseModel):
    """Another agency and how many of its assets depend directly on this agency's assets."""

    agency: str | None = Field(description="The agency id; null for assets of no agency.")
    name: str | None = None
    assets: int
    kinds: list[str]


class OutsideDependents(BaseModel):
    """Assets outside the agency that depend directly on one of its assets."""

    assets: int
    by_agency: list[AgencyRef]


class AgencyPublic(BaseModel):
    """An agency, a summary of its assets, and who outside it depends on them."""

    id: str
    name: str | None = None
    level: str | None = None
    parent: str | None = None
    jurisdiction: str | None = None
    crews: int | None = Field(None, description="Repair crews it can send at once; null: planned as 1.")
    props: dict[str, Any] = Field(default_factory=dict)
    assets: AssetsSummary
    dependents_outside: OutsideDependents


# ---------------------------------------------------------------- cypher
class CypherRequest(_Strict):
    """A read-only Cypher statement and its parameters."""

    # No maxLength: the body size limit bounds it (and a character count is ambiguous across clients
    # for astral characters, which JSON spells as two escapes).
    query: str = Field(min_length=1)
    params: dict[str, Any] = Field(default_factory=dict, description="Query parameters ($name); integers 64-bit.")

    @field_validator("params")
    @classmethod
    def _cypher_values(cls, value: dict[str, Any]) -> dict[str, Any]:
        _check_cypher_value(value, "params")
        return value


_INT64 = (-(2**63), 2**63 - 1)


def _check_cypher_value(value: Any, where: str) -> None:
    """Cypher integers are 64-bit: a larger JSON integer is bad input, not a driver crash."""
    if isinstance(value, bool):
        return
    if isinstance(value, int) and not _INT64[0] <= value <= _INT64[1]:
        raise ValueError(f"{where}: {value} does not fit in a 64-bit Cypher integer")
    if isinstance(value, dict):
        for k, v in value.items():
            _check_cypher_value(v, f"{where}.{k}")
    elif isinstance(value, list):
        for i, v in enumerate(value):
            _check_cypher_value(v, f"{where}[{i}]")


class CypherPublic(BaseModel):
    """The rows of a read-only query (at most the configured row limit)."""

    columns: list[str]
    rows: list[dict[str, Any]] = Field(description="One object per row, keyed by column.")
    truncated: bool = Field(description="True when more rows existed than the row limit.")


# ---------------------------------------------------------------- loads
class LoadPublic(BaseModel):
    """What a load wrote (rows per table) and the store's new version, as ``kg load --format json``."""

    store: str
    loaded: dict[str, int]
    version: int
    warnings: list[str]


# ---------------------------------------------------------------- restorations
def _date_time(schema: dict[str, Any]) -> None:
    _no_default(schema)
    schema["format"] = "date-time"


_DAMAGE = ("fail", "hazard_zones", "live")
"""The ways a restoration request gives the damage: exactly one is sent."""


def _one_damage() -> dict[str, Any]:
    """JSON Schema: exactly one of :data:`_DAMAGE`; ``as_of`` only with ``live``."""
    def others(way: str) -> list[dict[str, Any]]:
        return [{"required": [other]} for other in (*_DAMAGE, "as_of") if other != way and
                not (way == "live" and other == "as_of")]
    return {"oneOf": [{"required": [way], "not": {"anyOf": others(way)}} for way in _DAMAGE]}


class RestorationRequest(_Strict):
    """The damaged assets (``fail``: their ids, ``hazard_zones``: what a hazard damages, or ``live``: what the
    status events say is down at ``as_of``) and the resources."""

    model_config = ConfigDict(extra="forbid", json_schema_extra=_one_damage())

    fail: Annotated[list[Annotated[str, Field(min_length=1)]], Field(
        min_length=1, max_length=MAX_SCENARIO_ITEMS, description="Ids of the damaged assets.",
        json_schema_extra=_no_default)] = None  # type: ignore[assignment]
    hazard_zones: Annotated[list[str], Field(
        min_length=1, max_length=MAX_SCENARIO_ITEMS, json_schema_extra=_no_default,
        description="Hazard zone ids: their exposed assets at or over their fragility threshold are damaged.",
    )] = None  # type: ignore[assignment]
    live: Annotated[Literal[True], Field(
        json_schema_extra=_no_default,
        description="true: the damaged assets are those down at as_of, by the status events (docs/live.md).",
    )] = None  # type: ignore[assignment]
    as_of: Annotated[str, Field(
        json_schema_extra=_date_time,
        description="With live: the time (ISO 8601 with offset); default now.")] = None  # type: ignore[assignment]
    repair_hours: dict[str, Annotated[float, Field(gt=0, allow_inf_nan=False)]] = Field(
        default_factory=dict, max_length=MAX_SCENARIO_ITEMS,
        description="Hours per asset id or asset type (an ontology class, covering its subclasses); "
                    "else the asset's repair_hours, else the ontology's default for its type.")
    crews: dict[str, Annotated[int, Field(ge=0)]] = Field(
        default_factory=dict, max_length=MAX_SCENARIO_ITEMS,
        description="Crews per agency id; else the agency's crews, else 1.")
    method: Literal["heuristic", "exact"] = Field(
        "heuristic", description="heuristic (fast, never worse than the naive order) or exact (MILP on HiGHS).")
    # Optional but never null, like samples: absent is "as long as the request may run".
    time_limit: Annotated[float, Field(gt=0, allow_inf_nan=False, json_schema_extra=_no_default,
                                       description="Seconds the exact method may spend; at most, and by default, "
                                                   "this server's request time limit.")] = None  # type: ignore[assignment]

    @field_validator("as_of")
    @classmethod
    def _aware(cls, value: str) -> str:
        try:
            parse_time(value, "as_of")
        except ValidationError as exc:
            raise PydanticCustomError("time", exc.problems[0].message) from None
        return value

    @model_validator(mode="after")
    def _one_scenario(self) -> RestorationRequest:
        sent = [name for name in _DAMAGE if name in self.model_fields_set]
        if len(sent) != 1:
            if sent:
                raise PydanticCustomError("scenario", "{name} cannot be combined with {first}",
                                          {"name": sent[1], "first": sent[0]})
            raise PydanticCustomError("scenario", "send either fail (damaged asset ids), hazard_zones or live")
        if "as_of" in self.model_fields_set and sent != ["live"]:
            raise PydanticCustomError("scenario", "{name} is the time of live: add live: true", {"name": "as_of"})
        return self


class RepairPublic(BaseModel):
    """One repair: crews are numbered from 1 within each agency (``agency`` null: a crew of its own)."""

    id: str
    agency: str | None
    crew: int
    start: float
    end: float


class CurvePointPublic(BaseModel):
    """The city at ``time``: functional assets (a count) and the population they serve."""

    time: float
    functional: int
    population_served: int


class NaivePublic(BaseModel):
    """The naive order (each agency repairs its assets in id order), for comparison."""

    unserved_people_hours: float


class RestorationPublic(BaseModel):
    """A restoration plan (docs/restoration.md): the schedule, the curve, and what it costs in people-hours."""

    damaged: list[str]
    schedule: list[RepairPublic]
    curve: list[CurvePointPublic]
    unserved_people_hours: float
    method: str
    optimal: bool
    naive: NaivePublic
    gap: float | None
    time_limit: float | None
