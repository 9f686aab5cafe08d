"""Which elements a subgraph export holds: ``--region``, ``--agency``, ``--around``.

A subgraph is chosen by its **assets**: those located in a region (at any depth
below it), operated by an agency or one of its branches, or within ``depth``
DEPENDS_ON hops of an asset in either direction (what it depends on, and what
depends on it). Several filters intersect.

The export then holds everything those assets need to stand on their own, so
that the file validates against ``shapes.ttl`` and loads into an empty store:
the dependencies and exposures between selected elements, the hazard zones the
assets are exposed to (and, with ``--region``, the zones in the region), the
regions and agencies they refer to with all their ancestors (and, with
``--region`` / ``--agency``, the whole region or agency subtree), the
fragilities of asset types and of selected assets.
"""

from __future__ import annotations

from collections import defaultdict, deque
from collections.abc import Iterable
from dataclasses import dataclass, field

from kg.errors import ElementNotFound
from kg.i18n import _l
from kg.schema import TABLES
from kg.store.base import Store

__all__ = ["Selection", "select"]


@dataclass
class Selection:
    """Ids of the elements a subgraph export holds."""

    regions: set[str] = field(default_factory=set)
    agencies: set[str] = field(default_factory=set)
    assets: set[str] = field(default_factory=set)
    zones: set[str] = field(default_factory=set)


def _subtree(root: str, parent: dict[str, str | None]) -> set[str]:
    children: dict[str, list[str]] = defaultdict(list)
    for node, up in parent.items():
        if up is not None:
            children[up].append(node)
    found, stack = {root}, [root]
    while stack:
        for child in children[stack.pop()]:
            if child not in found:
                found.add(child)
                stack.append(child)
    return found


def _with_ancestors(ids: Iterable[str], parent: dict[str, str | None]) -> set[str]:
    found: set[str] = set()
    for node in ids:
        current: str | None = node
        while current is not None and current not in found and current in parent:
            found.add(current)
            current = parent[current]
    return found


def _around(store: Store, asset_id: str, depth: int) -> set[str]:
    snapshot = store.snapshot()
    if asset_id not in snapshot.index:
        raise ElementNotFound(asset_id, _l("{option} expects the id of an asset", option="--around"))
    start = snapshot.index[asset_id]
    found = {start}
    for step in (snapshot.providers, snapshot.dependents_of):
        seen = {start: 0}
        queue = deque([start])
        while queue:
            node = queue.popleft()
            if seen[node] == depth:
                continue
            for nxt in step(node).tolist():
                if nxt not in seen:
                    seen[nxt] = seen[node] + 1
                    queue.append(nxt)
        found.update(seen)
    return {snapshot.asset_ids[i] for i in found}


def select(
    store: Store,
    *,
    region: str | None = None,
    agency: str | None = None,
    around: str | None = None,
    depth: int = 1,
) -> Selection:
    """The elements of the subgraph chosen by the given filters (at least one must be given).

    Raises :class:`~kg.errors.ElementNotFound` when a filter names an unknown id.
    """
    region_parent: dict[str, str | None] = dict(map(TABLES["regions"].getter("id", "parent"), store.rows("regions")))
    agency_parent: dict[str, str | None] = {}
    jurisdiction: dict[str, str | None] = {}
    agency_columns = TABLES["agencies"].getter("id", "parent", "jurisdiction")
    for aid, parent, region_id in map(agency_columns, store.rows("agencies")):
        agency_parent[aid] = parent
        jurisdiction[aid] = region_id
    sel = Selection()
    in_region: set[str] | None = None
    of_agency: set[str] | None = None
    if region is not None:
        if region not in region_parent:
            raise ElementNotFound(region, _l("{option} expects the id of a region", option="--region"))
        in_region = _subtree(region, region_parent)
        sel.regions |= in_region
        sel.agencies |= {a for a, r in jurisdiction.items() if r in in_region}
    if agency is not None:
        if agency not in agency_parent:
            raise ElementNotFound(agency, _l("{option} expects the id of an agency", option="--agency"))
        of_agency = _subtree(agency, agency_parent)
        sel.agencies |= of_agency
    nearby = _around(store, around, depth) if around is not None else None
    for aid, asset_region, asset_agency in map(TABLES["assets"].getter("id", "region", "agency"), store.rows("assets")):
        if in_region is not None and asset_region not in in_region:
            continue
        if of_agency is not None and asset_agency not in of_agency:
            continue
        if nearby is not None and aid not in nearby:
            continue
        sel.assets.add(aid)
        if asset_region is not None:
            sel.regions.add(asset_region)
        if asset_agency is not None:
            sel.agencies.add(asset_agency)
    for exposed, zone in map(TABLES["exposures"].getter("asset", "zone"), store.rows("exposures")):
        if exposed in sel.assets:
            sel.zones.add(zone)
    for zone, zone_region in map(TABLES["hazard_zones"].getter("id", "region"), store.rows("hazard_zones")):
        if in_region is not None and zone_region in in_region:
            sel.zones.add(zone)
        if zone in sel.zones and zone_region is not None:
            sel.regions.add(zone_region)
    sel.agencies = _with_ancestors(sel.agencies, agency_parent)
    sel.regions |= {r for a in sel.agencies if (r := jurisdiction.get(a)) is not None}
    sel.regions = _with_ancestors(sel.regions, region_parent)
    return sel
