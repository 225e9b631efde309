import { get } from '../api.js';
import { h, CATEGORIES, setTitle, errorBox, loading, empty, field, mount, busy } from '../ui.js';
import { eventCard } from '../cards.js';
import { go } from '../app.js';
import { icon } from '../icons.js';

const PAGE = 12;

export async function render(main, _params, query) {
  const q = Object.fromEntries(query.entries());
  setTitle(q.q ? `“${q.q}”` : 'Browse events');
  const top = document.getElementById('top-q');
  if (top) top.value = q.q || '';

  const major = (v) => (v === undefined || v === '' ? '' : String(Number(v) / 100));
  const form = h(
    'form.filters.panel',
    {
      'aria-label': 'Filters',
      onsubmit: (e) => {
        e.preventDefault();
        apply();
      },
    },
    field('Search', { name: 'q', type: 'search', value: q.q || '', placeholder: 'Artist, team, venue…' }),
    field('Category', { tag: 'select', name: 'category', value: q.category || '', options: [['', 'Any category'], ...CATEGORIES.map(([c, n]) => [c, n])] }),
    field('City', { name: 'city', value: q.city || '', placeholder: 'Any city' }),
    h('div.two', field('From', { name: 'from', type: 'date', value: q.from || '' }), field('To', { name: 'to', type: 'date', value: q.to || '' })),
    h(
      'div.two',
      field('Min price', { name: 'price_min', type: 'number', min: 0, step: 1, value: major(q.price_min), inputmode: 'decimal' }),
      field('Max price', { name: 'price_max', type: 'number', min: 0, step: 1, value: major(q.price_max), inputmode: 'decimal' }),
    ),
    field('Sort by', {
      tag: 'select',
      name: 'sort',
      value: q.sort || '',
      options: [
        ['', q.q ? 'Best match' : 'Date'],
        ['date', 'Date'],
        ['relevance', 'Best match'],
        ['price', 'Lowest price'],
      ],
    }),
    h('div.row', h('button.btn.primary', { type: 'submit' }, 'Apply filters'), h('a.btn.small', { href: '#/search' }, 'Clear')),
  );

  function apply() {
    const f = new FormData(form);
    const out = new URLSearchParams();
    for (const [k, v] of f.entries()) {
      const s = String(v).trim();
      if (!s) continue;
      out.set(k, k.startsWith('price_') ? String(Math.round(Number(s) * 100)) : s);
    }
    go(`/search${out.toString() ? `?${out}` : ''}`);
  }

  const results = h('div.cards', { id: 'results', 'aria-live': 'polite' });
  const status = h('p.muted', { role: 'status' });
  const more = h('div.pager');
  const chips = h(
    'div.chips',
    { style: 'margin-bottom:1rem' },
    h('a.chip', { href: '#/search', 'aria-current': q.category ? null : 'true' }, 'All'),
    CATEGORIES.map(([c, n]) => {
      const p = new URLSearchParams(query);
      p.set('category', c);
      return h('a.chip', { href: `#/search?${p}`, 'aria-current': q.category === c ? 'true' : null }, icon(c), n);
    }),
  );
  const list = h('section', { 'aria-label': 'Results' }, h('h1', q.q ? `Results for “${q.q}”` : 'Browse events'), chips, status, results, more);
  main.append(h('div.search-layout', form, list));

  let count = 0;
  async function page(cursor) {
    const params = { ...q, limit: PAGE, cursor };
    const data = await get('/api/events', params);
    count += data.items.length;
    results.append(...data.items.map(eventCard));
    status.textContent = count ? `${count} event${count === 1 ? '' : 's'} shown${data.next_cursor ? ' — more below' : ''}` : '';
    if (!count) mount(results, empty('No events match', 'Try fewer filters or a different word.', h('a.btn', { href: '#/search' }, 'Clear filters')));
    mount(
      more,
      data.next_cursor
        ? h(
            'button.btn',
            { type: 'button', id: 'more', onclick: (e) => busy(e.currentTarget, () => page(data.next_cursor).catch(fail), 'Loading…') },
            'Show more events',
          )
        : null,
    );
  }
  function fail(err) {
    mount(more, errorBox(err));
  }
  mount(results, loading());
  try {
    results.replaceChildren();
    await page(undefined);
  } catch (err) {
    mount(results, errorBox(err));
  }
}
