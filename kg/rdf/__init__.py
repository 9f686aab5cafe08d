"""RDF for exchange: import and validate RDF, export the graph.

* ``kg load FILE.ttl`` reads RDF through :func:`kg.rdf.reader.read_rdf_rows`, which
  :mod:`kg.load.sources` calls for ``.ttl``, ``.nt``, ``.nq``, ``.trig``,
  ``.jsonld`` and RDF/XML (``.rdf``, ``.xml``, ``.owl``) files (parsed by :mod:`kg.rdf.parse`);
* :func:`kg.rdf.reader.validate_rdf` checks a file against ``shapes.ttl``;
* :func:`kg.rdf.alignment.load_alignment` gives the alignment with SAREF4CITY, GeoSPARQL, ORG and schema.org;
* :func:`kg.rdf.export.export_rdf` streams a store's graph (or a subgraph) in the ckg vocabulary.

The package imports none of its modules: the reading half sits below the stores (the loader uses it)
and the export half above them (it reads a store), and a CSV load should not pay for pySHACL.

docs/rdf.md describes the IRI scheme, the mapping and the SHACL strategy.
"""

from __future__ import annotations

__all__: list[str] = []  # the submodules are the API (see above)
