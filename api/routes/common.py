"""Small helpers the route modules share: fetching a stored element of one table, resolving asset ids."""

from __future__ import annotations

from typing import Any

from api.deps import Runner
from api.problems import APIProblem
from kg.analysis.graph import GraphSnapshot
from kg.errors import ElementNotFound
from kg.store import Store

__all__ = ["asset_index", "get_element"]

_SINGULAR = {"regions": "region", "agencies": "agency", "assets": "asset", "hazard_zones": "hazard zone"}


async def get_element(store: Store, run: Runner, element_id: str, table: str, *, field: str) -> dict[str, Any]:
    """The stored element ``element_id`` of ``table``; 404 naming ``field`` if there is none (or it is another kind)."""
    try:
        record = await run(store.get, element_id)
    except ElementNotFound:
        raise APIProblem(404, f"no {_SINGULAR[table]} with id {element_id!r}", field=field) from None
    if record.get("table") != table:
        other = _SINGULAR.get(str(record.get("table")), "another kind of element")
        raise APIProblem(404, f"no {_SINGULAR[table]} with id {element_id!r} (that id is a {other})", field=field)
    return record


def asset_index(snap: GraphSnapshot, asset_id: str, *, field: str) -> int:
    """The snapshot index of ``asset_id``; 404 naming ``field`` if no asset has that id."""
    i = snap.index.get(asset_id)
    if i is None:
        raise APIProblem(404, f"no asset with id {asset_id!r}", field=field)
    return i
