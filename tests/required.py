"""Tests that need a real service (Neo4j, Mosquitto, Dask, a browser): skipped where it is missing, failed in CI.

CI sets ``KG_REQUIRE_<SERVICE>=1`` so that a missing service fails the run instead of skipping silently.
"""

from __future__ import annotations

import os
from typing import NoReturn

import pytest

__all__ = ["unavailable"]


def unavailable(require: str, failure: str, skip: str) -> NoReturn:
    """Stop a test whose service is missing: fail with ``failure`` where ``require`` is set to 1, else skip."""
    if os.environ.get(require) == "1":
        pytest.fail(failure, pytrace=False)
    pytest.skip(skip)
