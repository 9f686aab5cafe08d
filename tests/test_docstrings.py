"""Every module of kg says what it is for, lists its public names, and documents each of them."""

from __future__ import annotations

import importlib
import inspect
import pkgutil
from types import ModuleType

import pytest

import kg

MODULES = sorted(["kg", *(m.name for m in pkgutil.walk_packages(kg.__path__, "kg."))])

ENGINE = ("kg.analysis.cascade", "kg.analysis.coordination", "kg.analysis.criticality", "kg.analysis.hazards",
          "kg.analysis.traces", "kg.analysis.cancel", "kg.scenario", "kg.answers", "kg.errors")
"""Modules whose public classes document every public method too (the engine and the services over it)."""


def _public(module: ModuleType) -> list[tuple[str, object]]:
    return [(name, getattr(module, name)) for name in module.__all__]


@pytest.mark.parametrize("name", MODULES)
def test_modules_have_a_docstring_and_all(name: str) -> None:
    module = importlib.import_module(name)
    assert (module.__doc__ or "").strip(), f"{name} has no module docstring"
    assert isinstance(getattr(module, "__all__", None), list | tuple), f"{name} has no __all__"
    missing = [n for n in module.__all__ if not hasattr(module, n)]
    assert not missing, f"{name}.__all__ names what it does not define: {missing}"


@pytest.mark.parametrize("name", MODULES)
def test_public_functions_and_classes_have_docstrings(name: str) -> None:
    module = importlib.import_module(name)
    bare = [n for n, obj in _public(module)
            if (inspect.isfunction(obj) or inspect.isclass(obj)) and not (obj.__doc__ or "").strip()]
    assert not bare, f"{name}: public names without a docstring: {bare}"


@pytest.mark.parametrize("name", ENGINE)
def test_engine_methods_have_docstrings(name: str) -> None:
    module = importlib.import_module(name)
    bare = []
    for class_name, cls in _public(module):
        if not inspect.isclass(cls) or cls.__module__ != name:
            continue
        for attr, value in vars(cls).items():
            function = value.fget if isinstance(value, property) else getattr(value, "__func__", value)
            if not attr.startswith("_") and inspect.isfunction(function) and not (function.__doc__ or "").strip():
                bare.append(f"{class_name}.{attr}")
    assert not bare, f"{name}: public methods without a docstring: {bare}"
