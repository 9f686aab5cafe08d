// The CityKG page: asks for an API key once, loads the city, and routes between the views
// (#/asset/ID, #/city, #/cascade?fail=ID@HOURS,..., #/criticality) so every view is a link.

import {api, ApiError, clearKey, explain, getKey, setKey, whenUnauthorized} from './api.js';
import {CascadePanel} from './cascade.js';
import {City} from './city.js';
import {CityMap} from './citymap.js';
import {renderCriticality} from './criticality.js';
import {renderDependency, renderDependencyEmpty} from './dependency.js';
import {setUpFind} from './find.js';
import {districtColour, FAILED, typeIcon} from './palette.js';
import {$, $$, fill, fmtCompact, fmtHours, fmtInt, h, hashQuery, nameParts} from './util.js';

const app = {city: null, map: null, cascade: null, cityZones: new Set(), lastRun: '', picked: -1};
// timings (ms after navigation) read by the end-to-end tests: start, cityLoaded, mapReady, cityPainted
window.citykg = {timings: {start: performance.now()}, app};

// ---------------------------------------------------------------- key and start
function showBanner(message) {
  const banner = $('#banner');
  $('span', banner).textContent = message;
  banner.hidden = false;
}
$('#banner button').addEventListener('click', () => { $('#banner').hidden = true; });

function askForKey(message = '') {
  const dialog = $('#key-dialog');
  $('#key-error').textContent = message;
  $('#key-input').value = '';
  document.body.dataset.view = 'key';
  if (!dialog.open) dialog.showModal();
  $('#key-input').focus();
}

$('#key-dialog').addEventListener('cancel', (e) => e.preventDefault());  // no way around the key
$('#key-form').addEventListener('submit', async (e) => {
  e.preventDefault();
  const key = $('#key-input').value.trim();
  if (!key) { $('#key-error').textContent = 'Enter the API key you were given (KG_API_KEYS on the server).'; return; }
  $('#key-submit').disabled = true;
  $('#key-error').textContent = '';
  try {
    await connect(key);
  } finally {
    $('#key-submit').disabled = false;
  }
});

async function connect(key) {
  $('#status').textContent = 'Loading the city…';
  let raw;
  try {
    raw = await api('/v1/city', {key});
  } catch (err) {
    $('#status').textContent = '';
    let message = explain(err);
    if (err instanceof ApiError && err.status === 401) {
      message = 'That API key was not accepted by the server (unknown API key). Check it and try again.';
    } else if (err instanceof ApiError && err.status === 403) {
      message = 'That API key may not read the city: it needs at least the read role.';
    }
    clearKey();
    askForKey(message);
    return;
  }
  setKey(key);
  const dialog = $('#key-dialog');
  if (dialog.open) dialog.close();
  start(raw);
}

