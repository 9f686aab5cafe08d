"""Every category of bad input: exit 1, a FILE:LINE message saying what to fix, store untouched."""

from __future__ import annotations

from pathlib import Path

import pytest

from kg.store import open_store
from tests.helpers import run_kg, write_files

GOOD = {
    "regions.csv": "id,level,name,parent\ncq,city,Chongqing,\nyz,district,Yuzhong,cq\n",
    "agencies.csv": "id,name,level,parent,jurisdiction\npower,Power Co,city,,cq\n",
    "assets.csv": (
        "id,type,name,region,agency,lat,lon,population\n"
        "P1,PowerPlant,Plant,yz,power,29.5,106.5,0\n"
        "S1,Substation,Sub,yz,power,29.5,106.5,0\n"
        "H1,Hospital,Hosp,yz,,29.5,106.5,1200\n"
    ),
    "dependencies.csv": "dependent,provider,kind,group,buffer_hours\nS1,P1,power,,0\nH1,S1,power,,24\n",
}


def _bundle(tmp_path: Path, **changes: str | bytes) -> Path:
    files: dict[str, str | bytes] = {**GOOD, **changes}
    return write_files(tmp_path / "bundle", files)


@pytest.fixture
def store_url(tmp_path: Path) -> str:
    """A SQLite store already holding the good bundle, so 'unchanged' is a real check."""
    url = f"sqlite:///{tmp_path}/kg.db"
    assert run_kg("load", str(_bundle(tmp_path / "seed")), "--store", url).exit_code == 0
    return url


def _state(url: str) -> tuple[int, dict[str, int]]:
    store = open_store(url)
    try:
        stats = store.stats()
        return stats.version, stats.counts
    finally:
        store.close()


CASES = {
    "unknown type with suggestion": (
        {"assets.csv": GOOD["assets.csv"].replace("S1,Substation", "S1,Substaton")},
        "assets.csv:3", "did you mean 'Substation'",
    ),
    "dangling region": (
        {"assets.csv": GOOD["assets.csv"].replace("H1,Hospital,Hosp,yz", "H1,Hospital,Hosp,nowhere")},
        "assets.csv:4", "region 'nowhere' does not exist",
    ),
    "dangling provider": (
        {"dependencies.csv": GOOD["dependencies.csv"] + "H1,S9,power,,0\n"},
        "dependencies.csv:4", "provider 'S9' does not exist",
    ),
    "duplicate id": (
        {"assets.csv": GOOD["assets.csv"] + "S1,Substation,Again,yz,power,29.5,106.5,0\n"},
        "assets.csv:5", "duplicate id 'S1'",
    ),
    "id used by another kind": (
        {"assets.csv": GOOD["assets.csv"] + "yz,Substation,Clash,yz,power,29.5,106.5,0\n"},
        "assets.csv:5", "duplicate id 'yz'",
    ),
    "non-numeric": (
        {"assets.csv": GOOD["assets.csv"].replace("1200", "lots")},
        "assets.csv:4", "column 'population': expected a whole number, got 'lots'",
    ),
    "out of range latitude": (
        {"assets.csv": GOOD["assets.csv"].replace("Plant,yz,power,29.5", "Plant,yz,power,95")},
        "assets.csv:2", "column 'lat': expected a number <= 90",
    ),
    "negative buffer": (
        {"dependencies.csv": GOOD["dependencies.csv"].replace(",24", ",-3")},
        "dependencies.csv:3", "column 'buffer_hours': expected a number >= 0",
    ),
    "self dependency": (
        {"dependencies.csv": GOOD["dependencies.csv"] + "H1,H1,water,,0\n"},
        "dependencies.csv:4", "cannot depend on itself",
    ),
    "unknown kind": (
        {"dependencies.csv": GOOD["dependencies.csv"] + "H1,P1,powr,,0\n"},
        "dependencies.csv:4", "did you mean 'power'",
    ),
    "missing required column": (
        {"assets.csv": "id,name,region\nX,Thing,yz\n"},
        "assets.csv:1", "missing required column 'type'",
    ),
    "short row": (
        {"assets.csv": GOOD["assets.csv"] + "S2,Substation\n"},
        "assets.csv:5", "too few fields",
    ),
    "invalid utf-8": (
        {"assets.csv": GOOD["assets.csv"].encode() + b"S3,Substation,Bad \xff name,yz,power,29.5,106.5,0\n"},
        "assets.csv:5", "invalid UTF-8",
    ),
    "empty file": (
        {"regions.csv": ""},
        "regions.csv", "the file is empty",
    ),
    "region levels do not nest": (
        {"regions.csv": GOOD["regions.csv"] + "sub,subdistrict,Sub,cq\nbad,district,Bad,sub\n"},
        "regions.csv:5", "a district must be part of a region at a higher level",
    ),
    "city with a parent": (
        {"regions.csv": GOOD["regions.csv"] + "cq2,city,Other,yz\n"},
        "regions.csv:4", "a city must be part of a region at a higher level",
    ),
}


