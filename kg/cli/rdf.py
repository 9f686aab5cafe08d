"""``kg export`` (the graph as RDF), ``kg validate`` (check data without loading it) and ``kg sparql``.

``kg load FILE.ttl|.nt|.nq|.trig|.jsonld|.rdf`` needs nothing here: the loader reads RDF files
itself (:mod:`kg.rdf.reader`).
"""

from __future__ import annotations

import json
import sys
from enum import StrEnum
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.markup import escape
from rich.table import Table

from kg.cli.app import FormatOpt, OutputFormat, StoreOpt, app, console, emit, fail, store_session, text_output
from kg.cli.gis import export_geo, geo_format_for_path
from kg.errors import KGError, Problem, ValidationError
from kg.i18n import _, ngettext
from kg.load import build_plan
from kg.rdf.export import export_prefixes, export_rdf
from kg.rdf.reader import shacl_engine
from kg.rdf.terms import scheme
from kg.rdf.writers import format_for_path
from kg.sparql.engine import SparqlRequest, SparqlService
from kg.store import Store
from kg.store.sqlite import SQLiteStore

__all__ = ["export", "sparql", "validate"]


class RdfFormat(StrEnum):
    ttl = "ttl"
    jsonld = "jsonld"
    nt = "nt"
    rdfxml = "rdfxml"


class GeoFormat(StrEnum):
    gpkg = "gpkg"
    geojson = "geojson"


class ShaclEngine(StrEnum):
    fast = "fast"
    pyshacl = "pyshacl"


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
    geo: Annotated[GeoFormat | None, typer.Option("--geo", help="GIS layers instead of RDF: GeoPackage (gpkg) or "
                                                  "GeoJSON (geojson); default for -o FILE.gpkg|.geojson.",
                                                  show_default=False)] = None,
    layer: Annotated[list[str] | None, typer.Option("--layer", help="With --geo: only this layer (repeatable): "
                                                    "assets, dependencies, hazard_zones, regions, cascade.",
                                                    show_default=False)] = None,
    with_cascade: Annotated[bool, typer.Option("--cascade", help="With --geo: add a 'cascade' layer, the failed "
                                               "assets of the cascade of --fail or --hazard.")] = False,
    fail_: Annotated[list[str] | None, typer.Option("--fail", help="With --cascade: ID or ID@HOURS (repeatable).",
                                                    show_default=False)] = None,
    hazard: Annotated[list[str] | None, typer.Option("--hazard", help="With --cascade: hazard zone id (repeatable).",
                                                     show_default=False)] = None,
    horizon: Annotated[float | None, typer.Option("--horizon", help="With --cascade: failures up to this many hours.",
                                                  show_default=False)] = None,
    start: Annotated[str | None, typer.Option("--start", help="With --cascade: the time of hour 0, ISO 8601 with its "
                                              "UTC offset (default: now).", show_default=False)] = None,
    store: StoreOpt = None,
    fmt: FormatOpt = OutputFormat.text,
) -> None:
    """Write the graph, or a subgraph, as RDF in the ckg vocabulary (streamed); or, with --geo, as GIS layers.

    The format follows the suffix of -o (.ttl, .nt, .jsonld, .rdf/.xml/.owl, .gpkg, .geojson) unless
    --rdf or --geo names it; naming another format than the suffix is an error.
    """
    chosen_geo = geo.value if geo is not None else geo_format_for_path(output) if rdf is None else None
    if chosen_geo is not None:
        if rdf is not None:
            fail(_("give --rdf or --geo, not both"))
        if geo is not None and geo_format_for_path(output) not in (None, geo.value):
            fail(_("--geo {format} but -o {path} has the suffix of another format").format(format=geo.value,
                                                                                           path=output))
        if region or agency or around:
            fail(_("--region, --agency and --around select an RDF subgraph; --geo exports whole layers"))
        with store_session(store) as s:
            export_geo(s, chosen_geo, output, layer, with_cascade=with_cascade, fail_=fail_ or [],
                       hazard=hazard or [], horizon=horizon, start=start, fmt=fmt)
        return
    if layer or with_cascade or fail_ or hazard or horizon is not None or start:
        fail(_("--layer, --cascade, --fail, --hazard, --horizon and --start go with --geo (GIS layers)"))
    try:
        chosen = format_for_path(output, rdf.value if rdf is not None else None)
    except KGError as exc:
        fail(str(exc))
    with store_session(store) as s, text_output(output) as out:
        report = export_rdf(s, out, fmt=chosen, region=region, agency=agency, around=around,
                            depth=depth, with_alignment=with_alignment)
    if output is not None:
        data = {"output": str(output), "format": report.format, "triples": report.triples,
                "subgraph": report.subgraph}
        emit(fmt, data, lambda d: console.print(_("wrote {triples} triples to {path} ({format})").format(
            triples=f"{d['triples']:,}", path=d["output"], format=d["format"]), markup=False, soft_wrap=True))


def _check(store: Store, paths: list[Path], timeout: float | None) -> tuple[list[Problem], dict[str, Any]]:
    try:
        plan = build_plan(paths, store, timeout_s=timeout)
    except ValidationError as exc:
        problems = list(exc.problems)
        if exc.truncated:
            problems.append(Problem("", "... more problems not shown (fix these first)"))
        return problems, {}
    return [], {"counts": plan.counts(), "warnings": [str(w) for w in plan.warnings]}


