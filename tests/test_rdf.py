"""RDF export and import: round trips, conformance to shapes.ttl, the mapping, bad input."""

from __future__ import annotations

import io
import json
from pathlib import Path
from typing import Any

import pyoxigraph as ox
import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st
from rdflib import Graph, Literal, URIRef
from rdflib.compare import isomorphic

from kg import namespaces as ns
from kg.errors import ElementNotFound, ValidationError
from kg.ingest import load_paths
from kg.namespaces import CKG, GEO, RDF
from kg.rdf.export import export_rdf
from kg.rdf.index import Index, to_rdflib
from kg.rdf.labels import name_from_labels, name_labels
from kg.rdf.parse import parse_file, parse_turtle
from kg.rdf.reader import validate_rdf
from kg.rdf.shacl import validate_index
from kg.rdf.terms import IriScheme, prop_iri
from kg.rdf.writers import XML_FORBIDDEN, format_for_path, split_qname
from kg.schema import TABLES
from kg.store.sqlite import SQLiteStore
from kg.synth import city_rows, write_bundle, write_jsonl
from tests.helpers import all_rows, assert_snapshots_equal, run_kg

FORMATS = ("ttl", "jsonld", "nt", "rdfxml")
SUFFIX = {"ttl": ".ttl", "jsonld": ".jsonld", "nt": ".nt", "rdfxml": ".rdf"}
RDFLIB_FORMAT = {"ttl": "turtle", "jsonld": "json-ld", "nt": "nt", "rdfxml": "xml"}
OX_FORMAT = {"ttl": ox.RdfFormat.TURTLE, "jsonld": ox.RdfFormat.JSON_LD, "nt": ox.RdfFormat.N_TRIPLES,
             "rdfxml": ox.RdfFormat.RDF_XML}
pytestmark = pytest.mark.filterwarnings("ignore:ConjunctiveGraph is deprecated:DeprecationWarning")
SLOW = settings(max_examples=4, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])


# ---------------------------------------------------------------------- helpers


def _store(path: Path) -> SQLiteStore:
    return SQLiteStore(str(path), create=True)


def _export(store: SQLiteStore, path: Path, fmt: str, **filters: Any) -> Path:
    with path.open("w", encoding="utf-8") as out:
        export_rdf(store, out, fmt=fmt, **filters)
    return path


def _read_back(path: Path, fmt: str) -> tuple[Graph, set[str]]:
    """The file as rdflib reads it and as pyoxigraph reads it (a set of N-Triples lines)."""
    graph = Graph().parse(path, format=RDFLIB_FORMAT[fmt])
    triples = {str(q.triple) for q in ox.parse(path=path, format=OX_FORMAT[fmt])}
    return graph, triples



def _city_store(tmp_path: Path, assets: int, seed: int) -> SQLiteStore:
    bundle = tmp_path / f"bundle-{assets}-{seed}"
    write_bundle(city_rows(assets, seed=seed), bundle)
    store = _store(tmp_path / f"source-{assets}-{seed}.db")
    load_paths(store, [bundle])
    return store


@pytest.fixture(scope="module")
def city(tmp_path_factory: pytest.TempPathFactory) -> SQLiteStore:
    """A small synthetic city in a SQLite store, shared by the read-only tests."""
    return _city_store(tmp_path_factory.mktemp("city"), 150, 11)


# ---------------------------------------------------------------------- round trips


@SLOW
@given(assets=st.integers(min_value=100, max_value=160), seed=st.integers(min_value=0, max_value=10_000))
def test_round_trip_through_every_format(tmp_path_factory: pytest.TempPathFactory, assets: int, seed: int) -> None:
    tmp = tmp_path_factory.mktemp("rt")
    source = _city_store(tmp, assets, seed)
    expected_rows = all_rows(source)
    expected_snapshot = source.snapshot()
    reference_graph, reference_triples = _read_back(_export(source, tmp / "reference.nt", "nt"), "nt")
    for fmt in FORMATS:
        exported = _export(source, tmp / f"city{SUFFIX[fmt]}", fmt)
        graph, triples = _read_back(exported, fmt)
        assert isomorphic(graph, reference_graph), f"{fmt}: rdflib reads another graph"
        assert triples == reference_triples, f"{fmt}: pyoxigraph reads other triples"
        target = _store(tmp / f"target-{fmt}.db")
        load_paths(target, [exported])
        got = all_rows(target)
        for table in TABLES:
            assert got[table] == expected_rows[table], f"{fmt}: table {table} differs after the round trip"
        assert_snapshots_equal(expected_snapshot, target.snapshot())
        target.close()


