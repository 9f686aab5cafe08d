"""When the SQLite store cannot be used, every command says why in one line, exits 1, and changes nothing.

Real files in real trouble: a path that names nothing, a relative path read
from another folder, a corrupted file, another program's database, a full disk
(a tiny tmpfs), a read-only mount, a file and a folder this user may not write
(the command runs as ``nobody`` when the suite runs as root), and a load
killed while it writes. No mocks: the conditions are made, not faked.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import sqlite3
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from kg.store import open_store
from kg.synth import city_rows, write_bundle
from tests.helpers import all_rows, run_kg

KG = str(Path(sys.executable).with_name("kg"))
READING_COMMANDS = [
    ("stats",),
    ("dependents", "s-000001"),
    ("cascade", "--fail", "s-000001"),
    ("criticality", "--top", "3"),
    ("export", "--rdf", "nt"),
    ("validate", "{bundle}"),
]


def _url(path: Path) -> str:
    return f"sqlite:///{path}"


def _loaded(bundle: Path, path: Path) -> str:
    url = _url(path)
    result = run_kg("load", str(bundle), "--store", url, "--quiet")
    assert result.exit_code == 0, result.output
    return url


def _an_asset(bundle: Path) -> str:
    """The first asset id of ``bundle``."""
    with (bundle / "assets.csv").open(encoding="utf-8") as f:
        next(f)
        return next(f).split(",", 1)[0]


def _state(url: str) -> tuple[int, dict[str, list[tuple[object, ...]]]]:
    store = open_store(url)
    try:
        return store.version(), all_rows(store)
    finally:
        store.close()


def _fails_cleanly(result: object, *needles: str) -> str:
    """The command exited 1 with one ``error:`` message holding every needle (a traceback would have raised)."""
    exit_code, stderr = result.exit_code, result.stderr  # type: ignore[attr-defined]
    assert exit_code == 1, stderr
    assert stderr.startswith("error: "), stderr
    assert "Traceback" not in stderr
    for needle in needles:
        assert needle in stderr, stderr
    return str(stderr)


# ---------------------------------------------------------------------- a URL that names nothing
@pytest.mark.parametrize("command", READING_COMMANDS, ids=lambda c: c[0])
def test_reading_a_store_that_does_not_exist_is_an_error_and_creates_nothing(
        command: tuple[str, ...], city_bundle: Path, tmp_path: Path) -> None:
    missing = tmp_path / "nonexistent" / "x.db"
    args = [a.format(bundle=city_bundle) for a in command]
    result = run_kg(*args, "--store", _url(missing))
    _fails_cleanly(result, f"no CityKG store at {missing}", "only `kg load` creates a store")
    assert not missing.parent.exists()


def test_a_relative_store_read_from_another_folder_names_the_folder_it_looked_in(
        city_bundle: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    (tmp_path / "home").mkdir()
    monkeypatch.chdir(tmp_path / "home")
    assert run_kg("load", str(city_bundle), "--store", "sqlite:///kg.db", "--quiet").exit_code == 0
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    monkeypatch.chdir(elsewhere)
    monkeypatch.setenv("KG_STORE", "sqlite:///kg.db")
    result = run_kg("stats")
    _fails_cleanly(result, f"no CityKG store at {elsewhere / 'kg.db'} (sqlite:///kg.db, a path relative to the "
                           "current folder)")
    assert list(elsewhere.iterdir()) == []


def test_a_load_creates_a_missing_store_and_says_so_once(city_bundle: Path, tmp_path: Path) -> None:
    path = tmp_path / "new" / "kg.db"
    first = run_kg("load", str(city_bundle), "--store", _url(path), "--quiet")
    assert first.exit_code == 0, first.output
    assert f"created new store at {path}" in first.stderr
    again = run_kg("load", str(city_bundle), "--store", _url(path), "--quiet")
    assert again.exit_code == 0 and "created" not in again.stderr


def test_a_first_load_that_fails_leaves_no_store_behind(tmp_path: Path) -> None:
    bad = tmp_path / "bad"
    write_bundle(city_rows(300, seed=1), bad)
    with (bad / "assets.csv").open("a", encoding="utf-8") as f:
        f.write("x-1,NoSuchType,X,,,,,\n")
    path = tmp_path / "new" / "deeper" / "kg.db"
    result = run_kg("load", str(bad), "--store", _url(path), "--quiet")
    _fails_cleanly(result, "nothing was loaded")
    assert "created" not in result.stderr
    assert list(tmp_path.iterdir()) == [bad]  # no store, no folders made for it


def test_a_folder_or_another_programs_database_is_not_a_store(tmp_path: Path) -> None:
    _fails_cleanly(run_kg("stats", "--store", _url(tmp_path)), "is a folder, not a SQLite store file")
    other = tmp_path / "other.db"
    with sqlite3.connect(other) as db:
        db.execute("CREATE TABLE notes (text)")
    for command in (("stats",), ("load", str(tmp_path))):
        _fails_cleanly(run_kg(*command, "--store", _url(other)), "is a SQLite database but not a CityKG store")
    with sqlite3.connect(other) as db:
        assert [r[0] for r in db.execute("SELECT name FROM sqlite_master")] == ["notes"]  # untouched


# ---------------------------------------------------------------------- damaged files
def test_a_file_that_is_not_a_database_is_named_corrupt(tmp_path: Path) -> None:
    garbage = tmp_path / "kg.db"
    garbage.write_bytes(os.urandom(8192))
    for command in (("stats",), ("dependents", "x"), ("load", str(tmp_path))):
        _fails_cleanly(run_kg(*command, "--store", _url(garbage)), f"the SQLite store {garbage} is corrupt",
                       "file is not a database")


def test_damage_inside_the_file_is_named_corrupt_when_a_command_meets_it(city_bundle: Path, tmp_path: Path) -> None:
    path = tmp_path / "kg.db"
    url = _loaded(city_bundle, path)
    _damage(path)
    stats = run_kg("stats", "--store", url)  # counting may or may not read the damaged pages; never a traceback
    assert stats.exit_code == 0 or "is corrupt" in stats.stderr, stats.output
    _fails_cleanly(run_kg("dependents", _an_asset(city_bundle), "--store", url), "is corrupt",
                   "database disk image is malformed", "restore it from a backup")


def _damage(path: Path) -> None:
    """Overwrite the pages in the middle of a SQLite file (its header and first pages stay intact)."""
    size = path.stat().st_size
    with path.open("r+b") as f:
        f.seek(size // 2 - (size // 2) % 4096)
        f.write(b"\xa5" * min(64 * 1024, size // 3))


# ---------------------------------------------------------------------- a full disk
def test_a_full_disk_names_database_or_disk_is_full_and_leaves_the_store_as_it_was(
        tmpfs: Path, tmp_path: Path) -> None:
    small, big = tmp_path / "small", tmp_path / "big"
    write_bundle(city_rows(300, seed=1), small)
    write_bundle(city_rows(8000, seed=2), big)  # about 6 MB in SQLite: more than the disk holds
    url = _loaded(small, tmpfs / "kg.db")
    before = _state(url)
    result = run_kg("load", str(big), "--store", url, "--quiet")
    _fails_cleanly(result, f"cannot load into the SQLite store {tmpfs / 'kg.db'}: database or disk is full",
                   "nothing was written", "Free space on its disk")
    assert _state(url) == before
    store = open_store(url)
    try:
        store.verify()  # intact: PRAGMA quick_check finds nothing
    finally:
        store.close()


# ---------------------------------------------------------------------- read-only
def test_a_store_on_a_read_only_mount_can_be_read_but_not_loaded_into(
        tmpfs: Path, city_bundle: Path) -> None:
    url = _loaded(city_bundle, tmpfs / "kg.db")
    before = _state(url)
    subprocess.run(["mount", "-o", "remount,ro", str(tmpfs)], check=True)
    stats = run_kg("stats", "--store", url, "--format", "json")
    assert stats.exit_code == 0, stats.output
    dependents = run_kg("dependents", _an_asset(city_bundle), "--store", url, "--format", "json")
    assert dependents.exit_code == 0, dependents.output
    assert _state(url) == before
    _fails_cleanly(run_kg("load", str(city_bundle), "--store", url),
                   f"cannot load into {url}: the file system of {tmpfs} is mounted read-only")
    _fails_cleanly(run_kg("load", str(city_bundle), "--store", _url(tmpfs / "new.db")),
                   f"cannot create the SQLite store {tmpfs / 'new.db'}: the file system of {tmpfs} is mounted "
                   "read-only")


@pytest.fixture
def shared_folder(city_bundle: Path) -> Iterator[tuple[Path, Path]]:
    """A folder outside pytest's private temp folder, with a loaded store and a bundle anyone may read."""
    folder = Path(tempfile.mkdtemp(prefix="citykg-ro-"))
    try:
        shutil.copytree(city_bundle, folder / "bundle")
        _loaded(folder / "bundle", folder / "store" / "kg.db")
        for path in [folder, *folder.rglob("*")]:
            path.chmod(0o755 if path.is_dir() else 0o644)
        yield folder, folder / "store" / "kg.db"
    finally:
        for path in [folder, *folder.rglob("*")]:
            path.chmod(0o755)
        shutil.rmtree(folder)


