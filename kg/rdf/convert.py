"""RDF in the ckg vocabulary to raw rows, the same rows a CSV bundle gives.

The rows then go through :func:`kg.load.build_plan` exactly like CSV rows, so
an RDF file is checked by the same record and reference rules. Values are
passed as their lexical forms (strings), as CSV values are.

This is the inverse of :mod:`kg.rdf.mapping`; it also accepts what people
write by hand: ``ckg:subOrganizationOf`` beside ``org:subOrganizationOf``,
a point geometry without ``ckg:lat``/``ckg:lon``, a hazard class used directly
as the value of ``ckg:ofHazard``.
"""

from __future__ import annotations

import re
from collections import defaultdict
from collections.abc import Callable, Iterator

from kg.errors import Problem
from kg.i18n import Message, _l
from kg.namespaces import CKG, GEO, ORG, RDF, RDFS
from kg.rdf.index import Index
from kg.rdf.labels import LabelError, name_from_labels
from kg.rdf.terms import Lit, Obj, prop_key
from kg.rdf.vocab import Vocabulary, vocabulary
from kg.rows import RawRow
from kg.schema import TABLES

__all__ = ["rows_from_index"]

Report = Callable[[Problem], None]

_CKG = str(CKG)
_ID = str(CKG.id)
_TYPE, _LABEL = str(RDF.type), str(RDFS.label)
_HAS_GEOMETRY, _AS_WKT = str(GEO.hasGeometry), str(GEO.asWKT)
_SUB_ORG = (str(ORG.subOrganizationOf), str(CKG.subOrganizationOf))
_POINT = re.compile(r"^\s*(?:<[^>]*>\s*)?POINT\s*\(\s*(\S+)\s+(\S+)\s*\)\s*$", re.IGNORECASE)

# ckg properties each kind of node may carry (besides rdf:type and ckg:prop_*).
_ALLOWED: dict[str, frozenset[str]] = {
    "regions": frozenset({"id", "level", "partOf"}),
    "agencies": frozenset({"id", "level", "subOrganizationOf", "hasJurisdiction", "crews"}),
    "assets": frozenset({"id", "locatedIn", "operatedBy", "lat", "lon", "population", "repairHours", "dependsOn",
                         "exposedTo"}),
    "hazard_zones": frozenset({"id", "ofHazard", "annualProbability", "locatedIn"}),
    "dependencies": frozenset({"dependent", "provider", "kind", "group", "bufferHours"}),
    "exposures": frozenset({"asset", "zone", "intensity"}),
    "fragilities": frozenset({"hazard", "threshold", "assetType", "asset", "beta"}),
}
# An asset is typed by its concrete class (ckg:Substation), which vocab.asset_types lists, never by ckg:Asset.
_NODE_CLASSES = {t.ontology_class: name for name, t in TABLES.items() if name != "assets"}


def _lexical(value: Obj) -> str:
    return value.lexical if isinstance(value, Lit) else value


