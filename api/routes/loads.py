"""``POST /v1/loads``: load a bundle (a zip of CSV/JSON Lines files, or a JSON Lines body), like ``kg load``.

The body is spooled to a temporary folder and handed to :func:`kg.ingest.load_paths`,
which validates everything before writing anything: any problem answers 422
with the same ``FILE:LINE`` messages as ``kg load`` (file names relative to the
bundle, ``body.jsonl`` for a JSON Lines body) and the store is untouched.

Loads run one at a time per process. Validation has its own time limit,
``KG_LOAD_TIMEOUT_S``: past it, validation stops, nothing is written, the
answer is 413 and the next load may start. The write is never cut short: it
is one atomic transaction that cannot be interrupted safely, so answering
while it goes on to commit would mislead. A load that finds another one
running waits for it up to the same limit, then answers 503.
"""

from __future__ import annotations

import tempfile
import zipfile
from collections.abc import Iterator
from contextlib import contextmanager
from functools import partial
from pathlib import Path, PurePosixPath
from typing import Annotated, Any

import anyio
import anyio.to_thread
from fastapi import APIRouter, Depends, Request

from api.deps import RunDep, SettingsDep, StoreHolderDep, limit_concurrency, require_write
from api.problems import APIProblem, FieldError, problem_responses
from api.schemas import LoadPublic
from api.state import StoreHolder
from kg.errors import LoadTimeout, Problem, ValidationError
from kg.i18n import N_, _l, lazy_ngettext
from kg.ingest import LoadReport, load_paths
from kg.settings import Settings
from kg.store import Store

__all__ = ["router"]

ZIP_TYPES = frozenset({"application/zip", "application/x-zip-compressed"})
JSONL_TYPES = frozenset({"application/x-ndjson", "application/jsonl", "application/x-jsonlines"})
JSONL_NAME = "body.jsonl"

router = APIRouter(prefix="/v1/loads", tags=["loads"],
                   dependencies=[Depends(require_write), Depends(limit_concurrency)],
                   responses=problem_responses(400, 401, 403, 413, 415, 422, 429, 503))

_RETRY_AFTER_S = 5

_REQUEST_BODY = {
    "required": True,
    "description": "A zip of bundle files (flat, or in one folder), or JSON Lines with a `file` field per line.",
    "content": {
        "application/zip": {"schema": {"type": "string", "format": "binary"}},
        "application/x-ndjson": {"schema": {"type": "string"}},
    },
}


async def _store_to_load_into(holder: StoreHolderDep, run: RunDep) -> Store:
    """The store, created if it does not exist yet (a load is the one request that may create it)."""
    store = holder.opened
    return store if store is not None else await run(partial(holder.get, create=True))


@router.post("", response_model=LoadPublic, summary="Load a bundle (all or nothing)",
             openapi_extra={"requestBody": _REQUEST_BODY})
async def load(request: Request, settings: SettingsDep, store: Annotated[Store, Depends(_store_to_load_into)],
               holder: StoreHolderDep) -> dict[str, Any]:
    """Validate the whole bundle, then write it in one transaction; loading the same data twice changes nothing."""
    media = request.headers.get("content-type", "").partition(";")[0].strip().lower()
    if media not in ZIP_TYPES | JSONL_TYPES:
        raise APIProblem(415, _l("content type {media} is not a bundle; send application/zip (a zipped bundle "
                                 "folder) or application/x-ndjson (JSON Lines)", media=repr(media or "(none)")),
                         field="content-type")
    with tempfile.TemporaryDirectory(prefix="citykg-load-") as tmp:
        upload = Path(tmp) / ("upload.zip" if media in ZIP_TYPES else JSONL_NAME)
        size = 0
        async with await anyio.open_file(upload, "wb") as f:
            async for chunk in request.stream():
                size += len(chunk)
                await f.write(chunk)
        if size == 0:
            raise APIProblem(422, N_("the body is empty; send a zipped bundle or JSON Lines"), field="body")
        report = await anyio.to_thread.run_sync(_load, store, holder, settings, upload, media in ZIP_TYPES)
    return report.to_dict(_public_url(store.url))


