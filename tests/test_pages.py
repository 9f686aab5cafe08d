"""The API process stops NumPy asking for huge pages, unless the operator's NUMPY_MADVISE_HUGEPAGE decides."""

from __future__ import annotations

from collections.abc import Iterator

import numpy as np
import pytest

from api.main import create_app
from kg.pages import HUGE_PAGES_VARIABLE, prefer_ordinary_pages
from kg.settings import load_settings

switch = np._core.multiarray._set_madvise_hugepage  # returns the value it replaces


@pytest.fixture
def advice() -> Iterator[None]:
    """Huge pages asked for before each test, the process's own setting restored after."""
    before = switch(True)
    yield
    switch(before)


def test_the_app_turns_huge_pages_off(advice: None, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(HUGE_PAGES_VARIABLE, raising=False)
    monkeypatch.setenv("KG_INSECURE_DEV", "1")
    create_app(load_settings())
    assert switch(True) is False


def test_the_operators_variable_wins(advice: None, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(HUGE_PAGES_VARIABLE, "1")
    assert prefer_ordinary_pages() is False
    assert switch(True) is True