class _Converter:
    def __init__(self, index: Index, report: Report, vocab: Vocabulary) -> None:
        self.index = index
        self.report = report
        self.vocab = vocab
        self.ids: dict[str, str | None] = {}
        """Node -> its ckg:id (None when it has not exactly one), found once per node."""

    def problem(self, node: str, message: Message) -> None:
        self.report(Problem(self.index.where(node), message))

    def one(self, node: str, prop: str) -> Obj | None:
        values = self.index.objects(node, prop)
        if len(values) > 1:
            self.problem(node, _l("{property} has {count} values; expected one", property=_short(prop),
                                  count=len(values)))
        return values[0] if values else None

    def literal(self, node: str, prop: str) -> str | None:
        value = self.one(node, prop)
        if value is None:
            return None
        if not isinstance(value, Lit):
            self.problem(node, _l("{property} is <{value}>; expected a literal value", property=_short(prop),
                                  value=value))
            return None
        return value.lexical

    def name(self, node: str) -> str | None:
        """The name its ``rdfs:label`` values stand for (:mod:`kg.rdf.labels`)."""
        labels = self.index.objects(node, _LABEL)
        iris = [v for v in labels if not isinstance(v, Lit)]
        if iris:
            self.problem(node, _l("{property} is <{value}>; expected a literal value", property="rdfs:label",
                                  value=iris[0]))
            return None
        try:
            return name_from_labels([v for v in labels if isinstance(v, Lit)])
        except LabelError as exc:
            self.problem(node, exc.message)
            return None

    def ref(self, node: str, prop: str | tuple[str, ...]) -> str | None:
        """The ckg:id of the node ``prop`` points to."""
        props = (prop,) if isinstance(prop, str) else prop
        targets = list(dict.fromkeys(v for p in props for v in self.index.objects(node, p)))
        if not targets:
            return None
        if len(targets) > 1:
            self.problem(node, _l("{property} has {count} values; expected one", property=_short(props[0]),
                                  count=len(targets)))
        target = targets[0]
        if isinstance(target, Lit):
            self.problem(node, _l("{property} is the literal {value}; expected a node", property=_short(props[0]),
                                  value=repr(target.lexical)))
            return None
        if target in self.ids:
            found = self.ids[target]
        else:
            ids = self.index.objects(target, _ID)
            found = self.ids[target] = ids[0].lexical if len(ids) == 1 and isinstance(ids[0], Lit) else None
        if found is None:
            self.problem(node, _l("{property} points to <{target}>, which has no single ckg:id",
                                  property=_short(props[0]), target=target))
        return found

    def named(self, node: str, prop: str, names: dict[str, str], what: Message) -> str | None:
        value = self.one(node, prop)
        if value is None:
            return None
        if isinstance(value, Lit) or value not in names:
            self.problem(node, _l("{property} is {value}; expected {what}", property=_short(prop),
                                  value=repr(_lexical(value)), what=what))
            return None
        return names[value]

    def table_of(self, node: str) -> list[str]:
        tables: list[str] = []
        for t in self.index.types(node):
            name = self.vocab.class_name(_lexical(t))
            if name is None:
                continue
            if name in _NODE_CLASSES:
                tables.append(_NODE_CLASSES[name])
            elif name in self.vocab.asset_types:
                tables.append("assets")
        return list(dict.fromkeys(tables))

    def check_properties(self, node: str, table: str) -> dict[str, str]:
        props: dict[str, str] = {}
        for p, values in self.index.nodes[node].items():
            key = prop_key(p)
            if key is not None:
                if not TABLES[table].has_props:
                    self.problem(node, _l("{property}: {table} have no extra properties", property=_short(p),
                                          table=table))
                elif key in TABLES[table].columns:
                    self.problem(node, _l("{property}: {key} is a field of {table}; use its ckg property",
                                          property=_short(p), key=repr(key), table=table))
                elif len(values) > 1:
                    self.problem(node, _l("{property} has {count} values; an extra property holds one",
                                          property=_short(p), count=len(values)))
                else:
                    props[key] = _lexical(values[0])
            elif p.startswith(_CKG) and p[len(_CKG):] not in _ALLOWED[table]:
                allowed = ", ".join(f"ckg:{name}" for name in sorted(_ALLOWED[table]))
                self.problem(node, _l("unknown property {property}: not one of the {table} properties; expected "
                                      "{allowed} or ckg:prop_KEY for an extra property",
                                      property=_short(p), table=table, allowed=allowed))
        return props

    # ------------------------------------------------------------------ tables
    def values(self, node: str, table: str) -> dict[str, object]:
        ckg = _CKG
        props = self.check_properties(node, table)
        v: dict[str, object] = {}
        if table in ("regions", "agencies", "assets", "hazard_zones"):
            v["id"] = self.literal(node, ckg + "id")
            v["name"] = self.name(node)
        if table == "regions":
            v["level"] = self.named(node, ckg + "level", self.vocab.level_name, _l("a ckg:level_* individual"))
            v["parent"] = self.ref(node, ckg + "partOf")
        elif table == "agencies":
            v["level"] = self.named(node, ckg + "level", self.vocab.level_name, _l("a ckg:level_* individual"))
            v["parent"] = self.ref(node, _SUB_ORG)
            v["jurisdiction"] = self.ref(node, ckg + "hasJurisdiction")
            v["crews"] = self.literal(node, ckg + "crews")
        elif table == "assets":
            types = [n for t in self.index.types(node) if (n := self.vocab.class_name(_lexical(t)))
                     in self.vocab.asset_types]
            v["type"] = types[0] if len(types) == 1 else None
            v["region"] = self.ref(node, ckg + "locatedIn")
            v["agency"] = self.ref(node, ckg + "operatedBy")
            v["lat"] = self.literal(node, ckg + "lat")
            v["lon"] = self.literal(node, ckg + "lon")
            if v["lat"] is None and v["lon"] is None:
                v["lat"], v["lon"] = self.point(node)
            v["population"] = self.literal(node, ckg + "population")
            v["repair_hours"] = self.literal(node, ckg + "repairHours")
        elif table == "hazard_zones":
            v["hazard"] = self.hazard(node, ckg + "ofHazard")
            v["annual_probability"] = self.literal(node, ckg + "annualProbability")
            v["region"] = self.ref(node, ckg + "locatedIn")
        elif table == "dependencies":
            v["dependent"] = self.ref(node, ckg + "dependent")
            v["provider"] = self.ref(node, ckg + "provider")
            v["kind"] = self.named(node, ckg + "kind", self.vocab.kind_name, _l("a ckg:kind_* individual"))
            v["group"] = self.literal(node, ckg + "group")
            v["buffer_hours"] = self.literal(node, ckg + "bufferHours")
        elif table == "exposures":
            v["asset"] = self.ref(node, ckg + "asset")
            v["zone"] = self.ref(node, ckg + "zone")
            v["intensity"] = self.literal(node, ckg + "intensity")
        else:
            v["hazard"] = self.hazard(node, ckg + "hazard")
            v["threshold"] = self.literal(node, ckg + "threshold")
            asset_type = self.one(node, ckg + "assetType")
            if asset_type is not None:
                v["type"] = self.vocab.class_name(_lexical(asset_type)) or _lexical(asset_type)
            v["asset"] = self.ref(node, ckg + "asset")
            v["beta"] = self.literal(node, ckg + "beta")
        values = {k: val for k, val in v.items() if val is not None}
        values.update(props)
        return values

    def point(self, node: str) -> tuple[str | None, str | None]:
        geometry = self.one(node, _HAS_GEOMETRY)
        wkt = self.one(geometry, _AS_WKT) if isinstance(geometry, str) else None
        m = _POINT.match(wkt.lexical) if isinstance(wkt, Lit) else None
        return (m.group(2), m.group(1)) if m else (None, None)

    def hazard(self, node: str, prop: str) -> str | None:
        target = self.one(node, prop)
        if target is None:
            return None
        names = {self.vocab.class_name(_lexical(t)) for t in self.index.types(target)}
        names.add(self.vocab.class_name(_lexical(target)))  # a hazard class used as the value itself
        found = sorted(n for n in names if n in self.vocab.hazard_types)
        if len(found) != 1:
            self.problem(node, _l("{property} <{target}> is not typed with exactly one hazard class such as ckg:Flood",
                                  property=_short(prop), target=_lexical(target)))
            return None
        return found[0]

    def direct_statements(self, described: dict[str, set[tuple[Obj, Obj]]]) -> None:
        """Every direct ckg:dependsOn / ckg:exposedTo must be described by its n-ary node."""
        for direct, table, what in ((_CKG + "dependsOn", "dependencies", "ckg:Dependency"),
                                    (_CKG + "exposedTo", "exposures", "ckg:Exposure")):
            for node, props in self.index.nodes.items():
                for target in props.get(direct, ()):
                    if (node, target) not in described[table]:
                        self.problem(node, _l("{property} <{target}> is not described by a {what} node (which gives "
                                              "its kind and the rest); add one",
                                              property=_short(direct), target=_lexical(target), what=what))


