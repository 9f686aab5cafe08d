"""The MCP Cypher tool refuses exactly what ``POST /v1/cypher`` refuses (the security suite's cases, real Neo4j).

The tool runs through the SDK's own client (in process) and the API through its
test client, on the same store; a query either gets rows from both or is refused
by both, and a refusal names the query and leaks nothing.
"""

from __future__ import annotations

import json
import logging
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from mcp import Client

from api.main import create_app
from kg.assistants.answers import Limits
from kg.assistants.gate import Gate
from kg.assistants.local import LocalServices
from kg.assistants.server import build_server
from kg.store.neo4j import Neo4jStore
from tests.api.conftest import auth, settings_for
from tests.conftest_stores import load
from tests.helpers import run_async
from tests.test_cypher_security import SECRET, Listener, cases
from tests.test_cypher_security import listener as listener  # a fixture
from tests.test_cypher_security import marker as marker
from tests.test_store_contract import TINY, bundle

pytestmark = pytest.mark.neo4j


def test_the_cypher_tool_refuses_what_the_api_refuses(neo4j_store: Neo4jStore, marker: tuple[Path, str],
                                                      listener: Listener, tmp_path: Path) -> None:
    load(neo4j_store, bundle(tmp_path / "bundle", TINY))
    path, secret = marker
    queries = [*cases(path, listener.port), "MATCH (a:Asset) RETURN a.id AS id ORDER BY id",
               "MATCH (d)-[:DEPENDS_ON]->(p) RETURN d.id AS d, p.id AS p ORDER BY d, p"]
    settings = settings_for(neo4j_store.url)
    limits = Limits(cypher_timeout_s=settings.cypher_timeout_s, cypher_row_limit=settings.cypher_row_limit)
    server = build_server(Gate(LocalServices(neo4j_store, limits), timeout_s=30,
                               logger=logging.getLogger("tests.mcp")))

    async def through_mcp() -> list[tuple[bool, str, object]]:
        async with Client(server) as client:
            out = []
            for query in queries:
                answer = await client.call_tool("cypher", {"query": query, "limit": 1000})
                text = answer.content[0].text  # type: ignore[union-attr]
                out.append((bool(answer.is_error), text, None if answer.is_error else json.loads(text)["rows"]))
            return out

    tool = run_async(through_mcp)
    with TestClient(create_app(settings, store=neo4j_store)) as client:
        api = [client.post("/v1/cypher", json={"query": q}, headers=auth("read")) for q in queries]
    refused = 0
    for query, (is_error, text, rows), response in zip(queries, tool, api, strict=True):
        assert is_error == (response.status_code != 200), (query, text, response.text)
        assert secret not in text and SECRET not in text
        if is_error:
            refused += 1
            assert "query" in text
        else:
            assert rows == response.json()["rows"], query
    assert refused > len(queries) // 2
    assert not listener.connections
