"""Planners' ad-hoc Cypher, read-only, with a time limit and a row limit.

Three lines of defence, so that ``kg cypher`` and the API can hand a
planner's text to Neo4j:

1. The query runs in a transaction opened in READ access mode; Neo4j itself
   refuses anything that writes data or schema in it
   (``Neo.ClientError.Statement.AccessMode``).
2. Before it runs, ``EXPLAIN`` plans it in that transaction: only query type
   ``r`` (read-only) is accepted, which refuses schema commands, administration
   commands and DBMS-mode procedures (``CALL dbms.listConfig()``,
   ``CALL db.clearQueryCaches()``) that read mode alone lets through.
3. The plan's operators are checked: every ``ProcedureCall`` must name a
   procedure whose mode is ``READ`` (from ``SHOW PROCEDURES YIELD name, mode``),
   and ``LOAD CSV`` (reads server files and URLs), ``TERMINATE TRANSACTIONS``,
   ``SHOW TRANSACTIONS`` and ``SHOW SETTINGS`` (other users' queries, server
   configuration) are refused.

Values come back JSON-friendly: nodes as ``{"id", "labels", "properties"}``,
relationships as ``{"type", "start", "end", "properties"}`` with node ids for
``start``/``end``, paths as ``{"nodes", "relationships"}``, temporal values as
ISO 8601 strings, points as ``{"srid", "coordinates"}``.
"""

from __future__ import annotations

import base64
import math
import re
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager
from typing import Any

import neo4j
from neo4j import READ_ACCESS
from neo4j.exceptions import ClientError, Neo4jError
from neo4j.graph import Node, Path, Relationship
from neo4j.spatial import Point

from kg.errors import CypherRefused, Problem, ValidationError
from kg.ontology import load_ontology
from kg.store.base import CypherResult
from kg.store.neo4j_mapping import PROPS_KEY

__all__ = ["ReadOnlyCypher", "to_json"]

SessionFactory = Callable[[str], AbstractContextManager[neo4j.Session]]

_REFUSED_OPERATORS = {
    "LoadCSV": "LOAD CSV reads files and URLs from the server",
    "TerminateTransactions": "TERMINATE TRANSACTIONS stops other users' work",
    "ShowTransactions": "SHOW TRANSACTIONS shows other users' queries",
    "ShowSettings": "SHOW SETTINGS shows the server's configuration",
}
_QUERY_TYPES = {"w": "writes data", "rw": "writes data", "s": "changes the schema or administers the server"}
_REFUSING_CODES = (
    "Neo.ClientError.Statement.AccessMode",
    "Neo.ClientError.Security.",
    "Neo.ClientError.Transaction.ForbiddenDueToTransactionType",
    "Neo.ClientError.Statement.NotSystemDatabaseError",
    "Neo.ClientError.Statement.UnsupportedAdministrationCommand",
)
_TIMEOUT_CODES = ("Neo.ClientError.Transaction.TransactionTimedOut",
                  "Neo.TransientError.Transaction.LockClientStopped")
_PREFIX = re.compile(r"^\s*(?:(?://[^\n]*\n|/\*.*?\*/)\s*)*(?:EXPLAIN|PROFILE)\b", re.IGNORECASE | re.DOTALL)
_READ_ONLY = "kg cypher runs read-only queries"
_EXPLAIN = "EXPLAIN\n"  # on a line of its own, so the server's error positions point into the planner's text


class ReadOnlyCypher:
    """Runs planners' queries read-only through sessions from ``session(mode)``."""

    def __init__(self, session: SessionFactory) -> None:
        self._session = session
        self._modes: dict[str, str] | None = None

    def run(self, query: str, params: dict[str, Any], *, timeout_s: float, row_limit: int) -> CypherResult:
        """Check, then run ``query``; see :meth:`kg.store.base.CypherStore.run_cypher`."""
        if not query.strip():
            raise ValidationError([Problem("query", "is empty; expected a Cypher query such as MATCH (n) RETURN n")])
        if not timeout_s > 0:
            raise ValidationError([Problem("timeout", f"must be more than 0 seconds, got {timeout_s}")])
        if row_limit < 1:
            raise ValidationError([Problem("limit", f"must be at least 1 row, got {row_limit}")])
        with self._session(READ_ACCESS) as session:
            modes = self._procedure_modes(session)
            tx = session.begin_transaction(timeout=timeout_s)
            try:
                self._check(tx, query, params, modes, timeout_s)
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
            except Neo4jError as exc:
                raise _translate(exc, timeout_s=timeout_s) from exc
            finally:
                tx.close()  # rolls back: nothing a planner runs is ever committed
        rows = [{c: to_json(v, names) for c, v in zip(columns, values, strict=True)} for values in raw]
        return CypherResult(columns=columns, rows=rows, truncated=truncated)

    def _procedure_modes(self, session: neo4j.Session) -> dict[str, str]:
        if self._modes is None:
            self._modes = {r["name"]: r["mode"] for r in session.run("SHOW PROCEDURES YIELD name, mode")}
        return self._modes

    @staticmethod
    def _check(tx: neo4j.Transaction, query: str, params: dict[str, Any], modes: dict[str, str],
               timeout_s: float) -> None:
        plain = _PREFIX.sub("", query, count=1)
        try:
            summary = tx.run(_EXPLAIN + plain, params).consume()
        except Neo4jError as exc:
            raise _translate(exc, timeout_s=timeout_s, explained=True) from exc
        kind = summary.query_type or "unknown"
        if kind != "r":
            raise CypherRefused(f"refused: the query {_QUERY_TYPES.get(kind, 'is not read-only')}; "
                                f"{_READ_ONLY} (MATCH ... RETURN)")
        for operator, details in _operators(summary.plan or {}):
            if operator in _REFUSED_OPERATORS:
                raise CypherRefused(f"refused: {_REFUSED_OPERATORS[operator]}; {_READ_ONLY}")
            if operator == "ProcedureCall":
                name = details.split("(", 1)[0].strip()
                mode = modes.get(name, "unknown")
                if mode != "READ":
                    raise CypherRefused(f"refused: procedure {name} has mode {mode}; {_READ_ONLY} and only "
                                        "procedures of mode READ (SHOW PROCEDURES YIELD name, mode)")


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
                            f"(offset: {max(0, int(m[3]) - len(_EXPLAIN))}))", message)


def _translate(exc: Neo4jError, *, timeout_s: float = 0.0, explained: bool = False) -> Exception:
    code = exc.code or ""
    message = exc.message or str(exc)
    if explained:
        message = _unshift(message)
    if code.startswith(_REFUSING_CODES):
        return CypherRefused(f"refused by Neo4j: {message}; {_READ_ONLY} (MATCH ... RETURN)")
    if code.startswith(_TIMEOUT_CODES):
        return ValidationError([Problem("timeout", f"the query ran longer than {timeout_s:g} s and was stopped; "
                                        "narrow it (a LIMIT, a shorter path length) or allow more time (--timeout)")])
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
    query = "UNWIND $ids AS e MATCH (n) WHERE elementId(n) = e RETURN e, coalesce(n.id, e) AS id"
    return {r["e"]: r["id"] for r in tx.run(query, ids=sorted(wanted))}


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
