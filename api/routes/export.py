"""``GET /v1/export``: the graph (or a subgraph) as Turtle, JSON-LD, N-Triples or RDF/XML, streamed;
or its GIS layers as GeoJSON (streamed the same way) or a GeoPackage (built whole: GDAL writes a file).

:func:`kg.rdf.export.export_rdf` writes to a text stream; here it runs on a
worker thread writing into a bounded queue that the response drains, so memory
stays flat whatever the size of the graph and a slow client slows the export
instead of buffering it. Bad filters (unknown ids) are found before the first
byte is sent, so they still answer a proper 404/422; the time limit applies up
to that first byte.
"""

from __future__ import annotations

import io
import logging
import queue
import shutil
import tempfile
import threading
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from enum import StrEnum
from functools import partial
from pathlib import Path
from typing import Annotated, Any, TextIO

from fastapi import APIRouter, Depends, Query, Response
from fastapi.responses import FileResponse, StreamingResponse
from starlette.background import BackgroundTask

from api.deps import RunDep, SettingsDep, StoreDep, limit_concurrency, require_read
from api.problems import APIProblem, at_most, field_problem, problem_responses
from kg.analysis.cancel import CancelToken
from kg.errors import ElementNotFound, KGError
from kg.gis.layers import LAYERS, Layer, cascade_layer, store_layers
from kg.gis.write import MEDIA_TYPES as GEO_MEDIA_TYPES
from kg.gis.write import write_geojson, write_gpkg
from kg.i18n import N_, _l
from kg.rdf.export import export_rdf
from kg.rdf.writers import MEDIA_TYPES
from kg.scenario import Scenario, cascade_of
from kg.store import Store

__all__ = ["ExportFormat", "RDFFormat", "router"]

_log = logging.getLogger("citykg.api")
_CHUNK = 64 * 1024


class ExportFormat(StrEnum):
    ttl = "ttl"
    jsonld = "jsonld"
    nt = "nt"
    rdfxml = "rdfxml"
    geojson = "geojson"
    gpkg = "gpkg"


RDFFormat = ExportFormat
"""The former name (the RDF formats are still the first four)."""

GeoLayer = StrEnum("GeoLayer", {name: name for name in LAYERS})  # type: ignore[misc]

_EXTENSIONS = {ExportFormat.ttl: "ttl", ExportFormat.jsonld: "jsonld", ExportFormat.nt: "nt",
               ExportFormat.rdfxml: "rdf", ExportFormat.geojson: "geojson", ExportFormat.gpkg: "gpkg"}

router = APIRouter(prefix="/v1/export", tags=["export"],
                   dependencies=[Depends(require_read), Depends(limit_concurrency)],
                   responses=problem_responses(401, 403, 404, 422, 429, 503, 504))

_RESPONSES: dict[int | str, dict[str, Any]] = {
    200: {
        "description": "The graph in the requested format, streamed.",
        "content": {
            "text/turtle": {"schema": {"type": "string"}},
            "application/ld+json": {"schema": {"type": "object"}},
            "application/n-triples": {"schema": {"type": "string"}},
            "application/rdf+xml": {"schema": {"type": "string"}},
            "application/geo+json": {"schema": {"type": "object"}},
            "application/geopackage+sqlite3": {"schema": {"type": "string", "format": "binary"}},
        },
    }
}


class _Stop(Exception):
    """The client went away: stop exporting."""


class _QueueWriter(io.TextIOBase):
    """A text stream whose writes reach the queue as UTF-8 chunks of about 64 KiB."""

    def __init__(self, chunks: queue.Queue[bytes | BaseException | None], stopped: threading.Event) -> None:
        self._chunks = chunks
        self._stopped = stopped
        self._parts: list[str] = []
        self._size = 0

    def write(self, text: str) -> int:
        self._parts.append(text)
        self._size += len(text)
        if self._size >= _CHUNK:
            self.flush()
        return len(text)

    def flush(self) -> None:
        if self._parts:
            data = "".join(self._parts).encode("utf-8")
            self._parts, self._size = [], 0
            while True:  # block while the client is slow, but notice when it leaves
                if self._stopped.is_set():
                    raise _Stop
                try:
                    self._chunks.put(data, timeout=0.5)
                    return
                except queue.Full:
                    continue