def _as_unprivileged(*args: str) -> subprocess.CompletedProcess[str]:
    """Run ``kg ARGS`` as a user who may not write what the test wrote: ``nobody`` when the suite runs as root."""
    prefix = ["setpriv", "--reuid=65534", "--regid=65534", "--clear-groups"] if os.geteuid() == 0 else []
    return subprocess.run([*prefix, KG, *args], capture_output=True, text=True, timeout=120,
                          env={**os.environ, "COLUMNS": "200"}, cwd="/")


@pytest.mark.parametrize("read_only", ["file", "folder"])
def test_a_store_this_user_may_not_write_can_be_read_but_not_loaded_into(
        shared_folder: tuple[Path, Path], read_only: str) -> None:
    """A read-only file in a writable folder (SQLite makes its -shm index there and reads with locks), or a
    writable file in a read-only folder (no index can be made: the file is read as immutable)."""
    folder, path = shared_folder
    folder_writable = read_only == "file"
    # For nobody, root's 0644 file is read-only and 0666 writable; for us, our 0444 file is read-only.
    path.chmod((0o644 if os.geteuid() == 0 else 0o444) if read_only == "file" else 0o666)
    path.parent.chmod(0o777 if folder_writable else 0o555)
    url = _url(path)
    before = _state(url)
    stats = _as_unprivileged("stats", "--store", url, "--format", "json")
    assert stats.returncode == 0, stats.stderr
    dependents = _as_unprivileged("dependents", _an_asset(folder / "bundle"), "--store", url)
    assert dependents.returncode == 0, dependents.stderr
    load = _as_unprivileged("load", str(folder / "bundle"), "--store", url)
    assert load.returncode == 1 and "Traceback" not in load.stderr, load.stderr
    why = ("the file is read-only for this user" if folder_writable
           else f"its folder {path.parent} is read-only for this user, and SQLite writes its journal there")
    assert f"error: cannot load into {url}: {why}; load into a store you can write" in " ".join(load.stderr.split())
    assert _state(url) == before


