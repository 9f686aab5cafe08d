// The cascade panel: build a scenario (assets clicked on the map, or hazard zones), run it through
// POST /v1/cascades, then replay it hour by hour on the map with running totals, a timeline,
// impact per district and the coordination matrices (who must talk to whom, from when).

import {api, explain} from './api.js';
import {districtColour} from './palette.js';
import {fmtCompact, fmtHours, fmtInt, placeName, t, tNodes} from './i18n.js';
import {$, fill, h, s} from './util.js';

const MATRIX_LIMIT = 16;

export class CascadePanel {
  constructor(root, city, map, {onScenarioChange = () => {}, onRun = () => {}} = {}) {
    this.root = root;
    this.city = city;
    this.map = map;
    this.onScenarioChange = onScenarioChange;
    this.onRun = onRun;
    this.mode = 'assets';
    this.fail = [];          // [{id, time}]
    this.zones = new Set();  // zone indexes
    this.horizon = null;
    this.result = null;
    this.coord = null;
    this.time = 0;
    this.playing = 0;
    this.matrix = 'agencies';
    this.agencyLevel = 'department';
    this._build();
  }

  // ------------------------------------------------------------------ scenario
  _build() {
    const r = this.root;
    this.el = {
      modeAssets: $('#scenario-mode-assets', r),
      modeZones: $('#scenario-mode-zones', r),
      failList: $('#scenario-fail', r),
      zoneList: $('#scenario-zones', r),
      horizon: $('#scenario-horizon', r),
      run: $('#run-cascade', r),
      status: $('#cascade-status', r),
      results: $('#cascade-results', r),
      slider: $('#cascade-time', r),
      play: $('#cascade-play', r),
      clock: $('#cascade-clock', r),
      failed: $('#failed-count', r),
      people: $('#population-count', r),
      agencies: $('#agencies-count', r),
      districts: $('#districts-count', r),
      finalNote: $('#cascade-final', r),
      chart: $('#cascade-chart', r),
      matrixHost: $('#coordination-matrix', r),
      matrixNote: $('#coordination-note', r),
      actFirst: $('#act-first', r),
      impact: $('#district-impact', r),
      warnings: $('#cascade-warnings', r),
    };
    const e = this.el;
    e.modeAssets.addEventListener('change', () => this.setMode('assets'));
    e.modeZones.addEventListener('change', () => this.setMode('zones'));
    e.horizon.addEventListener('input', () => {
      const v = e.horizon.value.trim();
      this.horizon = v === '' ? null : Number(v);
    });
    e.run.addEventListener('click', () => this.onRun(this.scenario()));
    e.slider.addEventListener('input', () => this.setTime(Number(e.slider.value)));
    e.play.addEventListener('click', () => this.togglePlay());
    for (const b of r.querySelectorAll('[data-matrix]')) {
      b.addEventListener('click', () => { this.matrix = b.dataset.matrix; this._renderMatrix(); });
    }
    $('#agency-level', r).addEventListener('change', (ev) => { this.agencyLevel = ev.target.value; this._renderMatrix(); });
    e.play.textContent = t('cascade.play');
    this._renderZoneChoices();
    this._renderScenario();
  }

  setMode(mode) {
    this.mode = mode;
    this.el.modeAssets.checked = mode === 'assets';
    this.el.modeZones.checked = mode === 'zones';
    this.root.dataset.scenario = mode;
    this._renderScenario();
  }

  /** Add (or remove, if present) an asset to the initial failures. */
  toggleAsset(i) {
    const id = this.city.ids[i];
    const at = this.fail.findIndex((f) => f.id === id);
    if (at >= 0) this.fail.splice(at, 1);
    else this.fail.push({id, time: 0});
    this.setMode('assets');
  }

  setScenario({fail = null, zones = null, horizon = null}) {
    if (fail) { this.fail = fail.map((f) => ({...f})); this.mode = 'assets'; }
    if (zones) { this.zones = new Set(zones.map((z) => this.city.zoneIndex.get(z)).filter((z) => z !== undefined)); this.mode = 'zones'; }
    this.horizon = horizon;
    this.el.horizon.value = horizon === null ? '' : String(horizon);
    this._renderZoneChoices();
    this.setMode(this.mode);
  }

