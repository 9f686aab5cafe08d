"""GIS: a city's GeoPackage export, and exposures derived from hazard polygons, each against a peer.

    python bench/geo.py [--assets 1000000] [--zones 100] [--seed 7] [--city FILE.db]

1. **Export**: ``kg export --geo gpkg`` of a generated city (every layer), in a
   subprocess of its own (time, peak RSS), against the peer: pyogrio writing the
   same assets layer from arrays already in memory (GDAL's own cost, nothing
   read from a store). Its ratio is over the assets layer alone (the peer's
   work), and the whole export's time is printed too.
2. **Exposures**: ``kg.gis.exposures.derive_exposures`` (a bounding-box cut, then
   shapely's prepared, vectorised ``intersects_xy``; an STRtree for lines and
   polygons) for N random point assets and ``--zones`` random concave polygons,
   against the peer: ``intersects_xy`` of every asset, zone by zone.
   Both must give the same pairs (checked); target: under 30 s for 1M x 100.
"""

from __future__ import annotations

import argparse
import json
import math
import random
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import shapely


def _export(db: Path, out: Path, layers: list[str]) -> dict[str, float]:
    from kg.gis.layers import store_layers
    from kg.gis.write import write_gpkg
    from kg.store import open_store

    store = open_store(f"sqlite:///{db}")
    start = time.perf_counter()
    counts = write_gpkg(store_layers(store, layers), out)
    seconds = time.perf_counter() - start
    store.close()
    return {"seconds": seconds, "features": sum(counts.values())}


def _peer(db: Path, out: Path) -> dict[str, float]:
    import pyogrio.raw

    from kg.store import open_store

    store = open_store(f"sqlite:///{db}")
    from kg.schema import TABLES

    rows = list(store.rows("assets"))
    store.close()
    names = ["id", "type", "name", "region", "agency", "population"]
    column = {c: [row[i] for row in rows] for i, c in enumerate(TABLES["assets"].columns)}
    fields = [np.array(column[c], dtype=object) for c in names[:-1]]
    fields.append(np.array(column["population"], dtype=np.int64))
    wkb = shapely.to_wkb(shapely.points(np.array(column["lon"], dtype=float), np.array(column["lat"], dtype=float)))
    start = time.perf_counter()
    pyogrio.raw.write(out, wkb, fields, names, layer="assets", driver="GPKG", geometry_type="Point",
                      crs="EPSG:4326", layer_options={"SPATIAL_INDEX": "YES"})
    return {"seconds": time.perf_counter() - start, "features": len(rows)}


def _child(which: str, db: Path, out: Path) -> None:
    if which == "peer":
        result = _peer(db, out)
    else:
        result = _export(db, out, ["assets"] if which == "assets" else ["assets", "dependencies", "hazard_zones",
                                                                          "regions"])
    result["max_rss_mib"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(json.dumps(result))


def _run(which: str, db: Path, work: Path) -> dict[str, float]:
    out = work / f"{which}.gpkg"
    done = subprocess.run([sys.executable, __file__, "--child", which, "--db", str(db), "--out", str(out)],
                          check=True, capture_output=True, text=True)
    return dict(json.loads(done.stdout.strip().splitlines()[-1]))


def _star(rng: random.Random) -> shapely.Polygon:
    cx, cy, size = rng.uniform(106.3, 106.7), rng.uniform(29.3, 29.8), rng.uniform(0.01, 0.06)
    angles = sorted(rng.uniform(0, 2 * math.pi) for _ in range(rng.randint(6, 24)))
    return shapely.Polygon([(cx + math.cos(a) * size * rng.uniform(0.3, 1),
                             cy + math.sin(a) * size * rng.uniform(0.3, 1)) for a in angles])


def _exposures(assets: int, zones: int, seed: int) -> None:
    from kg.gis.exposures import derive_exposures

    rng = random.Random(seed)
    generator = np.random.default_rng(seed)
    x, y = generator.uniform(106.3, 106.7, assets), generator.uniform(29.3, 29.8, assets)
    points = list(shapely.points(x, y))
    ids = [f"a{i:07d}" for i in range(assets)]
    polygons = [_star(rng) for _ in range(zones)]
    zone_ids = [f"z{k:03d}" for k in range(zones)]
    start = time.perf_counter()
    ours = derive_exposures(zone_ids, polygons, [1.0] * zones, ids, points)
    ours_s = time.perf_counter() - start
    start = time.perf_counter()
    peer = [(ids[i], zone_ids[k], 1.0) for k, polygon in enumerate(polygons)
            for i in np.flatnonzero(shapely.intersects_xy(polygon, x, y)).tolist()]
    peer_s = time.perf_counter() - start
    assert ours == peer, "CityKG and the brute-force test disagree"
    print(f"exposures, {assets:,} assets x {zones} zones ({len(ours):,} pairs): CityKG {ours_s:.2f} s, "
          f"every point tested (intersects_xy) {peer_s:.2f} s -> {peer_s / ours_s:.1f}x faster (target: < 30 s)")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--assets", type=int, default=1_000_000)
    parser.add_argument("--zones", type=int, default=100)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--city", type=Path, help="an existing SQLite city to export (default: a generated one)")
    parser.add_argument("--child", choices=["peer", "assets", "all"], help=argparse.SUPPRESS)
    parser.add_argument("--db", type=Path, help=argparse.SUPPRESS)
    parser.add_argument("--out", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        _child(args.child, args.db, args.out)
        return

    from kg.ingest import load_paths
    from kg.store import open_store
    from kg.synth import city_rows, write_bundle

    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        db = args.city or work / "city.db"
        if args.city is None:
            t = time.perf_counter()
            write_bundle(city_rows(args.assets, seed=args.seed), work / "bundle")
            store = open_store(f"sqlite:///{db}", create=True)
            load_paths(store, [work / "bundle"])
            store.close()
            print(f"generated and loaded a {args.assets:,}-asset city in {time.perf_counter() - t:.1f} s")
        peer = _run("peer", db, work)
        assets = _run("assets", db, work)
        whole = _run("all", db, work)
    print(f"{'GeoPackage export':<44}{'seconds':>9}{'features':>12}{'peak RSS MiB':>14}")
    for name, r in (("pyogrio.raw.write, assets from arrays (peer)", peer),
                    ("kg export --geo gpkg --layer assets", assets), ("kg export --geo gpkg (all four layers)", whole)):
        print(f"{name:<44}{r['seconds']:>9.1f}{r['features']:>12,.0f}{r['max_rss_mib']:>14,.0f}")
    print(f"assets layer: CityKG / peer {assets['seconds'] / peer['seconds']:.2f}x the time (CityKG also reads the "
          "store and builds the columns)")
    _exposures(args.assets, args.zones, args.seed)


if __name__ == "__main__":
    main()