def test_rdf_loads_into_and_exports_from_every_store(city: SQLiteStore, store: Any, tmp_path: Path) -> None:
    """``store`` is SQLite, then Neo4j when KG_NEO4J_URL is set (tests/conftest_stores.py)."""
    exported = _export(city, tmp_path / "city.ttl", "ttl")
    load_paths(store, [exported])
    for table in TABLES:
        assert list(store.rows(table)) == list(city.rows(table)), f"{type(store).__name__}: {table} differs"
    again = _export(store, tmp_path / "again.ttl", "ttl")
    assert again.read_bytes() == exported.read_bytes(), "the same graph must export to the same bytes from any store"


# Ids and column names hold no control (Cc) or format (Cf) character; other text may hold tabs and line
# breaks but no other control character nor a bidirectional override (kg.model, docs/data-format.md).
_TEXT = st.text(st.characters(exclude_categories=("Cs", "Cc", "Cf")), min_size=1, max_size=12).filter(
    lambda t: t.strip() == t)
_NAME = st.text(st.characters(exclude_categories=("Cs", "Cc"), include_characters="\t\n\r",
                              exclude_characters="\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069"),
                max_size=20).map(str.strip)
_KEY = _TEXT.filter(lambda k: k not in {"file", "props"} and not k.startswith("_")
                    and all(k not in TABLES[t].columns for t in TABLES))


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@example(ids=['a"b', "c\\d", "e\u00a0f", "渝/中#%20."], name='say "hi"\\\n"""', group='g "\\"',
         props={"return period": "a\r\nb"}, lat=-89.99999999999999, fmt="ttl")
@example(ids=["..", ".", "_:x", "<urn:x>"], name="'''x'''", group="@base", props={"@id": "{}", "prop_x%41": "x"},
         lat=0.1, fmt="jsonld")
@example(ids=["a b", "🙂", "x\u3000y", "a\u2028b"], name="\\", group='"', props={"k": 'ends with \\"'}, lat=1e-300,
         fmt="nt")
@example(ids=["a&b", "<x>", "x|y", "渝中"], name="Ba'nan 巴南区", group="]]>", props={"return period": "a\r\nb"},
         lat=0.5, fmt="rdfxml")
@example(ids=["a", "b", "c", "d"], name="x", group="g", props={"floor 2": "v"}, lat=0.5, fmt="rdfxml")
@given(ids=st.lists(_TEXT, min_size=4, max_size=4, unique=True), name=_NAME, group=_TEXT,
       props=st.dictionaries(_KEY, _NAME.filter(bool), max_size=3), lat=st.floats(-90, 90),
       fmt=st.sampled_from(FORMATS))
