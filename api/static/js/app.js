// The CityKG page: asks for an API key once, loads the city, and routes between the views
// (#/asset/ID, #/city, #/cascade?fail=ID@HOURS,..., #/restore?fail=ID,...|live=1, #/criticality) so every view is a link;
// the criticality view also draws robustness curves.

import {api, ApiError, clearKey, explain, getKey, setKey, whenUnauthorized} from './api.js';
import {CascadePanel} from './cascade.js';
import {WhatIfPanel} from './whatif.js';
import {City} from './city.js';
import {CityMap} from './citymap.js';
import {renderCriticality} from './criticality.js';
import {renderDependency, renderDependencyEmpty} from './dependency.js';
import {LivePanel} from './live.js';
import {setUpFind} from './find.js';
import {renderRestoration} from './restore.js';
import {renderRobustness, setUpRobustness} from './robustness.js';
import {fmtCompact, fmtHours, fmtInt, LANGUAGES, onLanguageChange, otherLanguage, placeName,
  preferredLanguage, t, useLanguage} from './i18n.js';
import {districtColour, FAILED, typeIcon} from './palette.js';
import {$, $$, fill, h, hashQuery} from './util.js';

const app = {city: null, map: null, cascade: null, cityZones: new Set(), lastRun: '', picked: -1, keyMessage: null};
// timings (ms after navigation) read by the end-to-end tests: start, cityLoaded, mapReady, cityPainted
window.citykg = {timings: {start: performance.now()}, app};

// ---------------------------------------------------------------- language
const languageReady = useLanguage(preferredLanguage()).then(renderSwitches, (err) => {
  // without a catalog there is no text to show: say so in both languages, plainly
  document.documentElement.dataset.lang = 'none';  // shows the page (app.css hides it until a language is in)
  document.body.replaceChildren(h('p', {class: 'error big'},
    `页面文字未能加载 / The page could not load its text: ${err.message}`));
  throw err;
});

/** The language switches (top bar and key dialog) offer the other language, named in itself. */
function renderSwitches() {
  const other = LANGUAGES[otherLanguage()];
  for (const button of $$('.lang-switch')) {
    const label = $('span', button);
    label.textContent = other.name;
    label.lang = other.locale;
  }
}

for (const button of $$('.lang-switch')) {
  button.addEventListener('click', async () => {
    await useLanguage(otherLanguage(), {remember: true});
    renderSwitches();
  });
}

onLanguageChange(() => {
  if (app.keyMessage) $('#key-error').textContent = app.keyMessage();
  if (app.city) relabel();
});

// ---------------------------------------------------------------- key and start
function showBanner(message) {
  const banner = $('#banner');
  $('span', banner).textContent = message;
  banner.hidden = false;
}
$('#banner button').addEventListener('click', () => { $('#banner').hidden = true; });

/** Open the key dialog; `message` (a function, so it follows a change of language) says what went wrong. */
function askForKey(message = null) {
  const dialog = $('#key-dialog');
  app.keyMessage = message;
  $('#key-error').textContent = message ? message() : '';
  $('#key-input').value = '';
  document.body.dataset.view = 'key';
  if (!dialog.open) dialog.showModal();
  $('#key-input').focus();
}

$('#key-dialog').addEventListener('cancel', (e) => e.preventDefault());  // no way around the key
$('#key-form').addEventListener('submit', async (e) => {
  e.preventDefault();
  const key = $('#key-input').value.trim();
  if (!key) {
    app.keyMessage = () => t('key.empty');
    $('#key-error').textContent = app.keyMessage();
    return;
  }
  $('#key-submit').disabled = true;
  app.keyMessage = null;
  $('#key-error').textContent = '';
  try {
    await connect(key);
  } finally {
    $('#key-submit').disabled = false;
  }
});

