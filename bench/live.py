"""Live state under load: MQTT to the SSE stream, and the ingest ceiling of POST /v1/events.

    python bench/live.py [--assets 1000000] [--rate 200] [--seconds 60] [--watched 50]
                         [--batches 10] [--batch 10000] [--seed 7] [--store sqlite:///...]

A city of ``--assets`` assets is generated and loaded into SQLite (reused when the file holds
it), ``kg serve --mqtt`` follows a Mosquitto broker of its own (``scripts/mqtt``), and:

1. **MQTT -> SSE.** A publisher sends ``--rate`` events per second for ``--seconds`` seconds
   (QoS 1), each toggling one of ``--watched`` randomly chosen assets down or up. A client of
   ``GET /v1/live/stream`` notes when each event first shows in a pushed picture (its asset
   in ``down``, or gone from it). Prints events lost (published but never stored; target 0),
   and the p50 / p95 / max delay from publish to the SSE update (target p95 <= 200 ms).
2. **Ingest ceiling.** ``--batches`` requests of ``--batch`` new events each through
   ``POST /v1/events``: events per second stored (target >= 5,000), against the peer: the same
   rows written by sqlite3 ``executemany`` into a bare table (the floor of any SQLite ingest).
"""

from __future__ import annotations

import argparse
import json
import os
import random
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import paho.mqtt.client as mqtt
from paho.mqtt.enums import CallbackAPIVersion

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.api import _free_port, _kg_command, _prepare_store, _stop, _tree_cpu, _wait_ready
from kg.schema import TABLES
from kg.store import open_store

KEY = "bench-live-key-0123456789abcdef"
PREFIX = "bench/status"
ROOT = Path(__file__).resolve().parent.parent


def _broker(state: Path) -> str:
    env = {**os.environ, "KG_MQTT_STATE": str(state)}
    done = subprocess.run([str(ROOT / "scripts" / "mqtt"), "start"], env=env, capture_output=True, text=True,
                          check=True)
    return done.stdout.strip().splitlines()[-1]


def _stop_broker(state: Path) -> None:
    subprocess.run([str(ROOT / "scripts" / "mqtt"), "stop"], env={**os.environ, "KG_MQTT_STATE": str(state)},
                   capture_output=True, check=False)


def _serve(url: str, port: int, mqtt_url: str, log: Path) -> subprocess.Popen[bytes]:
    env = {**os.environ, "KG_API_KEYS": f"{KEY}:write", "KG_STORE": url, "KG_LIVE_COALESCE_MS": "20",
           "KG_MQTT_CLIENT_ID": f"citykg-bench-{port}"}
    env.pop("KG_INSECURE_DEV", None)
    command = [*_kg_command(), "serve", "--host", "127.0.0.1", "--port", str(port), "--log-level", "warning",
               "--mqtt", f"{mqtt_url}/{PREFIX}"]
    with log.open("wb") as sink:
        return subprocess.Popen(command, env=env, stdout=sink, stderr=subprocess.STDOUT)


class StreamWatch:
    """Reads the SSE stream; for each expected (asset, down?) records when a picture first shows it."""

    def __init__(self, base: str) -> None:
        self.base = base
        self.lock = threading.Lock()
        self.pending: dict[str, tuple[str, bool, float]] = {}  # event id -> (asset, down, published at)
        self.delays: list[float] = []
        self.updates = 0
        self.ready = threading.Event()
        self.stop = threading.Event()

    def expect(self, event_id: str, asset: str, down: bool, at: float) -> None:
        with self.lock:
            self.pending[event_id] = (asset, down, at)

    def run(self) -> None:
        headers = {"Authorization": f"Bearer {KEY}"}
        with httpx.Client(timeout=None) as http, http.stream("GET", f"{self.base}/v1/live/stream",
                                                            headers=headers) as response:
            kind = ""
            for line in response.iter_lines():
                if self.stop.is_set():
                    return
                if line.startswith("event: "):
                    kind = line[7:]
                elif line.startswith("data: ") and kind == "live":
                    now = time.time()
                    down = {d["id"] for d in json.loads(line[6:])["down"]}
                    self.updates += 1
                    self.ready.set()
                    with self.lock:
                        # An event shows once the picture agrees with it and it was published before.
                        seen = [k for k, (a, d, at) in self.pending.items() if at <= now and (a in down) == d]
                        for k in seen:
                            self.delays.append(now - self.pending.pop(k)[2])


