"""``scripts/neo4j``: extra server settings from a ``neo4j.conf``-style file (``KG_NEO4J_CONF``)."""

from __future__ import annotations

import os
import subprocess
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


def test_an_unreadable_conf_file_is_refused_before_starting(tmp_path: Path) -> None:
    result = _script("start", tmp_path / "state", KG_NEO4J_CONF=str(tmp_path / "missing.conf"))
    assert result.returncode == 1
    assert "KG_NEO4J_CONF" in result.stderr and "missing.conf" in result.stderr
    assert not (tmp_path / "state" / "pid").exists()
