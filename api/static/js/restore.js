// Restoration (#/restore?fail=ID,…|zones=ZONE,…|live=1[&as_of=TIME]&method=exact): which crew repairs what, and when
// (POST /v1/restorations). The plan against the naive order, the curve of people served again, and
// a Gantt per agency: one lane per crew, one bar per repair, coloured by the asset's sector.

import {api, explain} from './api.js';
import {fmtCompact, fmtHours, fmtInt, placeName, t, tNodes} from './i18n.js';
import {fill, h, s} from './util.js';

const EXACT_SECONDS = 20;  // the exact method's time limit here: well inside the server's request limit
let cache = {key: '', plan: null};
let seq = 0;

/** The request of a scenario: damaged asset ids (`fail`), hazard zones, or what is down (`live`, at `asOf`
 * or now), and the method. */
export function restorationBody({fail, zones, live, asOf, method}) {
  let body;
  if (live) body = asOf ? {live: true, as_of: asOf} : {live: true};
  else body = zones ? {hazard_zones: zones} : {fail};
  if (method === 'exact') Object.assign(body, {method: 'exact', time_limit: EXACT_SECONDS});
  return body;
}

/** Fetch (or reuse) the plan of `scenario` and draw it into `el` ({root, status, summary, curve, gantt}). */
export async function renderRestoration({city, scenario, el, again = false}) {
  const body = restorationBody(scenario);
  const key = `${city.version}|${JSON.stringify(body)}`;
  const mine = ++seq;
  // what is down "now" moves with the events: asked again on each visit (not on a change of language)
  const moving = body.live && !body.as_of && !again;
  if (cache.key !== key || moving) {
    if (again) return;  // a change of language while the plan is still coming: it is drawn when it comes
    el.root.dataset.state = 'running';
    el.status.textContent = t(scenario.method === 'exact' ? 'restore.running_exact' : 'restore.running');
    el.status.className = 'status busy';
    let plan;
    try {
      plan = await api('/v1/restorations', {method: 'POST', body});
    } catch (err) {
      if (mine !== seq) return;
      el.status.textContent = t('restore.failed', {reason: explain(err)});
      el.status.className = 'status error';
      el.root.dataset.state = 'error';
      return;
    }
    if (mine !== seq) return;
    cache = {key, plan};
  }
  const {plan} = cache;
  el.status.textContent = '';
  el.status.className = 'status';
  renderSummary(plan, el.summary);
  renderCurve(city, plan, el.curve);
  renderGantt(city, plan, el.gantt);
  el.root.dataset.state = 'done';
}

function lastEnd(plan) {
  return plan.schedule.reduce((end, r) => Math.max(end, r.end), 0);
}

function renderSummary(plan, host) {
  if (!plan.damaged.length) { fill(host, h('p', {}, t('restore.nothing'))); return; }
  const naive = plan.naive.unserved_people_hours;
  const saved = naive - plan.unserved_people_hours;
  let method = t('restore.method_heuristic');
  if (plan.method === 'exact') {
    method = plan.optimal ? t('restore.method_optimal')
      : t('restore.method_gap', {gap: plan.gap === null ? '—' : `${(100 * plan.gap).toFixed(1)}%`});
  }
  fill(host,
    h('p', {}, tNodes('restore.summary', {count: plan.damaged.length,
      end: h('b', {}, fmtHours(lastEnd(plan), {long: true}))})),
    h('div', {class: 'stats'},
      stat('plan-hours', plan.unserved_people_hours, t('restore.stat_plan')),
      stat('naive-hours', naive, t('restore.stat_naive')),
      stat('saved-share', naive > 0 ? Math.round((100 * saved) / naive) : 0, t('restore.stat_saved'), '%')),
    h('p', {class: 'muted small'}, method));
}

function stat(id, value, label, unit = '') {
  return h('div', {class: 'stat'}, h('output', {id, dataset: {value: String(value)}},
    unit ? `${fmtInt(value)}${unit}` : fmtCompact(value)), h('span', {}, label));
}

/** Ticks for a span of hours: every few hours, days or weeks, about six of them. */
function ticks(end) {
  const steps = [1, 2, 6, 12, 24, 48, 72, 168, 336, 720, 1440, 2160, 4320];
  const step = steps.find((x) => end / x <= 7) || steps[steps.length - 1];
  const out = [];
  for (let hour = 0; hour <= end + 1e-9; hour += step) out.push(hour);
  return out;
}

function tickLabel(hour) {
  return hour >= 48 && hour % 24 === 0 ? t('restore.tick_days', {days: hour / 24}) : t('restore.tick_hours', {hours: hour});
}

