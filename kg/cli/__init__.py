"""The ``kg`` command line. Each sibling module registers its commands on one Typer app."""

from __future__ import annotations

import importlib

from kg.cli.app import app

__all__ = ["app", "main"]

_COMMAND_MODULES = ("kg.cli.data", "kg.cli.traces", "kg.cli.cascade", "kg.cli.demo", "kg.cli.cypher",
                    "kg.cli.rdf", "kg.cli.serve")


def _register() -> None:
    for name in _COMMAND_MODULES:
        try:
            importlib.import_module(name)
        except ModuleNotFoundError as exc:
            if exc.name != name:  # a missing dependency inside the module is a real error
                raise


def main() -> None:
    """Entry point of the ``kg`` console script."""
    _register()
    app()