def test_any_text_survives_every_format(tmp_path_factory: pytest.TempPathFactory, ids: list[str], name: str,
                                        group: str, props: dict[str, str], lat: float, fmt: str) -> None:
    """Ids, names, groups and extra properties with quotes, backslashes, newlines, '%', '/', '#', CJK ..."""
    city, feeder, hospital, zone = ids
    rows: dict[str, list[tuple[Any, ...]]] = {t: [] for t in TABLES}
    rows["regions"].append((city, "city", name or None, None, props or None))
    rows["agencies"].append(("agency", name or None, "city", None, city, None, props or None))
    rows["assets"].append((feeder, "DistributionFeeder", name or None, city, "agency", lat, 106.5, 0, None,
                           props or None))
    rows["assets"].append((hospital, "Hospital", None, city, None, None, None, 120, None, None))
    rows["hazard_zones"].append((zone, "Flood", name or None, 0.01, city, props or None))
    rows["dependencies"].append((hospital, feeder, "power", group, 24.5))
    rows["exposures"].append((hospital, zone, 1.25))
    rows["fragilities"].append(("Flood", 0.5, None, hospital, None))
    tmp = tmp_path_factory.mktemp("text")
    source = _store(tmp / "a.db")
    load_paths(source, [write_jsonl(rows, tmp / "city.jsonl")])
    if fmt == "rdfxml" and not _xml_can_hold(ids, name, group, props):
        with pytest.raises(ValidationError, match="cannot be written in RDF/XML"):
            _export(source, tmp / "city.rdf", fmt)
        return
    exported = _export(source, tmp / f"city{SUFFIX[fmt]}", fmt)
    graph, triples = _read_back(exported, fmt)  # independent parsers read it too, and agree
    assert len(graph) > 20 and len(triples) == len(graph)
    target = _store(tmp / "b.db")
    load_paths(target, [exported])
    assert all_rows(target) == all_rows(source)


def _xml_can_hold(ids: list[str], name: str, group: str, props: dict[str, str]) -> bool:
    """Whether RDF/XML can carry these values: XML 1.0 characters only, and property keys that end in
    an XML name (``floor 2`` becomes ``ckg:prop_floor%202``, which no XML element name can end)."""
    texts = [*ids, name, group, *props, *props.values()]
    return not any(XML_FORBIDDEN.search(t) for t in texts) and all(split_qname(prop_iri(k)) for k in props)


def test_export_is_deterministic_and_formats_agree(city: SQLiteStore, tmp_path: Path) -> None:
    first = _export(city, tmp_path / "a.ttl", "ttl").read_bytes()
    assert _export(city, tmp_path / "b.ttl", "ttl").read_bytes() == first, "re-export must give the same bytes"
    graphs = [Graph().parse(_export(city, tmp_path / f"c{SUFFIX[f]}", f), format=RDFLIB_FORMAT[f]) for f in FORMATS]
    assert isomorphic(graphs[0], graphs[1]) and isomorphic(graphs[0], graphs[2])


def test_own_parser_reads_what_rdflib_reads(city: SQLiteStore, tmp_path: Path) -> None:
    for fmt in FORMATS:
        path = _export(city, tmp_path / f"city{SUFFIX[fmt]}", fmt)
        ours = Graph()
        index = parse_file(path)
        for s, node in index.nodes.items():
            for p, values in node.items():
                for o in values:
                    ours.add((to_rdflib(s), to_rdflib(p), to_rdflib(o)))
        assert isomorphic(ours, Graph().parse(path, format=RDFLIB_FORMAT[fmt])), fmt


TRICKY_TURTLE = r'''
@base <http://example.org/base/> .
@prefix : <http://example.org/ns#> .
PREFIX ex: <http://example.org/ex/>
<relative> :p "plain", 'single', """long "quoted"
text""", '''+"'''"+r'''single long'''+"'''"+r''', "esc\t\"\\\u00e9\U0001F600" ;
    :q 1, -2.5, 3e4, .5E-1, true, false, "x"@en-GB, "5"^^<http://www.w3.org/2001/XMLSchema#integer> ;
    :r [ :s :t ; a ex:Thing ], ( 1 "two" <three> ), () ;
    ex:local\.dot ex:a%20b .
_:b1 :knows _:b2 . _:b2 :knows _:b1 .
[ :anonymous true ] .
:s1 a :C ; ; :p :o ; .
'''


def test_turtle_parser_matches_rdflib_on_tricky_input() -> None:
    index = parse_turtle(TRICKY_TURTLE, "tricky.ttl", base="http://example.org/doc")
    ours = Graph()
    for s, node in index.nodes.items():
        for p, values in node.items():
            for o in values:
                ours.add((to_rdflib(s), to_rdflib(p), to_rdflib(o)))
    reference = Graph()
    for s, p, o in Graph().parse(data=TRICKY_TURTLE, format="turtle", publicID="http://example.org/doc"):
        # Language tags are case-insensitive (RDF 1.1 Concepts, 3.3); pyoxigraph lower-cases them, rdflib keeps them.
        if isinstance(o, Literal) and o.language:
            o = Literal(str(o), lang=o.language.lower())
        reference.add((s, p, o))
    only_ours = sorted(str(t) for t in ours - reference)
    assert isomorphic(ours, reference), f"our parser: {len(ours)} triples, rdflib: {len(reference)}; {only_ours[:5]}"


