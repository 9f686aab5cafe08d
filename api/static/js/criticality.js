// Criticality: per district, the assets whose lone failure takes down the most (GET /v1/criticality),
// each row linking to its dependencies and to its cascade.

import {api, explain} from './api.js';
import {districtColour, typeIcon} from './palette.js';
import {fmtInt, placeName, t} from './i18n.js';
import {fill, h} from './util.js';

let cache = {key: '', data: null};
let seq = 0;

const icon = (typeName, city, r = 6) => typeIcon(city, typeName, r);

export async function renderCriticality({city, top, host, status}) {
  const key = `${city.version}|${top}`;
  const mine = ++seq;
  let data = cache.key === key ? cache.data : null;
  if (!data) {
    status.textContent = t('crit.busy');
    status.className = 'status busy';
    host.dataset.state = 'loading';
    try {
      data = await api(`/v1/criticality?${new URLSearchParams({top: String(top), by: 'district'})}`);
    } catch (err) {
      if (mine !== seq) return;
      status.textContent = t('crit.failed', {reason: explain(err)});
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
    body.push(h('tr', {class: 'group'}, h('th', {colspan: 8, scope: 'rowgroup'}, sw, ` ${district ? placeName(city.districtName(district)).filter(Boolean).join(' ') : t('crit.no_district')}`)));
    for (const r of list) {
      const bar = h('span', {class: 'bar'});
      bar.style.width = `${(100 * r.failed) / maxFailed}%`;
      const id = encodeURIComponent(r.id);
      // the classes and labels lay a row out as a card on a phone (app.css)
      const stat = (key, ...content) => h('td', {class: 'num c-stat', 'data-label': t(key)}, ...content);
      body.push(h('tr', {dataset: {id: r.id, district}},
        h('td', {class: 'num c-rank'}, r.rank),
        h('td', {class: 'c-asset'}, icon(r.type, city), ' ', h('a', {href: `#/asset/${id}`, title: t('crit.open_dependents')}, r.id)),
        h('td', {class: 'c-type'}, city.typeLabel(r.type)),
        stat('crit.col_down', h('div', {class: 'failed'}, h('span', {class: 'track'}, bar), fmtInt(r.failed))),
        stat('crit.col_people', fmtInt(r.population)),
        stat('crit.col_districts', fmtInt(r.districts)),
        stat('crit.col_agencies', fmtInt(r.agencies)),
        h('td', {class: 'c-action'}, h('a', {class: 'button small danger cascade-link', href: `#/cascade?fail=${id}`,
          title: t('crit.run_title', {id: r.id})}, t('crit.run')))));
    }
  }
  fill(host, h('table', {class: 'crit-table'},
    h('thead', {}, h('tr', {}, ['crit.col_rank', 'crit.col_asset', 'crit.col_type', 'crit.col_down', 'crit.col_people',
      'crit.col_districts', 'crit.col_agencies', null].map((c, j) =>
      h('th', {scope: 'col', class: j >= 3 && j <= 6 ? 'num' : ''}, c ? t(c) : '')))),
    h('tbody', {}, body)));
  host.dataset.state = 'ready';
}
