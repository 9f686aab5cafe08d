// Criticality: per district, the assets whose lone failure takes down the most (GET /v1/criticality),
// each row linking to its dependencies and to its cascade.

import {api, explain} from './api.js';
import {districtColour, typeIcon} from './palette.js';
import {fill, fmtInt, h} from './util.js';

let cache = {key: '', data: null};
let seq = 0;

const icon = (typeName, city, r = 6) => typeIcon(city, typeName, r);

export async function renderCriticality({city, top, host, status}) {
  const key = `${city.version}|${top}`;
  const mine = ++seq;
  let data = cache.key === key ? cache.data : null;
  if (!data) {
    status.textContent = 'Ranking every asset by its lone-failure cascade…';
    status.className = 'status busy';
    host.dataset.state = 'loading';
    try {
      data = await api(`/v1/criticality?${new URLSearchParams({top: String(top), by: 'district'})}`);
    } catch (err) {
      if (mine !== seq) return;
      status.textContent = `The ranking could not be computed: ${explain(err)}`;
      status.className = 'status error';
      host.dataset.state = 'error';
      return;
    }
    if (mine !== seq) return;
    cache = {key, data};
  }
  status.textContent = '';
  status.className = 'status';
  const rows = data.assets || data.data || [];
  const groups = new Map();
  for (const r of rows) {
    const d = r.district ?? '';
    if (!groups.has(d)) groups.set(d, []);
    groups.get(d).push(r);
  }
  const maxFailed = Math.max(1, ...rows.map((r) => r.failed));
  const body = [];
  for (const [district, list] of groups) {
    const k = city.districtIndex.get(district);
    const sw = h('span', {class: 'swatch'});
    sw.style.background = districtColour(k === undefined ? -1 : k);
    body.push(h('tr', {class: 'group'}, h('th', {colspan: 8, scope: 'rowgroup'}, sw, ` ${district ? city.districtName(district) : 'No district'}`)));
    for (const r of list) {
      const bar = h('span', {class: 'bar'});
      bar.style.width = `${(100 * r.failed) / maxFailed}%`;
      const id = encodeURIComponent(r.id);
      body.push(h('tr', {dataset: {id: r.id, district}},
        h('td', {class: 'num'}, r.rank),
        h('td', {}, icon(r.type, city), ' ', h('a', {href: `#/asset/${id}`, title: 'What depends on it'}, r.id)),
        h('td', {}, city.typeLabel(r.type)),
        h('td', {class: 'num'}, h('div', {class: 'failed'}, h('span', {class: 'track'}, bar), fmtInt(r.failed))),
        h('td', {class: 'num'}, fmtInt(r.population)),
        h('td', {class: 'num'}, fmtInt(r.districts)),
        h('td', {class: 'num'}, fmtInt(r.agencies)),
        h('td', {}, h('a', {class: 'button small danger cascade-link', href: `#/cascade?fail=${id}`,
          title: `Run the cascade of ${r.id} failing`}, 'Cascade ▶'))));
    }
  }
  fill(host, h('table', {class: 'crit-table'},
    h('thead', {}, h('tr', {}, ['#', 'Asset', 'Type', 'Assets down', 'People', 'Districts', 'Agencies', ''].map((c, j) =>
      h('th', {scope: 'col', class: j >= 3 && j <= 6 ? 'num' : ''}, c)))),
    h('tbody', {}, body)));
  host.dataset.state = 'ready';
}