async function connect(key) {
  const city = api('/v1/city', {key});  // fetched while the language's catalog loads
  city.catch(() => {});  // handled below, after the catalog
  await languageReady;
  $('#status').textContent = t('app.loading');
  let raw;
  try {
    raw = await city;
  } catch (err) {
    $('#status').textContent = '';
    let message = () => explain(err);
    if (err instanceof ApiError && err.status === 401) message = () => t('key.refused');
    else if (err instanceof ApiError && err.status === 403) message = () => t('key.no_read');
    clearKey();
    askForKey(message);
    return;
  }
  setKey(key);
  const dialog = $('#key-dialog');
  app.keyMessage = null;
  if (dialog.open) dialog.close();
  start(raw);
}

whenUnauthorized(() => {
  clearKey();
  askForKey(() => t('key.revoked'));
});

$('#sign-out').addEventListener('click', () => {
  clearKey();
  location.hash = '';
  location.reload();
});

function start(raw) {
  window.citykg.timings.cityLoaded = performance.now();
  const city = new City(raw);
  app.city = city;
  $('#sign-out').hidden = false;
  app.map = new CityMap($('#map-wrap'), city, {onPick, describe});
  window.citykg.timings.mapReady = performance.now();
  app.cascade = new CascadePanel($('#cascade-panel'), city, app.map, {
    onScenarioChange: () => {
      if (app.cascade && app.cascade.result && routeName() === 'cascade') {
        app.cascade.clear();
        app.lastRun = '';
        if (app.whatif) app.whatif.reset();
      }
    },
    onRun: (scenario) => { location.hash = cascadeHash(scenario); },
  });
  app.live = new LivePanel($('#live-panel'), city, app.map);
  app.whatif = new WhatIfPanel($('#whatif'), city, app.map, app.cascade);
  $('#zoom-in').addEventListener('click', () => app.map.zoom(1.5));
  $('#zoom-out').addEventListener('click', () => app.map.zoom(1 / 1.5));
  $('#zoom-fit').addEventListener('click', () => app.map.fit());
  setUpCityPanel();
  setUpFind($('#find-input'), $('#find-results'), city, (id) => { location.hash = `#/asset/${encodeURIComponent(id)}`; });
  for (const sel of ['#dep-depth', '#dep-kind', '#dep-limit']) {
    $(sel).addEventListener('change', () => {
      const id = app.depId;
      if (id) location.hash = assetHash(id);
    });
  }
  $('#crit-top').addEventListener('change', () => { location.hash = `#/criticality?top=${$('#crit-top').value}`; });
  $('#restore-method').addEventListener('change', () => {
    const q = hashQuery();
    if ($('#restore-method').value === 'exact') q.set('method', 'exact'); else q.delete('method');
    location.hash = `#/restore?${q}`;
  });
  setUpRobustness($('#robust-panel'));
  // a phone shows the legend folded, so it does not cover the small map
  if (matchMedia('(max-width: 600px)').matches) $('#map-legend').open = false;
  renderTexts();
  window.addEventListener('hashchange', () => route());
  route();
}

/** The texts built from data and language, outside the views (which route() redraws). */
function renderTexts() {
  const {city} = app;
  const people = city.population.reduce((a, b) => a + b, 0);
  const name = city.name || t('city.default_name');
  $('#status').textContent = t('app.status', {city: placeName(name).filter(Boolean).join(' '), count: city.n});
  const [first, second] = placeName(name);
  fill($('#city-name'), first, second ? h('span', {class: 'muted'}, ` ${second}`) : null);
  $('#city-summary').textContent = t('city.summary', {assets: city.n, districts: city.districts.length,
    people, zones: city.zones.length});
  const kindSelect = $('#dep-kind');
  const chosen = kindSelect.value;
  fill(kindSelect, h('option', {value: ''}, t('dep.all_kinds')),
    city.kinds.map((k) => h('option', {value: k}, city.kindLabel(k))));
  kindSelect.value = chosen;
  renderCityPanel();
}

