"""A real CityKG server on a free loopback port, over a generated city in SQLite.

Used by the end-to-end tests, and by hand to look at the page::

    .venv/bin/python -m tests.e2e.server --assets 10000 --port 8765

prints the URL and the API key, and serves until Ctrl-C.
"""

from __future__ import annotations

import argparse
import socket
import tempfile
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import uvicorn

from api.main import create_app
from kg.ingest import load_paths
from kg.settings import Settings
from kg.store import open_store
from kg.synth import city_rows, write_bundle

__all__ = ["KEYS", "Served", "build_city", "serve"]

KEYS = {"read": "e2e-read-key-0123456789abcdef", "write": "e2e-write-key-0123456789abcdef"}
"""Keys the test server accepts, by role."""


@dataclass(frozen=True)
class Served:
    """A running server: where it answers and what it serves."""

    url: str
    store_url: str
    assets: int


def build_city(folder: Path, assets: int, seed: int) -> str:
    """Generate a city of ``assets`` assets, load it into SQLite under ``folder``; return the store URL."""
    bundle = folder / "bundle"
    write_bundle(city_rows(assets, seed=seed), bundle)
    url = f"sqlite:///{folder.resolve() / 'city.db'}"
    store = open_store(url, create=True)
    try:
        load_paths(store, [bundle])
    finally:
        store.close()
    return url


def _free_port(host: str) -> int:
    with socket.socket() as s:
        s.bind((host, 0))
        port: int = s.getsockname()[1]
        return port


@contextmanager
def serve(folder: Path, *, assets: int = 10_000, seed: int = 7, host: str = "127.0.0.1",
          port: int | None = None) -> Iterator[Served]:
    """Serve a generated city with :data:`KEYS` until the block ends (uvicorn in a thread)."""
    store_url = build_city(folder, assets, seed)
    keys = ",".join(f"{key}:{role}" for role, key in KEYS.items())
    app = create_app(Settings(api_keys=keys, store=store_url))
    config = uvicorn.Config(app, host=host, port=port or _free_port(host), log_level="warning",
                            access_log=False, lifespan="on")
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, name="citykg-e2e-server", daemon=True)
    thread.start()
    deadline = time.monotonic() + 30
    while not server.started:
        if not thread.is_alive() or time.monotonic() > deadline:
            raise RuntimeError("the CityKG test server did not start")
        time.sleep(0.02)
    try:
        yield Served(f"http://{host}:{config.port}", store_url, assets)
    finally:
        server.should_exit = True
        thread.join(timeout=10)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--assets", type=int, default=10_000)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--port", type=int, default=None)
    parser.add_argument("--dir", type=Path, default=None, help="Folder for the bundle and store (default: temp).")
    args = parser.parse_args()
    folder = args.dir or Path(tempfile.mkdtemp(prefix="citykg-e2e-"))
    folder.mkdir(parents=True, exist_ok=True)
    with serve(folder, assets=args.assets, seed=args.seed, port=args.port) as served:
        print(f"{served.url}/  key (read): {KEYS['read']}", flush=True)
        try:
            while True:
                time.sleep(3600)
        except KeyboardInterrupt:
            pass


if __name__ == "__main__":
    main()
