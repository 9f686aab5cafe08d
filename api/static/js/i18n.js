// The page's languages: Chinese and English. Every string a user reads is a key of a JSON catalog
// (/static/i18n/zh.json, en.json; both have the same keys), looked up with t(key, params). Numbers,
// plural forms and units are formatted by Intl for the language. Names of asset types, sectors,
// hazards, service kinds and region levels are not here: they are the ontology's labels, served by
// GET /v1/city (see city.js).
//
// The language is the one the user last chose (localStorage), else the browser's first supported one
// (navigator.languages: any zh-* is Chinese), else English.

const CHOICE = 'citykg.lang';

/** The supported languages: each one's name in itself (for the switch) and its Intl/BCP 47 locale. */
export const LANGUAGES = Object.freeze({
  zh: Object.freeze({name: '中文', locale: 'zh-CN'}),
  en: Object.freeze({name: 'English', locale: 'en'}),
});

let current = 'en';
let catalog = {};
let formats = null;
const listeners = [];

/** The language in use: 'zh' or 'en'. */
export const language = () => current;

/** The other language (the one the switch offers). */
export const otherLanguage = () => (current === 'zh' ? 'en' : 'zh');

/** The language to start in: the remembered choice, else the browser's, else English. */
export function preferredLanguage() {
  const chosen = remembered();
  if (chosen in LANGUAGES) return chosen;
  for (const tag of navigator.languages || [navigator.language]) {
    const base = String(tag || '').toLowerCase().split(/[-_]/)[0];
    if (base in LANGUAGES) return base;
  }
  return 'en';
}

function remembered() {
  try {
    return localStorage.getItem(CHOICE);
  } catch {
    return null;  // storage disabled (a locked-down browser): fall back to the browser's languages
  }
}

/**
 * Load `lang`'s catalog and switch the page to it: <html lang>, every element marked with data-i18n,
 * then every listener (views re-render their text). `remember`: keep the choice for the next visit.
 */
export async function useLanguage(lang, {remember = false} = {}) {
  if (!(lang in LANGUAGES)) throw new Error(`unsupported language ${lang}`);
  const response = await fetch(`/static/i18n/${lang}.json`, {headers: {Accept: 'application/json'}});
  if (!response.ok) throw new Error(`the ${LANGUAGES[lang].name} catalog could not be loaded (${response.status})`);
  catalog = await response.json();
  current = lang;
  const locale = LANGUAGES[lang].locale;
  formats = {
    plural: new Intl.PluralRules(locale),
    number: new Intl.NumberFormat(locale, {maximumFractionDigits: 2}),
    integer: new Intl.NumberFormat(locale, {maximumFractionDigits: 0}),
    compact: new Intl.NumberFormat(locale, {notation: 'compact', maximumSignificantDigits: 3}),
    km: new Intl.NumberFormat(locale, {style: 'unit', unit: 'kilometer', maximumFractionDigits: 1}),
    m: new Intl.NumberFormat(locale, {style: 'unit', unit: 'meter', maximumFractionDigits: 0}),
    coordinate: new Intl.NumberFormat(locale, {minimumFractionDigits: 4, maximumFractionDigits: 4, useGrouping: false}),
  };
  if (remember) {
    try {
      localStorage.setItem(CHOICE, lang);
    } catch {
      // not remembered: the page still switches
    }
  }
  document.documentElement.lang = locale;
  document.documentElement.dataset.lang = lang;  // the page shows from now on (app.css)
  translate(document);
  for (const fn of listeners) fn(lang);
}

/** Call fn(lang) after every switch of language (not the first one). */
export function onLanguageChange(fn) {
  listeners.push(fn);
}

/**
 * The message `key` with `{name}` placeholders filled from `params` (numbers formatted for the
 * language). A message given by plural category ({"one": …, "other": …}) is chosen by `params.count`.
 */
export function t(key, params = {}) {
  return parts(key, params).join('');
}

/** Like t(), but a DOM node given as a parameter is kept as a node: returns strings and nodes to append. */
export function tNodes(key, params = {}) {
  return parts(key, params).filter((p) => p !== '');
}

function parts(key, params) {
  let message = catalog[key];
  if (message === undefined) return [key];  // a missing key shows as itself (the catalog tests prevent it)
  if (typeof message === 'object') message = message[formats.plural.select(params.count ?? 0)] ?? message.other;
  return message.split(/(\{\w+\})/).map((part) => {
    const name = /^\{(\w+)\}$/.exec(part);
    if (!name || !(name[1] in params)) return part;
    const value = params[name[1]];
    return typeof value === 'number' ? formats.number.format(value) : value;
  });
}

/**
 * Fill every element under `root` marked for translation: data-i18n="key" sets its text,
 * data-i18n-aria-label / -title / -placeholder="key" that attribute; data-i18n-args='{"count": 2}'
 * gives parameters.
 */
export function translate(root) {
  const args = (el) => (el.dataset.i18nArgs ? JSON.parse(el.dataset.i18nArgs) : {});
  for (const el of root.querySelectorAll('[data-i18n]')) el.textContent = t(el.dataset.i18n, args(el));
  for (const attr of ['aria-label', 'title', 'placeholder']) {
    for (const el of root.querySelectorAll(`[data-i18n-${attr}]`)) el.setAttribute(attr, t(el.getAttribute(`data-i18n-${attr}`), args(el)));
  }
}

// ---------------------------------------------------------------- numbers, times, names

/** 1234567 -> "1,234,567". */
export const fmtInt = (n) => formats.integer.format(Math.round(n || 0));

/** 2107481 -> "2.1M" (English), "210.7万" (Chinese): for tight spaces; full numbers below 10,000. */
export const fmtCompact = (n) => (Math.abs(n) >= 1e4 ? formats.compact.format(n) : fmtInt(n));

/** A coordinate with four decimals. */
export const fmtCoordinate = (v) => formats.coordinate.format(v);

/** A distance for the scale bar: "5 km", "500 m" (or "5公里", "500米"). */
export const fmtDistance = (km) => (km >= 1 ? formats.km.format(km) : formats.m.format(km * 1000));

/** Cascade time: 0 -> "T+0 h", with `long` 62 -> "T+62 h (2 d 14 h)" (in the page's language). */
export function fmtHours(hours, {long = false} = {}) {
  if (!Number.isFinite(hours)) return '—';
  const v = Math.round(hours * 100) / 100;
  if (!long || v < 24) return t('time.at', {hours: v});
  const days = Math.floor(v / 24);
  return t('time.at_long', {hours: v, days, rest: Math.round((v - days * 24) * 100) / 100});
}

/**
 * A bilingual place name "Yuzhong 渝中区" split for the page's language: [first, second], the
 * Chinese part first in Chinese. A name in one language only comes back whole, with ''.
 */
export function placeName(name) {
  const m = /^(.*?)\s+([\u3000-\u9fff\uf900-\ufaff]+.*)$/u.exec(name || '');
  if (!m) return [name || '', ''];
  return current === 'zh' ? [m[2], m[1]] : [m[1], m[2]];
}