@pytest.mark.parametrize("name", sorted(CASES))
def test_bad_input_is_refused_with_location_and_store_unchanged(tmp_path: Path, store_url: str, name: str) -> None:
    changes, where, expected = CASES[name]
    before = _state(store_url)
    bundle = _bundle(tmp_path, **changes)
    result = run_kg("load", str(bundle), "--store", store_url)
    assert result.exit_code == 1, result.output
    assert "Traceback" not in result.output
    assert where in result.stderr, result.stderr
    assert expected in result.stderr, result.stderr
    assert _state(store_url) == before


def test_all_problems_are_listed_not_just_the_first(tmp_path: Path, store_url: str) -> None:
    assets = GOOD["assets.csv"] + "A,Substaton,,yz,,,,\nB,Hospital,,yz,,999,,\nC,Hospital,,zz,,,,\n"
    result = run_kg("load", str(_bundle(tmp_path, **{"assets.csv": assets})), "--store", store_url)
    assert result.exit_code == 1
    for line in ("assets.csv:5", "assets.csv:6"):
        assert line in result.stderr, result.stderr
    assert "3 problems found" in result.stderr or "2 problems found" in result.stderr


def test_loading_twice_leaves_the_same_graph(tmp_path: Path, store_url: str) -> None:
    _, counts = _state(store_url)
    assert run_kg("load", str(_bundle(tmp_path / "again")), "--store", store_url).exit_code == 0
    assert _state(store_url)[1] == counts


def test_missing_path_and_unknown_file_name(tmp_path: Path, store_url: str) -> None:
    result = run_kg("load", str(tmp_path / "nope"), "--store", store_url)
    assert result.exit_code == 1 and "no such file or folder" in result.stderr
    odd = write_files(tmp_path / "odd", {"things.csv": "id\nx\n"}) / "things.csv"
    result = run_kg("load", str(odd), "--store", store_url)
    assert result.exit_code == 1 and "cannot tell which table" in result.stderr


def test_bad_store_url_is_a_clean_error(tmp_path: Path) -> None:
    result = run_kg("stats", "--store", "postgres://x")
    assert result.exit_code == 1
    assert "unknown scheme 'postgres'" in result.stderr


def test_bad_json_lines_are_located(tmp_path: Path, store_url: str) -> None:
    before = _state(store_url)
    path = tmp_path / "city.jsonl"
    path.write_text(
        '{"file": "assets", "id": "X1", "type": "Hospital", "region": "yz"}\n'
        '{"file": "assets", "id": "X2", "type": "Hospital", "lat": "north"}\n'
        "{not json}\n"
        '{"file": "pipes", "id": "P"}\n',
        encoding="utf-8",
    )
    result = run_kg("load", str(path), "--store", store_url)
    assert result.exit_code == 1
    assert f"{path}:2: column 'lat': expected a number, got 'north'" in result.stderr
    assert f"{path}:3: invalid JSON" in result.stderr
    assert f"{path}:4: field 'file' is 'pipes'" in result.stderr
    assert _state(store_url) == before
