"""``kg mcp``: serve CityKG to a large-model assistant over MCP (stdio)."""

from __future__ import annotations

from typing import Annotated

import typer

from kg.cli.app import StoreOpt, app, store_session

__all__ = ["mcp_command"]


@app.command("mcp")
def mcp_command(
    store: StoreOpt = None,
    timeout: Annotated[float, typer.Option("--timeout", min=0.001, help="Time limit of one tool call, in seconds.")]
    = 30.0,
) -> None:
    """Serve the graph to an MCP assistant over stdin/stdout (see docs/assistants.md).

    For an assistant over HTTP, with API keys and roles, use kg serve --mcp.
    """
    from kg.assistants.local import serve_stdio  # the MCP SDK is imported only by this command

    with store_session(store) as s:
        serve_stdio(s, timeout_s=timeout)
