"""The alignment of CityKG classes with SAREF4CITY, GeoSPARQL, W3C ORG and schema.org.

``ontology/alignment.ttl`` is kept apart from ``citykg.ttl`` so that the core
vocabulary does not import other ontologies; load it on request.

Examples
--------
>>> from kg.namespaces import CKG, SCHEMA, RDFS
>>> (CKG.Hospital, RDFS.subClassOf, SCHEMA.Hospital) in load_alignment()
True
"""

from __future__ import annotations

from rdflib import Graph

from kg.namespaces import bind_prefixes
from kg.ontology import ontology_path

__all__ = ["alignment_path", "load_alignment"]


def alignment_path() -> str:
    """Filesystem path of the shipped ``alignment.ttl``."""
    return ontology_path("alignment.ttl")


def load_alignment() -> Graph:
    """A new graph holding the alignment statements (parsed from the package data)."""
    graph = bind_prefixes(Graph())
    graph.parse(alignment_path(), format="turtle")
    return graph
