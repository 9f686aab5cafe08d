"""Snapshots at scale: full builds (``--part build``) and small changes followed at once (``--part change``).

    python bench/snapshot.py --part change [--city FILE | --assets 100000] [--clients 4] [--keep DIR] [--json]

``--part change`` (the small-change half): copies the SQLite city ``--city``
(never written: the copy is) or generates one of ``--assets`` assets, starts
``kg serve`` on it (a subprocess on a free 127.0.0.1 port) and, while
``--clients`` threads hammer a snapshot-backed read endpoint
(``GET /v1/assets/{id}/dependents?depth=2`` of supply assets), runs ``kg load``
of a 10-row file in another process: two new assets (one in the middle of the
id order, one at its end), three renamed assets, four dependencies and an
exposure. It reports:

* how long after ``kg load`` ends the load is visible through the API (a new
  dependent of a substation listed by ``/dependents``, asked every 10 ms from
  the moment the load starts; target <= 1 s; negative when it shows before the
  CLI has exited), against a full snapshot build (what the next request waited
  for before); and how long after its commit (the store's version seen to
  change by a reader polling it every 2 ms: the CLI's own work and exit after
  the commit are not the server's time);
* request latency (p50, p99, max) before and during the change (p99 target
  < 200 ms), and errors;
* ``kg load`` of 10 rows in process, against the old full path (validation,
  write, then the baseline check over a snapshot built from the whole store),
  on the same copy in the same run: the ratio.

``--part build`` (the full-build half) runs ``bench/snapshot_build.py`` (full
builds vs the old builder, SQLite and Neo4j; its own arguments after ``--``);
``--part all`` runs both.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import shutil
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

import httpx

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.api import _free_port, _kg_command, _stop, _wait_ready
from kg.ingest import baseline_warnings, load_paths
from kg.load.plan import build_plan
from kg.schema import TABLES
from kg.snapshot_delta import catch_up
from kg.store import open_store
from kg.synth import city_rows, write_bundle

DEFAULT_CITY = "/tmp/citykg-bench-live-1m/city.db"
SUPPLY_TYPES = ("Substation", "TransmissionLine", "DistributionFeeder", "WaterMain", "TelecomExchange")
KEY = "bench-snapshot-read-key-0123456789"


# ------------------------------------------------------------------------------------------ the city
def _prepare(args: argparse.Namespace, work: Path) -> Path:
    """A SQLite city of the bench's own: a copy of ``--city`` (and its write-ahead log), or a generated one."""
    target = work / "city.db"
    if args.assets:
        store = open_store(f"sqlite:///{target}", create=True)
        try:
            write_bundle(city_rows(args.assets, seed=7), work / "bundle")
            load_paths(store, [work / "bundle"])
        finally:
            store.close()
        return target
    source = Path(args.city)
    for suffix in ("", "-wal"):
        if Path(f"{source}{suffix}").exists():
            shutil.copyfile(f"{source}{suffix}", f"{target}{suffix}")
    return target


def _pick(db: Path, seed: int) -> dict[str, Any]:
    """What the change touches and what the clients read, chosen by SQL (no snapshot in this process)."""
    con = sqlite3.connect(f"{db.as_uri()}?mode=ro", uri=True)
    try:
        marks = ",".join("?" * len(SUPPLY_TYPES))
        supply = [r[0] for r in con.execute(f"SELECT id FROM assets WHERE type IN ({marks}) LIMIT 20000",
                                            SUPPLY_TYPES)]
        rng = random.Random(seed)
        targets = rng.sample(supply, min(64, len(supply)))
        provider = con.execute("SELECT id FROM assets WHERE type = 'Substation' ORDER BY id LIMIT 1 OFFSET 7"
                               ).fetchone()[0]
        others = [r[0] for r in con.execute("SELECT id FROM assets ORDER BY id LIMIT 40 OFFSET 5000")]
        zone = con.execute("SELECT id FROM hazard_zones ORDER BY id LIMIT 1").fetchone()[0]
        columns = [c for c in TABLES["assets"].columns if c != "props"]
        rows = {r[0]: dict(zip(columns, r, strict=True))
                for r in con.execute(f"SELECT {', '.join(columns)} FROM assets WHERE id IN "
                                     f"({','.join('?' * len(others))})", others)}
    finally:
        con.close()
    return {"targets": targets, "provider": provider, "others": others, "zone": zone, "rows": rows}


