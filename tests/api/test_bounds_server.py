"""Every request bounded, checked on real servers (uvicorn and ``kg serve`` in their own processes).

* Past its time limit a request answers 504 *and its work stops*: the server's CPU
  time (utime + stime in ``/proc/PID/stat``) stops growing within 2 s. So does the
  work of a request whose client goes away.
* Beyond the per-key limit of concurrent expensive requests: 429 with
  ``Retry-After``; another key is not held back; beyond the global limit, 429 too.
* Insecure dev mode (no keys) refuses a non-loopback bind through ``kg serve``, and
  answers nothing but loopback when uvicorn binds a wildcard address itself.

The city is built to be slow on purpose: ``HUBS`` substations each feed one bus
(which needs all of them) and one asset of their own, and the bus feeds
``HOMES`` homes. Every hub's lone failure takes down the bus and every home, and
no shortcut applies, so criticality propagates ``HUBS`` cascades of ``HOMES``
assets; every hub is exposed to one flood zone with an even chance of failing, so
each Monte Carlo sample fails the bus and every home too.
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest

from kg.ingest import load_paths
from kg.store import open_store
from tests.helpers import write_files

HUBS = 3000
HOMES = 3000
KEYS = {"read": "bounds-read-key-0123456789", "write": "bounds-write-key-0123456789",
        "admin": "bounds-admin-key-0123456789"}
_TICKS = os.sysconf("SC_CLK_TCK")
_ROOT = Path(__file__).resolve().parents[2]


def _bundle(folder: Path) -> Path:
    hubs = [f"h{i:05d}" for i in range(HUBS)]
    assets = ["id,type,region,population", "bus,Substation,d1,0"]
    assets += [f"{h},Substation,d1,0" for h in hubs]
    assets += [f"own{i:05d},Substation,d2,0" for i in range(HUBS)]
    assets += [f"home{i:05d},ResidentialArea,d2,100" for i in range(HOMES)]
    deps = ["dependent,provider,kind,group"]
    deps += [f"bus,{h},power,g{i}" for i, h in enumerate(hubs)]
    deps += [f"own{i:05d},{h},power,power" for i, h in enumerate(hubs)]
    deps += [f"home{i:05d},bus,power,power" for i in range(HOMES)]
    return write_files(folder, {
        "regions.csv": "id,level,parent\nc,city,\nd1,district,c\nd2,district,c\n",
        "assets.csv": "\n".join(assets) + "\n",
        "dependencies.csv": "\n".join(deps) + "\n",
        "hazard_zones.csv": "id,hazard\nflood,Flood\n",
        "exposures.csv": "asset,zone,intensity\n" + "".join(f"{h},flood,1.0\n" for h in hubs),
        "fragilities.csv": "hazard,threshold,type,beta\nFlood,1.0,Substation,0.5\n",
    })


@pytest.fixture(scope="module")
def slow_city(tmp_path_factory: pytest.TempPathFactory) -> str:
    """The store URL of the slow city (SQLite)."""
    folder = tmp_path_factory.mktemp("slow-city")
    url = f"sqlite:///{folder / 'city.db'}"
    store = open_store(url, create=True)
    try:
        load_paths(store, [_bundle(folder / "bundle")])
    finally:
        store.close()
    return url


@dataclass(frozen=True)
class Server:
    """A server process and its base URL."""

    process: subprocess.Popen[bytes]
    url: str

    def cpu_seconds(self) -> float:
        """User plus system CPU time the server process has used so far."""
        fields = Path(f"/proc/{self.process.pid}/stat").read_text().rpartition(")")[2].split()
        return (int(fields[11]) + int(fields[12])) / _TICKS  # utime, stime: fields 14 and 15 of stat(5)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


def _environment(**settings: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("KG_")}
    env.update({f"KG_{k.upper()}": v for k, v in settings.items()})
    return env


@contextmanager
def _running(command: list[str], env: dict[str, str], url: str) -> Iterator[Server]:
    process = subprocess.Popen(command, env=env, cwd=_ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    try:
        deadline = time.monotonic() + 60
        while True:
            if process.poll() is not None:
                raise AssertionError(f"the server exited: {process.stderr.read().decode() if process.stderr else ''}")
            try:
                if httpx.get(f"{url}/healthz", timeout=1).status_code == 200:
                    break
            except httpx.TransportError:
                pass
            if time.monotonic() > deadline:
                raise AssertionError("the server did not start within 60 s")
            time.sleep(0.1)
        yield Server(process, url)
    finally:
        process.send_signal(signal.SIGINT)
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


@contextmanager
def _uvicorn(host: str = "127.0.0.1", connect: str = "127.0.0.1", **settings: str) -> Iterator[Server]:
    """``uvicorn api.main:app --host HOST`` with ``KG_*`` settings; requests go to ``connect``."""
    port = _free_port()
    command = [sys.executable, "-m", "uvicorn", "api.main:app", "--host", host, "--port", str(port),
               "--log-level", "warning", "--no-access-log"]
    with _running(command, _environment(**settings), f"http://{connect}:{port}") as server:
        yield server


def _keys() -> str:
    return ",".join(f"{key}:{role}" for role, key in KEYS.items())


def _auth(role: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {KEYS[role]}"}


def _warm(server: Server) -> None:
    """Build the snapshot and its propagation network, so the timed request only analyses."""
    for _ in range(20):  # the first requests may time out while the snapshot is built; it is kept
        r = httpx.post(f"{server.url}/v1/cascades", json={"fail": [{"id": "own00000"}]}, headers=_auth("read"),
                       timeout=30)
        if r.status_code == 200:
            return
    raise AssertionError(f"the server never answered a small cascade: {r.status_code} {r.text}")


def _busy_then_idle(server: Server, send: Callable[[], object],
                    settle: float = 2) -> tuple[float, float, object]:
    """Run ``send`` (a request the server works on for 2 s or more); return the server's CPU seconds per
    second while it worked (from 0.5 s to 1.5 s after sending), the same in the second that follows
    ``settle`` seconds after the answer (or the client leaving), and what ``send`` returned or raised.

    Rates, not totals: on a machine busy with other work the server may get a small share of a core,
    and it is that share the work must give back."""
    outcome: list[object] = []

    def run() -> None:
        try:
            outcome.append(send())
        except Exception as exc:  # handed to the test
            outcome.append(exc)

    sender = threading.Thread(target=run)
    sender.start()
    time.sleep(0.5)
    start = server.cpu_seconds()
    time.sleep(1)
    busy = server.cpu_seconds() - start
    sender.join()
    time.sleep(settle)
    start = server.cpu_seconds()
    time.sleep(1)
    idle = server.cpu_seconds() - start
    assert busy >= 0.03, f"the server got only {busy:.2f} s of CPU per second while working: too busy a machine"
    return busy, idle, outcome[0]


def _assert_work_stops(server: Server, method: str, path: str, timeout_s: float, **request: object) -> None:
    started = time.monotonic()

    def send() -> object:
        answer = httpx.request(method, f"{server.url}{path}", headers=_auth("read"), timeout=60, **request)  # type: ignore[arg-type]
        return answer, time.monotonic() - started

    busy, idle, (r, answered) = _busy_then_idle(server, send)  # type: ignore[misc]
    assert r.status_code == 504, r.text
    assert r.headers["content-type"] == "application/problem+json"
    assert timeout_s <= answered < timeout_s + 5, answered  # at the deadline (plus the grace and a busy machine)
    assert idle < max(0.02, busy / 4), f"the server still used {idle:.2f} s of CPU per second in the third " \
                                       f"second after its 504 (working, it used {busy:.2f})"


def test_monte_carlo_and_criticality_stop_at_the_deadline(slow_city: str) -> None:
    with _uvicorn(store=slow_city, api_keys=_keys(), request_timeout_s="2", max_samples="100000") as server:
        _warm(server)
        _assert_work_stops(server, "POST", "/v1/cascades", 2.0,
                           json={"hazard_zones": ["flood"], "samples": 100000, "seed": 1})
        _assert_work_stops(server, "GET", "/v1/criticality", 2.0)
        # The server is fine afterwards: a small question still gets its answer.
        r = httpx.post(f"{server.url}/v1/cascades", json={"fail": [{"id": "h00001"}]}, headers=_auth("read"))
        assert r.status_code == 200 and r.json()["summary"]["failed"] == HOMES + 3


def test_a_client_that_goes_away_stops_its_work_and_frees_its_slot(slow_city: str) -> None:
    with _uvicorn(store=slow_city, api_keys=_keys(), request_timeout_s="60", max_samples="100000",
                  max_concurrent_per_key="1") as server:
        _warm(server)

        def send() -> object:  # the client gives up after 2 s and closes the connection
            return httpx.post(f"{server.url}/v1/cascades", json={"hazard_zones": ["flood"], "samples": 100000},
                              headers=_auth("read"), timeout=2)

        # The server notices on its event loop, which a machine busy with other work may leave waiting a
        # while (up to 2 s seen at a load average of 17 on 2 cores): the fifth second is measured.
        busy, idle, gone = _busy_then_idle(server, send, settle=4)
        assert isinstance(gone, httpx.ReadTimeout), gone
        assert idle < max(0.02, busy / 4), f"the server still used {idle:.2f} s of CPU per second in the fifth " \
                                           f"second after the client left (working, it used {busy:.2f})"
        r = httpx.post(f"{server.url}/v1/cascades", json={"fail": [{"id": "own00001"}]}, headers=_auth("read"))
        assert r.status_code == 200, r.text  # the key's one slot is free again


def _until_429(server: Server, role: str) -> httpx.Response:
    """Ask a cheap cascade with ``role``'s key until the slow requests started meanwhile hold their slots.

    It waits a second first, so that the slow request has its slot long before: a probe holding a slot
    as the slow request asks for it would have the slow one refused."""
    time.sleep(1)
    deadline = time.monotonic() + 20
    while True:
        r = httpx.post(f"{server.url}/v1/cascades", json={"fail": [{"id": "own00001"}]}, headers=_auth(role))
        if r.status_code == 429 or time.monotonic() > deadline:
            return r
        assert r.status_code == 200, r.text
        time.sleep(0.1)


def test_beyond_the_concurrency_limits_429(slow_city: str) -> None:
    slow = {"hazard_zones": ["flood"], "samples": 100000, "seed": 1}
    with _uvicorn(store=slow_city, api_keys=_keys(), request_timeout_s="8", max_samples="100000",
                  max_concurrent_per_key="1", max_concurrent="2") as server:
        _warm(server)
        answers: dict[str, int] = {}

        def run(role: str) -> None:
            r = httpx.post(f"{server.url}/v1/cascades", json=slow, headers=_auth(role), timeout=60)
            answers[role] = r.status_code

        first = threading.Thread(target=run, args=("read",))
        first.start()
        r = _until_429(server, "read")  # the slow request holds the read key's one slot
        assert r.status_code == 429, r.text
        assert r.headers["content-type"] == "application/problem+json"
        assert 1 <= int(r.headers["Retry-After"]) <= 10
        assert r.json()["limit"] == "KG_MAX_CONCURRENT_PER_KEY" and "KG_MAX_CONCURRENT_PER_KEY=1" in r.json()["detail"]
        r = httpx.post(f"{server.url}/v1/cascades", json={"fail": [{"id": "own00001"}]}, headers=_auth("write"))
        assert r.status_code == 200  # another key is not held back

        second = threading.Thread(target=run, args=("write",))
        second.start()
        r = _until_429(server, "admin")  # two slow requests: the server's two slots are taken
        assert r.status_code == 429 and r.json()["limit"] == "KG_MAX_CONCURRENT", r.text
        assert httpx.get(f"{server.url}/v1/assets/bus", headers=_auth("admin")).status_code == 200  # not counted
        first.join()
        second.join()
        assert answers == {"read": 504, "write": 504}
        r = httpx.post(f"{server.url}/v1/cascades", json={"fail": [{"id": "own00001"}]}, headers=_auth("read"))
        assert r.status_code == 200  # the slots came back


def _outside_address() -> str | None:
    """An address of this machine that is not loopback (None on a machine with loopback only)."""
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        try:
            s.connect(("192.0.2.1", 9))  # no packet is sent: this only picks the outgoing interface
            address: str = s.getsockname()[0]
        except OSError:
            return None
    return None if address.startswith("127.") else address


def test_insecure_dev_under_uvicorn_on_a_wildcard_address_answers_loopback_only(slow_city: str) -> None:
    outside = _outside_address()
    with _uvicorn(host="0.0.0.0", store=slow_city, insecure_dev="1") as server:
        assert httpx.get(f"{server.url}/v1/assets/bus").status_code == 200  # over loopback: served
        # uvicorn trusts X-Forwarded-For from loopback, so the client becomes the forwarded one: refused too.
        r = httpx.get(f"{server.url}/v1/assets/bus", headers={"X-Forwarded-For": "198.51.100.4"})
        assert r.status_code == 403 and "loopback clients only" in r.json()["detail"]
        if outside is None:
            pytest.skip("this machine has no address but loopback: the request from outside cannot be made")
        port = server.url.rpartition(":")[2]
        for path in ("/v1/assets/bus", "/healthz", "/"):
            r = httpx.get(f"http://{outside}:{port}{path}")
            assert r.status_code == 403, path
            assert "loopback clients only" in r.json()["detail"]


@pytest.mark.parametrize("how", ["option", "environment"])
def test_kg_serve_insecure_dev_refuses_a_wildcard_bind(slow_city: str, how: str) -> None:
    port = _free_port()
    # The `kg` console script, run from this checkout (as `python -m uvicorn` above runs its `api`).
    command = [sys.executable, "-c", "from kg.cli import main; main()", "serve", "--host", "0.0.0.0",
               "--port", str(port)]
    env = _environment(store=slow_city)
    if how == "option":
        command.append("--insecure-dev")
    else:
        env["KG_INSECURE_DEV"] = "1"
    try:
        done = subprocess.run(command, env=env, cwd=_ROOT, capture_output=True, text=True, timeout=60)
    except subprocess.TimeoutExpired:
        raise AssertionError("`kg serve --insecure-dev --host 0.0.0.0` started serving") from None
    assert done.returncode == 1
    assert "refusing to bind 0.0.0.0" in done.stderr and "Traceback" not in done.stderr
    with socket.socket() as s:  # nothing listens there
        assert s.connect_ex(("127.0.0.1", port)) != 0