/** After a change of language: every text again, and the view in front redrawn. */
function relabel() {
  renderTexts();
  if (app.picked >= 0) showPicked(app.picked);
  app.cascade.relabel();
  renderRobustness($('#robust-panel'));
  app.live.relabel();
  app.whatif.relabel();
  route(true);
}

// ---------------------------------------------------------------- routing
function routeName() {
  const path = (location.hash || '#/city').slice(1).split('?')[0];
  return path.split('/')[1] || 'city';
}

function assetHash(id) {
  const q = new URLSearchParams({depth: $('#dep-depth').value});
  if ($('#dep-kind').value) q.set('kind', $('#dep-kind').value);
  if ($('#dep-limit').value !== '12') q.set('limit', $('#dep-limit').value);
  return `#/asset/${encodeURIComponent(id)}?${q}`;
}

function cascadeHash(scenario) {
  const q = new URLSearchParams();
  if (scenario.zones) q.set('zones', scenario.zones.join(','));
  else q.set('fail', scenario.fail.map((f) => (f.time ? `${f.id}@${f.time}` : f.id)).join(','));
  if (scenario.horizon !== null && scenario.horizon !== undefined) q.set('horizon', String(scenario.horizon));
  return `#/cascade?${q}`;
}

/** The restoration of a cascade's scenario: its initial failures (times dropped: all damaged at 0) or zones. */
function restoreHash(scenario) {
  const q = new URLSearchParams();
  if (scenario.zones) q.set('zones', scenario.zones.join(','));
  else q.set('fail', [...new Set(scenario.fail.map((f) => f.id))].join(','));
  return `#/restore?${q}`;
}

function showView(name) {
  document.body.dataset.view = name;
  $('#view-dependency').hidden = name !== 'dependency';
  $('#view-map').hidden = name !== 'city' && name !== 'cascade' && name !== 'live';
  $('#city-panel').hidden = name !== 'city';
  $('#cascade-panel').hidden = name !== 'cascade';
  $('#live-panel').hidden = name !== 'live';
  if (name !== 'live' && app.live) app.live.hide();
  $('#view-criticality').hidden = name !== 'criticality';
  $('#view-restore').hidden = name !== 'restore';
  for (const a of $$('.tabs a')) a.setAttribute('aria-current', a.dataset.tab === name ? 'page' : 'false');
  if (name === 'city' || name === 'cascade' || name === 'live') {
    app.map.setMode(name);
    app.map.resize();
  }
}