def _ten_rows(picked: dict[str, Any], tag: str, folder: Path) -> tuple[Path, str]:
    """A 10-row JSON Lines load; returns it and the new asset that becomes a dependent of the substation."""
    provider, zone = picked["provider"], picked["zone"]
    middle, last = f"{provider}-{tag}", f"zzzz-bench-{tag}"
    base = picked["rows"][picked["others"][0]]
    lines: list[dict[str, Any]] = []
    for new_id in (middle, last):
        lines.append({"file": "assets", **{k: v for k, v in base.items() if v is not None}, "id": new_id,
                      "type": "Substation", "name": f"bench {tag}"})
    at = 1 + 3 * ("a", "b", "old", "c", "d").index(tag)
    renamed = picked["others"][at : at + 3]
    for aid in renamed:
        lines.append({"file": "assets", **{k: v for k, v in picked["rows"][aid].items() if v is not None},
                      "name": f"renamed {tag}"})
    lines += [
        {"file": "dependencies", "dependent": middle, "provider": provider, "kind": "power"},
        {"file": "dependencies", "dependent": last, "provider": provider, "kind": "power"},
        {"file": "dependencies", "dependent": picked["others"][20], "provider": middle, "kind": "power",
         "group": f"bench-{tag}"},
        {"file": "dependencies", "dependent": picked["others"][21], "provider": last, "kind": "power",
         "group": f"bench-{tag}"},
        {"file": "exposures", "asset": middle, "zone": zone, "intensity": 0.4},
    ]
    assert len(lines) == 10
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"change-{tag}.jsonl"
    path.write_text("".join(json.dumps(line) + "\n" for line in lines))
    return path, middle


# ------------------------------------------------------------------------------------------ the server
def _serve(url: str, port: int, log: Path) -> subprocess.Popen[bytes]:
    env = {**os.environ, "KG_API_KEYS": f"{KEY}:read", "KG_STORE": url}
    env.pop("KG_INSECURE_DEV", None)
    with log.open("wb") as sink:
        return subprocess.Popen([*_kg_command(), "serve", "--host", "127.0.0.1", "--port", str(port), "--log-level",
                                 "warning"], env=env, stdout=sink, stderr=subprocess.STDOUT)


def _dependents(client: httpx.Client, asset: str, depth: int) -> set[str]:
    r = client.get(f"/v1/assets/{asset}/dependents", params={"depth": depth})
    r.raise_for_status()
    return {row["id"] for row in r.json()["dependents"]}


class CommitWatch:
    """A thread reading the SQLite store's version every 2 ms: when it first changes is when the load committed."""

    def __init__(self, db: Path) -> None:
        self.committed: float | None = None
        self._db = db
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        con = sqlite3.connect(f"{self._db.as_uri()}?mode=ro", uri=True)
        try:
            version = self._version(con)
            while not self._stop.wait(0.002):
                if self._version(con) != version:
                    self.committed = time.perf_counter()
                    return
        finally:
            con.close()

    @staticmethod
    def _version(con: sqlite3.Connection) -> int:
        return int(con.execute("SELECT value FROM meta WHERE key = 'version'").fetchone()[0])

    def __enter__(self) -> CommitWatch:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()


class LoadRun:
    """``kg load`` in its own process, waited for by a thread that notes when it ended."""

    def __init__(self, command: list[str]) -> None:
        self._process = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
        self.ended: float | None = None
        self._out = b""
        self._thread = threading.Thread(target=self._wait, daemon=True)
        self._thread.start()

    def _wait(self) -> None:
        self._out, _ = self._process.communicate()
        self.ended = time.perf_counter()

    def failed(self) -> bool:
        return self.ended is not None and self._process.returncode != 0

    def output(self) -> str:
        return self._out.decode(errors="replace")

    def finish(self) -> float:
        """Wait for the load to end; when it did."""
        self._thread.join()
        assert self.ended is not None
        return self.ended


