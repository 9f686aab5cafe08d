"""What-if edits on a snapshot copy equal the cascade of a bundle edited the same way; bad edits are named."""

from __future__ import annotations

import csv
import io
import json
import re
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from kg.analysis.cascade import cascade
from kg.analysis.hazards import hazard_failures
from kg.analysis.whatif import (
    AddBuffer,
    AddDependency,
    Edit,
    Harden,
    RemoveDependency,
    WhatIfResult,
    apply_edits,
    parse_edits,
)
from kg.errors import ElementNotFound, ValidationError
from kg.scenario import Scenario
from kg.scenario import whatif as run_whatif
from kg.schema import TABLES
from kg.snapshot import GraphSnapshot, build_snapshot
from tests.helpers import run_kg, write_files
from tests.reference_cascade import Dep, snapshot_rows
from tests.test_cascade import BUFFERS, KINDS, TIMES, graphs

DEPENDENCIES = TABLES["dependencies"]
ZONES = (("z-flood", "Flood"), ("z-quake", "Earthquake"))


def whatif(snap: GraphSnapshot, edits: Any, *, fail: Any = None, hazard: Any = None,
           horizon: float | None = None) -> WhatIfResult:
    """The scenario runner's what-if of initial failures or hazard zones."""
    return run_whatif(snap, Scenario(fail=tuple(fail or ()), hazard=tuple(hazard or ()), horizon=horizon,
                                     edits=tuple(edits)))


def rows_of(assets: Any, deps: list[Dep], agencies: dict[str, str],
            exposures: list[tuple[str, str, float]]) -> dict[str, list[tuple[object, ...]]]:
    rows = snapshot_rows(assets, deps, agencies=agencies)
    rows["hazard_zones"] = [(z, h, None, None, None, None) for z, h in ZONES]
    rows["exposures"] = list(exposures)
    rows["fragilities"] = [("Flood", 1.0, "Substation", None, None), ("Earthquake", 2.0, "Substation", None, None)]
    return rows


def snap_of(rows: dict[str, list[tuple[object, ...]]]) -> GraphSnapshot:
    return build_snapshot(1, lambda t: rows[t])


def edit_rows(rows: dict[str, list[tuple[object, ...]]], edits: list[Edit]) -> dict[str, list[tuple[object, ...]]]:
    """The reference: the bundle's rows edited as a planner would edit the CSV files."""
    deps = [DEPENDENCIES.as_dict(d) for d in rows["dependencies"]]
    exposures = list(rows["exposures"])
    exposed = TABLES["exposures"].getter("asset", "zone")
    hazard = dict(ZONES)
    for e in edits:
        if isinstance(e, AddBuffer):
            for d in deps:
                if (d["dependent"], d["kind"], d["group"]) == (e.asset, e.kind, e.group or e.kind):
                    d["buffer_hours"] = max(float(d["buffer_hours"]), e.hours)
        elif isinstance(e, AddDependency):
            deps.append({"dependent": e.dependent, "provider": e.provider, "kind": e.kind,
                         "group": e.group or e.kind, "buffer_hours": e.buffer_hours})
        elif isinstance(e, RemoveDependency):
            deps = [d for d in deps if (d["dependent"], d["provider"], d["kind"], d["group"])
                    != (e.dependent, e.provider, e.kind, e.group or e.kind)]
        else:
            exposures = [x for x in exposures
                         if not (exposed(x)[0] == e.asset and hazard[str(exposed(x)[1])] == e.hazard)]
    return {**rows, "dependencies": [DEPENDENCIES.row(d) for d in deps], "exposures": exposures}