# ---------------------------------------------------------------------- a killed load
def test_a_sqlite_load_killed_while_it_writes_leaves_the_store_as_it_was(city_bundle: Path, tmp_path: Path) -> None:
    """One transaction: the store is seen as before the load, never half of it (so SQLite needs no marker)."""
    url = _loaded(city_bundle, tmp_path / "kg.db")
    before = _state(url)
    big = tmp_path / "big"
    write_bundle(city_rows(40_000, seed=3), big)
    loader = subprocess.Popen([KG, "load", str(big), "--store", url, "--quiet"], stdout=subprocess.DEVNULL,
                              stderr=subprocess.DEVNULL)
    try:
        _wait_until_writing(tmp_path / "kg.db", loader)
        loader.send_signal(signal.SIGKILL)
        loader.wait(timeout=30)
    finally:
        if loader.poll() is None:
            loader.kill()
    assert loader.returncode == -signal.SIGKILL
    assert _state(url) == before
    store = open_store(url)
    try:
        assert store.status().unfinished_load is None
        store.verify()
    finally:
        store.close()


def _wait_until_writing(path: Path, loader: subprocess.Popen[bytes]) -> None:
    """Return once ``loader`` holds the store's write lock (its load transaction has begun)."""
    db = sqlite3.connect(path, timeout=0, isolation_level=None)
    try:
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline:
            assert loader.poll() is None, "the load ended before it was seen writing"
            try:
                db.execute("BEGIN IMMEDIATE")
                db.execute("ROLLBACK")
            except sqlite3.OperationalError:  # database is locked: the loader writes
                return
            time.sleep(0.01)
        raise AssertionError("the load never began writing")
    finally:
        db.close()


# ---------------------------------------------------------------------- a store of an earlier version
def _drop_new_columns(path: Path) -> None:
    """Make the store what an earlier version wrote: no assets.repair_hours, no agencies.crews."""
    db = sqlite3.connect(path)
    try:
        db.execute("ALTER TABLE assets DROP COLUMN repair_hours")
        db.execute("ALTER TABLE agencies DROP COLUMN crews")
        db.commit()
    finally:
        db.close()


def test_a_store_of_an_earlier_version_is_read_and_gains_the_new_columns(city_bundle: Path, tmp_path: Path) -> None:
    url = _loaded(city_bundle, tmp_path / "kg.db")
    _drop_new_columns(tmp_path / "kg.db")
    asset = _an_asset(city_bundle)
    result = run_kg("restore", "--fail", asset, "--store", url, "--format", "json")
    assert result.exit_code == 0, result.stderr
    db = sqlite3.connect(tmp_path / "kg.db")
    try:
        assert "repair_hours" in {row[1] for row in db.execute("PRAGMA table_info(assets)")}
        assert "crews" in {row[1] for row in db.execute("PRAGMA table_info(agencies)")}
    finally:
        db.close()


def test_a_read_only_store_of_an_earlier_version_is_read(shared_folder: tuple[Path, Path]) -> None:
    folder, path = shared_folder
    _drop_new_columns(path)
    path.chmod(0o644 if os.geteuid() == 0 else 0o444)
    result = _as_unprivileged("restore", "--fail", _an_asset(folder / "bundle"), "--store", _url(path),
                              "--format", "json")
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout)["schedule"]
