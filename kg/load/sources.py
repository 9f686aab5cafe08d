"""Streaming readers that turn bundle files into located raw rows.

A reader yields :class:`RawRow` objects (table, where, values) one at a time,
so a million-row file is never held in memory; malformed input becomes a
:class:`~kg.errors.Problem` and reading goes on, so a planner sees every
problem at once instead of one per run.
"""

from __future__ import annotations

import csv
import json
import sys
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

from pydantic import TypeAdapter
from pydantic import ValidationError as PydanticError

from kg.errors import Problem
from kg.i18n import N_, Message, _l
from kg.load.problems import describe_pydantic_errors, shown
from kg.model import PROPS_FIELD, PropName
from kg.rdf.suffixes import RDF_SUFFIXES
from kg.rows import RawRow
from kg.schema import TABLES, Table, table_for_name

__all__ = ["GIS_SUFFIXES", "RDF_SUFFIXES", "SourceFile", "discover", "read_rows"]

GIS_SUFFIXES = frozenset({".gpkg", ".geojson", ".shp"})
"""Files read as GIS layers (:mod:`kg.gis.read`): GeoPackage, GeoJSON, Shapefile."""
_BUNDLE_SUFFIXES = frozenset({".csv", ".jsonl", ".ndjson"}) | RDF_SUFFIXES | GIS_SUFFIXES
"""Files a bundle folder may hold (others, such as a README, are left alone)."""

Report = Callable[[Problem], None]
Progress = Callable[[int], None]
"""Called now and then with the number of bytes read since the last call (0 during long phases that read
nothing, such as SHACL), so that a caller can show progress or stop a load past its deadline by raising."""


@dataclass(frozen=True, slots=True)
class SourceFile:
    """A file to read, with the table it feeds (None for JSON Lines, which name it per line)."""

    path: Path
    table: str | None

    @property
    def format(self) -> str:
        suffix = self.path.suffix.lower()
        if suffix in RDF_SUFFIXES:
            return "rdf"
        if suffix in GIS_SUFFIXES:
            return "gis"
        return "jsonl" if suffix in {".jsonl", ".ndjson"} else "csv"


def discover(paths: list[Path], report: Report) -> list[SourceFile]:
    """Expand bundle folders and single files into source files, sorted into load order."""
    found: list[SourceFile] = []
    for path in paths:
        if path.is_dir():
            files = sorted(p for p in path.iterdir() if p.suffix.lower() in _BUNDLE_SUFFIXES)
            known = [p for p in files if table_for_name(p.name) or p.suffix.lower() not in {".csv", ".geojson", ".shp"}]
            if not known:
                expected = ", ".join(f"{t}.csv" for t in TABLES)
                report(Problem(str(path), _l("no bundle files found; expected some of {files}", files=expected)))
            for p in files:
                if p in known:
                    found.append(SourceFile(p, table_for_name(p.name)))
                else:
                    report(Problem(str(p), _l("not a bundle file name; expected one of {files}",
                                              files=", ".join(f"{t}.csv" for t in TABLES))))
        elif path.is_file():
            table = table_for_name(path.name)
            source = SourceFile(path, table)
            if path.suffix.lower() == ".json":
                report(Problem(str(path), _l(".json files are not read; give RDF as JSON-LD (.jsonld), Turtle "
                                             "(.ttl), N-Triples (.nt), N-Quads (.nq), TriG (.trig) or RDF/XML (.rdf), "
                                             "and rows as JSON Lines (.jsonl)")))
            elif source.format == "csv" and table is None:
                report(Problem(str(path), _l("cannot tell which table this CSV file holds; name it one of {files}",
                                             files=", ".join(f"{t}.csv" for t in TABLES))))
            elif source.format == "gis" and table is None and path.suffix.lower() != ".gpkg":
                report(Problem(str(path), _l("cannot tell which table this layer holds; name the file one of "
                                             "{files}", files=", ".join(f"{t}{path.suffix.lower()}" for t in TABLES))))
            else:
                found.append(source)
        else:
            report(Problem(str(path), _l("no such file or folder")))
    order = list(TABLES)
    return sorted(found, key=lambda s: (order.index(s.table) if s.table else -1, str(s.path)))


