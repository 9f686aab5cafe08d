"""``kg.plot.plot_cascade``: the cascade timeline as a picture (matplotlib, an optional extra)."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

import pytest

from kg.analysis.cascade import cascade
from kg.errors import ValidationError
from kg.plot import PlotUnavailable, plot_cascade
from kg.snapshot import build_snapshot
from kg.synth import city_rows


@pytest.fixture(scope="module")
def result() -> dict[str, Any]:
    rows = city_rows(1_000, seed=3)
    snap = build_snapshot(1, lambda table: rows.get(table, []))
    substation = next(r[0] for r in rows["assets"] if r[1] == "Substation")
    return cascade(snap, [(substation, 2.0)], horizon=48).to_dict()


@pytest.mark.parametrize("suffix, magic", [(".svg", b"<?xml"), (".png", b"\x89PNG"), (".pdf", b"%PDF")])
def test_the_timeline_is_drawn_in_the_format_of_the_file_name(result: dict[str, Any], tmp_path: Path,
                                                              suffix: str, magic: bytes) -> None:
    pytest.importorskip("matplotlib")
    out = plot_cascade(result, tmp_path / "report" / f"cascade{suffix}")
    assert out.read_bytes().startswith(magic)
    if suffix == ".svg":
        text = out.read_text(encoding="utf-8")
        assert f"{result['summary']['failed']:,} assets fail" in text  # the title says what happened
        assert "hours after the start" in text


def test_a_cascade_where_nothing_fails_still_draws(tmp_path: Path) -> None:
    pytest.importorskip("matplotlib")
    empty = {"initial": [], "horizon_hours": None, "failures": [], "crossings": [], "baseline_errors": [],
             "summary": {"failed": 0, "population": 0, "agencies": 0, "regions": {}}}
    assert "nothing fails" in plot_cascade(empty, tmp_path / "empty.svg").read_text(encoding="utf-8")


def test_bad_requests_are_named(result: dict[str, Any], tmp_path: Path) -> None:
    with pytest.raises(ValidationError, match=r"cascade\.gif: expected a file name ending in \.svg, \.png, \.pdf"):
        plot_cascade(result, tmp_path / "cascade.gif")
    monte_carlo = {"zones": ["z"], "samples": 10, "seed": 0, "total": {}, "districts": [], "probability": []}
    with pytest.raises(ValidationError, match="Monte Carlo"):
        plot_cascade(monte_carlo, tmp_path / "mc.svg")


def test_without_matplotlib_the_message_says_how_to_get_it(result: dict[str, Any], tmp_path: Path,
                                                            monkeypatch: pytest.MonkeyPatch) -> None:
    for name in [m for m in sys.modules if m == "matplotlib" or m.startswith("matplotlib.")]:
        monkeypatch.delitem(sys.modules, name)
    monkeypatch.setitem(sys.modules, "matplotlib", None)  # import matplotlib now raises ImportError
    with pytest.raises(PlotUnavailable, match=r"pip install 'citykg\[plot\]'"):
        plot_cascade(result, tmp_path / "cascade.png")
    assert not (tmp_path / "cascade.png").exists()
