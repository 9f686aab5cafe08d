"""``kg serve``: run the REST API (``api.main:app``) with uvicorn.

The ``kg`` package never imports ``api`` (nor FastAPI): this command checks the
settings (:mod:`kg.settings`, which the server reads too), passes them on to the
server through ``KG_*`` environment variables (which every uvicorn worker
process inherits) and hands uvicorn the import string ``api.main:app``.
"""

from __future__ import annotations

import os
from typing import Annotated

import typer

from kg.cli.app import StoreOpt, app, err_console, fail
from kg.i18n import _

__all__ = ["serve"]


@app.command()
def serve(
    host: Annotated[str, typer.Option("--host", help="Address to bind.")] = "127.0.0.1",
    port: Annotated[int, typer.Option("--port", min=0, max=65535, help="Port to bind.")] = 8000,
    store: StoreOpt = None,
    workers: Annotated[int, typer.Option("--workers", min=1, help="Worker processes.")] = 1,
    insecure_dev: Annotated[bool, typer.Option(
        "--insecure-dev", help="Run without API keys (every caller is admin); loopback only.")] = False,
    log_level: Annotated[str, typer.Option("--log-level", help="uvicorn's log level.")] = "info",
    mqtt: Annotated[str | None, typer.Option(
        "--mqtt", envvar="KG_MQTT_URL", show_default=False,
        help="Record status events from mqtt://HOST:PORT/PREFIX (QoS 1, persistent session; docs/live.md).")] = None,
    mcp: Annotated[bool, typer.Option(
        "--mcp", help="Also serve MCP for large-model assistants at /mcp (Streamable HTTP, same keys and roles; "
                      "docs/assistants.md).")] = False,
) -> None:
    """Serve the REST API. Keys come from KG_API_KEYS ("KEY:ROLE,...", roles read < write < admin)."""
    # On use: pydantic-settings would add its import time to every other command.
    from kg.settings import SettingsError, is_loopback, load_settings

    if store:
        os.environ["KG_STORE"] = store
    if insecure_dev:
        os.environ["KG_INSECURE_DEV"] = "1"
    if mqtt:
        if workers > 1:
            fail(_("--mqtt needs --workers 1: one MQTT session per server (each worker would take the session over "
                   "from the others); run more servers without --mqtt for more readers"))
        os.environ["KG_MQTT_URL"] = mqtt
    if mcp:
        os.environ["KG_MCP"] = "1"
    try:
        settings = load_settings()
    except SettingsError as exc:
        fail(str(exc))
    if settings.auth_disabled and not is_loopback(host):
        fail(_("--insecure-dev (KG_INSECURE_DEV) runs without API keys and serves loopback only; refusing to bind "
               "{host}. Use --host 127.0.0.1, or set KG_API_KEYS to serve other machines").format(host=host))
    if settings.auth_disabled:
        err_console.print(
            "[bold red]" + "!" * 78 + "\n"
            "!!  INSECURE DEV MODE: no API keys, EVERY caller is admin (may load data).   !!\n"
            "!!  Loopback only: requests from other machines are refused.                  !!\n"
            + "!" * 78 + "[/]", highlight=False)

    import uvicorn

    uvicorn.run("api.main:app", host=host, port=port, workers=workers, access_log=False, log_level=log_level,
                server_header=False)
