"""RDF for exchange: import and validate RDF here; export the graph with :mod:`kg.rdf.export`.

* ``kg load FILE.ttl`` reads RDF through :func:`read_rdf_rows`, which
  :mod:`kg.load.sources` calls for ``.ttl``, ``.nt``, ``.nq``, ``.trig`` and
  ``.jsonld`` files (parsed by :mod:`kg.rdf.parse`);
* :func:`validate_rdf` checks a file against ``shapes.ttl``;
* :func:`load_alignment` gives the alignment with SAREF4CITY, GeoSPARQL, ORG and schema.org;
* :func:`kg.rdf.export.export_rdf` streams a store's graph (or a subgraph) in the ckg vocabulary. It reads
  a store, so it sits above the stores while the reading half sits below them (the loader uses it); this
  package therefore does not import it.

docs/rdf.md describes the IRI scheme, the mapping and the SHACL strategy.
"""

from __future__ import annotations

from kg.rdf.alignment import load_alignment
from kg.rdf.reader import ShaclReport, read_rdf_rows, validate_rdf
from kg.rdf.writers import FORMATS

__all__ = ["FORMATS", "ShaclReport", "load_alignment", "read_rdf_rows", "validate_rdf"]