def _load(store: Store, holder: StoreHolder, settings: Settings, upload: Path, is_zip: bool) -> LoadReport:
    root = upload.parent
    target = _unzip(upload, root / "bundle", settings) if is_zip else upload
    with _load_slot(holder, settings):
        try:
            report = load_paths(store, [target], timeout_s=settings.load_timeout_s)
        except LoadTimeout as exc:
            where = _relative(Problem(exc.where, ""), target).where if exc.where else None
            raise APIProblem(413, _l("nothing was loaded: validation did not finish within {seconds} s "
                                     "(KG_LOAD_TIMEOUT_S); send the data in smaller parts",
                                     seconds=f"{exc.seconds:g}"), field=where,
                             title=N_("Load too large to validate in time")) from None
        except ValidationError as exc:
            errors = [FieldError(field=p.where or "body", message=p.message)
                      for p in (_relative(p, target) for p in exc.problems)]
            count = f"{len(errors)}{'+' if exc.truncated else ''}"
            raise APIProblem(422, lazy_ngettext("nothing was loaded: {n} problem found",
                                                "nothing was loaded: {n} problems found", len(errors), n=count),
                             field=errors[0].field if errors else None, errors=errors, slug="invalid-data",
                             title=N_("Invalid data")) from None
        finally:
            holder.after_load()  # follow the load now, so the next request sees it (none waits on it)
    return LoadReport(counts=report.counts, warnings=[_relative(w, target) for w in report.warnings],
                      sources=report.sources, version=report.version)


@contextmanager
def _load_slot(holder: StoreHolder, settings: Settings) -> Iterator[None]:
    """The process's one load slot, waited for up to ``KG_LOAD_TIMEOUT_S`` (503 past it)."""
    if not holder.load_lock.acquire(timeout=settings.load_timeout_s):
        raise APIProblem(503, N_("another load is still running; try again shortly"), slug="load-in-progress",
                         title=N_("Another load is running"), headers={"Retry-After": str(_RETRY_AFTER_S)})
    try:
        yield
    finally:
        holder.load_lock.release()


def _relative(problem: Problem, target: Path) -> Problem:
    """The problem with the temporary folder taken out of its location."""
    folder = target if target.is_dir() else target.parent
    where = problem.where
    if where == str(folder):
        where = "body"
    where = where.removeprefix(f"{folder}/")
    return Problem(where, problem.message.replace(f"{folder}/", ""))


def _unzip(upload: Path, out: Path, settings: Settings) -> Path:
    """Extract a zip bundle flat into ``out``, refusing anything unsafe or over the limits."""
    try:
        archive = zipfile.ZipFile(upload)
    except (zipfile.BadZipFile, OSError):
        raise APIProblem(422, N_("the body is not a zip archive; send a zipped bundle folder"),
                         field="body") from None
    with archive:
        files = [m for m in archive.infolist() if not m.is_dir()]
        seen: set[str] = set()
        for m in files:
            name = PurePosixPath(m.filename)
            if name.is_absolute() or ".." in name.parts or "\\" in m.filename:
                raise APIProblem(422, _l("unsafe file name in the zip: {name}", name=repr(m.filename)), field="body")
            # Extracting both would silently keep the last; which one was meant cannot be told.
            if m.filename in seen:
                raise APIProblem(422, _l("the zip holds {name} twice; keep one", name=repr(m.filename)),
                                 field=m.filename)
            seen.add(m.filename)
        members = [m for m in files if not _ignored(m.filename)]
        if not members:
            raise APIProblem(422, N_("the zip holds no files; expected bundle files such as assets.csv"),
                             field="body")
        if len(members) > settings.max_zip_files:
            raise APIProblem(413, _l("the zip holds {n} files; at most {limit} are accepted", n=len(members),
                                     limit=settings.max_zip_files))
        folders = {PurePosixPath(m.filename).parent for m in members}
        if len(folders) > 1:
            raise APIProblem(422, _l("the zip holds files in several folders; a bundle is one folder of files "
                                     "({folders})", folders=", ".join(sorted(str(f) for f in folders))),
                             field="body")
        out.mkdir()
        budget = settings.max_unzipped_bytes
        for m in members:
            if m.file_size > budget:
                raise _too_big(settings)
            with archive.open(m) as src, (out / PurePosixPath(m.filename).name).open("wb") as dst:
                # Count what is really inflated: the sizes a zip declares can lie.
                while chunk := src.read(1 << 20):
                    budget -= len(chunk)
                    if budget < 0:
                        raise _too_big(settings)
                    dst.write(chunk)
    return out


def _too_big(settings: Settings) -> APIProblem:
    return APIProblem(413, _l("the zip inflates to more than {limit} bytes", limit=f"{settings.max_unzipped_bytes:,}"))


def _ignored(name: str) -> bool:
    """Archive clutter that is no part of a bundle (macOS resource forks, hidden files)."""
    parts = PurePosixPath(name).parts
    return any(p == "__MACOSX" or p.startswith(".") for p in parts)


def _public_url(url: str) -> str:
    """The store URL without credentials (``bolt://user:pass@host`` -> ``bolt://host``)."""
    scheme, sep, rest = url.partition("://")
    if not sep:
        return url
    authority, slash, path = rest.partition("/")
    return f"{scheme}://{authority.rpartition('@')[2]}{slash}{path}"