  scenario() {
    const horizon = this.horizon === null || Number.isNaN(this.horizon) ? null : this.horizon;
    if (this.mode === 'zones') return {zones: [...this.zones].map((z) => this.city.zones[z].id), horizon};
    return {fail: this.fail.map((f) => ({...f})), horizon};
  }

  /** Draw the scenario (chips, zones, rings on the map); `changed`: the user changed it (a result shown goes stale). */
  _renderScenario({changed = true} = {}) {
    const e = this.el;
    const {city} = this;
    fill(e.failList, this.fail.length ? this.fail.map((f, k) => {
      const i = city.index.get(f.id);
      const time = h('input', {type: 'number', min: 0, step: 0.5, value: f.time, class: 'hour', 'aria-label': t('cascade.fail_hour_label', {id: f.id}),
        oninput: (ev) => { const v = Number(ev.target.value); f.time = Number.isFinite(v) && v >= 0 ? v : 0; }});
      return h('li', {class: 'chip'},
        h('span', {class: 'chip-id', title: i === undefined ? f.id : city.typeLabel(city.typeOf(i).name)}, f.id),
        h('span', {class: 'muted'}, i === undefined ? '' : city.typeLabel(city.typeOf(i).name)),
        h('label', {class: 'at'}, tNodes('cascade.fails_at_input', {input: time})),
        h('button', {class: 'icon-btn', type: 'button', title: t('cascade.remove', {id: f.id}), 'aria-label': t('cascade.remove', {id: f.id}),
          onclick: () => { this.fail.splice(k, 1); this._renderScenario(); }}, '×'));
    }) : h('li', {class: 'hint'}, t('cascade.hint')));
    const ready = this.mode === 'zones' ? this.zones.size > 0 : this.fail.length > 0;
    e.run.disabled = !ready;
    this.map.setScenario(this.mode === 'assets' ? this.fail.map((f) => city.index.get(f.id)).filter((i) => i !== undefined) : []);
    this.map.setZones(this.mode === 'zones' ? [...this.zones] : []);
    if (changed) this.onScenarioChange();
  }

  _renderZoneChoices() {
    const {city} = this;
    const byHazard = new Map();
    city.zones.forEach((z, k) => {
      if (!byHazard.has(z.hazard)) byHazard.set(z.hazard, []);
      byHazard.get(z.hazard).push(k);
    });
    fill(this.el.zoneList, [...byHazard].map(([hazard, ks]) => h('details', {open: byHazard.size < 3},
      h('summary', {}, t('cascade.hazard_zones', {hazard: city.hazardLabel(hazard), count: ks.length})),
      h('ul', {}, ks.map((k) => {
        const z = city.zones[k];
        const box = h('input', {type: 'checkbox', checked: this.zones.has(k), value: z.id,
          onchange: (ev) => {
            if (ev.target.checked) this.zones.add(k); else this.zones.delete(k);
            this.setMode('zones');
          }});
        return h('li', {}, h('label', {title: z.id}, box, ` ${z.name || z.id}`,
          h('span', {class: 'muted'}, ' · ', t('city.exposed', {count: z.assets.length}))));
      })))));
  }

  // ------------------------------------------------------------------ running
  async run(scenario) {
    const e = this.el;
    this.stop();
    const body = scenario.zones ? {hazard_zones: scenario.zones} : {fail: scenario.fail};
    if (scenario.horizon !== null && scenario.horizon !== undefined) body.horizon_hours = scenario.horizon;
    e.status.textContent = t('cascade.running');
    e.status.className = 'status busy';
    e.run.disabled = true;
    this.root.dataset.state = 'running';
    try {
      const [result, coord] = await Promise.all([
        api('/v1/cascades', {method: 'POST', body}),
        api('/v1/city/coordination', {method: 'POST', body}),
      ]);
      this.show(result, coord);
      e.status.textContent = '';
      e.status.className = 'status';
    } catch (err) {
      e.status.textContent = t('cascade.failed', {reason: explain(err)});
      e.status.className = 'status error';
      this.root.dataset.state = 'error';
    } finally {
      e.run.disabled = false;
    }
  }