class Hammer:
    """``clients`` threads reading ``/dependents`` of the targets in turn, every latency kept with its start time."""

    def __init__(self, base: str, targets: list[str], clients: int) -> None:
        self.samples: list[tuple[float, float, bool]] = []  # (start, seconds, ok)
        self._stop = threading.Event()
        self._threads = [threading.Thread(target=self._run, args=(base, targets[i::clients]), daemon=True)
                         for i in range(clients)]

    def _run(self, base: str, targets: list[str]) -> None:
        with httpx.Client(base_url=base, headers={"Authorization": f"Bearer {KEY}"}, timeout=60) as client:
            while not self._stop.is_set():
                for asset in targets:
                    start = time.perf_counter()
                    try:
                        ok = client.get(f"/v1/assets/{asset}/dependents", params={"depth": 2}).status_code == 200
                    except httpx.HTTPError:
                        ok = False
                    self.samples.append((start, time.perf_counter() - start, ok))
                    if self._stop.is_set():
                        return

    def __enter__(self) -> Hammer:
        for t in self._threads:
            t.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        for t in self._threads:
            t.join()

    def window(self, start: float, stop: float) -> dict[str, Any]:
        lat = sorted(s for t, s, _ in self.samples if start <= t < stop)
        errors = sum(1 for t, _, ok in self.samples if start <= t < stop and not ok)
        if not lat:
            return {"requests": 0, "errors": errors}
        return {"requests": len(lat), "errors": errors, "p50_ms": 1000 * statistics.median(lat),
                "p99_ms": 1000 * lat[min(len(lat) - 1, int(0.99 * len(lat)))], "max_ms": 1000 * lat[-1]}


def run_change(args: argparse.Namespace, work: Path) -> dict[str, Any]:
    """The small-change half: visibility through the API, latency meanwhile, and ``kg load`` vs the old path."""
    db = _prepare(args, work)
    url = f"sqlite:///{db}"
    picked = _pick(db, args.seed)
    port = _free_port()
    base = f"http://127.0.0.1:{port}"
    log = work / "server.log"
    server = _serve(url, port, log)
    out: dict[str, Any] = {"store": str(db)}
    try:
        _wait_ready(base, server, log, timeout=300.0)
        with httpx.Client(base_url=base, headers={"Authorization": f"Bearer {KEY}"}, timeout=600) as client:
            started = time.perf_counter()
            while True:  # the server's first snapshot: a request past its time limit answers 504, ask again
                r = client.get(f"/v1/assets/{picked['provider']}/dependents", params={"depth": 1})
                if r.status_code != 504 or time.perf_counter() - started > 900:
                    break
            before = _dependents(client, picked["provider"], 1)
            out["server_first_snapshot_s"] = time.perf_counter() - started
            load_file, new_dependent = _ten_rows(picked, "a", work / "changes")
            assert new_dependent not in before
            with Hammer(base, picked["targets"], args.clients) as hammer:
                time.sleep(args.settle)
                with CommitWatch(db) as watch:
                    load_start = time.perf_counter()
                    load = LoadRun([*_kg_command(), "load", str(load_file), "--store", url, "--quiet"])
                    # Read from the start: the change may be visible before the CLI has exited.
                    while new_dependent not in _dependents(client, picked["provider"], 1):
                        if load.failed():
                            raise SystemExit(f"kg load failed:\n{load.output()}")
                        if time.perf_counter() - load_start > 600:
                            raise SystemExit("the load was not visible through the API after 600 s")
                        time.sleep(0.01)
                    visible = time.perf_counter()
                    load_end = load.finish()
                if load.failed():
                    raise SystemExit(f"kg load failed:\n{load.output()}")
                time.sleep(args.settle)
            out["kg_load_cli_s"] = load_end - load_start
            out["visible_after_load_s"] = visible - load_end
            out["visible_after_commit_s"] = None if watch.committed is None else visible - watch.committed
            out["latency_before"] = hammer.window(load_start - args.settle, load_start)
            out["latency_during"] = hammer.window(load_start, max(visible, load_end) + 1.0)
    finally:
        _stop(server)

    # kg load of 10 rows in process: as now, and the old full path (baseline check over a whole snapshot).
    store = open_store(url)
    try:
        snap = store.snapshot()  # the cache a long-lived process holds; followed below like the API does
        new_file, _ = _ten_rows(picked, "b", work / "changes")
        started = time.perf_counter()
        load_paths(store, [new_file])
        out["kg_load_10_rows_s"] = time.perf_counter() - started
        started = time.perf_counter()
        catch_up(snap, store)
        out["follow_10_rows_s"] = time.perf_counter() - started
        old_file, _ = _ten_rows(picked, "old", work / "changes")
        fresh = open_store(url)  # no cached snapshot: the old path built one from the whole store
        try:
            started = time.perf_counter()
            plan = build_plan([old_file], fresh)
            fresh.write(plan)
            baseline_warnings(fresh)
            out["old_path_10_rows_s"] = time.perf_counter() - started
        finally:
            fresh.close()
    finally:
        store.close()
    out["kg_load_ratio"] = out["old_path_10_rows_s"] / out["kg_load_10_rows_s"]
    return out


