"""The ontology's terms as the RDF code needs them: IRIs by name and names by IRI.

Everything here is read from ``citykg.ttl`` through :func:`kg.ontology.load_ontology`;
no class, level or service kind is spelled in code.

Examples
--------
>>> v = vocabulary()
>>> v.level_iri["city"]
'https://w3id.org/citykg#level_city'
>>> v.kind_name[v.kind_iri["power"]]
'power'
>>> v.class_name(v.class_iri("Substation"))
'Substation'
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache

from rdflib import Literal, URIRef

from kg.namespaces import CKG, RDF, SKOS
from kg.ontology import load_ontology

__all__ = ["Vocabulary", "vocabulary"]


def _notations(kind: URIRef) -> dict[str, str]:
    graph = load_ontology().graph
    found: dict[str, str] = {}
    for node in graph.subjects(RDF.type, kind):
        notation = graph.value(node, SKOS.notation)
        if isinstance(node, URIRef) and isinstance(notation, Literal):
            found[str(notation)] = str(node)
    return found


@dataclass(frozen=True)
class Vocabulary:
    """IRIs of region levels, service kinds and classes, both ways."""

    level_iri: dict[str, str]
    """Level name (``city``) to the IRI of its ckg:RegionLevel individual."""
    level_name: dict[str, str]
    kind_iri: dict[str, str]
    """Service kind name (``power``) to the IRI of its ckg:ServiceKind individual."""
    kind_name: dict[str, str]
    classes: frozenset[str]
    """Local names of every ckg class."""
    asset_types: frozenset[str]
    hazard_types: frozenset[str]

    def class_iri(self, name: str) -> str:
        """IRI of the ckg class ``name``."""
        return str(CKG) + name

    def class_name(self, iri: str) -> str | None:
        """Local name of a ckg class IRI, or None when the IRI is not a ckg class."""
        prefix = str(CKG)
        if iri.startswith(prefix) and iri[len(prefix):] in self.classes:
            return iri[len(prefix):]
        return None


@cache
def vocabulary() -> Vocabulary:
    """The vocabulary of the shipped ontology (built once per process)."""
    onto = load_ontology()
    levels = _notations(CKG.RegionLevel)
    kinds = _notations(CKG.ServiceKind)
    return Vocabulary(
        level_iri=levels,
        level_name={iri: name for name, iri in levels.items()},
        kind_iri=kinds,
        kind_name={iri: name for name, iri in kinds.items()},
        classes=frozenset(onto.classes),
        asset_types=onto.asset_types,
        hazard_types=onto.hazard_types,
    )