  show(result, coord) {
    const {city} = this;
    this.result = result;
    this.coord = coord;
    const failTime = new Float64Array(city.n).fill(Infinity);
    for (const f of result.failures) {
      const i = city.index.get(f.id);
      if (i !== undefined) failTime[i] = f.time;
    }
    this.failTime = failTime;
    this.times = result.failures.map((f) => f.time);  // sorted by time (the API's order)
    this.cumPeople = [];
    let acc = 0;
    for (const f of result.failures) { acc += f.population; this.cumPeople.push(acc); }
    const last = this.times.length ? this.times[this.times.length - 1] : 0;
    this.maxHour = Math.max(1, Math.ceil(last));
    const initial = result.initial.map((f) => city.index.get(f.id)).filter((i) => i !== undefined);
    this.map.setCascade(failTime, initial);
    this.map.fitTo(result.failures.map((f) => city.index.get(f.id)).filter((i) => i !== undefined));
    const e = this.el;
    e.slider.max = String(this.maxHour);
    e.slider.value = String(this.maxHour);
    this.lastFailure = last;
    this._renderSummary();
    this.root.dataset.state = 'done';
    this._renderChart();
    this._renderActFirst();
    this.setTime(this.maxHour);
    // under the map (a phone or tablet), the results start below the scenario: bring the clock into sight
    if (matchMedia('(max-width: 900px)').matches) e.results.scrollIntoView({block: 'start'});
  }

  /** The sentence under the chart and the data warning, in the page's language. */
  _renderSummary() {
    const {result} = this;
    const e = this.el;
    const sm = result.summary;
    const by = result.horizon_hours === null ? t('cascade.until_quiet') : t('cascade.by_horizon', {time: fmtHours(result.horizon_hours)});
    fill(e.finalNote, tNodes('cascade.summary', {failed: sm.failed, people: sm.population, agencies: sm.agencies,
      districts: (sm.regions || {}).district || 0, last: h('b', {}, fmtHours(this.lastFailure, {long: true})), by}));
    const warnings = result.baseline_errors || [];
    fill(e.warnings, warnings.length ? h('p', {class: 'warn'}, t('cascade.loops', {count: warnings.length})) : null);
  }

  /** After a change of language: every text of the panel again, nothing run again. */
  relabel() {
    this._renderZoneChoices();
    this._renderScenario({changed: false});
    if (this.playing) this.el.play.textContent = t('cascade.pause');
    else this.el.play.textContent = t('cascade.play');
    if (!this.result) return;
    this._renderSummary();
    this._renderChart();
    this._renderActFirst();
    this.setTime(this.time);
  }

  clear() {
    this.stop();
    this.result = null;
    this.map.setCascade(null, []);
    this.root.dataset.state = 'idle';
  }

