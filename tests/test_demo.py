"""``kg demo``: generates, loads and briefs; never clobbers someone else's store."""

from __future__ import annotations

import json
from pathlib import Path

from kg.synth import DISTRICTS
from tests.helpers import run_kg, write_files


def test_demo_json_answers_from_its_own_store(tmp_path: Path) -> None:
    result = run_kg("demo", "--assets", "1500", "--out", str(tmp_path / "d"), "--format", "json")
    assert result.exit_code == 0, result.stderr
    data = json.loads(result.stdout)
    assert data["loaded"]["assets"] == 1500
    assert data["store"] == f"sqlite:///{tmp_path / 'd' / 'citykg.db'}"
    assert (tmp_path / "d" / "bundle" / "assets.csv").exists()
    briefing = data["briefing"]
    assert briefing["initial"][0]["time"] == 8.0
    assert briefing["summary"]["failed"] == len(briefing["failures"]) > 1
    # the store the demo names answers the same question the same way
    again = run_kg("cascade", "--fail", f"{briefing['initial'][0]['id']}@8", "--store", data["store"],
                   "--format", "json")
    assert json.loads(again.stdout) == briefing


def test_demo_text_is_a_briefing_with_real_district_names(tmp_path: Path) -> None:
    result = run_kg("demo", "--assets", "1500", "--out", str(tmp_path / "d"))
    assert result.exit_code == 0, result.stderr
    assert "synthetic" in result.stdout
    assert "Cascade briefing" in result.stdout
    assert "Who must act first" in result.stdout
    assert sum(name in result.stdout for _, name, *_ in DISTRICTS) >= 5


def test_demo_refuses_to_clobber_a_store_with_data(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path}/mine.db"
    bundle = write_files(tmp_path / "b", {"regions.csv": "id,level\ncq,city\n"})
    assert run_kg("load", str(bundle), "--store", url).exit_code == 0
    result = run_kg("demo", "--assets", "1500", "--out", str(tmp_path / "d"), "--store", url)
    assert result.exit_code == 1
    assert "--replace" in result.stderr
