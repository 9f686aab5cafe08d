// The dependency view: one asset in the middle, what it depends on to the left (supply flows
// left to right), what depends on it to the right, one column per hop. Colour = sector,
// shape = type, edge colour and label = what flows (kind, and the backup hours if any).
// Columns too full to show whole end in a "+N more" card summing up the rest.

import {shapePath} from './palette.js';
import {fmtInt, placeName, t} from './i18n.js';
import {s} from './util.js';

const CARD_H = 38;
const CENTRE_H = 52;
const ROW_GAP = 12;
const MORE_H = 58;
const HEADER = 46;

function columnTitle(layer) {
  if (layer === 0) return t('graph.selected');
  return t(layer < 0 ? 'graph.depends_on' : 'graph.dependents', {count: Math.abs(layer)});
}

/** The label of a dependency edge: kind, alternatives, backup hours ("power×2·24h"), as the graph draws it. */
export function edgeLabel(city, kind, alternatives, bufferHours) {
  return `${city.kindLabel(kind)}${alternatives > 1 ? `×${alternatives}` : ''}${bufferHours ? `·${t('dep.buffer', {hours: bufferHours})}` : ''}`;
}


/** About how wide `text` is at font `size` px: a Chinese character takes the room of two Latin ones. */
function textWidth(text, size) {
  let em = 0;
  for (const ch of text) em += ch.codePointAt(0) > 0x2e80 ? 1 : 0.58;
  return em * size;
}

/** `text` cut to about `px` wide, with an ellipsis. */
function clip(text, px, size = 11) {
  if (textWidth(text, size) <= px) return text;
  let out = '';
  for (const ch of text) {
    if (textWidth(`${out}${ch}…`, size) > px) break;
    out += ch;
  }
  return `${out}…`;
}

