// The dependency view's data and side panel: one asset, the layered graph around it, and the
// counts a planner asks for first ("what depends on this, what does it depend on").

import {api, explain} from './api.js';
import {renderGraph} from './depgraph.js';
import {typeIcon} from './palette.js';
import {fill, fmtInt, h} from './util.js';

let seq = 0;

const icon = (typeName, city, r = 7) => typeIcon(city, typeName, r);

export async function renderDependency({id, depth, kind, limit, city, graphHost, panel, legend, title, onOpen, onError}) {
  const mine = ++seq;
  graphHost.dataset.state = 'loading';
  graphHost.setAttribute('aria-busy', 'true');
  const q = new URLSearchParams({depth: String(depth), limit: String(limit)});
  if (kind) q.set('kind', kind);
  const path = encodeURIComponent(id);
  let graph;
  let asset;
  try {
    [graph, asset] = await Promise.all([api(`/v1/city/graph/${path}?${q}`), api(`/v1/assets/${path}`)]);
  } catch (err) {
    if (mine !== seq) return;
    graphHost.dataset.state = 'error';
    graphHost.removeAttribute('aria-busy');
    fill(graphHost, h('p', {class: 'error big'}, explain(err)));
    fill(panel);
    if (err.status !== 404) onError(explain(err));
    return;
  }
  if (mine !== seq) return;  // a newer request won
  title.replaceChildren(icon(asset.type, city, 9), ` ${asset.id}`, h('span', {class: 'muted'}, asset.name ? ` — ${asset.name}` : ''));
  renderGraph(graphHost, graph, city, {onOpen});
  graphHost.dataset.state = 'ready';
  graphHost.dataset.id = id;
  graphHost.removeAttribute('aria-busy');
  renderLegend(legend, graph, city);
  renderPanel(panel, asset, graph, city);
}

function renderLegend(host, graph, city) {
  const types = [...new Set(graph.nodes.map((n) => n.type))].sort();
  const sectors = [...new Set(types.map((t) => city.sectorOfType(t)))];
  const kinds = [...new Set(graph.edges.map((e) => e.kind).concat(graph.hidden.flatMap((x) => x.links.map((l) => l.kind))))].sort();
  fill(host,
    h('div', {class: 'legend-group'}, h('b', {}, 'Sector '), sectors.map((sec) => {
      const sw = h('span', {class: 'swatch'});
      sw.style.background = city.sector(sec).colour;
      return h('span', {class: 'legend-item'}, sw, city.sector(sec).label);
    })),
    h('div', {class: 'legend-group'}, h('b', {}, 'Type '), types.map((t) => h('span', {class: 'legend-item'}, icon(t, city, 6), city.typeLabel(t)))),
    h('div', {class: 'legend-group'}, h('b', {}, 'Supply '), kinds.map((k) => {
      const line = h('span', {class: 'line-swatch'});
      line.style.background = city.kindColour(k);
      return h('span', {class: 'legend-item'}, line, k);
    }), h('span', {class: 'muted'}, ' · “power×2·24h”: two alternative providers, 24 hours of backup'),
    h('span', {class: 'muted'}, ' · “→ Yubei”: in another district')));
}

