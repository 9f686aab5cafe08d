"""The Typer application, the options every command shares, and output helpers.

Commands live in sibling modules (``data``, ``traces``, ``cascade``, ...) and
register themselves on :data:`app`; :func:`kg.cli.main` imports them all.
"""

from __future__ import annotations

import io
import json
import os
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from enum import StrEnum
from pathlib import Path
from typing import Annotated, Any, NoReturn, TextIO

import typer
from rich.console import Console
from rich.markup import escape
from typer.core import TyperGroup

from kg import __version__
from kg.analysis.cancel import CancelToken
from kg.errors import KGError
from kg.executor import Executor, connect
from kg.files import replaced_atomically
from kg.i18n import _, choose_language, use_language
from kg.store import Store, open_store

__all__ = [
    "ClusterOpt",
    "FormatOpt",
    "OutputFormat",
    "StoreOpt",
    "TimeoutOpt",
    "app",
    "bold",
    "console",
    "deadline",
    "emit",
    "err_console",
    "executor_session",
    "fail",
    "print_json",
    "store_session",
    "text_output",
    "warn",
]

class _LangAnywhere(TyperGroup):
    """``--lang`` may come after the command too (``kg cascade --lang zh``): it is moved before it."""

    def parse_args(self, ctx: Any, args: list[str]) -> list[str]:  # typer.core.Context (its own click)
        moved: list[str] = []
        rest: list[str] = []
        i = 0
        while i < len(args):
            if args[i] == "--":
                rest += args[i:]
                break
            if args[i] == "--lang" and i + 1 < len(args):
                moved += args[i:i + 2]
                i += 2
                continue
            if args[i].startswith("--lang="):
                moved.append(args[i])
            else:
                rest.append(args[i])
            i += 1
        return super().parse_args(ctx, moved + rest)


app = typer.Typer(
    name="kg",
    help="CityKG: what depends on what in a megacity, and how one failure cascades.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
    cls=_LangAnywhere,
)


def _print_version(wanted: bool) -> None:
    if wanted:
        console.print(f"kg (CityKG) {__version__}", markup=False)
        raise typer.Exit()


@app.callback()
def _language(
    lang: Annotated[str | None, typer.Option(
        "--lang", help="Language of text output and messages: en or zh (else KG_LANG, else LANG). May follow the "
                       "command.", show_default=False)] = None,
    version: Annotated[bool, typer.Option("--version", help="Print the version and exit.", is_eager=True,
                                          callback=_print_version)] = False,
) -> None:
    try:
        use_language(choose_language(lang))
    except ValueError as exc:
        use_language("en")
        fail(str(exc))
# Piped output (files, CI logs) gets 120 columns rather than rich's 80, so briefings' tables stay unwrapped.
_WIDTH = None if sys.stdout.isatty() or "COLUMNS" in os.environ else 120
console = Console(highlight=False, soft_wrap=False, width=_WIDTH)
err_console = Console(stderr=True, highlight=False)


class OutputFormat(StrEnum):
    """``--format``: ``text`` for people (tables, a briefing), ``json`` for programs (the documented shapes)."""

    text = "text"
    json = "json"


StoreOpt = Annotated[
    str | None,
    typer.Option("--store", envvar="KG_STORE", help="Store URL (sqlite:///FILE.db, bolt://HOST:PORT, neo4j://...)."),
]
FormatOpt = Annotated[
    OutputFormat, typer.Option("--format", help="text for people, json for programs.")
]

ClusterOpt = Annotated[str | None, typer.Option(
    "--cluster", envvar="KG_CLUSTER", help="Run the batch work on the Dask scheduler at tcp://HOST:PORT "
    "(scripts/dask start); by default it runs in this process.", show_default=False)]

TimeoutOpt = Annotated[float | None, typer.Option(
    "--timeout", min=0.001, help="Stop the analysis after this many seconds (exit 1); Ctrl-C stops it too.",
    show_default=False)]


def deadline(timeout: float | None) -> CancelToken | None:
    """The token of ``--timeout`` (None: no limit), started now."""
    if timeout is None:
        return None
    return CancelToken.after(timeout, reason=_("stopped after --timeout {seconds} s; narrow the question (a horizon, "
                                               "fewer samples, fewer steps) or allow more time").format(
        seconds=f"{timeout:g}"))