whenUnauthorized(() => {
  clearKey();
  askForKey('The server no longer accepts your API key. Enter a valid one to go on.');
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
  const people = city.population.reduce((a, b) => a + b, 0);
  $('#status').textContent = `${city.name} · ${fmtInt(city.n)} assets`;
  $('#sign-out').hidden = false;
  $('#city-name').textContent = city.name;
  $('#city-summary').textContent =
    `${fmtInt(city.n)} assets · ${fmtInt(city.districts.length)} districts · ${fmtInt(people)} people · ${fmtInt(city.zones.length)} hazard zones`;
  app.map = new CityMap($('#map-wrap'), city, {onPick, describe});
  window.citykg.timings.mapReady = performance.now();
  app.cascade = new CascadePanel($('#cascade-panel'), city, app.map, {
    onScenarioChange: () => {
      if (app.cascade && app.cascade.result && routeName() === 'cascade') {
        app.cascade.clear();
        app.lastRun = '';
      }
    },
    onRun: (scenario) => { location.hash = cascadeHash(scenario); },
  });
  $('#zoom-in').addEventListener('click', () => app.map.zoom(1.5));
  $('#zoom-out').addEventListener('click', () => app.map.zoom(1 / 1.5));
  $('#zoom-fit').addEventListener('click', () => app.map.fit());
  setUpCityPanel();
  setUpFind($('#find-input'), $('#find-results'), city, (id) => { location.hash = `#/asset/${encodeURIComponent(id)}`; });
  const kindSelect = $('#dep-kind');
  for (const k of city.kinds) kindSelect.append(h('option', {value: k}, k));
  for (const sel of ['#dep-depth', '#dep-kind', '#dep-limit']) {
    $(sel).addEventListener('change', () => {
      const id = app.depId;
      if (id) location.hash = assetHash(id);
    });
  }
  $('#crit-top').addEventListener('change', () => { location.hash = `#/criticality?top=${$('#crit-top').value}`; });
  window.addEventListener('hashchange', route);
  route();
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

function showView(name) {
  document.body.dataset.view = name;
  $('#view-dependency').hidden = name !== 'dependency';
  $('#view-map').hidden = name !== 'city' && name !== 'cascade';
  $('#city-panel').hidden = name !== 'city';
  $('#cascade-panel').hidden = name !== 'cascade';
  $('#view-criticality').hidden = name !== 'criticality';
  for (const a of $$('.tabs a')) a.setAttribute('aria-current', a.dataset.tab === name ? 'page' : 'false');
  if (name === 'city' || name === 'cascade') {
    app.map.setMode(name);
    app.map.resize();
  }
}

async function route() {
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
      await app.cascade.run(app.cascade.scenario());
    } else {
      app.cascade._renderScenario();
      if (app.cascade.result) app.map.setCascade(app.cascade.failTime, app.cascade.result.initial.map((f) => app.city.index.get(f.id)));
    }
  } else if (name === 'criticality') {
    showView('criticality');
    $('#crit-top').value = q.get('top') || '5';
    await renderCriticality({city: app.city, top: Number($('#crit-top').value), host: $('#crit-table'), status: $('#crit-status')});
  } else {
    showView('city');
    app.map.setZones([...app.cityZones]);
    const focus = q.get('focus');
    const i = focus ? app.city.index.get(focus) : undefined;
    if (i !== undefined) { showPicked(i); requestAnimationFrame(() => app.map.focus(i)); }
    markCityPainted();
  }
}

