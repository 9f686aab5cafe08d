"""``kg load``, ``kg stats``: getting data in and seeing what is there."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import typer
from rich.markup import escape
from rich.table import Table

from kg.cli.app import FormatOpt, OutputFormat, StoreOpt, app, console, emit, err_console, fail, store_session
from kg.cli.progress import LoadProgress
from kg.errors import ValidationError
from kg.ingest import LoadReport, load_paths

__all__ = ["load", "stats"]


@app.command()
def load(
    paths: Annotated[list[Path], typer.Argument(
        help="Bundle folders, CSV or JSON Lines files, or RDF (.ttl, .nt, .nq, .trig, .jsonld).",
        show_default=False)],
    store: StoreOpt = None,
    fmt: FormatOpt = OutputFormat.text,
    quiet: Annotated[bool, typer.Option("--quiet", "-q", help="No progress bar.")] = False,
    timeout: Annotated[float | None, typer.Option(
        "--timeout", min=0.001, help="Stop validating after this many seconds; nothing is written.",
        show_default=False)] = None,
) -> None:
    """Validate data completely, then load it (all or nothing; loading twice changes nothing).

    A SQLite store that does not exist yet is created (and that is said).
    """
    with store_session(store, load=True) as s:
        try:
            with LoadProgress(paths, quiet=quiet) as progress:
                report = load_paths(s, paths, phase=progress, timeout_s=timeout)
        except ValidationError as exc:
            count = len(exc.problems)
            more = "+" if exc.truncated else ""
            fail(f"nothing was loaded: {count}{more} problem{'s' if count != 1 else ''} found\n{exc}")
        emit(fmt, report.to_dict(s.url), lambda _: _print_report(report, s.url, quiet=quiet))


def _print_report(report: LoadReport, url: str, *, quiet: bool) -> None:
    parts = [f"{n:,} {table.replace('_', ' ')}" for table, n in report.counts.items() if n]
    console.print(f"Loaded {', '.join(parts)} into {url} (version {report.version}).")
    for warning in report.warnings:
        err_console.print(f"[yellow]warning:[/] {escape(str(warning))}", soft_wrap=True)


@app.command()
def stats(store: StoreOpt = None, fmt: FormatOpt = OutputFormat.text) -> None:
    """Counts of what the store holds, by table and by asset type (and a load that has not finished)."""
    with store_session(store) as s:
        st = s.stats()
        data = st.to_dict(s.url)

        def text(_: Any) -> None:
            table = Table(title=f"{s.url} (version {st.version})", show_edge=False)
            table.add_column("what")
            table.add_column("count", justify="right")
            for name, n in st.counts.items():
                table.add_row(name.replace("_", " "), f"{n:,}")
            console.print(table)
            if st.assets_by_type:
                types = Table(title="assets by type", show_edge=False)
                types.add_column("type")
                types.add_column("count", justify="right")
                for name, n in st.assets_by_type.items():
                    types.add_row(name, f"{n:,}")
                console.print(types)

        emit(fmt, data, text)
