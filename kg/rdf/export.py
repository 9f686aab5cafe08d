"""Export the graph of a store as Turtle, N-Triples, JSON-LD or RDF/XML, streamed from ``store.rows()``.

Examples
--------
>>> import io
>>> from kg.store.sqlite import SQLiteStore
>>> store = SQLiteStore(":memory:")
>>> out = io.StringIO()
>>> export_rdf(store, out, fmt="nt").triples
0
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass
from functools import cache
from itertools import groupby
from pathlib import Path
from typing import Any, TextIO

from rdflib import BNode, Literal, URIRef

from kg.errors import Problem, ValidationError
from kg.namespaces import CKG, GEO, ORG, OWL, RDF, RDFS, S4CITY, SCHEMA, SKOS, XSD
from kg.ontology import ontology_path
from kg.rdf.alignment import load_alignment
from kg.rdf.mapping import Block, RowMapper
from kg.rdf.select import Selection, select
from kg.rdf.terms import IriScheme, Lit, Obj, scheme
from kg.rdf.vocab import vocabulary
from kg.rdf.writers import FORMATS, JsonLdWriter, NTriplesWriter, RdfXmlWriter, TripleWriter, TurtleWriter
from kg.schema import TABLES, Row
from kg.store.base import Store

__all__ = ["ExportReport", "export_blocks", "export_prefixes", "export_rdf", "jsonld_context", "make_writer"]


@dataclass(frozen=True)
class ExportReport:
    """What an export wrote."""

    format: str
    triples: int
    subgraph: bool


@cache
def jsonld_context() -> dict[str, Any]:
    """The ``@context`` object published as ``ontology/context.jsonld``."""
    with Path(ontology_path("context.jsonld")).open(encoding="utf-8") as f:
        context: dict[str, Any] = json.load(f)["@context"]
    return context


def export_prefixes(iris: IriScheme) -> list[tuple[str, str]]:
    """``(prefix, namespace)`` pairs an export declares: the vocabularies and the IRI scheme's namespaces."""
    return [("ckg", str(CKG)), ("geo", str(GEO)), ("org", str(ORG)), ("rdf", str(RDF)),
            ("rdfs", str(RDFS)), ("xsd", str(XSD)), ("owl", str(OWL)), ("skos", str(SKOS)),
            ("schema", str(SCHEMA)), ("s4city", str(S4CITY)), *iris.namespaces()]


def make_writer(fmt: str, out: TextIO, iris: IriScheme) -> TripleWriter:
    """A streaming writer for ``fmt`` (``ttl``, ``jsonld``, ``nt`` or ``rdfxml``)."""
    if fmt == "nt":
        return NTriplesWriter(out)
    if fmt == "ttl":
        return TurtleWriter(out, export_prefixes(iris))
    if fmt == "rdfxml":
        return RdfXmlWriter(out, export_prefixes(iris))
    if fmt == "jsonld":
        return JsonLdWriter(out, jsonld_context())
    raise ValidationError([Problem("--rdf", f"unknown RDF format {fmt!r}; expected one of {', '.join(FORMATS)}")])


