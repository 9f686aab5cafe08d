"""How CityKG's tables map onto the Neo4j property graph, as Cypher text and parameters (no I/O).

The mapping (docs/neo4j.md, "The graph model in Neo4j"):

* A row of ``regions``, ``agencies``, ``assets`` or ``hazard_zones`` is a node
  labelled ``Element`` plus its class chain from the ontology
  (``:Element:Asset:PowerAsset:Substation``, ``:Element:Region``, ...), keyed by
  a unique ``id``. Its plain columns are properties; its extra bundle columns
  (``props``) are properties too, and their names are kept in the list
  property ``_props`` so the store can give them back as ``props``.
* Reference columns are relationships, never properties: ``region`` is
  ``LOCATED_IN``, ``agency`` ``OPERATED_BY``, a region's ``parent`` ``PART_OF``,
  an agency's ``parent`` ``SUB_ORGANIZATION_OF`` and its ``jurisdiction``
  ``HAS_JURISDICTION``. A zone keeps its ``hazard`` name as a property and also
  points ``OF_HAZARD`` at a shared hazard node ``:Element:Hazard:Flood {id: "Flood"}``.
* ``dependencies`` are ``DEPENDS_ON {kind, group, buffer_hours}`` from the
  dependent to the provider; ``exposures`` are ``EXPOSED_TO {intensity}``.
* ``fragilities`` are ``:Fragility`` nodes (not elements: they are parameters,
  not things in the city) keyed by ``key`` = ``hazard|type|asset``.
* One ``:Meta {name: "citykg"}`` node carries the ``version`` counter.

Relationship types and class labels come from the ontology, never from literals.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from functools import cache
from operator import itemgetter
from typing import Any

from kg.errors import Problem
from kg.load.plan import COLUMNS, NODE_TABLES, LoadPlan
from kg.ontology import load_ontology

__all__ = [
    "ELEMENT",
    "FRAGILITY",
    "META",
    "NODE_LABELS",
    "PROPS_KEY",
    "SCHEMA",
    "NodeTable",
    "WriteStep",
    "node_tables",
    "plan_problems",
    "quote",
    "read_query",
    "write_steps",
]

ELEMENT = "Element"
FRAGILITY = "Fragility"
META = "Meta"
META_NAME = "citykg"
PROPS_KEY = "_props"
"""Node property listing which properties came from extra bundle columns (returned as ``props``)."""

NODE_LABELS = {"regions": "Region", "agencies": "Agency", "assets": "Asset", "hazard_zones": "HazardZone"}
"""The ontology class whose label marks each node table's nodes."""

SCHEMA: tuple[tuple[str, str], ...] = (
    ("citykg_element_id",
     f"CREATE CONSTRAINT citykg_element_id IF NOT EXISTS FOR (n:{ELEMENT}) REQUIRE n.id IS UNIQUE"),
    ("citykg_fragility_key",
     f"CREATE CONSTRAINT citykg_fragility_key IF NOT EXISTS FOR (n:{FRAGILITY}) REQUIRE n.key IS UNIQUE"),
    ("citykg_meta_name", f"CREATE CONSTRAINT citykg_meta_name IF NOT EXISTS FOR (n:{META}) REQUIRE n.name IS UNIQUE"),
)
"""(name, statement) of every constraint the store needs; each also gives an index."""


def quote(name: str) -> str:
    """``name`` as a Cypher label or relationship type (backtick-quoted; names come from the ontology)."""
    if not name.replace("_", "").isalnum():
        raise ValueError(f"not a safe label or relationship type: {name!r}")
    return f"`{name}`"


@dataclass(frozen=True)
class NodeTable:
    """How one node table is stored: its label, plain properties and reference relationships."""

    table: str
    label: str
    properties: tuple[str, ...]
    references: dict[str, str]
    """Reference column -> relationship type (pointing from this node to the referenced one)."""

    def column_expression(self, column: str, var: str = "n") -> str:
        """Cypher expression reading ``column`` of a node bound to ``var`` (``props`` excluded)."""
        if column in self.properties:
            return f"{var}.{column}"
        rel = quote(self.references[column])
        return f"head([({var})-[:{rel}]->(t) | t.id])"