def mqtt_phase(base: str, mqtt_url: str, store_url: str, watched: list[str], rate: float, seconds: float,
               seed: int, server_pid: int) -> dict[str, Any]:
    watch = StreamWatch(base)
    reader = threading.Thread(target=watch.run, daemon=True)
    reader.start()
    # The first picture needs the snapshot (minutes for 1M assets on a busy machine): publish only after it.
    if not watch.ready.wait(1800):
        raise SystemExit("the stream sent no first picture within 30 minutes")
    host, port = mqtt_url.removeprefix("mqtt://").rsplit(":", 1)
    pub = mqtt.Client(CallbackAPIVersion.VERSION2, client_id=f"bench-pub-{seed}", clean_session=False)
    pub.max_inflight_messages_set(1000)
    pub.connect(host, int(port))
    pub.loop_start()
    rng = random.Random(seed)
    state = dict.fromkeys(watched, False)
    base_time = datetime.now(UTC) - timedelta(hours=1)
    total = int(rate * seconds)
    cpu_before = _tree_cpu(server_pid)
    start = time.perf_counter()
    for k in range(total):
        due = start + k / rate
        pause = due - time.perf_counter()
        if pause > 0:
            time.sleep(pause)
        asset = rng.choice(watched)
        state[asset] = not state[asset]
        event_id = f"b{seed}-{k:07d}"
        # times increase with k, so each event is the latest of its asset: its status is the asset's now
        when = (base_time + timedelta(milliseconds=k)).isoformat(timespec="milliseconds")
        body = json.dumps({"id": event_id, "status": "down" if state[asset] else "up", "time": when})
        watch.expect(event_id, asset, state[asset], time.time())
        pub.publish(f"{PREFIX}/{asset}", body, qos=1)
    sent = time.perf_counter() - start
    time.sleep(3)
    server_cpu = _tree_cpu(server_pid) - cpu_before  # receiving, storing, pictures, streaming: all of it
    watch.stop.set()
    # A last event makes the server send a picture, on which the reader sees `stop` and closes the stream:
    # no stream is left open (its pictures would compete with the ingest phase).
    pub.publish(f"{PREFIX}/{watched[0]}", json.dumps({"id": f"b{seed}-last", "status": "up",
                                                      "time": base_time.isoformat()}), qos=1).wait_for_publish(30)
    reader.join(60)
    pub.loop_stop()
    pub.disconnect()
    store = open_store(store_url)
    try:
        stored = sum(1 for e in store.events() if e.id.startswith(f"b{seed}-") and e.id != f"b{seed}-last")
    finally:
        store.close()
    delays = sorted(watch.delays)
    # Events superseded before any update showed them (toggled back within one burst) are not delays.
    return {"published": total, "seconds": sent, "stored": stored, "lost": total - stored,
            "shown": len(delays), "updates": watch.updates, "server_cpu_ms_per_event": 1000 * server_cpu / total,
            "p50_ms": 1000 * statistics.median(delays) if delays else None,
            "p95_ms": 1000 * delays[int(0.95 * (len(delays) - 1))] if delays else None,
            "max_ms": 1000 * delays[-1] if delays else None}


