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
    loads,
    page,
    regions,
    restorations,
    sparql,
    stats,
)

__all__ = ["api_router"]

api_router = APIRouter()
for _module in (health, stats, assets, cascades, restorations, criticality, regions, agencies, cypher, sparql,
                loads, export, city, page):
    api_router.include_router(_module.router)
