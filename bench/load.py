"""Loading a generated city into SQLite: CityKG's validating loader vs a bare executemany floor.

    python bench/load.py [--assets 1000000] [--seed 7] [--keep DIR]

Both sides read the same CSV bundle and write the same rows into the same
tables (same primary keys) in one transaction. The floor does nothing else:
no validation, no reference checks, no snapshot. Each side runs in its own
subprocess so its peak memory (max RSS) is its own.
"""

from __future__ import annotations

import argparse
import csv
import json
import resource
import sqlite3
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from kg.schema import TABLES


def _floor(bundle: Path, db: Path) -> dict[str, float]:
    from kg.store.sqlite import _INDEXES, _ddl, _upsert  # the same schema and statements, nothing else

    con = sqlite3.connect(db, isolation_level=None)
    con.execute("PRAGMA journal_mode=WAL")
    con.execute("PRAGMA synchronous=NORMAL")
    con.execute(f"PRAGMA cache_size=-{256 * 1024}")  # as the store does
    for table in TABLES:
        con.execute(_ddl(table))
    for statement in _INDEXES:
        con.execute(statement)
    start = time.perf_counter()
    rows = 0
    con.execute("BEGIN")
    for table, spec in TABLES.items():
        path = bundle / f"{table}.csv"
        if not path.exists():
            continue
        width = len(spec.columns)
        with path.open(newline="", encoding="utf-8") as f:
            reader = csv.reader(f)
            next(reader)
            batch = [tuple(r[:width]) + (None,) * (width - len(r[:width])) for r in reader]
        con.executemany(_upsert(table), batch)
        rows += len(batch)
    con.execute("COMMIT")
    return {"seconds": time.perf_counter() - start, "rows": rows}


def _citykg(bundle: Path, db: Path) -> dict[str, float]:
    from kg.ingest import load_paths
    from kg.store import open_store

    store = open_store(f"sqlite:///{db}", create=True)
    start = time.perf_counter()
    report = load_paths(store, [bundle])
    seconds = time.perf_counter() - start
    store.close()
    return {"seconds": seconds, "rows": sum(report.counts.values())}


def _child(which: str, bundle: Path, db: Path) -> None:
    result = (_floor if which == "floor" else _citykg)(bundle, db)
    result["max_rss_mib"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(json.dumps(result))


def _run(which: str, bundle: Path, work: Path) -> dict[str, float]:
    db = work / f"{which}.db"
    out = subprocess.run([sys.executable, __file__, "--child", which, "--bundle", str(bundle), "--db", str(db)],
                         check=True, capture_output=True, text=True)
    return dict(json.loads(out.stdout.strip().splitlines()[-1]))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--assets", type=int, default=1_000_000)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--keep", type=Path, help="write the bundle and databases here and keep them")
    parser.add_argument("--child", choices=["floor", "citykg"], help=argparse.SUPPRESS)
    parser.add_argument("--bundle", type=Path, help=argparse.SUPPRESS)
    parser.add_argument("--db", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        _child(args.child, args.bundle, args.db)
        return

    from kg.synth import city_rows, write_bundle

    with tempfile.TemporaryDirectory() as tmp:
        work = args.keep or Path(tmp)
        work.mkdir(parents=True, exist_ok=True)
        bundle = work / "bundle"
        t = time.perf_counter()
        write_bundle(city_rows(args.assets, seed=args.seed), bundle)
        size = sum(p.stat().st_size for p in bundle.iterdir()) / 2**20
        print(f"generated a {args.assets:,}-asset bundle ({size:,.0f} MiB) in {time.perf_counter() - t:.1f} s")
        floor = _run("floor", bundle, work)
        ours = _run("citykg", bundle, work)
    rows = ours["rows"]
    print(f"{'':<28}{'seconds':>9}{'rows/s':>12}{'peak RSS MiB':>14}")
    for name, r in (("bare sqlite3 executemany", floor), ("CityKG kg load", ours)):
        print(f"{name:<28}{r['seconds']:>9.1f}{r['rows'] / r['seconds']:>12,.0f}{r['max_rss_mib']:>14,.0f}")
    ratio = ours["seconds"] / floor["seconds"]
    print(f"CityKG / floor: {ratio:.2f}x the time (target: within 3x); {rows:,.0f} rows")


if __name__ == "__main__":
    main()