def ingest_phase(base: str, assets: list[str], batches: int, batch: int, seed: int) -> dict[str, Any]:
    rng = random.Random(seed + 1)
    base_time = datetime.now(UTC) - timedelta(days=30)
    bodies = []
    for b in range(batches):
        events = [{"id": f"i{seed}-{b}-{k}", "asset": rng.choice(assets), "status": rng.choice(("down", "up")),
                   "time": (base_time + timedelta(seconds=rng.randrange(86_400))).isoformat(timespec="seconds"),
                   "source": "bench"} for k in range(batch)]
        bodies.append(events)
    headers = {"Authorization": f"Bearer {KEY}"}
    accepted = 0
    with httpx.Client(timeout=300) as http:
        start = time.perf_counter()
        for events in bodies:
            answer = http.post(f"{base}/v1/events", json={"events": events}, headers=headers)
            answer.raise_for_status()
            accepted += answer.json()["accepted"]
        ours = time.perf_counter() - start
    # The peer: the same rows into a bare SQLite table by executemany (no parsing, no validation, no HTTP).
    with tempfile.TemporaryDirectory() as tmp:
        db = sqlite3.connect(Path(tmp) / "peer.db", isolation_level=None)
        db.execute("PRAGMA journal_mode=WAL")
        db.execute("CREATE TABLE e (id TEXT PRIMARY KEY, asset TEXT, status TEXT, time TEXT, source TEXT, "
                   "note TEXT, micros INTEGER) WITHOUT ROWID")
        start = time.perf_counter()
        for events in bodies:
            db.execute("BEGIN")
            db.executemany("INSERT INTO e VALUES (?, ?, ?, ?, ?, ?, ?)",
                           [(e["id"], e["asset"], e["status"], e["time"], e["source"], None, 0) for e in events])
            db.execute("COMMIT")
        peer = time.perf_counter() - start
        db.close()
    total = batches * batch
    return {"events": total, "accepted": accepted, "seconds": ours, "per_s": total / ours,
            "peer_per_s": total / peer, "ratio": ours / peer}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--assets", type=int, default=1_000_000)
    parser.add_argument("--rate", type=float, default=200.0)
    parser.add_argument("--seconds", type=float, default=60.0)
    parser.add_argument("--watched", type=int, default=50)
    parser.add_argument("--batches", type=int, default=10)
    parser.add_argument("--batch", type=int, default=10_000)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--store", help="an existing store to use (default: a generated city, cached)")
    parser.add_argument("--work", type=Path, default=Path(tempfile.gettempdir()) / "citykg-bench-live")
    args = parser.parse_args()
    args.work.mkdir(parents=True, exist_ok=True)
    url = _prepare_store(args, args.work)
    if not args.store:  # the bench's own city: start from no events (a run leaves its events behind)
        with sqlite3.connect(url.removeprefix("sqlite:///")) as db:
            db.execute("DELETE FROM status_events")
        # Fold the load's write-ahead log into the file now (1M assets leave ~350 MB of it): otherwise the
        # first event's commit pays for that checkpoint, a stall of its own that is the load's, not live state's.
        with sqlite3.connect(url.removeprefix("sqlite:///"), isolation_level=None) as db:
            db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    store = open_store(url)
    try:
        # the ids only: no snapshot in this process
        ids = list(map(TABLES["assets"].getter("id"), store.rows("assets")))
    finally:
        store.close()
    rng = random.Random(args.seed)
    watched = rng.sample(ids, min(args.watched, len(ids)))
    state = Path(tempfile.mkdtemp(prefix="citykg-bench-mqtt-"))
    broker = _broker(state)
    port = _free_port()
    base = f"http://127.0.0.1:{port}"
    log = args.work / "serve.log"
    server = _serve(url, port, broker, log)
    try:
        _wait_ready(base, server, log)
        live = mqtt_phase(base, broker, url, watched, args.rate, args.seconds, args.seed, server.pid)
        ingest = ingest_phase(base, ids, args.batches, args.batch, args.seed)
    finally:
        _stop(server)
        _stop_broker(state)
    print(f"{len(ids):,} assets; MQTT {args.rate:g} events/s for {args.seconds:g} s over {len(watched)} assets")
    print(f"  published {live['published']:,} in {live['seconds']:.1f} s, stored {live['stored']:,}, "
          f"lost {live['lost']} (target 0); {live['updates']:,} SSE updates; the server spent "
          f"{live['server_cpu_ms_per_event']:.2f} CPU ms per event (all of it: MQTT, storing, pictures, SSE), "
          f"{os.getloadavg()[0]:.1f} load average")
    if live["p95_ms"] is not None:
        verdict = "met" if live["p95_ms"] <= 200 else "NOT met"
        print(f"  publish -> SSE update: p50 {live['p50_ms']:.0f} ms, p95 {live['p95_ms']:.0f} ms, "
              f"max {live['max_ms']:.0f} ms over {live['shown']:,} events (target p95 <= 200 ms: {verdict})")
    verdict = "met" if ingest["per_s"] >= 5000 else "NOT met"
    print(f"POST /v1/events: {ingest['events']:,} events in {args.batches} batches, {ingest['per_s']:,.0f} events/s "
          f"(target >= 5,000: {verdict}); bare sqlite3 executemany {ingest['peer_per_s']:,.0f} events/s; "
          f"ours / peer time = {ingest['ratio']:.1f}x")


if __name__ == "__main__":
    main()
