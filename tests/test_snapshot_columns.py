"""The columnar snapshot builders give exactly the snapshot of the old row-by-row builder.

Random cities (the synthetic generator's, then perturbed by hypothesis: missing
names, regions and coordinates, coordinates SQLite cannot read scaled, ids
with non-ASCII characters and the separator byte, more than 256 distinct
buffer hours, extra dependencies of new kinds and groups) are written to a
real SQLite file and a real Neo4j; each store's :meth:`build_snapshot` must
equal :func:`tests.reference_snapshot.reference_snapshot` over the store's own
rows, field by field.
"""

from __future__ import annotations

import dataclasses
import itertools
import math
import sqlite3
import sys
import tempfile
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from kg.interning import Packed, lookup, pack_strings, parse_ints
from kg.load.plan import LoadPlan
from kg.snapshot import GraphSnapshot
from kg.store import sqlite as sqlite_store
from kg.store.neo4j import Neo4jStore
from kg.store.sqlite import SQLiteStore
from kg.store.sqlite_scan import Moved, Scanner
from kg.store.sqlite_snapshot import _exact_scale
from kg.synth import city_rows
from tests.reference_snapshot import reference_snapshot

FLOATS = st.one_of(
    st.none(),
    st.sampled_from([0.0, 0.1, 29.55, -106.6, 255.9, -256.0, 300.0, 1e-300, 1e300, 0.125]),
    st.floats(min_value=-1e6, max_value=1e6, allow_nan=False),
)
LATITUDES = st.one_of(st.none(), st.sampled_from([0.0, 0.1, 29.55, -89.9, 0.125, 1e-300]),
                      st.floats(min_value=-90, max_value=90))
"""Neo4j keeps coordinates as WGS84 points, which refuse latitudes beyond 90 degrees."""
ID_CHARS = st.sampled_from(["a", "b", "Z", "0", "-", "é", "重", "\x1f", "🙂"])


def assert_same(new: GraphSnapshot, old: GraphSnapshot) -> None:
    """Every field equal: arrays in dtype, shape and values (NaN equal to NaN), the rest by ``==``."""
    for field in dataclasses.fields(GraphSnapshot):
        a, b = getattr(new, field.name), getattr(old, field.name)
        if isinstance(b, np.ndarray):
            assert isinstance(a, np.ndarray), field.name
            assert (a.dtype, a.shape) == (b.dtype, b.shape), field.name
            assert np.array_equal(a, b, equal_nan=b.dtype.kind == "f"), field.name
        else:
            assert a == b, field.name


