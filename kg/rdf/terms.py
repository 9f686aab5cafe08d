"""The IRI scheme of exported instance data, and the lexical forms of its literals.

Every element gets ``BASE + percent-encoded id`` (``BASE`` is
:func:`kg.namespaces.base_namespace`). Percent-encoding keeps only the RFC 3986
unreserved characters, so an element IRI never contains ``/`` and cannot clash
with the IRIs minted below it for n-ary and helper nodes:

=================  =======================================================
``BASE{id}``         a region, agency, asset or hazard zone
``BASE geometry/{id}``  the GeoSPARQL geometry of an asset
``BASE hazard/{Class}`` the hazard individual of a hazard class (ckg:Flood)
``BASE dependency/{h}`` a ckg:Dependency, ``h`` = hash of (dependent, provider, kind, group)
``BASE exposure/{h}``   a ckg:Exposure, ``h`` = hash of (asset, zone)
``BASE fragility/{h}``  a ckg:Fragility, ``h`` = hash of (hazard, type, asset)
``BASE graph/{name}``   a named graph of the SPARQL dataset (``ontology``)
=================  =======================================================

The hashes are the first 128 bits of SHA-256 over the key as a JSON array, so
exporting the same data twice gives the same IRIs.

Examples
--------
>>> scheme = IriScheme("https://data.example/id/")
>>> scheme.element("yuzhong/s 01")
'https://data.example/id/yuzhong%2Fs%2001'
>>> scheme.dependency("H1", "S1", "power", "power") == scheme.dependency("H1", "S1", "power", "power")
True
>>> double(29.5), decimal(1e-07), decimal(4.0)
('29.5', '0.0000001', '4.0')
"""

from __future__ import annotations

import hashlib
import json
import re
from dataclasses import dataclass
from decimal import Decimal
from urllib.parse import quote, unquote, urljoin

from kg.errors import Problem, ValidationError
from kg.namespaces import CKG, XSD, base_namespace

__all__ = [
    "PROP_PREFIX",
    "IriScheme",
    "Lit",
    "Obj",
    "decimal",
    "double",
    "encode",
    "integer",
    "prop_iri",
    "prop_key",
    "resolve_iri",
    "scheme",
]

PROP_PREFIX = str(CKG) + "prop_"
"""Extra (``props``) columns become ``ckg:prop_KEY`` with ``KEY`` percent-encoded."""

XSD_STRING = str(XSD.string)
XSD_DOUBLE = str(XSD.double)
XSD_DECIMAL = str(XSD.decimal)
XSD_INTEGER = str(XSD.integer)

# Characters an IRI reference may not contain in Turtle/N-Triples (<...>) or that would
# make the base unusable as a prefix: controls, space and <>"{}|^`\ .
_BAD_IRI_CHAR = re.compile(r'[\x00-\x20<>"{}|^`\\]')
_UNRESERVED = re.compile(r"[A-Za-z0-9_.~-]+")


@dataclass(frozen=True, slots=True)
class Lit:
    """A literal: its lexical form, datatype IRI (None for xsd:string) and language tag."""

    lexical: str
    datatype: str | None = None
    lang: str | None = None


Obj = str | Lit
"""An object of a triple: an IRI (a plain ``str``) or a :class:`Lit`."""


def encode(text: str) -> str:
    """Percent-encode ``text`` for use as one IRI path segment (UTF-8, unreserved kept)."""
    # Most ids need no escaping; the regex is much cheaper than quote().
    return text if _UNRESERVED.fullmatch(text) else quote(text, safe="")


def _digest(*key: str | None) -> str:
    data = json.dumps(list(key), ensure_ascii=False, separators=(",", ":")).encode("utf-8")
    return hashlib.sha256(data).hexdigest()[:32]


