// Robustness: how much of the city keeps working as more and more assets are removed (POST /v1/robustness).
// Each run adds its curve to one chart (a run of the same model and attack replaces its curve), so attacks
// and models compare at a glance: assets still functional (solid) and people still served (dashed).

import {api, explain} from './api.js';
import {language, t} from './i18n.js';
import {$, fill, h, s} from './util.js';

const STEPS = 50;
const SAMPLES = 5;  // random orders averaged; the deterministic attacks run once
const MOST = 4;
const COLOURS = ['#ff6b61', '#4ea1ff', '#22c55e', '#f59e0b'];

const curves = [];  // {model, attack, result}, oldest first
let seq = 0;

const percent = (v) => new Intl.NumberFormat(language(), {style: 'percent', maximumFractionDigits: 0}).format(v);
const decimal = (v) => new Intl.NumberFormat(language(), {minimumFractionDigits: 3, maximumFractionDigits: 3}).format(v);
const name = (c) => t('robust.curve', {model: t(`robust.model_${c.model.replace('-', '_')}`), attack: t(`robust.attack_${c.attack}`)});

/** Wire the panel's controls once; `host` is the panel element. */
export function setUpRobustness(host) {
  $('#robust-run', host).addEventListener('click', () => run(host));
  $('#robust-clear', host).addEventListener('click', () => {
    curves.length = 0;
    seq++;
    renderRobustness(host);
  });
}

async function run(host) {
  const model = $('#robust-model', host).value;
  const attack = $('#robust-attack', host).value;
  const status = $('#robust-status', host);
  const mine = ++seq;
  status.textContent = t('robust.busy');
  status.className = 'status busy';
  host.dataset.state = 'loading';
  $('#robust-run', host).disabled = true;
  let result;
  try {
    result = await api('/v1/robustness', {method: 'POST', body: {model, attack, steps: STEPS, samples: attack === 'random' ? SAMPLES : 1, seed: 0}});
  } catch (err) {
    if (mine !== seq) return;
    status.textContent = t('robust.failed', {reason: explain(err)});
    status.className = 'status error';
    host.dataset.state = 'error';
    $('#robust-run', host).disabled = false;
    return;
  } finally {
    if (mine === seq) $('#robust-run', host).disabled = false;
  }
  if (mine !== seq) return;
  const same = curves.findIndex((c) => c.model === model && c.attack === attack);
  if (same >= 0) curves.splice(same, 1);
  curves.push({model, attack, result});
  if (curves.length > MOST) curves.shift();
  status.textContent = '';
  status.className = 'status';
  renderRobustness(host);
}

/** Draw the chart and the legend of the curves run so far (again after a change of language). */
export function renderRobustness(host) {
  const chart = $('#robust-chart', host);
  const legend = $('#robust-legend', host);
  $('#robust-clear', host).hidden = curves.length === 0;
  if (!curves.length) {
    fill(chart);
    fill(legend);
    host.dataset.state = 'idle';
    return;
  }
  const W = 520;
  const H = 240;
  const pad = {l: 40, r: 10, t: 10, b: 30};
  const x = (v) => pad.l + v * (W - pad.l - pad.r);
  const y = (v) => H - pad.b - v * (H - pad.t - pad.b);
  const grid = [];
  for (const v of [0, 0.25, 0.5, 0.75, 1]) {
    grid.push(s('line', {x1: x(0), x2: x(1), y1: y(v), y2: y(v), class: 'grid'}),
      s('text', {x: pad.l - 5, y: y(v) + 3, class: 'axis-label'}, percent(v)),
      s('text', {x: x(v), y: H - pad.b + 13, class: 'tick-label'}, percent(v)));
  }
  const lines = curves.map((c, k) => {
    const colour = COLOURS[k % COLOURS.length];
    const path = (field) => c.result.points.map((p, i) => `${i ? 'L' : 'M'}${x(p.removed).toFixed(1)},${y(p[field]).toFixed(1)}`).join('');
    const g = s('g', {class: 'curve', dataset: {model: c.model, attack: c.attack}},
      s('line', {x1: x(c.result.critical_removed), x2: x(c.result.critical_removed), y1: y(0), y2: y(1), class: 'critical', stroke: colour}),
      s('path', {d: path('population'), class: 'population', stroke: colour}),
      s('path', {d: path('functional'), class: 'functional', stroke: colour}));
    return {c, colour, g};
  });
  fill(chart, s('svg', {viewBox: `0 0 ${W} ${H}`, class: 'robust-chart', role: 'img', 'aria-label': t('robust.chart_label')},
    ...grid,
    s('line', {x1: x(0), y1: y(1), x2: x(1), y2: y(0), class: 'diagonal'}),
    ...lines.map((l) => l.g),
    s('text', {x: x(0.5), y: H - 3, class: 'tick-label'}, t('robust.x_axis'))));
  fill(legend, lines.slice().reverse().map(({c, colour}) => {
    const sw = h('span', {class: 'swatch'});
    sw.style.background = colour;
    return h('li', {dataset: {model: c.model, attack: c.attack, r: String(c.result.R)}}, sw, ' ',
      h('strong', {}, name(c)), ' ',
      h('span', {class: 'muted'}, t('robust.summary', {r: decimal(c.result.R), critical: percent(c.result.critical_removed)})));
  }), h('li', {class: 'muted small key'}, t('robust.key')));
  host.dataset.state = 'ready';
}
