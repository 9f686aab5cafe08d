"""RDF/XML read by ``kg load``: the CLI round trip, and how XML entities are bounded (kg.rdf.xml_entities).

pyoxigraph expands the entities an RDF/XML file declares, nested ones too, so
each hostile DTD here must be refused by the pre-scan, with its line, before
the parser sees it; the namespace entities RDF/XML files commonly use must
still load.
"""

from __future__ import annotations

from pathlib import Path

import pyoxigraph as ox
import pytest

from kg.errors import ValidationError
from kg.ingest import load_paths
from kg.rdf.parse import parse_file
from kg.rdf.xml_entities import EXPANSION_FLOOR
from kg.store.sqlite import SQLiteStore
from kg.synth import city_rows, write_bundle
from tests.helpers import all_rows, assert_snapshots_equal, run_kg

_RDF = "http://www.w3.org/1999/02/22-rdf-syntax-ns#"
_EX = "http://x.example/"


def _doc(dtd: str, body: str) -> str:
    """An RDF/XML file: the XML declaration (line 1), ``<!DOCTYPE`` with ``dtd`` (from line 2), then ``body``
    inside ``rdf:RDF``."""
    doctype = f"<!DOCTYPE rdf:RDF [\n{dtd}]>\n" if dtd else ""
    return (f'<?xml version="1.0"?>\n{doctype}<rdf:RDF xmlns:rdf="{_RDF}" xmlns:ex="{_EX}">\n{body}</rdf:RDF>\n')


def _problems(tmp_path: Path, text: str, name: str = "city.rdf") -> list[str]:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    with pytest.raises(ValidationError) as exc:
        parse_file(path)
    return [str(p) for p in exc.value.problems]


def _triples(path: Path) -> set[str]:
    return {str(q.triple) for q in ox.parse(path=path, format=ox.RdfFormat.RDF_XML)}


def test_kg_export_then_kg_load_gives_the_same_graph(tmp_path: Path) -> None:
    bundle = tmp_path / "bundle"
    write_bundle(city_rows(120, seed=5), bundle)
    source_url, target_url = f"sqlite:///{tmp_path}/source.db", f"sqlite:///{tmp_path}/target.db"
    assert run_kg("load", str(bundle), "--store", source_url, "--quiet").exit_code == 0
    exported = tmp_path / "city.rdf"
    result = run_kg("export", "--store", source_url, "-o", str(exported))
    assert result.exit_code == 0, result.output
    assert exported.read_text(encoding="utf-8").lstrip().startswith("<?xml")
    result = run_kg("load", str(exported), "--store", target_url, "--quiet")
    assert result.exit_code == 0, result.output
    source, target = SQLiteStore(str(tmp_path / "source.db")), SQLiteStore(str(tmp_path / "target.db"))
    assert all_rows(target) == all_rows(source)
    assert_snapshots_equal(target.snapshot(), source.snapshot())


def test_namespace_entities_load_as_if_written_out(tmp_path: Path) -> None:
    body = ('<rdf:Description rdf:about="&ex;s">\n  <rdf:type rdf:resource="&ex;Thing"/>\n'
            '  <ex:p rdf:datatype="&xsd;integer">4</ex:p>\n  <ex:q>a &amp; b &#38; c</ex:q>\n</rdf:Description>\n')
    entities = f'<!ENTITY ex "{_EX}">\n<!-- a comment -->\n<!ENTITY xsd "http://www.w3.org/2001/XMLSchema#">\n'
    with_entities = tmp_path / "entities.rdf"
    with_entities.write_text(_doc(entities, body), encoding="utf-8")
    written_out = tmp_path / "plain.rdf"
    written_out.write_text(_doc("", body.replace("&ex;", _EX).replace("&xsd;", "http://www.w3.org/2001/XMLSchema#")),
                           encoding="utf-8")
    index = parse_file(with_entities)
    assert index.count == 3
    assert index.where(f"{_EX}s") == f"{with_entities}:9 <{_EX}s>"  # its first statement, rdf:type
    assert _triples(with_entities) == _triples(written_out)