class IriScheme:
    """Mints the IRIs of instance data under one base IRI.

    Parameters
    ----------
    base
        The base IRI; it must end with ``/`` or ``#`` and contain no character
        that is illegal in an IRI.
    """

    def __init__(self, base: str) -> None:
        if not re.match(r"^[A-Za-z][A-Za-z0-9+.-]*:", base) or _BAD_IRI_CHAR.search(base) \
                or not base.endswith(("/", "#")):
            raise ValidationError([Problem("KG_BASE_IRI", f"base IRI {base!r} is not usable; expected an "
                                           "absolute IRI ending with '/' or '#', such as "
                                           "https://data.example.org/id/")])
        self.base = base
        self._geometry = base + "geometry/"
        self._hazard = base + "hazard/"

    def namespaces(self) -> list[tuple[str, str]]:
        """``(prefix, namespace)`` for the base and each kind of minted node, for Turtle prefixes."""
        return [("id", self.base), ("geometry", self._geometry), ("hazard", self._hazard),
                ("dependency", self.base + "dependency/"), ("exposure", self.base + "exposure/"),
                ("fragility", self.base + "fragility/")]

    def element(self, element_id: str) -> str:
        """IRI of a region, agency, asset or hazard zone."""
        return self.base + encode(element_id)

    def geometry(self, element_id: str) -> str:
        """IRI of an element's point geometry."""
        return self._geometry + encode(element_id)

    def hazard(self, hazard_class: str) -> str:
        """IRI of the individual standing for a hazard class (``Flood`` -> ``BASE hazard/Flood``)."""
        return self._hazard + encode(hazard_class)

    def dependency(self, dependent: str, provider: str, kind: str, group: str) -> str:
        """IRI of the n-ary node of one dependency (stable: a hash of its key)."""
        return f"{self.base}dependency/{_digest(dependent, provider, kind, group)}"

    def exposure(self, asset: str, zone: str) -> str:
        """IRI of the n-ary node of one exposure."""
        return f"{self.base}exposure/{_digest(asset, zone)}"

    def graph(self, name: str) -> str:
        """IRI of a named graph of the SPARQL dataset (``ontology``; ``status`` is reserved for live events)."""
        return f"{self.base}graph/{encode(name)}"

    def fragility(self, hazard: str, asset_type: str | None, asset: str | None) -> str:
        """IRI of the node of one fragility."""
        return f"{self.base}fragility/{_digest(hazard, asset_type, asset)}"


def scheme() -> IriScheme:
    """The scheme for the configured base IRI (``KG_BASE_IRI`` or the default)."""
    return IriScheme(str(base_namespace()))


def prop_iri(key: str) -> str:
    """The predicate IRI of an extra property ``key``."""
    return PROP_PREFIX + encode(key)


def prop_key(iri: str) -> str | None:
    """The extra property key of a ``ckg:prop_KEY`` predicate, or None for any other IRI."""
    if not iri.startswith(PROP_PREFIX) or len(iri) == len(PROP_PREFIX):
        return None
    return unquote(iri[len(PROP_PREFIX):], errors="strict")


def double(value: float) -> str:
    """Lexical form of an ``xsd:double`` that reads back as exactly ``value``."""
    return repr(float(value))


def decimal(value: float) -> str:
    """Lexical form of an ``xsd:decimal`` (no exponent) that reads back as exactly ``value``."""
    text = format(Decimal(repr(float(value))), "f")
    return text if "." in text else text + ".0"


def integer(value: int) -> str:
    """Lexical form of an ``xsd:integer``."""
    return str(int(value))


_SCHEME = re.compile(r"[A-Za-z][A-Za-z0-9+.-]*:")


def resolve_iri(base: str, iri: str) -> str:
    """``iri`` made absolute against ``base`` (an absolute IRI is kept exactly, empty fragment and all)."""
    if _SCHEME.match(iri) or not base:
        return iri
    joined = urljoin(base, iri)
    return joined + "#" if iri.endswith("#") and not joined.endswith("#") else joined