@cache
def node_tables() -> dict[str, NodeTable]:
    """The mapping of every node table, with relationship types read from the ontology."""
    onto = load_ontology()
    references = {
        "regions": {"parent": onto.rel("partOf")},
        "agencies": {"parent": onto.rel("subOrganizationOf"), "jurisdiction": onto.rel("hasJurisdiction")},
        "assets": {"region": onto.rel("locatedIn"), "agency": onto.rel("operatedBy")},
        "hazard_zones": {"region": onto.rel("locatedIn"), "hazard": onto.rel("ofHazard")},
    }
    out = {}
    for table in NODE_TABLES:
        refs = references[table]
        columns = [c for c in COLUMNS[table] if c != "props"]
        # A zone's hazard is both a property (its value) and a relationship (to the hazard node).
        properties = tuple(c for c in columns if c not in refs or c == "hazard")
        out[table] = NodeTable(table, NODE_LABELS[table], properties, refs)
    for label in (ELEMENT, FRAGILITY, "Hazard", *NODE_LABELS.values()):
        if label not in onto.classes:
            raise RuntimeError(f"the ontology has no class {label!r}, which the Neo4j mapping needs")
    return out


# ---------------------------------------------------------------------------------------------- writes
@dataclass(frozen=True)
class WriteStep:
    """One write transaction: a Cypher statement, its ``$rows``, and how many plan rows it completes."""

    query: str
    rows: list[Any]
    """The ``$rows`` parameter: maps for nodes, ``[source, [[columns...], ...]]`` for relationships."""
    counted: int = 0
    params: dict[str, Any] = field(default_factory=dict)
    """Parameters besides ``$rows``."""


def plan_problems(plan: LoadPlan) -> list[Problem]:
    """What the Neo4j mapping cannot store, although the plan is valid (ids of hazard nodes, ``_props``)."""
    reserved = load_ontology().hazard_types
    problems: list[Problem] = []
    for table in NODE_TABLES:
        for row in plan.rows.get(table, ()):
            if row[0] in reserved:
                problems.append(Problem(f"{table} id {row[0]!r}", f"the id {row[0]!r} names the hazard node in "
                                        "Neo4j (:Hazard); give this element another id"))
            if row[-1] and PROPS_KEY in row[-1]:
                problems.append(Problem(f"{table} id {row[0]!r}", f"the column {PROPS_KEY!r} is reserved by "
                                        "the Neo4j store; rename it"))
    return problems


@cache
def label_chains() -> dict[str, list[str]]:
    """Every class -> its labels below Element (``Substation`` -> Asset, PowerAsset, Substation)."""
    onto = load_ontology()
    return {name: list(onto.ancestors(name)[1:]) for name in onto.classes if onto.is_a(name, ELEMENT)}


def _label_params() -> dict[str, Any]:
    chains = label_chains()
    return {"chains": chains, "classes": sorted(set(chains) - {ELEMENT})}


def _chunks(rows: Sequence[Any], size: int) -> Iterator[Sequence[Any]]:
    for start in range(0, len(rows), size):
        yield rows[start : start + size]


def _grouped_steps(query: str, rows: Sequence[tuple[Any, ...]], batch: int) -> Iterator[WriteStep]:
    """Steps of about ``batch`` relationship rows, each ``[source, [[other columns...], ...]]``.

    Rows are grouped as they come (consecutive rows with the same source share
    a group), so any order is right and rows sorted by source, as bundles
    usually are, are grouped best; nothing is copied beyond one batch.
    """
    groups: list[list[Any]] = []
    size = 0
    for source, same in itertools.groupby(rows, key=itemgetter(0)):
        rest = [r[1:] for r in same]
        for start in range(0, len(rest), batch):
            part = rest[start : start + batch]
            groups.append([source, part])
            size += len(part)
            if size >= batch:
                yield WriteStep(query, groups, size)
                groups, size = [], 0
    if groups:
        yield WriteStep(query, groups, size)


def _node_properties(stored: Sequence[tuple[int, str]], row: tuple[Any, ...]) -> dict[str, Any]:
    """The node's properties: the ``stored`` (position, column) values that are set, and the row's ``props``."""
    values = {name: row[i] for i, name in stored if row[i] is not None}
    extra = row[-1]
    if extra:
        values.update(extra)
        values[PROPS_KEY] = list(extra)
    return values