# ---------------------------------------------------------------------- the mapping


def test_export_conforms_to_the_shapes(city: SQLiteStore, tmp_path: Path) -> None:
    for fmt in FORMATS:
        report, _ = validate_rdf(_export(city, tmp_path / f"city{SUFFIX[fmt]}", fmt))
        assert report.conforms, f"{fmt}:\n" + "\n".join(map(str, report.problems))


def test_export_conforms_to_the_shapes_under_pyshacl(city: SQLiteStore, tmp_path: Path) -> None:
    report, _ = validate_rdf(_export(city, tmp_path / "city.ttl", "ttl"), engine="pyshacl")
    assert report.conforms, "\n".join(map(str, report.problems))


def test_every_dependency_is_a_direct_triple_and_an_nary_node(city: SQLiteStore, tmp_path: Path) -> None:
    graph = Graph().parse(_export(city, tmp_path / "city.ttl", "ttl"), format="turtle")
    deps = list(city.rows("dependencies"))
    nodes = set(graph.subjects(RDF.type, CKG.Dependency))
    assert len(nodes) == len(deps), f"{len(nodes)} ckg:Dependency nodes for {len(deps)} dependencies"
    scheme = IriScheme("https://data.citykg.example/id/")
    for dependent, provider, kind, group, buffer_hours in deps:
        node = URIRef(scheme.dependency(dependent, provider, kind, group))
        assert node in nodes
        assert graph.value(node, CKG.dependent) == URIRef(scheme.element(dependent))
        assert graph.value(node, CKG.provider) == URIRef(scheme.element(provider))
        assert graph.value(node, CKG.kind) == CKG[f"kind_{kind}"]
        assert graph.value(node, CKG.group) == Literal(group)
        buffer = graph.value(node, CKG.bufferHours)
        assert isinstance(buffer, Literal) and buffer.datatype == ns.XSD.decimal and float(buffer) == buffer_hours
        assert (URIRef(scheme.element(dependent)), CKG.dependsOn, URIRef(scheme.element(provider))) in graph
    assert len(list(graph.subjects(RDF.type, CKG.Exposure))) == len(list(city.rows("exposures")))
    assert len(list(graph.subjects(RDF.type, CKG.Fragility))) == len(list(city.rows("fragilities")))


def test_elements_are_typed_located_and_have_geometry(city: SQLiteStore, tmp_path: Path) -> None:
    graph = Graph().parse(_export(city, tmp_path / "city.ttl", "ttl"), format="turtle")
    scheme = IriScheme("https://data.citykg.example/id/")
    asset = next(city.rows("assets"))
    node = URIRef(scheme.element(asset[0]))
    assert (node, RDF.type, CKG[asset[1]]) in graph
    geometry = graph.value(node, GEO.hasGeometry)
    wkt = graph.value(geometry, GEO.asWKT)
    assert isinstance(wkt, Literal) and wkt.datatype == GEO.wktLiteral
    assert str(wkt) == f"POINT({asset[6]!r} {asset[5]!r})"
    agency = next(r for r in city.rows("agencies") if r[3] is not None)
    agency_node = URIRef(scheme.element(agency[0]))
    assert {CKG.Agency, URIRef("http://www.w3.org/ns/org#Organization")} <= set(graph.objects(agency_node, RDF.type))
    assert graph.value(agency_node, URIRef("http://www.w3.org/ns/org#subOrganizationOf")) == URIRef(
        scheme.element(agency[3]))
    region = next(r for r in city.rows("regions") if r[1] == "district")
    assert graph.value(URIRef(scheme.element(region[0])), CKG.level) == CKG.level_district


