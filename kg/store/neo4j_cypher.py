"""Planners' ad-hoc Cypher, read-only by construction, with a time limit and a row limit.

``kg cypher`` and ``POST /v1/cypher`` hand a planner's text to Neo4j. What keeps
that safe (docs/security.md says why each line is there):

1. **The exact text is planned.** The server is asked for the plan of
   ``EXPLAIN`` followed by the planner's text, byte for byte: nothing is stripped
   or rewritten on this side, so no comment, line terminator or string trick can
   make the check see another statement than the one that runs. A planner's own
   ``PROFILE`` conflicts with that ``EXPLAIN`` and is refused; a planner's own
   ``EXPLAIN`` makes the run a plan too.
2. **The plan is checked against allowlists**, not blocklists: every operator
   must be one of :data:`READ_OPERATORS` (scans, seeks, expands, filters,
   projections, aggregations, joins, subquery applies) and every
   ``ProcedureCall`` must call one of :data:`ALLOWED_PROCEDURES` (label, type,
   property-key and schema introspection). Anything else, ``LOAD CSV``,
   ``SHOW ...``, ``TERMINATE ...``, ``CALL ... IN TRANSACTIONS``, writes, schema
   and administration commands, ``db.stats.*``, ``dbms.*``, is refused, also when
   hidden in a subquery, ``EXISTS {}`` or ``COLLECT {}`` (they are planned into
   the same tree). The query type must be ``r``.
3. **It runs in a READ transaction** with a server-side timeout, and is rolled
   back; Neo4j refuses writes in it (``Neo.ClientError.Statement.AccessMode``).
4. **The client keeps its own deadline.** Neo4j checks its timeout between rows,
   not inside one expression (``reduce()`` over a long ``range()`` runs on);
   at the deadline the connection is cut, so the caller gets its timeout error
   on time and the server marks the transaction terminated.

Values come back JSON-friendly: nodes as ``{"id", "labels", "properties"}``,
relationships as ``{"type", "start", "end", "properties"}`` with node ids for
``start``/``end``, paths as ``{"nodes", "relationships"}``, temporal values as
ISO 8601 strings, points as ``{"srid", "coordinates"}``.
"""

from __future__ import annotations

import base64
import contextlib
import math
import re
import socket
import threading
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager
from typing import Any

import neo4j
from neo4j import READ_ACCESS
from neo4j.exceptions import ClientError, DriverError, Neo4jError
from neo4j.graph import Node, Path, Relationship
from neo4j.spatial import Point

from kg.errors import CypherRefused, Problem, ValidationError
from kg.ontology import load_ontology
from kg.store.base import CypherResult
from kg.store.neo4j_mapping import ENDPOINT_IDS, EXPLAIN_PREFIX, PROPS_KEY

__all__ = ["ALLOWED_PROCEDURES", "READ_OPERATORS", "ReadOnlyCypher", "check_plan", "to_json"]

SessionFactory = Callable[[str], AbstractContextManager[neo4j.Session]]

ALLOWED_PROCEDURES = frozenset({
    "db.labels", "db.relationshipTypes", "db.propertyKeys",
    "db.schema.visualization", "db.schema.nodeTypeProperties", "db.schema.relTypeProperties",
})
"""Procedures a planner's query may call: what labels, types, property keys and schema the graph has."""