@st.composite
def cases(draw: st.DrawFn) -> tuple[dict[str, list[tuple[object, ...]]], list[Edit], dict[str, Any]]:
    assets, deps, agencies = draw(graphs())
    ids = [a for a, _, _ in assets]
    exposures = [(a, z, draw(st.sampled_from([0.5, 1.0, 2.5]))) for a in ids for z, _ in ZONES
                 if draw(st.integers(0, 3)) == 0]
    rows = rows_of(assets, deps, agencies, exposures)
    edits: list[Edit] = []
    current = [tuple(d) for d in deps]
    for _ in range(draw(st.integers(0, 4))):
        op = draw(st.sampled_from(["add_buffer", "add_dependency", "remove_dependency", "harden"]))
        if op == "add_buffer" and current:
            d, k, g = DEPENDENCIES.getter("dependent", "kind", "group")(draw(st.sampled_from(current)))
            edits.append(AddBuffer(str(d), str(k), draw(st.sampled_from(BUFFERS)), None if g == k else str(g)))
        elif op == "remove_dependency" and current:
            d, p, k, g = DEPENDENCIES.getter(*DEPENDENCIES.key)(draw(st.sampled_from(current)))
            edits.append(RemoveDependency(str(d), str(p), str(k), None if g == k else str(g)))
        elif op == "add_dependency" and len(ids) > 1:
            d, p = draw(st.permutations(ids))[:2]
            k = draw(st.sampled_from(KINDS))
            g = draw(st.sampled_from([None, "y"]))
            if any(DEPENDENCIES.getter(*DEPENDENCIES.key)(x) == (d, p, k, g or k) for x in current):
                continue
            edits.append(AddDependency(d, p, k, g, draw(st.sampled_from(BUFFERS))))
        elif op == "harden":
            edits.append(Harden(draw(st.sampled_from(ids)), draw(st.sampled_from(["Flood", "Earthquake"]))))
        else:
            continue
        current = list(edit_rows({**rows, "dependencies": current}, edits[-1:])["dependencies"])  # type: ignore[arg-type]
    if draw(st.booleans()):
        scenario: dict[str, Any] = {"hazard": draw(st.lists(st.sampled_from([z for z, _ in ZONES]), min_size=1,
                                                            max_size=2, unique=True))}
    else:
        scenario = {"fail": draw(st.lists(st.tuples(st.sampled_from(ids), st.sampled_from(TIMES)), min_size=1,
                                          max_size=3))}
    scenario["horizon"] = draw(st.sampled_from([None, None, 1.0, 3.0]))
    return rows, edits, scenario


def run(snap: GraphSnapshot, scenario: dict[str, Any]) -> dict[str, Any]:
    initial = scenario.get("fail") or [(a, 0.0) for a in hazard_failures(snap, scenario["hazard"])]
    return cascade(snap, initial, horizon=scenario["horizon"]).to_dict()


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(cases())
def test_whatif_equals_the_cascade_of_the_edited_bundle(case: Any) -> None:
    rows, edits, scenario = case
    snap = snap_of(rows)
    arrays = {name: getattr(snap, name).copy() for name in ("dep_provider", "dep_buffer", "group_buffer",
                                                            "exp_asset")}
    result = whatif(snap, edits, fail=scenario.get("fail"), hazard=scenario.get("hazard"),
                    horizon=scenario["horizon"]).to_dict()
    edited = snap_of(edit_rows(rows, edits))
    assert result["baseline"] == run(snap, scenario)
    assert result["modified"] == run(edited, scenario)
    for name, before in arrays.items():  # the original snapshot is untouched
        assert np.array_equal(getattr(snap, name), before), name
    before = {f["id"]: f["time"] for f in result["baseline"]["failures"]}
    after = {f["id"]: f["time"] for f in result["modified"]["failures"]}
    changes = result["changes"]
    assert changes["saved"] == sorted(set(before) - set(after))
    assert changes["new"] == sorted(set(after) - set(before))
    assert changes["delayed"] == [{"id": i, "from": before[i], "to": after[i]} for i in sorted(before)
                                  if i in after and after[i] > before[i]]
    assert changes["earlier"] == [{"id": i, "from": before[i], "to": after[i]} for i in sorted(before)
                                  if i in after and after[i] < before[i]]
    people = {f["id"]: f["population"] for f in result["baseline"]["failures"] + result["modified"]["failures"]}
    assert result["impact"]["saved"]["population"] == sum(people[i] for i in changes["saved"])
    assert result["impact"]["new"]["population"] == sum(people[i] for i in changes["new"])


