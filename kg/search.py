"""What a search text means: the rule both stores follow, so they find the same assets.

A search text is split at white space into **terms**; an asset matches when
every term matches it. A term matches an asset when it is found in

* the asset's id, its ``name`` or its ``name_zh`` (the Chinese name, an
  optional column);
* its type's name or label, in English or Chinese, long or short: ``变电站``
  finds substations, ``电力`` or ``power`` every power asset (subclasses count);
* the name (``name`` or ``name_zh``) of a region it lies in, at any level
  above it too, or that region's exact id: ``渝中`` and ``Yuzhong`` find the
  assets of Yuzhong district;
* the name of its agency, or the agency's exact id.

"Found in" is a substring test; English letters match whatever their case
(SQLite's ``LIKE`` and Java's ``(?i)`` both fold ASCII only; Chinese has no
case). So ``渝中 医院`` finds the hospitals of Yuzhong.

Examples
--------
>>> [(t.text, t.types) for t in search_terms("渝中  医院")]
[('渝中', ()), ('医院', ('Hospital',))]
"""

from __future__ import annotations

from dataclasses import dataclass

from kg.model import NAME_ZH
from kg.ontology import load_ontology

__all__ = ["NAME_ZH", "SearchTerm", "search_terms"]


@dataclass(frozen=True, slots=True)
class SearchTerm:
    """One word of a search text and the asset classes whose names or labels hold it."""

    text: str
    types: tuple[str, ...]


def search_terms(q: str | None) -> list[SearchTerm]:
    """The terms of a search text (none for an empty or blank text), with the classes each one names."""
    onto = load_ontology()
    return [SearchTerm(word, onto.classes_matching(word)) for word in (q or "").split()]
