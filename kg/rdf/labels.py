"""Names as language-tagged ``rdfs:label`` literals, and back: the one rule, both ways.

A name's language is told from its script, and only where that is safe:

* every letter Han (CJK ideographs): ``zh``;
* every letter Latin: ``en`` (English names of Chinese places write the proper
  name in pinyin, "Yuzhong District", as English-language sources do);
* a Latin part, one space, then a Han part ("Ba'nan 巴南区", the synthetic
  city's district names): two labels, the first ``en``, the second ``zh``;
* anything else (no letters, another script, the scripts interleaved, a Han
  part first): one label without a tag.

Digits, spaces and punctuation belong to no script. The split is undone by
joining the ``en`` and the ``zh`` label with one space, so every name reads
back exactly as it was written.

Examples
--------
>>> [(lit.lexical, lit.lang) for lit in name_labels("Ba'nan 巴南区")]
[("Ba'nan", 'en'), ('巴南区', 'zh')]
>>> [(lit.lexical, lit.lang) for lit in name_labels("渝中区1号变电站")]
[('渝中区1号变电站', 'zh')]
>>> [(lit.lexical, lit.lang) for lit in name_labels("12-B")]
[('12-B', 'en')]
>>> [(lit.lexical, lit.lang) for lit in name_labels("巴南区 Ba'nan")]
[("巴南区 Ba'nan", None)]
>>> name_from_labels(name_labels("Ba'nan 巴南区"))
"Ba'nan 巴南区"
"""

from __future__ import annotations

import unicodedata
from collections.abc import Sequence
from functools import lru_cache

from kg.i18n import Message, _l
from kg.rdf.terms import Lit

__all__ = ["LabelError", "name_from_labels", "name_labels"]

_LATIN, _HAN, _OTHER = "en", "zh", "?"


class LabelError(ValueError):
    """The labels of one node do not make one name; :attr:`message` says why, in the reader's language."""

    def __init__(self, message: Message) -> None:
        super().__init__(message)
        self.message = message


@lru_cache(maxsize=4096)
def _script(char: str) -> str | None:
    """``en`` for a Latin letter, ``zh`` for a Han ideograph, ``?`` for another letter, None for the rest."""
    if not unicodedata.category(char).startswith("L"):
        return None
    name = unicodedata.name(char, "")
    if name.startswith("LATIN "):
        return _LATIN
    if name.startswith(("CJK UNIFIED IDEOGRAPH", "CJK COMPATIBILITY IDEOGRAPH")):
        return _HAN
    return _OTHER


def _scripts(text: str) -> set[str]:
    return {s for s in map(_script, text) if s is not None}


def name_labels(name: str) -> list[Lit]:
    """The ``rdfs:label`` literals of a name (see the module docstring for the rule)."""
    scripts = _scripts(name)
    if scripts == {_LATIN} or scripts == {_HAN}:
        return [Lit(name, lang=scripts.pop())]
    if scripts == {_LATIN, _HAN}:
        for cut in (i for i, c in enumerate(name) if c == " "):
            latin, han = name[:cut], name[cut + 1:]
            if _scripts(latin) == {_LATIN} and _scripts(han) == {_HAN}:
                return [Lit(latin, lang=_LATIN), Lit(han, lang=_HAN)]
    return [Lit(name)]


def name_from_labels(labels: Sequence[Lit]) -> str | None:
    """The name that ``labels`` stand for: the one label's text, or ``en`` + space + ``zh`` for two.

    Raises
    ------
    LabelError
        More than two labels, or two that are not one ``en`` and one ``zh``.
    """
    if not labels:
        return None
    if len(labels) == 1:
        return labels[0].lexical
    by_language = {(label.lang or "").lower().split("-")[0]: label.lexical for label in labels}
    if len(labels) == 2 and by_language.keys() == {_LATIN, _HAN}:
        return f"{by_language[_LATIN]} {by_language[_HAN]}"
    tags = ", ".join(repr(label.lang or "none") for label in labels)
    raise LabelError(_l("rdfs:label has {count} values (languages {tags}); expected one name, or its Latin and Han "
                        "parts tagged en and zh", count=len(labels), tags=tags))
