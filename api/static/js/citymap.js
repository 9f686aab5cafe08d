// The city map: assets placed by lat/lon on a canvas, district territories and hazard zones
// drawn from the data itself (no tiles: the control room may be offline), failures on top.
//
// Territories: every district's assets are splatted on a grid and blurred; a cell belongs to the
// district with the most (blurred) assets there, and cells far from any asset are outside the
// city. Outlines are the edges between cells of different owners. Hazard zones use the same
// grid with the zone's exposed assets. All of this is computed once, in world coordinates, so
// zooming and panning only re-project it.

import {districtColour, drawShape, FAILED, sectorOf, shapeOf, withAlpha} from './palette.js';

const GRID_COLS = 280;
const BLUR_RADIUS = 3;
const BLUR_PASSES = 3;
// Facilities drawn as symbols (in their sector's colour) on top of the district dots.
export const MAP_SYMBOLS = new Set(['Hospital', 'EmergencyCommandCenter', 'PowerPlant', 'Substation',
  'WaterTreatmentPlant', 'DataCenter', 'Airport', 'Port']);
const HAZARD_COLOURS = {Flood: '#38bdf8', Landslide: '#d97706', Earthquake: '#a78bfa', Heatwave: '#f97316'};
export const hazardColour = (hazard) => HAZARD_COLOURS[hazard] || '#e2e8f0';

export class CityMap {
  constructor(wrap, city, {onPick = () => {}, describe = () => null} = {}) {
    this.wrap = wrap;
    this.city = city;
    this.onPick = onPick;
    this.describe = describe;
    this.canvas = wrap.querySelector('canvas');
    this.ctx = this.canvas.getContext('2d');
    this.tooltip = wrap.querySelector('.map-tooltip');
    this.mode = 'city';
    this.selectedZones = new Set();
    this.scenario = new Set();
    this.failTime = null;
    this.initial = new Set();
    this.time = 0;
    this.focused = -1;
    this.hover = -1;
    this.view = null;
    this.base = document.createElement('canvas');
    this.zoneLayers = new Map();
    this._project();
    this._territories();
    this._districtLabels();
    this._listen();
    new ResizeObserver(() => this.resize()).observe(wrap);
  }

  // ------------------------------------------------------------------ geometry
  _project() {
    const {city} = this;
    let latSum = 0;
    let count = 0;
    for (let i = 0; i < city.n; i++) {
      if (Number.isFinite(city.lat[i]) && Number.isFinite(city.lon[i])) {
        latSum += city.lat[i];
        count++;
      }
    }
    const lat0 = count ? latSum / count : 0;
    const kx = Math.cos((lat0 * Math.PI) / 180);
    this.x = new Float64Array(city.n);
    this.y = new Float64Array(city.n);
    this.placed = new Uint8Array(city.n);
    let minX = Infinity; let maxX = -Infinity; let minY = Infinity; let maxY = -Infinity;
    for (let i = 0; i < city.n; i++) {
      if (!(Number.isFinite(city.lat[i]) && Number.isFinite(city.lon[i]))) continue;
      const x = city.lon[i] * kx;
      const y = -city.lat[i];
      this.x[i] = x;
      this.y[i] = y;
      this.placed[i] = 1;
      if (x < minX) minX = x;
      if (x > maxX) maxX = x;
      if (y < minY) minY = y;
      if (y > maxY) maxY = y;
    }
    if (!count) { minX = 0; maxX = 1; minY = 0; maxY = 1; }
    const pad = Math.max(maxX - minX, maxY - minY) * 0.06 || 0.01;
    this.bounds = {minX: minX - pad, maxX: maxX + pad, minY: minY - pad, maxY: maxY + pad};
    this.kmPerUnit = 111.32;  // one degree of latitude; x is scaled by cos(lat) to match
  }

  _gridOf() {
    const b = this.bounds;
    const cell = (b.maxX - b.minX) / GRID_COLS;
    const rows = Math.max(1, Math.ceil((b.maxY - b.minY) / cell));
    return {cols: GRID_COLS, rows, cell, x0: b.minX, y0: b.minY};
  }

  _cellOf(g, i) {
    const c = Math.min(g.cols - 1, Math.max(0, Math.floor((this.x[i] - g.x0) / g.cell)));
    const r = Math.min(g.rows - 1, Math.max(0, Math.floor((this.y[i] - g.y0) / g.cell)));
    return r * g.cols + c;
  }

