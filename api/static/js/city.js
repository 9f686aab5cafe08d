// The city as the page holds it: the columns of GET /v1/city plus look-ups built once, including how
// things are drawn (symbols, key facilities, sector, hazard and supply colours) and named (English and
// Chinese labels), which the API reads from the ontology: the page keeps no list of classes.

import {language, t} from './i18n.js';
import {fallbackShape, NO_COLOUR, NO_HAZARD_COLOUR, NO_SECTOR_COLOUR} from './palette.js';

/** The label of an ontology name ({name, label, label_zh}) in the page's language. */
const labelOf = (item) => (language() === 'zh' && item.label_zh) || item.label || item.name;

export class City {
  constructor(raw) {
    const a = raw.assets;
    this.version = raw.version;
    this.name = raw.city ? raw.city.name : '';
    this.types = raw.types;
    this.kinds = raw.kinds;
    this.districts = raw.districts;
    this.agencies = raw.agencies;
    this.zones = raw.zones;
    this.n = a.id.length;
    this.ids = a.id;
    this.type = Int32Array.from(a.type);
    this.district = Int32Array.from(a.district);
    this.agency = Int32Array.from(a.agency);
    this.population = Float64Array.from(a.population);
    this.lat = Float64Array.from(a.lat, (v) => (v === null ? NaN : v));
    this.lon = Float64Array.from(a.lon, (v) => (v === null ? NaN : v));
    this.index = new Map();
    for (let i = 0; i < this.n; i++) this.index.set(this.ids[i], i);
    this.districtIndex = new Map(this.districts.map((d, k) => [d.id, k]));
    this.agencyIndex = new Map(this.agencies.map((g, k) => [g.id, k]));
    this.zoneIndex = new Map(this.zones.map((z, k) => [z.id, k]));
    this.typeIndex = new Map(this.types.map((t, k) => [t.name, k]));
    this.sectors = new Map(raw.sectors.map((sec) => [sec.name, sec]));
    this.hazards = new Map(raw.hazards.map((z) => [z.name, z]));
    this.serviceKinds = new Map(raw.service_kinds.map((k) => [k.name, k]));
    this.levels = new Map(raw.levels.map((lv) => [lv.name, lv]));
  }

  /** A sector's colour and short label ({colour, label}); "Other" for a class that is no sector. */
  sector(name) {
    const sec = this.sectors.get(name);
    return sec ? {colour: sec.colour || NO_SECTOR_COLOUR, label: labelOf(sec)} : {colour: NO_SECTOR_COLOUR, label: t('common.other_sector')};
  }

  /** The shape drawn for an asset type. */
  symbolOf(name) {
    const k = this.typeIndex.get(name);
    return (k !== undefined && this.types[k].symbol) || fallbackShape(name);
  }

  /** Key facilities: named among an asset's dependents, offered as starting points. */
  isKey(name) {
    const k = this.typeIndex.get(name);
    return k !== undefined && this.types[k].key_rank != null;
  }

  hazardColour(hazard) {
    return this.hazards.get(hazard)?.colour || NO_HAZARD_COLOUR;
  }

  hazardLabel(hazard) {
    const z = this.hazards.get(hazard);
    return z ? labelOf(z) : hazard;
  }

  kindColour(kind) {
    return this.serviceKinds.get(kind)?.colour || NO_COLOUR;
  }

  kindLabel(kind) {
    const k = this.serviceKinds.get(kind);
    return k ? labelOf(k) : kind;
  }

  /** The name of a region level ("district") in the page's language. */
  levelLabel(level) {
    const lv = this.levels.get(level);
    return lv ? labelOf(lv) : level;
  }

  typeOf(i) {
    return this.types[this.type[i]];
  }

  districtName(id) {
    const k = this.districtIndex.get(id);
    return k === undefined ? id || '—' : this.districts[k].name || id;
  }

  agencyName(id) {
    const k = this.agencyIndex.get(id);
    return k === undefined ? id || '—' : this.agencies[k].name || id;
  }

  /** The department an agency belongs to: its top-level parent (itself if it has none). */
  department(id) {
    let current = id;
    for (let hops = 0; hops < 8; hops++) {
      const k = this.agencyIndex.get(current);
      const parent = k === undefined ? null : this.agencies[k].parent;
      if (!parent) return current;
      current = parent;
    }
    return current;
  }

  typeLabel(name) {
    const k = this.typeIndex.get(name);
    return k === undefined ? name : labelOf(this.types[k]);
  }

  sectorOfType(name) {
    const k = this.typeIndex.get(name);
    return k === undefined ? 'Asset' : this.types[k].sector;
  }
}
