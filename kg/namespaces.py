"""Every IRI prefix CityKG uses, as constants, and one helper to bind them.

No other module spells an IRI prefix; they import it from here.
"""

from __future__ import annotations

import os

from rdflib import Graph, Namespace
from rdflib.namespace import OWL, RDF, RDFS, SH, SKOS, XSD

__all__ = [
    "CKG",
    "CKGSH",
    "DCTERMS",
    "GEO",
    "ORG",
    "OWL",
    "RDF",
    "RDFS",
    "S4CITY",
    "SCHEMA",
    "SH",
    "SKOS",
    "XSD",
    "base_namespace",
    "bind_prefixes",
]

CKG = Namespace("https://w3id.org/citykg#")
ORG = Namespace("http://www.w3.org/ns/org#")
GEO = Namespace("http://www.opengis.net/ont/geosparql#")
DCTERMS = Namespace("http://purl.org/dc/terms/")
SCHEMA = Namespace("https://schema.org/")
CKGSH = Namespace("https://w3id.org/citykg/shapes#")
"""The SHACL shapes of ``shapes.ttl`` (the data contract)."""
S4CITY = Namespace("https://saref.etsi.org/saref4city/")
"""SAREF4CITY (ETSI TS 103 410-4), used by ``alignment.ttl``."""

DEFAULT_BASE_IRI = "https://data.citykg.example/id/"


def base_namespace() -> Namespace:
    """Namespace for instance IRIs: ``KG_BASE_IRI`` or the default base."""
    return Namespace(os.environ.get("KG_BASE_IRI") or DEFAULT_BASE_IRI)


def bind_prefixes(graph: Graph) -> Graph:
    """Bind CityKG's usual prefixes on ``graph`` and return it."""
    for prefix, ns in (
        ("ckg", CKG),
        ("org", ORG),
        ("geo", GEO),
        ("dcterms", DCTERMS),
        ("schema", SCHEMA),
        ("s4city", S4CITY),
        ("ckgsh", CKGSH),
        ("owl", OWL),
        ("rdf", RDF),
        ("rdfs", RDFS),
        ("skos", SKOS),
        ("sh", SH),
        ("xsd", XSD),
        ("id", base_namespace()),
    ):
        graph.bind(prefix, ns, override=True)
    return graph
