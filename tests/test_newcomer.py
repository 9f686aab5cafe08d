"""Rough edges a newcomer hit: the direct dependents come first, a horizon says where it counts from, singular
and plural, kg stats' title, kg --version, kg synth and python -m kg.synth."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from kg import __version__
from tests.helpers import run_kg, write_files


@pytest.fixture(scope="module")
def city(tmp_path_factory: pytest.TempPathFactory) -> str:
    root = tmp_path_factory.mktemp("newcomer")
    assert run_kg("synth", str(root / "bundle"), "--assets", "2000", "--seed", "7").exit_code == 0
    url = f"sqlite:///{root / 'kg.db'}"
    assert run_kg("load", str(root / "bundle"), "--store", url, "--quiet").exit_code == 0
    return url


def test_dependents_text_lists_the_fewest_hops_first(city: str) -> None:
    answer = json.loads(run_kg("dependents", "s-0007", "--depth", "2", "--store", city, "--format", "json").stdout)
    direct = {d["id"] for d in answer["dependents"] if d["depth"] == 1}
    assert 0 < len(direct) < len(answer["dependents"])
    text = run_kg("dependents", "s-0007", "--depth", "2", "--limit", str(len(direct)), "--store", city).stdout
    shown = {word for line in text.splitlines() for word in line.replace("│", " ").split() if word in direct}
    assert shown == direct


def test_a_horizon_says_it_counts_from_midnight(city: str) -> None:
    text = run_kg("cascade", "--fail", "s-0007@8", "--horizon", "4", "--store", city).stdout
    assert text.startswith("Situation (horizon 04:00, counted from 00:00, not from the first failure at 08:00): ")
    assert "counted from" not in run_kg("cascade", "--fail", "s-0007", "--horizon", "4", "--store", city).stdout


def test_singular_and_plural(tmp_path: Path) -> None:
    bundle = write_files(tmp_path / "b", {"regions.csv": "id,level,parent\ncq,city,\nyz,district,cq\n",
                                          "agencies.csv": "id\ngrid\n",
                                          "assets.csv": "id,type,region,agency\ns,Substation,yz,grid\n"})
    url = f"sqlite:///{tmp_path / 'kg.db'}"
    loaded = run_kg("load", str(bundle), "--store", url, "--quiet").stdout
    assert loaded.startswith(f"Loaded 2 regions, 1 agency, 1 asset into {url} (version 1).")
    situation = run_kg("cascade", "--fail", "s", "--store", url).stdout.splitlines()[0]
    assert situation == ("Situation (no horizon): 1 asset fails, 0 people affected, 1 agency and 1 district "
                         "involved.")


def test_stats_names_the_store_on_a_line_of_its_own(city: str) -> None:
    first, *_rest = run_kg("stats", "--store", city).stdout.splitlines()
    assert first.endswith(" (version 1)") and first.startswith("sqlite:///")


def test_version() -> None:
    result = run_kg("--version")
    assert result.exit_code == 0 and result.stdout == f"kg (CityKG) {__version__}\n"


def test_synth_writes_a_city_of_any_size(tmp_path: Path) -> None:
    result = run_kg("synth", str(tmp_path / "city.jsonl"), "--assets", "500", "--format", "json")
    assert result.exit_code == 0, result.stderr
    answer = json.loads(result.stdout)
    lines = (tmp_path / "city.jsonl").read_text(encoding="utf-8").splitlines()
    assert answer["counts"]["assets"] == 500 and len(lines) == sum(answer["counts"].values())
    module = subprocess.run([sys.executable, "-m", "kg.synth", "--help"], capture_output=True, text=True, check=True)
    assert "Generate a synthetic Chongqing" in module.stdout