READ_OPERATORS = frozenset({
    # leaves: scans and seeks of nodes and relationships, counts from the count store
    "Argument", "ArgumentTracker", "AllNodesScan", "NodeByLabelScan", "UnionNodeByLabelsScan",
    "IntersectionNodeByLabelsScan", "SubtractionNodeByLabelsScan", "NodeByIdSeek", "NodeByElementIdSeek",
    "NodeIndexScan", "NodeIndexSeek", "NodeIndexSeekByRange", "NodeUniqueIndexSeek", "NodeUniqueIndexSeekByRange",
    "NodeIndexContainsScan", "NodeIndexEndsWithScan", "MultiNodeIndexSeek",
    *(f"{way}{leaf}" for way in ("Directed", "Undirected") for leaf in (
        "AllRelationshipsScan", "RelationshipTypeScan", "UnionRelationshipTypesScan", "RelationshipByIdSeek",
        "RelationshipByElementIdSeek", "RelationshipIndexScan", "RelationshipIndexSeek",
        "RelationshipIndexSeekByRange", "RelationshipUniqueIndexSeek", "RelationshipUniqueIndexSeekByRange",
        "RelationshipIndexContainsScan", "RelationshipIndexEndsWithScan")),
    "NodeCountFromCountStore", "RelationshipCountFromCountStore",
    # traversals and paths
    "Expand(All)", "Expand(Into)", "OptionalExpand(All)", "OptionalExpand(Into)", "VarLengthExpand(All)",
    "VarLengthExpand(Into)", "VarLengthExpand(Pruning)", "VarLengthExpand(Pruning,BFS,All)",
    "VarLengthExpand(Pruning,BFS,Into)", "ShortestPath", "StatefulShortestPath(All)", "StatefulShortestPath(Into)",
    "Repeat(Trail)", "Repeat(Walk)", "BidirectionalRepeat(Trail)", "PathPropagatingBFS", "ProjectEndpoints",
    "NullifyMetadata", "TriadicSelection", "TriadicBuild", "TriadicFilter",
    # subqueries, EXISTS {}, COLLECT {}, COUNT {}, OPTIONAL MATCH, UNION, joins
    "Apply", "SemiApply", "AntiSemiApply", "LetSemiApply", "LetAntiSemiApply", "SelectOrSemiApply",
    "SelectOrAntiSemiApply", "LetSelectOrSemiApply", "LetSelectOrAntiSemiApply", "ConditionalApply",
    "AntiConditionalApply", "RollUpApply", "Optional", "Anti", "CartesianProduct", "NodeHashJoin", "ValueHashJoin",
    "NodeLeftOuterHashJoin", "NodeRightOuterHashJoin", "Union", "OrderedUnion",
    # rows: filters, projections, ordering, limits, aggregation
    "Filter", "Projection", "ProduceResults", "Unwind", "CacheProperties", "Eager", "EmptyResult", "PreserveOrder",
    "Limit", "ExhaustiveLimit", "Skip", "Sort", "PartialSort", "Top", "Top1WithTies", "PartialTop", "Distinct",
    "OrderedDistinct", "EagerAggregation", "OrderedAggregation",
    # procedure calls: each one is checked against ALLOWED_PROCEDURES
    "ProcedureCall",
})
"""Plan operators a planner's query may use (Neo4j 5.26 names): they read the graph and shape rows.

Everything else is refused: updating operators, ``LoadCSV``, ``TransactionApply``
and ``TransactionForeach`` (``CALL ... IN TRANSACTIONS``), ``Foreach``, the
``Show*`` and ``TerminateTransactions`` commands, schema and administration
commands, and any operator a later Neo4j adds until it is read and listed here.
"""

_REFUSING_CODES = (
    "Neo.ClientError.Statement.AccessMode",
    "Neo.ClientError.Security.",
    "Neo.ClientError.Transaction.ForbiddenDueToTransactionType",
    "Neo.ClientError.Statement.NotSystemDatabaseError",
    "Neo.ClientError.Statement.UnsupportedAdministrationCommand",
)
_TIMEOUT_CODES = ("Neo.ClientError.Transaction.TransactionTimedOut",
                  "Neo.TransientError.Transaction.LockClientStopped")
_READ_ONLY = "kg cypher runs read-only queries"
_CONFLICTING_MODE = "conflicting values for execution mode"


class ReadOnlyCypher:
    """Runs planners' queries read-only through sessions from ``session(mode)``."""

    def __init__(self, session: SessionFactory) -> None:
        self._session = session

    def run(self, query: str, params: dict[str, Any], *, timeout_s: float, row_limit: int) -> CypherResult:
        """Check, then run ``query``; see :meth:`kg.store.base.CypherStore.run_cypher`.

        Returns within about ``timeout_s`` seconds whatever the query does: at the
        deadline the connection is cut and a ``timeout`` :class:`ValidationError`
        raised.
        """
        if not query.strip():
            raise ValidationError([Problem("query", "is empty; expected a Cypher query such as MATCH (n) RETURN n")])
        if not timeout_s > 0:
            raise ValidationError([Problem("timeout", f"must be more than 0 seconds, got {timeout_s}")])
        if row_limit < 1:
            raise ValidationError([Problem("limit", f"must be at least 1 row, got {row_limit}")])
        with self._session(READ_ACCESS) as session:
            tx = session.begin_transaction(timeout=timeout_s, metadata={"app": "citykg-cypher"})
            deadline = _Deadline(tx, timeout_s)
            try:
                check_plan(_explain(tx, query, params, timeout_s))
                result = tx.run(query, params)
                columns = list(result.keys())
                raw: list[list[Any]] = []
                truncated = False
                for record in result:
                    if len(raw) == row_limit:
                        truncated = True
                        break
                    raw.append(list(record.values()))
                result.consume()  # discards the rows past the limit on the server instead of buffering them
                names = _endpoint_names(tx, raw)
            except (Neo4jError, DriverError, OSError) as exc:
                if deadline.passed:
                    raise _timed_out(timeout_s) from exc
                if isinstance(exc, Neo4jError):
                    raise _translate(exc, timeout_s=timeout_s) from exc
                raise
            finally:
                deadline.cancel()
                _close_quietly(tx)  # rolls back: nothing a planner runs is ever committed
        rows = [{c: to_json(v, names) for c, v in zip(columns, values, strict=True)} for values in raw]
        return CypherResult(columns=columns, rows=rows, truncated=truncated)


