"""A synthetic Chongqing: a plausible, deterministic megacity for demos, tests and benchmarks.

**The data is synthetic.** District names are real Chongqing districts and
agency names follow the city's real bureaus, but every asset, location,
population figure, dependency and hazard zone is invented by a seeded random
generator. Never use it to make decisions about the real city.

The topology follows how city systems really lean on each other: power
plants feed transmission lines, which feed substations, then feeders, then
consumers; water runs from sources through treatment plants and pumping
stations (which need power) to water mains; data centers (power with a UPS
buffer, cooling water) feed telecom exchanges, which feed cell towers (battery
buffers); hospitals have generator and water-tank buffers; metro lines need
power and telecom control. A share of consumers are fed twice (redundancy) and
a few feeds cross district lines. Flood zones follow the Yangtze and Jialing
rivers; landslide zones lie on steep slopes.

Examples
--------
>>> rows = city_rows(300, seed=1)
>>> len(rows["assets"])
300
>>> city_rows(300, seed=1) == rows
True
"""

from __future__ import annotations

import csv
import gc
import json
import random
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field
from operator import itemgetter
from pathlib import Path
from typing import Any

import shapely

from kg.model import GEOMETRY, PROPS_FIELD
from kg.schema import TABLES, Row

__all__ = ["DISTRICTS", "city_rows", "write_bundle", "write_jsonl"]

# (id, English name, Chinese name, lat, lon, riverside: Yangtze/Jialing, hilly)
DISTRICTS: tuple[tuple[str, str, str, float, float, str, bool], ...] = (
    ("yuzhong", "Yuzhong", "渝中区", 29.556, 106.568, "both", True),
    ("jiangbei", "Jiangbei", "江北区", 29.606, 106.574, "both", False),
    ("nanan", "Nan'an", "南岸区", 29.523, 106.644, "Yangtze", True),
    ("shapingba", "Shapingba", "沙坪坝区", 29.541, 106.458, "Jialing", True),
    ("jiulongpo", "Jiulongpo", "九龙坡区", 29.502, 106.511, "Yangtze", False),
    ("dadukou", "Dadukou", "大渡口区", 29.484, 106.482, "Yangtze", False),
    ("beibei", "Beibei", "北碚区", 29.805, 106.397, "Jialing", True),
    ("yubei", "Yubei", "渝北区", 29.718, 106.631, "", True),
    ("banan", "Ba'nan", "巴南区", 29.402, 106.540, "Yangtze", True),
)

# (key, municipal bureau or operator, name of its district branch after the district's name)
BUREAUS: tuple[tuple[str, str, str], ...] = (
    ("power", "State Grid Chongqing Electric Power", "Power Supply Co."),
    ("water", "Chongqing Water Group", "Water Co."),
    ("gas", "Chongqing Gas Group", "Gas Co."),
    ("telecom", "Chongqing Communications Administration", "Telecom Office"),
    ("transport", "Chongqing Municipal Transportation Commission", "Transport Bureau"),
    ("metro", "Chongqing Rail Transit Group", "Metro Operations"),
    ("drainage", "Chongqing Urban Management Bureau", "Urban Management Bureau"),
    ("health", "Chongqing Municipal Health Commission", "Health Commission"),
    ("emergency", "Chongqing Emergency Management Bureau", "Emergency Management Bureau"),
    ("fire", "Chongqing Fire and Rescue Corps", "Fire and Rescue Brigade"),
    ("education", "Chongqing Municipal Education Commission", "Education Commission"),
    ("housing", "Chongqing Housing and Urban-Rural Development Commission", "Housing Commission"),
)