def test_ids_are_percent_encoded_into_iris() -> None:
    scheme = IriScheme("https://x.example/id/")
    assert scheme.element("a b/c#d%e") == "https://x.example/id/a%20b%2Fc%23d%25e"
    assert scheme.element("渝中") == "https://x.example/id/%E6%B8%9D%E4%B8%AD"
    assert scheme.element("A") != scheme.element("a")
    with pytest.raises(ValidationError, match="KG_BASE_IRI"):
        IriScheme("not a base")


def test_base_iri_comes_from_the_environment(city: SQLiteStore, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("KG_BASE_IRI", "urn:city:")
    with pytest.raises(ValidationError, match="KG_BASE_IRI"):
        export_rdf(city, io.StringIO(), fmt="nt")
    monkeypatch.setenv("KG_BASE_IRI", "https://other.example/cq/")
    out = io.StringIO()
    export_rdf(city, out, fmt="nt")
    assert "<https://other.example/cq/chongqing>" in out.getvalue()


def test_jsonld_uses_the_published_context(city: SQLiteStore) -> None:
    out = io.StringIO()
    export_rdf(city, out, fmt="jsonld")
    doc = json.loads(out.getvalue())
    published = json.loads(Path("ontology/context.jsonld").read_text(encoding="utf-8"))["@context"]
    assert doc["@context"] == published
    asset = next(n for n in doc["@graph"] if "lat" in n)
    assert isinstance(asset["lat"], str) and isinstance(asset["locatedIn"], str)


def test_with_alignment_adds_the_alignment_and_still_loads(city: SQLiteStore, tmp_path: Path) -> None:
    path = tmp_path / "aligned.ttl"
    with path.open("w", encoding="utf-8") as out:
        export_rdf(city, out, fmt="ttl", with_alignment=True)
    graph = Graph().parse(path, format="turtle")
    assert (CKG.Hospital, URIRef("http://www.w3.org/2000/01/rdf-schema#subClassOf"),
            URIRef("https://schema.org/Hospital")) in graph
    target = _store(tmp_path / "t.db")
    load_paths(target, [path])
    assert all_rows(target) == all_rows(city)


# ---------------------------------------------------------------------- subgraphs


@pytest.mark.parametrize("filters", [
    {"region": "yuzhong"}, {"agency": "cq-power"}, {"around": "", "depth": 2},
    {"region": "yuzhong", "agency": "yuzhong-power"},
], ids=["region", "agency", "around", "region+agency"])
def test_subgraph_exports_stand_on_their_own(city: SQLiteStore, tmp_path: Path, filters: dict[str, Any]) -> None:
    if "around" in filters:
        filters["around"] = next(r[0] for r in city.rows("assets") if r[1] == "Substation")
    path = _export(city, tmp_path / "sub.ttl", "ttl", **filters)
    target = _store(tmp_path / "t.db")
    load_paths(target, [path])
    got = all_rows(target)
    assert 0 < len(got["assets"]) < len(list(city.rows("assets")))
    ids = {r[0] for r in got["assets"]}
    assert all(d[0] in ids and d[1] in ids for d in got["dependencies"])
    if "region" in filters:
        assert filters["region"] in {r[0] for r in got["regions"]}
    whole = {r[0]: r for r in city.rows("assets")}
    assert all(whole[r[0]] == r for r in got["assets"]), "a subgraph holds assets exactly as the store has them"


def test_subgraph_filters_name_unknown_ids(city: SQLiteStore) -> None:
    for filters in ({"region": "atlantis"}, {"agency": "nobody"}, {"around": "yuzhong"}):
        with pytest.raises(ElementNotFound) as exc:
            export_rdf(city, io.StringIO(), **filters)  # type: ignore[arg-type]
        assert next(iter(filters.values())) in str(exc.value)


# ---------------------------------------------------------------------- bad input


def _problems(store: SQLiteStore, path: Path) -> list[str]:
    before = (all_rows(store), store.version())
    with pytest.raises(ValidationError) as exc:
        load_paths(store, [path])
    assert (all_rows(store), store.version()) == before, "a failed load must leave the store exactly as it was"
    return [str(p) for p in exc.value.problems]


def test_shacl_violation_names_the_focus_node_and_leaves_the_store_unchanged(city: SQLiteStore,
                                                                             tmp_path: Path) -> None:
    text = _export(city, tmp_path / "city.ttl", "ttl").read_text(encoding="utf-8")
    bad = tmp_path / "bad.ttl"
    bad.write_text(text.replace('ckg:bufferHours "24.0"^^xsd:decimal', 'ckg:bufferHours "-1"^^xsd:decimal', 1),
                   encoding="utf-8")
    problems = _problems(city, bad)
    assert len(problems) == 1, "\n".join(problems)
    assert problems[0].startswith(f"{bad}:") and "<https://data.citykg.example/id/dependency/" in problems[0]
    assert "ckg:bufferHours: at most one buffer, a number of hours >= 0; got '-1'" in problems[0], problems[0]


def test_dangling_provider_is_a_shacl_violation(city: SQLiteStore, tmp_path: Path) -> None:
    bad = tmp_path / "dangling.ttl"
    bad.write_text("""@prefix ckg: <https://w3id.org/citykg#> .
@prefix id: <https://data.citykg.example/id/> .
id:H9 a ckg:Hospital ; ckg:id "H9" .
id:d1 a ckg:Dependency ; ckg:dependent id:H9 ; ckg:provider id:nowhere ; ckg:kind ckg:kind_power ;
    ckg:group "power" .
""", encoding="utf-8")
    problems = _problems(city, bad)
    assert problems == [f"{bad}:4 <https://data.citykg.example/id/d1>: ckg:provider: a dependency needs exactly one "
                        "provider asset that exists in the data (typed with an Asset class); got "
                        "<https://data.citykg.example/id/nowhere>"], "\n".join(problems)


@pytest.mark.parametrize(("suffix", "content", "where", "words"), [
    (".ttl", '@prefix ckg: <https://w3id.org/citykg#> .\n<urn:a> ckg:id "a" ;\n    ckg:lat 1 2 .\n', ":3:", "expected"),
    (".ttl", '<urn:a> undeclared:p "a" .\n', ":1:", "undeclared prefix 'undeclared:'"),
    (".nt", '<urn:a> <urn:p> "a" .\n<urn:a> <urn:p> "unterminated .\n', ":2:", "Turtle syntax error"),
    (".jsonld", '{"@graph": [\n  {"@id": "urn:a",}\n]}\n', ":2:", "JSON syntax error"),
], ids=["ttl", "ttl-prefix", "nt", "jsonld"])
def test_syntax_errors_name_file_and_line(city: SQLiteStore, tmp_path: Path, suffix: str, content: str,
                                          where: str, words: str) -> None:
    bad = tmp_path / f"broken{suffix}"
    bad.write_text(content, encoding="utf-8")
    problems = _problems(city, bad)
    assert len(problems) == 1 and problems[0].startswith(f"{bad}{where}") and words in problems[0], problems


def test_unknown_ckg_property_and_bare_depends_on_are_refused(city: SQLiteStore, tmp_path: Path) -> None:
    bad = tmp_path / "odd.ttl"
    bad.write_text("""@prefix ckg: <https://w3id.org/citykg#> .
@prefix id: <https://data.citykg.example/id/> .
id:S9 a ckg:Substation ; ckg:id "S9" ; ckg:colour "red" .
id:H9 a ckg:Hospital ; ckg:id "H9" ; ckg:dependsOn id:S9 .
""", encoding="utf-8")
    problems = _problems(city, bad)
    assert any("<https://data.citykg.example/id/S9>: unknown property ckg:colour" in p for p in problems), problems
    assert any("<https://data.citykg.example/id/H9>: ckg:dependsOn" in p and "ckg:Dependency" in p
               for p in problems), problems


def test_rdf_rows_get_the_same_checks_as_csv(city: SQLiteStore, tmp_path: Path) -> None:
    bad = tmp_path / "dup.ttl"
    bad.write_text("""@prefix ckg: <https://w3id.org/citykg#> .
@prefix id: <https://data.citykg.example/id/> .
id:one a ckg:Substation ; ckg:id "chongqing" .
""", encoding="utf-8")
    problems = _problems(city, bad)
    assert problems == [f"{bad}:3 <https://data.citykg.example/id/one>: id 'chongqing' is already used by a region "
                        "in the store; ids are unique across regions, agencies, assets and zones"], problems


def test_fast_engine_agrees_with_pyshacl_on_a_damaged_city(city: SQLiteStore, tmp_path: Path) -> None:
    text = _export(city, tmp_path / "city.ttl", "ttl").read_text(encoding="utf-8")
    damaged = (text.replace("ckg:kind ckg:kind_water", "ckg:kind ckg:kind_wine", 3)
               .replace("ckg:level ckg:level_community", "ckg:level ckg:level_district", 2)
               .replace('ckg:population 0 ', 'ckg:population -1 ', 1)
               .replace("a ckg:DistributionFeeder", "a ckg:DistributionFeeder, ckg:Hospital", 2)
               .replace("ckg:group \"power\"", "ckg:group \" \"", 2))
    index = parse_turtle(damaged, "damaged.ttl")
    fast = {(str(v.focus), v.message) for v in validate_index(index)}
    reference = {(str(v.focus), v.message) for v in validate_index(index, engine="pyshacl")}
    assert len(fast) >= 9
    assert fast == reference, f"fast only: {sorted(fast - reference)}\npyshacl only: {sorted(reference - fast)}"


def test_jsonld_outside_the_fast_path_is_read_by_pyoxigraph(tmp_path: Path) -> None:
    doc = {"@context": {"ckg": str(CKG), "pop": {"@id": "ckg:population"}},
           "@graph": [{"@id": "urn:x:R1", "@type": "ckg:ResidentialArea", "ckg:id": "R1", "pop": 42}]}
    path = tmp_path / "native.jsonld"
    path.write_text(json.dumps(doc), encoding="utf-8")
    index = parse_file(path)
    assert index.objects("urn:x:R1", str(CKG.population))[0].lexical == "42"  # type: ignore[union-attr]
    assert isinstance(index, Index) and index.count == 3


# ---------------------------------------------------------------------- CLI


def test_cli_export_load_and_validate(city: SQLiteStore, tmp_path: Path) -> None:
    url = f"sqlite:///{city.path}"
    out = tmp_path / "city.nt"
    result = run_kg("export", "--rdf", "nt", "-o", str(out), "--store", url, "--format", "json")
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout)["triples"] == sum(1 for line in out.read_text(encoding="utf-8").splitlines()
                                                       if line.strip())
    result = run_kg("validate", str(out))
    assert result.exit_code == 0 and result.stdout.startswith("valid:"), result.output
    target = f"sqlite:///{tmp_path / 'loaded.db'}"
    result = run_kg("load", str(out), "--store", target, "--quiet")
    assert result.exit_code == 0, result.output
    assert all_rows(SQLiteStore(str(tmp_path / "loaded.db"))) == all_rows(city)


