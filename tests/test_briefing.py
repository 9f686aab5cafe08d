"""The cascade briefing of ``kg cascade``: its key assets are the ontology's key facilities."""

from __future__ import annotations

from typing import Any

from rich.console import Console

from kg.analysis.cascade import cascade
from kg.cli.cascade import render_briefing
from kg.ontology import load_ontology
from kg.snapshot import build_snapshot


def test_the_timeline_names_the_failed_key_facilities_of_the_ontology() -> None:
    onto = load_ontology()
    root = onto.key_types[0]
    # one asset of every asset class, each on a longer buffer than the one before: at most two fail an hour
    types = sorted(onto.asset_types)
    assets: list[tuple[Any, ...]] = [("root", root, None, None, None, None, None, 0, None)]
    assets += [(f"a{k}", t, None, None, None, None, None, 0, None) for k, t in enumerate(types)]
    deps = [(f"a{k}", "root", "power", "power", float(k // 2 + 1)) for k in range(len(types))]
    tables: dict[str, list[tuple[Any, ...]]] = {"assets": assets, "dependencies": deps}
    snap = build_snapshot(1, lambda t: tables.get(t, []))
    result = cascade(snap, [("root", 0.0)])
    assert len(result.failures) == len(types) + 1 and max(f.time for f in result.failures) < 24

    out = Console(width=400, record=True, color_system=None)
    render_briefing(result, snap, out)
    text = out.export_text()
    assert len(onto.key_types) > 3 and any(t not in onto.key_types for t in types)
    for k, t in enumerate(types):
        assert (f"a{k} ({t})" in text) == (t in onto.key_types), f"{t}: key facility {t in onto.key_types}"
