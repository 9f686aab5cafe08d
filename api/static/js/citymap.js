// The city map: assets placed by lat/lon on a canvas, district territories and hazard zones
// drawn from the data itself (no tiles: the control room may be offline), failures on top.
//
// Territories: every district's assets are splatted on a grid and blurred; a cell belongs to the
// district with the most (blurred) assets there, and cells far from any asset are outside the
// city. Outlines are the edges between cells of different owners. Hazard zones use the same
// grid with the zone's exposed assets. All of this is computed once, in world coordinates, so
// zooming and panning only re-project it.

import {fmtDistance} from './i18n.js';
import {districtColour, drawShape, FAILED, FORECAST, withAlpha} from './palette.js';

const GRID_COLS = 240;
const BLUR_RADIUS = 3;
const BLUR_PASSES = 3;

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
    // separable box blur (running sums), `passes` times: close to a Gaussian, linear in the cells
    const {cols, rows} = g;
    const width = 2 * radius + 1;
    let src = values;
    const tmp = new Float32Array(values.length);
    const out = new Float32Array(values.length);
    for (let p = 0; p < passes; p++) {
      for (let r = 0; r < rows; r++) {
        const o = r * cols;
        let acc = 0;
        for (let c = 0; c <= radius && c < cols; c++) acc += src[o + c];
        for (let c = 0; c < cols; c++) {
          tmp[o + c] = acc / width;
          if (c - radius >= 0) acc -= src[o + c - radius];
          if (c + radius + 1 < cols) acc += src[o + c + radius + 1];
        }
      }
      for (let c = 0; c < cols; c++) {
        let acc = 0;
        for (let r = 0; r <= radius && r < rows; r++) acc += tmp[r * cols + c];
        for (let r = 0; r < rows; r++) {
          out[r * cols + c] = acc / width;
          if (r - radius >= 0) acc -= tmp[(r - radius) * cols + c];
          if (r + radius + 1 < rows) acc += tmp[(r + radius + 1) * cols + c];
        }
      }
      src = out;
    }
    return src === values ? Float32Array.from(values) : out;
  }

  /** The blurred density an isolated asset leaves at about 1.6 blur radii: below it, a cell is empty. */
  _threshold(radius = BLUR_RADIUS, passes = BLUR_PASSES) {
    const size = 8 * radius + 1;
    const delta = new Float32Array(size * size);
    const mid = Math.floor(size / 2);
    delta[mid * size + mid] = 1;
    const out = this._blur(delta, {cols: size, rows: size}, radius, passes);
    return out[mid * size + mid + Math.round(radius * 1.6)];
  }

  /**
   * Splat `indexes` on the grid and blur them, only over their bounding box (plus the blur's reach):
   * a district or a zone covers a small part of the city, so this is far cheaper than the whole grid.
   */
  _density(indexes, radius = BLUR_RADIUS, passes = BLUR_PASSES) {
    const g = this.grid;
    let c0 = Infinity; let c1 = -1; let r0 = Infinity; let r1 = -1;
    const cells = [];
    for (const i of indexes) {
      if (!this.placed[i]) continue;
      const cell = this._cellOf(g, i);
      const r = Math.floor(cell / g.cols);
      const c = cell - r * g.cols;
      cells.push(r, c);
      if (c < c0) c0 = c;
      if (c > c1) c1 = c;
      if (r < r0) r0 = r;
      if (r > r1) r1 = r;
    }
    if (c1 < 0) return null;
    const reach = radius * passes + 1;
    c0 = Math.max(0, c0 - reach); c1 = Math.min(g.cols - 1, c1 + reach);
    r0 = Math.max(0, r0 - reach); r1 = Math.min(g.rows - 1, r1 + reach);
    const local = {cols: c1 - c0 + 1, rows: r1 - r0 + 1};
    const values = new Float32Array(local.cols * local.rows);
    for (let k = 0; k < cells.length; k += 2) values[(cells[k] - r0) * local.cols + (cells[k + 1] - c0)] += 1;
    return {c0, r0, cols: local.cols, rows: local.rows, values: this._blur(values, local, radius, passes)};
  }

  /** Edges between cells where `inside(cell)` differs, as a Path2D in world coordinates. */
  _edges(test, paths) {
    const {cols, rows, cell, x0, y0} = this.grid;
    for (let r = 0; r < rows; r++) {
      for (let c = 0; c < cols; c++) {
        const k = r * cols + c;
        if (c + 1 < cols) {
          const path = test(k, k + 1);
          if (path) { path.moveTo(x0 + (c + 1) * cell, y0 + r * cell); path.lineTo(x0 + (c + 1) * cell, y0 + (r + 1) * cell); }
        }
        if (r + 1 < rows) {
          const path = test(k, k + cols);
          if (path) { path.moveTo(x0 + c * cell, y0 + (r + 1) * cell); path.lineTo(x0 + (c + 1) * cell, y0 + (r + 1) * cell); }
        }
      }
    }
  }

  _territories() {
    const {city} = this;
    const g = this._gridOf();
    this.grid = g;
    const cells = g.cols * g.rows;
    const k = city.districts.length;
    const members = Array.from({length: k + 1}, () => []);
    for (let i = 0; i < city.n; i++) members[city.district[i] >= 0 ? city.district[i] : k].push(i);
    // each cell goes to the district with the most (blurred) assets there; the sum says whether it is in the city
    const best = new Float32Array(cells);
    const total = new Float32Array(cells);
    const owner = new Int16Array(cells).fill(-1);
    members.forEach((list, d) => {
      const dens = this._density(list);
      if (!dens) return;
      for (let r = 0; r < dens.rows; r++) {
        for (let c = 0; c < dens.cols; c++) {
          const v = dens.values[r * dens.cols + c];
          if (!v) continue;
          const cell = (r + dens.r0) * g.cols + c + dens.c0;
          total[cell] += v;
          if (v > best[cell]) { best[cell] = v; owner[cell] = d; }
        }
      }
    });
    const threshold = this._threshold();
    for (let c = 0; c < cells; c++) if (total[c] < threshold) owner[c] = -1;
    this.owner = owner;
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
    const px = data.data;
    for (let c = 0; c < cells; c++) {
      const o = owner[c];
      if (o < 0) continue;
      px[c * 4] = rgb[o][0]; px[c * 4 + 1] = rgb[o][1]; px[c * 4 + 2] = rgb[o][2]; px[c * 4 + 3] = 64;
    }
    ictx.putImageData(data, 0, 0);
    this.territoryImage = img;
    // outlines: district against district, and the city's own edge (drawn stronger)
    this.innerEdges = new Path2D();
    this.outerEdges = new Path2D();
    this._edges((a, b) => {
      if (owner[a] === owner[b]) return null;
      return owner[a] < 0 || owner[b] < 0 ? this.outerEdges : this.innerEdges;
    });
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
    const inside = new Uint8Array(g.cols * g.rows);
    const dens = this._density(zone.assets, 2, 2);
    const threshold = this._threshold(2, 2);
    if (dens) {
      for (let r = 0; r < dens.rows; r++) {
        for (let c = 0; c < dens.cols; c++) {
          if (dens.values[r * dens.cols + c] >= threshold) inside[(r + dens.r0) * g.cols + c + dens.c0] = 1;
        }
      }
    }
    const img = document.createElement('canvas');
    img.width = g.cols;
    img.height = g.rows;
    const ictx = img.getContext('2d');
    const data = ictx.createImageData(g.cols, g.rows);
    const v = parseInt(this.city.hazardColour(zone.hazard).slice(1), 16);
    const rgb = [(v >> 16) & 255, (v >> 8) & 255, v & 255];
    const px = data.data;
    for (let r = 0; r < g.rows; r++) {
      for (let c = 0; c < g.cols; c++) {
        const cell = r * g.cols + c;
        if (!inside[cell]) continue;
        px[cell * 4] = rgb[0]; px[cell * 4 + 1] = rgb[1]; px[cell * 4 + 2] = rgb[2];
        px[cell * 4 + 3] = (c + r) % 3 === 0 ? 130 : 36;  // hatching
      }
    }
    ictx.putImageData(data, 0, 0);
    const edges = new Path2D();
    this._edges((a, b) => (inside[a] !== inside[b] ? edges : null));
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

  /** A scale within the zoom range: from a little less than the whole city to 60 times closer. */
  _clampScale(scale) {
    return Math.min(this.fitScale * 60, Math.max(this.fitScale * 0.7, scale));
  }

  zoom(factor, mx = this.size.w / 2, my = this.size.h / 2) {
    const v = this.view;
    const scale = this._clampScale(v.scale * factor);
    const f = scale / v.scale;
    this.view = {scale, tx: mx - (mx - v.tx) * f, ty: my - (my - v.ty) * f};
    this.redraw(true);
  }

  /** Zoom to show every asset of `indexes` (with a margin), never closer than 8x the whole city. */
  fitTo(indexes) {
    if (!this.size) return;
    let minX = Infinity; let maxX = -Infinity; let minY = Infinity; let maxY = -Infinity;
    for (const i of indexes) {
      if (!this.placed[i]) continue;
      minX = Math.min(minX, this.x[i]); maxX = Math.max(maxX, this.x[i]);
      minY = Math.min(minY, this.y[i]); maxY = Math.max(maxY, this.y[i]);
    }
    if (minX === Infinity) { this.fit(); return; }
    const {w, h} = this.size;
    const pad = 0.12;
    const spanX = Math.max(maxX - minX, 1e-6);
    const spanY = Math.max(maxY - minY, 1e-6);
    let scale = Math.min(w * (1 - 2 * pad) / spanX, h * (1 - 2 * pad) / spanY);
    scale = Math.max(this.fitScale, Math.min(this.fitScale * 8, scale));
    this.view = {scale, tx: w / 2 - ((minX + maxX) / 2) * scale, ty: h / 2 - ((minY + maxY) / 2) * scale};
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
    ctx.globalAlpha = cascade ? 0.55 : 1;
    ctx.drawImage(this.territoryImage, g.x0, g.y0, g.cols * g.cell, g.rows * g.cell);
    ctx.globalAlpha = 1;
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
      ctx.strokeStyle = withAlpha(city.hazardColour(layer.hazard), 0.95);
      ctx.stroke(layer.edges);
    }
    // assets, coloured by district, batched per colour
    ctx.setTransform(dpr, 0, 0, dpr, 0, 0);
    const dot = this._dot();
    const half = dot / 2;
    ctx.globalAlpha = cascade ? 0.22 : 0.85;
    const k = city.districts.length;
    const byDistrict = Array.from({length: k + 1}, () => []);
    const keys = [];
    for (let i = 0; i < city.n; i++) {
      if (!this.placed[i]) continue;
      const d = city.district[i];
      byDistrict[d >= 0 ? d : k].push(i);
      if (city.types[city.type[i]].map_zoom != null) keys.push(i);
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
    // facilities as symbols in their sector's colour, each type from its zoom (the ontology's mapZoom,
    // relative to the whole city) so the overview stays readable
    const r = Math.min(6.5, dot * 1.1 + 2.2);
    ctx.lineWidth = 1;
    ctx.strokeStyle = 'rgba(15,23,42,0.9)';
    const zoom = v.scale / this.fitScale;
    for (const i of keys) {
      const type = city.types[city.type[i]];
      if (type.map_zoom > zoom * 1.001) continue;
      const x = this.x[i] * v.scale + v.tx;
      const y = this.y[i] * v.scale + v.ty;
      if (x < -8 || y < -8 || x > w + 8 || y > h + 8) continue;
      ctx.fillStyle = city.sector(type.sector).colour;
      drawShape(ctx, city.symbolOf(type.name), x, y, r);
    }
    ctx.globalAlpha = 1;
    // district names
    ctx.font = '600 13px system-ui, sans-serif';
    ctx.textAlign = 'center';
    ctx.textBaseline = 'middle';
    ctx.lineJoin = 'round';
    const boxes = [];
    for (const label of this.labels) {
      const x = label.x * v.scale + v.tx;
      let y = label.y * v.scale + v.ty;
      const text = label.d.name || label.d.id;
      const half = ctx.measureText(text).width / 2 + 4;
      // move down past any label already drawn there
      for (let tries = 0; tries < 6; tries++) {
        const hit = boxes.find((b) => x - half < b[2] && x + half > b[0] && y - 9 < b[3] && y + 9 > b[1]);
        if (!hit) break;
        y = hit[3] + 10;
      }
      boxes.push([x - half, y - 9, x + half, y + 9]);
      ctx.lineWidth = 4;
      ctx.strokeStyle = 'rgba(11,18,32,0.85)';
      ctx.strokeText(text, x, y);
      ctx.fillStyle = cascade ? 'rgba(241,245,249,0.75)' : '#f1f5f9';
      ctx.fillText(text, x, y);
    }
    this._index();
    this._scaleBar();
  }

  /** A round-number distance bar (north is up: the map is an equirectangular projection). */
  _scaleBar() {
    const el = this.wrap.querySelector('.map-scale');
    if (!el) return;
    const kmPerPx = this.kmPerUnit / this.view.scale;
    const target = kmPerPx * 110;
    const pow = 10 ** Math.floor(Math.log10(target));
    const km = [1, 2, 5, 10].map((m) => m * pow).filter((v) => v <= target).pop() || pow;
    el.querySelector('.bar').style.width = `${Math.round(km / kmPerPx)}px`;
    el.querySelector('span').textContent = fmtDistance(km);
  }

  _drawOverlay(ctx) {
    const {city} = this;
    const dot = this._dot();
    if ((this.mode === 'cascade' || this.mode === 'live') && this.failTime) {
      const t = this.time;
      const older = [];
      const recent = [];
      const coming = [];  // live: the forecast, failing after now
      for (let i = 0; i < city.n; i++) {
        const f = this.failTime[i];
        if (f <= t && this.placed[i]) (f > t - 1 ? recent : older).push(i);
        else if (this.mode === 'live' && f < Infinity && this.placed[i]) coming.push(i);
      }
      ctx.fillStyle = FORECAST;
      ctx.strokeStyle = 'rgba(11,18,32,0.85)';
      ctx.lineWidth = 0.8;
      ctx.beginPath();
      const r0 = dot / 2 + 2;
      for (const i of coming) {
        const [x, y] = this.screen(i);
        ctx.moveTo(x + r0, y);
        ctx.arc(x, y, r0, 0, 2 * Math.PI);
      }
      ctx.fill();
      ctx.stroke();
      // earlier failures: solid dark red; the last hour's: bright, with a halo, so the front of the cascade shows
      const r1 = dot / 2 + 2;
      ctx.fillStyle = '#d63a2f';
      ctx.strokeStyle = 'rgba(11,18,32,0.85)';
      ctx.lineWidth = 0.8;
      ctx.beginPath();
      for (const i of older) {
        const [x, y] = this.screen(i);
        ctx.moveTo(x + r1, y);
        ctx.arc(x, y, r1, 0, 2 * Math.PI);
      }
      ctx.fill();
      ctx.stroke();
      ctx.fillStyle = withAlpha(FAILED, 0.3);
      ctx.beginPath();
      for (const i of recent) {
        const [x, y] = this.screen(i);
        ctx.moveTo(x + dot + 8, y);
        ctx.arc(x, y, dot + 8, 0, 2 * Math.PI);
      }
      ctx.fill();
      const r2 = dot / 2 + 3;
      ctx.fillStyle = FAILED;
      ctx.strokeStyle = '#ffd7d4';
      ctx.beginPath();
      for (const i of recent) {
        const [x, y] = this.screen(i);
        ctx.moveTo(x + r2, y);
        ctx.arc(x, y, r2, 0, 2 * Math.PI);
      }
      ctx.fill();
      ctx.stroke();
      this._rings(ctx, this.initial, '#ffffff', 7);
    } else {
      this._rings(ctx, this.scenario, '#ffffff', 7);
    }
    if (this.focused >= 0) this._rings(ctx, [this.focused], '#facc15', 10);
    if (this.hover >= 0) this._rings(ctx, [this.hover], '#f8fafc', 5);
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
    // one pointer drags (or, without moving, picks); two pinch to zoom about their midpoint (touch screens)
    const c = this.canvas;
    const pointers = new Map();  // pointerId -> [x, y] of the pointers down on the map
    let drag = null;
    let pinch = null;
    let gesture = false;  // a pinch happened since the first pointer went down: no pick when they lift
    const local = (e) => {
      const r = c.getBoundingClientRect();
      return [e.clientX - r.left, e.clientY - r.top];
    };
    const pair = () => {
      const [[x1, y1], [x2, y2]] = [...pointers.values()];
      return {d: Math.hypot(x2 - x1, y2 - y1) || 1, mx: (x1 + x2) / 2, my: (y1 + y2) / 2};
    };
    c.addEventListener('pointerdown', (e) => {
      const [x, y] = local(e);
      pointers.set(e.pointerId, [x, y]);
      c.setPointerCapture(e.pointerId);
      if (pointers.size === 2) {
        pinch = {...pair(), view: this.view};
        gesture = true;
        drag = null;
        this._hideTooltip();
      } else if (pointers.size === 1) {
        gesture = false;
        drag = {x, y, tx: this.view.tx, ty: this.view.ty, moved: false};
      }
    });
    c.addEventListener('pointermove', (e) => {
      const [x, y] = local(e);
      if (pointers.has(e.pointerId)) pointers.set(e.pointerId, [x, y]);
      if (pinch && pointers.size === 2) {
        const now = pair();
        const v = pinch.view;
        const scale = this._clampScale(v.scale * (now.d / pinch.d));
        const k = scale / v.scale;
        // the point of the city under the fingers' first midpoint stays under their midpoint now
        this.view = {scale, tx: now.mx - (pinch.mx - v.tx) * k, ty: now.my - (pinch.my - v.ty) * k};
        this.redraw(true);
        return;
      }
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
      if (gesture) return;
      const i = this.pick(x, y);
      if (i !== this.hover) {
        this.hover = i;
        this.redraw();
      }
      this._showTooltip(i, x, y);
    });
    const lift = (e, cancelled) => {
      pointers.delete(e.pointerId);
      if (pointers.size < 2) pinch = null;
      const wasDrag = drag && drag.moved;
      drag = null;
      if (cancelled || wasDrag || gesture) return;
      const [x, y] = local(e);
      this.onPick(this.pick(x, y, e.pointerType === 'touch' ? 18 : 12), e);
    };
    c.addEventListener('pointerup', (e) => lift(e, false));
    c.addEventListener('pointercancel', (e) => lift(e, true));
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
