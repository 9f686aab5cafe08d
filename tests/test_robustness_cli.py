"""``kg robustness``: a loaded bundle's curve equals the plain reference; ``--plot`` draws it; bad input exits 1."""

from __future__ import annotations

import json
import tempfile
import xml.etree.ElementTree as ET
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from kg.analysis.robustness import attack_order
from kg.store import open_store
from tests.helpers import run_kg, write_files
from tests.reference_robustness import degree_order, reference_robustness

TYPES = ("Substation", "PowerPlant", "PumpingStation", "WaterMain", "CellTower", "ResidentialArea", "Hospital")
KINDS = ("power", "water", "telecom")
Deps = list[tuple[str, str, str, str, float]]


@st.composite
def bundles(draw: st.DrawFn) -> tuple[dict[str, str], dict[str, int], Deps]:
    n = draw(st.integers(1, 8))
    ids = [f"a{i}" for i in range(n)]
    types = {a: draw(st.sampled_from(TYPES)) for a in ids}
    population = {a: draw(st.integers(0, 30)) for a in ids}
    raw = draw(st.lists(st.tuples(st.integers(0, n - 1), st.integers(0, n - 1), st.sampled_from(KINDS),
                                  st.sampled_from(["", "x"])), max_size=3 * n))
    deps = {(ids[d], ids[p], k, g or k): 0.0 for d, p, k, g in raw if d != p}
    return types, population, [(d, p, k, g, b) for (d, p, k, g), b in deps.items()]


def _load(folder: Path, types: dict[str, str], population: dict[str, int], deps: Deps) -> str:
    files = {"regions.csv": "id,level\ncq,city\n",
             "assets.csv": "id,type,region,population\n" + "".join(
                 f"{a},{t},cq,{population[a]}\n" for a, t in types.items()),
             "dependencies.csv": "dependent,provider,kind,group\n" + "".join(
                 f"{d},{p},{k},{g}\n" for d, p, k, g, _ in deps)}
    url = f"sqlite:///{folder}/kg.db"
    loaded = run_kg("load", str(write_files(folder / "bundle", files)), "--store", url)
    assert loaded.exit_code == 0, loaded.stderr
    return url


def _curve(url: str, *args: str) -> dict[str, Any]:
    result = run_kg("robustness", *args, "--store", url, "--format", "json")
    assert result.exit_code == 0, result.stderr
    data: dict[str, Any] = json.loads(result.stdout)
    return data


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(bundles(), st.sampled_from(["supply", "mutual-giant"]), st.integers(1, 6), st.integers(0, 3))
def test_cli_curves_equal_the_reference(case: tuple[dict[str, str], dict[str, int], Deps], model: str, steps: int,
                                        seed: int) -> None:
    types, population, deps = case
    with tempfile.TemporaryDirectory() as tmp:
        url = _load(Path(tmp), types, population, deps)
        by_degree = _curve(url, "--model", model, "--attack", "degree", "--steps", str(steps))
        assert by_degree == reference_robustness(model, "degree", types, population, deps,
                                                 [degree_order(sorted(types), deps)], steps)
        randomly = _curve(url, "--model", model, "--attack", "random", "--steps", str(steps), "--samples", "3",
                          "--seed", str(seed))
        snap = open_store(url).snapshot()
        orders = [[snap.asset_ids[i] for i in attack_order(snap, "random", seed=seed, sample=s)] for s in range(3)]
        assert randomly == reference_robustness(model, "random", types, population, deps, orders, steps)


CITY = ({"s1": "Substation", "s2": "Substation", "t1": "CellTower", "t2": "CellTower", "h": "Hospital"},
        {"s1": 0, "s2": 0, "t1": 0, "t2": 0, "h": 500},
        [("s1", "s2", "power", "power", 0.0), ("t1", "t2", "telecom", "telecom", 0.0),
         ("s1", "t1", "telecom", "telecom", 0.0), ("t2", "s2", "power", "power", 0.0),
         ("h", "s1", "power", "power", 0.0), ("h", "s2", "power", "power", 0.0)])


@pytest.fixture(scope="module")
def city_url(tmp_path_factory: pytest.TempPathFactory) -> str:
    return _load(tmp_path_factory.mktemp("robustness"), *CITY)


def test_text_output_names_the_curve(city_url: str) -> None:
    result = run_kg("robustness", "--model", "mutual-giant", "--attack", "criticality", "--steps", "5",
                    "--store", city_url)
    assert result.exit_code == 0, result.stderr
    assert "mutual-giant model, criticality attack" in result.stdout
    data = _curve(city_url, "--model", "mutual-giant", "--attack", "criticality", "--steps", "5")
    assert f"R = {data['R']:.3f}" in result.stdout


def test_plot_png_is_a_picture_of_the_curve(city_url: str, tmp_path: Path) -> None:
    out = tmp_path / "deep" / "curve.png"
    result = run_kg("robustness", "--attack", "degree", "--steps", "5", "--plot", str(out), "--store", city_url)
    assert result.exit_code == 0, result.stderr
    data = out.read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n" and len(data) > 10_000
    from matplotlib import image

    pixels = image.imread(out)
    assert pixels.shape[0] > 400 and pixels.shape[1] > 600 and pixels.std() > 0.01  # not a blank page


def test_plot_svg_holds_the_curves_and_their_r(city_url: str, tmp_path: Path) -> None:
    out = tmp_path / "curve.svg"
    result = run_kg("robustness", "--model", "mutual-giant", "--attack", "degree", "--steps", "4", "--plot", str(out),
                    "--format", "json", "--store", city_url)
    assert result.exit_code == 0, result.stderr
    data = json.loads(result.stdout)
    root = ET.parse(out).getroot()
    assert root.tag.endswith("svg")
    text = out.read_text(encoding="utf-8")
    assert f"R = {data['R']:.3f}" in text and "people served" in text
    # two lines of 5 points each (functional, population) besides the diagonal and the critical point's line
    lines = [p for p in root.iter("{http://www.w3.org/2000/svg}path") if p.get("d", "").count("L") == 4]
    assert len(lines) >= 2


@pytest.mark.parametrize(("args", "message"), [
    (("--steps", "0"), "--steps must be an integer >= 1, got 0"),
    (("--samples", "0"), "--samples must be an integer >= 1, got 0"),
    (("--seed", "-1"), "--seed must be an integer >= 0, got -1"),
    (("--plot", "curve.txt"), "expected a file name ending in .svg, .png, .pdf"),
])
def test_bad_options_exit_1_with_the_reason(city_url: str, args: tuple[str, ...], message: str) -> None:
    result = run_kg("robustness", *args, "--store", city_url)
    assert result.exit_code == 1
    assert message in " ".join(result.stderr.split()) and "Traceback" not in result.stderr


def test_unknown_model_is_a_usage_error(city_url: str) -> None:
    result = run_kg("robustness", "--model", "giant", "--store", city_url)
    assert result.exit_code == 2 and "giant" in result.stderr


def test_timeout_stops_the_curve(city_url: str) -> None:
    result = run_kg("robustness", "--timeout", "0.001", "--steps", "1000", "--samples", "200", "--store", city_url)
    assert result.exit_code == 1 and "stopped after --timeout 0.001 s" in result.stderr
