"""The ``kg`` command line. Each sibling module registers its commands on one Typer app."""

from __future__ import annotations

import importlib

from kg.cli.app import app

__all__ = ["app", "main"]

_COMMAND_MODULES = ("kg.cli.data", "kg.cli.find", "kg.cli.traces", "kg.cli.cascade", "kg.cli.robustness",
                    "kg.cli.demo", "kg.cli.cypher", "kg.cli.rdf", "kg.cli.serve", "kg.cli.restore", "kg.cli.live",
                    "kg.cli.whatif", "kg.cli.plan", "kg.cli.mcp")


def _register() -> None:
    """Import every command module once; each registers its commands on :data:`app`."""
    for name in _COMMAND_MODULES:
        importlib.import_module(name)


def main() -> None:
    """Entry point of the ``kg`` console script."""
    _register()
    app()
