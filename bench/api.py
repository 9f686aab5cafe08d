"""The REST API under load vs the same calls in-process: what HTTP costs.

    python bench/api.py [--assets 100000] [--clients 32] [--requests 2000] [--duration 60]
                        [--workers 1] [--store URL] [--keep DIR]

Generates a synthetic city (:func:`kg.synth.city_rows`), loads it into SQLite
(or uses ``--store``), starts ``kg serve`` as a subprocess on a free 127.0.0.1
port (loopback only), and sends ``--requests`` requests per endpoint from
``--clients`` concurrent ``httpx.AsyncClient`` clients (each phase also stops
after ``--duration`` seconds). The same calls are then made in-process by the
same number of threads, on the same snapshot, calling the same kg functions the
routes call. Latency is measured per call in both cases (client side for
HTTP); the p95 ratio HTTP / in-process is the HTTP overhead (target: under 3x
at 32 clients, zero errors).

Endpoints: ``GET /v1/assets/{id}/dependents`` and ``POST /v1/cascades`` (one
asset failing at hour 0, 24-hour horizon), over a fixed sample of supply assets
(substations, transmission lines, plants, treatment plants, exchanges, ...).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import resource
import secrets
import shutil
import socket
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import numpy as np

from kg.analysis.cascade import cascade
from kg.analysis.traces import dependents
from kg.ingest import load_paths
from kg.snapshot import GraphSnapshot
from kg.store import open_store
from kg.synth import city_rows, write_bundle

SUPPLY_TYPES = ("Substation", "TransmissionLine", "PowerPlant", "DistributionFeeder", "WaterTreatmentPlant",
                "PumpingStation", "WaterMain", "DataCenter", "TelecomExchange", "GasSource")
HORIZON = 24.0


@dataclass
class Run:
    """Latencies (seconds) of one phase, its wall time, its errors and the CPU seconds it used."""

    latencies: list[float]
    wall: float
    errors: int
    cpu: float = 0.0
    server_cpu: float = 0.0

    def row(self) -> dict[str, float]:
        lat = np.asarray(self.latencies) * 1000 if self.latencies else np.zeros(1)
        p50, p95, p99 = np.percentile(lat, [50, 95, 99])
        n = max(len(self.latencies), 1)
        return {"requests": len(self.latencies), "errors": self.errors, "p50_ms": float(p50), "p95_ms": float(p95),
                "p99_ms": float(p99), "rps": len(self.latencies) / self.wall if self.wall else 0.0,
                "cpu_ms_per_call": 1000 * self.cpu / n, "server_cpu_ms_per_call": 1000 * self.server_cpu / n}


def _own_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def _tree_cpu(pid: int) -> float:
    """CPU seconds of a process and its children (uvicorn workers), from /proc; 0 where there is none."""
    tick = os.sysconf("SC_CLK_TCK")
    total = 0.0
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rpartition(")")[2].split()
        except OSError:
            continue
        if stat.parent.name == str(pid) or fields[1] == str(pid):
            total += (int(fields[11]) + int(fields[12])) / tick
    return total


# ------------------------------------------------------------------------------------------ setup
def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _prepare_store(args: argparse.Namespace, work: Path) -> str:
    if args.store:
        return str(args.store)
    url = f"sqlite:///{work / 'city.db'}"
    store = open_store(url, create=True)
    try:
        if store.stats().counts.get("assets") == args.assets:
            print(f"reusing {url} ({args.assets:,} assets)", file=sys.stderr)
            return url
        store.clear()
        start = time.perf_counter()
        rows = city_rows(args.assets, seed=args.seed)
        write_bundle(rows, work / "bundle")
        load_paths(store, [work / "bundle"])
        print(f"generated and loaded {args.assets:,} assets in {time.perf_counter() - start:.1f} s", file=sys.stderr)
    finally:
        store.close()
    return url


def _kg_command() -> list[str]:
    script = Path(sys.executable).with_name("kg")
    if script.exists():
        return [str(script)]
    return [sys.executable, "-c", "import sys; from kg.cli import main; sys.argv[0] = 'kg'; main()"]


def _start_server(url: str, port: int, key: str, workers: int, log: Path) -> subprocess.Popen[bytes]:
    env = {**os.environ, "KG_API_KEYS": f"{key}:read", "KG_STORE": url}
    env.pop("KG_INSECURE_DEV", None)
    command = [*_kg_command(), "serve", "--host", "127.0.0.1", "--port", str(port), "--workers", str(workers),
               "--log-level", "warning"]
    with log.open("wb") as sink:  # the access log (one line per request) goes here, not into a pipe
        return subprocess.Popen(command, env=env, stdout=sink, stderr=subprocess.STDOUT)


def _wait_ready(base: str, server: subprocess.Popen[bytes], log: Path, timeout: float = 120.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if server.poll() is not None:
            raise SystemExit(f"kg serve exited with {server.returncode}:\n{log.read_text()[-3000:]}")
        try:
            if httpx.get(f"{base}/readyz", timeout=2).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.2)
    raise SystemExit(f"kg serve was not ready after {timeout:.0f} s:\n{log.read_text()[-3000:]}")


def _stop(server: subprocess.Popen[bytes]) -> None:
    if server.poll() is None:
        server.terminate()
        try:
            server.wait(timeout=15)
        except subprocess.TimeoutExpired:
            server.kill()
            server.wait()


# ------------------------------------------------------------------------------------------ workloads
def _targets(snap: GraphSnapshot, count: int, seed: int) -> list[str]:
    pool = [a for a in snap.asset_ids if snap.type_of(snap.index[a]) in SUPPLY_TYPES]
    random.Random(seed).shuffle(pool)
    return pool[:count]


def _http_request(kind: str, asset: str) -> tuple[str, str, Any]:
    if kind == "dependents":
        return "GET", f"/v1/assets/{asset}/dependents", None
    return "POST", "/v1/cascades", {"fail": [{"id": asset, "time": 0}], "horizon_hours": HORIZON}


def _in_process_call(kind: str, snap: GraphSnapshot) -> Callable[[str], Any]:
    if kind == "dependents":
        return lambda asset: {"id": asset, "dependents": dependents(snap, asset).to_list(snap)}
    return lambda asset: cascade(snap, [(asset, 0.0)], horizon=HORIZON).to_dict()


async def _http_phase(base: str, key: str, kind: str, assets: list[str], clients: int, requests: int,
                      duration: float, server_pid: int) -> Run:
    latencies: list[float] = []
    errors = 0
    next_index = 0
    stop_at = time.perf_counter() + duration

    async def client() -> None:
        nonlocal next_index, errors
        async with httpx.AsyncClient(base_url=base, headers={"Authorization": f"Bearer {key}"},
                                     timeout=120) as http:
            while next_index < requests and time.perf_counter() < stop_at:
                asset = assets[next_index % len(assets)]
                next_index += 1
                method, path, body = _http_request(kind, asset)
                start = time.perf_counter()
                try:
                    r = await http.request(method, path, json=body)
                    ok = r.status_code == 200
                    r.json()
                except httpx.HTTPError:
                    ok = False
                latencies.append(time.perf_counter() - start)
                errors += not ok

    start, cpu, server_cpu = time.perf_counter(), _own_cpu(), _tree_cpu(server_pid)
    await asyncio.gather(*(client() for _ in range(clients)))
    return Run(latencies, time.perf_counter() - start, errors, _own_cpu() - cpu, _tree_cpu(server_pid) - server_cpu)


def _in_process_phase(call: Callable[[str], Any], assets: list[str], clients: int, requests: int,
                      duration: float) -> Run:
    latencies: list[float] = []
    errors = 0
    lock = threading.Lock()
    next_index = 0
    stop_at = time.perf_counter() + duration

    def worker() -> None:
        nonlocal next_index, errors
        while True:
            with lock:
                if next_index >= requests or time.perf_counter() >= stop_at:
                    return
                asset = assets[next_index % len(assets)]
                next_index += 1
            start = time.perf_counter()
            try:
                call(asset)
                failed = 0
            except Exception:
                failed = 1
            elapsed = time.perf_counter() - start
            with lock:
                latencies.append(elapsed)
                errors += failed

    start, cpu = time.perf_counter(), _own_cpu()
    with ThreadPoolExecutor(max_workers=clients) as pool:
        for _ in range(clients):
            pool.submit(worker)
    return Run(latencies, time.perf_counter() - start, errors, _own_cpu() - cpu)


def _check_same_answers(base: str, key: str, snap: GraphSnapshot, assets: list[str]) -> None:
    """The API must answer exactly what the library computes (a benchmark of wrong answers is worthless)."""
    with httpx.Client(base_url=base, headers={"Authorization": f"Bearer {key}"}, timeout=120) as http:
        for kind in ("dependents", "cascades"):
            call = _in_process_call(kind, snap)
            for asset in assets[:5]:
                method, path, body = _http_request(kind, asset)
                got = http.request(method, path, json=body).json()
                if got != json.loads(json.dumps(call(asset))):
                    raise SystemExit(f"{kind} {asset}: the API's answer differs from the library's")


# ------------------------------------------------------------------------------------------ main
def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--assets", type=int, default=100_000)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--clients", type=int, default=32)
    parser.add_argument("--requests", type=int, default=2000, help="Requests per endpoint and mode.")
    parser.add_argument("--duration", type=float, default=60.0, help="Seconds per phase at most.")
    parser.add_argument("--workers", type=int, default=1, help="kg serve --workers.")
    parser.add_argument("--targets", type=int, default=500, help="Distinct assets the requests cycle through.")
    parser.add_argument("--store", help="Use this store as it is (no generation).")
    parser.add_argument("--keep", type=Path, help="Keep the generated city here (reused next time).")
    parser.add_argument("--json", action="store_true", help="Print the results as one JSON object.")
    args = parser.parse_args()

    load_before = os.getloadavg()[0]
    work = args.keep or Path(tempfile.mkdtemp(prefix="citykg-bench-api-"))
    work.mkdir(parents=True, exist_ok=True)
    server: subprocess.Popen[bytes] | None = None
    try:
        url = _prepare_store(args, work)
        store = open_store(url)
        snap = store.snapshot()
        assets = _targets(snap, args.targets, args.seed)
        key = secrets.token_hex(16)
        port = _free_port()
        base = f"http://127.0.0.1:{port}"
        log = work / "server.log"
        server = _start_server(url, port, key, args.workers, log)
        _wait_ready(base, server, log)
        _check_same_answers(base, key, snap, assets)  # also warms the server's snapshot and indexes
        results: dict[str, dict[str, dict[str, float]]] = {}
        for kind in ("dependents", "cascades"):
            call = _in_process_call(kind, snap)
            for asset in assets[:20]:
                call(asset)  # warm-up, as the server was warmed
            local = _in_process_phase(call, assets, args.clients, args.requests, args.duration)
            # Unmeasured burst first: every worker process builds its snapshot and indexes on first use.
            asyncio.run(_http_phase(base, key, kind, assets, args.clients, 100 * args.workers, args.duration,
                                    server.pid))
            remote = asyncio.run(_http_phase(base, key, kind, assets, args.clients, args.requests, args.duration,
                                             server.pid))
            results[kind] = {"in-process": local.row(), "http": remote.row()}
        store.close()
    finally:
        if server is not None:
            _stop(server)
        if args.keep is None:
            shutil.rmtree(work, ignore_errors=True)

    summary = {"assets": snap.n, "dependencies": snap.m, "clients": args.clients, "workers": args.workers,
               "load_average": [load_before, os.getloadavg()[0]],
               "store": url.partition("://")[0], "results": results,
               "p95_ratio": {k: v["http"]["p95_ms"] / v["in-process"]["p95_ms"] for k, v in results.items()}}
    if args.json:
        print(json.dumps(summary, indent=2))
        return
    print(f"{snap.n:,} assets, {snap.m:,} dependencies; {args.clients} concurrent clients; "
          f"kg serve --workers {args.workers} on {summary['store']}; {os.cpu_count()} CPUs, "
          f"load average {load_before:.1f} before, {os.getloadavg()[0]:.1f} after (other work skews both modes)")
    print(f"{'endpoint':<12} {'mode':<11} {'requests':>8} {'errors':>6} {'p50 ms':>8} {'p95 ms':>8} "
          f"{'p99 ms':>8} {'req/s':>8} {'CPU ms/call':>22}")
    for kind, modes in results.items():
        for mode, r in modes.items():
            cpu = (f"{r['cpu_ms_per_call']:.2f}" if mode == "in-process" else
                   f"server {r['server_cpu_ms_per_call']:.2f} + client {r['cpu_ms_per_call']:.2f}")
            print(f"{kind:<12} {mode:<11} {r['requests']:>8.0f} {r['errors']:>6.0f} {r['p50_ms']:>8.2f} "
                  f"{r['p95_ms']:>8.2f} {r['p99_ms']:>8.2f} {r['rps']:>8.0f} {cpu:>22}")
        verdict = "ok" if summary["p95_ratio"][kind] < 3 else "OVER TARGET"
        print(f"{'':<12} p95 HTTP / in-process = {summary['p95_ratio'][kind]:.2f}x (target < 3x: {verdict})")


if __name__ == "__main__":
    main()
