"""How CityKG's tables map onto the Neo4j property graph, as Cypher text and parameters (no I/O).

Every Cypher statement CityKG itself sends is written here: :mod:`kg.store.neo4j` does the I/O and
:mod:`kg.store.neo4j_cypher` checks planners' queries, both with the text of this module. Columns are
read by name through :mod:`kg.schema`; a node's label is its table's ontology class.

The mapping (docs/neo4j.md, "The graph model in Neo4j"):

* A row of ``regions``, ``agencies``, ``assets`` or ``hazard_zones`` is a node
  labelled ``Element`` plus its class chain from the ontology
  (``:Element:Asset:PowerAsset:Substation``, ``:Element:Region``, ...), keyed by
  a unique ``id``. Its plain columns are properties; its extra bundle columns
  (``props``) are properties too, and their names are kept in the list
  property ``_props`` so the store can give them back as ``props``. An asset
  with ``lat`` and ``lon`` also carries them as a WGS-84 ``point`` in
  ``location`` (:data:`LOCATION_KEY`), so ``point.distance`` and
  ``point.withinBBox`` work on it; ``name`` is every element's caption.
* Reference columns are relationships, never properties: ``region`` is
  ``LOCATED_IN``, ``agency`` ``OPERATED_BY``, a region's ``parent`` ``PART_OF``,
  an agency's ``parent`` ``SUB_ORGANIZATION_OF`` and its ``jurisdiction``
  ``HAS_JURISDICTION``. A zone keeps its ``hazard`` name as a property and also
  points ``OF_HAZARD`` at a shared hazard node ``:Element:Hazard:Flood {id: "Flood", name: "Flood"}``.
* ``dependencies`` are ``DEPENDS_ON {kind, group, buffer_hours}`` from the
  dependent to the provider; ``exposures`` are ``EXPOSED_TO {intensity}``.
* ``fragilities`` are ``:Fragility`` nodes (not elements: they are parameters,
  not things in the city) keyed by ``key`` = ``hazard|type|asset``.
* One ``:Meta {name: "citykg"}`` node carries the ``version`` counter and,
  while a load is written (or after one stopped part-way), the unfinished-load
  marker ``load_*`` (:data:`LOAD_MARKER`).

Relationship types and class labels come from the ontology, never from literals.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from functools import cache
from operator import itemgetter
from typing import Any, Literal

import numpy as np

from kg.errors import Problem
from kg.live.events import FIELDS as EVENT_FIELDS
from kg.load.plan import LoadPlan
from kg.model import PROPS_FIELD
from kg.ontology import load_ontology
from kg.schema import NODE_TABLES, TABLES, Row
from kg.search import NAME_ZH, search_terms

__all__ = [
    "AWAIT_INDEXES",
    "ELEMENT",
    "ENDPOINT_IDS",
    "EVENTS_ALL",
    "EVENTS_COUNT",
    "EVENTS_CREATE",
    "EVENTS_FIND",
    "EVENTS_UNTIL",
    "EVENT_PROPERTIES",
    "EXPLAIN_PREFIX",
    "FRAGILITY",
    "HOLDS_ELEMENTS",
    "LOAD_BEGIN",
    "LOAD_MARKER",
    "LOAD_PROGRESS",
    "LOCATION_KEY",
    "META",
    "META_COUNT",
    "META_CREATE",
    "META_STATUS",
    "NODE_IDS",
    "PROPS_KEY",
    "RELATIONSHIP_TABLES",
    "SCHEMA",
    "SHOW_CONSTRAINTS",
    "STATUS_EVENT",
    "STATUS_OF",
    "VERSION",
    "NodeTable",
    "RelationshipTable",
    "WritePart",
    "WriteStep",
    "clear_statements",
    "count_queries",
    "decode_rows",
    "element_query",
    "lookup_query",
    "node_steps",
    "node_tables",
    "plan_problems",
    "quote",
    "read_query",
    "relationship_steps",
    "search_query",
    "snapshot_queries",
    "version_bump",
    "write_steps",
]

ELEMENT = "Element"
FRAGILITY = "Fragility"
META = "Meta"
STATUS_EVENT = "StatusEvent"
"""Label of status events (not an :Element: events are history, not part of the graph, and ``clear`` keeps them)."""
STATUS_OF = "STATUS_OF"
"""Relationship from a status event to its asset."""
META_NAME = "citykg"
PROPS_KEY = "_props"
"""Node property listing which properties came from extra bundle columns (returned as ``props``)."""
LOCATION_KEY = "location"
"""Asset property holding ``lat``/``lon`` as a Neo4j WGS-84 point (derived; never read back as a column).

