// Find: type words (an id, a name, a type, a place or an agency, in Chinese or English); the server
// searches (GET /v1/assets?q=, every word must match); arrow keys and Enter pick. An exact id is offered at once, before the server answers.

import {api, explain} from './api.js';
import {language, placeName, t} from './i18n.js';
import {debounce, fill, h} from './util.js';

// The name in the page's language when the data has it (name_zh is an optional column), else the other.
const assetName = (a) => {
  const zh = a.props && a.props.name_zh;
  return (language() === 'zh' ? zh || a.name : a.name || zh) || '';
};

export function setUpFind(input, list, city, onChoose) {
  let items = [];
  let active = -1;
  let seq = 0;

  const close = () => { list.hidden = true; active = -1; input.setAttribute('aria-expanded', 'false'); };
  const choose = (id) => { close(); input.value = id; input.blur(); onChoose(id); };
  const highlight = (k) => {
    active = k;
    [...list.children].forEach((li, j) => li.setAttribute('aria-selected', String(j === k)));
  };
  const show = (rows, note) => {
    items = rows;
    fill(list, rows.map((a, k) => {
      const i = city.index.get(a.id);
      const d = i === undefined ? -1 : city.district[i];
      return h('li', {role: 'option', id: `find-${k}`, 'aria-selected': 'false', dataset: {id: a.id},
        onmousedown: (e) => { e.preventDefault(); choose(a.id); }},
      h('b', {}, a.id), ' ', h('span', {}, assetName(a)),
      h('span', {class: 'muted'}, ` ${city.typeLabel(a.type)}${d >= 0 ? ` · ${placeName(city.districts[d].name)[0]}` : ''}`));
    }), note ? h('li', {class: 'note', role: 'presentation'}, note) : null);
    list.hidden = false;
    input.setAttribute('aria-expanded', 'true');
    highlight(rows.length ? 0 : -1);
  };

  const search = debounce(async (text) => {
    const mine = ++seq;
    try {
      const page = await api(`/v1/assets?${new URLSearchParams({q: text, limit: '12'})}`);
      if (mine !== seq) return;
      const exact = city.index.has(text) && !page.data.some((a) => a.id === text)
        ? [{id: text, type: city.typeOf(city.index.get(text)).name, name: ''}] : [];
      const rows = exact.concat(page.data);
      show(rows, rows.length ? (page.next ? t('find.more') : null) : t('find.none', {text}));
    } catch (err) {
      if (mine === seq) show([], t('find.failed', {reason: explain(err)}));
    }
  }, 160);

  input.addEventListener('input', () => {
    const text = input.value.trim();
    if (!text) { seq++; close(); return; }
    if (city.index.has(text)) {
      const i = city.index.get(text);
      show([{id: text, type: city.typeOf(i).name, name: ''}], t('find.searching'));
    }
    search(text);
  });
  input.addEventListener('keydown', (e) => {
    if (e.key === 'ArrowDown' && items.length) { e.preventDefault(); highlight((active + 1) % items.length); }
    else if (e.key === 'ArrowUp' && items.length) { e.preventDefault(); highlight((active - 1 + items.length) % items.length); }
    else if (e.key === 'Enter') {
      e.preventDefault();
      const text = input.value.trim();
      if (active >= 0 && items[active]) choose(items[active].id);
      else if (city.index.has(text)) choose(text);
    } else if (e.key === 'Escape') close();
  });
  input.addEventListener('blur', () => setTimeout(close, 120));
  document.addEventListener('keydown', (e) => {
    if (e.key === '/' && document.activeElement !== input && !(e.target instanceof HTMLInputElement)) {
      e.preventDefault();
      input.focus();
      input.select();
    }
  });
}
