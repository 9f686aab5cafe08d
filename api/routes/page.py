"""The web page: ``GET /`` and its files under ``/static/`` (no key needed; the page asks for one).

The page is plain HTML, CSS and JavaScript modules shipped in ``api/static`` as
package data: no build step, nothing fetched from elsewhere. Its Content
Security Policy allows this origin only, so a stray CDN reference fails loudly
in the browser (and in the end-to-end tests) instead of silently needing a
network the city's control room may not have.
"""

from __future__ import annotations

from pathlib import Path

from fastapi import APIRouter
from fastapi.responses import FileResponse, Response

from api.problems import APIProblem

__all__ = ["STATIC_DIR", "router"]

STATIC_DIR = Path(__file__).resolve().parent.parent / "static"
"""Where the page's files are (inside the installed package)."""

_CSP = ("default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data: blob:; "
        "connect-src 'self'; font-src 'self'; object-src 'none'; base-uri 'none'; frame-ancestors 'none'; "
        "form-action 'none'")
_HEADERS = {"Content-Security-Policy": _CSP, "X-Content-Type-Options": "nosniff", "Referrer-Policy": "no-referrer"}
_TYPES = {".html": "text/html; charset=utf-8", ".js": "text/javascript; charset=utf-8",
          ".css": "text/css; charset=utf-8", ".svg": "image/svg+xml", ".png": "image/png", ".txt": "text/plain"}

router = APIRouter(include_in_schema=False)


@router.get("/")
async def index() -> Response:
    """The page itself; it is revalidated on every load so an upgrade shows at once."""
    return FileResponse(STATIC_DIR / "index.html", media_type=_TYPES[".html"],
                        headers={**_HEADERS, "Cache-Control": "no-cache"})


@router.get("/static/{path:path}")
async def static(path: str) -> Response:
    """A file of the page; 404 for anything outside ``api/static`` or of an unknown type."""
    root = STATIC_DIR.resolve()
    target = (root / path).resolve()
    media = _TYPES.get(target.suffix)
    if media is None or not target.is_relative_to(root) or not target.is_file():
        raise APIProblem(404, f"no page file {path!r}")
    return FileResponse(target, media_type=media, headers={**_HEADERS, "Cache-Control": "no-cache"})
