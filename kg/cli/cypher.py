"""``kg cypher``: a planner's read-only Cypher query against the Neo4j store."""

from __future__ import annotations

import json
import logging
from typing import Annotated, Any

import typer
from rich.markup import escape
from rich.table import Table

from kg.cli.app import FormatOpt, OutputFormat, StoreOpt, app, console, emit, fail, store_session, warn
from kg.errors import UnsupportedOperation
from kg.i18n import _, _l, ngettext
from kg.store import store_url
from kg.store.base import CypherResult, CypherStore

__all__ = ["cypher", "parse_params"]

ParamOpt = Annotated[
    list[str] | None,
    typer.Option("--param", "-p", help="NAME=VALUE for $NAME (repeatable); VALUE is read as JSON when it is "
                 "JSON (5, true, [1,2], \"5\"), else as text."),
]


def parse_params(items: list[str] | None) -> dict[str, Any]:
    """``["k=v", ...]`` as query parameters; a value that parses as JSON is taken as JSON, else as text.

    Examples
    --------
    >>> parse_params(["id=s-001", "depth=3", "kinds=[\\"power\\"]", "code=\\"007\\""])
    {'id': 's-001', 'depth': 3, 'kinds': ['power'], 'code': '007'}
    """
    params: dict[str, Any] = {}
    for item in items or ():
        name, sep, value = item.partition("=")
        name = name.strip()
        if not sep or not name:
            fail(_("--param {value}: expected NAME=VALUE, e.g. {example}").format(value=repr(item),
                                                                                  example="--param id=s-0001"))
        try:
            params[name] = json.loads(value)
        except ValueError:
            params[name] = value
    return params


def _needs_neo4j(url: str) -> UnsupportedOperation:
    return UnsupportedOperation(_l(
        "kg cypher needs a Neo4j store, and {url} is not one; pass --store bolt://HOST:PORT (or set KG_STORE); "
        "`scripts/neo4j start` runs a local Neo4j and prints its URL", url=url))


def _cell(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, str):
        return value
    return json.dumps(value, ensure_ascii=False, separators=(", ", ": "))


def _render(result: CypherResult) -> None:
    if not result.columns:
        console.print(_("(the query returns no columns)"))
        return
    table = Table(show_edge=False, header_style="bold")
    for column in result.columns:
        table.add_column(escape(column), overflow="fold")
    for row in result.rows:
        table.add_row(*(escape(_cell(row[c])) for c in result.columns))
    console.print(table)
    rows = ngettext("{n} row", "{n} rows", len(result.rows)).format(n=f"{len(result.rows):,}")
    console.print(f"[dim]{rows}[/]")


@app.command()
def cypher(
    query: Annotated[str, typer.Argument(help="A read-only Cypher query, e.g. \"MATCH (h:Hospital) RETURN h.id\".",
                                         show_default=False)],
    param: ParamOpt = None,
    store: StoreOpt = None,
    fmt: FormatOpt = OutputFormat.text,
    limit: Annotated[int, typer.Option("--limit", min=1, help="Return at most this many rows.")] = 1000,
    timeout: Annotated[float, typer.Option("--timeout", min=0.001, help="Stop the query after this many seconds.")]
    = 30.0,
) -> None:
    """Run a read-only Cypher query on the Neo4j store (writes, schema and admin commands are refused)."""
    params = parse_params(param)
    # a query cut at its deadline makes the driver log the dropped connection; the timeout message says it all
    logging.getLogger("neo4j").setLevel(logging.CRITICAL)
    url = store_url(store)
    if url.startswith("sqlite:"):  # say so before opening (and so creating) a SQLite file
        fail(str(_needs_neo4j(url)))
    with store_session(url) as s:
        if not isinstance(s, CypherStore):
            raise _needs_neo4j(s.url)
        result = s.run_cypher(query, params, timeout_s=timeout, row_limit=limit)
    emit(fmt, result.rows, lambda _: _render(result))
    if result.truncated:
        warn(_("only the first {limit} rows are shown; the query has more (raise --limit, or add LIMIT / "
               "aggregation to the query)").format(limit=f"{limit:,}"))
