"""RDF for exchange: export the graph (Turtle, N-Triples, JSON-LD), import and validate RDF.

* :func:`export_rdf` streams a store's graph (or a subgraph) in the ckg vocabulary;
* :func:`validate_rdf` checks a file against ``shapes.ttl``;
* ``kg load FILE.ttl`` reads RDF through :func:`read_rdf_rows`, which
  :mod:`kg.load.sources` calls for ``.ttl``, ``.nt``, ``.nq``, ``.trig``,
  ``.jsonld`` and RDF/XML (``.rdf``, ``.xml``, ``.owl``) files (parsed by :mod:`kg.rdf.parse`);
* :func:`load_alignment` gives the alignment with SAREF4CITY, GeoSPARQL, ORG and schema.org.

docs/rdf.md describes the IRI scheme, the mapping and the SHACL strategy.
"""

from __future__ import annotations

from kg.rdf.alignment import load_alignment
from kg.rdf.export import ExportReport, export_rdf
from kg.rdf.reader import ShaclReport, read_rdf_rows, validate_rdf
from kg.rdf.writers import FORMATS

__all__ = ["FORMATS", "ExportReport", "ShaclReport", "export_rdf", "load_alignment", "read_rdf_rows", "validate_rdf"]