@app.command()
def validate(
    paths: Annotated[list[Path], typer.Argument(help="Bundle folders, CSV, JSON Lines, Turtle, N-Triples, N-Quads, "
                                                     "TriG or JSON-LD files.", show_default=False)],
    engine: Annotated[ShaclEngine, typer.Option(help="SHACL engine for RDF files: fast (default) or pyshacl "
                                                     "(the slow reference).")] = ShaclEngine.fast,
    timeout: Annotated[float | None, typer.Option(
        "--timeout", min=0.001, help="Stop after this many seconds (exit 1).", show_default=False)] = None,
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
            problems, details = _check(SQLiteStore(":memory:"), paths, timeout)
        else:
            with store_session(store) as s:
                problems, details = _check(s, paths, timeout)
    except KGError as exc:
        fail(str(exc))
    finally:
        shacl_engine.reset(token)
    data = {"valid": not problems, "paths": [str(p) for p in paths],
            "problems": [{"where": p.where, "message": p.message} for p in problems], **details}

    def text(d: dict[str, Any]) -> None:
        if d["valid"]:
            counts = ", ".join(f"{n:,} {table}" for table, n in d["counts"].items() if n)
            console.print(_("valid: {counts}").format(counts=counts), markup=False, soft_wrap=True)
            for warning in d["warnings"]:
                console.print(f"{_('warning:')} {warning}", markup=False, soft_wrap=True)
        else:
            count = len(d["problems"])
            console.print(ngettext("invalid: {n} problem", "invalid: {n} problems", count).format(n=count))
            for p in d["problems"]:
                # One problem per line, never wrapped: people grep these.
                console.print(f"{p['where']}: {p['message']}" if p["where"] else p["message"], markup=False,
                              soft_wrap=True)

    emit(fmt, data, text)
    if problems:
        raise typer.Exit(1)


_TEXT_ACCEPT = "application/sparql-results+json, text/turtle"
_JSON_ACCEPT = "application/sparql-results+json, application/ld+json"


def _short_iri(iri: str, prefixes: list[tuple[str, str]]) -> str:
    for prefix, namespace in prefixes:
        local = iri[len(namespace):]
        if iri.startswith(namespace) and local and "/" not in local and "#" not in local:
            return f"{prefix}:{local}"
    return f"<{iri}>"


def _term_text(term: dict[str, str] | None, prefixes: list[tuple[str, str]]) -> str:
    """A SPARQL JSON term as people read it: prefixed IRIs, plain literal values, ``_:b`` blank nodes."""
    if term is None:
        return ""
    if term["type"] == "uri":
        return _short_iri(term["value"], prefixes)
    if term["type"] == "bnode":
        return f"_:{term['value']}"
    return term["value"]


def _render_solutions(data: dict[str, Any]) -> None:
    # The longest namespace first, so that id: does not shadow dependency: and the like.
    prefixes = sorted(export_prefixes(scheme()), key=lambda p: -len(p[1]))
    if "boolean" in data:
        console.print("true" if data["boolean"] else "false")
        return
    columns = data["head"]["vars"]
    rows = data["results"]["bindings"]
    table = Table(show_edge=False, header_style="bold")
    for column in columns:
        table.add_column(escape(column), overflow="fold")
    for row in rows:
        table.add_row(*(escape(_term_text(row.get(c), prefixes)) for c in columns))
    console.print(table)
    rows_text = ngettext("{n} row", "{n} rows", len(rows)).format(n=f"{len(rows):,}")
    console.print(f"[dim]{rows_text}[/]")


@app.command()
def sparql(
    query: Annotated[str | None, typer.Argument(help="A SPARQL 1.1 query (SELECT, ASK, CONSTRUCT, DESCRIBE); "
                                                     "'-' reads it from standard input.", show_default=False)]
    = None,
    file: Annotated[Path | None, typer.Option("--file", "-f", help="Read the query from this file.")] = None,
    timeout: Annotated[float, typer.Option("--timeout", min=0.001, help="Stop the query after this many seconds.")]
    = 60.0,
    max_rows: Annotated[int, typer.Option("--max-rows", min=1, help="Refuse answers with more rows (or triples).")]
    = 100_000,
    store: StoreOpt = None,
    fmt: FormatOpt = OutputFormat.text,
) -> None:
    """Run a read-only SPARQL 1.1 query on the graph (as `kg export` writes it, plus the ontology).

    SELECT prints a table (--format json: SPARQL JSON results), ASK true or false,
    CONSTRUCT and DESCRIBE Turtle (--format json: JSON-LD). The graph is loaded
    into a temporary Oxigraph store first (a few seconds for a large city);
    `kg serve` keeps it between queries at /v1/sparql.
    """
    if (query is None) == (file is None):
        fail(_("give the query as an argument ('-' for standard input) or with --file, not both"))
    try:
        text = file.read_text(encoding="utf-8") if file is not None else \
            sys.stdin.read() if query == "-" else str(query)
    except (OSError, UnicodeDecodeError) as exc:
        fail(_("cannot read the query from {path}: {reason}").format(path=file, reason=exc))
    accept = _JSON_ACCEPT if fmt is OutputFormat.json else _TEXT_ACCEPT
    with store_session(store) as s:
        service = SparqlService(workers=1)
        try:
            answer = service.query(s, SparqlRequest(text, accept=accept), timeout_s=timeout, max_rows=max_rows)
        finally:
            service.close()
    if answer.kind == "graph":
        sys.stdout.write(answer.body.decode("utf-8"))
        return
    emit(fmt, json.loads(answer.body), _render_solutions)