def _explain(tx: neo4j.Transaction, query: str, params: dict[str, Any], timeout_s: float) -> neo4j.ResultSummary:
    """The server's plan of exactly ``query`` (``EXPLAIN`` runs nothing)."""
    try:
        return tx.run(EXPLAIN_PREFIX + query, params).consume()
    except Neo4jError as exc:
        if _CONFLICTING_MODE in (exc.message or ""):
            raise CypherRefused("refused: PROFILE runs the query before it can be checked; "
                                f"{_READ_ONLY} (drop PROFILE; EXPLAIN is fine)") from exc
        raise _translate(exc, timeout_s=timeout_s, explained=True) from exc


def check_plan(summary: neo4j.ResultSummary) -> None:
    """Raise :class:`CypherRefused` unless ``summary`` (of an ``EXPLAIN``) is a read-only plan.

    Read-only: query type ``r``, every operator in :data:`READ_OPERATORS`, every
    procedure call to one of :data:`ALLOWED_PROCEDURES`.
    """
    if summary.query_type != "r":
        kind = {"w": "writes data", "rw": "writes data", "s": "changes the schema or administers the server"}
        raise CypherRefused(f"refused: the query {kind.get(summary.query_type or '', 'is not read-only')}; "
                            f"{_READ_ONLY} (MATCH ... RETURN)")
    if not summary.plan:
        raise CypherRefused(f"refused: Neo4j gave no plan to check; {_READ_ONLY} (MATCH ... RETURN)")
    for operator, details in _operators(summary.plan):
        if operator not in READ_OPERATORS:
            raise CypherRefused(f"refused: the plan uses {operator}, which does more than read the graph; "
                                f"{_READ_ONLY} (MATCH ... RETURN)")
        if operator == "ProcedureCall":
            name = details.split("(", 1)[0].strip()
            if name not in ALLOWED_PROCEDURES:
                raise CypherRefused(f"refused: procedure {name} is not one a planner may call; {_READ_ONLY}, and "
                                    f"the procedures allowed are {', '.join(sorted(ALLOWED_PROCEDURES))}")


class _Deadline:
    """Cuts ``tx``'s connection ``timeout_s`` seconds from now, unless cancelled first.

    Neo4j enforces its transaction timeout only between rows; a single
    expression that runs long (``reduce()`` over a long ``range()``) holds the
    reply back. Shutting the socket down wakes the blocked read here (the
    driver then drops the connection) and makes the server mark the
    transaction terminated.
    """

    def __init__(self, tx: neo4j.Transaction, timeout_s: float) -> None:
        self.passed = False
        self._tx = tx
        self._timer = threading.Timer(timeout_s, self._cut)
        self._timer.daemon = True
        self._timer.start()

    def _cut(self) -> None:
        self.passed = True
        # The driver has no public way to abort a read in progress: reach its socket.
        connection = getattr(self._tx, "_connection", None)
        raw = getattr(getattr(connection, "socket", None), "_socket", None)
        if isinstance(raw, socket.socket):
            with contextlib.suppress(OSError):  # already closed: the query ended as the deadline came
                raw.shutdown(socket.SHUT_RDWR)

    def cancel(self) -> None:
        self._timer.cancel()


def _close_quietly(tx: neo4j.Transaction) -> None:
    with contextlib.suppress(Neo4jError, DriverError, OSError):  # a cut connection has nothing to roll back
        tx.close()