/** Draw `graph` (GET /v1/city/graph/{id}) into `host`; `onOpen(id)` when a card is clicked. */
export function renderGraph(host, graph, city, {onOpen = () => {}} = {}) {
  const depth = graph.depth;
  const byId = new Map(graph.nodes.map((n) => [n.id, n]));
  const layers = new Map();
  for (let l = -depth; l <= depth; l++) layers.set(l, []);
  for (const n of graph.nodes) if (layers.has(n.layer)) layers.get(n.layer).push(n);
  const hidden = new Map(graph.hidden.map((x) => [x.layer, x]));
  // drop empty outer columns, keep the centre
  let lo = -depth;
  let hi = depth;
  while (lo < 0 && !layers.get(lo).length && !hidden.has(lo)) lo++;
  while (hi > 0 && !layers.get(hi).length && !hidden.has(hi)) hi--;
  const columns = hi - lo + 1;
  const avail = Math.max(host.clientWidth - 24, 600);
  const loops = graph.edges.some((e) => {
    const a = byId.get(e.from);
    const b = byId.get(e.to);
    return a && b && b.layer >= a.layer;
  }) ? 56 : 0;  // room for edges within a column, drawn as loops to the right
  const colW = Math.max(190, Math.min(330, (avail - loops) / columns));
  const cardW = Math.min(196, colW - 70);
  const width = colW * columns + 24 + loops;
  const xOf = (layer) => 12 + (layer - lo) * colW + (colW - cardW) / 2;

  // order each column by the mean position of its neighbours one column nearer the centre
  const pos = new Map();
  const centre = graph.nodes.find((n) => n.layer === 0);
  const neighbours = new Map(graph.nodes.map((n) => [n.id, []]));
  for (const e of graph.edges) {
    if (neighbours.has(e.from) && neighbours.has(e.to)) {
      neighbours.get(e.from).push(e.to);
      neighbours.get(e.to).push(e.from);
    }
  }
  const heights = new Map();
  const colHeight = (layer) => {
    const n = layers.get(layer).length;
    const more = hidden.has(layer) ? MORE_H + ROW_GAP : 0;
    return layer === 0 ? CENTRE_H : n * (CARD_H + ROW_GAP) - ROW_GAP + more;
  };
  let maxH = 0;
  for (let l = lo; l <= hi; l++) { heights.set(l, colHeight(l)); maxH = Math.max(maxH, heights.get(l)); }
  const height = HEADER + maxH + 24;
  const midY = HEADER + maxH / 2;
  pos.set(centre.id, midY);
  for (let step = 1; step <= depth; step++) {
    for (const layer of [step, -step]) {
      if (!layers.has(layer) || layer < lo || layer > hi) continue;
      const inner = layer > 0 ? layer - 1 : layer + 1;
      const innerIds = new Set(layers.get(inner).map((n) => n.id));
      const bary = (n) => {
        const ys = neighbours.get(n.id).filter((id) => innerIds.has(id) && pos.has(id)).map((id) => pos.get(id));
        return ys.length ? ys.reduce((a, b) => a + b, 0) / ys.length : Infinity;
      };
      const list = layers.get(layer);
      const keyed = list.map((n) => [bary(n), -n.dependents, n.id, n]);
      keyed.sort((a, b) => (a[0] - b[0]) || (a[1] - b[1]) || (a[2] < b[2] ? -1 : 1));
      list.splice(0, list.length, ...keyed.map((k) => k[3]));
      let y = midY - heights.get(layer) / 2 + CARD_H / 2;
      for (const n of list) { pos.set(n.id, y); y += CARD_H + ROW_GAP; }
      if (hidden.has(layer)) pos.set(`more:${layer}`, y - CARD_H / 2 + MORE_H / 2);
    }
  }

  const svg = s('svg', {width, height, viewBox: `0 0 ${width} ${height}`, class: 'depgraph', role: 'img',
    'aria-label': t('graph.label', {id: graph.id})});
  // column headers
  for (let l = lo; l <= hi; l++) {
    const x = xOf(l) + cardW / 2;
    const total = l === 0 ? null : graph.layers[String(l)] || 0;
    svg.append(s('text', {x, y: 18, class: `col-title ${l < 0 ? 'up' : l > 0 ? 'down' : 'mid'}`}, columnTitle(l)));
    if (total !== null) svg.append(s('text', {x, y: 34, class: 'col-count'}, t('common.assets', {count: total})));
  }
  svg.append(s('text', {x: width - 14, y: height - 8, class: 'flow-note'}, t('graph.flow')));

  const edgeLayer = s('g', {class: 'edges'});
  const labelLayer = s('g', {class: 'edge-labels'});
  const nodeLayer = s('g', {class: 'nodes'});
  svg.append(edgeLayer, labelLayer, nodeLayer);
  const boxW = (id) => (id === centre.id ? cardW + 16 : cardW);
  const leftX = (n) => xOf(n.layer) - (n.id === centre.id ? 8 : 0);
  // labels never cover a card
  const placed = graph.nodes.filter((n) => pos.has(n.id)).map((n) => {
    const half = (n.id === centre.id ? CENTRE_H : CARD_H) / 2;
    return [leftX(n) - 2, pos.get(n.id) - half - 2, leftX(n) + boxW(n.id) + 2, pos.get(n.id) + half + 2];
  });
  for (const [layer] of hidden) {
    if (pos.has(`more:${layer}`)) {
      const y = pos.get(`more:${layer}`);
      placed.push([xOf(layer) - 2, y - MORE_H / 2 - 2, xOf(layer) + cardW + 2, y + MORE_H / 2 + 2]);
    }
  }
  const tryLabel = (at, text, colour, ends) => ({at, text, colour, ends});
  const pending = [];
  const curve = (x1, y1, x2, y2) => {
    const dx = Math.max(30, Math.abs(x2 - x1) / 2);
    return [`M${x1},${y1}C${x1 + dx},${y1} ${x2 - dx},${y2} ${x2},${y2}`, (t) => {
      const u = 1 - t;
      const bx = u * u * u * x1 + 3 * u * u * t * (x1 + dx) + 3 * u * t * t * (x2 - dx) + t * t * t * x2;
      const by = u * u * u * y1 + 3 * u * u * t * y1 + 3 * u * t * t * y2 + t * t * t * y2;
      return [bx, by];
    }];
  };
  // an edge within one column (a loop, or a provider as far out as its dependent) bulges to the right
  const loop = (x1, y1, x2, y2) => {
    const bulge = Math.min(60, 22 + Math.abs(y2 - y1) / 6);
    const c1 = x1 + bulge;
    const c2 = x2 + bulge;
    return [`M${x1},${y1}C${c1},${y1} ${c2},${y2} ${x2},${y2}`, (t) => {
      const u = 1 - t;
      return [u * u * u * x1 + 3 * u * u * t * c1 + 3 * u * t * t * c2 + t * t * t * x2,
        u * u * u * y1 + 3 * u * u * t * y1 + 3 * u * t * t * y2 + t * t * t * y2];
    }];
  };
  const edgesOf = new Map(graph.nodes.map((n) => [n.id, []]));
  // one label per dependency group, next to the dependent: "power ×2 · 24h" = two alternative feeds, 24 h backup
  const groups = new Map();
  for (const e of graph.edges) {
    const key = `${e.from}\u0000${e.kind}\u0000${e.group}`;
    groups.set(key, (groups.get(key) || 0) + 1);
  }
  const labelled = new Set();
  for (const e of graph.edges) {
    const dep = byId.get(e.from);
    const prov = byId.get(e.to);
    if (!dep || !prov || !pos.has(dep.id) || !pos.has(prov.id)) continue;
    const x1 = leftX(prov) + boxW(prov.id);
    const backwards = prov.layer >= dep.layer && prov.id !== dep.id;
    const x2 = backwards ? leftX(dep) + boxW(dep.id) : leftX(dep);
    const [d, at] = backwards ? loop(x1, pos.get(prov.id), x2, pos.get(dep.id)) : curve(x1, pos.get(prov.id), x2, pos.get(dep.id));
    const colour = city.kindColour(e.kind);
    const path = s('path', {d, class: 'edge', stroke: colour, dataset: {from: e.from, to: e.to, kind: e.kind}},
      s('title', {}, t(e.buffer_hours ? 'graph.edge_backup' : 'graph.edge', {from: e.from, to: e.to,
        kind: city.kindLabel(e.kind), hours: e.buffer_hours}) + (e.group !== e.kind ? t('graph.edge_group', {group: e.group}) : '')));
    edgeLayer.append(path);
    edgesOf.get(e.from).push(path);
    edgesOf.get(e.to).push(path);
    const key = `${e.from}\u0000${e.kind}\u0000${e.group}`;
    if (labelled.has(key)) continue;
    labelled.add(key);
    const n = groups.get(key);
    pending.push(tryLabel(at, edgeLabel(city, e.kind, n, e.buffer_hours), colour, [e.from, e.to]));
  }
  // aggregated rest of a column
  for (const [layer, more] of hidden) {
    if (!pos.has(`more:${layer}`)) continue;
    const y = pos.get(`more:${layer}`);
    for (const link of more.links.slice(0, 12)) {
      const n = byId.get(link.id);
      if (!n || !pos.has(n.id)) continue;
      const [x1, y1, x2, y2] = layer > 0
        ? [leftX(n) + boxW(n.id), pos.get(n.id), xOf(layer), y]
        : [xOf(layer) + cardW, y, leftX(n), pos.get(n.id)];
      const [d, at] = curve(x1, y1, x2, y2);
      const colour = city.kindColour(link.kind);
      const path = s('path', {d, class: 'edge more', stroke: colour, 'stroke-width': Math.min(5, 1 + Math.log2(link.count))},
        s('title', {}, t('graph.more_links', {count: link.count, kind: city.kindLabel(link.kind)})));
      edgeLayer.append(path);
      edgesOf.get(n.id).push(path);
      pending.push(tryLabel(layer > 0 ? (u) => at(1 - u) : at, `${city.kindLabel(link.kind)}×${fmtInt(link.count)}`, colour, [n.id]));
    }
  }
  // labels where they do not collide (the edge keeps its colour and tooltip either way)
  for (const p of pending) {
    const w = textWidth(p.text, 10) + 8;
    for (const u of [0.78, 0.68, 0.88, 0.58, 0.48, 0.38]) {
      const [x, y] = p.at(u);
      const box = [x - w / 2, y - 8, x + w / 2, y + 8];
      if (placed.some((b) => box[0] < b[2] && box[2] > b[0] && box[1] < b[3] && box[3] > b[1])) continue;
      placed.push(box);
      const g = s('g', {class: 'edge-label', transform: `translate(${x.toFixed(1)},${y.toFixed(1)})`,
        dataset: {ends: p.ends.join(' ')}},
      s('rect', {x: -w / 2, y: -8, width: w, height: 16, rx: 8}),
      s('text', {x: 0, y: 4, fill: p.colour}, p.text));
      labelLayer.append(g);
      break;
    }
  }
  // cards
  for (const n of graph.nodes) {
    if (!pos.has(n.id)) continue;
    const isCentre = n.id === centre.id;
    const h = isCentre ? CENTRE_H : CARD_H;
    const w = boxW(n.id);
    const sector = city.sector(city.sectorOfType(n.type));
    // the district only where it differs from the selected asset's: dependencies across district lines stand out
    const elsewhere = n.district && n.district !== centre.district;
    const district = elsewhere ? placeName(city.districtName(n.district))[0] : '';
    const g = s('g', {class: `node${isCentre ? ' centre' : ''}`, transform: `translate(${leftX(n)},${pos.get(n.id) - h / 2})`,
      tabindex: 0, role: 'button', dataset: {id: n.id, layer: n.layer},
      'aria-label': t(isCentre ? 'graph.card_centre' : 'graph.card', {id: n.id, type: city.typeLabel(n.type)})});
    g.append(
      s('title', {}, [`${n.id}${n.name ? ` — ${n.name}` : ''}`, `${city.typeLabel(n.type)} (${sector.label})`,
        `${placeName(city.districtName(n.district)).filter(Boolean).join(' ')} · ${city.agencyName(n.agency)}`,
        n.population ? t('common.people', {count: n.population}) : null,
        t('graph.direct_dependents', {count: n.dependents}), isCentre ? null : t('graph.click_to_centre')].filter(Boolean).join('\n')),
      s('rect', {class: 'card', width: w, height: h, rx: 7, stroke: sector.colour}),
      s('rect', {class: 'stripe', width: 4, height: h - 2, x: 1, y: 1, rx: 2, fill: sector.colour}),
      s('path', {d: shapePath(city.symbolOf(n.type), isCentre ? 9 : 7), transform: `translate(${isCentre ? 20 : 17},${h / 2})`,
        fill: sector.colour, class: 'icon'}),
      s('text', {x: isCentre ? 36 : 30, y: isCentre ? 21 : 16, class: 'id'}, clip(n.id, w - 40, 12)),
      isCentre
        ? s('text', {x: 36, y: 38, class: 'sub'}, clip(`${city.typeLabel(n.type)} · ${placeName(city.districtName(n.district))[0]}`, w - 40))
        : s('text', {x: 30, y: 30, class: 'sub'}, clip(city.typeLabel(n.type), district ? w - 44 - textWidth(district, 11) : w - 36),
          district ? s('tspan', {class: 'elsewhere'}, ` → ${district}`) : null),
    );
    if (n.dependents && !isCentre) {
      g.append(s('text', {x: w - 6, y: 16, class: 'fan'}, `↦${fmtInt(n.dependents)}`));
    }
    const activate = () => { if (!isCentre) onOpen(n.id); };
    g.addEventListener('click', activate);
    g.addEventListener('keydown', (e) => { if (e.key === 'Enter' || e.key === ' ') { e.preventDefault(); activate(); } });
    g.addEventListener('mouseenter', () => highlight(n.id, true));
    g.addEventListener('mouseleave', () => highlight(n.id, false));
    nodeLayer.append(g);
  }
  for (const [layer, more] of hidden) {
    if (!pos.has(`more:${layer}`)) continue;
    const y = pos.get(`more:${layer}`) - MORE_H / 2;
    const types = Object.entries(more.by_type).map(([type, c]) => t('dep.type_count', {count: c, type: city.typeLabel(type)}));
    nodeLayer.append(s('g', {class: 'node more', transform: `translate(${xOf(layer)},${y})`, dataset: {layer}},
      s('title', {}, `${t('graph.more_title', {count: more.count, people: more.population})}\n${types.join('\n')}`),
      s('rect', {class: 'card', width: cardW, height: MORE_H, rx: 7}),
      s('text', {x: 12, y: 20, class: 'id'}, t('graph.more', {count: more.count})),
      s('text', {x: 12, y: 36, class: 'sub'}, clip(types.slice(0, 2).join(t('common.list_separator')), cardW - 20)),
      s('text', {x: 12, y: 50, class: 'sub'}, clip(types.slice(2, 4).join(t('common.list_separator')), cardW - 20))));
  }

  function highlight(id, on) {
    svg.classList.toggle('dim', on);
    for (const path of edgesOf.get(id) || []) path.classList.toggle('hl', on);
    for (const label of labelLayer.children) {
      if (label.dataset.ends.split(' ').includes(id)) label.classList.toggle('hl', on);
    }
  }

  host.replaceChildren(svg);
  // narrower than the graph (a phone): start with the selected asset in the middle of the view
  host.scrollLeft = Math.max(0, xOf(0) + cardW / 2 - host.clientWidth / 2);
  return svg;
}
