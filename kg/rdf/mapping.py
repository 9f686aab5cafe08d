"""Store rows to RDF: one :class:`Block` (a subject with its types and statements) at a time.

The mapping (docs/rdf.md has the full table):

* names: ``rdfs:label``, language-tagged by :func:`kg.rdf.labels.name_labels`;
* regions: ``ckg:Region``, ``ckg:id``, ``rdfs:label``, ``ckg:level`` (a ``ckg:level_*``
  individual), ``ckg:partOf``;
* agencies: ``ckg:Agency`` and ``org:Organization``, ``ckg:level``,
  ``org:subOrganizationOf``, ``ckg:hasJurisdiction``, ``ckg:crews``;
* assets: their ontology class, ``ckg:locatedIn``, ``ckg:operatedBy``, ``ckg:lat``,
  ``ckg:lon``, ``ckg:population``, ``ckg:repairHours`` and a GeoSPARQL ``geo:hasGeometry`` point;
* hazard zones: ``ckg:HazardZone``, ``ckg:ofHazard`` (a hazard individual),
  ``ckg:annualProbability``, ``ckg:locatedIn``;
* dependencies: a direct ``ckg:dependsOn`` and an n-ary ``ckg:Dependency`` node;
* exposures: a direct ``ckg:exposedTo`` and an n-ary ``ckg:Exposure`` node;
* fragilities: ``ckg:Fragility`` nodes;
* extra columns (``props``): ``ckg:prop_KEY`` string literals (``name_zh``, the Chinese name, tagged ``@zh``).

Rows are tuples read by column name through :mod:`kg.schema`.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field

from kg.namespaces import CKG, GEO, ORG, RDFS
from kg.rdf.labels import name_labels
from kg.rdf.terms import XSD_DECIMAL, XSD_DOUBLE, XSD_INTEGER, IriScheme, Lit, Obj, decimal, double, prop_iri
from kg.rdf.vocab import Vocabulary
from kg.schema import TABLES, Row
from kg.search import NAME_ZH

__all__ = ["Block", "RowMapper"]

_ID, _LABEL = str(CKG.id), str(RDFS.label)
_LEVEL, _PART_OF, _LOCATED_IN = str(CKG.level), str(CKG.partOf), str(CKG.locatedIn)
_SUB_ORG, _JURISDICTION, _OPERATED_BY = str(ORG.subOrganizationOf), str(CKG.hasJurisdiction), str(CKG.operatedBy)
_LAT, _LON, _POPULATION = str(CKG.lat), str(CKG.lon), str(CKG.population)
_REPAIR_HOURS, _CREWS = str(CKG.repairHours), str(CKG.crews)
_HAS_GEOMETRY, _AS_WKT, _WKT = str(GEO.hasGeometry), str(GEO.asWKT), str(GEO.wktLiteral)
_OF_HAZARD, _PROBABILITY = str(CKG.ofHazard), str(CKG.annualProbability)
_DEPENDS_ON, _DEPENDENT, _PROVIDER = str(CKG.dependsOn), str(CKG.dependent), str(CKG.provider)
_KIND, _GROUP, _BUFFER = str(CKG.kind), str(CKG.group), str(CKG.bufferHours)
_EXPOSED_TO, _ASSET, _ZONE, _INTENSITY = str(CKG.exposedTo), str(CKG.asset), str(CKG.zone), str(CKG.intensity)
_HAZARD, _THRESHOLD, _BETA, _ASSET_TYPE = str(CKG.hazard), str(CKG.threshold), str(CKG.beta), str(CKG.assetType)


@dataclass(slots=True)
class Block:
    """One subject, its rdf:types and its other statements (predicate IRI, object)."""

    subject: str
    types: list[str]
    pairs: list[tuple[str, Obj]] = field(default_factory=list)

    @property
    def triples(self) -> int:
        """Number of triples the block stands for."""
        return len(self.types) + len(self.pairs)


def _labels(pairs: list[tuple[str, Obj]], name: str | None) -> None:
    if name is not None:
        pairs.extend((_LABEL, label) for label in name_labels(name))


def _props(pairs: list[tuple[str, Obj]], props: dict[str, str] | None) -> None:
    if props:
        for key in sorted(props):
            # The Chinese name says its language; reading drops the tag, so it loads back as it was.
            pairs.append((prop_iri(key), Lit(str(props[key]), lang="zh" if key == NAME_ZH else None)))


class RowMapper:
    """Turns store rows into blocks, minting IRIs with one :class:`IriScheme`.

    Parameters
    ----------
    scheme
        The IRI scheme (base IRI) of the export.
    vocab
        The ontology's vocabulary.
    """

    def __init__(self, scheme: IriScheme, vocab: Vocabulary) -> None:
        self.iri = scheme
        self.vocab = vocab
        self._region = vocab.class_iri("Region")
        self._agency = [vocab.class_iri("Agency"), str(ORG.Organization)]
        self._zone = vocab.class_iri("HazardZone")
        self._dependency = [vocab.class_iri("Dependency")]
        self._exposure = [vocab.class_iri("Exposure")]
        self._fragility = [vocab.class_iri("Fragility")]
        self._geometry = [str(GEO.Geometry)]
        self._hazards_seen: set[str] = set()
        # Each row's columns in the order the methods below unpack them.
        self._columns = {
            "regions": TABLES["regions"].getter("id", "level", "name", "parent", "props"),
            "agencies": TABLES["agencies"].getter("id", "name", "level", "parent", "jurisdiction", "crews", "props"),
            "assets": TABLES["assets"].getter("id", "type", "name", "region", "agency", "lat", "lon", "population",
                                              "repair_hours", "props"),
            "hazard_zones": TABLES["hazard_zones"].getter("id", "hazard", "name", "annual_probability", "region",
                                                          "props"),
            "dependencies": TABLES["dependencies"].getter("dependent", "provider", "kind", "group", "buffer_hours"),
            "exposures": TABLES["exposures"].getter("asset", "zone", "intensity"),
            "fragilities": TABLES["fragilities"].getter("hazard", "threshold", "type", "asset", "beta"),
        }

    # ------------------------------------------------------------------ nodes
    def region(self, row: Row) -> Block:
        """A ``regions`` row."""
        rid, level, name, parent, props = self._columns["regions"](row)
        pairs: list[tuple[str, Obj]] = [(_ID, Lit(rid)), (_LEVEL, self.vocab.level_iri[level])]
        _labels(pairs, name)
        if parent is not None:
            pairs.append((_PART_OF, self.iri.element(parent)))
        _props(pairs, props)
        return Block(self.iri.element(rid), [self._region], pairs)

    def agency(self, row: Row) -> Block:
        """An ``agencies`` row."""
        aid, name, level, parent, jurisdiction, crews, props = self._columns["agencies"](row)
        pairs: list[tuple[str, Obj]] = [(_ID, Lit(aid))]
        _labels(pairs, name)
        if level is not None:
            pairs.append((_LEVEL, self.vocab.level_iri[level]))
        if parent is not None:
            pairs.append((_SUB_ORG, self.iri.element(parent)))
        if jurisdiction is not None:
            pairs.append((_JURISDICTION, self.iri.element(jurisdiction)))
        if crews is not None:
            pairs.append((_CREWS, Lit(str(int(crews)), XSD_INTEGER)))
        _props(pairs, props)
        return Block(self.iri.element(aid), list(self._agency), pairs)

    def asset(self, row: Row) -> Iterator[Block]:
        """An ``assets`` row: yields the asset and, when it has both coordinates, its point geometry."""
        aid, atype, name, region, agency, lat, lon, population, repair_hours, props = self._columns["assets"](row)
        pairs: list[tuple[str, Obj]] = [(_ID, Lit(aid))]
        _labels(pairs, name)
        if region is not None:
            pairs.append((_LOCATED_IN, self.iri.element(region)))
        if agency is not None:
            pairs.append((_OPERATED_BY, self.iri.element(agency)))
        if lat is not None:
            pairs.append((_LAT, Lit(double(lat), XSD_DOUBLE)))
        if lon is not None:
            pairs.append((_LON, Lit(double(lon), XSD_DOUBLE)))
        pairs.append((_POPULATION, Lit(str(int(population or 0)), XSD_INTEGER)))
        if repair_hours is not None:
            pairs.append((_REPAIR_HOURS, Lit(decimal(repair_hours), XSD_DECIMAL)))
        geometry = self.iri.geometry(aid) if lat is not None and lon is not None else None
        if geometry is not None:
            pairs.append((_HAS_GEOMETRY, geometry))
        _props(pairs, props)
        yield Block(self.iri.element(aid), [self.vocab.class_iri(atype)], pairs)
        if geometry is not None:
            wkt = f"POINT({double(lon)} {double(lat)})"
            yield Block(geometry, list(self._geometry), [(_AS_WKT, Lit(wkt, _WKT))])

    def hazard(self, name: str) -> Iterator[Block]:
        """The individual standing for hazard class ``name``, the first time it is asked for."""
        if name not in self._hazards_seen:
            self._hazards_seen.add(name)
            yield Block(self.iri.hazard(name), [self.vocab.class_iri(name)],
                        [(_LABEL, label) for label in name_labels(name)])

    def hazard_zone(self, row: Row) -> Iterator[Block]:
        """A ``hazard_zones`` row (and its hazard, the first time)."""
        zid, hazard, name, probability, region, props = self._columns["hazard_zones"](row)
        yield from self.hazard(hazard)
        pairs: list[tuple[str, Obj]] = [(_ID, Lit(zid)), (_OF_HAZARD, self.iri.hazard(hazard))]
        _labels(pairs, name)
        if probability is not None:
            pairs.append((_PROBABILITY, Lit(double(probability), XSD_DOUBLE)))
        if region is not None:
            pairs.append((_LOCATED_IN, self.iri.element(region)))
        _props(pairs, props)
        yield Block(self.iri.element(zid), [self._zone], pairs)

    # ------------------------------------------------------------------ relations
    def dependency(self, row: Row) -> Block:
        """A ``dependencies`` row: the n-ary node."""
        dependent, provider, kind, group, buffer_hours = self._columns["dependencies"](row)
        return Block(self.iri.dependency(dependent, provider, kind, group), list(self._dependency), [
            (_DEPENDENT, self.iri.element(dependent)),
            (_PROVIDER, self.iri.element(provider)),
            (_KIND, self.vocab.kind_iri[kind]),
            (_GROUP, Lit(group)),
            (_BUFFER, Lit(decimal(buffer_hours or 0.0), XSD_DECIMAL)),
        ])

    def depends_on(self, dependent: str, providers: Iterable[str]) -> Block:
        """The direct ``ckg:dependsOn`` statements of one dependent."""
        return Block(self.iri.element(dependent), [],
                     [(_DEPENDS_ON, self.iri.element(p)) for p in providers])

    def exposure(self, row: Row) -> Block:
        """An ``exposures`` row: the n-ary node."""
        asset, zone, intensity = self._columns["exposures"](row)
        return Block(self.iri.exposure(asset, zone), list(self._exposure), [
            (_ASSET, self.iri.element(asset)),
            (_ZONE, self.iri.element(zone)),
            (_INTENSITY, Lit(double(intensity), XSD_DOUBLE)),
        ])

    def exposed_to(self, asset: str, zones: Iterable[str]) -> Block:
        """The direct ``ckg:exposedTo`` statements of one asset."""
        return Block(self.iri.element(asset), [], [(_EXPOSED_TO, self.iri.element(z)) for z in zones])

    def fragility(self, row: Row) -> Iterator[Block]:
        """A ``fragilities`` row (and its hazard, the first time)."""
        hazard, threshold, asset_type, asset, beta = self._columns["fragilities"](row)
        yield from self.hazard(hazard)
        pairs: list[tuple[str, Obj]] = [
            (_HAZARD, self.iri.hazard(hazard)),
            (_THRESHOLD, Lit(double(threshold), XSD_DOUBLE)),
        ]
        if asset_type is not None:
            pairs.append((_ASSET_TYPE, self.vocab.class_iri(asset_type)))
        if asset is not None:
            pairs.append((_ASSET, self.iri.element(asset)))
        if beta is not None:
            pairs.append((_BETA, Lit(double(beta), XSD_DOUBLE)))
        yield Block(self.iri.fragility(hazard, asset_type, asset), list(self._fragility), pairs)