def _report_bad_utf8(path: Path, report: Report) -> None:
    """Name every line of ``path`` that is not valid UTF-8."""
    with path.open("rb") as stream:
        for number, raw in enumerate(stream, start=1):
            try:
                raw.decode("utf-8")
            except UnicodeDecodeError as exc:
                report(Problem(f"{path}:{number}", _l("invalid UTF-8 (byte {byte} of the line); save the file as "
                                                      "UTF-8", byte=exc.start + 1)))


def _read_text(source: SourceFile, report: Report, progress: Progress | None,
               rows: Callable[[Iterator[str]], Iterator[RawRow]]) -> Iterator[RawRow]:
    """Decode ``source`` as UTF-8 (the C decoder) and feed its lines to ``rows``.

    A file that is not valid UTF-8 stops where the decoder fails; its bad lines
    are then all reported, so the load fails with every location named.
    """
    with source.path.open(encoding="utf-8-sig", newline="") as stream:
        position = 0

        def lines() -> Iterator[str]:
            nonlocal position
            for number, line in enumerate(stream, start=1):
                if progress is not None and number % 4096 == 0:
                    now = stream.buffer.tell()  # type: ignore[attr-defined]
                    progress(now - position)
                    position = now
                yield line

        try:
            yield from rows(lines())
        except UnicodeDecodeError:
            _report_bad_utf8(source.path, report)
        if progress is not None:
            progress(source.path.stat().st_size - position)


def _read_csv(source: SourceFile, report: Report, progress: Progress | None) -> Iterator[RawRow]:
    assert source.table is not None
    table = source.table
    spec = TABLES[table]
    name = str(source.path)

    def rows(lines: Iterator[str]) -> Iterator[RawRow]:
        reader = csv.reader(lines)
        header: list[str] | None = None
        previous_end = 0
        try:
            for fields in reader:
                start = previous_end + 1
                previous_end = reader.line_num
                if not any(fields):  # a blank line, or a row of empty cells
                    continue
                if header is None:
                    header = [f.strip() for f in fields]
                    if not _check_header(header, spec, f"{name}:{start}", report):
                        return
                    continue
                if len(fields) != len(header):
                    counts = {"row": len(fields), "header": len(header), "columns": ", ".join(header)}
                    template = (N_("too few fields: the row has {row}, the header has {header} ({columns})")
                                if len(fields) < len(header) else
                                N_("too many fields: the row has {row}, the header has {header} ({columns})"))
                    report(Problem(f"{name}:{start}", _l(template, **counts)))
                    continue
                values = {col: val for col, val in zip(header, fields, strict=True) if val and not val.isspace()}
                yield RawRow(table, name, start, values)
        except csv.Error as exc:
            # What follows a row the csv module cannot read cannot be told apart reliably: stop here.
            report(Problem(f"{name}:{previous_end + 1}", _csv_error(exc)))
            return
        if header is None:
            required = ", ".join(_required(spec))
            report(Problem(name, _l("the file is empty; expected a header row with at least {columns}",
                                    columns=required)))

    yield from _read_text(source, report, progress, rows)


def _csv_error(exc: csv.Error) -> Message:
    text = str(exc)
    if "field larger than field limit" in text:
        return _l("a cell is longer than {n} characters, the most accepted (is a quote left open?); the rest of the "
                  "file was not read", n=f"{csv.field_size_limit():,}")
    return _l("cannot read this CSV row ({reason}); the rest of the file was not read", reason=text)


_COLUMN_NAME: TypeAdapter[str] = TypeAdapter(PropName)