@st.composite
def cities(draw: st.DrawFn, *, unknown_ends: bool, latitudes: st.SearchStrategy[float | None] = FLOATS,
           longitudes: st.SearchStrategy[float | None] = FLOATS) -> dict[str, list[tuple[Any, ...]]]:
    """A synthetic city of 100-130 assets with perturbed rows (``unknown_ends``: edges to assets not there)."""
    rows = city_rows(draw(st.integers(100, 130)), draw(st.integers(0, 2**16)))
    assets = []
    for row in rows["assets"]:
        aid, atype, name, region, agency, lat, lon, population, hours, props = row
        if draw(st.integers(0, 5)) == 0:
            name = draw(st.none() | st.text(ID_CHARS, max_size=3))
            region = draw(st.sampled_from([None, region, "nowhere"]))
            agency = draw(st.sampled_from([None, agency]))
            lat, lon = draw(latitudes), draw(longitudes)
            population = draw(st.none() | st.integers(0, 10**6))
            hours = draw(FLOATS)
        assets.append((aid, atype, name, region, agency, lat, lon, population, hours, props))
    ids = [a[0] for a in assets]
    for suffix in draw(st.lists(st.text(ID_CHARS, min_size=1, max_size=3), max_size=4, unique=True)):
        assets.append((f"x{suffix}", draw(st.sampled_from(sorted({a[1] for a in rows["assets"]}))), None,
                       None, None, draw(latitudes), draw(longitudes), None, None, None))
        ids.append(f"x{suffix}")
    deps = {row[:4]: row for row in rows["dependencies"]}
    spread = draw(st.sampled_from(["few", "narrow", "wide"]))
    if spread == "narrow":  # more than 256 distinct buffer hours within a few binades: SQLite reads them scaled
        deps = {key: (*key, 0.001 * i) for i, key in enumerate(deps)}
    elif spread == "wide":  # ... over many binades: row by row
        deps = {key: (*key, 2.0 ** (i % 40 - 20) * (1 + i / 997)) for i, key in enumerate(deps)}
    ends = st.sampled_from(ids + (["ghost"] if unknown_ends else []))
    for _ in range(draw(st.integers(0, 12))):
        key = (draw(ends), draw(ends), draw(st.sampled_from(["power", "water", "zeta", "alpha"])),
               draw(st.sampled_from(["power", "g1", "a", "backup"])))
        deps[key] = (*key, draw(FLOATS))
    exposures = {row[:2]: row for row in rows["exposures"]}
    zones = [z[0] for z in rows["hazard_zones"]]
    for _ in range(draw(st.integers(0, 6))):
        key = (draw(st.sampled_from(ids)), draw(st.sampled_from(zones)))
        exposures[key] = (*key, draw(FLOATS | st.just(0.5)) or 0.25)
    # Written in any order: a store's scan order need not be its key order.
    return {**rows, "assets": sorted(assets), "dependencies": draw(st.permutations(sorted(deps.values()))),
            "exposures": draw(st.permutations(sorted(exposures.values())))}


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(cities(unknown_ends=True), st.booleans())
def test_sqlite_columns_give_the_old_snapshot(city: dict[str, list[tuple[Any, ...]]], processes: bool) -> None:
    """Read here or, as a big file is, in child processes (the dependencies in two rowid ranges)."""
    with tempfile.TemporaryDirectory() as folder, pytest.MonkeyPatch.context() as patch:
        if processes:
            patch.setattr(sqlite_store, "SCAN_PROCESSES_BYTES", 0)
        store = SQLiteStore(str(Path(folder) / "city.db"), create=True)
        try:
            store.write(LoadPlan(rows=city))
            version = store.version()
            assert_same(store.build_snapshot(version), reference_snapshot(version, store.rows))
        finally:
            store.close()


def test_without_child_processes_the_columns_are_read_here(monkeypatch: pytest.MonkeyPatch,
                                                          tmp_path: Path) -> None:
    """A process that cannot start children (here: no Python where it should be) still builds the snapshot."""
    store = SQLiteStore(str(tmp_path / "city.db"), create=True)
    store.write(LoadPlan(rows=city_rows(300, 3)))
    version = store.version()
    uri = store.file.as_uri() + "?mode=ro"
    scanner = Scanner(uri, version, processes=True)
    assert scanner("SELECT count(*) FROM assets") == (300,) and scanner.processes
    for not_python in (str(tmp_path / "no-python"), "/bin/echo", ""):  # missing, another program, embedded
        monkeypatch.setattr(sys, "executable", not_python)
        scanner = Scanner(uri, version, processes=True)
        assert scanner("SELECT count(*) FROM assets") == (300,) and not scanner.processes
    monkeypatch.setattr(sqlite_store, "SCAN_PROCESSES_BYTES", 0)
    assert_same(store.build_snapshot(version), reference_snapshot(version, store.rows))
    store.close()


def test_a_child_reports_a_moved_store_and_sqlite_errors(tmp_path: Path) -> None:
    store = SQLiteStore(str(tmp_path / "city.db"), create=True)
    store.write(LoadPlan(rows=city_rows(120, 4)))
    uri = store.file.as_uri() + "?mode=ro"
    with pytest.raises(Moved):
        Scanner(uri, store.version() + 1, processes=True)("SELECT count(*) FROM assets")
    with pytest.raises(sqlite3.OperationalError, match="no such table") as caught:
        Scanner(uri, store.version(), processes=True)("SELECT * FROM nowhere")
    assert caught.value.sqlite_errorcode == sqlite3.SQLITE_ERROR
    store.close()


@pytest.mark.neo4j
def test_neo4j_columns_give_the_old_snapshot(neo4j_store: Neo4jStore) -> None:
    @settings(max_examples=10, deadline=None, suppress_health_check=[HealthCheck.too_slow])
    @given(cities(unknown_ends=False, latitudes=LATITUDES, longitudes=LATITUDES.map(lambda x: x and 2 * x)))
    def check(city: dict[str, list[tuple[Any, ...]]]) -> None:
        neo4j_store.clear()
        neo4j_store.write(LoadPlan(rows=city))
        version = neo4j_store.version()
        assert_same(neo4j_store.build_snapshot(version), reference_snapshot(version, neo4j_store.rows))

    check()


