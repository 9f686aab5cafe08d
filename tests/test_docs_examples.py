"""The tiny bundle in docs/data-format.md loads as documented."""

from __future__ import annotations

import json
import re
from pathlib import Path

from tests.helpers import run_kg, write_files

DOC = Path(__file__).resolve().parents[1] / "docs" / "data-format.md"
_FILES = ("regions.csv", "agencies.csv", "assets.csv", "dependencies.csv", "hazard_zones.csv", "exposures.csv",
          "fragilities.csv")


def _example_files() -> dict[str, str]:
    blocks = re.findall(r"```csv\n(.*?)```", DOC.read_text(encoding="utf-8"), flags=re.S)
    assert len(blocks) == len(_FILES), "the example should show one CSV block per bundle file"
    return dict(zip(_FILES, blocks, strict=True))


def test_documented_example_loads_and_answers(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path}/kg.db"
    result = run_kg("load", str(write_files(tmp_path / "b", _example_files())), "--store", url)
    assert result.exit_code == 0, result.stderr
    deps = json.loads(run_kg("dependents", "plant-1", "--store", url, "--format", "json").stdout)
    assert [(d["id"], d["depth"]) for d in deps["dependents"]] == [("sub-1", 1), ("sub-2", 1), ("hosp-1", 2)]
    asset = json.loads(run_kg("stats", "--store", url, "--format", "json").stdout)
    assert asset["counts"]["fragilities"] == 1


def test_jsonl_example_loads(tmp_path: Path) -> None:
    lines = re.search(r"```json\n(.*?)```", DOC.read_text(encoding="utf-8"), flags=re.S)
    assert lines is not None
    path = tmp_path / "city.jsonl"
    path.write_text(lines.group(1), encoding="utf-8")
    result = run_kg("load", str(path), "--store", f"sqlite:///{tmp_path}/kg.db", "--format", "json")
    assert result.exit_code == 0, result.stderr
    assert json.loads(result.stdout)["loaded"]["assets"] == 1
