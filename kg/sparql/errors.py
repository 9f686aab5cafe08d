"""Why a SPARQL query got no answer; each error says what to change.

All derive from :class:`SparqlError` (a :class:`~kg.errors.KGError`); the
REST API maps each to its own status (docs/api.md), the CLI prints the message.
"""

from __future__ import annotations

from kg.errors import KGError

__all__ = [
    "DatasetNotReady",
    "NotAcceptable",
    "QuerySyntaxError",
    "QueryTimeout",
    "ResultTooLarge",
    "SparqlError",
    "UpdateRefused",
    "WorkerFailed",
    "WorkersBusy",
]


class SparqlError(KGError):
    """A SPARQL query could not be answered."""


class QuerySyntaxError(SparqlError):
    """The text is not a SPARQL 1.1 query (the message gives line, column and what was expected)."""


class UpdateRefused(SparqlError):
    """The text is a SPARQL Update; the endpoint only answers queries."""

    def __init__(self) -> None:
        super().__init__("SPARQL Update is not accepted here: the SPARQL endpoint is read-only and answers "
                         "queries (SELECT, ASK, CONSTRUCT, DESCRIBE); change the graph with kg load or "
                         "POST /v1/loads")


class QueryTimeout(SparqlError):
    """The query ran past its time limit and was stopped (its process killed)."""

    def __init__(self, timeout_s: float) -> None:
        super().__init__(f"the query ran longer than {timeout_s:.3g} s and was stopped; narrow it (a LIMIT, a more "
                         "specific pattern, a bounded property path)")
        self.timeout_s = timeout_s


class ResultTooLarge(SparqlError):
    """The answer has more rows (or triples) than the limit."""

    def __init__(self, limit: int, unit: str) -> None:
        super().__init__(f"the answer has more than {limit:,} {unit}, the most this endpoint returns; add a LIMIT "
                         f"(at most {limit:,}), page with OFFSET, or aggregate (COUNT, GROUP BY)")
        self.limit = limit


class NotAcceptable(SparqlError):
    """No format the client accepts fits the query's kind of answer."""


class DatasetNotReady(SparqlError):
    """The SPARQL dataset of the graph's current version is still being built."""


class WorkerFailed(SparqlError):
    """A query worker process stopped without answering (killed from outside, out of memory, ...)."""


class WorkersBusy(SparqlError):
    """Every query worker stayed busy until the request's deadline."""