def test_the_snapshot_is_the_old_one_for_an_in_memory_store() -> None:
    store = SQLiteStore(":memory:")
    store.write(LoadPlan(rows=city_rows(200, 5)))
    assert_same(store.snapshot(), reference_snapshot(store.version(), store.rows))


@settings(max_examples=200, deadline=None)
@given(st.lists(st.text(ID_CHARS.filter(lambda c: c != "\x1f"), max_size=4), max_size=30),
       st.lists(st.text(ID_CHARS.filter(lambda c: c != "\x1f"), max_size=4), max_size=30))
def test_interning_and_lookup_match_dicts(keys: list[str], values: list[str]) -> None:
    packed = pack_strings(values)
    codes, distinct = packed.intern()
    expected = list(dict.fromkeys(values))
    assert distinct == expected
    assert codes.tolist() == [expected.index(v) for v in values]
    first = {k: i for i, k in reversed(list(enumerate(keys)))}
    assert lookup(pack_strings(keys), packed).tolist() == [first.get(v, -1) for v in values]
    unique = sorted(set(keys))
    assert pack_strings(unique).ascending() if unique else True
    assert packed.ascending() == all(a.encode() < b.encode() for a, b in itertools.pairwise(values))


def test_a_value_holding_the_separator_is_not_cut_wrongly() -> None:
    assert Packed.of(b"a\x1fb\x1fc", 2) is None
    assert Packed.of(b"", 1) is not None and Packed.of(b"", 1).strings() == [""]  # type: ignore[union-attr]


@settings(max_examples=300, deadline=None)
@given(st.lists(st.text(ID_CHARS, max_size=4), max_size=30), st.integers(-1, 1))
def test_a_packed_column_is_cut_where_split_cuts_it(values: list[str], off: int) -> None:
    """Cut exactly at the separators when the count is right, refused (None) when it is not."""
    text = "\x1f".join(values).encode()
    pieces = text.split(b"\x1f") if values else []
    count = len(pieces) + off
    packed = Packed.of(text, count)
    if not text and count in (0, 1):  # no value, or one empty value
        pieces = [b""] * count
    elif off or count < 0:
        assert packed is None
        return
    assert packed is not None
    assert [text[a:b] for a, b in zip(packed.starts.tolist(), packed.ends.tolist(), strict=True)] == pieces


@settings(max_examples=300, deadline=None)
@given(st.lists(st.integers(-(2**63), 2**63 - 1), max_size=30),
       st.sampled_from(["", "+", " ", "x", ",", "1" * 20, "-", "9223372036854775808"]), st.integers(0, 40))
def test_integers_are_parsed_exactly_and_anything_else_refused(values: list[int], junk: str, at: int) -> None:
    text = ",".join(map(str, values))
    parsed = parse_ints(text.encode(), len(values))
    assert parsed is not None and parsed.tolist() == values
    assert parse_ints(text.encode(), len(values) + 1) is None
    spoiled = text[:at] + junk + text[at:]
    try:
        expected: list[int] | None = [int(v) for v in spoiled.split(",")] if spoiled else []
    except ValueError:
        expected = None
    if expected is not None and (len(expected) != len(values) or any(not -(2**63) <= v < 2**63 for v in expected)
                                 or any(not v.lstrip("-").isdigit() for v in spoiled.split(",") if spoiled)):
        expected = None
    result = parse_ints(spoiled.encode(), len(values))
    assert (None if result is None else result.tolist()) == expected


@settings(max_examples=300, deadline=None)
@given(st.lists(st.floats(allow_nan=False, allow_infinity=False).filter(bool), min_size=1, max_size=40))
def test_a_power_of_two_scale_is_exact_or_refused(values: list[float]) -> None:
    """Every value becomes an integer below 2**63 exactly; None only when the magnitudes span over 11 binades."""
    magnitudes = [abs(v) for v in values]
    scale = _exact_scale(min(magnitudes), max(magnitudes))
    binades = {math.frexp(m)[1] for m in magnitudes}
    if scale is None:
        assert max(binades) - min(binades) > 10 or min(magnitudes) < 2.0**-940
        return
    for v in values:
        scaled = v * scale
        assert scaled == int(scaled) and abs(scaled) < 2**63 and int(scaled) / scale == v
