"""``kg export`` (the graph as RDF), ``kg validate`` (check data without loading it) and ``kg sparql``.

``kg load FILE.ttl|.nt|.jsonld`` needs nothing here: the loader reads RDF files
itself (:mod:`kg.rdf.reader`).
"""

from __future__ import annotations

import contextlib
import io
import os
import sys
import tempfile
from collections.abc import Iterator
from enum import StrEnum
from pathlib import Path
from typing import Annotated, Any, TextIO

import typer

from kg.cli.app import FormatOpt, OutputFormat, StoreOpt, app, console, emit, fail, store_session
from kg.errors import KGError, Problem, ValidationError
from kg.load import build_plan
from kg.rdf.export import export_rdf
from kg.rdf.reader import shacl_engine
from kg.rdf.writers import format_for_path
from kg.store import Store
from kg.store.sqlite import SQLiteStore

__all__ = ["export", "validate"]


class RdfFormat(StrEnum):
    ttl = "ttl"
    jsonld = "jsonld"
    nt = "nt"
    rdfxml = "rdfxml"


class ShaclEngine(StrEnum):
    fast = "fast"
    pyshacl = "pyshacl"


@contextlib.contextmanager
def _output(path: Path | None) -> Iterator[TextIO]:
    """A UTF-8 text stream: stdout, or a temporary file renamed to ``path`` only on success."""
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
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".part", dir=path.parent)
    try:
        with os.fdopen(fd, "w", encoding="utf-8", newline="\n") as stream:
            yield stream
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


@app.command()
def export(
    rdf: Annotated[RdfFormat | None, typer.Option("--rdf", help="Turtle (ttl), JSON-LD (jsonld), N-Triples (nt) or "
                                                     "RDF/XML (rdfxml); default: the one -o's suffix names, "
                                                     "else ttl.", show_default=False)] = None,
    output: Annotated[Path | None, typer.Option("--output", "-o", help="File to write (default: stdout).")] = None,
    region: Annotated[str | None, typer.Option(help="Only this region and everything in it.")] = None,
    agency: Annotated[str | None, typer.Option(help="Only assets of this agency and its branches.")] = None,
    around: Annotated[str | None, typer.Option(help="Only assets within --depth hops of this asset.")] = None,
    depth: Annotated[int, typer.Option(help="Hops for --around, both directions.", min=0)] = 1,
    with_alignment: Annotated[bool, typer.Option("--with-alignment",
                                                 help="Add the alignment to SAREF4CITY, GeoSPARQL, ORG, schema.org.")]
    = False,
    store: StoreOpt = None,
    fmt: FormatOpt = OutputFormat.text,
) -> None:
    """Write the graph, or a subgraph, as RDF in the ckg vocabulary (streamed).

    The format follows the suffix of -o (.ttl, .nt, .jsonld, .rdf/.xml/.owl) unless --rdf names
    it; --rdf naming another format than the suffix is an error.
    """
    try:
        chosen = format_for_path(output, rdf.value if rdf is not None else None)
    except KGError as exc:
        fail(str(exc))
    with store_session(store) as s, _output(output) as out:
        report = export_rdf(s, out, fmt=chosen, region=region, agency=agency, around=around,
                            depth=depth, with_alignment=with_alignment)
    if output is not None:
        data = {"output": str(output), "format": report.format, "triples": report.triples,
                "subgraph": report.subgraph}
        emit(fmt, data, lambda d: console.print(f"wrote {d['triples']:,} triples to {d['output']} ({d['format']})",
                                                markup=False, soft_wrap=True))


def _check(store: Store, paths: list[Path]) -> tuple[list[Problem], dict[str, Any]]:
    try:
        plan = build_plan(paths, store)
    except ValidationError as exc:
        problems = list(exc.problems)
        if exc.truncated:
            problems.append(Problem("", "... more problems not shown (fix these first)"))
        return problems, {}
    return [], {"counts": plan.counts(), "warnings": [str(w) for w in plan.warnings]}


@app.command()
def validate(
    paths: Annotated[list[Path], typer.Argument(help="Bundle folders, CSV, JSON Lines, Turtle, N-Triples or "
                                                     "JSON-LD files.", show_default=False)],
    engine: Annotated[ShaclEngine, typer.Option(help="SHACL engine for RDF files: fast (default) or pyshacl "
                                                     "(the slow reference).")] = ShaclEngine.fast,
    store: StoreOpt = None,
    fmt: FormatOpt = OutputFormat.text,
) -> None:
    """Check data as `kg load` would, without loading it; RDF files are checked against shapes.ttl first.

    References may point to elements already in --store (or $KG_STORE); without
    one, the data must stand on its own. Exit code 0 when valid, 1 otherwise.
    """
    token = shacl_engine.set(engine.value)
    try:
        if store is None:
            problems, details = _check(SQLiteStore(":memory:"), paths)
        else:
            with store_session(store) as s:
                problems, details = _check(s, paths)
    except KGError as exc:
        fail(str(exc))
    finally:
        shacl_engine.reset(token)
    data = {"valid": not problems, "paths": [str(p) for p in paths],
            "problems": [{"where": p.where, "message": p.message} for p in problems], **details}

    def text(d: dict[str, Any]) -> None:
        if d["valid"]:
            counts = ", ".join(f"{n:,} {table}" for table, n in d["counts"].items() if n)
            console.print(f"valid: {counts}", soft_wrap=True)
            for warning in d["warnings"]:
                console.print(f"warning: {warning}", markup=False, soft_wrap=True)
        else:
            count = len(d["problems"])
            console.print(f"invalid: {count} problem{'s' if count != 1 else ''}")
            for p in d["problems"]:
                # One problem per line, never wrapped: people grep these.
                console.print(f"{p['where']}: {p['message']}" if p["where"] else p["message"], markup=False,
                              soft_wrap=True)

    emit(fmt, data, text)
    if problems:
        raise typer.Exit(1)
