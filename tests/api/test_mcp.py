"""``/mcp`` in process, through the SDK's client over the app's ASGI interface: the API's slots, the route.

The real server (``kg serve --mcp`` over TCP) is exercised in tests/test_assistants.py;
here the app's own limiter is held from the test, so a busy key is certain.
"""

from __future__ import annotations

import hashlib
import json
import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import httpx2
from fastapi import FastAPI
from fastapi.testclient import TestClient
from mcp import Client
from mcp.client.streamable_http import streamable_http_client
from mcp.types import CallToolResult

from api.logging import ACCESS_LOGGER
from api.main import create_app
from kg.store import Store
from tests.api.conftest import KEYS, City, auth, settings_for
from tests.helpers import run_async


@asynccontextmanager
async def connected(app: FastAPI, role: str) -> AsyncIterator[Client]:
    async with app.router.lifespan_context(app), \
            httpx2.AsyncClient(transport=httpx2.ASGITransport(app=app), base_url="http://127.0.0.1:8000",
                               headers=auth(role)) as http, \
            Client(streamable_http_client("http://127.0.0.1:8000/mcp", http_client=http)) as client:
        yield client


def _text(answer: CallToolResult) -> str:
    return str(answer.content[0].text)  # type: ignore[union-attr]


class _Lines(logging.Handler):
    def __init__(self) -> None:
        super().__init__()
        self.lines: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.lines.append(record.getMessage())


def test_a_busy_key_gets_a_tool_error_as_a_route_gets_429(store: Store, city: City) -> None:
    app = create_app(settings_for(store.url, mcp=True, max_concurrent_per_key=1), store=store)
    read_key = hashlib.sha256(KEYS["read"].encode()).digest()[:6].hex()  # how the limiter counts a key
    substation = city.first("Substation")

    async def session() -> list[tuple[bool, str]]:
        async with connected(app, "read") as client:
            out = []
            slot = app.state.limiter.acquire(read_key)  # another request of this key is running
            try:
                for name, arguments in (("cascade", {"fail": [{"id": substation}]}),
                                        ("dependents", {"asset_id": substation})):  # not expensive: no slot
                    answer = await client.call_tool(name, arguments)
                    out.append((bool(answer.is_error), _text(answer)))
            finally:
                app.state.limiter.release(slot)
            answer = await client.call_tool("cascade", {"fail": [{"id": substation}]})
            out.append((bool(answer.is_error), _text(answer)))
            return out

    lines = _Lines()
    logging.getLogger(ACCESS_LOGGER).addHandler(lines)
    try:
        (busy, busy_text), (cheap, _), (freed, freed_text) = run_async(session)
    finally:
        logging.getLogger(ACCESS_LOGGER).removeHandler(lines)
    assert busy and "KG_MAX_CONCURRENT_PER_KEY=1" in busy_text
    assert not cheap
    assert not freed and json.loads(freed_text)["summary"]["failed"] >= 1
    calls = [json.loads(line) for line in lines.lines if '"mcp_tool"' in line]
    assert [(c["mcp_tool"], c["outcome"]) for c in calls] == [("cascade", "refused"), ("dependents", "ok"),
                                                              ("cascade", "ok")]
    assert app.state.limiter.running() == 0


def test_mcp_is_served_only_when_asked(store: Store) -> None:
    body: dict[str, Any] = {"jsonrpc": "2.0", "id": 1, "method": "tools/list"}
    with TestClient(create_app(settings_for(store.url), store=store)) as client:
        assert client.post("/mcp", json=body, headers=auth("read")).status_code == 404
    with TestClient(create_app(settings_for(store.url, mcp=True), store=store)) as client:
        r = client.post("/mcp", json=body)
        assert r.status_code == 401 and r.json()["detail"].startswith("missing API key")
        assert r.headers["www-authenticate"].startswith("Bearer")


def test_insecure_dev_mcp_refuses_other_origins_and_host_names(store: Store) -> None:
    """Without keys, a web page must not drive the local server: not from another origin, not through a name
    resolving to 127.0.0.1 (DNS rebinding; the loopback-only middleware refuses that one already)."""
    from kg.settings import Settings

    app = create_app(Settings(insecure_dev=True, mcp=True, store=store.url), store=store)
    body = {"jsonrpc": "2.0", "id": 1, "method": "initialize", "params": {
        "protocolVersion": "2025-06-18", "capabilities": {}, "clientInfo": {"name": "t", "version": "1"}}}
    headers = {"Accept": "application/json, text/event-stream", "Content-Type": "application/json"}

    async def post() -> list[httpx2.Response]:
        async with app.router.lifespan_context(app), httpx2.AsyncClient(
                transport=httpx2.ASGITransport(app=app, client=("127.0.0.1", 50000))) as http:
            return [await http.post(f"http://{host}/mcp", json=body, headers={**headers, **extra})
                    for host, extra in (("127.0.0.1:8000", {}), ("127.0.0.1:8000", {"Origin": "http://localhost:3000"}),
                                        ("127.0.0.1:8000", {"Origin": "http://attacker.invalid"}),
                                        ("attacker.invalid:8000", {}))]

    local, local_page, other_page, rebound = run_async(post)
    assert local.status_code == 200 and local_page.status_code == 200, (local.text, local_page.text)
    assert other_page.status_code == 403 and "Origin" in other_page.text
    assert rebound.status_code == 403 and "loopback" in rebound.text