# ---------------------------------------------------------------------- errors
SMALL = rows_of([("S", "d1", 0), ("T", "d1", 0), ("H", "d2", 300)],
                [("H", "S", "power", "power", 0.0)], {"H": "health", "S": "grid"}, [("S", "z-flood", 2.0)])


@pytest.mark.parametrize(("edits", "where", "says"), [
    ([{"op": "add_buffer", "asset": "X", "kind": "power", "hours": 2}], "edits[0].asset", "no asset with id 'X'"),
    ([{"op": "add_buffer", "asset": "H", "kind": "water", "hours": 2}], "edits[0]", "its groups (kind/group): power"),
    ([{"op": "add_dependency", "dependent": "H", "provider": "S", "kind": "power"}], "edits[0]", "already exists"),
    ([{"op": "add_dependency", "dependent": "H", "provider": "T", "kind": "powr"}], "edits[0].kind",
     "did you mean 'power'"),
    ([{"op": "add_dependency", "dependent": "H", "provider": "H", "kind": "power"}], "edits[0]",
     "cannot depend on itself"),
    ([{"op": "remove_dependency", "dependent": "H", "provider": "T", "kind": "power"}], "edits[0]",
     "no dependency H -> T"),
    ([{"op": "harden", "asset": "S", "hazard": "Flod"}], "edits[0].hazard", "did you mean 'Flood'"),
    ([{"op": "harden", "asset": "S"}], "edits[0].hazard", "missing"),
    ([{"op": "harden", "asset": "S", "hazard": "Flood", "height": 3}], "edits[0].height", "not a field of harden"),
    ([{"op": "add_buffer", "asset": "H", "kind": "power", "hours": -1}], "edits[0].hours", ">= 0"),
    ([{"op": "add_buffr"}], "edits[0].op", "did you mean 'add_buffer'"),
    ([{"op": "harden", "asset": "S", "hazard": "Flood"}, 3], "edits[1]", "expected an object"),
])
def test_a_bad_edit_is_named_by_its_json_path(edits: Any, where: str, says: str) -> None:
    snap = snap_of(SMALL)
    with pytest.raises(ValidationError) as caught:
        whatif(snap, parse_edits(edits), fail=[("S", 0.0)])
    assert [p.where for p in caught.value.problems] == [where], str(caught.value)
    assert says in caught.value.problems[0].message


def test_edits_apply_in_order_and_later_edits_see_earlier_ones() -> None:
    snap = snap_of(SMALL)
    edits = parse_edits([
        {"op": "add_dependency", "dependent": "H", "provider": "T", "kind": "power", "group": "backup"},
        {"op": "add_buffer", "asset": "H", "kind": "power", "group": "backup", "hours": 5},
        {"op": "remove_dependency", "dependent": "H", "provider": "S", "kind": "power"},
    ])
    result = whatif(snap, edits, fail=[("T", 1.0)])
    assert [(f.id, f.time) for f in result.modified.failures] == [("T", 1.0), ("H", 6.0)]
    assert result.changes.new == ("H",) and result.impact["new"].agencies == ("health",)
    with pytest.raises(ValidationError, match=r"edits\[1\]: there is no dependency"):
        apply_edits(snap, [RemoveDependency("H", "S", "power")] * 2)
    assert apply_edits(snap, [RemoveDependency("H", "S", "power")] * 2, strict=False).m == 0


def test_hardening_spares_the_asset_from_its_zone_only() -> None:
    snap = snap_of(SMALL)
    result = whatif(snap, [Harden("S", "Flood")], hazard=["z-flood"])
    assert [f.id for f in result.baseline.failures] == ["H", "S"]
    assert result.modified.failures == () and result.changes.saved == ("H", "S")
    assert whatif(snap, [Harden("S", "Earthquake")], hazard=["z-flood"]).changes.saved == ()
    with pytest.raises(ElementNotFound):
        whatif(snap, [], hazard=["z-none"])


