import {s} from './util.js';

// Colours and shapes, one vocabulary for every view: colour = sector (dependency view) or
// district (map), shape = asset type, red = failed. Red is kept out of both palettes so a
// failure is never mistaken for a category.

export const FAILED = '#ff3b30';
export const FAILED_DARK = '#a3211b';
/** Assets the live forecast says will fail (amber: a warning, not yet a failure). */
export const FORECAST = '#f5a524';

// Sector, hazard and supply colours, type shapes and key facilities come from the ontology through
// GET /v1/city (see city.js); these are the fallbacks for what the ontology leaves out.
export const NO_SECTOR_COLOUR = '#cbd5e1';
export const NO_COLOUR = '#cbd5e1';
export const NO_HAZARD_COLOUR = '#e2e8f0';

const SHAPES = ['circle', 'square', 'diamond', 'triangle', 'triangleDown', 'hexagon', 'pentagon', 'star', 'cross'];

/** A shape for a type the ontology gives none: picked from its name, so it is the same on every view. */
export function fallbackShape(type) {
  let hash = 0;
  for (const ch of type || '') hash = (hash * 31 + ch.charCodeAt(0)) >>> 0;
  return SHAPES[hash % SHAPES.length];
}

/** An SVG path (centred on 0,0, radius r) for a shape. */
export function shapePath(shape, r) {
  const poly = (n, rot = -Math.PI / 2, radii = null) => {
    const pts = [];
    const count = radii ? n * 2 : n;
    for (let k = 0; k < count; k++) {
      const a = rot + (k * 2 * Math.PI) / count;
      const rr = radii ? radii[k % 2] : r;
      pts.push(`${(rr * Math.cos(a)).toFixed(2)},${(rr * Math.sin(a)).toFixed(2)}`);
    }
    return `M${pts.join('L')}Z`;
  };
  switch (shape) {
    case 'square': { const q = r * 0.86; return `M${-q},${-q}H${q}V${q}H${-q}Z`; }
    case 'diamond': return poly(4);
    case 'triangle': return poly(3, -Math.PI / 2);
    case 'triangleDown': return poly(3, Math.PI / 2);
    case 'hexagon': return poly(6, 0);
    case 'pentagon': return poly(5);
    case 'star': return poly(5, -Math.PI / 2, [r * 1.1, r * 0.48]);
    case 'cross': {
      const a = r * 0.36;
      return `M${-a},${-r}H${a}V${-a}H${r}V${a}H${a}V${r}H${-a}V${a}H${-r}V${-a}H${-a}Z`;
    }
    default: return `M${r},0A${r},${r} 0 1,1 ${-r},0A${r},${r} 0 1,1 ${r},0Z`;
  }
}

/** A small SVG icon of an asset type of the city: its shape, in its sector's colour. */
export function typeIcon(city, typeName, r = 7) {
  const size = r * 2 + 4;
  return s('svg', {width: size, height: size, viewBox: `${-r - 2} ${-r - 2} ${size} ${size}`, class: 'type-icon',
    'aria-hidden': 'true'}, s('path', {d: shapePath(city.symbolOf(typeName), r),
    fill: city.sector(city.sectorOfType(typeName)).colour}));
}

/** Draw a shape on a 2D canvas context at (x, y). */
export function drawShape(ctx, shape, x, y, r) {
  ctx.save();
  ctx.translate(x, y);
  ctx.beginPath();
  const path = new Path2D(shapePath(shape, r));
  ctx.fill(path);
  ctx.stroke(path);
  ctx.restore();
}

// Districts: a categorical palette without red, readable on the dark map.
const DISTRICT_COLOURS = ['#7c8cf8', '#e9d460', '#5fbf73', '#c08ad6', '#f59fb4', '#c8a27c', '#a3d977', '#e0a1ff',
  '#2dd4bf', '#fda4af', '#bef264', '#a5b4fc', '#fcd34d', '#86efac', '#f0abfc', '#d6d3d1'];

export const districtColour = (k) => (k < 0 ? '#64748b' : DISTRICT_COLOURS[k % DISTRICT_COLOURS.length]);

/** "rgba(r,g,b,a)" of a "#rrggbb" colour. */
export function withAlpha(hex, alpha) {
  const v = parseInt(hex.slice(1), 16);
  return `rgba(${(v >> 16) & 255},${(v >> 8) & 255},${v & 255},${alpha})`;
}