def test_cli_export_to_stdout_and_a_failed_export_writes_no_file(city: SQLiteStore, tmp_path: Path) -> None:
    url = f"sqlite:///{city.path}"
    result = run_kg("export", "--rdf", "ttl", "--store", url, "--around", next(r[0] for r in city.rows("assets")))
    assert result.exit_code == 0 and result.stdout.startswith("@prefix"), result.output
    target = tmp_path / "never.ttl"
    result = run_kg("export", "--region", "atlantis", "-o", str(target), "--store", url)
    assert result.exit_code == 1 and "atlantis" in result.stderr and "--region" in result.stderr
    assert not target.exists() and not list(tmp_path.glob("*.part"))


def test_cli_validate_reports_and_exits_1(tmp_path: Path) -> None:
    data = Path(__file__).parent / "data" / "shapes"
    result = run_kg("validate", str(data / "dependency_self_bad.ttl"), "--format", "json")
    assert result.exit_code == 1
    report = json.loads(result.stdout)
    assert report["valid"] is False
    assert [p["message"] for p in report["problems"]] == [
        "an asset cannot depend on itself: ckg:dependent and ckg:provider must differ; got "
        "<https://data.citykg.example/id/H1>"]
    result = run_kg("validate", str(data / "dependency_self_bad.ttl"), "--engine", "pyshacl")
    assert result.exit_code == 1 and "cannot depend on itself" in result.stdout
    bundle = tmp_path / "bundle"
    write_bundle(city_rows(120, seed=5), bundle)
    result = run_kg("validate", str(bundle))
    assert result.exit_code == 0 and "120 assets" in result.stdout, result.output


