"""The ontology is the one source of class names: no code keeps a list of asset types, sectors or hazards.

Scanned: the Python of ``kg/`` and ``api/`` and the page's JavaScript (``api/static/js``). Exempt:
``kg/ontology.py`` (it reads the names), ``kg/synth.py`` (the synthetic city generator names the types
it builds) and the tests. A literal counts when every word of it is a class name (``'Hospital'``,
``"PowerPlant Substation"``), and so does a JavaScript key or property named after a class
(``{Hospital: 1}``, ``x.PowerAsset``); prose that mentions a class (``"e.g. MATCH (h:Hospital)"``),
comments and docstrings do not.
"""

from __future__ import annotations

import ast
import re
from collections.abc import Iterator
from pathlib import Path

import pytest
from pygments.lexers import JavascriptLexer
from pygments.token import Comment, Name, String

from kg.ontology import load_ontology

ROOT = Path(__file__).resolve().parent.parent
EXEMPT = {"kg/ontology.py", "kg/synth.py"}

# The schema's own classes: each types a table of the bundle or is a root of the hierarchy, and the
# code that maps tables to SQLite, Neo4j labels and RDF must name them. None is an asset type, a
# sector or a hazard (checked below), so no view's list of facilities can hide here.
STRUCTURAL = frozenset({"Element", "Asset", "Region", "Agency", "Hazard", "HazardZone", "Dependency", "Exposure",
                        "Fragility", "AssetStatement", "ServiceKind", "RegionLevel"})

# (file, class name) -> why it must stay.
ALLOWED = {
    ("kg/cli/demo.py", "Substation"): "kg demo tells the story of the synthetic city's most depended-on substation",
    ("kg/analysis/traces.py", "Substation"): "the four-asset example city of the module's doctests",
}

_WORD = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")


def _names_in(text: str, classes: frozenset[str]) -> list[str]:
    """The class names of a literal whose every word is a class name; none otherwise."""
    words = _WORD.findall(text)
    return words if words and all(w in classes for w in words) else []


def _docstrings(tree: ast.AST) -> set[int]:
    found = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Module | ast.ClassDef | ast.FunctionDef | ast.AsyncFunctionDef) and node.body:
            first = node.body[0]
            if isinstance(first, ast.Expr) and isinstance(first.value, ast.Constant):
                found.add(id(first.value))
    return found


def python_literals(source: str, classes: frozenset[str]) -> Iterator[tuple[int, str]]:
    """(line, class name) of each class named by a string literal of Python ``source``."""
    tree = ast.parse(source)
    skip = _docstrings(tree)
    for node in ast.walk(tree):
        if isinstance(node, ast.Constant) and isinstance(node.value, str) and id(node) not in skip:
            for name in _names_in(node.value, classes):
                yield node.lineno, name


def js_literals(source: str, classes: frozenset[str]) -> Iterator[tuple[int, str]]:
    """(line, class name) of each class named by a string, key or property of JavaScript ``source``."""
    line = 1
    for token, value in JavascriptLexer(stripnl=False, ensurenl=False).get_tokens(source):
        if token in Comment or token in String.Regex:
            pass
        elif token in String:
            for name in _names_in(value.strip("'\"`"), classes):
                yield line, name
        elif token in Name and value in classes:
            yield line, value
        line += value.count("\n")


def _sources() -> Iterator[tuple[str, str, str]]:
    for pattern in ("kg/**/*.py", "api/**/*.py", "api/static/js/**/*.js"):
        for path in sorted(ROOT.glob(pattern)):
            rel = path.relative_to(ROOT).as_posix()
            if rel not in EXEMPT and "ontology_data" not in rel:
                yield rel, path.suffix, path.read_text(encoding="utf-8")


def test_no_code_names_an_asset_type_sector_or_hazard() -> None:
    classes = frozenset(load_ontology().classes)
    found = []
    for rel, suffix, source in _sources():
        literals = python_literals(source, classes) if suffix == ".py" else js_literals(source, classes)
        found += [f"{rel}:{line}: {name!r}" for line, name in literals
                  if name not in STRUCTURAL and (rel, name) not in ALLOWED]
    assert not found, ("class names belong in ontology/citykg.ttl (read them through kg.ontology, or on the "
                       "page from GET /v1/city), not in code:\n" + "\n".join(found))


def test_the_exceptions_are_few_and_name_no_facility() -> None:
    onto = load_ontology()
    assert set(onto.classes) >= STRUCTURAL, STRUCTURAL - set(onto.classes)
    for name in STRUCTURAL:
        assert name == "Asset" or not onto.is_a(name, "Asset"), f"{name} is an asset class"
        assert name not in onto.hazard_types, f"{name} is a hazard"
    for rel, name in ALLOWED:
        assert (ROOT / rel).is_file() and name in onto.classes, (rel, name)
        source = (ROOT / rel).read_text(encoding="utf-8")
        assert any(n == name for _, n in python_literals(source, frozenset(onto.classes))), \
            f"{rel} no longer names {name}: drop it from ALLOWED"


CLASSES = frozenset({"Hospital", "PowerPlant", "Substation", "Flood", "Asset"})


@pytest.mark.parametrize(("source", "expected"), [
    ("KEY = ('Hospital', 'PowerPlant')\n", [(1, "Hospital"), (1, "PowerPlant")]),
    ("x = 1\nKEY = {'Flood': '#38bdf8'}\n", [(2, "Flood")]),
    ("NAMES = 'Hospital Substation'.split()\n", [(1, "Hospital"), (1, "Substation")]),
    ('"""Hospital"""\ndef f():\n    """Substation"""\n    return "a Hospital nearby"\n', []),
    ("# Hospital\nx = f'{y} Hospital'\n", [(2, "Hospital")]),
])
def test_python_literals_are_found_and_prose_is_not(source: str, expected: list[tuple[int, str]]) -> None:
    assert list(python_literals(source, CLASSES)) == expected


@pytest.mark.parametrize(("source", "expected"), [
    ("const K = new Set(['Hospital',\n  \"PowerPlant\"]);\n", [(1, "Hospital"), (2, "PowerPlant")]),
    ("const Z = {Hospital: 1,\n  Substation: 1.8};\n", [(1, "Hospital"), (2, "Substation")]),
    ("x.Flood;\ncolour(`Flood`);\n", [(1, "Flood"), (2, "Flood")]),
    ("// Hospital\n/* PowerPlant */\nconst r = /Flood/;\nh('p', {}, 'a Hospital nearby');\n", []),
])
def test_javascript_literals_are_found_and_prose_is_not(source: str, expected: list[tuple[int, str]]) -> None:
    assert list(js_literals(source, CLASSES)) == expected