def _timed_out(timeout_s: float) -> ValidationError:
    return ValidationError([Problem("timeout", f"the query ran longer than {timeout_s:g} s and was stopped; "
                                    "narrow it (a LIMIT, a shorter path length) or allow more time (--timeout)")])


def _operators(plan: dict[str, Any]) -> Iterator[tuple[str, str]]:
    operator = str(plan.get("operatorType", "")).split("@", 1)[0]
    details = plan.get("args", {}).get("Details", "")
    yield operator, str(details or "")
    for child in plan.get("children", ()):
        yield from _operators(child)


def _unshift(message: str) -> str:
    """``message`` with ``line``/``offset`` positions relative to the query as the planner wrote it."""
    return re.sub(r"\(line (\d+), column (\d+) \(offset: (\d+)\)\)",
                  lambda m: f"(line {max(1, int(m[1]) - 1)}, column {m[2]} "
                            f"(offset: {max(0, int(m[3]) - len(EXPLAIN_PREFIX))}))", message)


def _translate(exc: Neo4jError, *, timeout_s: float = 0.0, explained: bool = False) -> Exception:
    code = exc.code or ""
    message = exc.message or str(exc)
    if explained:
        message = _unshift(message)
    if code.startswith(_REFUSING_CODES):
        return CypherRefused(f"refused by Neo4j: {message}; {_READ_ONLY} (MATCH ... RETURN)")
    if code.startswith(_TIMEOUT_CODES):
        return _timed_out(timeout_s)
    if isinstance(exc, ClientError):
        return ValidationError([Problem("query", f"Neo4j cannot run it: {message}")])
    return exc


def _endpoint_names(tx: neo4j.Transaction, raw: list[list[Any]]) -> dict[str, str]:
    """CityKG ids of relationship endpoints the result does not carry itself (one extra query)."""
    wanted: set[str] = set()
    for values in raw:
        for value in values:
            _collect_endpoints(value, wanted)
    if not wanted:
        return {}
    return {r["e"]: r["id"] for r in tx.run(ENDPOINT_IDS, ids=sorted(wanted))}


def _collect_endpoints(value: Any, wanted: set[str]) -> None:
    if isinstance(value, Relationship):
        for node in (value.start_node, value.end_node):
            if node is not None and node.get("id") is None:
                wanted.add(node.element_id)
    elif isinstance(value, Path):
        for rel in value.relationships:
            _collect_endpoints(rel, wanted)
    elif isinstance(value, list):
        for item in value:
            _collect_endpoints(item, wanted)
    elif isinstance(value, dict):
        for item in value.values():
            _collect_endpoints(item, wanted)


def _node_id(node: Node | None, names: dict[str, str]) -> str | None:
    if node is None:
        return None
    own = node.get("id")
    return str(own) if own is not None else names.get(node.element_id, node.element_id)


def _labels(labels: frozenset[str]) -> list[str]:
    """Labels in class-chain order (Element, Asset, PowerAsset, Substation), others after by name."""
    onto = load_ontology()
    return sorted(labels, key=lambda lb: (0, len(onto.ancestors(lb)), lb) if lb in onto.classes else (1, 0, lb))


def to_json(value: Any, names: dict[str, str] | None = None) -> Any:
    """A Cypher result value as JSON-friendly Python (see the module docs for the shapes)."""
    names = names or {}
    if value is None or isinstance(value, (bool, int, str)):
        return value
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if isinstance(value, Node):
        props = {k: to_json(v) for k, v in sorted(value.items()) if k != PROPS_KEY}
        return {"id": _node_id(value, names), "labels": _labels(value.labels), "properties": props}
    if isinstance(value, Relationship):
        return {"type": value.type, "start": _node_id(value.start_node, names),
                "end": _node_id(value.end_node, names),
                "properties": {k: to_json(v) for k, v in sorted(value.items())}}
    if isinstance(value, Path):
        return {"nodes": [to_json(n, names) for n in value.nodes],
                "relationships": [to_json(r, names) for r in value.relationships]}
    if isinstance(value, list | tuple) and not isinstance(value, Point):
        return [to_json(v, names) for v in value]
    if isinstance(value, dict):
        return {str(k): to_json(v, names) for k, v in value.items()}
    if isinstance(value, Point):
        return {"srid": value.srid, "coordinates": [float(c) for c in value]}
    if isinstance(value, bytes | bytearray):
        return base64.b64encode(bytes(value)).decode("ascii")
    iso = getattr(value, "iso_format", None)
    if callable(iso):
        return str(iso())
    return str(value)