/** Show the view of the link; `again`: the same link redrawn (a change of language), nothing re-run or moved. */
async function route(again = false) {
  const name = routeName();
  const q = hashQuery();
  const path = (location.hash || '').slice(1).split('?')[0].split('/');
  if (name === 'asset') {
    showView('dependency');
    const id = path[2] ? decodeURIComponent(path[2]) : null;
    if (!id) { app.depId = null; renderDependencyEmpty($('#dep-graph'), $('#dep-panel'), app.city); return; }
    $('#dep-depth').value = q.get('depth') || '2';
    $('#dep-kind').value = q.get('kind') || '';
    $('#dep-limit').value = q.get('limit') || '12';
    app.depId = id;
    $('.tabs a[data-tab="dependency"]').href = assetHash(id);
    await renderDependency({id, depth: Number($('#dep-depth').value), kind: $('#dep-kind').value,
      limit: Number($('#dep-limit').value), city: app.city, graphHost: $('#dep-graph'), panel: $('#dep-panel'),
      legend: $('#dep-legend'), title: $('#dep-title'),
      onOpen: (other) => { location.hash = assetHash(other); }, onError: showBanner});
  } else if (name === 'cascade') {
    showView('cascade');
    const fail = q.get('fail');
    const zones = q.get('zones');
    const horizon = q.has('horizon') && q.get('horizon') !== '' ? Number(q.get('horizon')) : null;
    const key = `${fail}|${zones}|${horizon}`;
    if ((fail || zones) && key !== app.lastRun) {
      app.lastRun = key;
      app.cascade.setScenario({
        fail: fail ? fail.split(',').filter(Boolean).map(parseFail) : null,
        zones: zones ? zones.split(',').filter(Boolean) : null, horizon});
      $('.tabs a[data-tab="cascade"]').href = location.hash;
      $('#cascade-restore').href = restoreHash(app.cascade.scenario());
      await app.cascade.run(app.cascade.scenario());
      app.whatif.reset();
    } else {
      app.cascade._renderScenario({changed: false});  // back on the tab: the result shown still holds
      if (app.cascade.result) app.map.setCascade(app.cascade.failTime, app.cascade.result.initial.map((f) => app.city.index.get(f.id)));
    }
  } else if (name === 'restore') {
    showView('restore');
    const fail = q.get('fail');
    const zones = q.get('zones');
    const live = q.get('live') === '1';
    const asOf = live ? q.get('as_of') : null;
    const method = q.get('method') === 'exact' ? 'exact' : 'heuristic';
    $('#restore-method').value = method;
    const el = {root: $('#view-restore'), status: $('#restore-status'), summary: $('#restore-summary'),
      curve: $('#restore-curve'), gantt: $('#restore-gantt')};
    if (!fail && !zones && !live) {
      for (const part of ['summary', 'curve', 'gantt']) fill(el[part]);
      el.status.textContent = t('restore.pick');
      el.status.className = 'status';
      el.root.dataset.state = 'idle';
      return;
    }
    const backLink = $('#restore-back');
    backLink.href = live ? '#/live' : `#/cascade?${new URLSearchParams(zones ? {zones} : {fail})}`;
    backLink.dataset.i18n = live ? 'restore.back_live' : 'restore.back';
    backLink.textContent = t(backLink.dataset.i18n);
    $('.tabs a[data-tab="restore"]').href = location.hash;
    await renderRestoration({city: app.city, el, again, scenario: {method, live, asOf,
      fail: fail ? fail.split(',').filter(Boolean) : null, zones: zones ? zones.split(',').filter(Boolean) : null}});
  } else if (name === 'live') {
    showView('live');
    app.live.show();
  } else if (name === 'criticality') {
    showView('criticality');
    $('#crit-top').value = q.get('top') || '5';
    await renderCriticality({city: app.city, top: Number($('#crit-top').value), host: $('#crit-table'), status: $('#crit-status')});
  } else {
    showView('city');
    app.map.setZones([...app.cityZones]);
    const focus = q.get('focus');
    const i = focus ? app.city.index.get(focus) : undefined;
    if (i !== undefined && !again) { showPicked(i); requestAnimationFrame(() => app.map.focus(i)); }
    markCityPainted();
  }
}

function parseFail(spec) {
  const at = spec.lastIndexOf('@');
  if (at > 0 && !app.city.index.has(spec)) {
    const hours = Number(spec.slice(at + 1));
    return {id: spec.slice(0, at), time: Number.isFinite(hours) && hours >= 0 ? hours : 0};
  }
  return {id: spec, time: 0};
}

function markCityPainted() {
  if (window.citykg.timings.cityPainted) return;
  const wrap = $('#map-wrap');
  const check = () => {
    if (Number(wrap.dataset.drawn || 0) > 0) {
      window.citykg.timings.cityPainted = performance.now();
      document.body.dataset.cityPainted = 'true';
    } else {
      requestAnimationFrame(check);
    }
  };
  requestAnimationFrame(check);
}

