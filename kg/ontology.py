"""The CityKG ontology, loaded once from the package's ``citykg.ttl``.

This module is the only place code learns class names, the class hierarchy,
relation names (property graph and RDF), region levels and service kinds.

Examples
--------
>>> onto = load_ontology()
>>> onto.ancestors("Substation")
('Element', 'Asset', 'PowerAsset', 'Substation')
>>> onto.rel("dependsOn")
'DEPENDS_ON'
>>> onto.levels[:2]
('city', 'district')
"""

from __future__ import annotations

import difflib
from dataclasses import dataclass
from functools import cache, cached_property
from importlib import resources

from rdflib import Graph, Literal, URIRef

from kg.namespaces import CKG, OWL, RDF, RDFS, SKOS

__all__ = ["ClassInfo", "Ontology", "RelationInfo", "load_ontology", "ontology_path", "shapes_path"]

_DATA = "ontology_data"


def ontology_path(name: str = "citykg.ttl") -> str:
    """Filesystem path of a file shipped in the package's ontology folder."""
    return str(resources.files("kg") / _DATA / name)


def shapes_path() -> str:
    """Filesystem path of the SHACL shapes (``shapes.ttl``)."""
    return ontology_path("shapes.ttl")


@dataclass(frozen=True, slots=True)
class ClassInfo:
    """One OWL class: its local name, direct superclass within ckg, labels and definition."""

    name: str
    parent: str | None
    label_en: str
    label_zh: str
    definition: str


@dataclass(frozen=True, slots=True)
class RelationInfo:
    """One object property that is also a property-graph relationship."""

    prop: str
    graph_name: str
    domain: str
    range: str
    label_en: str
    label_zh: str
    definition: str


def _local(iri: object) -> str:
    text = str(iri)
    return text[len(str(CKG)) :] if text.startswith(str(CKG)) else text


def _label(graph: Graph, node: URIRef, lang: str) -> str:
    for value in graph.objects(node, RDFS.label):
        if isinstance(value, Literal) and value.language == lang:
            return str(value)
    return ""


class Ontology:
    """Read-only view of the ontology graph with the look-ups code needs."""

    def __init__(self, graph: Graph) -> None:
        self.graph = graph
        classes: dict[str, ClassInfo] = {}
        for cls in graph.subjects(RDF.type, OWL.Class):
            if not isinstance(cls, URIRef) or not str(cls).startswith(str(CKG)):
                continue
            parents = [
                _local(p) for p in graph.objects(cls, RDFS.subClassOf) if str(p).startswith(str(CKG))
            ]
            classes[_local(cls)] = ClassInfo(
                name=_local(cls),
                parent=parents[0] if parents else None,
                label_en=_label(graph, cls, "en"),
                label_zh=_label(graph, cls, "zh"),
                definition=str(graph.value(cls, SKOS.definition) or ""),
            )
        self.classes = dict(sorted(classes.items()))
        relations: dict[str, RelationInfo] = {}
        for prop, name in graph.subject_objects(CKG.graphName):
            assert isinstance(prop, URIRef)
            relations[_local(prop)] = RelationInfo(
                prop=_local(prop),
                graph_name=str(name),
                domain=_local(graph.value(prop, RDFS.domain)),
                range=_local(graph.value(prop, RDFS.range)),
                label_en=_label(graph, prop, "en"),
                label_zh=_label(graph, prop, "zh"),
                definition=str(graph.value(prop, SKOS.definition) or ""),
            )
        self.relations = dict(sorted(relations.items()))
        ranked = [
            (int(str(graph.value(level, CKG.levelRank))), str(graph.value(level, SKOS.notation)))
            for level in graph.subjects(RDF.type, CKG.RegionLevel)
        ]
        self.levels: tuple[str, ...] = tuple(name for _, name in sorted(ranked))
        self.service_kinds: tuple[str, ...] = tuple(
            sorted(str(graph.value(k, SKOS.notation)) for k in graph.subjects(RDF.type, CKG.ServiceKind))
        )

    def ancestors(self, name: str) -> tuple[str, ...]:
        """The class chain from the root down to ``name`` (inclusive)."""
        chain: list[str] = []
        current: str | None = name
        while current is not None:
            chain.append(current)
            current = self.classes[current].parent
        return tuple(reversed(chain))

    def is_a(self, name: str, ancestor: str) -> bool:
        """True when ``name`` is ``ancestor`` or one of its subclasses."""
        return name in self.classes and ancestor in self.ancestors(name)

    def subclasses(self, ancestor: str) -> tuple[str, ...]:
        """Every class that is ``ancestor`` or below it, sorted by name."""
        return tuple(n for n in self.classes if self.is_a(n, ancestor))

    @cached_property
    def asset_types(self) -> frozenset[str]:
        """Every class a row of ``assets.csv`` may name as its type."""
        return frozenset(self.subclasses("Asset"))

    @cached_property
    def hazard_types(self) -> frozenset[str]:
        """Every hazard class (Flood, Landslide, ...), excluding the root ``Hazard``."""
        return frozenset(self.subclasses("Hazard")) - {"Hazard"}

    def sector(self, asset_type: str) -> str:
        """The sector class of an asset type: the class just below ``Asset`` on its chain."""
        chain = self.ancestors(asset_type)
        return chain[2] if len(chain) > 2 else chain[-1]

    def level_rank(self, level: str) -> int:
        """1 for the city, growing downwards."""
        return self.levels.index(level) + 1

    def rel(self, prop: str) -> str:
        """Property-graph relationship type of the ckg property ``prop`` (e.g. DEPENDS_ON)."""
        return self.relations[prop].graph_name

    def label(self, name: str, lang: str = "en") -> str:
        """Human label of a class in English (``en``) or Chinese (``zh``)."""
        info = self.classes[name]
        return (info.label_zh if lang == "zh" else info.label_en) or name


def did_you_mean(value: str, choices: object) -> str:
    """A ``did you mean 'X'?`` hint for a mistyped ``value``, or an empty string."""
    names = [str(c) for c in choices]  # type: ignore[attr-defined]
    by_lower = {n.lower(): n for n in names}
    if value.lower() in by_lower:
        return f"did you mean {by_lower[value.lower()]!r}?"
    close = difflib.get_close_matches(value, names, n=1, cutoff=0.6)
    return f"did you mean {close[0]!r}?" if close else ""


@cache
def load_ontology() -> Ontology:
    """Parse the shipped ontology once per process."""
    graph = Graph()
    graph.parse(ontology_path(), format="turtle")
    return Ontology(graph)