  _blur(values, g, radius = BLUR_RADIUS, passes = BLUR_PASSES) {
    const {cols, rows} = g;
    let src = values;
    let tmp = new Float32Array(values.length);
    const width = 2 * radius + 1;
    for (let p = 0; p < passes; p++) {
      for (let r = 0; r < rows; r++) {  // horizontal running sum
        const o = r * cols;
        let acc = 0;
        for (let c = -radius; c <= radius; c++) if (c >= 0 && c < cols) acc += src[o + c];
        for (let c = 0; c < cols; c++) {
          tmp[o + c] = acc / width;
          const out = c - radius;
          const inn = c + radius + 1;
          if (out >= 0) acc -= src[o + out];
          if (inn < cols) acc += src[o + inn];
        }
      }
      const dst = src === values ? new Float32Array(values.length) : src;
      for (let c = 0; c < cols; c++) {  // vertical running sum
        let acc = 0;
        for (let r = -radius; r <= radius; r++) if (r >= 0 && r < rows) acc += tmp[r * cols + c];
        for (let r = 0; r < rows; r++) {
          dst[r * cols + c] = acc / width;
          const out = r - radius;
          const inn = r + radius + 1;
          if (out >= 0) acc -= tmp[out * cols + c];
          if (inn < rows) acc += tmp[inn * cols + c];
        }
      }
      src = dst;
    }
    tmp = null;
    return src;
  }

  /** The blurred density an isolated asset leaves at about 1.6 blur radii: below it, a cell is empty. */
  _threshold(g, radius = BLUR_RADIUS, passes = BLUR_PASSES) {
    const size = 8 * radius + 1;
    const probe = {cols: size, rows: size};
    const delta = new Float32Array(size * size);
    const mid = Math.floor(size / 2);
    delta[mid * size + mid] = 1;
    const out = this._blur(delta, probe, radius, passes);
    return out[mid * size + mid + Math.round(radius * 1.6)];
  }

  _territories() {
    const {city} = this;
    const g = this._gridOf();
    const cells = g.cols * g.rows;
    const k = Math.max(1, city.districts.length);
    const density = Array.from({length: k}, () => new Float32Array(cells));
    const total = new Float32Array(cells);
    for (let i = 0; i < city.n; i++) {
      if (!this.placed[i]) continue;
      const d = city.district[i];
      const cell = this._cellOf(g, i);
      total[cell] += 1;
      if (d >= 0) density[d][cell] += 1;
    }
    const blurred = density.map((layer) => this._blur(layer, g));
    const all = this._blur(total, g);
    const threshold = this._threshold(g);
    const owner = new Int16Array(cells).fill(-1);
    for (let c = 0; c < cells; c++) {
      if (all[c] < threshold) continue;
      let best = -1;
      let bestValue = 0;
      for (let d = 0; d < k; d++) {
        if (blurred[d][c] > bestValue) { bestValue = blurred[d][c]; best = d; }
      }
      owner[c] = best === -1 ? k : best;  // inside the city, but no district: its own colour
    }
    this.grid = g;
    this.owner = owner;
    // fill image, one pixel per cell
    const img = document.createElement('canvas');
    img.width = g.cols;
    img.height = g.rows;
    const ictx = img.getContext('2d');
    const data = ictx.createImageData(g.cols, g.rows);
    const rgb = [];
    for (let d = 0; d <= k; d++) {
      const v = parseInt(districtColour(d < k ? d : -1).slice(1), 16);
      rgb.push([(v >> 16) & 255, (v >> 8) & 255, v & 255]);
    }
    for (let c = 0; c < cells; c++) {
      const o = owner[c];
      if (o < 0) continue;
      data.data.set([...rgb[o], 46], c * 4);
    }
    ictx.putImageData(data, 0, 0);
    this.territoryImage = img;
    // outlines: cell edges where the owner changes; the city's own edge is drawn apart
    const inner = new Path2D();
    const outer = new Path2D();
    const {cols, rows, cell, x0, y0} = g;
    for (let r = 0; r < rows; r++) {
      for (let c = 0; c < cols; c++) {
        const o = owner[r * cols + c];
        const right = c + 1 < cols ? owner[r * cols + c + 1] : -1;
        const below = r + 1 < rows ? owner[(r + 1) * cols + c] : -1;
        if (o !== right) {
          const path = o < 0 || right < 0 ? outer : inner;
          path.moveTo(x0 + (c + 1) * cell, y0 + r * cell);
          path.lineTo(x0 + (c + 1) * cell, y0 + (r + 1) * cell);
        }
        if (o !== below) {
          const path = o < 0 || below < 0 ? outer : inner;
          path.moveTo(x0 + c * cell, y0 + (r + 1) * cell);
          path.lineTo(x0 + (c + 1) * cell, y0 + (r + 1) * cell);
        }
      }
    }
    this.innerEdges = inner;
    this.outerEdges = outer;
  }