def _short(iri: str) -> str:
    for prefix, ns in (("ckg", str(CKG)), ("rdfs", str(RDFS)), ("geo", str(GEO)), ("org", str(ORG))):
        if iri.startswith(ns):
            return f"{prefix}:{iri[len(ns):]}"
    return f"<{iri}>"


def rows_from_index(index: Index, report: Report) -> Iterator[RawRow]:
    """The raw rows the data in ``index`` stands for, in load order; problems go to ``report``."""
    vocab = vocabulary()
    conv = _Converter(index, report, vocab)
    by_table: dict[str, list[str]] = defaultdict(list)
    for node in index.nodes:
        for table in conv.table_of(node):
            by_table[table].append(node)
    described: dict[str, set[tuple[Obj, Obj]]] = {"dependencies": set(), "exposures": set()}
    for table, first, second in (("dependencies", "dependent", "provider"), ("exposures", "asset", "zone")):
        for node in by_table[table]:
            for a in index.objects(node, _CKG + first):
                for b in index.objects(node, _CKG + second):
                    described[table].add((a, b))
    conv.direct_statements(described)
    for table in TABLES:
        # By the line of each node's first statement; nodes of one line stay in document order.
        nodes = sorted(by_table[table], key=lambda n: index.lines.get(n, 0))
        for node in nodes:
            yield RawRow(table, index.source, index.lines.get(node, 0), conv.values(node, table), node=node)