def bold(text: str, style: str = "bold") -> str:
    """``text`` (a translated heading, say) in rich markup as ``style``, its own brackets escaped."""
    return f"[{style}]{escape(text)}[/]"


def fail(message: str, code: int = 1) -> NoReturn:
    """Print ``message`` on stderr and exit with ``code`` (no traceback)."""
    # The message quotes the input (ids, file names): escaped, so '[/]' in an id is text, not markup.
    label = _("error:")
    err_console.print(f"[bold red]{label}[/] {escape(message)}", markup=True, highlight=False, soft_wrap=True)
    raise typer.Exit(code)


def warn(message: str) -> None:
    """Print ``message`` as a warning on stderr (stdout stays the command's answer)."""
    label = _("warning:")
    err_console.print(f"[yellow]{label}[/] {escape(message)}", markup=True, highlight=False, soft_wrap=True)


@contextmanager
def store_session(url: str | None, *, load: bool = False) -> Iterator[Store]:
    """Open the store for one command; any :class:`KGError` becomes a clean exit 1.

    A reading command (the default) needs a store that exists, and is warned
    on stderr when the store holds a load that has not finished. With
    ``load`` (``kg load``, ``kg demo``) a SQLite store that does not exist yet
    is created, and that is said once the command has succeeded (if it fails,
    the new store is deleted again); a store that can only be read is refused
    before any work; an earlier load that did not finish is reported.
    """
    try:
        store = open_store(url, create=load)
    except KGError as exc:
        fail(str(exc))
    succeeded = False
    try:
        status = store.status()
        if load and status.read_only:
            fail(_("cannot load into {store}: {why}; load into a store you can write (reading this one works)").format(
                store=store.url, why=status.why_read_only))
        if status.unfinished_load is not None:
            unfinished = status.unfinished_load
            if not load:
                warn(_("this store's answers may miss part of the graph: {load}").format(load=unfinished.describe()))
            elif unfinished.state == "running":
                warn(_("another load is writing to this store: {load}").format(load=unfinished.describe()))
            else:
                warn(_("an earlier load did not finish: {load}. This load completes it if it holds the same "
                       "data").format(load=unfinished.describe()))
        yield store
        succeeded = True
    except KGError as exc:
        fail(str(exc))
    finally:
        if succeeded:
            store.close()
        else:
            store.discard()
    if store.created:
        err_console.print(_("created new store at {path}").format(path=getattr(store, "file", store.url)), markup=False,
                          highlight=False, soft_wrap=True)


@contextmanager
def executor_session(address: str | None) -> Iterator[Executor]:
    """The executor of ``--cluster`` (in-process without one) for one command; closed at the end.

    A scheduler that does not answer is a clean exit 1 naming the address.
    """
    try:
        executor = connect(address)
    except KGError as exc:
        fail(str(exc))
    try:
        yield executor
    finally:
        executor.close()


@contextmanager
def text_output(path: Path | None) -> Iterator[TextIO]:
    """A UTF-8 text stream: stdout, or a temporary file renamed to ``path`` only on success (see kg.files)."""
    if path is None:
        stream = io.TextIOWrapper(sys.stdout.buffer, encoding="utf-8", newline="\n")
        try:
            yield stream
            stream.flush()
        except BrokenPipeError:
            # The reader went away (`kg export | head`): stop quietly, and keep Python's
            # final flush of stdout from raising again.
            os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
            raise typer.Exit(1) from None
        finally:
            stream.detach()
        return
    with replaced_atomically(path) as out:
        yield out


def print_json(data: Any) -> None:
    """Write ``data`` as JSON on stdout (UTF-8, not ASCII-escaped)."""
    sys.stdout.write(json.dumps(data, ensure_ascii=False, indent=2, default=_json_default))
    sys.stdout.write("\n")


def _json_default(value: Any) -> Any:
    if hasattr(value, "item"):  # numpy scalars
        return value.item()
    raise TypeError(f"cannot serialise {type(value).__name__} as JSON")


def emit(fmt: OutputFormat, data: Any, text: Callable[[Any], None]) -> None:
    """Print ``data`` as JSON, or call ``text(data)`` to render it for people."""
    if fmt is OutputFormat.json:
        print_json(data)
    else:
        text(data)
