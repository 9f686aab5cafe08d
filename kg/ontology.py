"""The CityKG ontology, loaded once from the package's ``citykg.ttl``.

This module is the only place code learns class names, the class hierarchy,
relation names (property graph and RDF), region levels, service kinds, and how
views show them: key facilities, map symbols, sector and hazard colours (the
``ckg:`` annotations of the ontology's "views" section).

Examples
--------
>>> onto = load_ontology()
>>> onto.ancestors("Substation")
('Element', 'Asset', 'PowerAsset', 'Substation')
>>> onto.rel("dependsOn")
'DEPENDS_ON'
>>> onto.levels[:2]
('city', 'district')
>>> onto.key_types[:3]
('PowerPlant', 'Substation', 'Hospital')
>>> onto.classes["PowerAsset"].colour, onto.short_label("PowerAsset")
('#f6c445', 'Power')
>>> onto.kind_label("water", "zh"), onto.level_label("district", "zh")
('供水', '区县')
"""

from __future__ import annotations

import difflib
from collections.abc import Iterable
from dataclasses import dataclass
from functools import cache, cached_property
from importlib import resources

from rdflib import Graph, Literal, URIRef
from rdflib.term import Node

from kg.i18n import Message, _l
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
    """One OWL class: its local name, direct superclass within ckg, labels, definition and view annotations.

    The view annotations are ``None`` where the ontology gives none.

    Attributes
    ----------
    short_label_en, short_label_zh
        ``ckg:shortLabel``: a name for legends and table headings (sectors).
    column_label
        ``ckg:columnLabel`` (English): a heading of at most seven characters for a narrow column (sectors).
    colour, print_colour
        ``ckg:colour`` (#rrggbb on the page's dark background; sectors and hazards) and
        ``ckg:printColour`` (on white paper; sectors).
    symbol
        ``ckg:symbol``: the shape drawn for assets of the class (circle, square, star, ...).
    key_rank
        ``ckg:keyRank``: set on key facilities only; 1 is offered first.
    map_zoom
        ``ckg:mapZoom``: the map zoom (1 = the whole city) from which the class is drawn as a symbol.
    display_order
        ``ckg:displayOrder``: where a sector comes in tables listing every sector.
    """

    name: str
    parent: str | None
    label_en: str
    label_zh: str
    definition: str
    short_label_en: str | None = None
    short_label_zh: str | None = None
    column_label: str | None = None
    colour: str | None = None
    print_colour: str | None = None
    symbol: str | None = None
    key_rank: int | None = None
    map_zoom: float | None = None
    display_order: int | None = None


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


def _label(graph: Graph, node: URIRef, lang: str, prop: URIRef = RDFS.label) -> str:
    for value in graph.objects(node, prop):
        if isinstance(value, Literal) and value.language == lang:
            return str(value)
    return ""


def _labels(graph: Graph, node: Node) -> dict[str, str]:
    """The English and Chinese ``rdfs:label`` of ``node``, by language (``en``, ``zh``)."""
    assert isinstance(node, URIRef)
    return {lang: _label(graph, node, lang) for lang in ("en", "zh")}


def _text(graph: Graph, node: Node, prop: URIRef) -> str | None:
    value = graph.value(node, prop)
    return None if value is None else str(value)


def _number(graph: Graph, node: Node, prop: URIRef) -> float | None:
    value = graph.value(node, prop)
    return None if value is None else float(str(value))


