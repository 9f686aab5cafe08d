"""docs/ontology.md is generated from ontology/citykg.ttl and must be current."""

from __future__ import annotations

import importlib.util
from pathlib import Path
from types import ModuleType

from kg.ontology import load_ontology

SCRIPT = Path(__file__).resolve().parent.parent / "scripts" / "gen_ontology_docs.py"


def _generator() -> ModuleType:
    spec = importlib.util.spec_from_file_location("gen_ontology_docs", SCRIPT)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_docs_ontology_md_is_up_to_date() -> None:
    gen = _generator()
    expected = gen.render()
    current = gen.DOCS.read_text(encoding="utf-8") if gen.DOCS.exists() else ""
    assert current == expected, "docs/ontology.md is out of date; run: python scripts/gen_ontology_docs.py"


def test_the_page_lists_every_class_and_relation() -> None:
    text = _generator().render()
    onto = load_ontology()
    for name, info in onto.classes.items():
        assert f"| `ckg:{name}` | {info.label_en} | {info.label_zh} |" in text, name
    for prop, rel in onto.relations.items():
        assert f"| `ckg:{prop}` | `{rel.graph_name}` | `ckg:{rel.domain}` | `ckg:{rel.range}` |" in text, prop


def test_check_mode_exit_codes(tmp_path: Path) -> None:
    gen = _generator()
    assert gen.main(["--check"]) == 0
    gen.DOCS = tmp_path / "ontology.md"
    gen.DOCS.write_text("stale\n", encoding="utf-8")
    assert gen.main(["--check"]) == 1
