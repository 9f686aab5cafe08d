"""The file suffixes read as RDF (kept apart so that the loader can tell RDF files without importing a parser)."""

from __future__ import annotations

__all__ = ["RDF_SUFFIXES"]

RDF_SUFFIXES = frozenset({".ttl", ".turtle", ".nt", ".nq", ".trig", ".jsonld", ".rdf", ".xml", ".owl"})
"""Files read by the RDF importer (:mod:`kg.rdf.reader`): Turtle, N-Triples, N-Quads, TriG, JSON-LD, RDF/XML."""