_AGENCY_OF_TYPE = {
    "PowerPlant": "power", "TransmissionLine": "power", "Substation": "power", "DistributionFeeder": "power",
    "WaterSource": "water", "WaterTreatmentPlant": "water", "PumpingStation": "water", "WaterMain": "water",
    "Reservoir": "water", "GasSource": "gas", "GasStation": "gas", "DataCenter": "telecom",
    "TelecomExchange": "telecom", "CellTower": "telecom", "Road": "transport", "Bridge": "transport",
    "Tunnel": "transport", "Airport": "transport", "Port": "transport", "MetroLine": "metro",
    "MetroStation": "metro", "DrainagePumpStation": "drainage", "FloodGate": "drainage", "Hospital": "health",
    "Clinic": "health", "EmergencyCommandCenter": "emergency", "Shelter": "emergency", "FireStation": "fire",
    "School": "education", "GovernmentOffice": "emergency", "ResidentialArea": "housing",
}
# Share of all assets per type (ResidentialArea takes what is left) and the minimum count.
_MIX: tuple[tuple[str, float, int], ...] = (
    ("PowerPlant", 0.0005, 3), ("TransmissionLine", 0.002, 4), ("Substation", 0.012, 6),
    ("DistributionFeeder", 0.08, 9), ("WaterSource", 0.0005, 2), ("WaterTreatmentPlant", 0.001, 2),
    ("PumpingStation", 0.01, 4), ("WaterMain", 0.02, 6), ("GasSource", 0.0003, 1), ("GasStation", 0.003, 2),
    ("DataCenter", 0.0005, 2), ("TelecomExchange", 0.003, 3), ("CellTower", 0.11, 9),
    ("Road", 0.04, 3), ("Bridge", 0.008, 2), ("Tunnel", 0.004, 1), ("MetroLine", 0.0004, 1),
    ("MetroStation", 0.01, 2), ("Airport", 0.0, 1), ("Port", 0.0, 1), ("DrainagePumpStation", 0.01, 3),
    ("FloodGate", 0.004, 2), ("Hospital", 0.003, 2), ("Clinic", 0.02, 3), ("FireStation", 0.005, 2),
    ("EmergencyCommandCenter", 0.0, 1), ("Shelter", 0.01, 2), ("School", 0.04, 3),
    ("GovernmentOffice", 0.008, 2),
)
# People living in the nine central districts modelled (roughly the real figure), spread over residential areas.
_CORE_POPULATION = 10_000_000
_LAYOUT: dict[str, tuple[str, ...]] = {
    "regions": ("id", "level", "name", "parent", "props"),
    "agencies": ("id", "name", "level", "parent", "jurisdiction", "crews", "props"),
    "assets": ("id", "type", "name", "region", "agency", "lat", "lon", "population", "repair_hours", "props"),
    "hazard_zones": ("id", "hazard", "name", "annual_probability", "region", "props"),
    "dependencies": ("dependent", "provider", "kind", "group", "buffer_hours"),
    "exposures": ("asset", "zone", "intensity"),
    "fragilities": ("hazard", "threshold", "type", "asset", "beta"),
}
"""The order in which this generator writes each table's values (:func:`city_rows` hands them on in the
schema's order): the tuples below are written in it."""
if list(_LAYOUT) != list(TABLES) or any(sorted(_LAYOUT[t]) != sorted(TABLES[t].columns) for t in TABLES):
    raise RuntimeError("kg.synth's _LAYOUT no longer has the tables and columns of kg.schema")


def _reader(table: str, *columns: str) -> Callable[[tuple[Any, ...]], Any]:
    """Read ``columns`` of a row this generator wrote (in :data:`_LAYOUT` order), by name."""
    return itemgetter(*(_LAYOUT[table].index(c) for c in columns))

# Types spread over the whole city rather than placed per community.
_CITYWIDE = {"PowerPlant", "TransmissionLine", "WaterSource", "WaterTreatmentPlant", "GasSource", "DataCenter",
             "MetroLine", "Airport", "Port", "EmergencyCommandCenter"}


@dataclass
class _City:
    rng: random.Random
    rows: dict[str, list[tuple[Any, ...]]] = field(default_factory=lambda: {t: [] for t in _LAYOUT})
    """Rows per table, their values in :data:`_LAYOUT` order."""
    by_type: dict[str, list[int]] = field(default_factory=lambda: defaultdict(list))
    # pools[type][district] -> asset indexes; local[type][community] -> asset indexes
    pools: dict[str, dict[str, list[int]]] = field(default_factory=lambda: defaultdict(lambda: defaultdict(list)))
    local: dict[str, dict[str, list[int]]] = field(default_factory=lambda: defaultdict(lambda: defaultdict(list)))
    asset_district: list[str] = field(default_factory=list)
    asset_community: list[str] = field(default_factory=list)
    communities: list[tuple[str, str, float, float]] = field(default_factory=list)  # id, district, lat, lon

    def asset_id(self, i: int) -> str:
        return str(self.rows["assets"][i][0])


