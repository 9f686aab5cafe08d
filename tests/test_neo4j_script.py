"""``scripts/neo4j``: extra server settings from a ``neo4j.conf``-style file (``KG_NEO4J_CONF``), Neo4j Browser."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import urllib.error
import urllib.request
from pathlib import Path

import pytest
from neo4j import GraphDatabase

from tests.conftest_stores import neo4j_url

SCRIPT = Path(__file__).resolve().parent.parent / "scripts" / "neo4j"


def _script(command: str, state: Path, **env: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([str(SCRIPT), command], capture_output=True, text=True, timeout=300,
                          env={**os.environ, "KG_NEO4J_STATE": str(state), **env}, check=False)


@pytest.mark.neo4j
def test_settings_of_a_conf_file_reach_the_server(tmp_path: Path) -> None:
    neo4j_url()  # where the suite has Neo4j (Java and the jars), this starts a second, small server
    conf = tmp_path / "extra.conf"
    # the last line tries to loosen a hardening setting: the launcher's value wins (docs/security.md)
    conf.write_text("# a comment\ndb.relationship_grouping_threshold=77\n"
                    "dbms.security.allow_csv_import_from_file_urls=true\n")
    state = tmp_path / "state"
    started = _script("start", state, KG_NEO4J_CONF=str(conf), KG_NEO4J_HEAP="512m", KG_NEO4J_PAGECACHE="64m")
    try:
        assert started.returncode == 0, started.stderr
        url = started.stdout.strip().splitlines()[-1]
        with GraphDatabase.driver(url) as driver:
            records = driver.execute_query("CALL dbms.listConfig('db.relationship_grouping_threshold') "
                                           "YIELD value RETURN value").records
            hardened = driver.execute_query("SHOW SETTINGS YIELD name, value "
                                            "WHERE name = 'dbms.security.allow_csv_import_from_file_urls' "
                                            "RETURN value").records
        assert [r["value"] for r in records] == ["77"]
        assert [r["value"] for r in hardened] == ["false"]
    finally:
        stopped = _script("stop", state)
    assert stopped.returncode == 0, stopped.stderr


def _get(url: str, *, data: bytes | None = None) -> tuple[int, str]:
    request = urllib.request.Request(url, data=data, headers={"Content-Type": "application/json"})
    try:
        with urllib.request.urlopen(request, timeout=30) as response:
            return response.status, response.read().decode()
    except urllib.error.HTTPError as err:
        return err.code, err.read().decode()


def _accepts(host: str, port: int) -> bool:
    try:
        with socket.create_connection((host, port), timeout=5):
            return True
    except OSError:
        return False


@pytest.mark.neo4j
def test_neo4j_browser_is_served_on_loopback_and_http_runs_no_cypher(tmp_path: Path) -> None:
    neo4j_url()  # where the suite has Neo4j (Java and the jars), this starts a second, small server
    conf = tmp_path / "open.conf"
    # a conf file asks for the HTTP Cypher endpoints on every interface: the launcher's values win
    conf.write_text("server.http_enabled_modules=TRANSACTIONAL_ENDPOINTS,QUERY_API_ENDPOINTS,BROWSER\n"
                    "server.http.listen_address=0.0.0.0:0\n")
    state = tmp_path / "state"
    started = _script("start", state, KG_NEO4J_CONF=str(conf), KG_NEO4J_HEAP="512m", KG_NEO4J_PAGECACHE="64m")
    try:
        assert started.returncode == 0, started.stderr
        bolt = started.stdout.strip().splitlines()[-1]
        browser = (state / "browser_url").read_text().strip()
        assert bolt.startswith("bolt://127.0.0.1:") and browser.startswith("http://127.0.0.1:")
        assert f"Neo4j Browser: {browser}" in started.stderr
        status = _script("status", state)
        assert status.returncode == 0 and status.stdout.strip().splitlines()[-1] == bolt
        assert f"Neo4j Browser: {browser}" in status.stderr

        code, page = _get(browser)
        assert code == 200 and "<title>Neo4j Browser</title>" in page
        # the Browser finds the Bolt port it is to connect to in the discovery document
        root = browser.split("/browser/", 1)[0]
        code, discovery = _get(root + "/")
        assert code == 200 and json.loads(discovery)["bolt_direct"] == bolt
        statement = json.dumps({"statements": [{"statement": "CREATE (:Written) RETURN 1"}]}).encode()
        assert _get(root + "/db/neo4j/tx/commit", data=statement)[0] == 404
        query = json.dumps({"statement": "CREATE (:Written) RETURN 1"}).encode()
        assert _get(root + "/db/neo4j/query/v2", data=query)[0] == 404

        port = int(root.rsplit(":", 1)[1])
        assert _accepts("127.0.0.1", port)
        assert not _accepts("127.0.0.2", port), "the HTTP port is bound beyond 127.0.0.1"
        with GraphDatabase.driver(bolt) as driver:
            written = driver.execute_query("MATCH (n:Written) RETURN count(n) AS n").records
        assert written[0]["n"] == 0
    finally:
        stopped = _script("stop", state)
    assert stopped.returncode == 0, stopped.stderr
    assert not (state / "browser_url").exists()


def test_an_unreadable_conf_file_is_refused_before_starting(tmp_path: Path) -> None:
    result = _script("start", tmp_path / "state", KG_NEO4J_CONF=str(tmp_path / "missing.conf"))
    assert result.returncode == 1
    assert "KG_NEO4J_CONF" in result.stderr and "missing.conf" in result.stderr
    assert not (tmp_path / "state" / "pid").exists()
