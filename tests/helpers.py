"""Small shared test helpers: writing tiny bundles and running the CLI in-process."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

from typer.testing import CliRunner, Result

from kg.cli import _register, app

__all__ = ["run_kg", "write_files"]

_register()
_runner = CliRunner()


def write_files(folder: Path, files: Mapping[str, str | bytes]) -> Path:
    """Write ``{name: content}`` into ``folder`` (created) and return it."""
    folder.mkdir(parents=True, exist_ok=True)
    for name, content in files.items():
        path = folder / name
        if isinstance(content, bytes):
            path.write_bytes(content)
        else:
            path.write_text(content, encoding="utf-8")
    return folder


def run_kg(*args: str) -> Result:
    """Run ``kg ARGS`` in-process and return the click result (stdout and stderr apart)."""
    return _runner.invoke(app, list(args), catch_exceptions=False)
