"""Reading planners' data and validating all of it before anything is written.

:func:`build_plan` reads bundle folders, CSV, JSON Lines and RDF files and
returns a :class:`LoadPlan` of validated rows; :func:`kg.ingest.load_paths`
writes such a plan into a store.
"""

from __future__ import annotations

from kg.load.plan import LoadPlan, build_plan

__all__ = ["LoadPlan", "build_plan"]