def run_build(args: argparse.Namespace, work: Path) -> dict[str, Any]:
    """The full-build half: ``bench/snapshot_build.py`` (its own arguments are given after ``--``)."""
    command = [sys.executable, str(Path(__file__).with_name("snapshot_build.py")), *args.build_args]
    if not any(a in ("--city", "--assets") for a in args.build_args):
        command += ["--assets", str(args.assets)] if args.assets else ["--city", args.city]
    done = subprocess.run(command, check=False)
    if done.returncode:
        raise SystemExit(f"bench/snapshot_build.py failed ({done.returncode})")
    return {"ran": " ".join(command)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--part", choices=("build", "change", "all"), default="all")
    parser.add_argument("--city", default=DEFAULT_CITY, help="SQLite city to copy (never written).")
    parser.add_argument("--assets", type=int, default=0, help="Generate a city of this many assets instead.")
    parser.add_argument("--clients", type=int, default=4, help="Threads reading through the API meanwhile.")
    parser.add_argument("--settle", type=float, default=3.0, help="Seconds of reading before and after the load.")
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--keep", type=Path, help="Work folder to keep (default: a temporary one).")
    parser.add_argument("--json", action="store_true", help="Print the results as JSON.")
    parser.add_argument("build_args", nargs="*", help="After --: arguments of bench/snapshot_build.py (--part build).")
    args = parser.parse_args()
    work = args.keep or Path(tempfile.mkdtemp(prefix="citykg-bench-snapshot-"))
    work.mkdir(parents=True, exist_ok=True)
    results: dict[str, Any] = {"cpus": os.cpu_count()}
    try:
        if args.part in ("change", "all"):
            results["change"] = run_change(args, work)
        if args.part in ("build", "all"):
            results["build"] = run_build(args, work)
    finally:
        if args.keep is None:
            shutil.rmtree(work, ignore_errors=True)
    if args.json:
        print(json.dumps(results, indent=2))
        return
    change = results.get("change")
    if change:
        during, before = change["latency_during"], change["latency_before"]
        print(f"small change on {change['store']}: server's first snapshot {change['server_first_snapshot_s']:.1f} s")
        after_commit = change["visible_after_commit_s"]
        after_load = change["visible_after_load_s"]
        print(f"  10-row `kg load` (CLI, own process) {change['kg_load_cli_s']:.2f} s; visible through the API "
              f"{1000 * abs(after_load):.0f} ms {'after' if after_load >= 0 else 'before'} it ended (target: at most "
              "1000 ms after), " + ("its commit not seen" if after_commit is None
                                    else f"{1000 * after_commit:.0f} ms after its commit"))
        print(f"  latency before: p50 {before.get('p50_ms', 0):.1f} ms, p99 {before.get('p99_ms', 0):.1f} ms "
              f"({before['requests']} requests); during: p50 {during.get('p50_ms', 0):.1f} ms, p99 "
              f"{during.get('p99_ms', 0):.1f} ms, max {during.get('max_ms', 0):.1f} ms ({during['requests']} "
              f"requests, {during['errors']} errors; target p99 < 200 ms)")
        print(f"  kg load of 10 rows in process: {change['kg_load_10_rows_s']:.3f} s vs the old full path "
              f"{change['old_path_10_rows_s']:.2f} s (**{change['kg_load_ratio']:.0f}x**); following it: "
              f"{1000 * change['follow_10_rows_s']:.0f} ms")


if __name__ == "__main__":
    main()
