// The Live view: what is down now, a countdown of what fails next and who must talk before then,
// both on the map, kept current by GET /v1/live/stream (Server-Sent Events) without a reload; a
// time slider looks back (GET /v1/live?as_of=...). "Plan the repairs" opens the restoration of what
// is down at the time shown (#/restore?live=1[&as_of=...]).

import {api, explain, getKey} from './api.js';
import {fmtCompact, fmtInt, t} from './i18n.js';
import {$, fill, h} from './util.js';

const LOOK_BACK_H = 72;      // the slider reaches this far back
const RETRY_MS = 2000;       // a dropped stream is opened again after this

export class LivePanel {
  constructor(root, city, map) {
    this.root = root;
    this.city = city;
    this.map = map;
    this.picture = null;
    this.back = 0;           // hours looked back (0: now, following the stream)
    this.active = false;
    this.stream = null;
    this.updates = 0;
    this.el = {
      status: $('#live-status', root), down: $('#live-down-count', root), reported: $('#live-reported-count', root),
      next: $('#live-next-count', root), people: $('#live-people-count', root), deadlines: $('#live-deadlines', root),
      reportedList: $('#live-reported', root), slider: $('#live-time', root), clock: $('#live-clock', root),
      now: $('#live-now', root), restore: $('#live-restore', root),
    };
    this.el.slider.max = String(LOOK_BACK_H * 4);
    this.el.slider.value = this.el.slider.max;
    this.el.slider.addEventListener('input', () => this._scrub());
    this.el.now.addEventListener('click', () => { this.el.slider.value = this.el.slider.max; this._scrub(); });
    setInterval(() => { if (this.active && this.picture) this._renderDeadlines(); }, 30_000);  // countdowns move
  }

  /** The view is in front: follow the stream (opened once, kept while the page lives). */
  show() {
    this.active = true;
    this.map.setMode('live');
    if (!this.stream) this._follow();
    if (this.picture) this.render();
  }

  hide() { this.active = false; }

  relabel() { if (this.picture) this.render(); }

  async _follow() {
    const controller = new AbortController();
    this.stream = controller;
    try {
      const response = await fetch('/v1/live/stream', {headers: {Authorization: `Bearer ${getKey()}`,
        Accept: 'text/event-stream'}, signal: controller.signal});
      if (!response.ok) throw new Error(`${response.status}`);
      this.root.dataset.stream = 'open';
      const reader = response.body.pipeThrough(new TextDecoderStream()).getReader();
      let buffer = '';
      for (;;) {
        const {value, done} = await reader.read();
        if (done) break;
        buffer += value;
        let end;
        while ((end = buffer.indexOf('\n\n')) >= 0) {
          this._message(buffer.slice(0, end));
          buffer = buffer.slice(end + 2);
        }
      }
    } catch (err) {
      if (err.name === 'AbortError') return;
    }
    this.root.dataset.stream = 'closed';
    this.stream = null;
    setTimeout(() => { if (!this.stream) this._follow(); }, RETRY_MS);
  }

  _message(block) {
    let event = 'message';
    const data = [];
    for (const line of block.split('\n')) {
      if (line.startsWith('event:')) event = line.slice(6).trim();
      else if (line.startsWith('data:')) data.push(line.slice(5).trimStart());
    }
    if (event !== 'live' || !data.length) return;
    this.updates++;
    this.root.dataset.updates = String(this.updates);
    if (this.back > 0) { this.latest = JSON.parse(data.join('\n')); return; }  // looking back: keep it for later
    this.picture = JSON.parse(data.join('\n'));
    if (this.active) this.render();
  }

  async _scrub() {
    const quarters = Number(this.el.slider.max) - Number(this.el.slider.value);
    this.back = quarters / 4;
    if (this.back === 0) {
      if (this.latest) { this.picture = this.latest; this.latest = null; }
      this.render();
      return;
    }
    const asOf = new Date(Date.now() - this.back * 3600_000).toISOString();
    const asked = this.back;
    try {
      const picture = await api(`/v1/live?as_of=${encodeURIComponent(asOf)}`);
      if (asked === this.back) { this.picture = picture; this.render(); }
    } catch (err) {
      this.el.status.textContent = explain(err);
    }
  }