def _node_upsert(table: NodeTable, inline: Sequence[str], *, fresh: bool) -> str:
    """Write a batch of nodes with their properties, class labels and ``inline`` references.

    Labels come from ``$chains`` (class -> chain below Element); on an upsert the
    labels of a former class chain go, labels someone added by hand stay.
    ``inline`` references point at nodes written before (another table), so they
    are set here; on an upsert a stale target is deleted first (an asset moved
    to another region loses its old LOCATED_IN). ``fresh``: the store held no
    element when the load began, so nodes and relationships are created, not
    merged.
    """
    el = quote(ELEMENT)
    kind = "row.props.type" if table.table == "assets" else f"'{table.label}'"
    verb = "CREATE" if fresh else "MERGE"
    parts = [f"UNWIND $rows AS row {verb} (n:{el} {{id: row.id}})"]
    if fresh:
        parts.append(f"SET n = row.props, n:$($chains[{kind}])")
    else:
        parts += [f"WITH n, row, $chains[{kind}] AS chain",
                  "WITH n, row, chain, [l IN labels(n) WHERE l IN $classes AND NOT l IN chain] AS stale",
                  "SET n = row.props REMOVE n:$(stale) SET n:$(chain)"]
        for i, column in enumerate(inline):
            rel = quote(table.references[column])
            parts.append(f"FOREACH (x IN [(n)-[x{i}:{rel}]->(t{i}) WHERE row.refs.{column} IS NULL "
                         f"OR t{i}.id <> row.refs.{column} | x{i}] | DELETE x)")
    if inline:
        parts.append("WITH n, row")
        parts += [f"OPTIONAL MATCH (t{i}:{el} {{id: row.refs.{column}}})" for i, column in enumerate(inline)]
        parts += [f"FOREACH (_ IN CASE WHEN t{i} IS NULL THEN [] ELSE [1] END | "
                  f"{verb} (n)-[:{quote(table.references[column])}]->(t{i}))" for i, column in enumerate(inline)]
    return " ".join(parts)


def _reference_replace(rel: str, *, fresh: bool) -> str:
    # Sets the node's outgoing `rel` (one target at most); an upsert first deletes a stale one.
    r, el = quote(rel), quote(ELEMENT)
    if fresh:
        return (f"UNWIND $rows AS row WITH row WHERE row.target IS NOT NULL MATCH (n:{el} {{id: row.id}}) "
                f"MATCH (t:{el} {{id: row.target}}) CREATE (n)-[:{r}]->(t)")
    return (f"UNWIND $rows AS row MATCH (n:{el} {{id: row.id}}) "
            f"FOREACH (x IN [(n)-[x0:{r}]->(t0) WHERE row.target IS NULL OR t0.id <> row.target | x0] | DELETE x) "
            f"WITH n, row WHERE row.target IS NOT NULL MATCH (t:{el} {{id: row.target}}) MERGE (n)-[:{r}]->(t)")


def _hazard_nodes(hazards: set[str]) -> WriteStep:
    query = (f"UNWIND $rows AS row MERGE (h:{quote(ELEMENT)} {{id: row.id}}) "
             "WITH h, $chains[row.id] AS chain SET h:$(chain)")
    return WriteStep(query, [{"id": h} for h in sorted(hazards)], params={"chains": label_chains()})


def _inline(table: str) -> tuple[str, ...]:
    """References set with the node: those pointing at another table (written before this one)."""
    return tuple(c for c in node_tables()[table].references if c != "parent")


def _node_steps(plan: LoadPlan, batch: int, fresh: bool) -> Iterator[WriteStep]:
    for name, table in node_tables().items():
        rows = plan.rows.get(name, [])
        if not rows:
            continue
        columns = COLUMNS[name]
        inline = _inline(name)
        positions = [columns.index(c) for c in inline]
        separate = [c for c in table.references if c not in inline]
        if name == "hazard_zones":
            yield _hazard_nodes({r[1] for r in rows})
        query = _node_upsert(table, inline, fresh=fresh)
        stored = [(i, c) for i, c in enumerate(columns) if c in table.properties]
        for chunk in _chunks(rows, batch):
            params = [{"id": r[0], "props": _node_properties(stored, r),
                       "refs": {c: r[p] for c, p in zip(inline, positions, strict=True)}} for r in chunk]
            yield WriteStep(query, params, 0 if separate else len(chunk), _label_params())
        for column in separate:
            position = columns.index(column)
            query = _reference_replace(table.references[column], fresh=fresh)
            for chunk in _chunks(rows, batch):
                params = [{"id": r[0], "target": r[position]} for r in chunk]
                yield WriteStep(query, params, len(chunk) if column == separate[-1] else 0)