function parseFail(spec) {
  const at = spec.lastIndexOf('@');
  if (at > 0 && !app.city.index.has(spec)) {
    const t = Number(spec.slice(at + 1));
    return {id: spec.slice(0, at), time: Number.isFinite(t) && t >= 0 ? t : 0};
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
  const lines = [h('b', {}, city.ids[i]), h('div', {}, `${type.label} · ${d >= 0 ? nameParts(city.districts[d].name)[0] : '—'}`)];
  if (city.population[i]) lines.push(h('div', {class: 'muted'}, `${fmtInt(city.population[i])} people`));
  const panel = app.cascade;
  if (routeName() === 'cascade' && panel && panel.result) {
    const f = panel.failTime[i];
    if (Number.isFinite(f)) {
      const failure = panel.result.failures.find((x) => x.id === city.ids[i]);
      const cause = failure && failure.cause ? ` — lost ${failure.cause.kind} from ${failure.cause.providers.slice(0, 3).join(', ')}` : ' — initial failure';
      lines.push(h('div', {class: 'fail-line'}, `fails at ${fmtHours(f)}${cause}`));
    } else {
      lines.push(h('div', {class: 'muted'}, 'does not fail'));
    }
  } else if (routeName() === 'cascade') {
    lines.push(h('div', {class: 'muted'}, 'click to add it to (or remove it from) the initial failures'));
  }
  return h('div', {}, lines);
}

function onPick(i) {
  if (routeName() === 'cascade') {
    if (i >= 0) app.cascade.toggleAsset(i);
    return;
  }
  showPicked(i);
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
    h('div', {class: 'picked-head'}, icon(type), h('b', {}, id), h('span', {class: 'muted'}, ` ${type.label}`)),
    h('div', {class: 'muted small'}, `${d >= 0 ? city.districts[d].name : '—'} · ${city.agencyName(city.agencies[city.agency[i]]?.id)}`),
    city.population[i] ? h('div', {class: 'small'}, `${fmtInt(city.population[i])} people`) : null,
    h('div', {class: 'actions'},
      h('a', {class: 'button', href: `#/asset/${encodeURIComponent(id)}`}, 'Dependencies'),
      h('a', {class: 'button danger', href: `#/cascade?fail=${encodeURIComponent(id)}`}, 'Fail it → cascade'))));
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
  const counts = city.districts.map(() => ({n: 0, people: 0}));
  for (let i = 0; i < city.n; i++) {
    const d = city.district[i];
    if (d >= 0) { counts[d].n++; counts[d].people += city.population[i]; }
  }
  fill($('#district-list'), city.districts.map((d, k) => {
    const sw = h('span', {class: 'swatch'});
    sw.style.background = districtColour(k);
    const [en, zh] = nameParts(d.name || d.id);
    const zoomTo = () => {
      const members = [];
      for (let i = 0; i < city.n; i++) if (city.district[i] === k) members.push(i);
      app.map.fitTo(members);
    };
    return h('li', {title: `Zoom to ${en}`, tabindex: 0, onclick: zoomTo, onkeydown: (e) => { if (e.key === 'Enter') zoomTo(); }},
      sw, h('span', {class: 'name'}, en, zh ? h('span', {class: 'muted'}, ` ${zh}`) : null),
      h('span', {class: 'num'}, fmtInt(counts[k].n)), h('span', {class: 'num muted'}, fmtCompact(counts[k].people)));
  }));
  const byHazard = new Map();
  city.zones.forEach((z, k) => {
    if (!byHazard.has(z.hazard)) byHazard.set(z.hazard, []);
    byHazard.get(z.hazard).push(k);
  });
  const update = () => {
    app.map.setZones([...app.cityZones]);
    $('#zones-cascade').disabled = app.cityZones.size === 0;
  };
  fill($('#zone-list'), [...byHazard].map(([hazard, ks]) => {
    const sw = h('span', {class: 'swatch hatch'});
    sw.style.background = city.hazardColour(hazard);
    return h('details', {open: true}, h('summary', {}, sw, ` ${hazard} (${ks.length})`),
      h('ul', {}, ks.map((k) => {
        const z = city.zones[k];
        const p = z.annual_probability;
        return h('li', {}, h('label', {title: z.id},
          h('input', {type: 'checkbox', value: z.id, onchange: (e) => {
            if (e.target.checked) app.cityZones.add(k); else app.cityZones.delete(k);
            update();
          }}),
          ` ${z.name || z.id}`,
          h('span', {class: 'muted'}, ` · ${fmtInt(z.assets.length)} exposed${p ? ` · 1 in ${Math.round(1 / p)} yr` : ''}`)));
      })));
  }));
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
  for (const box of $$('#zone-list input[type=checkbox]')) box.checked = app.cityZones.has(city.zoneIndex.get(box.value));
  update();
  // map legend
  const keyTypes = city.types.filter((t) => t.map_zoom != null);
  fill($('#map-legend'),
    h('div', {class: 'legend-row'}, h('span', {class: 'dot'}), 'asset, coloured by district'),
    h('div', {class: 'legend-row'}, h('span', {class: 'swatch hatch flood'}), 'hazard zone (shaded)'),
    h('div', {class: 'legend-row only-cascade'}, h('span', {class: 'dot failed'}), 'failed in the last hour'),
    h('div', {class: 'legend-row only-cascade'}, h('span', {class: 'dot failed-old'}), 'failed earlier'),
    h('div', {class: 'legend-row'}, h('span', {class: 'ring'}), 'initial failure / chosen'),
    h('details', {class: 'legend-types'}, h('summary', {}, 'key facilities'),
      keyTypes.map((t) => h('div', {class: 'legend-row'}, icon(t, 6), t.label))));
  // the hazard zone swatch in the colour of the hazard most zones are of
  $('#map-legend .flood').style.background = city.hazardColour(commonest(city.zones.map((z) => z.hazard)));
  $('#map-legend .dot.failed').style.background = FAILED;
}

// ---------------------------------------------------------------- go
const key = getKey();
if (key) connect(key);
else askForKey();
