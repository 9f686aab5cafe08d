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
from kg.i18n import N_, _, current_language, ngettext
from kg.ingest import LoadReport, load_paths
from kg.ontology import load_ontology

__all__ = ["load", "stats"]


@app.command()
def load(
    paths: Annotated[list[Path], typer.Argument(
        help="Bundle folders, CSV or JSON Lines files, or RDF (.ttl, .nt, .nq, .trig, .jsonld, .rdf/.xml/.owl).",
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
            found = ngettext("nothing was loaded: {n} problem found", "nothing was loaded: {n} problems found",
                             count).format(n=f"{count}{more}")
            fail(f"{found}\n{exc}")
        emit(fmt, report.to_dict(s.url), lambda _: _print_report(report, s.url, quiet=quiet))


def _print_report(report: LoadReport, url: str, *, quiet: bool) -> None:
    parts = [_TABLE_COUNTS[table](n) for table, n in report.counts.items() if n]
    console.print(_("Loaded {what} into {store} (version {version}).").format(
        what=_(", ").join(parts), store=url, version=report.version), markup=False, soft_wrap=True)
    label = _("warning:")
    for warning in report.warnings:
        err_console.print(f"[yellow]{label}[/] {escape(str(warning))}", soft_wrap=True)


_TABLE_NAMES = {
    "regions": N_("regions"), "agencies": N_("agencies"), "assets": N_("assets"), "hazard_zones": N_("hazard zones"),
    "dependencies": N_("dependencies"), "exposures": N_("exposures"), "fragilities": N_("fragilities"),
}

"""Each table's name as a count's row heading (translated where shown)."""
_TABLE_COUNTS = {
    "regions": lambda n: ngettext("{n} region", "{n} regions", n).format(n=f"{n:,}"),
    "agencies": lambda n: ngettext("{n} agency", "{n} agencies", n).format(n=f"{n:,}"),
    "assets": lambda n: ngettext("{n} asset", "{n} assets", n).format(n=f"{n:,}"),
    "hazard_zones": lambda n: ngettext("{n} hazard zone", "{n} hazard zones", n).format(n=f"{n:,}"),
    "dependencies": lambda n: ngettext("{n} dependency", "{n} dependencies", n).format(n=f"{n:,}"),
    "exposures": lambda n: ngettext("{n} exposure", "{n} exposures", n).format(n=f"{n:,}"),
    "fragilities": lambda n: ngettext("{n} fragility", "{n} fragilities", n).format(n=f"{n:,}"),
}
"""How a load report counts each table's rows, singular or plural, in the current language."""


@app.command()
def stats(store: StoreOpt = None, fmt: FormatOpt = OutputFormat.text) -> None:
    """Counts of what the store holds, by table and by asset type (and a load that has not finished)."""
    with store_session(store) as s:
        st = s.stats()
        data = st.to_dict(s.url)

        def text(data: Any) -> None:
            # The store's URL on a line of its own: as a table title it wrapped in the middle of a long path.
            console.print(_("{store} (version {version})").format(store=s.url, version=st.version), markup=False,
                          soft_wrap=True)
            table = Table(show_edge=False)
            table.add_column(_("what"))
            table.add_column(_("count"), justify="right")
            for name, n in st.counts.items():
                table.add_row(_(_TABLE_NAMES[name]), f"{n:,}")
            console.print(table)
            if st.assets_by_type:
                types = Table(title=_("assets by type"), title_justify="left", show_edge=False)
                types.add_column(_("type"))
                types.add_column(_("count"), justify="right")
                for name, n in st.assets_by_type.items():
                    types.add_row(load_ontology().label(name, "zh") if current_language() == "zh" else name, f"{n:,}")
                console.print(types)

        emit(fmt, data, text)