// ---------------------------------------------------------------- map interaction
function describe(i) {
  const {city} = app;
  const type = city.typeOf(i);
  const d = city.district[i];
  const lines = [h('b', {}, city.ids[i]),
    h('div', {}, `${city.typeLabel(type.name)} · ${d >= 0 ? placeName(city.districts[d].name)[0] : '—'}`)];
  if (city.population[i]) lines.push(h('div', {class: 'muted'}, t('common.people', {count: city.population[i]})));
  const panel = app.cascade;
  if (routeName() === 'cascade' && panel && panel.result) {
    const f = panel.failTime[i];
    if (Number.isFinite(f)) {
      const failure = panel.result.failures.find((x) => x.id === city.ids[i]);
      const cause = failure && failure.cause
        ? t('map.lost_supply', {kind: city.kindLabel(failure.cause.kind), providers: failure.cause.providers.slice(0, 3).join(', ')})
        : t('map.initial_failure');
      lines.push(h('div', {class: 'fail-line'}, t('map.fails_at', {time: fmtHours(f), cause})));
    } else {
      lines.push(h('div', {class: 'muted'}, t('map.does_not_fail')));
    }
  } else if (routeName() === 'cascade') {
    lines.push(h('div', {class: 'muted'}, t('map.click_to_fail')));
  }
  return h('div', {}, lines);
}

function onPick(i) {
  if (routeName() === 'cascade') {
    if (i >= 0 && app.whatif.editing && app.cascade.result) app.whatif.pick(i);
    else if (i >= 0) app.cascade.toggleAsset(i);
    return;
  }
  showPicked(i);
  // on a phone the panel is under the map: bring the picked asset's card into sight
  if (i >= 0 && matchMedia('(max-width: 900px)').matches) $('#picked-asset').scrollIntoView({block: 'nearest'});
}

function showPicked(i) {
  const host = $('#picked-asset');
  app.picked = i;
  app.map.focused = i;
  app.map.redraw();
  if (i < 0) { fill(host); return; }
  const {city} = app;
  const id = city.ids[i];
  const type = city.typeOf(i);
  const d = city.district[i];
  fill(host, h('div', {class: 'picked'},
    h('div', {class: 'picked-head'}, icon(type), h('b', {}, id), h('span', {class: 'muted'}, ` ${city.typeLabel(type.name)}`)),
    h('div', {class: 'muted small'}, `${d >= 0 ? placeName(city.districts[d].name)[0] : '—'} · ${city.agencyName(city.agencies[city.agency[i]]?.id)}`),
    city.population[i] ? h('div', {class: 'small'}, t('common.people', {count: city.population[i]})) : null,
    h('div', {class: 'actions'},
      h('a', {class: 'button', href: `#/asset/${encodeURIComponent(id)}`}, t('tabs.dependency')),
      h('a', {class: 'button danger', href: `#/cascade?fail=${encodeURIComponent(id)}`}, t('common.fail_it')))));
}

const icon = (type, r = 7) => typeIcon(app.city, type.name, r);

/** The value that occurs most often (the first of those tied), or undefined for none. */
function commonest(values) {
  const counts = new Map();
  let best;
  for (const v of values) {
    counts.set(v, (counts.get(v) || 0) + 1);
    if (best === undefined || counts.get(v) > counts.get(best)) best = v;
  }
  return best;
}

// ---------------------------------------------------------------- city panel
function setUpCityPanel() {
  const {city} = app;
  $('#zones-cascade').addEventListener('click', () => {
    location.hash = cascadeHash({zones: [...app.cityZones].map((k) => city.zones[k].id), horizon: null});
  });
  // default shading: the rarest flood of each place and every landslide zone, so the risk is visible at once
  const rarest = new Map();
  city.zones.forEach((z, k) => {
    const key = `${z.hazard}|${z.region}`;
    const cur = rarest.get(key);
    if (cur === undefined || (z.annual_probability ?? 1) < (city.zones[cur].annual_probability ?? 1)) rarest.set(key, k);
  });
  for (const k of rarest.values()) app.cityZones.add(k);
  updateCityZones();
}

function updateCityZones() {
  app.map.setZones([...app.cityZones]);
  $('#zones-cascade').disabled = app.cityZones.size === 0;
}