def _regions(city: _City, assets: int) -> None:
    rng = city.rng
    regions = city.rows["regions"]
    regions.append(("chongqing", "city", "Chongqing 重庆", None, {"population_total": "32000000"}))
    communities_total = max(len(DISTRICTS) * 2, assets // 120)
    per_district = max(2, communities_total // len(DISTRICTS))
    subs_per_district = max(1, min(30, round(per_district ** 0.5)))
    for did, name, zh, lat, lon, river, hilly in DISTRICTS:
        regions.append((did, "district", f"{name} {zh}", "chongqing",
                        {"river": river or "none", "hilly": str(hilly).lower()}))
        for s in range(subs_per_district):
            sid = f"{did}-s{s + 1:02d}"
            slat, slon = lat + rng.gauss(0, 0.03), lon + rng.gauss(0, 0.03)
            regions.append((sid, "subdistrict", f"{name} Subdistrict {s + 1}", did, None))
            for c in range(max(1, per_district // subs_per_district)):
                cid = f"{sid}-c{c + 1:03d}"
                regions.append((cid, "community", f"{name} S{s + 1} Community {c + 1}", sid, None))
                city.communities.append((cid, did, slat + rng.gauss(0, 0.008), slon + rng.gauss(0, 0.008)))


def _agencies(city: _City) -> None:
    agencies = city.rows["agencies"]
    for key, name, _ in BUREAUS:
        agencies.append((f"cq-{key}", name, "city", None, "chongqing", None, None))
    for did, dname, *_ in DISTRICTS:
        for key, _, branch in BUREAUS:
            agencies.append((f"{did}-{key}", f"{dname} {branch}", "district", f"cq-{key}", did, None, None))


def _counts(assets: int) -> list[tuple[str, int]]:
    counts = [(t, max(minimum, round(assets * share))) for t, share, minimum in _MIX]
    used = sum(c for _, c in counts)
    if used + 10 > assets:
        raise ValueError(f"a synthetic city needs at least {used + 10} assets, got {assets}")
    return [*counts, ("ResidentialArea", assets - used)]


def _assets(city: _City, assets: int) -> None:
    rng = city.rng
    rows = city.rows["assets"]
    width = len(str(assets))
    counts = _counts(assets)
    residents = _CORE_POPULATION / dict(counts)["ResidentialArea"]  # average people per residential area
    in_district: dict[str, list[tuple[str, str, float, float]]] = defaultdict(list)
    for community in city.communities:
        in_district[community[1]].append(community)
    for asset_type, count in counts:
        for k in range(count):
            # the few big sites go round the districts in turn; the rest land anywhere
            big = asset_type in _CITYWIDE
            candidates = in_district[DISTRICTS[k % len(DISTRICTS)][0]] if big else city.communities
            cid, did, clat, clon = candidates[rng.randrange(len(candidates))]
            i = len(rows)
            population = 0
            if asset_type == "ResidentialArea":
                population = int(residents * rng.lognormvariate(-0.245, 0.7))  # mean factor 1
            elif asset_type in {"Hospital", "School", "GovernmentOffice", "Clinic"}:
                population = int(rng.lognormvariate(6.0, 0.8))
            name = f"{_label(asset_type)} {k + 1}"
            rows.append((f"{_prefix(asset_type)}-{i:0{width}d}", asset_type, name, cid,
                         f"{did}-{_AGENCY_OF_TYPE[asset_type]}", round(clat + rng.gauss(0, 0.004), 6),
                         round(clon + rng.gauss(0, 0.004), 6), population, None, None))
            city.by_type[asset_type].append(i)
            city.pools[asset_type][did].append(i)
            city.local[asset_type][cid].append(i)
            city.asset_district.append(did)
            city.asset_community.append(cid)


def _prefix(asset_type: str) -> str:
    return "".join(ch for ch in asset_type if ch.isupper()).lower()


def _label(asset_type: str) -> str:
    return "".join(f" {ch}" if ch.isupper() else ch for ch in asset_type).strip()


class _Wiring:
    """Picks providers near a consumer: same community, else same district, else anywhere."""

    def __init__(self, city: _City) -> None:
        self.city = city
        self.rng = city.rng
        self.deps = city.rows["dependencies"]
        self.neighbours = {d[0]: [o[0] for o in DISTRICTS if o[0] != d[0]] for d in DISTRICTS}

    def pick(self, provider_type: str, i: int, *, cross: float = 0.02) -> int:
        city, rng = self.city, self.rng
        district = city.asset_district[i]
        if rng.random() < cross:
            district = rng.choice(self.neighbours[district])
        else:
            local = city.local[provider_type].get(city.asset_community[i])
            if local:
                return rng.choice(local)
        pool = city.pools[provider_type].get(district) or city.by_type[provider_type]
        return rng.choice(pool)

    def feed(self, i: int, provider_type: str, kind: str, *, buffer: float = 0.0, redundancy: float = 0.0,
             group: str | None = None, cross: float = 0.02) -> None:
        first = self.pick(provider_type, i, cross=cross)
        providers = [first]
        if self.rng.random() < redundancy:
            second = self.pick(provider_type, i, cross=0.2)
            if second != first:
                providers.append(second)
        for p in providers:
            if p != i:
                self.deps.append((self.city.asset_id(i), self.city.asset_id(p), kind, group or kind, buffer))


def _dependencies(city: _City) -> None:
    w = _Wiring(city)
    rng = city.rng
    t = city.by_type
    for i in t["TransmissionLine"]:
        w.feed(i, "PowerPlant", "power", redundancy=0.8, cross=0.5)
    for i in t["Substation"]:
        w.feed(i, "TransmissionLine", "power", redundancy=0.5, cross=0.3)
    for i in t["DistributionFeeder"]:
        w.feed(i, "Substation", "power", redundancy=0.15, cross=0.03)
    for i in t["WaterTreatmentPlant"]:
        w.feed(i, "WaterSource", "water", redundancy=0.5, cross=0.5)
        w.feed(i, "Substation", "power", buffer=8, redundancy=0.9, cross=0.5)
    for i in t["PumpingStation"]:
        w.feed(i, "WaterTreatmentPlant", "water", redundancy=0.5, cross=0.3)
        w.feed(i, "DistributionFeeder", "power", buffer=2, redundancy=0.6)
    for i in t["WaterMain"]:
        w.feed(i, "PumpingStation", "water", redundancy=0.4)
    for i in t["GasStation"]:
        w.feed(i, "GasSource", "gas", cross=0.6)
        w.feed(i, "DistributionFeeder", "control", buffer=8)
    for i in t["DataCenter"]:
        w.feed(i, "Substation", "power", buffer=4, redundancy=0.7, cross=0.3)
        w.feed(i, "WaterMain", "cooling", buffer=8)
    for i in t["TelecomExchange"]:
        w.feed(i, "DataCenter", "telecom", redundancy=0.9, cross=0.5)
        w.feed(i, "DistributionFeeder", "power", buffer=6)
    for i in t["CellTower"]:
        w.feed(i, "TelecomExchange", "telecom", redundancy=0.2)
        w.feed(i, "DistributionFeeder", "power", buffer=3)
    for i in t["MetroLine"]:
        w.feed(i, "Substation", "power", redundancy=0.9, cross=0.5)
        w.feed(i, "TelecomExchange", "control", buffer=0.5, redundancy=0.5, cross=0.5)
    for i in t["MetroStation"]:
        w.feed(i, "MetroLine", "transport", cross=0.5)
        w.feed(i, "DistributionFeeder", "power", buffer=1)
    for i in t["Tunnel"]:
        w.feed(i, "DistributionFeeder", "power", buffer=2)
    for typ in ("Airport", "Port"):
        for i in t[typ]:
            w.feed(i, "Substation", "power", buffer=12, redundancy=0.9)
            w.feed(i, "TelecomExchange", "telecom", buffer=2)
    for i in t["DrainagePumpStation"] + t["FloodGate"]:
        w.feed(i, "DistributionFeeder", "power", buffer=0 if rng.random() < 0.6 else 2)
        w.feed(i, "CellTower", "control", buffer=1)
    for i in t["Hospital"]:
        w.feed(i, "DistributionFeeder", "power", buffer=24, redundancy=0.7)
        w.feed(i, "WaterMain", "water", buffer=12)
        w.feed(i, "CellTower", "telecom", buffer=2, redundancy=0.5)
    for i in t["Clinic"]:
        w.feed(i, "DistributionFeeder", "power", buffer=2)
        w.feed(i, "WaterMain", "water", buffer=4)
        w.feed(i, "Hospital", "medical", buffer=48, redundancy=0.3)
    for i in t["FireStation"]:
        w.feed(i, "DistributionFeeder", "power", buffer=12)
        w.feed(i, "TelecomExchange", "control", buffer=1, redundancy=0.3)
        w.feed(i, "Road", "transport", redundancy=0.6)
    for i in t["EmergencyCommandCenter"]:
        w.feed(i, "Substation", "power", buffer=48, redundancy=0.9)
        w.feed(i, "DataCenter", "telecom", buffer=4, redundancy=0.9, cross=0.5)
    for i in t["Shelter"] + t["School"] + t["GovernmentOffice"]:
        w.feed(i, "DistributionFeeder", "power", buffer=0 if rng.random() < 0.7 else 4)
        w.feed(i, "WaterMain", "water", buffer=6)
    for i in t["ResidentialArea"]:
        w.feed(i, "DistributionFeeder", "power", redundancy=0.1)
        w.feed(i, "WaterMain", "water", buffer=rng.choice((0, 2, 6, 12)))
        if rng.random() < 0.8:
            w.feed(i, "CellTower", "telecom", redundancy=0.6)
        if rng.random() < 0.3:
            w.feed(i, "GasStation", "gas", buffer=1)


_FLOOD = {"Substation": 0.6, "DistributionFeeder": 1.0, "PumpingStation": 0.8, "DrainagePumpStation": 1.6,
          "MetroStation": 0.5, "Hospital": 1.2, "TelecomExchange": 0.9, "CellTower": 2.0,
          "ResidentialArea": 1.5, "Road": 0.3, "Tunnel": 0.4, "WaterTreatmentPlant": 1.0, "DataCenter": 0.8,
          "School": 1.2, "Clinic": 0.9, "Shelter": 1.5, "FireStation": 1.0, "GasStation": 0.8}
_LANDSLIDE = {"Road": 0.3, "Bridge": 0.5, "TransmissionLine": 0.4, "WaterMain": 0.4, "ResidentialArea": 0.6,
              "CellTower": 0.5, "DistributionFeeder": 0.5, "Substation": 0.7, "School": 0.6}


def _hazards(city: _City) -> None:
    rng = city.rng
    zones, exposures = city.rows["hazard_zones"], city.rows["exposures"]
    where = {aid: (lon, lat) for aid, lon, lat in map(_reader("assets", "id", "lon", "lat"), city.rows["assets"])}
    exposed = _reader("exposures", "asset")
    by_community: dict[str, list[int]] = defaultdict(list)
    for i, cid in enumerate(city.asset_community):
        by_community[cid].append(i)
    district_communities: dict[str, list[str]] = defaultdict(list)
    for cid, did, _, _ in city.communities:
        district_communities[did].append(cid)
    for did, name, _zh, _lat, _lon, river, hilly in DISTRICTS:
        communities = district_communities[did]
        if river:
            rivers = "Yangtze and Jialing" if river == "both" else river
            riverside = communities[: max(1, len(communities) // 4)]
            for years, probability, depth in ((20, 0.05, 0.6), (50, 0.02, 1.2), (100, 0.01, 2.0)):
                zid = f"flood-{did}-{years}y"
                first = len(exposures)
                for cid in riverside:
                    for i in by_community[cid]:
                        if rng.random() < 0.5:
                            exposures.append((city.asset_id(i), zid, round(depth * rng.uniform(0.3, 1.6), 2)))
                outline = _outline(where, [exposed(e) for e in exposures[first:]])
                zones.append((zid, "Flood", f"{name} {rivers} riverside, {years}-year flood", probability, did,
                              {"return_period_years": str(years), **outline}))
        if hilly:
            zid = f"landslide-{did}"
            first = len(exposures)
            slopes = communities[-max(1, len(communities) // 6):]
            for cid in slopes:
                for i in by_community[cid]:
                    if rng.random() < 0.4:
                        exposures.append((city.asset_id(i), zid, round(rng.uniform(0.1, 1.0), 2)))
            zones.append((zid, "Landslide", f"{name} steep slopes", 0.03, did,
                          _outline(where, [exposed(e) for e in exposures[first:]]) or None))
    fragilities = city.rows["fragilities"]
    for hazard, table in (("Flood", _FLOOD), ("Landslide", _LANDSLIDE)):
        for asset_type, threshold in table.items():
            fragilities.append((hazard, threshold, asset_type, None, 0.4))


def _outline(where: dict[str, tuple[float, float]], exposed: list[str]) -> dict[str, str]:
    """A zone's polygon: the convex hull of its exposed assets, 300 m wider (``geometry``, WKT), if any."""
    if not exposed:
        return {}
    hull = shapely.MultiPoint([where[a] for a in exposed]).convex_hull.buffer(0.003, quad_segs=4)
    return {GEOMETRY: shapely.to_wkt(hull, rounding_precision=5)}


def city_rows(assets: int, seed: int = 7) -> dict[str, list[Row]]:
    """Generate a synthetic city of ``assets`` assets: rows per table, in :attr:`kg.schema.Table.columns` order."""
    city = _City(random.Random(seed))
    collecting = gc.isenabled()
    gc.disable()  # millions of small tuples and no cycles: the collector would only slow this down
    try:
        _regions(city, assets)
        _agencies(city)
        _assets(city, assets)
        _dependencies(city)
        _hazards(city)
    finally:
        if collecting:
            gc.enable()
    return {table: _in_schema_order(table, rows) for table, rows in city.rows.items()}


def _in_schema_order(table: str, rows: list[Row]) -> list[Row]:
    """``rows`` of ``table`` laid out as :data:`_LAYOUT` says, as the schema orders them (as they are if alike)."""
    layout, columns = _LAYOUT[table], TABLES[table].columns
    if layout == columns:
        return rows
    pick = itemgetter(*(layout.index(c) for c in columns))
    return [pick(r) for r in rows]


def _cell(value: Any) -> str:
    if value is None:
        return ""
    return str(value)


def write_bundle(rows: dict[str, list[tuple[Any, ...]]], out_dir: Path | str) -> list[Path]:
    """Write rows as a CSV bundle (one file per non-empty table, props as extra columns)."""
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    written = []
    for table, table_rows in rows.items():
        if not table_rows:
            continue
        spec = TABLES[table]
        columns = [c for c in spec.columns if c != PROPS_FIELD]
        values = spec.getter(*columns)  # every table has several columns besides props: a tuple
        props_of = spec.getter(PROPS_FIELD) if spec.has_props else lambda r: None
        extra = sorted({k for r in table_rows for k in props_of(r) or ()})
        path = out / f"{table}.csv"
        with path.open("w", newline="", encoding="utf-8") as f:
            writer = csv.writer(f)
            writer.writerow(columns + extra)
            for r in table_rows:
                props = props_of(r) or {}
                writer.writerow([_cell(v) for v in values(r)] + [_cell(props.get(k)) for k in extra])
        written.append(path)
    return written


def write_jsonl(rows: dict[str, list[tuple[Any, ...]]], path: Path | str) -> Path:
    """Write rows as one JSON Lines file with a ``file`` field per object."""
    out = Path(path)
    with out.open("w", encoding="utf-8") as f:
        for table, table_rows in rows.items():
            columns = TABLES[table].columns
            for r in table_rows:
                obj: dict[str, Any] = {"file": table}
                for name, value in zip(columns, r, strict=True):
                    if name == PROPS_FIELD:
                        obj.update(value or {})
                    elif value is not None:
                        obj[name] = value
                f.write(json.dumps(obj, ensure_ascii=False) + "\n")
    return out


if __name__ == "__main__":  # python -m kg.synth: the same as `kg synth`
    import sys

    from kg.cli import main

    sys.argv[1:1] = ["synth"]
    main()
