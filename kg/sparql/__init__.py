"""SPARQL 1.1 over the city graph: an Oxigraph store built from the RDF export, queried in worker processes.

* :mod:`kg.sparql.engine`: :class:`~kg.sparql.engine.SparqlService`, the one runner
  (``kg sparql`` and ``GET/POST /v1/sparql`` use it);
* :mod:`kg.sparql.dataset`: the dataset (default graph: the export and the ontology;
  named graphs), built once per store version;
* :mod:`kg.sparql.pool` and :mod:`kg.sparql.worker`: the processes that run queries
  and are killed at a query's deadline;
* :mod:`kg.sparql.formats`: answer formats and content negotiation;
* :mod:`kg.sparql.errors`: why a query got no answer.

This package imports only its errors and formats (light modules) so that a
worker process, which is started as ``python -m kg.sparql.worker``, starts fast;
import the engine from :mod:`kg.sparql.engine`.
"""

from __future__ import annotations

from kg.sparql.errors import (
    DatasetNotReady,
    NotAcceptable,
    QuerySyntaxError,
    QueryTimeout,
    ResultTooLarge,
    SparqlError,
    UpdateRefused,
    WorkerFailed,
    WorkersBusy,
)
from kg.sparql.formats import GRAPH_FORMATS, MEDIA_TYPES, RESULT_FORMATS, negotiate

__all__ = [
    "GRAPH_FORMATS",
    "MEDIA_TYPES",
    "RESULT_FORMATS",
    "DatasetNotReady",
    "NotAcceptable",
    "QuerySyntaxError",
    "QueryTimeout",
    "ResultTooLarge",
    "SparqlError",
    "UpdateRefused",
    "WorkerFailed",
    "WorkersBusy",
    "negotiate",
]