def _start_export(produce: Callable[[TextIO], object]) -> tuple[
    queue.Queue[bytes | BaseException | None], threading.Event
]:
    """Run ``produce(stream)`` on a worker thread; what it writes reaches the returned queue in chunks."""
    chunks: queue.Queue[bytes | BaseException | None] = queue.Queue(maxsize=16)
    stopped = threading.Event()

    def work() -> None:
        out = _QueueWriter(chunks, stopped)
        try:
            produce(out)  # type: ignore[arg-type]  # a TextIOBase is a text stream
            out.flush()
            chunks.put(None)
        except _Stop:
            pass
        except BaseException as exc:  # handed to the request: before the first byte it becomes a problem body
            chunks.put(exc)

    threading.Thread(target=work, name="citykg-export", daemon=True).start()
    return chunks, stopped


def _first(chunks: queue.Queue[bytes | BaseException | None], cancel: CancelToken) -> bytes | BaseException | None:
    """The export's first chunk (or its error), waited for no longer than the request's deadline."""
    while True:
        try:
            return chunks.get(timeout=0.05)
        except queue.Empty:
            cancel.check()  # past the deadline: the worker thread ends instead of waiting on


def _drain(first: bytes, chunks: queue.Queue[bytes | BaseException | None],
           stopped: threading.Event) -> Iterator[bytes]:
    try:
        yield first
        while (item := chunks.get()) is not None:
            if isinstance(item, BaseException):
                # Headers are gone already: all we can do is cut the stream short and say why in the log.
                _log.error("export failed after the response started: %s", item)
                return
            yield item
    finally:
        stopped.set()


@router.get("", response_class=StreamingResponse, responses=_RESPONSES, summary="Export as RDF (streamed)")
async def export(
    store: StoreDep,
    settings: SettingsDep,
    run: RunDep,
    format: Annotated[ExportFormat, Query(description="ttl (Turtle), jsonld (JSON-LD), nt (N-Triples), rdfxml "
                                                     "(RDF/XML); or GIS layers: geojson (GeoJSON), gpkg "
                                                     "(GeoPackage).")]
    = ExportFormat.ttl,
    region: Annotated[str | None, Query(description="Only assets in this region (any level below it; RDF).")] = None,
    agency: Annotated[str | None, Query(description="Only assets of this agency (or its branches; RDF).")] = None,
    around: Annotated[str | None, Query(description="Only assets within `depth` hops of this asset (RDF).")] = None,
    depth: Annotated[int, Query(ge=0, description="Hops around `around`.")] = 1,
    layer: Annotated[list[GeoLayer] | None, Query(description="GIS formats: only these layers (repeat); default "
                                                              "all.")] = None,
    fail: Annotated[list[str] | None, Query(description="GIS formats: add a `cascade` layer, the footprint of these "
                                                        "initial failures, `ID` or `ID@HOURS` (repeat).")] = None,
    hazard: Annotated[list[str] | None, Query(description="GIS formats: add a `cascade` layer, the footprint of "
                                                          "these hazard zones' cascade (repeat).")] = None,
    horizon: Annotated[float | None, Query(ge=0, description="With fail or hazard: failures up to this many hours.")]
    = None,
    start: Annotated[datetime | None, Query(description="With fail or hazard: the time of hour 0, ISO 8601 with "
                                                        "its UTC offset (default: now).")] = None,
) -> Response:
    """The graph in the ckg vocabulary, as ``kg export --rdf FORMAT`` writes it; filters select a
    subgraph that stands on its own (see docs/api.md). ``geojson`` and ``gpkg`` give the GIS layers of
    ``kg export --geo`` (assets, dependencies, hazard_zones, regions)."""
    at_most("depth", depth, settings.max_depth)
    layers = [x.value for x in layer] if layer else list(LAYERS)
    if (fail or hazard) and format not in (ExportFormat.gpkg, ExportFormat.geojson):
        raise APIProblem(422, N_("fail and hazard add a cascade layer to a GIS export; ask for format=geojson or "
                                 "gpkg"), field="format")
    footprint = await _footprint(store, run, fail, hazard, horizon, start) if fail or hazard else None

    def geo_layers() -> list[Layer]:
        return [*store_layers(store, layers), *([footprint] if footprint is not None else [])]

    if format is ExportFormat.gpkg:
        return await _geopackage(run, geo_layers)
    if format is ExportFormat.geojson:
        produce: Callable[[TextIO], object] = lambda out: write_geojson(geo_layers(), out)  # noqa: E731
    else:
        filters = {"region": region or None, "agency": agency or None, "around": around or None, "depth": depth}
        produce = partial(export_rdf, store, fmt=format.value, **filters)  # type: ignore[arg-type]
    chunks, stopped = _start_export(produce)
    try:
        first = await run(_first, chunks, run.cancel)
    except APIProblem:
        stopped.set()
        raise
    if isinstance(first, ElementNotFound):
        field = next((k for k in ("region", "agency", "around") if filters[k] == first.element_id), None)
        raise APIProblem(404, str(first), field=field)
    if isinstance(first, BaseException):
        raise first
    return StreamingResponse(
        _drain(first, chunks, stopped) if first is not None else iter([b""]),
        media_type=MEDIA_TYPES.get(format.value) or GEO_MEDIA_TYPES[format.value],
        headers={"Content-Disposition": f'attachment; filename="citykg.{_EXTENSIONS[format]}"'},
    )