function renderPanel(panel, asset, graph, city) {
  const sector = city.sector(city.sectorOfType(asset.type));
  const side = (sign) => {
    const out = [];
    for (const [layer, count] of Object.entries(graph.layers)) {
      const l = Number(layer);
      if (Math.sign(l) === sign) out.push([Math.abs(l), count]);
    }
    return out.sort((a, b) => a[0] - b[0]);
  };
  const byType = (sign) => {
    const counts = new Map();
    for (const n of graph.nodes) if (Math.sign(n.layer) === sign) counts.set(n.type, (counts.get(n.type) || 0) + 1);
    for (const x of graph.hidden) {
      if (Math.sign(x.layer) !== sign) continue;
      for (const [t, c] of Object.entries(x.by_type)) counts.set(t, (counts.get(t) || 0) + c);
    }
    return [...counts].sort((a, b) => b[1] - a[1]);
  };
  const key = graph.nodes.filter((n) => n.layer > 0 && city.isKey(n.type)).slice(0, 8);
  const section = (heading, sign, countId, total) => h('section', {class: 'counts'},
    h('h3', {}, heading, ' ', h('output', {id: countId, class: 'big-num', dataset: {value: total}}, fmtInt(total))),
    h('p', {class: 'muted small'}, side(sign).map(([d, c]) => `${fmtInt(c)} at ${d} hop${d > 1 ? 's' : ''}`).join(' · ') ||
      (sign > 0 ? 'Nothing depends on it.' : 'It depends on nothing: a source.')),
    h('ul', {class: 'type-counts'}, byType(sign).slice(0, 6).map(([t, c]) => h('li', {}, icon(t, city, 5), ` ${fmtInt(c)} ${city.typeLabel(t)}`))));
  const id = encodeURIComponent(asset.id);
  const props = Object.entries(asset.props || {});
  fill(panel,
    h('div', {class: 'asset-card'},
      h('div', {class: 'sector-tag'}, icon(asset.type, city, 8), ` ${city.typeLabel(asset.type)} · ${sector.label}`),
      h('h2', {}, asset.id),
      asset.name ? h('p', {}, asset.name) : null,
      h('dl', {},
        h('dt', {}, 'District'), h('dd', {}, city.districtName(graph.nodes.find((n) => n.layer === 0)?.district)),
        h('dt', {}, 'Region'), h('dd', {}, asset.region || '—'),
        h('dt', {}, 'Agency'), h('dd', {}, city.agencyName(asset.agency)),
        h('dt', {}, 'People'), h('dd', {}, fmtInt(asset.population)),
        asset.lat !== null ? [h('dt', {}, 'Location'), h('dd', {}, `${asset.lat.toFixed(4)}, ${asset.lon.toFixed(4)}`)] : null,
        props.map(([k, v]) => [h('dt', {}, k), h('dd', {}, String(v))])),
      h('div', {class: 'actions'},
        h('a', {class: 'button danger', id: 'fail-it', href: `#/cascade?fail=${id}`}, 'Fail it → cascade'),
        h('a', {class: 'button', href: `#/city?focus=${id}`}, 'Show on map'))),
    section('What depends on it', 1, 'dependents-count', graph.totals.dependents),
    key.length ? h('section', {}, h('h4', {}, 'Key facilities among them'),
      h('ul', {class: 'links'}, key.map((n) => h('li', {}, icon(n.type, city, 5),
        h('a', {href: `#/asset/${encodeURIComponent(n.id)}?depth=${graph.depth}`}, n.id), h('span', {class: 'muted'}, ` ${city.typeLabel(n.type)}`))))) : null,
    section('What it depends on', -1, 'dependencies-count', graph.totals.dependencies),
    h('p', {class: 'muted small'}, `Within ${graph.depth} hop${graph.depth > 1 ? 's' : ''}${graph.kinds ? `, ${graph.kinds.join(', ')} only` : ''}; `,
      'redundancy and backup ignored here — run the cascade for what really fails.'));
}

export function renderDependencyEmpty(graphHost, panel, city) {
  // one asset of each of the six first key facilities (by the ontology's keyRank) the city has
  const wanted = city.types.map((t, k) => [t.key_rank, k]).filter(([rank]) => rank != null && rank <= 6)
    .sort((a, b) => a[0] - b[0]);
  const examples = [];
  for (const [, k] of wanted) {
    const i = city.type.indexOf(k);
    if (i >= 0) examples.push(i);
  }
  graphHost.dataset.state = 'empty';
  fill(graphHost, h('div', {class: 'empty'},
    h('h2', {}, 'What depends on what?'),
    h('p', {}, 'Find an asset with the search box above — by id, name or type — or start from one of these:'),
    h('ul', {class: 'links big'}, examples.map((i) => h('li', {}, icon(city.typeOf(i).name, city, 7),
      h('a', {href: `#/asset/${encodeURIComponent(city.ids[i])}`}, city.ids[i]),
      h('span', {class: 'muted'}, ` ${city.typeOf(i).label}`))))));
  fill(panel, h('p', {class: 'muted'}, 'The asset you pick is shown in the middle: what it depends on to the left, what depends on it to the right.'));
  $title().replaceChildren('Dependencies');
}

const $title = () => document.getElementById('dep-title');