/** The city panel's lists and the map legend, in the page's language (again after a switch). */
function renderCityPanel() {
  const {city} = app;
  const counts = city.districts.map(() => ({n: 0, people: 0}));
  for (let i = 0; i < city.n; i++) {
    const d = city.district[i];
    if (d >= 0) { counts[d].n++; counts[d].people += city.population[i]; }
  }
  fill($('#district-list'), city.districts.map((d, k) => {
    const sw = h('span', {class: 'swatch'});
    sw.style.background = districtColour(k);
    const [first, second] = placeName(d.name || d.id);
    const zoomTo = () => {
      const members = [];
      for (let i = 0; i < city.n; i++) if (city.district[i] === k) members.push(i);
      app.map.fitTo(members);
    };
    return h('li', {title: t('city.zoom_to', {district: first}), tabindex: 0, onclick: zoomTo,
      onkeydown: (e) => { if (e.key === 'Enter') zoomTo(); }},
    sw, h('span', {class: 'name'}, first, second ? h('span', {class: 'muted'}, ` ${second}`) : null),
    h('span', {class: 'num'}, fmtInt(counts[k].n)), h('span', {class: 'num muted'}, fmtCompact(counts[k].people)));
  }));
  const byHazard = new Map();
  city.zones.forEach((z, k) => {
    if (!byHazard.has(z.hazard)) byHazard.set(z.hazard, []);
    byHazard.get(z.hazard).push(k);
  });
  fill($('#zone-list'), [...byHazard].map(([hazard, ks]) => {
    const sw = h('span', {class: 'swatch hatch'});
    sw.style.background = city.hazardColour(hazard);
    return h('details', {open: true}, h('summary', {}, sw, ' ', t('city.hazard_group', {hazard: city.hazardLabel(hazard), count: ks.length})),
      h('ul', {}, ks.map((k) => {
        const z = city.zones[k];
        const p = z.annual_probability;
        return h('li', {}, h('label', {title: z.id},
          h('input', {type: 'checkbox', value: z.id, checked: app.cityZones.has(k), onchange: (e) => {
            if (e.target.checked) app.cityZones.add(k); else app.cityZones.delete(k);
            updateCityZones();
          }}),
          ` ${z.name || z.id}`,
          h('span', {class: 'muted'}, ' · ', t('city.exposed', {count: z.assets.length}),
            p ? ` · ${t('city.return_period', {years: Math.round(1 / p)})}` : '')));
      })));
  }));
  // map legend
  const keyTypes = city.types.filter((type) => type.map_zoom != null);
  fill($('#map-legend .legend-body'),
    h('div', {class: 'legend-row'}, h('span', {class: 'dot'}), t('map.legend_asset')),
    h('div', {class: 'legend-row'}, h('span', {class: 'swatch hatch flood'}), t('map.legend_zone')),
    h('div', {class: 'legend-row only-cascade'}, h('span', {class: 'dot failed'}), t('map.legend_failed_now')),
    h('div', {class: 'legend-row only-cascade'}, h('span', {class: 'dot failed-old'}), t('map.legend_failed_before')),
    h('div', {class: 'legend-row only-live'}, h('span', {class: 'dot forecast'}), t('map.legend_forecast')),
    h('div', {class: 'legend-row'}, h('span', {class: 'ring'}), t('map.legend_initial')),
    h('details', {class: 'legend-types'}, h('summary', {}, t('map.legend_key')),
      keyTypes.map((type) => h('div', {class: 'legend-row'}, icon(type, 6), city.typeLabel(type.name)))));
  // the hazard zone swatch in the colour of the hazard most zones are of
  $('#map-legend .flood').style.background = city.hazardColour(commonest(city.zones.map((z) => z.hazard)));
  $('#map-legend .dot.failed').style.background = FAILED;
}

// ---------------------------------------------------------------- go
const key = getKey();
if (key) connect(key);
else languageReady.then(() => askForKey());