  _districtLabels() {
    const {city} = this;
    const xs = city.districts.map(() => []);
    const ys = city.districts.map(() => []);
    for (let i = 0; i < city.n; i++) {
      const d = city.district[i];
      if (d >= 0 && this.placed[i]) { xs[d].push(this.x[i]); ys[d].push(this.y[i]); }
    }
    const median = (v) => { v.sort((a, b) => a - b); return v[Math.floor(v.length / 2)]; };
    this.labels = city.districts.map((d, k) => (xs[k].length ? {x: median(xs[k]), y: median(ys[k]), k, d} : null))
      .filter(Boolean);
  }

  /** Shading of one zone (its exposed assets, blurred), cached: {image, edges, hazard}. */
  _zoneLayer(z) {
    let layer = this.zoneLayers.get(z);
    if (layer) return layer;
    const zone = this.city.zones[z];
    const g = this.grid;
    const cells = g.cols * g.rows;
    const density = new Float32Array(cells);
    for (const i of zone.assets) if (this.placed[i]) density[this._cellOf(g, i)] += 1;
    const blurred = this._blur(density, g, 2, 2);
    const threshold = this._threshold(g, 2, 2);
    const inside = new Uint8Array(cells);
    for (let c = 0; c < cells; c++) inside[c] = blurred[c] >= threshold ? 1 : 0;
    const img = document.createElement('canvas');
    img.width = g.cols;
    img.height = g.rows;
    const ictx = img.getContext('2d');
    const data = ictx.createImageData(g.cols, g.rows);
    const v = parseInt(hazardColour(zone.hazard).slice(1), 16);
    const rgb = [(v >> 16) & 255, (v >> 8) & 255, v & 255];
    for (let r = 0; r < g.rows; r++) {
      for (let c = 0; c < g.cols; c++) {
        if (inside[r * g.cols + c]) data.data.set([...rgb, (c + r) % 3 === 0 ? 150 : 40], (r * g.cols + c) * 4);
      }
    }
    ictx.putImageData(data, 0, 0);
    const edges = new Path2D();
    for (let r = 0; r < g.rows; r++) {
      for (let c = 0; c < g.cols; c++) {
        const o = inside[r * g.cols + c];
        if (c + 1 < g.cols && o !== inside[r * g.cols + c + 1]) {
          edges.moveTo(g.x0 + (c + 1) * g.cell, g.y0 + r * g.cell);
          edges.lineTo(g.x0 + (c + 1) * g.cell, g.y0 + (r + 1) * g.cell);
        }
        if (r + 1 < g.rows && o !== inside[(r + 1) * g.cols + c]) {
          edges.moveTo(g.x0 + c * g.cell, g.y0 + (r + 1) * g.cell);
          edges.lineTo(g.x0 + (c + 1) * g.cell, g.y0 + (r + 1) * g.cell);
        }
      }
    }
    layer = {image: img, edges, hazard: zone.hazard};
    this.zoneLayers.set(z, layer);
    return layer;
  }

  // ------------------------------------------------------------------ view
  resize() {
    const rect = this.wrap.getBoundingClientRect();
    if (rect.width < 10 || rect.height < 10) return;
    const dpr = window.devicePixelRatio || 1;
    const changed = !this.size || this.size.w !== rect.width || this.size.h !== rect.height;
    this.size = {w: rect.width, h: rect.height, dpr};
    this.canvas.width = Math.round(rect.width * dpr);
    this.canvas.height = Math.round(rect.height * dpr);
    this.base.width = this.canvas.width;
    this.base.height = this.canvas.height;
    if (changed || !this.view) this.fit();
    else this.redraw(true);
  }

