"""Every route module's router, gathered into :data:`api_router` (the one place the app includes)."""

from __future__ import annotations

from fastapi import APIRouter

from api.routes import (
    agencies,
    assets,
    cascades,
    city,
    criticality,
    cypher,
    export,
    health,
    live,
    loads,
    page,
    plans,
    regions,
    restorations,
    robustness,
    sparql,
    stats,
    whatif,
)

__all__ = ["api_router"]

api_router = APIRouter()
for _module in (health, stats, assets, cascades, restorations, whatif, plans, criticality, robustness, regions,
                agencies, cypher, sparql, loads, export, live, city, page):
    api_router.include_router(_module.router)