# ---------------------------------------------------------------------- formats by suffix, labels


def test_cli_export_format_follows_the_suffix(city: SQLiteStore, tmp_path: Path) -> None:
    url = f"sqlite:///{city.path}"
    around = next(r[0] for r in city.rows("assets") if r[1] == "Substation")
    for name, fmt in (("s.nt", "nt"), ("s.rdf", "rdfxml"), ("s.OWL", "rdfxml"), ("s.jsonld", "jsonld"),
                      ("s.ttl", "ttl")):
        result = run_kg("export", "--around", around, "-o", str(tmp_path / name), "--store", url)
        assert result.exit_code == 0 and f"({fmt})" in result.stdout, result.output
        graph, triples = _read_back(tmp_path / name, fmt)  # both parsers read it in the suffix's syntax
        assert len(graph) == len(triples) > 0
    result = run_kg("export", "--rdf", "nt", "-o", str(tmp_path / "city.txt"), "--store", url)
    assert result.exit_code == 0 and (tmp_path / "city.txt").read_text(encoding="utf-8").startswith("<")
    for args, words in ((["--rdf", "ttl", "-o", str(tmp_path / "x.nt")], "conflicts with the suffix of x.nt"),
                        (["-o", str(tmp_path / "x.txt")], "cannot tell the RDF format from the name x.txt")):
        result = run_kg("export", *args, "--store", url)
        assert result.exit_code == 1 and words in result.stderr, result.output
    assert not (tmp_path / "x.nt").exists() and not (tmp_path / "x.txt").exists()
    assert format_for_path(None, None) == "ttl" and format_for_path(Path("a.xml"), "rdfxml") == "rdfxml"