def _column_name_ok(name: str, where: str, report: Report) -> bool:
    """Check an extra column's name once, in the header, rather than once per row."""
    try:
        _COLUMN_NAME.validate_python(name)
    except PydanticError as exc:
        for message in describe_pydantic_errors(exc, {}):
            report(Problem(where, _l("column {column}: {message}", column=shown(name), message=message)))
        return False
    return True


def _required(table: Table) -> list[str]:
    fields = table.record.model_fields
    return [c for c in table.columns if fields[c].is_required()]


def _check_header(header: list[str], table: Table, where: str, report: Report) -> bool:
    ok = True
    seen: set[str] = set()
    for col in header:
        if not col:
            report(Problem(where, _l("a column has an empty name; name every column in the header")))
            ok = False
        elif col == PROPS_FIELD:
            report(Problem(where, _l("column {column} is reserved (a row's extra columns are kept as its props); "
                                     "rename it", column=repr(PROPS_FIELD))))
            ok = False
        elif col not in table.columns and table.has_props and not _column_name_ok(col, where, report):
            ok = False
        elif col in seen:
            report(Problem(where, _l("column {column} appears twice in the header", column=repr(col))))
            ok = False
        seen.add(col)
    for col in _required(table):
        if col not in seen:
            report(Problem(where, _l("missing required column {column}; the header has: {columns}",
                                     column=repr(col), columns=", ".join(header))))
            ok = False
    return ok


def _read_jsonl(source: SourceFile, report: Report, progress: Progress | None) -> Iterator[RawRow]:
    name = str(source.path)

    def rows(lines: Iterator[str]) -> Iterator[RawRow]:
        empty = True
        for number, line in enumerate(lines, start=1):
            if not line.strip():
                continue
            empty = False
            where = f"{name}:{number}"
            try:
                obj = json.loads(line)
            except json.JSONDecodeError as exc:
                report(Problem(where, _l("invalid JSON ({reason} at column {column}); expected one object per line",
                                         reason=exc.msg, column=exc.colno)))
                continue
            except RecursionError:
                report(Problem(where, _l("JSON nested too deeply; expected one flat object per line (values are "
                                         "text or numbers)")))
                continue
            except ValueError:  # an integer of more digits than Python converts
                report(Problem(where, _l("a number has more than {n} digits; expected values a planner would write",
                                         n=f"{sys.get_int_max_str_digits():,}")))
                continue
            if not isinstance(obj, dict):
                report(Problem(where, _l("expected a JSON object per line")))
                continue
            file_field = obj.pop("file", None)
            table = table_for_name(str(file_field)) if file_field is not None else source.table
            if table is None:
                report(Problem(where, _l("field 'file' is {value}; expected one of {tables}", value=repr(file_field),
                                         tables=", ".join(TABLES))))
                continue
            values = {k: v for k, v in obj.items() if v is not None and v != ""}
            yield RawRow(table, name, number, values)
        if empty:
            report(Problem(name, _l("the file is empty; expected one JSON object per line with a 'file' field")))

    yield from _read_text(source, report, progress, rows)


def read_rows(source: SourceFile, report: Report, progress: Progress | None = None) -> Iterator[RawRow]:
    """Yield the rows of one source file, reporting what cannot be read."""
    if source.format == "rdf":
        # On use: the RDF reader brings pyoxigraph and pySHACL (50 MB), which a CSV load never needs.
        from kg.rdf.reader import read_rdf_rows

        yield from read_rdf_rows(source.path, report, progress)
    elif source.format == "gis":
        from kg.gis.read import read_gis_rows  # kg.gis imports this module, and GDAL only loads when needed

        yield from read_gis_rows(source.path, source.table, report)
        if progress is not None:
            progress(source.path.stat().st_size)
    elif source.format == "jsonl":
        yield from _read_jsonl(source, report, progress)
    else:
        yield from _read_csv(source, report, progress)