  /** Hours from `origin` to an ISO time (the cascade's clock). */
  _hours(iso) {
    return (Date.parse(iso) - Date.parse(this.picture.origin)) / 3600_000;
  }

  render() {
    const p = this.picture;
    const {city} = this;
    this.root.dataset.state = 'ready';
    const now = p.origin ? this._hours(p.as_of) : 0;
    const downNow = p.failures.filter((f) => f.time <= now + 1e-9);
    const people = p.failures.reduce((sum, f) => sum + f.population, 0);
    this.el.down.textContent = fmtInt(downNow.length);
    this.el.reported.textContent = fmtInt(p.down.length);
    this.el.next.textContent = fmtInt(p.forecast.length);
    this.el.people.textContent = fmtCompact(people);
    this.el.clock.textContent = this.back === 0 ? t('live.now') : t('live.hours_ago', {hours: this.back});
    this.el.now.hidden = this.back === 0;
    this.el.status.textContent = t('live.as_of', {time: new Date(p.as_of).toLocaleString()});
    // the plan of what is down at the time shown: now (when followed), or the time looked back to
    this.el.restore.href = this.back === 0 ? '#/restore?live=1'
      : `#/restore?${new URLSearchParams({live: '1', as_of: p.as_of})}`;
    // the map: failure hours per asset, the reported ones ringed, "now" as the cascade's time
    const failTime = new Float64Array(city.n).fill(Infinity);
    for (const f of p.failures) {
      const i = city.index.get(f.id);
      if (i !== undefined) failTime[i] = f.time;
    }
    this.map.setCascade(failTime, p.down.map((d) => city.index.get(d.id)).filter((i) => i !== undefined));
    this.map.setTime(now);
    this._renderDeadlines();
    fill(this.el.reportedList, p.down.slice(0, 50).map((d) => h('li', {},
      h('b', {}, d.id), h('span', {class: 'muted'}, ` ${this._typeOf(d.id)} · ${t('live.since', {time: clockOf(d.since)})}`),
      d.source ? h('span', {class: 'muted small'}, ` · ${d.source}`) : null)));
    if (!p.down.length) this.el.reportedList.append(h('li', {class: 'muted'}, t('live.nothing_down')));
  }

  _typeOf(id) {
    const i = this.city.index.get(id);
    return i === undefined ? '' : this.city.typeLabel(this.city.typeOf(i).name);
  }

  _renderDeadlines() {
    const p = this.picture;
    const {city} = this;
    const items = p.forecast.slice(0, 30).map((f) => {
      const left = Math.max(0, (Date.parse(f.at) - (this.back === 0 ? Date.now() : Date.parse(p.as_of))) / 3600_000);
      const talk = f.coordinate.map((a) => city.agencyName(a));
      return h('li', {dataset: {id: f.id}},
        h('span', {class: 'countdown'}, clockOf(f.at), h('small', {}, t('live.in', {time: span(left)}))),
        h('span', {class: 'what'},
          h('b', {}, f.id), ` ${this._typeOf(f.id)} `,
          f.kind ? t('live.loses', {kind: city.kindLabel(f.kind)}) : '',
          f.backup_hours > 0 ? h('span', {class: 'muted'}, ` ${t('live.backup', {hours: round1(f.backup_hours)})}`) : null,
          talk.length > 1 ? h('div', {class: 'small'}, t('live.must_talk', {agencies: talk.join(t('common.list_separator'))}))
            : null));
    });
    fill(this.el.deadlines, items.length ? items : h('li', {class: 'muted'}, t('live.nothing_next')));
  }
}

const round1 = (x) => Math.round(x * 10) / 10;

function clockOf(iso) {
  const d = new Date(iso);
  return d.toLocaleTimeString([], {hour: '2-digit', minute: '2-digit'});
}

function span(hours) {
  const minutes = Math.round(hours * 60);
  if (minutes < 60) return t('live.minutes', {count: minutes});
  return t('live.hours_minutes', {hours: Math.floor(minutes / 60), minutes: String(minutes % 60).padStart(2, '0')});
}
