// The what-if panel of the cascade view: after a cascade, add a buffer (a generator, a tank) or a second
// feed by clicking assets on the map, then compare through POST /v1/whatif — what is saved and delayed,
// and, as plainly, what fails anew or sooner (a fix that only moves the problem must be seen).

import {api, explain} from './api.js';
import {fmtHours, fmtInt, t} from './i18n.js';
import {$, fill, h} from './util.js';

const LISTED = 5;
const CHANGE_TEXT = {saved: 'whatif.saved', delayed: 'whatif.delayed', new: 'whatif.new', earlier: 'whatif.earlier'};

export class WhatIfPanel {
  /** `cascade`: the CascadePanel whose scenario and result the edits apply to. */
  constructor(root, city, map, cascade) {
    this.root = root;
    this.city = city;
    this.map = map;
    this.cascade = cascade;
    this.mode = 'off';      // 'off' (clicks fail assets), 'buffer' or 'feed'
    this.edits = [];
    this.feedFor = null;    // the failure whose second feed the next click chooses
    this.result = null;
    this.showing = 'after';
    this.el = {
      hours: $('#whatif-hours', root),
      prompt: $('#whatif-prompt', root),
      list: $('#whatif-edits', root),
      compare: $('#whatif-compare', root),
      status: $('#whatif-status', root),
      out: $('#whatif-result', root),
    };
    for (const b of root.querySelectorAll('[data-whatif-mode]')) {
      b.addEventListener('click', () => this.setMode(b.dataset.whatifMode));
    }
    this.el.compare.addEventListener('click', () => this.compare());
    this.setMode('off');
  }

  /** True when a click on the map is an edit (the cascade panel then leaves the failures alone). */
  get editing() { return this.mode !== 'off'; }

  setMode(mode) {
    this.mode = mode;
    this.feedFor = null;
    this.root.dataset.mode = mode;
    for (const b of this.root.querySelectorAll('[data-whatif-mode]')) b.setAttribute('aria-pressed', String(b.dataset.whatifMode === mode));
    this._renderPrompt();
  }

  /** A new cascade (or none): the edits stay, the comparison goes. */
  reset() {
    this.result = null;
    this.feedFor = null;
    this.root.dataset.state = 'idle';
    fill(this.el.out);
    this.el.status.textContent = '';
    this._render();
  }

  /** A click on asset `i` in an editing mode. */
  pick(i) {
    const id = this.city.ids[i];
    const failure = this.cascade.result && this.cascade.result.failures.find((f) => f.id === id);
    if (this.mode === 'feed' && this.feedFor) {
      const {id: dependent, cause} = this.feedFor;
      this.feedFor = null;
      if (id !== dependent) this._add({op: 'add_dependency', dependent, provider: id, kind: cause.kind, group: cause.group});
      this._renderPrompt();
      return;
    }
    if (!failure || !failure.cause) {
      this.el.prompt.textContent = failure ? t('whatif.initial', {id}) : t('whatif.not_failed', {id});
      return;
    }
    if (this.mode === 'buffer') {
      const hours = Number(this.el.hours.value);
      this._add({op: 'add_buffer', asset: id, kind: failure.cause.kind, group: failure.cause.group,
        hours: Number.isFinite(hours) && hours >= 0 ? hours : 24});
    } else {
      this.feedFor = failure;
      this._renderPrompt();
    }
  }

  _add(edit) {
    this.edits.push(edit);
    this.result = null;
    this.root.dataset.state = 'idle';
    fill(this.el.out);
    this._render();
  }

  _renderPrompt() {
    const key = {off: 'whatif.prompt_off', buffer: 'whatif.prompt_buffer', feed: 'whatif.prompt_feed'}[this.mode];
    this.el.prompt.textContent = this.feedFor
      ? t('whatif.prompt_provider', {id: this.feedFor.id, kind: this.city.kindLabel(this.feedFor.cause.kind)})
      : t(key);
  }

  _describe(e) {
    const kind = this.city.kindLabel(e.kind);
    return e.op === 'add_buffer'
      ? t('whatif.edit_buffer', {id: e.asset, hours: e.hours, kind})
      : t('whatif.edit_feed', {id: e.dependent, provider: e.provider, kind});
  }

