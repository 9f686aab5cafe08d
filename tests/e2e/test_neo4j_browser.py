"""Neo4j Browser as ``scripts/neo4j`` serves it: it loads from loopback alone, connects without
credentials to the server's Bolt port, and runs a query there.

Starts a throwaway server of its own (its own ``KG_NEO4J_STATE``), where the suite has Neo4j.
"""

from __future__ import annotations

import os
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.conftest_stores import neo4j_url

SCRIPT = Path(__file__).resolve().parents[2] / "scripts" / "neo4j"


def _script(command: str, state: Path) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "KG_NEO4J_STATE": str(state), "KG_NEO4J_HEAP": "512m", "KG_NEO4J_PAGECACHE": "64m"}
    return subprocess.run([str(SCRIPT), command], capture_output=True, text=True, timeout=300, env=env, check=False)


@pytest.fixture
def browser_url(tmp_path: Path) -> Iterator[str]:
    neo4j_url()  # where the suite has Neo4j (Java and the jars), this starts a second, small server
    state = tmp_path / "state"
    started = _script("start", state)
    try:
        assert started.returncode == 0, started.stderr
        yield (state / "browser_url").read_text(encoding="utf-8").strip()
    finally:
        _script("stop", state)


@pytest.mark.neo4j
def test_neo4j_browser_connects_by_itself_and_runs_a_query(browser: Any, browser_url: str) -> None:
    context = browser.new_context()
    # the Browser offers remote guides, fonts and telemetry; what it needs must come from loopback alone
    context.route("**/*", lambda route: route.continue_() if route.request.url.startswith(
        ("http://127.0.0.1:", "ws://127.0.0.1:", "data:")) else route.abort())
    page = context.new_page()
    try:
        page.goto(browser_url)
        page.get_by_text("server auth is disabled").wait_for(timeout=90_000)
        page.locator("[data-testid='activeEditor']").click()
        page.keyboard.type("RETURN 6 * 7 AS answer")
        page.keyboard.press("Enter")
        page.locator("[data-testid='frameCommand']", has_text="RETURN 6 * 7").wait_for(timeout=60_000)
        page.get_by_text("42", exact=True).first.wait_for(timeout=60_000)
    finally:
        context.close()
