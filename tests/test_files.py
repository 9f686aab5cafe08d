"""Output files (``kg export -o``) are written whole and get the permissions any new file would get."""

from __future__ import annotations

import os
import stat
from collections.abc import Iterator
from pathlib import Path

import pytest

from kg.files import replaced_atomically
from tests.helpers import run_kg


@pytest.fixture(params=[0o022, 0o027, 0o002])
def umask(request: pytest.FixtureRequest) -> Iterator[int]:
    old = os.umask(request.param)
    try:
        yield request.param
    finally:
        os.umask(old)


def _mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def test_an_exported_file_follows_the_umask(umask: int, city_bundle: Path, tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'kg.db'}"
    assert run_kg("load", str(city_bundle), "--store", url, "--quiet").exit_code == 0
    for fmt in ("ttl", "nt", "jsonld"):
        out = tmp_path / "out" / f"city.{fmt}"
        result = run_kg("export", "--rdf", fmt, "-o", str(out), "--store", url)
        assert result.exit_code == 0, result.output
        assert _mode(out) == 0o666 & ~umask, f"{fmt}: {oct(_mode(out))}"
        assert out.stat().st_size > 0
    assert [p.name for p in (tmp_path / "out").iterdir() if p.name.startswith(".")] == []  # no temporary left


def test_a_replaced_file_keeps_its_permissions(umask: int, tmp_path: Path) -> None:
    target = tmp_path / "kept.ttl"
    target.write_text("old\n")
    target.chmod(0o640)
    with replaced_atomically(target) as out:
        out.write("new\n")
    assert (target.read_text(), _mode(target)) == ("new\n", 0o640)


def test_a_failed_write_leaves_the_old_file_and_no_temporary(tmp_path: Path) -> None:
    target = tmp_path / "kept.ttl"
    target.write_text("old\n")
    with pytest.raises(RuntimeError), replaced_atomically(target) as out:
        out.write("half")
        raise RuntimeError("stopped")
    assert target.read_text() == "old\n"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["kept.ttl"]
