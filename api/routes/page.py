"""The web page: ``GET /`` and its files under ``/static/``, and the API reference pages ``/docs``
(Swagger UI) and ``/redoc`` (ReDoc). None needs a key (the page asks for one).

The page is plain HTML, CSS and JavaScript modules shipped in ``api/static`` as
package data: no build step, nothing fetched from elsewhere. Its Content
Security Policy allows this origin only, so a stray CDN reference fails loudly
in the browser (and in the end-to-end tests) instead of silently needing a
network the city's control room may not have. The reference pages are FastAPI's,
pointed at the Swagger UI and ReDoc bundles in ``api/static/vendor`` (copied there
from npm by ``scripts/vendor-docs-ui``) instead of a CDN, under the same kind of policy.

Files are held in memory once read (they are small) and revalidated by ETag, so
a page load costs a few cheap requests, not a thread-pool file read each.
"""

from __future__ import annotations

import hashlib
import threading
from pathlib import Path

from fastapi import APIRouter, Request
from fastapi.openapi.docs import get_redoc_html, get_swagger_ui_html
from fastapi.responses import HTMLResponse, Response

from api.problems import APIProblem
from kg.i18n import _l

__all__ = ["STATIC_DIR", "router"]

STATIC_DIR = Path(__file__).resolve().parent.parent / "static"
"""Where the page's files are (inside the installed package)."""

_CSP = ("default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data: blob:; "
        "connect-src 'self'; font-src 'self'; object-src 'none'; base-uri 'none'; frame-ancestors 'none'; "
        "form-action 'none'")
_HEADERS = {"Content-Security-Policy": _CSP, "X-Content-Type-Options": "nosniff", "Referrer-Policy": "no-referrer",
            "Cache-Control": "no-cache"}  # always revalidated (cheap: 304), so an upgrade shows at once
_TYPES = {".html": "text/html; charset=utf-8", ".js": "text/javascript; charset=utf-8",
          ".css": "text/css; charset=utf-8", ".svg": "image/svg+xml", ".png": "image/png", ".txt": "text/plain",
          ".json": "application/json"}

# FastAPI's reference pages start their viewer with an inline script, and ReDoc searches in a worker.
_DOCS_CSP = ("default-src 'self'; script-src 'self' 'unsafe-inline'; style-src 'self' 'unsafe-inline'; "
             "img-src 'self' data:; font-src 'self' data:; worker-src 'self' blob:; connect-src 'self'; "
             "object-src 'none'; base-uri 'none'; frame-ancestors 'none'; form-action 'none'")
_VENDOR = "/static/vendor"

_cache: dict[Path, tuple[float, bytes, str]] = {}
_cache_lock = threading.Lock()

router = APIRouter(include_in_schema=False)


def _read(path: Path) -> tuple[bytes, str]:
    """The file's bytes and ETag, re-read only when its modification time changes."""
    mtime = path.stat().st_mtime
    with _cache_lock:
        cached = _cache.get(path)
    if cached is not None and cached[0] == mtime:
        return cached[1], cached[2]
    body = path.read_bytes()
    etag = f'"{hashlib.sha256(body).hexdigest()[:20]}"'
    with _cache_lock:
        _cache[path] = (mtime, body, etag)
    return body, etag


def _serve(request: Request, path: Path) -> Response:
    body, etag = _read(path)
    headers = {**_HEADERS, "ETag": etag}
    if request.headers.get("if-none-match") == etag:
        return Response(status_code=304, headers=headers)
    return Response(body, media_type=_TYPES[path.suffix], headers=headers)


@router.get("/")
async def index(request: Request) -> Response:
    """The page itself."""
    return _serve(request, STATIC_DIR / "index.html")


@router.get("/static/{path:path}")
async def static(path: str, request: Request) -> Response:
    """A file of the page; 404 for anything outside ``api/static`` or of an unknown type."""
    root = STATIC_DIR.resolve()
    target = (root / path).resolve()
    if target.suffix not in _TYPES or not target.is_relative_to(root) or not target.is_file():
        raise APIProblem(404, _l("no page file {path}", path=repr(path)))
    return _serve(request, target)


def _reference(page: HTMLResponse) -> HTMLResponse:
    page.headers.update({**_HEADERS, "Content-Security-Policy": _DOCS_CSP})
    return page


def _prefix(request: Request) -> str:
    """The path the app is mounted under (a proxy's root_path), for the URLs the reference pages load."""
    return str(request.scope.get("root_path", "")).rstrip("/")


@router.get("/docs")
async def swagger_ui(request: Request) -> HTMLResponse:
    """The interactive API reference (Swagger UI), from this server's own files."""
    root = _prefix(request)
    return _reference(get_swagger_ui_html(
        openapi_url=f"{root}{request.app.openapi_url}", title=f"{request.app.title} — API reference",
        swagger_js_url=f"{root}{_VENDOR}/swagger-ui/swagger-ui-bundle.js",
        swagger_css_url=f"{root}{_VENDOR}/swagger-ui/swagger-ui.css",
        swagger_favicon_url=f"{root}/static/favicon.svg",
        swagger_ui_parameters={"validatorUrl": None}))  # no call to an online validator


@router.get("/redoc")
async def redoc(request: Request) -> HTMLResponse:
    """The API reference as one readable page (ReDoc), from this server's own files."""
    root = _prefix(request)
    return _reference(get_redoc_html(
        openapi_url=f"{root}{request.app.openapi_url}", title=f"{request.app.title} — API reference",
        redoc_js_url=f"{root}{_VENDOR}/redoc/redoc.standalone.js",
        redoc_favicon_url=f"{root}/static/favicon.svg", with_google_fonts=False))
