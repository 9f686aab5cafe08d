"""The user docs stand alone: they never send a reader to a file users do not have.

The design notes the engineers work from live outside the repository; what users need of them
is in docs/design.md and the pages it links. The same goes for the API's own documentation
(the OpenAPI schema behind /docs), which users read too.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from api.main import create_app
from kg.settings import Settings

ROOT = Path(__file__).resolve().parent.parent
DOCS = sorted([ROOT / "README.md", *(ROOT / "docs").rglob("*.md")])
# The engineers' design file (any spelling of its upper-case name) and the folder outside the repository.
OUTSIDE = re.compile(r"\bDESIGN\b|\.\./shared\b|/shared/")


def _outside_references(text: str) -> list[str]:
    return [f"{n}: {line.strip()}" for n, line in enumerate(text.splitlines(), 1) if OUTSIDE.search(line)]


@pytest.mark.parametrize("path", DOCS, ids=lambda p: p.relative_to(ROOT).as_posix())
def test_a_doc_refers_to_no_file_users_do_not_have(path: Path) -> None:
    found = _outside_references(path.read_text(encoding="utf-8"))
    assert not found, f"{path.relative_to(ROOT)} points outside the repository; state it here or link a doc:\n" + \
        "\n".join(found)


def test_the_api_documentation_refers_to_no_file_users_do_not_have() -> None:
    schema = json.dumps(create_app(Settings(api_keys="k-0123456789abcdef:read")).openapi(), ensure_ascii=False)
    assert not OUTSIDE.search(schema), OUTSIDE.findall(schema)


def test_the_check_catches_what_it_should() -> None:
    assert _outside_references("see DESIGN.md\nthe DESIGN's shape\n`../shared/DESIGN.md`\n") == [
        "1: see DESIGN.md", "2: the DESIGN's shape", "3: `../shared/DESIGN.md`"]
    assert _outside_references("see [design.md](design.md), a shared connection\n") == []
    assert len(DOCS) > 5