  fit() {
    if (!this.size) return;
    const b = this.bounds;
    const {w, h} = this.size;
    const scale = Math.min(w / (b.maxX - b.minX), h / (b.maxY - b.minY));
    this.view = {scale, tx: (w - (b.maxX + b.minX) * scale) / 2, ty: (h - (b.maxY + b.minY) * scale) / 2};
    this.fitScale = scale;
    this.redraw(true);
  }

  zoom(factor, mx = this.size.w / 2, my = this.size.h / 2) {
    const v = this.view;
    const scale = Math.min(this.fitScale * 60, Math.max(this.fitScale * 0.7, v.scale * factor));
    const f = scale / v.scale;
    this.view = {scale, tx: mx - (mx - v.tx) * f, ty: my - (my - v.ty) * f};
    this.redraw(true);
  }

  /** Centre on asset i, zoomed in, and mark it. */
  focus(i) {
    if (i < 0 || !this.placed[i] || !this.size) return;
    this.focused = i;
    const scale = Math.max(this.view.scale, this.fitScale * 4);
    this.view = {scale, tx: this.size.w / 2 - this.x[i] * scale, ty: this.size.h / 2 - this.y[i] * scale};
    this.redraw(true);
  }

  screen(i) {
    const v = this.view;
    return [this.x[i] * v.scale + v.tx, this.y[i] * v.scale + v.ty];
  }

  setMode(mode) { this.mode = mode; this.redraw(true); }
  setZones(zones) { this.selectedZones = new Set(zones); this.redraw(true); }
  setScenario(indexes) { this.scenario = new Set(indexes); this.redraw(); }

  /** failTime: Float64Array of failure hours (Infinity: never), or null to clear. */
  setCascade(failTime, initial) {
    this.failTime = failTime;
    this.initial = new Set(initial || []);
    this.redraw(true);
  }

  setTime(t) { this.time = t; this.redraw(); }

  // ------------------------------------------------------------------ drawing
  redraw(baseToo = false) {
    if (baseToo) this.baseDirty = true;
    if (this.frame) return;
    this.frame = requestAnimationFrame(() => {
      this.frame = 0;
      this.draw();
    });
  }

  draw() {
    if (!this.size || !this.view) return;
    if (this.baseDirty) { this._drawBase(); this.baseDirty = false; }
    const {ctx} = this;
    const {dpr} = this.size;
    ctx.setTransform(1, 0, 0, 1, 0, 0);
    ctx.clearRect(0, 0, this.canvas.width, this.canvas.height);
    ctx.drawImage(this.base, 0, 0);
    ctx.setTransform(dpr, 0, 0, dpr, 0, 0);
    this._drawOverlay(ctx);
    this.wrap.dataset.drawn = String(Number(this.wrap.dataset.drawn || 0) + 1);
  }

  _dot() {
    return Math.min(5, Math.max(1.8, 1.8 * Math.sqrt(this.view.scale / this.fitScale)));
  }