@pytest.mark.parametrize(("dtd", "line", "words"), [
    ('<!ENTITY a "lol">\n<!ENTITY b "&a;&a;&a;">\n', 4, "the value of the entity 'b' holds a reference"),
    ('<!ENTITY a "lol">\n<!ENTITY b "&#38;a;&#38;a;">\n', 4, "the value of the entity 'b' holds a reference"),
    ('<!ENTITY ex "x">\n<!ENTITY xxe SYSTEM "file:///etc/passwd">\n', 4, "'xxe' is external (SYSTEM or PUBLIC)"),
    ('<!ENTITY pub PUBLIC "-//x//y" "http://x.example/y">\n', 3, "'pub' is external"),
    ('<!ENTITY % p "<!ENTITY a \'x\'>">\n%p;\n', 3, "a parameter entity (<!ENTITY % ...>) is not read"),
    ("%p;\n", 3, "a parameter entity reference"),
    ('<!-- <!ENTITY a "&b;"> -->\n', 3, "inside a comment or processing instruction"),
    ('<!ATTLIST ex:p ex:q CDATA "&a;">\n', 3, "a reference (&name; or %name;) inside a DTD declaration"),
    ('<!ENTITY a "x"\n', 3, "cannot read the entity declaration"),
])
def test_entities_that_could_expand_are_refused_with_their_line(tmp_path: Path, dtd: str, line: int,
                                                                words: str) -> None:
    body = '<rdf:Description rdf:about="http://x.example/s"><ex:p>&a;</ex:p></rdf:Description>\n'
    problems = _problems(tmp_path, _doc(dtd, body))
    assert len(problems) == 1 and problems[0].startswith(f"{tmp_path}/city.rdf:{line}: RDF/XML entity refused: ")
    assert words in problems[0], problems


def test_an_external_dtd_is_refused(tmp_path: Path) -> None:
    text = _doc("", "").replace("<rdf:RDF", '<!DOCTYPE rdf:RDF SYSTEM "http://x.example/rdf.dtd">\n<rdf:RDF', 1)
    assert _problems(tmp_path, text) == [
        f"{tmp_path}/city.rdf:2: RDF/XML entity refused: the DOCTYPE names an external DTD (SYSTEM or PUBLIC), which "
        "is never read; remove it, and declare any entity the file needs inside <!DOCTYPE ... [ ]>"]


def test_an_entity_declared_after_the_dtd_is_refused(tmp_path: Path) -> None:
    text = _doc('<!ENTITY a "x">\n', '<ex:s><![CDATA[\n<!ENTITY b "&a;&a;">\n]]></ex:s>\n')
    problems = _problems(tmp_path, text)
    assert len(problems) == 1 and problems[0].startswith(f"{tmp_path}/city.rdf:7: RDF/XML entity refused: an "
                                                         "entity declaration outside the DTD's internal subset")


def test_flat_references_are_bounded_by_the_file_size(tmp_path: Path) -> None:
    """No nesting, but a 10 KB entity referenced enough times to pass the bound: refused at that reference."""
    value = "x" * 10_000
    per_line = 10
    lines = EXPANSION_FLOOR // (len(value) * per_line) + 5
    body = "".join(f'<rdf:Description rdf:about="http://x.example/s{n}"><ex:p>{"&big;" * per_line}</ex:p>'
                   "</rdf:Description>\n" for n in range(lines))
    problems = _problems(tmp_path, _doc(f'<!ENTITY big "{value}">\n', body))
    first_over = EXPANSION_FLOOR // (len(value) * per_line)  # the body line (from 0) where the total passes it
    assert len(problems) == 1, problems
    assert problems[0].startswith(f"{tmp_path}/city.rdf:{6 + first_over}: RDF/XML entity refused: its entity "
                                  "references expand the file by more than 1,048,576 bytes"), problems


def test_a_syntax_error_names_its_line(tmp_path: Path) -> None:
    body = ('<rdf:Description rdf:about="http://x.example/s">\n  <ex:p>x</ex:p>\n'
            '</rdf:Descriptio>\n')
    problems = _problems(tmp_path, _doc("", body))
    assert len(problems) == 1 and problems[0].startswith(f"{tmp_path}/city.rdf:5: RDF/XML syntax error: "), problems
    assert "</rdf:Descriptio>" in problems[0] and "expected RDF/XML 1.1" in problems[0]


def test_a_bundle_folder_reads_its_rdf_xml_file(tmp_path: Path) -> None:
    """``.rdf`` is a bundle file now: a folder holding one loads it like a ``.ttl``."""
    source = tmp_path / "source"
    write_bundle(city_rows(100, seed=2), source)
    store = SQLiteStore(str(tmp_path / "s.db"), create=True)
    load_paths(store, [source])
    folder = tmp_path / "folder"
    folder.mkdir()
    assert run_kg("export", "--store", f"sqlite:///{tmp_path}/s.db", "-o", str(folder / "city.rdf")).exit_code == 0
    target = SQLiteStore(str(tmp_path / "t.db"), create=True)
    load_paths(target, [folder])
    assert all_rows(target) == all_rows(store)
