"""MCP tool calls vs the REST calls they mirror, on the same server: what the assistant face costs.

    python bench/assistants.py [--assets 10000] [--calls 200] [--store URL]

Generates a synthetic city (:func:`kg.synth.city_rows`) and loads it into SQLite (or
uses ``--store``), starts ``kg serve --mcp`` on a free 127.0.0.1 port, then makes the
same questions one at a time, first over REST (``GET /v1/assets/{id}/dependents``,
``POST /v1/cascades``), then as MCP tool calls through the SDK's own client
(``dependents``, ``cascade``), on a fixed sample of supply assets. It prints the
median and p95 latency of each and the ratio MCP / REST, and the answers' sizes
(MCP answers are cut to ``limit`` items with their counts; REST answers are whole).
"""

from __future__ import annotations

import argparse
import json
import os
import random
import secrets
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import anyio
import httpx
import httpx2
import numpy as np
from mcp import Client
from mcp.client.streamable_http import streamable_http_client

from kg.ingest import load_paths
from kg.schema import TABLES
from kg.store import open_store
from kg.synth import city_rows, write_bundle

SUPPLY_TYPES = ("Substation", "TransmissionLine", "PowerPlant", "DistributionFeeder", "WaterTreatmentPlant",
                "PumpingStation", "DataCenter", "TelecomExchange")


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


def _stats(name: str, seconds: list[float], sizes: list[int]) -> float:
    ms = np.array(seconds) * 1000
    median = float(np.median(ms))
    print(f"  {name:<28} median {median:8.2f} ms   p95 {np.percentile(ms, 95):8.2f} ms   "
          f"answer {int(np.median(sizes)):>9,} bytes")
    return median


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--assets", type=int, default=10_000)
    parser.add_argument("--calls", type=int, default=200)
    parser.add_argument("--store", default=None)
    args = parser.parse_args()
    folder = Path(tempfile.mkdtemp(prefix="citykg-bench-assistants-"))
    url = args.store
    rows = city_rows(args.assets, seed=7)
    if url is None:
        url = f"sqlite:///{folder}/city.db"
        store = open_store(url, create=True)
        try:
            write_bundle(rows, folder / "bundle")
            load_paths(store, [folder / "bundle"])
        finally:
            store.close()
    asset = TABLES["assets"].getter("id", "type")
    sample = [aid for aid, atype in map(asset, rows["assets"]) if atype in SUPPLY_TYPES]
    random.Random(1).shuffle(sample)
    sample = (sample * (args.calls // max(1, len(sample)) + 1))[:args.calls]

    key = secrets.token_hex(16)
    port = _free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith("KG_")}
    env.update(KG_API_KEYS=f"{key}:read", KG_STORE=url, KG_MAX_CONCURRENT_PER_KEY="8")
    server = subprocess.Popen([sys.executable, "-c", "from kg.cli import main; main()", "serve", "--mcp",
                               "--port", str(port), "--log-level", "warning"], env=env,
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    base = f"http://127.0.0.1:{port}"
    headers = {"Authorization": f"Bearer {key}"}
    try:
        while True:
            try:
                if httpx.get(f"{base}/healthz", timeout=1).status_code == 200:
                    break
            except httpx.TransportError:
                time.sleep(0.1)
        print(f"{args.assets:,} assets, {args.calls} calls each, one at a time, on {url}")
        with httpx.Client(base_url=base, headers=headers, timeout=60) as rest:
            rest.get(f"/v1/assets/{sample[0]}/dependents")  # builds the snapshot
            timings: dict[str, tuple[list[float], list[int]]] = {"rest dependents": ([], []),
                                                                  "rest cascade": ([], [])}
            for asset in sample:
                for name, send in (("rest dependents", lambda a=asset: rest.get(f"/v1/assets/{a}/dependents")),
                                   ("rest cascade", lambda a=asset: rest.post(
                                       "/v1/cascades", json={"fail": [{"id": a}], "horizon_hours": 24}))):
                    started = time.perf_counter()
                    response = send()
                    timings[name][0].append(time.perf_counter() - started)
                    timings[name][1].append(len(response.content))
                    assert response.status_code == 200, response.text

        async def tools() -> None:
            async with httpx2.AsyncClient(headers=headers, timeout=60) as http, \
                    Client(streamable_http_client(f"{base}/mcp", http_client=http)) as client:
                timings["mcp dependents"] = ([], [])
                timings["mcp cascade"] = ([], [])
                for asset in sample:
                    for name, tool, arguments in (
                            ("mcp dependents", "dependents", {"asset_id": asset}),
                            ("mcp cascade", "cascade", {"fail": [{"id": asset}], "horizon_hours": 24})):
                        started = time.perf_counter()
                        answer = await client.call_tool(tool, arguments)
                        timings[name][0].append(time.perf_counter() - started)
                        text = answer.content[0].text  # type: ignore[union-attr]
                        timings[name][1].append(len(text.encode()))
                        assert not answer.is_error, text
                        json.loads(text)

        anyio.run(tools)
        medians = {name: _stats(name, *timings[name]) for name in timings}
        for what in ("dependents", "cascade"):
            print(f"  {what}: MCP / REST median latency {medians['mcp ' + what] / medians['rest ' + what]:.2f}x")
    finally:
        server.terminate()
        server.wait()


if __name__ == "__main__":
    main()
