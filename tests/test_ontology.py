"""The ontology (ontology/citykg.ttl), its package data and the kg.ontology look-ups."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from rdflib import Graph, Literal, URIRef

from kg import namespaces as ns
from kg.namespaces import CKG, ORG, OWL, RDF, RDFS, SKOS
from kg.ontology import load_ontology, ontology_path, shapes_path
from kg.rdf.alignment import load_alignment

ONTO = load_ontology()
CLASSES = sorted(ONTO.classes)
PROPERTIES = sorted(
    (p for kind in (OWL.ObjectProperty, OWL.DatatypeProperty) for p in ONTO.graph.subjects(RDF.type, kind)),
    key=str,
)


def _labels(node: URIRef) -> dict[str | None, str]:
    return {v.language: str(v) for v in ONTO.graph.objects(node, RDFS.label) if isinstance(v, Literal)}


def test_the_ontology_parses_from_package_data() -> None:
    graph = Graph().parse(ontology_path(), format="turtle")
    assert len(graph) == len(ONTO.graph) > 500
    assert (URIRef("https://w3id.org/citykg"), RDF.type, OWL.Ontology) in graph


@pytest.mark.parametrize("name", ["shapes.ttl", "alignment.ttl", "context.jsonld"])
def test_companion_files_ship_with_the_package(name: str) -> None:
    path = Path(ontology_path(name))
    assert path.is_file(), f"{name} is not reachable through kg.ontology.ontology_path ({path})"


def test_shapes_parse() -> None:
    graph = Graph().parse(shapes_path(), format="turtle")
    assert len(graph) > 100


@pytest.mark.parametrize("name", CLASSES)
def test_every_class_has_english_and_chinese_labels_and_a_definition(name: str) -> None:
    info = ONTO.classes[name]
    labels = _labels(CKG[name])
    assert labels.get("en") and labels.get("zh"), f"ckg:{name} needs rdfs:label @en and @zh, has {labels}"
    assert info.label_en == labels["en"] and info.label_zh == labels["zh"]
    assert info.definition, f"ckg:{name} has no skos:definition"


@pytest.mark.parametrize("prop", PROPERTIES, ids=lambda p: str(p).rsplit("#", 1)[-1])
def test_every_property_has_domain_range_labels_and_definition(prop: URIRef) -> None:
    graph = ONTO.graph
    assert graph.value(prop, RDFS.domain) is not None, f"{prop} has no rdfs:domain"
    assert graph.value(prop, RDFS.range) is not None, f"{prop} has no rdfs:range"
    labels = _labels(prop)
    assert labels.get("en") and labels.get("zh"), f"{prop} needs rdfs:label @en and @zh, has {labels}"
    assert graph.value(prop, SKOS.definition) is not None, f"{prop} has no skos:definition"


def test_hierarchy_lookups() -> None:
    assert ONTO.ancestors("Substation") == ("Element", "Asset", "PowerAsset", "Substation")
    assert ONTO.is_a("Hospital", "Asset") and not ONTO.is_a("Region", "Asset")
    assert not ONTO.is_a("NoSuchClass", "Asset")
    assert set(ONTO.subclasses("PowerAsset")) == {"PowerAsset", "PowerPlant", "Substation", "TransmissionLine",
                                                  "DistributionFeeder"}
    assert {"Hospital", "ResidentialArea", "Asset"} <= ONTO.asset_types
    assert "Region" not in ONTO.asset_types
    assert {"Flood", "Landslide", "Earthquake"} <= ONTO.hazard_types and "Hazard" not in ONTO.hazard_types
    assert ONTO.sector("Substation") == "PowerAsset"
    assert ONTO.label("Hospital") == "Hospital" and ONTO.label("Hospital", "zh") == "医院"


def test_relation_level_and_kind_lookups() -> None:
    assert ONTO.rel("dependsOn") == "DEPENDS_ON"
    assert {r.graph_name for r in ONTO.relations.values()} == {
        "DEPENDS_ON", "LOCATED_IN", "PART_OF", "OPERATED_BY", "SUB_ORGANIZATION_OF", "HAS_JURISDICTION",
        "EXPOSED_TO", "OF_HAZARD"}
    assert ONTO.relations["dependsOn"].domain == "Asset" and ONTO.relations["dependsOn"].range == "Asset"
    assert ONTO.levels == ("city", "district", "subdistrict", "community", "grid")
    assert ONTO.level_rank("city") == 1 and ONTO.level_rank("grid") == 5
    assert {"power", "water", "telecom", "medical"} <= set(ONTO.service_kinds)


def test_agency_is_a_w3c_org_organization() -> None:
    assert (CKG.Agency, RDFS.subClassOf, ORG.Organization) in ONTO.graph
    assert (CKG.subOrganizationOf, RDFS.subPropertyOf, ORG.subOrganizationOf) in ONTO.graph


def test_jsonld_context_agrees_with_the_ontology() -> None:
    context = json.loads(Path(ontology_path("context.jsonld")).read_text(encoding="utf-8"))["@context"]
    assert context["@vocab"] == str(CKG) and context["ckg"] == str(CKG)
    graph = ONTO.graph

    def expand(value: str) -> str:
        prefix, _, rest = value.partition(":")
        return str(context[prefix]) + rest if prefix in context and isinstance(context[prefix], str) else value

    for prop in graph.subjects(RDF.type, OWL.ObjectProperty):
        name = str(prop)[len(str(CKG)):]
        term = context.get(name)
        assert isinstance(term, dict) and term.get("@type") == "@id", f"{name}: needs an @id-typed term"
        target = URIRef(expand(term["@id"]))
        assert target == prop or (prop, RDFS.subPropertyOf, target) in graph, f"{name} maps to {target}"
    for prop in graph.subjects(RDF.type, OWL.DatatypeProperty):
        name = str(prop)[len(str(CKG)):]
        term = context.get(name)
        assert isinstance(term, dict) and expand(term["@id"]) == str(prop), f"{name}: needs a term"
        rng = graph.value(prop, RDFS.range)
        expected = None if rng == ns.XSD.string else str(rng)
        got = expand(term["@type"]) if "@type" in term else None
        assert got == expected, f"{name}: the term coerces to {got}, the ontology's range is {rng}"


def test_alignment_relates_existing_ckg_terms_only() -> None:
    graph = load_alignment()
    allowed = {OWL.equivalentClass, RDFS.subClassOf, SKOS.closeMatch, RDFS.subPropertyOf}
    known = set(ONTO.graph.subjects())
    statements = 0
    for s, p, _ in graph:
        if p in (RDF.type, RDFS.label) or not str(s).startswith(str(CKG)):
            continue
        statements += 1
        assert p in allowed, f"{s} {p}: the alignment uses only equivalentClass, subClassOf, closeMatch, subPropertyOf"
        assert s in known, f"{s} is not defined in citykg.ttl"
    assert statements >= 20


# ---------------------------------------------------------------- view annotations
PALETTE_JS = Path(__file__).resolve().parent.parent / "api" / "static" / "js" / "palette.js"
ANNOTATIONS = sorted((p for p in ONTO.graph.subjects(RDF.type, OWL.AnnotationProperty)), key=str)
HEX = re.compile(r"#[0-9a-f]{6}")


@pytest.mark.parametrize("prop", ANNOTATIONS, ids=lambda p: str(p).rsplit("#", 1)[-1])
def test_every_annotation_property_has_labels_and_a_definition(prop: URIRef) -> None:
    labels = _labels(prop)
    assert labels.get("en") and labels.get("zh"), f"{prop} needs rdfs:label @en and @zh, has {labels}"
    assert ONTO.graph.value(prop, SKOS.definition) is not None, f"{prop} has no skos:definition"
    used = {p for _, p, _ in ONTO.graph if str(p).startswith(str(CKG))}
    assert prop in used, f"{prop} is declared but annotates nothing"


def test_every_ckg_annotation_used_is_declared() -> None:
    declared = set(ANNOTATIONS) | set(PROPERTIES)
    used = {p for _, p, _ in ONTO.graph if str(p).startswith(str(CKG))}
    assert used <= declared, used - declared


def test_every_sector_has_colours_labels_and_a_place() -> None:
    sectors = ONTO.sectors
    assert set(sectors) == {n for n, c in ONTO.classes.items() if c.parent == "Asset"}
    orders = [ONTO.classes[s].display_order for s in sectors]
    assert orders == sorted(orders) and len(set(orders)) == len(orders) and None not in orders
    for s in sectors:
        info = ONTO.classes[s]
        assert info.colour and HEX.fullmatch(info.colour), (s, info.colour)
        assert info.print_colour and HEX.fullmatch(info.print_colour), (s, info.print_colour)
        assert info.short_label_en and info.short_label_zh, s
        assert info.column_label and len(info.column_label) <= 7, (s, info.column_label)
    screen = [ONTO.classes[s].colour for s in sectors]
    assert len(set(screen)) == len(screen), "two sectors share a colour"


def test_every_asset_type_has_a_symbol_the_page_can_draw() -> None:
    shapes = set(re.findall(r"'(\w+)'", re.search(r"const SHAPES = \[([^\]]*)\]", PALETTE_JS.read_text()).group(1)))
    assert "circle" in shapes and len(shapes) >= 5
    leaves = {n for n in ONTO.asset_types if not any(c.parent == n for c in ONTO.classes.values())}
    assert leaves and "ResidentialArea" in leaves
    for name in leaves:
        assert ONTO.classes[name].symbol in shapes, f"ckg:{name} needs a ckg:symbol out of {sorted(shapes)}"
    for name, info in ONTO.classes.items():
        assert info.symbol is None or info.symbol in shapes, (name, info.symbol)


def test_key_facilities_and_map_symbols_are_asset_types() -> None:
    ranks = [ONTO.classes[n].key_rank for n in ONTO.key_types]
    assert len(ONTO.key_types) >= 6 and ranks == sorted(ranks) and len(set(ranks)) == len(ranks)
    for name, info in ONTO.classes.items():
        if info.key_rank is not None or info.map_zoom is not None:
            assert name in ONTO.asset_types and name not in ONTO.sectors, f"ckg:{name} is no asset type"
        assert info.map_zoom is None or info.map_zoom >= 1, (name, info.map_zoom)
    assert any(ONTO.classes[n].map_zoom for n in ONTO.key_types)


def test_colours_are_for_sectors_hazards_and_service_kinds_only() -> None:
    for name, info in ONTO.classes.items():
        if info.colour is not None:
            assert name in ONTO.sectors or name in ONTO.hazard_types, f"ckg:{name} has a colour"
            assert HEX.fullmatch(info.colour), (name, info.colour)
    assert any(ONTO.classes[h].colour for h in ONTO.hazard_types)
    assert ONTO.kind_colours and set(ONTO.kind_colours) <= set(ONTO.service_kinds)
    assert all(HEX.fullmatch(c) for c in ONTO.kind_colours.values()), ONTO.kind_colours
    assert ONTO.short_label("PowerAsset") != ONTO.label("PowerAsset")