def test_names_are_language_tagged(city: SQLiteStore, tmp_path: Path) -> None:
    graph = Graph().parse(_export(city, tmp_path / "city.ttl", "ttl"), format="turtle")
    label = URIRef("http://www.w3.org/2000/01/rdf-schema#label")
    scheme = IriScheme("https://data.citykg.example/id/")
    banan = {(str(o), o.language) for o in graph.objects(URIRef(scheme.element("banan")), label)}  # type: ignore[union-attr]
    assert banan == {("Ba'nan", "en"), ("巴南区", "zh")}
    asset = next(r for r in city.rows("assets") if r[2])
    assert {(str(o), o.language) for o in graph.objects(URIRef(scheme.element(asset[0])), label)} == {  # type: ignore[union-attr]
        (asset[2], "en")}


@given(st.text(st.characters(exclude_categories=("Cs",)), max_size=30)
       | st.tuples(st.text("abc XYZ-'", min_size=1), st.text("渝中区巴南 1号", min_size=1)).map(" ".join))
def test_labels_read_back_to_the_name(name: str) -> None:
    labels = name_labels(name)
    assert name_from_labels(labels) == name
    assert len({label.lang for label in labels}) == len(labels) <= 2


def test_two_labels_of_one_language_are_refused(tmp_path: Path) -> None:
    bad = tmp_path / "labels.ttl"
    bad.write_text("""@prefix ckg: <https://w3id.org/citykg#> .
@prefix rdfs: <http://www.w3.org/2000/01/rdf-schema#> .
<urn:x:c> a ckg:Region ; ckg:id "c" ; ckg:level ckg:level_city ; rdfs:label "One"@en, "Two"@en .
""", encoding="utf-8")
    with pytest.raises(ValidationError) as exc:
        load_paths(SQLiteStore(":memory:"), [bad])
    assert "rdfs:label has 2 values (languages 'en', 'en'); expected one name" in str(exc.value.problems[0])