async def _footprint(store: Store, run: Any, fail: list[str] | None, hazard: list[str] | None,
                     horizon: float | None, start: datetime | None) -> Layer:
    """The ``cascade`` layer of the scenario the query gives (errors name ``fail`` or ``hazard``)."""
    if fail and hazard:
        raise APIProblem(422, N_("give fail or hazard, not both"), field="hazard")
    if start is not None and start.tzinfo is None:
        raise APIProblem(422, N_("start needs its UTC offset (e.g. +08:00 for Chongqing)"), field="start")
    when = (start or datetime.now(UTC).replace(second=0, microsecond=0)).astimezone(UTC)
    initial = []
    for k, spec in enumerate(fail or []):
        asset, _, hours = spec.rpartition("@") if "@" in spec else (spec, "", "0")
        try:
            initial.append((asset, float(hours)))
        except ValueError:
            raise APIProblem(422, _l("{field}: expected ID or ID@HOURS, got {value}", field=f"fail[{k}]",
                                     value=repr(spec)), field=f"fail[{k}]") from None

    def footprint() -> Layer:
        snap = store.snapshot()
        try:
            scenario = Scenario(fail=tuple(initial), hazard=tuple(hazard or ()), horizon=horizon)
            return cascade_layer(cascade_of(snap, scenario), snap, when)
        except KGError as exc:
            problem = field_problem(exc, {"hazard": "hazard"})
            if problem is None:
                raise
            raise problem from None

    result: Layer = await run(footprint)
    return result


async def _geopackage(run: Any, layers: Callable[[], list[Layer]]) -> Response:
    """The layers as a GeoPackage: GDAL writes a file (SQLite), so it is built whole, then sent and deleted."""
    folder = tempfile.mkdtemp(prefix="citykg-export-")
    path = Path(folder) / "citykg.gpkg"

    def build() -> None:
        write_gpkg(layers(), path)

    try:
        await run(build)
    except BaseException:
        shutil.rmtree(folder, ignore_errors=True)
        raise
    return FileResponse(path, media_type=GEO_MEDIA_TYPES["gpkg"], filename="citykg.gpkg",
                        background=BackgroundTask(shutil.rmtree, folder, ignore_errors=True))