  // ------------------------------------------------------------------ time
  /** How many failures happen at or before hour `hour` (binary search in the sorted times). */
  countAt(hour) {
    const a = this.times;
    let lo = 0;
    let hi = a.length;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (a[mid] <= hour + 1e-9) lo = mid + 1; else hi = mid;
    }
    return lo;
  }

  setTime(hour) {
    if (!this.result) return;
    this.time = hour;
    const e = this.el;
    if (Number(e.slider.value) !== hour) e.slider.value = String(hour);
    const n = this.countAt(hour);
    const people = n ? this.cumPeople[n - 1] : 0;
    const agencies = new Set();
    const districts = new Map();
    for (let k = 0; k < n; k++) {
      const f = this.result.failures[k];
      if (f.agency) agencies.add(f.agency);
      const d = f.regions && f.regions.district;
      if (d) {
        const entry = districts.get(d) || {failed: 0, people: 0};
        entry.failed += 1;
        entry.people += f.population;
        districts.set(d, entry);
      }
    }
    e.clock.textContent = fmtHours(hour, {long: true});
    e.failed.textContent = fmtInt(n);
    e.failed.dataset.value = String(n);
    e.people.textContent = fmtInt(people);
    e.people.dataset.value = String(people);
    e.agencies.textContent = fmtInt(agencies.size);
    e.districts.textContent = fmtInt(districts.size);
    this.root.dataset.time = String(hour);
    this.map.setTime(hour);
    this._moveCursor();
    this._renderImpact(districts);
    this._renderMatrix();
  }

  togglePlay() {
    if (this.playing) { this.stop(); return; }
    if (!this.result) return;
    if (this.time >= this.maxHour) this.setTime(0);
    this.el.play.textContent = t('cascade.pause');
    this.el.play.setAttribute('aria-pressed', 'true');
    const step = Math.max(1, Math.round(this.maxHour / 60));
    this.playing = setInterval(() => {
      const next = Math.min(this.maxHour, this.time + step);
      this.setTime(next);
      if (next >= this.maxHour) this.stop();
    }, 220);
  }

  stop() {
    if (this.playing) clearInterval(this.playing);
    this.playing = 0;
    this.el.play.textContent = t('cascade.play');
    this.el.play.setAttribute('aria-pressed', 'false');
  }

  // ------------------------------------------------------------------ pictures
  _renderChart() {
    const host = this.el.chart;
    const W = 520;
    const H = 96;
    const pad = {l: 44, r: 10, t: 8, b: 20};
    const total = Math.max(1, this.times.length);
    const x = (hour) => pad.l + (hour / this.maxHour) * (W - pad.l - pad.r);
    const y = (n) => H - pad.b - (n / total) * (H - pad.t - pad.b);
    let d = `M${x(0)},${y(0)}`;
    let prev = 0;
    this.times.forEach((hour, k) => {
      d += `H${x(hour).toFixed(1)}V${y(k + 1).toFixed(1)}`;
      prev = k + 1;
    });
    d += `H${x(this.maxHour)}`;
    const area = `${d}V${y(0)}H${x(0)}Z`;
    const ticks = [];
    const every = this.maxHour <= 12 ? 2 : this.maxHour <= 48 ? 6 : this.maxHour <= 120 ? 12 : 24;
    for (let hour = 0; hour <= this.maxHour; hour += every) {
      ticks.push(s('line', {x1: x(hour), x2: x(hour), y1: H - pad.b, y2: H - pad.b + 4, class: 'tick'}),
        s('text', {x: x(hour), y: H - 5, class: 'tick-label'}, t('cascade.tick', {hours: hour})));
    }
    this.cursor = s('line', {y1: pad.t - 4, y2: H - pad.b, class: 'cursor'});
    const svg = s('svg', {viewBox: `0 0 ${W} ${H}`, class: 'timeline', role: 'img', 'aria-label': t('cascade.chart_label')},
      s('path', {d: area, class: 'area'}), s('path', {d, class: 'line'}),
      s('text', {x: pad.l - 6, y: y(prev) + 4, class: 'axis-label'}, fmtCompact(prev)),
      s('text', {x: pad.l - 6, y: y(0), class: 'axis-label'}, '0'),
      ...ticks, this.cursor);
    svg.addEventListener('click', (ev) => {
      const r = svg.getBoundingClientRect();
      const hour = ((ev.clientX - r.left) / r.width * W - pad.l) / (W - pad.l - pad.r) * this.maxHour;
      this.stop();
      this.setTime(Math.max(0, Math.min(this.maxHour, Math.round(hour))));
    });
    this.chartX = x;
    fill(host, svg);
  }

  _moveCursor() {
    if (!this.cursor) return;
    const x = this.chartX(this.time);
    this.cursor.setAttribute('x1', x);
    this.cursor.setAttribute('x2', x);
  }

  _renderImpact(districts) {
    const {city} = this;
    const rows = [...districts].sort((a, b) => b[1].people - a[1].people || b[1].failed - a[1].failed);
    const top = rows.length ? rows[0][1].people || 1 : 1;
    fill(this.el.impact, rows.length ? rows.map(([d, v]) => {
      const k = city.districtIndex.get(d);
      const bar = h('span', {class: 'bar'});
      bar.style.width = `${Math.max(2, (100 * v.people) / top)}%`;
      bar.style.background = districtColour(k === undefined ? -1 : k);
      return h('li', {}, h('span', {class: 'name'}, placeName(city.districtName(d))[0]),
        h('span', {class: 'track'}, bar),
        h('span', {class: 'num'}, fmtInt(v.failed)), h('span', {class: 'num'}, fmtCompact(v.people)));
    }) : h('li', {class: 'hint'}, t('cascade.nothing_yet')));
  }

  _renderActFirst() {
    const {city} = this;
    const actors = (this.coord && this.coord.act_first) || [];
    fill(this.el.actFirst, actors.slice(0, 8).map((a) => h('li', {},
      h('span', {class: 'when'}, fmtHours(a.first)),
      h('span', {class: 'who', title: a.agency}, city.agencyName(a.agency)),
      h('span', {class: 'muted'}, ' · ', t('cascade.actor', {count: a.failures, first: a.first_asset})))));
    if (actors.length > 8) this.el.actFirst.append(h('li', {class: 'muted'}, t('cascade.more_agencies', {count: actors.length - 8})));
  }

  _renderMatrix() {
    if (!this.coord) return;
    const {city} = this;
    for (const b of this.root.querySelectorAll('[data-matrix]')) b.setAttribute('aria-pressed', String(b.dataset.matrix === this.matrix));
    $('#agency-level', this.root).hidden = this.matrix !== 'agencies';
    let contacts;
    let label;
    let full;
    if (this.matrix === 'agencies') {
      const group = this.agencyLevel === 'department' ? (id) => city.department(id) : (id) => id;
      const merged = new Map();
      for (const c of this.coord.agencies) {
        const key = `${group(c.from)}\u0000${group(c.to)}`;
        const m = merged.get(key);
        if (m) {
          m.first_contact = Math.min(m.first_contact, c.first_contact);
          m.first_failure = Math.min(m.first_failure, c.first_failure);
          m.failures += c.failures;
        } else {
          merged.set(key, {...c, from: group(c.from), to: group(c.to)});
        }
      }
      contacts = [...merged.values()];
      full = (id) => city.agencyName(id);
      label = (id) => shortAgency(city.agencyName(id), id, this.agencyLevel);
    } else {
      contacts = this.coord.regions;
      full = (id) => placeName(city.districtName(id)).filter(Boolean).join(' ');
      label = (id) => placeName(city.districtName(id))[0];
    }
    // parties in the order they first get involved
    // at equal times, the party whose failures reach most others first (the source of the trouble)
    const first = new Map();
    const out = new Map();
    for (const c of contacts) {
      for (const p of [c.from, c.to]) first.set(p, Math.min(first.get(p) ?? Infinity, c.first_contact));
      out.set(c.from, (out.get(c.from) || 0) + c.failures);
    }
    const parties = [...first.keys()].sort((a, b) => first.get(a) - first.get(b) ||
      (out.get(b) || 0) - (out.get(a) || 0) || (a < b ? -1 : 1));
    const shown = parties.slice(0, MATRIX_LIMIT);
    const at = new Map(contacts.map((c) => [`${c.from}\u0000${c.to}`, c]));
    const now = this.time;
    const maxT = Math.max(1, ...contacts.map((c) => c.first_contact));
    const table = h('table', {class: 'matrix', dataset: {kind: this.matrix}},
      h('thead', {}, h('tr', {}, h('th', {class: 'corner'}, h('span', {}, t('matrix.corner'))),
        shown.map((p) => h('th', {class: 'col', title: full(p), scope: 'col'}, h('span', {}, label(p)))))),
      h('tbody', {}, shown.map((row) => h('tr', {}, h('th', {scope: 'row', title: full(row)}, label(row)),
        shown.map((col) => {
          const c = at.get(`${row}\u0000${col}`);
          if (!c) return h('td', {class: row === col ? 'self' : ''});
          const active = c.first_contact <= now + 1e-9;
          const heat = 1 - c.first_contact / (maxT * 1.15);
          const cell = h('td', {class: `hit ${active ? 'now' : 'later'}`,
            title: `${full(c.from)} → ${full(c.to)}\n${t('matrix.cell', {contact: fmtHours(c.first_contact, {long: true}),
              failure: fmtHours(c.first_failure, {long: true}), count: c.failures})}`},
          c.first_contact < 10 ? c.first_contact.toFixed(c.first_contact % 1 ? 1 : 0) : Math.round(c.first_contact));
          if (active) cell.style.backgroundColor = `rgba(249, 115, 22, ${(0.25 + 0.7 * heat).toFixed(2)})`;
          return cell;
        })))));
    fill(this.el.matrixHost, contacts.length ? table : h('p', {class: 'hint'},
      t(this.matrix === 'agencies' ? 'matrix.one_agency' : 'matrix.one_district')));
    const active = contacts.filter((c) => c.first_contact <= now + 1e-9).length;
    fill(this.el.matrixNote, t('matrix.note'), ' ',
      tNodes('matrix.in_contact', {pairs: h('b', {}, t('matrix.pairs', {active, count: contacts.length})), time: fmtHours(now)}),
      parties.length > shown.length ? [' ', t('matrix.showing', {shown: shown.length, count: parties.length})] : '');
  }
}

function shortAgency(name, id, level) {
  if (level !== 'department') return id;
  const short = (name || id).replace(/^State Grid /, '').replace(/^Chongqing /, '').replace(/^Municipal /, '');
  return short.length > 26 ? `${short.slice(0, 25)}…` : short;
}