  _drawBase() {
    const ctx = this.base.getContext('2d');
    const {dpr, w, h} = this.size;
    const v = this.view;
    const {city} = this;
    const cascade = this.mode === 'cascade' && this.failTime;
    ctx.setTransform(1, 0, 0, 1, 0, 0);
    ctx.clearRect(0, 0, this.base.width, this.base.height);
    // territories, zones and outlines, in world coordinates
    const g = this.grid;
    ctx.setTransform(dpr * v.scale, 0, 0, dpr * v.scale, dpr * v.tx, dpr * v.ty);
    ctx.imageSmoothingEnabled = true;
    ctx.drawImage(this.territoryImage, g.x0, g.y0, g.cols * g.cell, g.rows * g.cell);
    const zones = [...this.selectedZones];
    ctx.imageSmoothingEnabled = false;
    for (const z of zones) {
      const layer = this._zoneLayer(z);
      ctx.drawImage(layer.image, g.x0, g.y0, g.cols * g.cell, g.rows * g.cell);
    }
    ctx.lineWidth = 1 / v.scale;
    ctx.strokeStyle = 'rgba(226,232,240,0.28)';
    ctx.stroke(this.innerEdges);
    ctx.lineWidth = 1.6 / v.scale;
    ctx.strokeStyle = 'rgba(226,232,240,0.55)';
    ctx.stroke(this.outerEdges);
    for (const z of zones) {
      const layer = this._zoneLayer(z);
      ctx.lineWidth = 1.6 / v.scale;
      ctx.strokeStyle = withAlpha(hazardColour(layer.hazard), 0.95);
      ctx.stroke(layer.edges);
    }
    // assets, coloured by district, batched per colour
    ctx.setTransform(dpr, 0, 0, dpr, 0, 0);
    const dot = this._dot();
    const half = dot / 2;
    ctx.globalAlpha = cascade ? 0.3 : 0.85;
    const k = city.districts.length;
    const byDistrict = Array.from({length: k + 1}, () => []);
    const keys = [];
    for (let i = 0; i < city.n; i++) {
      if (!this.placed[i]) continue;
      const d = city.district[i];
      byDistrict[d >= 0 ? d : k].push(i);
      if (MAP_SYMBOLS.has(city.types[city.type[i]].name)) keys.push(i);
    }
    for (let d = 0; d <= k; d++) {
      ctx.fillStyle = districtColour(d < k ? d : -1);
      for (const i of byDistrict[d]) {
        const x = this.x[i] * v.scale + v.tx;
        const y = this.y[i] * v.scale + v.ty;
        if (x < -5 || y < -5 || x > w + 5 || y > h + 5) continue;
        ctx.fillRect(x - half, y - half, dot, dot);
      }
    }
    // key facilities as symbols in their sector's colour
    const r = Math.min(6.5, dot * 1.1 + 1.2);
    ctx.lineWidth = 1;
    ctx.strokeStyle = 'rgba(15,23,42,0.9)';
    for (const i of keys) {
      const x = this.x[i] * v.scale + v.tx;
      const y = this.y[i] * v.scale + v.ty;
      if (x < -8 || y < -8 || x > w + 8 || y > h + 8) continue;
      const type = city.types[city.type[i]];
      ctx.fillStyle = sectorOf(type.sector).colour;
      drawShape(ctx, shapeOf(type.name), x, y, r);
    }
    ctx.globalAlpha = 1;
    // district names
    ctx.font = '600 13px system-ui, sans-serif';
    ctx.textAlign = 'center';
    ctx.textBaseline = 'middle';
    ctx.lineJoin = 'round';
    for (const label of this.labels) {
      const x = label.x * v.scale + v.tx;
      const y = label.y * v.scale + v.ty;
      const text = label.d.name || label.d.id;
      ctx.lineWidth = 4;
      ctx.strokeStyle = 'rgba(11,18,32,0.85)';
      ctx.strokeText(text, x, y);
      ctx.fillStyle = cascade ? 'rgba(241,245,249,0.75)' : '#f1f5f9';
      ctx.fillText(text, x, y);
    }
    this._index();
  }

  _drawOverlay(ctx) {
    const {city} = this;
    const v = this.view;
    const dot = this._dot();
    if (this.mode === 'cascade' && this.failTime) {
      const t = this.time;
      const older = [];
      const recent = [];
      for (let i = 0; i < city.n; i++) {
        const f = this.failTime[i];
        if (f <= t && this.placed[i]) (f > t - 1 ? recent : older).push(i);
      }
      ctx.fillStyle = '#c0392b';
      const s1 = dot + 1;
      for (const i of older) {
        const [x, y] = this.screen(i);
        ctx.fillRect(x - s1 / 2, y - s1 / 2, s1, s1);
      }
      ctx.fillStyle = withAlpha(FAILED, 0.28);
      for (const i of recent) {
        const [x, y] = this.screen(i);
        ctx.beginPath();
        ctx.arc(x, y, dot + 5, 0, 2 * Math.PI);
        ctx.fill();
      }
      ctx.fillStyle = FAILED;
      const s2 = dot + 2.5;
      for (const i of recent) {
        const [x, y] = this.screen(i);
        ctx.fillRect(x - s2 / 2, y - s2 / 2, s2, s2);
      }
      this._rings(ctx, this.initial, '#ffffff', 7);
    } else {
      this._rings(ctx, this.scenario, '#ffffff', 7);
    }
    if (this.focused >= 0) this._rings(ctx, [this.focused], '#facc15', 10);
    if (this.hover >= 0) this._rings(ctx, [this.hover], '#f8fafc', 5);
    void v;
  }

  _rings(ctx, indexes, colour, radius) {
    ctx.lineWidth = 2;
    for (const i of indexes) {
      if (!this.placed[i]) continue;
      const [x, y] = this.screen(i);
      ctx.strokeStyle = 'rgba(11,18,32,0.9)';
      ctx.lineWidth = 4;
      ctx.beginPath();
      ctx.arc(x, y, radius, 0, 2 * Math.PI);
      ctx.stroke();
      ctx.strokeStyle = colour;
      ctx.lineWidth = 2;
      ctx.stroke();
    }
  }

