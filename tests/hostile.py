"""Hostile and malformed bundles, shared by the CLI tests (tests/test_input_limits.py) and the API tests
(tests/api/test_load_limits.py): the files, and where and with which words each must be refused.

``where`` is a regular expression for the location, relative to the bundle folder
(``city.ttl:1:90``); every case must be refused with it, quickly, and with the store
left as it was.
"""

from __future__ import annotations

from dataclasses import dataclass

__all__ = ["CASES", "TURTLE_ONE_LINERS", "Case"]

_CKG = "https://w3id.org/citykg#"
_ID = "https://data.citykg.example/id/"


@dataclass(frozen=True)
class Case:
    """A bundle (file name -> content) and how its refusal must read."""

    files: dict[str, str | bytes]
    where: str
    words: str


def _region_line(region_id: str) -> str:
    # json.dumps would escape the characters; the point is what a reader decodes from the escapes.
    escaped = region_id.encode("unicode_escape").decode("ascii").replace("\\x", "\\u00")
    return '{"file": "regions", "id": "' + escaped + '", "level": "city"}\n'


_DEEP_TURTLE = (f"@prefix ckg: <{_CKG}> .\n@prefix rdfs: <http://www.w3.org/2000/01/rdf-schema#> .\n"
                f'<{_ID}cq> a ckg:Region ; ckg:id "cq" ; ckg:level ckg:level_city ;\n'
                "    rdfs:label " + "[ rdfs:label " * 50_000 + '"x"' + " ]" * 50_000 + " .\n")

_LAUGHS = "".join(f'<!ENTITY a{i} "{f"&a{i - 1};" * 10}">\n' for i in range(1, 9))
_BILLION_LAUGHS = ('<?xml version="1.0"?>\n<!DOCTYPE rdf:RDF [\n<!ENTITY a0 "lol">\n' + _LAUGHS + ']>\n'
                   '<rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#" '
                   f'xmlns:ckg="{_CKG}">\n<rdf:Description rdf:about="{_ID}cq"><ckg:id>&a8;</ckg:id>'
                   '</rdf:Description>\n</rdf:RDF>\n')
"""A 1 KB file that pyoxigraph, unguarded, expands into a 300 MB literal (eight levels of ten references)."""

TURTLE_ONE_LINERS: dict[str, str] = {
    "windows path in a literal": f'<{_ID}s1> <{_CKG}prop_path> "exported from D:\\gis\\export" .\n',
    "raw line break in a string": f'<{_ID}s1> <{_CKG}prop_note> "first line\nsecond line" .\n',
    "space in an IRI": f'<{_ID}sub station> <{_CKG}id> "s" .\n',
    "bar in an IRI": f'<{_ID}sub|station> <{_CKG}id> "s" .\n',
    "bad first token": f'}}<{_ID}s> <{_CKG}id> "s" .\n',
}
"""One-line Turtle files the old regular-expression parser took minutes over (or crashed on)."""

CASES: dict[str, Case] = {
    "RDF/XML billion laughs": Case({"city.rdf": _BILLION_LAUGHS}, r"city\.rdf:4", "entities written with entities"),
    "JSON Lines nested 100,000 deep": Case(
        {"city.jsonl": '{"file": "regions", "id": "r", "level": "city", "x": ' + "[" * 100_000 + "]" * 100_000
         + "}\n"}, r"city\.jsonl:1", "nested too deeply"),
    "a 5,000-digit integer": Case(
        {"city.jsonl": '{"file": "assets", "id": "a", "type": "Hospital", "population": ' + "9" * 5000 + "}\n"},
        r"city\.jsonl:1", "digits"),
    "a 200,000-character CSV cell": Case(
        {"regions.csv": "id,level,name\ncq,city," + "x" * 200_000 + "\n"}, r"regions\.csv:2",
        "longer than 131,072 characters"),
    "Turtle nested 50,000 deep": Case({"city.ttl": _DEEP_TURTLE}, r"city\.ttl:3", "expected a literal value"),
    "JSON-LD nested 100,000 deep": Case(
        {"city.jsonld": '{"@context": {"p": "http://x/p"}, "@id": "http://x/s", "p": ' + "[" * 100_000
         + "]" * 100_000 + "}"}, r"city\.jsonld:1:\d+", "JSON syntax error"),
    "JSON-LD with an http: context": Case(
        {"city.jsonld": '{"@context": "http://127.0.0.1:9/context.jsonld",\n "@id": "http://x/s", "p": "o"}'},
        r"city\.jsonld:1", "never fetched"),
    "JSON-LD with a file: context": Case(
        {"city.jsonld": '{"@id": "http://x/s",\n "@context": ["file:///etc/hostname", {"p": "http://x/p"}]}'},
        r"city\.jsonld:2", "never fetched"),
    "an id holding NUL": Case({"city.jsonl": _region_line("a\x00b")}, r"city\.jsonl:1", "U+0000"),
    "an id holding ESC": Case({"city.jsonl": _region_line("a\x1b[2Jb")}, r"city\.jsonl:1", "U+001B"),
    "an id holding RLO": Case({"city.jsonl": _region_line("abc\u202egpj.exe")}, r"city\.jsonl:1",
                              "U+202E RIGHT-TO-LEFT OVERRIDE"),
    "an id holding a line break": Case({"city.jsonl": _region_line("a\nb")}, r"city\.jsonl:1", "U+000A"),
    "a CSV id holding ESC": Case({"regions.csv": "id,level\n\"cq\x1b[31m\",city\n"}, r"regions\.csv:2", "U+001B"),
    "a CSV id holding a line break": Case({"regions.csv": 'id,level\n"c\nq",city\n'}, r"regions\.csv:2",
                                          "U+000A"),
    "a CSV line holding NUL": Case({"regions.csv": "id,level\ncq\x00,city\n"}, r"regions\.csv:2", "NUL"),
    "a _props column": Case({"regions.csv": "id,level,_props\ncq,city,x\n"}, r"regions\.csv:1", "reserved"),
    "a _props key": Case({"city.jsonl": '{"file": "regions", "id": "cq", "level": "city", "_props": "x"}\n'},
                         r"city\.jsonl:1", "reserved"),
    **{f"Turtle: {name}": Case({"city.ttl": text}, r"city\.ttl:1:\d+", "Turtle syntax error")
       for name, text in TURTLE_ONE_LINERS.items()},
}
