"""ontology/shapes.ttl, tested with good/bad Turtle pairs (tests/data/shapes/NAME_good.ttl, NAME_bad.ttl).

Each pair is validated with pyshacl, the reference implementation, and with
CityKG's fast engine (:mod:`kg.rdf.shacl`); the report text is in every
assert message. The ontology is merged into the data graph rather than passed
as pyshacl's ``ont_graph``: pyshacl copies only RDFS/OWL axioms from an
ontology graph, not the ``ckg:kind_*`` / ``ckg:level_*`` individuals that
``sh:class ckg:ServiceKind`` and the level-nesting SPARQL need.
"""

from __future__ import annotations

from pathlib import Path

import pyshacl
import pytest
from rdflib import Graph

from kg.namespaces import SH
from kg.ontology import load_ontology
from kg.rdf.index import Index
from kg.rdf.parse import parse_file
from kg.rdf.reader import shacl_problems
from kg.rdf.shacl import load_shapes, validate_index

DATA = Path(__file__).parent / "data" / "shapes"
BASE = "https://data.citykg.example/id/"

# pair name -> (focus node of the expected violation, words of the shape's message)
EXPECTED: dict[str, tuple[str, str]] = {
    "agency": ("yz-power", "org:subOrganizationOf: at most one parent agency"),
    "asset_location": ("S1", "ckg:lat: at most one WGS84 latitude, a number from -90 to 90"),
    "asset_population": ("R1", "ckg:population: at most one whole number >= 0"),
    "dependency_buffer": ("dep1", "ckg:bufferHours: at most one buffer, a number of hours >= 0"),
    "dependency_group": ("dep1", "ckg:group: a dependency needs exactly one group"),
    "dependency_kind": ("dep1", "ckg:kind: a dependency needs exactly one service kind"),
    "dependency_provider": ("dep1", "ckg:provider: a dependency needs exactly one provider asset that exists"),
    "dependency_self": ("dep1", "an asset cannot depend on itself"),
    "dependency_unknown_kind": ("dep1", "ckg:kind: a dependency needs exactly one service kind"),
    "element_id": ("S1", "needs exactly one ckg:id"),
    "element_two_types": ("S1", "needs exactly one rdf:type that is a CityKG class"),
    "element_type": ("S1", "needs exactly one rdf:type that is a CityKG class"),
    "exposure_intensity": ("e1", "ckg:intensity: an exposure needs exactly one intensity, a number >= 0"),
    "fragility_target": ("f1", "a fragility applies to exactly one of ckg:assetType"),
    "geometry": ("S1-geometry", "a geometry needs exactly one geo:asWKT, a geo:wktLiteral"),
    "hazard_zone": ("z1", "ckg:ofHazard: a hazard zone needs exactly one hazard"),
    "region_level": ("yz", "ckg:level: a region needs exactly one level"),
    "region_nesting": ("yz", "must be part of a region at a higher level"),
}
PAIRS = sorted(p.name.removesuffix("_good.ttl") for p in DATA.glob("*_good.ttl"))


def _pyshacl(path: Path) -> tuple[bool, set[tuple[str, str]], str]:
    """pyshacl's verdict, its results as (focus node, message) and its report text."""
    data = Graph().parse(path, format="turtle")
    data += load_ontology().graph
    conforms, report, text = pyshacl.validate(data, shacl_graph=load_shapes(), inference="none")
    results = {(str(report.value(r, SH.focusNode)), str(report.value(r, SH.resultMessage)))
               for r in report.subjects(SH.focusNode, None)}
    return bool(conforms), results, str(text)


def _fast(path: Path) -> tuple[Index, list[str]]:
    index = parse_file(path)
    return index, [str(p) for p in shacl_problems(index, validate_index(index))]


def test_every_pair_is_complete_and_expected() -> None:
    bad = sorted(p.name.removesuffix("_bad.ttl") for p in DATA.glob("*_bad.ttl"))
    assert bad == PAIRS, "every NAME_good.ttl needs a NAME_bad.ttl and the other way round"
    assert set(PAIRS) == set(EXPECTED), "list the expected violation of every pair in EXPECTED"


@pytest.mark.parametrize("name", PAIRS)
def test_good_sample_conforms(name: str) -> None:
    conforms, _, text = _pyshacl(DATA / f"{name}_good.ttl")
    assert conforms, f"{name}_good.ttl should conform:\n{text}"
    _, problems = _fast(DATA / f"{name}_good.ttl")
    assert not problems, f"{name}_good.ttl: the fast engine reports\n" + "\n".join(problems)


@pytest.mark.parametrize("name", PAIRS)
def test_bad_sample_violates_the_named_shape(name: str) -> None:
    focus, words = EXPECTED[name]
    conforms, results, text = _pyshacl(DATA / f"{name}_bad.ttl")
    assert not conforms, f"{name}_bad.ttl should not conform:\n{text}"
    assert any(node == BASE + focus and words in message for node, message in results), \
        f"{name}_bad.ttl: expected {focus}: {words!r} in\n{text}"
    _, problems = _fast(DATA / f"{name}_bad.ttl")
    report = "\n".join(problems)
    assert any(f"<{BASE}{focus}>" in p and words in p for p in problems), \
        f"{name}_bad.ttl: the fast engine should report {focus}: {words!r}, reports\n{report}"


@pytest.mark.parametrize("name", PAIRS)
def test_fast_engine_agrees_with_pyshacl(name: str) -> None:
    for kind in ("good", "bad"):
        index = parse_file(DATA / f"{name}_{kind}.ttl")
        fast = {(str(v.focus), v.message) for v in validate_index(index)}
        ref = {(str(v.focus), v.message) for v in validate_index(index, engine="pyshacl")}
        assert fast == ref, f"{name}_{kind}.ttl: fast only {sorted(fast - ref)}; pyshacl only {sorted(ref - fast)}"


def test_problems_name_file_line_focus_node_and_value() -> None:
    _, problems = _fast(DATA / "dependency_buffer_bad.ttl")
    assert problems == [
        f"{DATA / 'dependency_buffer_bad.ttl'}:11 <{BASE}dep1>: ckg:bufferHours: at most one buffer, "
        "a number of hours >= 0; got '-2.5'"
    ], "\n".join(problems)


def test_every_shape_constraint_has_a_message() -> None:
    shapes = load_shapes()
    for prop in shapes.objects(None, SH.property):
        if (prop, SH.path, None) in shapes and any(shapes.objects(prop, p) for p in (
                SH.minCount, SH.maxCount, SH.datatype, SH["class"], SH.minInclusive, SH.qualifiedValueShape,
                SH.disjoint, SH.pattern)):
            parents = list(shapes.subjects(SH.property, prop))
            in_helper = any((p, SH.targetClass, None) not in shapes and (p, SH.targetSubjectsOf, None) not in shapes
                            and (p, SH.targetObjectsOf, None) not in shapes for p in parents)
            assert in_helper or shapes.value(prop, SH.message) is not None, \
                f"a constraint of {parents} has no sh:message"
    for node in shapes.subjects(SH.sparql, None):
        for constraint in shapes.objects(node, SH.sparql):
            assert shapes.value(constraint, SH.message) is not None, f"{node}: SPARQL constraint without sh:message"