An asset whose bundle brings its own extra ``location`` column keeps that value there instead: the data
round-trips, and spatial queries skip that asset (its value is no point).
"""

SCHEMA: tuple[tuple[str, str], ...] = (
    ("citykg_element_id",
     f"CREATE CONSTRAINT citykg_element_id IF NOT EXISTS FOR (n:{ELEMENT}) REQUIRE n.id IS UNIQUE"),
    ("citykg_fragility_key",
     f"CREATE CONSTRAINT citykg_fragility_key IF NOT EXISTS FOR (n:{FRAGILITY}) REQUIRE n.key IS UNIQUE"),
    ("citykg_meta_name", f"CREATE CONSTRAINT citykg_meta_name IF NOT EXISTS FOR (n:{META}) REQUIRE n.name IS UNIQUE"),
    ("citykg_status_event_id",
     f"CREATE CONSTRAINT citykg_status_event_id IF NOT EXISTS FOR (n:{STATUS_EVENT}) REQUIRE n.id IS UNIQUE"),
)
"""(name, statement) of every constraint the store needs; each also gives an index."""


# ---------------------------------------------------------------------------------------------- :Meta
LOAD_MARKER = ("load_id", "load_by", "load_what", "load_rows", "load_written", "load_started", "load_updated")
"""Properties of ``:Meta`` naming a load that has begun writing and not finished (absent otherwise)."""

LOAD_BEGIN = (f"MERGE (m:{META} {{name: $name}}) ON CREATE SET m.version = 0 "
              "SET m.load_id = $id, m.load_by = $by, m.load_what = $what, m.load_rows = $rows, "
              "m.load_written = 0, m.load_started = datetime(), m.load_updated = datetime() "
              "RETURN m.load_started AS started")
"""Mark a load (``$id``, ``$by``, ``$what``, ``$rows``) as begun, before its first batch, replacing any earlier mark."""

LOAD_PROGRESS = (f"MATCH (m:{META} {{name: $name}}) WITH m, m.load_id = $id AS ours "
                 "SET m.load_started = CASE WHEN ours THEN m.load_started ELSE $started END, "
                 "m.load_id = $id, m.load_by = $by, m.load_what = $what, m.load_rows = $rows, "
                 "m.load_written = $written, m.load_updated = datetime()")
"""Record a running load's progress (``$written`` rows by now); puts its marker back if another load removed it."""

META_STATUS = (f"OPTIONAL MATCH (m:{META} {{name: $name}}) WITH m, m.load_id IS NOT NULL AS loading "
               "RETURN coalesce(m.version, 0) AS version, loading, m.load_by AS by, m.load_what AS what, "
               "m.load_rows AS rows, m.load_written AS written, "
               "CASE WHEN loading THEN toString(datetime.truncate('second', m.load_started)) END AS started, "
               "CASE WHEN loading THEN toString(datetime.truncate('second', m.load_updated)) END AS updated, "
               "CASE WHEN loading THEN duration.inSeconds(m.load_updated, datetime()).seconds END AS idle_s")
"""The version and the unfinished-load marker, with its age on the server's clock (no clock skew)."""


def version_bump(*, finishing: bool) -> str:
    """Increment the version; with ``finishing``, also remove the marker of the load ``$id`` (if still its own).

    Without ``finishing`` (a clear, which leaves nothing half-written) any marker goes.
    """
    remove = "REMOVE " + ", ".join(f"m.{p}" for p in LOAD_MARKER)
    bump = f"MERGE (m:{META} {{name: $name}}) SET m.version = coalesce(m.version, 0) + 1"
    return f"{bump} WITH m WHERE m.load_id = $id {remove}" if finishing else f"{bump} {remove}"


def quote(name: str) -> str:
    """``name`` as a Cypher label or relationship type (backtick-quoted; names come from the ontology)."""
    if not name.replace("_", "").isalnum():
        raise ValueError(f"not a safe label or relationship type: {name!r}")
    return f"`{name}`"


@dataclass(frozen=True)
class NodeTable:
    """How one node table is stored: its label (the table's ontology class), plain properties and references."""

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
        spec, refs = TABLES[table], references[table]
        if not set(spec.references) <= set(refs):
            missing = sorted(set(spec.references) - set(refs))
            raise RuntimeError(f"{table}: no relationship type for the references {missing}")
        columns = [c for c in spec.columns if c != PROPS_FIELD]
        # A zone's hazard is both a property (its value) and a relationship (to the hazard node).
        properties = tuple(c for c in columns if c not in refs or c == "hazard")
        out[table] = NodeTable(table, spec.ontology_class, properties, refs)
    for label in (ELEMENT, FRAGILITY, "Hazard", *(spec.label for spec in out.values())):
        if label not in onto.classes:
            raise RuntimeError(f"the ontology has no class {label!r}, which the Neo4j mapping needs")
    return out


# ---------------------------------------------------------------------------------------------- writes
WritePart = Literal["hazards", "nodes", "reference", "relationships"]
"""What a write step writes of its table: the shared hazard nodes (before the zones), the nodes, one
reference column's relationships (a second pass, for references within the table), or relationship rows."""


@dataclass(frozen=True)
class WriteStep:
    """One write transaction: a Cypher statement, its ``$rows``, and how many plan rows it completes.

    ``table`` and ``part`` say what it writes (tests and callers select steps by them, never by the text
    of ``query``); ``column`` names the reference column of a ``reference`` step.
    """

    query: str
    rows: list[Any]
    """The ``$rows`` parameter: maps for nodes, ``[source, [[columns...], ...]]`` for relationships."""
    table: str
    part: WritePart
    counted: int = 0
    params: dict[str, Any] = field(default_factory=dict)
    """Parameters besides ``$rows``."""
    column: str | None = None