  // ------------------------------------------------------------------ picking
  _index() {
    // bucket the assets by screen cell, so hover and click find the nearest in constant time
    const {w, h} = this.size;
    const size = 12;
    const cols = Math.ceil(w / size) + 1;
    const rows = Math.ceil(h / size) + 1;
    const heads = new Int32Array(cols * rows).fill(-1);
    const next = new Int32Array(this.city.n).fill(-1);
    for (let i = 0; i < this.city.n; i++) {
      if (!this.placed[i]) continue;
      const [x, y] = this.screen(i);
      if (x < 0 || y < 0 || x >= w || y >= h) continue;
      const b = Math.floor(y / size) * cols + Math.floor(x / size);
      next[i] = heads[b];
      heads[b] = i;
    }
    this.buckets = {size, cols, rows, heads, next};
  }

  /** The asset nearest to screen point (x, y) within `radius` px, or -1. */
  pick(x, y, radius = 10) {
    const bk = this.buckets;
    if (!bk) return -1;
    let best = -1;
    let bestD = radius * radius;
    const c0 = Math.floor((x - radius) / bk.size);
    const c1 = Math.floor((x + radius) / bk.size);
    const r0 = Math.floor((y - radius) / bk.size);
    const r1 = Math.floor((y + radius) / bk.size);
    for (let r = Math.max(0, r0); r <= Math.min(bk.rows - 1, r1); r++) {
      for (let c = Math.max(0, c0); c <= Math.min(bk.cols - 1, c1); c++) {
        for (let i = bk.heads[r * bk.cols + c]; i >= 0; i = bk.next[i]) {
          const [sx, sy] = this.screen(i);
          const d = (sx - x) ** 2 + (sy - y) ** 2;
          if (d <= bestD) { bestD = d; best = i; }
        }
      }
    }
    return best;
  }

  _listen() {
    const c = this.canvas;
    let drag = null;
    const local = (e) => {
      const r = c.getBoundingClientRect();
      return [e.clientX - r.left, e.clientY - r.top];
    };
    c.addEventListener('pointerdown', (e) => {
      const [x, y] = local(e);
      drag = {x, y, tx: this.view.tx, ty: this.view.ty, moved: false};
      c.setPointerCapture(e.pointerId);
    });
    c.addEventListener('pointermove', (e) => {
      const [x, y] = local(e);
      if (drag) {
        const dx = x - drag.x;
        const dy = y - drag.y;
        if (drag.moved || dx * dx + dy * dy > 16) {
          drag.moved = true;
          this.view = {...this.view, tx: drag.tx + dx, ty: drag.ty + dy};
          this._hideTooltip();
          this.redraw(true);
          return;
        }
      }
      const i = this.pick(x, y);
      if (i !== this.hover) {
        this.hover = i;
        this.redraw();
      }
      this._showTooltip(i, x, y);
    });
    c.addEventListener('pointerup', (e) => {
      const wasDrag = drag && drag.moved;
      drag = null;
      if (wasDrag) return;
      const [x, y] = local(e);
      this.onPick(this.pick(x, y, 12), e);
    });
    c.addEventListener('pointerleave', () => {
      this.hover = -1;
      this._hideTooltip();
      this.redraw();
    });
    c.addEventListener('wheel', (e) => {
      e.preventDefault();
      const [x, y] = local(e);
      this.zoom(Math.exp(-e.deltaY * 0.0015), x, y);
    }, {passive: false});
    c.addEventListener('dblclick', (e) => e.preventDefault());
  }

  _showTooltip(i, x, y) {
    const tip = this.tooltip;
    if (i < 0 || !tip) { this._hideTooltip(); return; }
    const content = this.describe(i);
    if (!content) { this._hideTooltip(); return; }
    tip.replaceChildren(content);
    tip.hidden = false;
    const {w, h} = this.size;
    const tw = tip.offsetWidth;
    const th = tip.offsetHeight;
    tip.style.left = `${Math.min(w - tw - 6, x + 14)}px`;
    tip.style.top = `${Math.min(h - th - 6, Math.max(6, y - th - 10))}px`;
  }

  _hideTooltip() {
    if (this.tooltip) this.tooltip.hidden = true;
  }
}
