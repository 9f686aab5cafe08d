"""``kg find``: assets by words, in Chinese or English (ids, names, type labels, places, agencies)."""

from __future__ import annotations

from typing import Annotated, Any

import typer
from rich.table import Table

from kg.cli.app import FormatOpt, OutputFormat, StoreOpt, app, console, emit, fail, store_session
from kg.i18n import _, current_language, ngettext
from kg.ontology import load_ontology
from kg.search import NAME_ZH

__all__ = ["find"]


@app.command()
def find(
    words: Annotated[list[str], typer.Argument(
        help="Words that must all be found: in the id, name or Chinese name, the type (变电站, hospital), a "
             "region above the asset (渝中, Yuzhong) or its agency.", show_default=False)],
    type: Annotated[str | None, typer.Option("--type", help="Only this asset class (and its subclasses).",
                                             show_default=False)] = None,
    region: Annotated[str | None, typer.Option("--region", help="Only assets in this region id, at any level "
                                               "below it.", show_default=False)] = None,
    agency: Annotated[str | None, typer.Option("--agency", help="Only assets of this agency id.",
                                               show_default=False)] = None,
    after: Annotated[str | None, typer.Option("--after", help="Start after this id (the previous page's "
                                              "next).", show_default=False)] = None,
    limit: Annotated[int, typer.Option("--limit", min=1, help="Most assets to list.")] = 50,
    store: StoreOpt = None,
    fmt: FormatOpt = OutputFormat.text,
) -> None:
    """Find assets by words (every word must match), sorted by id, a page at a time."""
    onto = load_ontology()
    if type is not None:
        named = onto.named(type, onto.asset_types)
        if named is None:
            fail(f"--type {type!r} is not an asset class; expected an ontology Asset class such as Substation, "
                 "or its label such as 变电站")
        type = named
    query = " ".join(words)
    with store_session(store) as s:
        rows = s.search(q=query, type=type, region=region, agency=agency, after=after, limit=limit + 1)
    data = [{k: v for k, v in r.items() if k != "table"} | {"props": r.get("props") or {}} for r in rows[:limit]]
    answer = {"query": query, "data": data, "count": len(data), "next": data[-1]["id"] if len(rows) > limit else None}
    emit(fmt, answer, _print)


def _print(answer: dict[str, Any]) -> None:
    onto = load_ontology()
    if not answer["data"]:
        console.print(_("No asset matches {query}.").format(query=repr(answer["query"])), markup=False)
        return
    table = Table(show_edge=False, header_style="bold")
    for col in (_("id"), _("type"), _("name"), _("region"), _("agency")):
        table.add_column(col)
    for a in answer["data"]:
        name = " / ".join(n for n in (a["name"], a["props"].get(NAME_ZH)) if n)
        table.add_row(a["id"], onto.label(a["type"], current_language()), name, a["region"] or "", a["agency"] or "")
    console.print(table, markup=False)
    n, query, after = answer["count"], repr(answer["query"]), answer["next"]
    more = _("; more after {id} (--after {id})").format(id=after) if after else ""
    line = ngettext("{n} asset matches {query}{more}.", "{n} assets match {query}{more}.", n)
    console.print(line.format(n=n, query=query, more=more), markup=False)