# ---------------------------------------------------------------------- CLI
def _bundle(tmp: Path) -> str:
    files = {
        "regions.csv": "id,level,parent\ncq,city,\nd1,district,cq\n",
        "agencies.csv": "id,name\ngrid,Grid Co.\nhealth,Health Commission\n",
        "assets.csv": "id,type,region,agency,population\nS,Substation,d1,grid,0\nT,Substation,d1,grid,0\n"
                      "H,Hospital,d1,health,300\nC,Clinic,d1,health,40\n",
        "dependencies.csv": "dependent,provider,kind,buffer_hours\nH,S,power,0\nC,H,medical,0\n",
    }
    url = f"sqlite:///{tmp}/kg.db"
    assert run_kg("load", str(write_files(tmp / "b", files)), "--store", url).exit_code == 0
    return url


def test_kg_whatif_prints_the_json_and_a_briefing_with_what_got_worse(tmp_path: Path) -> None:
    url = _bundle(tmp_path)
    edits = tmp_path / "edits.json"
    edits.write_text(json.dumps({"edits": [
        {"op": "add_buffer", "asset": "H", "kind": "power", "hours": 4},
        {"op": "add_dependency", "dependent": "C", "provider": "T", "kind": "power"}]}))
    out = run_kg("whatif", "--edits", str(edits), "--fail", "S@2", "--fail", "T@1", "--store", url,
                 "--format", "json")
    assert out.exit_code == 0, out.stderr
    data = json.loads(out.stdout)
    assert set(data) >= {"baseline", "modified", "changes"}
    assert data["changes"] == {"saved": [], "new": [], "earlier": [{"id": "C", "from": 2.0, "to": 1.0}],
                               "delayed": [{"id": "H", "from": 2.0, "to": 6.0}]}
    text = run_kg("whatif", "--edits", str(edits), "--fail", "S@2", "--fail", "T@1", "--store", url)
    assert text.exit_code == 0
    assert "Worse:" in text.stdout and "Earlier (fail sooner)" in text.stdout and "Delayed" in text.stdout


def test_kg_whatif_names_the_file_and_the_path_of_a_bad_edit(tmp_path: Path) -> None:
    url = _bundle(tmp_path)
    edits = tmp_path / "edits.json"
    edits.write_text('[{"op": "add_buffer", "asset": "Q", "kind": "power", "hours": 1}]')
    out = run_kg("whatif", "--edits", str(edits), "--fail", "S", "--store", url)
    assert out.exit_code == 1
    assert f"{edits}: edits[0].asset: no asset with id 'Q'" in out.stderr and "Traceback" not in out.stderr
    edits.write_text('[{"op": "harden",\n "asset": }]')
    out = run_kg("whatif", "--edits", str(edits), "--fail", "S", "--store", url)
    assert out.exit_code == 1 and f"{edits}:2:11: invalid JSON" in out.stderr
    out = run_kg("whatif", "--edits", str(edits), "--store", url)
    assert out.exit_code == 1 and "either --fail" in out.stderr


def test_the_documented_edits_and_candidates_parse() -> None:
    doc = (Path(__file__).resolve().parents[1] / "docs" / "whatif.md").read_text(encoding="utf-8")
    blocks = re.findall(r"```json\n(.*?)```", doc, flags=re.S)
    edits = parse_edits(json.loads(blocks[0]))
    assert [e.op for e in edits] == ["add_buffer", "add_dependency", "add_dependency", "remove_dependency", "harden"]
    table = re.search(r"```csv\n(.*?)```", doc, flags=re.S)
    assert table is not None
    rows = list(csv.DictReader(io.StringIO(table.group(1))))
    assert [len(parse_edits(json.loads(r["edits"]))) for r in rows] == [1, 1]
    assert all(float(r["cost"]) > 0 for r in rows)
