// The dependency view's data and side panel: one asset, the layered graph around it, and the
// counts a planner asks for first ("what depends on this, what does it depend on").

import {api, explain} from './api.js';
import {edgeLabel, renderGraph} from './depgraph.js';
import {typeIcon} from './palette.js';
import {fmtCoordinate, fmtInt, placeName, t} from './i18n.js';
import {fill, h} from './util.js';

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
    h('div', {class: 'legend-group'}, h('b', {}, t('dep.legend_sector'), ' '), sectors.map((sec) => {
      const sw = h('span', {class: 'swatch'});
      sw.style.background = city.sector(sec).colour;
      return h('span', {class: 'legend-item'}, sw, city.sector(sec).label);
    })),
    h('div', {class: 'legend-group'}, h('b', {}, t('dep.legend_type'), ' '),
      types.map((type) => h('span', {class: 'legend-item'}, icon(type, city, 6), city.typeLabel(type)))),
    h('div', {class: 'legend-group'}, h('b', {}, t('dep.legend_supply'), ' '), kinds.map((k) => {
      const line = h('span', {class: 'line-swatch'});
      line.style.background = city.kindColour(k);
      return h('span', {class: 'legend-item'}, line, city.kindLabel(k));
    }), h('span', {class: 'muted'}, ' · ', t('dep.legend_edge', {example: edgeLabel(city, 'power', 2, 24)})),
    h('span', {class: 'muted'}, ' · ', t('dep.legend_elsewhere', {example: `→ ${otherDistrict(city, graph)}`}))));
}

/** A district of the graph other than the selected asset's, for the legend's example (its name, short). */
function otherDistrict(city, graph) {
  const centre = graph.nodes.find((n) => n.layer === 0);
  const other = graph.nodes.find((n) => n.district && n.district !== centre?.district)?.district;
  return placeName(city.districtName(other || centre?.district || '')).at(0) || '—';
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
    h('p', {class: 'muted small'}, side(sign).map(([d, c]) => t('dep.at_hops', {count: d, assets: c})).join(' · ') ||
      (sign > 0 ? t('dep.no_dependents') : t('dep.no_dependencies'))),
    h('ul', {class: 'type-counts'}, byType(sign).slice(0, 6).map(([type, c]) => h('li', {}, icon(type, city, 5),
      ' ', t('dep.type_count', {count: c, type: city.typeLabel(type)})))));
  const id = encodeURIComponent(asset.id);
  const props = Object.entries(asset.props || {});
  fill(panel,
    h('div', {class: 'asset-card'},
      h('div', {class: 'sector-tag'}, icon(asset.type, city, 8), ` ${city.typeLabel(asset.type)} · ${sector.label}`),
      h('h2', {}, asset.id),
      asset.name ? h('p', {}, asset.name) : null,
      h('dl', {},
        h('dt', {}, city.levelLabel('district')),
        h('dd', {}, placeName(city.districtName(graph.nodes.find((n) => n.layer === 0)?.district)).filter(Boolean).join(' ')),
        h('dt', {}, t('dep.region')), h('dd', {}, asset.region || '—'),
        h('dt', {}, t('dep.agency')), h('dd', {}, city.agencyName(asset.agency)),
        h('dt', {}, t('dep.people')), h('dd', {}, fmtInt(asset.population)),
        asset.lat !== null ? [h('dt', {}, t('dep.location')), h('dd', {}, `${fmtCoordinate(asset.lat)}, ${fmtCoordinate(asset.lon)}`)] : null,
        props.map(([k, v]) => [h('dt', {}, k), h('dd', {}, String(v))])),
      h('div', {class: 'actions'},
        h('a', {class: 'button danger', id: 'fail-it', href: `#/cascade?fail=${id}`}, t('common.fail_it')),
        h('a', {class: 'button', href: `#/city?focus=${id}`}, t('dep.show_on_map')))),
    section(t('dep.dependents'), 1, 'dependents-count', graph.totals.dependents),
    key.length ? h('section', {}, h('h4', {}, t('dep.key_among')),
      h('ul', {class: 'links'}, key.map((n) => h('li', {}, icon(n.type, city, 5),
        h('a', {href: `#/asset/${encodeURIComponent(n.id)}?depth=${graph.depth}`}, n.id), h('span', {class: 'muted'}, ` ${city.typeLabel(n.type)}`))))) : null,
    section(t('dep.dependencies'), -1, 'dependencies-count', graph.totals.dependencies),
    h('p', {class: 'muted small'}, graph.kinds
      ? t('dep.within_kinds', {count: graph.depth, kinds: graph.kinds.map((k) => city.kindLabel(k)).join(t('common.list_separator'))})
      : t('dep.within', {count: graph.depth})));
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
    h('h2', {}, t('dep.empty_title')),
    h('p', {}, t('dep.empty_text')),
    h('ul', {class: 'links big'}, examples.map((i) => h('li', {}, icon(city.typeOf(i).name, city, 7),
      h('a', {href: `#/asset/${encodeURIComponent(city.ids[i])}`}, city.ids[i]),
      h('span', {class: 'muted'}, ` ${city.typeLabel(city.typeOf(i).name)}`))))));
  fill(panel, h('p', {class: 'muted'}, t('dep.empty_panel')));
  $title().replaceChildren(t('dep.title'));
}

const $title = () => document.getElementById('dep-title');