def write_steps(plan: LoadPlan, batch: int, *, fresh: bool = False) -> Iterator[WriteStep]:
    """Every write transaction of ``plan``: nodes first, then relationships.

    Node tables are written in load order with their references to earlier
    tables; references within a table (a region's or agency's ``parent``)
    follow in a second pass. Each step is an idempotent upsert, so a load cut
    short (a dropped connection, a killed server) is completed by running it
    again. ``fresh`` (the store holds no element yet, and the plan's ids and
    keys are unique) creates instead of merging, which is faster; running the
    load again after an interruption finds the store not empty and merges.
    """
    onto = load_ontology()
    el = quote(ELEMENT)
    verb = "CREATE" if fresh else "MERGE"
    yield from _node_steps(plan, batch, fresh)
    # Relationship rows go grouped by their source node (one lookup per source, not per row), as
    # lists rather than maps (less to encode and decode per row).
    depends = quote(onto.rel("dependsOn"))
    if fresh:
        make = f"CREATE (d)-[:{depends} {{kind: o[1], `group`: o[2], buffer_hours: o[3]}}]->(p)"
    else:
        make = f"MERGE (d)-[r:{depends} {{kind: o[1], `group`: o[2]}}]->(p) SET r.buffer_hours = o[3]"
    query = (f"UNWIND $rows AS row MATCH (d:{el} {{id: row[0]}}) "
             f"UNWIND row[1] AS o MATCH (p:{el} {{id: o[0]}}) {make}")
    yield from _grouped_steps(query, plan.rows.get("dependencies", []), batch)
    exposed = quote(onto.rel("exposedTo"))
    if fresh:
        make = f"CREATE (a)-[:{exposed} {{intensity: o[1]}}]->(z)"
    else:
        make = f"MERGE (a)-[r:{exposed}]->(z) SET r.intensity = o[1]"
    query = f"UNWIND $rows AS row MATCH (a:{el} {{id: row[0]}}) UNWIND row[1] AS o MATCH (z:{el} {{id: o[0]}}) {make}"
    yield from _grouped_steps(query, plan.rows.get("exposures", []), batch)
    query = f"UNWIND $rows AS row {verb} (f:{quote(FRAGILITY)} {{key: row.key}}) SET f = row.props"
    for chunk in _chunks(plan.rows.get("fragilities", []), batch):
        params = []
        for hazard, threshold, asset_type, asset, beta in chunk:
            key = f"{hazard}|{asset_type or ''}|{asset or ''}"
            props = {"key": key, "hazard": hazard, "threshold": threshold, "type": asset_type, "asset": asset,
                     "beta": beta}
            params.append({"key": key, "props": {k: v for k, v in props.items() if v is not None}})
        yield WriteStep(query, params, len(chunk))


# ---------------------------------------------------------------------------------------------- reads
def read_query(table: str) -> str:
    """One query streaming ``table``, sorted by id like the SQLite store (see :func:`kg.store.neo4j` ``rows``).

    Node tables give one record per node: its columns in :data:`COLUMNS`
    order, then ``_props`` and the values of those properties (together standing
    for ``props``). Relation tables give one record per source node (id, list of
    ``[other columns...]``), because the driver's cost is per record; the
    caller sorts each short list and flattens it.
    """
    onto = load_ontology()
    el = quote(ELEMENT)
    if table in NODE_TABLES:
        spec = node_tables()[table]
        fields = [spec.column_expression(c) for c in COLUMNS[table] if c != "props"]
        fields += [f"n.{PROPS_KEY}", f"[k IN coalesce(n.{PROPS_KEY}, []) | n[k]]"]
        # Scanning the :Element(id) index in order makes ORDER BY free on large tables.
        return (f"MATCH (n:{el}) WHERE n.id IS NOT NULL AND n:{quote(spec.label)} "
                f"RETURN {', '.join(fields)} ORDER BY n.id")
    if table in ("dependencies", "exposures"):
        if table == "dependencies":
            rel, columns = onto.rel("dependsOn"), "t.id, r.kind, r.`group`, r.buffer_hours"
        else:
            rel, columns = onto.rel("exposedTo"), "t.id, r.intensity"
        return (f"MATCH (n:{el}) WHERE n.id IS NOT NULL AND n:{quote('Asset')} "
                f"WITH n, [(n)-[r:{quote(rel)}]->(t) | [{columns}]] AS out WHERE size(out) > 0 "
                "RETURN n.id, out ORDER BY n.id")
    if table == "fragilities":
        return (f"MATCH (f:{quote(FRAGILITY)}) RETURN f.hazard, f.threshold, f.type, f.asset, f.beta "
                "ORDER BY f.hazard, coalesce(f.type, ''), coalesce(f.asset, '')")
    raise ValueError(f"unknown table {table!r}; expected one of {', '.join(COLUMNS)}")