def plan_problems(plan: LoadPlan) -> list[Problem]:
    """What the Neo4j mapping cannot store, although the plan is valid (ids of hazard nodes, ``_props``)."""
    reserved = load_ontology().hazard_types
    problems: list[Problem] = []
    for table in NODE_TABLES:
        id_and_props = TABLES[table].getter("id", PROPS_FIELD)
        for rid, props in map(id_and_props, plan.rows.get(table, ())):
            if rid in reserved:
                problems.append(Problem(f"{table} id {rid!r}", f"the id {rid!r} names the hazard node in "
                                        "Neo4j (:Hazard); give this element another id"))
            if props and PROPS_KEY in props:
                problems.append(Problem(f"{table} id {rid!r}", f"the column {PROPS_KEY!r} is reserved by "
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


def _grouped_batches(groups: Iterable[tuple[tuple[Any, ...], Sequence[Any]]], batch: int) -> Iterator[list[list[Any]]]:
    """``[*key, part]`` lists holding about ``batch`` items in all, a group larger than that split up."""
    out: list[list[Any]] = []
    size = 0
    for key, items in groups:
        for start in range(0, len(items), batch):
            part = items[start : start + batch]
            out.append([*key, part])
            size += len(part)
            if size >= batch:
                yield out
                out, size = [], 0
    if out:
        yield out


def _grouped_steps(query: str, table: str, rows: Sequence[Row], batch: int) -> Iterator[WriteStep]:
    """Steps of about ``batch`` relationship rows, each ``[source, [[target, other columns...], ...]]``.

    ``rows`` are ``(source, target, properties...)``. Rows are grouped as they
    come (consecutive rows with the same source share a group), so any order
    is right and rows sorted by source, as bundles usually are, are grouped
    best; nothing is copied beyond one batch. Lists, not tuples: the driver
    converts each tuple through a Python hook.
    """
    groups = (((source,), [list(r[1:]) for r in same]) for source, same in itertools.groupby(rows, key=itemgetter(0)))
    for groups_of_batch in _grouped_batches(groups, batch):
        yield WriteStep(query, groups_of_batch, table, "relationships", sum(len(g[1]) for g in groups_of_batch))


def _columnar_steps(query: str, table: str, rows: Sequence[Row], batch: int,
                    node_ids: Mapping[str, int]) -> Iterator[WriteStep]:
    """Steps of ``batch`` relationship rows as columns, source and target given by internal id.

    ``rows`` are ``(source, target, properties...)``.
    Flat lists of plain values are the cheapest parameters to build and to
    encode (a fifth of the client's time for grouped rows of tuples). Rows go
    sorted by target, so concurrent batches rarely lock the same hub (a
    substation many feeders depend on): 10-14% faster. An id missing from
    ``node_ids`` becomes -1, which matches no node.
    """
    if not rows:
        return
    sources, targets, *properties = zip(*rows, strict=True)
    missing = itertools.repeat(-1)
    source_ids = np.fromiter(map(node_ids.get, sources, missing), np.int64, len(rows))
    target_ids = np.fromiter(map(node_ids.get, targets, missing), np.int64, len(rows))
    order = np.argsort(target_ids, kind="stable")
    columns = [source_ids[order], target_ids[order]]
    for values in properties:
        column = np.empty(len(rows), dtype=object)
        column[:] = values
        columns.append(column[order])
    for start in range(0, len(rows), batch):
        yield WriteStep(query, [c[start : start + batch].tolist() for c in columns], table, "relationships",
                        min(batch, len(rows) - start))


class _NodeParameters:
    """A plan row as a node's ``{"id": ..., "props": {...}}`` parameter.

    ``props`` holds the table's stored columns (null ones too: setting a
    property to null leaves it unset) and the row's extra ``props``, whose
    names go in :data:`PROPS_KEY`.
    """

    def __init__(self, table: str) -> None:
        spec = TABLES[table]
        self._names = [c for c in spec.columns if c in node_tables()[table].properties]
        if len(self._names) < 2:
            raise RuntimeError(f"{table}: expected several stored columns, got {self._names}")
        self._values = spec.getter(*self._names)
        self._id_and_extra = spec.getter("id", PROPS_FIELD)

    def __call__(self, row: Row) -> dict[str, Any]:
        props = dict(zip(self._names, self._values(row), strict=True))
        rid, extra = self._id_and_extra(row)
        if extra:
            props.update(extra)
            props[PROPS_KEY] = list(extra)
        return {"id": rid, "props": props}


def _node_upsert(table: NodeTable, inline: Sequence[str], *, fresh: bool) -> str:
    """Write a batch of nodes with their properties, class labels and ``inline`` references.

    With ``inline`` references, ``$rows`` holds groups ``[target, ..., [node, ...]]``
    of the nodes that share their targets (an asset's region and agency), so
    each target is looked up once per group rather than once per node. Those
    targets are nodes written before (another table). Without, ``$rows`` is the
    nodes. Labels come from ``$chains`` (class -> chain below Element); on an
    upsert the labels of a former class chain go, labels someone added by hand
    stay, and a stale reference is deleted first (an asset moved to another
    region loses its old LOCATED_IN). ``fresh``: the store held no element
    when the load began, so nodes and relationships are created, not merged.
    """
    el = quote(ELEMENT)
    kind = "row.props.type" if table.table == "assets" else f"'{table.label}'"
    verb = "CREATE" if fresh else "MERGE"
    props = "row.props"
    if {"lat", "lon"} <= set(table.properties):
        # point() of a null coordinate is null: an asset without both coordinates has no location
        point = "point({longitude: row.props.lon, latitude: row.props.lat})"
        props += f", n.{LOCATION_KEY} = coalesce(row.props.{LOCATION_KEY}, {point})"
    targets = [f"t{i}" for i in range(len(inline))]
    if inline:
        parts = ["UNWIND $rows AS g"]
        parts += [f"OPTIONAL MATCH ({t}:{el} {{id: g[{i}]}})" for i, t in enumerate(targets)]
        parts.append(f"UNWIND g[{len(inline)}] AS row")
    else:
        parts = ["UNWIND $rows AS row"]
    parts.append(f"{verb} (n:{el} {{id: row.id}})")
    if fresh:
        parts.append(f"SET n = {props}, n:$($chains[{kind}])")
    else:
        carried = ", ".join(["n", "row", *(["g"] if inline else []), *targets])
        parts += [f"WITH {carried}, $chains[{kind}] AS chain",
                  f"WITH {carried}, chain, [l IN labels(n) WHERE l IN $classes AND NOT l IN chain] AS stale",
                  f"SET n = {props} REMOVE n:$(stale) SET n:$(chain)"]
        for i, column in enumerate(inline):
            rel = quote(table.references[column])
            parts.append(f"FOREACH (x IN [(n)-[x{i}:{rel}]->(o{i}) WHERE g[{i}] IS NULL OR o{i}.id <> g[{i}] | x{i}] "
                         "| DELETE x)")
    for t, column in zip(targets, inline, strict=True):
        parts.append(f"FOREACH (_ IN CASE WHEN {t} IS NULL THEN [] ELSE [1] END | "
                     f"{verb} (n)-[:{quote(table.references[column])}]->({t}))")
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
             "WITH h, row, $chains[row.id] AS chain SET h:$(chain), h.name = row.id")
    return WriteStep(query, [{"id": h} for h in sorted(hazards)], "hazard_zones", "hazards",
                     params={"chains": label_chains()})


def _inline(table: str) -> tuple[str, ...]:
    """References set with the node: those pointing at another table (written before this one)."""
    return tuple(c for c in node_tables()[table].references if c != "parent")


def _node_steps(plan: LoadPlan, batch: int, fresh: bool) -> Iterator[WriteStep]:
    for name, table in node_tables().items():
        rows = plan.rows.get(name, [])
        if not rows:
            continue
        spec = TABLES[name]
        inline = _inline(name)
        positions = [spec.position(c) for c in inline]
        separate = [c for c in table.references if c not in inline]
        if name == "hazard_zones":
            yield _hazard_nodes(set(map(spec.getter("hazard"), rows)))
        query = _node_upsert(table, inline, fresh=fresh)
        node = _NodeParameters(name)
        counted = not separate
        labels = _label_params()
        if inline:
            groups: dict[tuple[Any, ...], list[tuple[Any, ...]]] = {}
            for r in rows:
                groups.setdefault(tuple(r[p] for p in positions), []).append(r)
            # Nodes that share the most shared target (an agency) go together, so concurrent batches
            # rarely lock the same hub.
            spread = sorted(range(len(inline)), key=lambda k: len({key[k] for key in groups}))
            ordered = sorted(groups.items(), key=lambda kv: ["" if kv[0][k] is None else str(kv[0][k]) for k in spread])
            for batch_groups in _grouped_batches(ordered, batch):
                size = sum(len(g[-1]) for g in batch_groups)
                step_rows = [[*g[:-1], [node(r) for r in g[-1]]] for g in batch_groups]
                yield WriteStep(query, step_rows, name, "nodes", size if counted else 0, labels)
        else:
            for chunk in _chunks(rows, batch):
                yield WriteStep(query, [node(r) for r in chunk], name, "nodes", len(chunk) if counted else 0, labels)
        for column in separate:
            id_and_target = spec.getter("id", column)
            query = _reference_replace(table.references[column], fresh=fresh)
            for chunk in _chunks(rows, batch):
                params = [{"id": rid, "target": target} for rid, target in map(id_and_target, chunk)]
                yield WriteStep(query, params, name, "reference", len(chunk) if column == separate[-1] else 0,
                                column=column)


def write_steps(plan: LoadPlan, batch: int, *, fresh: bool = False) -> Iterator[WriteStep]:
    """Every write transaction of ``plan``: :func:`node_steps`, then :func:`relationship_steps`.

    Each step is an idempotent upsert, so a load cut short (a dropped
    connection, a killed server) is completed by running it again. ``fresh``
    (the store holds no element yet, and the plan's ids and keys are unique)
    creates instead of merging, which is faster; running the load again after
    an interruption finds the store not empty and merges.
    """
    yield from node_steps(plan, batch, fresh=fresh)
    yield from relationship_steps(plan, batch, fresh=fresh)


def node_steps(plan: LoadPlan, batch: int, *, fresh: bool = False) -> Iterator[WriteStep]:
    """The write transactions of the plan's nodes (elements and fragilities), see :func:`write_steps`.

    Node tables are written in load order with their references to earlier
    tables; references within a table (a region's or agency's ``parent``)
    follow in a second pass.
    """
    yield from _node_steps(plan, batch, fresh)
    verb = "CREATE" if fresh else "MERGE"
    query = f"UNWIND $rows AS row {verb} (f:{quote(FRAGILITY)} {{key: row.key}}) SET f = row.props"
    spec = TABLES["fragilities"]
    key_of = spec.getter(*spec.key)
    for chunk in _chunks(plan.rows.get("fragilities", []), batch):
        params = []
        for row in chunk:
            key = "|".join("" if v is None else v for v in key_of(row))  # hazard|type|asset
            props = {"key": key, **spec.as_dict(row)}
            params.append({"key": key, "props": {k: v for k, v in props.items() if v is not None}})
        yield WriteStep(query, params, "fragilities", "nodes", len(chunk))


NODE_IDS = f"MATCH (n:{quote(ELEMENT)}) WHERE n.id IS NOT NULL RETURN collect([n.id, id(n)]) AS ids"
"""The internal id of every element, as ``[id, internal id]`` pairs (for :func:`relationship_steps`)."""


@dataclass(frozen=True)
class RelationshipTable:
    """How one relation table is stored: a relationship from ``source``'s node to ``target``'s.

    Its other columns are the relationship's properties, in the table's order; those in the table's key
    (a dependency's ``kind`` and ``group``) tell two relationships between the same nodes apart.
    """

    table: str
    relation: str
    """The ontology relation (``dependsOn``); its graph name is the relationship type."""
    source: str
    target: str

    @property
    def properties(self) -> tuple[str, ...]:
        """The relationship's properties: the table's columns besides its two ends, keyed ones first."""
        spec = TABLES[self.table]
        rest = [c for c in spec.columns if c not in (self.source, self.target)]
        return (*(c for c in rest if c in spec.key), *(c for c in rest if c not in spec.key))

    @property
    def keyed(self) -> int:
        """How many of :attr:`properties` (the first ones) belong to the table's key."""
        return sum(c in TABLES[self.table].key for c in self.properties)

    def layout(self) -> Callable[[Sequence[Row]], Sequence[Row]]:
        """Rows of the table as ``(source, target, properties...)`` tuples (the rows themselves when alike)."""
        spec = TABLES[self.table]
        positions = [spec.position(c) for c in (self.source, self.target, *self.properties)]
        if positions == list(range(len(spec.columns))):
            return lambda rows: rows
        pick = itemgetter(*positions)
        return lambda rows: [pick(r) for r in rows]

    def row(self) -> Callable[[Row], Row]:
        """The inverse of :meth:`layout` for one row: a ``(source, target, properties...)`` tuple as a table row."""
        spec = TABLES[self.table]
        order = (self.source, self.target, *self.properties)
        positions = [order.index(c) for c in spec.columns]
        if positions == list(range(len(order))):
            return tuple
        return itemgetter(*positions)


RELATIONSHIP_TABLES = {
    "dependencies": RelationshipTable("dependencies", "dependsOn", "dependent", "provider"),
    "exposures": RelationshipTable("exposures", "exposedTo", "asset", "zone"),
}
"""The relation tables, each a relationship type from its source's node to its target's."""


def relationship_steps(plan: LoadPlan, batch: int, *, fresh: bool = False,
                       node_ids: Mapping[str, int] | None = None) -> Iterator[WriteStep]:
    """The write transactions of the plan's relationship rows, once its nodes are written.

    Rows go grouped by their source node (one lookup per source, not per row),
    as lists rather than maps (less to encode and decode per row). A fresh
    load may pass ``node_ids`` (element id -> internal id, read with
    :data:`NODE_IDS` once the nodes are written): rows then go as columns and
    nodes are found by internal id, which skips an index seek and its lock per
    row. Internal ids are only stable while no one deletes nodes, which holds
    for the nodes a fresh load has just created; a merging load keeps to the
    ``id`` key.
    """
    if node_ids is not None and not fresh:
        raise ValueError("node_ids are for a fresh load only")
    onto = load_ontology()
    el = quote(ELEMENT)
    for table, mapping in RELATIONSHIP_TABLES.items():
        rel, names, keyed = quote(onto.rel(mapping.relation)), [quote(c) for c in mapping.properties], mapping.keyed
        rows = mapping.layout()(plan.rows.get(table, []))
        if node_ids is not None:
            # Columns [sources, targets, then one list per property], row i across them.
            props = ", ".join(f"{n}: $rows[{k + 2}][i]" for k, n in enumerate(names))
            query = ("UNWIND range(0, size($rows[0]) - 1) AS i MATCH (s) WHERE id(s) = $rows[0][i] "
                     f"MATCH (t) WHERE id(t) = $rows[1][i] CREATE (s)-[:{rel} {{{props}}}]->(t)")
            yield from _columnar_steps(query, table, rows, batch, node_ids)
            continue
        # Rows [source, [[target, properties...], ...]].
        values = [f"o[{k + 1}]" for k in range(len(names))]
        if fresh:
            props = ", ".join(f"{n}: {v}" for n, v in zip(names, values, strict=True))
            make = f"CREATE (s)-[:{rel} {{{props}}}]->(t)"
        else:
            key = ", ".join(f"{n}: {v}" for n, v in zip(names[:keyed], values[:keyed], strict=True))
            sets = ", ".join(f"r.{n} = {v}" for n, v in zip(names[keyed:], values[keyed:], strict=True))
            make = f"MERGE (s)-[r:{rel}{f' {{{key}}}' if key else ''}]->(t) SET {sets}"
        query = (f"UNWIND $rows AS row MATCH (s:{el} {{id: row[0]}}) UNWIND row[1] AS o "
                 f"MATCH (t:{el} {{id: o[0]}}) {make}")
        yield from _grouped_steps(query, table, rows, batch)


# ---------------------------------------------------------------------------------------------- reads
def read_query(table: str, *, of_ids: bool = False) -> str:
    """One query streaming ``table``, sorted by id / key like the SQLite store; :func:`decode_rows` reads it.

    With ``of_ids``, only the nodes (or the relations from the nodes) whose id is in ``$ids`` (index seeks).

    Node tables give one record per node: its columns besides ``props`` in
    the table's order, then ``_props`` and the values of those properties
    (together standing for ``props``). Relation tables give one record per
    source node (id, list of ``[target, properties...]``), because the
    driver's cost is per record.
    """
    onto = load_ontology()
    el = quote(ELEMENT)
    if table in NODE_TABLES:
        spec = node_tables()[table]
        fields = [spec.column_expression(c) for c in TABLES[table].columns if c != PROPS_FIELD]
        fields += [f"n.{PROPS_KEY}", f"[k IN coalesce(n.{PROPS_KEY}, []) | n[k]]"]
        # Scanning the :Element(id) index in order makes ORDER BY free on large tables.
        return (f"MATCH (n:{el}) WHERE {'n.id IN $ids' if of_ids else 'n.id IS NOT NULL'} AND n:{quote(spec.label)} "
                f"RETURN {', '.join(fields)} ORDER BY n.id")
    if table in RELATIONSHIP_TABLES:
        mapping = RELATIONSHIP_TABLES[table]
        source = node_tables()[TABLES[table].references[mapping.source]]
        columns = ", ".join(["t.id", *(f"r.{quote(c)}" for c in mapping.properties)])
        return (f"MATCH (n:{el}) WHERE {'n.id IN $ids' if of_ids else 'n.id IS NOT NULL'} AND n:{quote(source.label)} "
                f"WITH n, [(n)-[r:{quote(onto.rel(mapping.relation))}]->(t) | [{columns}]] AS out WHERE size(out) > 0 "
                "RETURN n.id, out ORDER BY n.id")
    if table == "fragilities":
        fragilities = TABLES[table]
        order = [f"coalesce(f.{quote(c)}, '')" if fragilities.optional(c) else f"f.{quote(c)}" for c in fragilities.key]
        return (f"MATCH (f:{quote(FRAGILITY)}) RETURN {', '.join(f'f.{quote(c)}' for c in fragilities.columns)} "
                f"ORDER BY {', '.join(order)}")
    raise ValueError(f"unknown table {table!r}; expected one of {', '.join(TABLES)}")


def snapshot_queries(parts: int = 2) -> dict[str, str]:
    """The queries a full snapshot reads the big tables with, as columns (:mod:`kg.store.neo4j_snapshot`).

    Each returns lists (``collect``), so the driver decodes a few big lists
    rather than a million records, and reads by a label or relationship type
    scan. Nodes are named by their internal id (``id(n)``), which the client
    turns into asset positions with numpy; a node that is no asset (no
    ``:Element`` with an ``id``) gets none there, so no query needs to check.
    Strings that repeat (types, kinds, groups, referenced ids) are grouping
    keys, sent once per group, not once per row. Nullable numbers come as
    ``coalesce(x, $nan)`` (the snapshot's NaN for null; ``$nan`` is a float
    NaN), so every list is flat.

    * ``assets``: one record, ``nodes`` and ``ids`` in id order (the :Element(id) index gives it).
    * ``assets.names``: one record, ``nodes`` and ``names`` of the assets that have a name.
    * ``assets.numbers``: one record, ``nodes``, ``lat``, ``lon``, ``population`` (0 for null), ``repair_hours``.
    * ``assets.type``: a record per type, ``value`` and its ``nodes``.
    * ``assets.region``, ``assets.agency``: a record per referenced node, ``value`` (its id) and ``nodes``.
    * ``dependencies``: a record per (kind, group), ``kind``, ``group``, ``sources``, ``targets`` (internal
      ids) and ``buffer_hours``; of the relationships with ``id(r) % $parts = $part`` (``parts`` queries run
      at once).
    * ``exposures``: a record per zone, ``zone`` (its id), ``sources`` and ``intensity``.
    """
    onto = load_ontology()
    el = quote(ELEMENT)
    assets = node_tables()["assets"]
    label = quote(assets.label)
    p = {c: quote(c) for c in assets.properties}
    queries = {
        "assets": (f"MATCH (n:{el}) WHERE n.id IS NOT NULL AND n:{label} WITH n ORDER BY n.id "
                   "RETURN collect(id(n)) AS nodes, collect(n.id) AS ids"),
        "assets.names": (f"MATCH (n:{label}) WHERE n.{p['name']} IS NOT NULL "
                         f"RETURN collect(id(n)) AS nodes, collect(n.{p['name']}) AS names"),
        "assets.numbers": (f"MATCH (n:{label}) RETURN collect(id(n)) AS nodes, "
                           f"collect(coalesce(n.{p['lat']}, $nan)) AS lat, "
                           f"collect(coalesce(n.{p['lon']}, $nan)) AS lon, "
                           f"collect(coalesce(n.{p['population']}, 0)) AS population, "
                           f"collect(coalesce(n.{p['repair_hours']}, $nan)) AS repair_hours"),
        "assets.type": f"MATCH (n:{label}) WITH n.{p['type']} AS value, collect(id(n)) AS nodes RETURN value, nodes",
    }
    for column, rel in assets.references.items():
        # A type scan (no label on n: the planner would expand every asset instead), grouped by the
        # node, not its id: one property read per region rather than one per asset.
        queries[f"assets.{column}"] = (f"MATCH (n)-[:{quote(rel)}]->(t) WITH t, collect(id(n)) AS nodes "
                                       "RETURN t.id AS value, nodes")
    deps, exposures = RELATIONSHIP_TABLES["dependencies"], RELATIONSHIP_TABLES["exposures"]
    kind, group, buffer = map(quote, deps.properties)
    (intensity,) = map(quote, exposures.properties)
    queries["dependencies"] = (
        f"MATCH (n)-[r:{quote(onto.rel(deps.relation))}]->(t) WHERE id(r) % $parts = $part "
        f"WITH r.{kind} AS kind, r.{group} AS group, collect(id(n)) AS sources, collect(id(t)) AS targets, "
        f"collect(coalesce(r.{buffer}, $nan)) AS buffer_hours RETURN kind, group, sources, targets, buffer_hours")
    queries["exposures"] = (
        f"MATCH (n)-[r:{quote(onto.rel(exposures.relation))}]->(t) "
        f"WITH t, collect(id(n)) AS sources, collect(coalesce(r.{intensity}, $nan)) AS intensity "
        "RETURN t.id AS zone, sources, intensity")
    return queries


def decode_rows(table: str, records: Iterable[Sequence[Any]]) -> Iterator[Row]:
    """The rows of ``table`` (tuples in the table's column order) from the records of :func:`read_query`."""
    spec = TABLES[table]
    if table in NODE_TABLES:
        at = spec.position(PROPS_FIELD)
        for record in records:
            values = tuple(record)
            keys, props = values[-2], values[-1]
            yield (*values[:at], dict(zip(keys, props, strict=True)) if keys else None, *values[at:-2])
    elif table in RELATIONSHIP_TABLES:
        as_row = RELATIONSHIP_TABLES[table].row()
        for source, out in records:
            # Sorted like SQLite's key order (dependent, provider, kind, group) / (asset, zone).
            for rest in sorted(out):
                yield as_row((source, *rest))
    else:
        for record in records:
            yield tuple(record)


# ---------------------------------------------------------------------------------------------- the store's own queries
SHOW_CONSTRAINTS = "SHOW CONSTRAINTS YIELD name"
"""The names of the constraints the database has (compared with :data:`SCHEMA`)."""

META_COUNT = f"MATCH (m:{META} {{name: $name}}) RETURN count(m) AS c"
"""Whether the ``:Meta`` node exists (``c``)."""

CHANGE = "ChangeLog"
"""The label of the change log's nodes: ``version`` and ``change`` (:class:`kg.snapshot_delta.Change` as JSON)."""

CHANGE_RECORD = (f"MATCH (m:{META} {{name: $name}}) CREATE (:{CHANGE} {{version: coalesce(m.version, 0) + 1, "
                 "change: $change}) WITH m "
                 f"MATCH (c:{CHANGE}) WHERE c.version <= coalesce(m.version, 0) + 1 - $keep DELETE c")
"""Log what the load about to write touches (``$change``; null: too much to list) under the version it makes.

Logged before the first batch: a load cut short and run again (or followed by
another) is then covered by the version the next finished load makes.
"""

CHANGES_SINCE = (f"MATCH (m:{META} {{name: $name}}) OPTIONAL MATCH (c:{CHANGE}) "
                 "WHERE c.version > $since AND c.version <= m.version "
                 "RETURN m.version AS version, collect([c.version, c.change]) AS changes")
"""The current version and the logged changes after ``$since``."""

CHANGES_CLEAR = f"MATCH (c:{CHANGE}) DELETE c"
"""Forget the change log (a clear: readers build anew)."""

META_CREATE = f"MERGE (m:{META} {{name: $name}}) ON CREATE SET m.version = 0"
"""Make the ``:Meta`` node, at version 0, unless it exists."""

AWAIT_INDEXES = "CALL db.awaitIndexes(300)"
"""Wait (up to 300 s) until the indexes of new constraints are online."""

VERSION = f"MATCH (m:{META} {{name: $name}}) RETURN m.version AS v"
"""The version counter (``v``)."""

HOLDS_ELEMENTS = (f"RETURN EXISTS {{ MATCH (:{quote(ELEMENT)}) }} OR EXISTS {{ MATCH (:{quote(FRAGILITY)}) }} "
                  "AS any")
"""Whether the database holds anything of CityKG's (``any``): a load into an empty one creates, not merges."""

EXPLAIN_PREFIX = "EXPLAIN\n"
"""Put before a planner's query to have its plan checked; on a line of its own, so the server's error
positions point into the planner's text (one line down, :data:`EXPLAIN_PREFIX`'s length along)."""

ENDPOINT_IDS = "UNWIND $ids AS e MATCH (n) WHERE elementId(n) = e RETURN e, coalesce(n.id, e) AS id"
"""CityKG ids (``id``) of the nodes with these element ids (``$ids``), the element id where a node has none."""


# ---------------------------------------------------------------------------------------------- :StatusEvent
EVENT_PROPERTIES = (*EVENT_FIELDS, "micros")
"""Properties of a ``:StatusEvent`` node (an event's fields, then its time in microseconds since 1970 UTC)."""

_EVENT_RETURN = ", ".join(f"e.{name} AS {name}" for name in EVENT_PROPERTIES)

EVENTS_FIND = f"UNWIND $ids AS id MATCH (e:{quote(STATUS_EVENT)} {{id: id}}) RETURN {_EVENT_RETURN}"
"""The stored events with these ids (``$ids``), as :data:`EVENT_PROPERTIES`."""

EVENTS_CREATE = (f"UNWIND $rows AS r CREATE (e:{quote(STATUS_EVENT)}) SET e = r WITH e, r "
                 f"OPTIONAL MATCH (a:{quote(ELEMENT)} {{id: r.asset}}) "
                 f"FOREACH (_ IN CASE WHEN a IS NULL THEN [] ELSE [1] END | CREATE (e)-[:{quote(STATUS_OF)}]->(a))")
"""Create events from ``$rows`` (maps of :data:`EVENT_PROPERTIES`), each linked ``STATUS_OF`` to its asset if stored."""

EVENTS_COUNT = f"MATCH (e:{quote(STATUS_EVENT)}) RETURN count(e) AS n"
"""How many events are stored (``n``; from the count store)."""

EVENTS_ALL = f"MATCH (e:{quote(STATUS_EVENT)}) RETURN {_EVENT_RETURN} ORDER BY e.micros, e.id"
"""Every stored event in (time, id) order."""

EVENTS_UNTIL = (f"MATCH (e:{quote(STATUS_EVENT)}) WHERE e.micros <= $until "
                f"RETURN {_EVENT_RETURN} ORDER BY e.micros, e.id")
"""The stored events at or before ``$until`` (microseconds) in (time, id) order."""

_REFS = "[(n)-[r]->(t) WHERE type(r) IN $refs | [type(r), t.id]]"


def clear_statements(batch: int) -> list[str]:
    """Delete every CityKG relationship (type by type), then every node, ``batch`` rows a transaction."""
    batches = f"IN TRANSACTIONS OF {int(batch)} ROWS"
    statements = [f"MATCH ()-[r:{quote(rel.graph_name)}]->() CALL (r) {{ DELETE r }} {batches}"
                  for rel in load_ontology().relations.values()]
    statements += [f"MATCH (n:{quote(label)}) CALL (n) {{ DETACH DELETE n }} {batches}"
                   for label in (ELEMENT, FRAGILITY)]
    return statements


def lookup_query() -> str:
    """The table (and level, for regions and agencies) of each element of ``$ids`` that exists."""
    tables = node_tables()
    cases = " ".join(f"WHEN n:{quote(spec.label)} THEN '{name}'" for name, spec in tables.items())
    levelled = ", ".join(f"'{name}'" for name in tables if "level" in TABLES[name].columns)
    return (f"UNWIND $ids AS id MATCH (n:{quote(ELEMENT)} {{id: id}}) "
            f"WITH n, CASE {cases} END AS table WHERE table IS NOT NULL "
            f"RETURN n.id AS id, table, CASE WHEN table IN [{levelled}] THEN n.level END AS level")


def element_query() -> tuple[str, dict[str, Any]]:
    """The element ``$id``: the node-table labels it has (``tables``), its properties and references.

    Returns the query and its parameters besides ``$id``.
    """
    tables = node_tables()
    query = (f"MATCH (n:{quote(ELEMENT)} {{id: $id}}) "
             f"RETURN [l IN labels(n) WHERE l IN $tables] AS tables, properties(n) AS props, {_REFS} AS refs")
    refs = sorted({rel for spec in tables.values() for rel in spec.references.values()})
    return query, {"tables": [spec.label for spec in tables.values()], "refs": refs}


def search_query(*, q: str | None, type: str | None, region: str | None, agency: str | None, after: str | None,
                 limit: int) -> tuple[str, dict[str, Any]] | None:
    """Assets matching every given filter, sorted by id (``props``, ``refs``), with the query's parameters.

    Every term of ``q`` must match (:func:`kg.search.search_terms` says what a term matches: the
    asset's id, name or Chinese name, its type by label, or the name of its region, any region
    above it, or its agency). None when ``type`` is no class of the ontology (nothing can match).
    """
    onto = load_ontology()
    el = quote(ELEMENT)
    spec = node_tables()["assets"]
    match = [f"MATCH (n:{el})"]
    where = ["n.id IS NOT NULL", f"n:{quote(spec.label)}"]
    params: dict[str, Any] = {"limit": limit}
    located, part_of = quote(spec.references["region"]), quote(onto.rel("partOf"))
    operated = quote(spec.references["agency"])
    region_label = quote(node_tables()[TABLES["assets"].references["region"]].label)
    agency_label = quote(node_tables()[TABLES["assets"].references["agency"]].label)
    if type:
        if type not in onto.classes:
            return None
        where.append(f"n:{quote(type)}")  # labels carry the class chain, so subclasses match too
    if region:
        match.insert(0, f"MATCH (r:{el} {{id: $region}})<-[:{part_of}*0..]-(:{region_label})<-[:{located}]-(n)")
        params["region"] = region
    if agency:
        match.append(f"MATCH (n)-[:{operated}]->(:{el} {{id: $agency}})")
        params["agency"] = agency
    for i, term in enumerate(search_terms(q)):
        # Java regexes: (?i) folds ASCII case only, like SQLite's LIKE; \Q..\E quotes the text.
        params[f"p{i}"] = "(?s)(?i).*\\Q" + term.text.replace("\\E", "\\E\\\\E\\Q") + "\\E.*"
        params[f"t{i}"], params[f"types{i}"] = term.text, list(term.types)
        named = f"(x.name =~ $p{i} OR x.{NAME_ZH} =~ $p{i} OR x.id = $t{i})"
        where.append(
            f"(n.id =~ $p{i} OR n.name =~ $p{i} OR n.{NAME_ZH} =~ $p{i} OR n.type IN $types{i}"
            f" OR EXISTS {{ MATCH (n)-[:{located}]->(:{region_label})-[:{part_of}*0..]->(x:{region_label})"
            f" WHERE {named} }}"
            f" OR EXISTS {{ MATCH (n)-[:{operated}]->(x:{agency_label}) WHERE {named} }})")
    if after:
        where.append("n.id > $after")
        params["after"] = after
    params["refs"] = list(spec.references.values())
    distinct = "DISTINCT " if region else ""
    query = (f"{' '.join(match)} WHERE {' AND '.join(where)} WITH {distinct}n ORDER BY n.id LIMIT $limit "
             f"RETURN properties(n) AS props, {_REFS} AS refs")
    return query, params


def count_queries() -> tuple[dict[str, str], str, list[str]]:
    """What :meth:`kg.store.neo4j.Neo4jStore.stats` counts, each from the count store (no scan).

    Returns a query per table (``c``), one query counting the nodes of every asset class (``label``, ``c``),
    and those classes.
    """
    onto = load_ontology()
    counts = {name: f"MATCH (n:{quote(spec.label)}) RETURN count(n) AS c" for name, spec in node_tables().items()}
    for name, mapping in RELATIONSHIP_TABLES.items():
        counts[name] = f"MATCH ()-[r:{quote(onto.rel(mapping.relation))}]->() RETURN count(r) AS c"
    counts["fragilities"] = f"MATCH (n:{quote(FRAGILITY)}) RETURN count(n) AS c"
    asset_classes = onto.subclasses(node_tables()["assets"].label)
    by_label = " UNION ALL ".join(f"MATCH (n:{quote(c)}) RETURN '{c}' AS label, count(n) AS c" for c in asset_classes)
    return {t: counts[t] for t in TABLES}, by_label, list(asset_classes)
