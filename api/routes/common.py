"""Small helpers the route modules share: fetching a stored element of one table, resolving asset ids,
running a scenario."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from api.deps import Runner
from api.problems import APIProblem, field_problem
from api.schemas import CascadeRequest, ScenarioRequest
from kg.errors import ElementNotFound, KGError, not_found
from kg.i18n import _l
from kg.scenario import Scenario
from kg.snapshot import GraphSnapshot
from kg.store import Store

__all__ = ["SCENARIO_FIELDS", "asset_index", "get_element", "scenario_fields", "scenario_of"]

SCENARIO_FIELDS = {"hazard": "hazard_zones", "horizon": "horizon_hours"}
"""The names a scenario body (:class:`~api.schemas.ScenarioRequest`) gives the fields of a
:class:`~kg.scenario.Scenario` (the others keep theirs)."""


def scenario_of(body: ScenarioRequest) -> Scenario:
    """The scenario a request body asks for (its values are checked already: it cannot be refused here)."""
    samples, seed = (body.samples, body.seed) if isinstance(body, CascadeRequest) else (None, None)
    return Scenario(fail=tuple((f.id, f.time) for f in body.fail or ()), hazard=tuple(body.hazard_zones or ()),
                    samples=samples, seed=seed or 0, horizon=body.horizon_hours)


@contextmanager
def scenario_fields() -> Iterator[None]:
    """Answer a kg error about a scenario field (an unknown asset in ``fail``, ...) naming the body's field."""
    try:
        yield
    except KGError as exc:
        problem = field_problem(exc, SCENARIO_FIELDS)
        if problem is None:
            raise
        raise problem from None

_SINGULAR = {"regions": "region", "agencies": "agency", "assets": "asset", "hazard_zones": "hazard zone"}
"""Tables -> the kind of element (kg.errors.WHATS says each in the reader's language)."""


async def get_element(store: Store, run: Runner, element_id: str, table: str, *, field: str) -> dict[str, Any]:
    """The stored element ``element_id`` of ``table``; 404 naming ``field`` if there is none (or it is another kind)."""
    try:
        record = await run(store.get, element_id)
    except ElementNotFound:
        raise APIProblem(404, not_found(element_id, _SINGULAR[table]), field=field) from None
    if record.get("table") != table:
        other = _SINGULAR.get(str(record.get("table")))
        raise APIProblem(404, _l("{message} (that id is a {other})", message=not_found(element_id, _SINGULAR[table]),
                                 other=_l(other) if other else _l("another kind of element")), field=field)
    return record


def asset_index(snap: GraphSnapshot, asset_id: str, *, field: str) -> int:
    """The snapshot index of ``asset_id``; 404 naming ``field`` if no asset has that id."""
    i = snap.index.get(asset_id)
    if i is None:
        raise APIProblem(404, not_found(asset_id, "asset"), field=field)
    return i