/** People still without service over time, falling to 0 as repairs end: its area is the plan's people-hours. */
function renderCurve(city, plan, host) {
  const W = 720;
  const H = 150;
  const pad = {l: 54, r: 12, t: 12, b: 22};
  const total = city.population.reduce((a, b) => a + b, 0);
  const unserved = plan.curve.map((p) => ({time: p.time, people: Math.max(0, total - p.population_served)}));
  const top = Math.max(1, ...unserved.map((p) => p.people));
  const end = Math.max(1, lastEnd(plan));
  const x = (hour) => pad.l + (hour / end) * (W - pad.l - pad.r);
  const y = (people) => H - pad.b - (people / top) * (H - pad.t - pad.b);
  let d = '';
  unserved.forEach((p, k) => {
    d += k === 0 ? `M${x(p.time).toFixed(1)},${y(p.people).toFixed(1)}` : `H${x(p.time).toFixed(1)}V${y(p.people).toFixed(1)}`;
  });
  const marks = ticks(end).flatMap((hour) => [
    s('line', {x1: x(hour), x2: x(hour), y1: H - pad.b, y2: H - pad.b + 4, class: 'tick'}),
    s('text', {x: x(hour), y: H - 5, class: 'tick-label'}, tickLabel(hour))]);
  fill(host, s('svg', {viewBox: `0 0 ${W} ${H}`, class: 'timeline restore-curve', role: 'img',
    'aria-label': t('restore.curve_label', {people: fmtInt(unserved.length ? unserved[0].people : 0),
      end: fmtHours(end, {long: true})})},
  s('path', {d: `${d}V${y(0)}H${x(0)}Z`, class: 'area'}), s('path', {d, class: 'line'}),
  s('text', {x: pad.l - 6, y: y(top) + 4, class: 'axis-label'}, fmtCompact(top)),
  s('text', {x: pad.l - 6, y: y(0), class: 'axis-label'}, '0'),
  ...marks));
}

function renderGantt(city, plan, host) {
  const byAgency = new Map();
  for (const r of plan.schedule) {
    const key = r.agency ?? '';
    if (!byAgency.has(key)) byAgency.set(key, []);
    byAgency.get(key).push(r);
  }
  const end = Math.max(1, lastEnd(plan));
  // the agency that paces the recovery (its last repair ends last) first, as the CLI's briefing does
  const agencies = [...byAgency].map(([agency, repairs]) => ({agency, repairs,
    done: Math.max(...repairs.map((r) => r.end)), crews: Math.max(...repairs.map((r) => r.crew))}))
    .sort((a, b) => b.done - a.done || a.agency.localeCompare(b.agency));
  const W = 720;
  const lane = 18;
  const pad = {l: 54, r: 12};
  const x = (hour) => pad.l + (hour / end) * (W - pad.l - pad.r);
  fill(host, agencies.map(({agency, repairs, done, crews}) => {
    const name = agency ? placeName(city.agencyName(agency)).filter(Boolean).join(' ') : t('restore.no_agency');
    const H = crews * lane + 22;
    const bars = repairs.map((r) => {
      const i = city.index.get(r.id);
      const type = i === undefined ? null : city.typeOf(i).name;
      const colour = type ? city.sector(city.sectorOfType(type)).colour : '#94a3b8';
      const top = (r.crew - 1) * lane + 2;
      const width = Math.max(1.5, x(r.end) - x(r.start));
      const title = t('restore.bar_title', {id: r.id, type: type ? city.typeLabel(type) : '—',
        from: fmtHours(r.start), to: fmtHours(r.end)});
      return s('a', {href: `#/asset/${encodeURIComponent(r.id)}`, class: 'bar', dataset: {id: r.id, crew: String(r.crew)}},
        s('title', {}, title),
        s('rect', {x: x(r.start), y: top, width, height: lane - 4, rx: 2, fill: colour}),
        width > 8 * r.id.length ? s('text', {x: x(r.start) + 3, y: top + lane - 8, class: 'bar-label'}, r.id) : null);
    });
    const laneLabels = Array.from({length: crews}, (_, k) =>
      s('text', {x: pad.l - 6, y: k * lane + lane - 5, class: 'axis-label'}, t('restore.crew', {number: k + 1})));
    const marks = ticks(end).flatMap((hour) => [
      s('line', {x1: x(hour), x2: x(hour), y1: 0, y2: crews * lane, class: 'grid'}),
      s('text', {x: x(hour), y: H - 6, class: 'tick-label'}, tickLabel(hour))]);
    return h('section', {class: 'gantt-agency', dataset: {agency}},
      h('h4', {}, name, ' ', h('span', {class: 'muted small'}, t('restore.agency_note',
        {count: repairs.length, crews, done: fmtHours(done, {long: true})}))),
      s('svg', {viewBox: `0 0 ${W} ${H}`, class: 'gantt', role: 'img',
        'aria-label': t('restore.gantt_label', {agency: name})}, ...marks, ...laneLabels, ...bars));
  }));
}