def _int(graph: Graph, node: Node, prop: URIRef) -> int | None:
    value = graph.value(node, prop)
    return None if value is None else int(str(value))


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
                short_label_en=_label(graph, cls, "en", CKG.shortLabel) or None,
                short_label_zh=_label(graph, cls, "zh", CKG.shortLabel) or None,
                column_label=_label(graph, cls, "en", CKG.columnLabel) or None,
                colour=_text(graph, cls, CKG.colour),
                print_colour=_text(graph, cls, CKG.printColour),
                symbol=_text(graph, cls, CKG.symbol),
                key_rank=_int(graph, cls, CKG.keyRank),
                map_zoom=_number(graph, cls, CKG.mapZoom),
                display_order=_int(graph, cls, CKG.displayOrder),
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
        kinds = {str(graph.value(k, SKOS.notation)): k for k in graph.subjects(RDF.type, CKG.ServiceKind)}
        self.service_kinds: tuple[str, ...] = tuple(sorted(kinds))
        # ckg:colour of each service kind that has one: the colour its dependencies are drawn in.
        self.kind_colours: dict[str, str] = {
            name: colour for name in self.service_kinds if (colour := _text(graph, kinds[name], CKG.colour)) is not None
        }
        # rdfs:label of each service kind and region level, by language: what a view calls them.
        levels = {str(graph.value(lv, SKOS.notation)): lv for lv in graph.subjects(RDF.type, CKG.RegionLevel)}
        self._kind_labels = {name: _labels(graph, node) for name, node in kinds.items()}
        self._level_labels = {name: _labels(graph, node) for name, node in levels.items()}

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

    @cached_property
    def key_types(self) -> tuple[str, ...]:
        """The key facility classes (``ckg:keyRank``), rank 1 first."""
        ranked = sorted((c.key_rank, n) for n, c in self.classes.items() if c.key_rank is not None)
        return tuple(n for _, n in ranked)

    @cached_property
    def sectors(self) -> tuple[str, ...]:
        """The sector classes (just below ``Asset``), in ``ckg:displayOrder`` (unordered ones last, by name)."""
        below = [c for c in self.classes.values() if c.parent == "Asset"]
        return tuple(c.name for c in sorted(below, key=lambda c: (c.display_order is None, c.display_order or 0,
                                                                     c.name)))

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

    def short_label(self, name: str, lang: str = "en") -> str:
        """``ckg:shortLabel`` of a class (``Power`` for ``PowerAsset``), else its label."""
        info = self.classes[name]
        return (info.short_label_zh if lang == "zh" else info.short_label_en) or self.label(name, lang)

    def kind_label(self, kind: str, lang: str = "en") -> str:
        """Label of a service kind (``power``) in English (``en``) or Chinese (``zh``); else the kind itself."""
        return self._kind_labels.get(kind, {}).get(lang) or kind

    def level_label(self, level: str, lang: str = "en") -> str:
        """Label of a region level (``district``) in English (``en``) or Chinese (``zh``); else the level itself."""
        return self._level_labels.get(level, {}).get(lang) or level

    def named(self, text: str, among: Iterable[str]) -> str | None:
        """The class of ``among`` that ``text`` names: its name, or its English or Chinese label.

        English labels match whatever their case; bundles written by people may
        say ``变电站`` or ``power plant`` where a program writes ``Substation``.

        Examples
        --------
        >>> onto = load_ontology()
        >>> onto.named("变电站", onto.asset_types), onto.named("power plant", onto.asset_types)
        ('Substation', 'PowerPlant')
        """
        name = text if text in self.classes else self._class_by_label.get(text.strip().casefold())
        return name if name is not None and name in among else None

    @cached_property
    def _class_by_label(self) -> dict[str, str]:
        """Every class's English (case-folded) and Chinese label -> the class (labels name one class each)."""
        return {label.casefold(): name for name, info in self.classes.items()
                for label in (info.label_en, info.label_zh) if label}

    def kind_named(self, text: str) -> str | None:
        """The service kind ``text`` names: the kind itself or its English or Chinese label (``电力`` -> power)."""
        return _find_label(text, self.service_kinds, self._kind_labels)

    def level_named(self, text: str) -> str | None:
        """The region level ``text`` names: the level itself or its English or Chinese label (``区县`` -> district)."""
        return _find_label(text, self.levels, self._level_labels)

    def classes_matching(self, term: str, ancestor: str = "Asset") -> tuple[str, ...]:
        """Classes strictly under ``ancestor`` whose name or label (English or Chinese, long or short) holds ``term``.

        With their subclasses, sorted: ``电力`` gives every power asset class, ``变电`` gives Substation.
        English matches ignore case.

        Examples
        --------
        >>> load_ontology().classes_matching("医院")
        ('Hospital',)
        """
        needle = term.casefold()
        if not needle:
            return ()
        hits: set[str] = set()
        for name in self.subclasses(ancestor):
            if name == ancestor:  # "asset" should not mean everything through the root's own label
                continue
            info = self.classes[name]
            texts = (name, info.label_en, info.label_zh, info.short_label_en or "", info.short_label_zh or "")
            if any(needle in t.casefold() for t in texts):
                hits.update(self.subclasses(name))
        return tuple(sorted(hits))

    def column_label(self, name: str) -> str:
        """``ckg:columnLabel`` of a class (``transp.`` for ``TransportAsset``), else its short label in lower case."""
        return self.classes[name].column_label or self.short_label(name).lower()

    # ------------------------------------------------------------------ restoration
    @cached_property
    def repair_hours(self) -> dict[str, float]:
        """``ckg:defaultRepairHours`` as stated on classes (not inherited), by class name."""
        return {_local(cls): float(str(value)) for cls, value in self.graph.subject_objects(CKG.defaultRepairHours)
                if str(cls).startswith(str(CKG))}

    def default_repair_hours(self, asset_type: str) -> float:
        """Hours to repair an asset of ``asset_type``: its class's value, else its nearest ancestor's.

        Examples
        --------
        >>> onto = load_ontology()
        >>> onto.default_repair_hours("Substation") == onto.repair_hours["PowerAsset"]
        True
        """
        for name in reversed(self.ancestors(asset_type)):
            if name in self.repair_hours:
                return self.repair_hours[name]
        raise KeyError(f"no ckg:defaultRepairHours on {asset_type} or any of its ancestors")


def _find_label(text: str, names: tuple[str, ...], labels: dict[str, dict[str, str]]) -> str | None:
    if text in names:
        return text
    wanted = text.strip().casefold()
    return next((n for n in names if wanted in {v.casefold() for v in labels.get(n, {}).values() if v}), None)


def did_you_mean(value: str, choices: object) -> Message | str:
    """A ``did you mean 'X'?`` hint for a mistyped ``value`` (said in the reader's language), or an empty string."""
    names = [str(c) for c in choices]  # type: ignore[attr-defined]
    by_lower = {n.lower(): n for n in names}
    if value.lower() in by_lower:
        return _l("did you mean {id}?", id=repr(by_lower[value.lower()]))
    close = difflib.get_close_matches(value, names, n=1, cutoff=0.6)
    return _l("did you mean {id}?", id=repr(close[0])) if close else ""


@cache
def load_ontology() -> Ontology:
    """Parse the shipped ontology once per process."""
    graph = Graph()
    graph.parse(ontology_path(), format="turtle")
    return Ontology(graph)