def export_blocks(store: Store, mapper: RowMapper, sel: Selection | None = None) -> Iterator[Block]:
    """Every block of the store's graph (or of the selection), in a stable order."""
    def node(table: str, ids: set[str] | None) -> Iterator[Row]:
        id_of = TABLES[table].getter("id")
        return (r for r in store.rows(table) if ids is None or id_of(r) in ids)

    regions, agencies = (sel.regions, sel.agencies) if sel else (None, None)
    assets, zones = (sel.assets, sel.zones) if sel else (None, None)
    yield from map(mapper.region, node("regions", regions))
    yield from map(mapper.agency, node("agencies", agencies))
    for row in node("assets", assets):
        yield from mapper.asset(row)
    for row in node("hazard_zones", zones):
        yield from mapper.hazard_zone(row)

    dependent_of, provider_of = TABLES["dependencies"].getter("dependent"), TABLES["dependencies"].getter("provider")
    asset_of, zone_of = TABLES["exposures"].getter("asset"), TABLES["exposures"].getter("zone")

    def dep_kept(r: Row) -> bool:
        return assets is None or (dependent_of(r) in assets and provider_of(r) in assets)

    def exp_kept(r: Row) -> bool:
        return assets is None or (asset_of(r) in assets and zone_of(r) in (zones or ()))

    for dependent, group in groupby(filter(dep_kept, store.rows("dependencies")), key=dependent_of):
        rows = list(group)
        yield from map(mapper.dependency, rows)
        yield mapper.depends_on(dependent, dict.fromkeys(map(provider_of, rows)))
    for asset, group in groupby(filter(exp_kept, store.rows("exposures")), key=asset_of):
        rows = list(group)
        yield from map(mapper.exposure, rows)
        yield mapper.exposed_to(asset, dict.fromkeys(map(zone_of, rows)))
    fragile_asset = TABLES["fragilities"].getter("asset")
    for row in store.rows("fragilities"):
        if assets is None or fragile_asset(row) is None or fragile_asset(row) in assets:
            yield from mapper.fragility(row)


def _alignment_blocks() -> Iterator[Block]:
    graph = load_alignment()
    for subject in sorted(set(graph.subjects()), key=str):
        if not isinstance(subject, URIRef):
            continue
        types: list[str] = []
        pairs: list[tuple[str, Obj]] = []
        for p, o in sorted(graph.predicate_objects(subject), key=lambda po: (str(po[0]), str(po[1]))):
            if isinstance(o, BNode):
                raise ValidationError([Problem(ontology_path("alignment.ttl"),
                                               f"blank node object of {subject.n3()}; the alignment must use IRIs")])
            value: Obj = str(o) if isinstance(o, URIRef) else Lit(
                str(o), str(o.datatype) if isinstance(o, Literal) and o.datatype else None,
                o.language if isinstance(o, Literal) else None)
            if p == RDF.type and isinstance(value, str):
                types.append(value)
            else:
                pairs.append((str(p), value))
        yield Block(str(subject), types, pairs)


def export_rdf(
    store: Store,
    out: TextIO,
    *,
    fmt: str = "ttl",
    region: str | None = None,
    agency: str | None = None,
    around: str | None = None,
    depth: int = 1,
    with_alignment: bool = False,
) -> ExportReport:
    """Write the store's graph (or a subgraph) to ``out`` as ``fmt``, streaming.

    Parameters
    ----------
    store
        Any :class:`~kg.store.base.Store`.
    out
        A text stream; the output is UTF-8 text.
    fmt
        ``ttl`` (Turtle), ``jsonld`` (JSON-LD with the published context), ``nt`` (N-Triples) or
        ``rdfxml`` (RDF/XML).
    region, agency, around, depth
        Optional subgraph filters (see :mod:`kg.rdf.select`).
    with_alignment
        Also write the alignment to SAREF4CITY, GeoSPARQL, ORG and schema.org.

    Raises
    ------
    kg.errors.ElementNotFound
        A filter names an unknown id.
    kg.errors.ValidationError
        ``fmt`` is unknown, ``depth`` is negative or ``KG_BASE_IRI`` is unusable; in RDF/XML, a
        property or character that XML cannot hold (raised when the writer meets it).
    """
    if depth < 0:
        raise ValidationError([Problem("--depth", f"expected a number of hops >= 0, got {depth}")])
    iris = scheme()
    writer = make_writer(fmt, out, iris)
    subgraph = region is not None or agency is not None or around is not None
    sel = select(store, region=region, agency=agency, around=around, depth=depth) if subgraph else None
    mapper = RowMapper(iris, vocabulary())
    writer.start()
    for block in export_blocks(store, mapper, sel):
        writer.block(block)
    if with_alignment:
        for block in _alignment_blocks():
            writer.block(block)
    writer.finish()
    return ExportReport(format=fmt, triples=writer.triples, subgraph=subgraph)