  _render() {
    fill(this.el.list, this.edits.map((e, k) => h('li', {class: 'chip edit'},
      h('span', {}, this._describe(e)),
      h('button', {class: 'icon-btn', type: 'button', title: t('whatif.remove'), 'aria-label': t('whatif.remove'),
        onclick: () => { this.edits.splice(k, 1); this.reset(); }}, '×'))));
    this.el.compare.disabled = !this.edits.length || !this.cascade.result;
  }

  /** After a change of language: every text again, nothing sent again. */
  relabel() {
    this._renderPrompt();
    this._render();
    if (this.result) this._renderResult();
  }

  // ------------------------------------------------------------------ comparing
  async compare() {
    const scenario = this.cascade.scenario();
    const body = {edits: this.edits.map((e) => ({...e}))};
    if (scenario.zones) body.hazard = scenario.zones; else body.fail = scenario.fail;
    if (scenario.horizon !== null && scenario.horizon !== undefined) body.horizon_hours = scenario.horizon;
    const e = this.el;
    e.status.textContent = t('whatif.running');
    e.status.className = 'status busy';
    e.compare.disabled = true;
    this.root.dataset.state = 'running';
    try {
      this.result = await api('/v1/whatif', {method: 'POST', body});
      e.status.textContent = '';
      e.status.className = 'status';
      this.root.dataset.state = 'done';
      this.show('after');
    } catch (err) {
      e.status.textContent = t('whatif.failed', {reason: explain(err)});
      e.status.className = 'status error';
      this.root.dataset.state = 'error';
    } finally {
      e.compare.disabled = !this.edits.length;
    }
  }

  /** Draw the cascade before or after the edits on the map. */
  show(which) {
    if (!this.result) return;
    this.showing = which;
    const cascade = which === 'after' ? this.result.modified : this.result.baseline;
    const failTime = new Float64Array(this.city.n).fill(Infinity);
    for (const f of cascade.failures) {
      const i = this.city.index.get(f.id);
      if (i !== undefined) failTime[i] = f.time;
    }
    const initial = cascade.initial.map((f) => this.city.index.get(f.id)).filter((i) => i !== undefined);
    this.map.setCascade(failTime, initial);
    this.root.dataset.showing = which;
    this._renderResult();
  }

  _renderResult() {
    const r = this.result;
    const before = r.baseline.summary;
    const after = r.modified.summary;
    const line = (cls, key, impact, ids, times) => h('li', {class: cls, dataset: {change: key}},
      h('b', {}, t(CHANGE_TEXT[key], {count: impact.assets, people: fmtInt(impact.population)})),
      ids.length ? h('span', {class: 'muted small'}, ' · ', ids.slice(0, LISTED).map((id) => (times && times[id]
        ? `${id} (${fmtHours(times[id].from)} → ${fmtHours(times[id].to)})` : id)).join(', '),
      ids.length > LISTED ? ` ${t('whatif.more', {count: ids.length - LISTED})}` : '') : null);
    const byId = (list) => Object.fromEntries(list.map((x) => [x.id, x]));
    const c = r.changes;
    const worse = r.impact.new.assets + r.impact.earlier.assets;
    fill(this.el.out,
      h('p', {class: 'balance'}, t('whatif.balance', {before: fmtInt(before.failed), people_before: fmtInt(before.population),
        after: fmtInt(after.failed), people_after: fmtInt(after.population)})),
      h('ul', {class: 'changes'},
        line('better', 'saved', r.impact.saved, c.saved),
        line('better', 'delayed', r.impact.delayed, c.delayed.map((x) => x.id), byId(c.delayed)),
        line('worse', 'new', r.impact.new, c.new),
        line('worse', 'earlier', r.impact.earlier, c.earlier.map((x) => x.id), byId(c.earlier))),
      h('p', {class: worse ? 'warn' : 'muted small'}, worse ? t('whatif.worse', {agencies: [...r.impact.new.agencies,
        ...r.impact.earlier.agencies].map((a) => this.city.agencyName(a)).join(', ')}) : t('whatif.nothing_worse')),
      h('div', {class: 'segmented'},
        h('button', {type: 'button', 'aria-pressed': String(this.showing === 'before'), onclick: () => this.show('before')}, t('whatif.show_before')),
        h('button', {type: 'button', 'aria-pressed': String(this.showing === 'after'), onclick: () => this.show('after')}, t('whatif.show_after'))));
  }
}
